# An LSTM sequence classifier written the PyTorch way, as a torch user types it from memory.
# The suite runs this file twice: as it is under torch, and with only the import lines changed to
#   import tinygrad_lstm as torch / from tinygrad_lstm import nn / import tinygrad_lstm.nn.functional as F /
#   from tinygrad_lstm.utils.data import DataLoader, TensorDataset
import os
import tempfile

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

# Task: is the sum over a sequence of 3-vectors positive?
N, T, D, H, C = 256, 12, 3, 32, 2
X = torch.randn(N, T, D)
y = (X.sum(dim=(1, 2)) > 0).long()
assert X.size() == (N, T, D) and X.size(0) == N and y.dtype == torch.int64 and X.dim() == 3


class LSTMClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.hidden_size = hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), self.hidden_size)
        c0 = torch.zeros(1, x.size(0), self.hidden_size)
        out, (h_n, c_n) = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = LSTMClassifier(D, H, C).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)

loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
losses = []
for epoch in range(6):  # noqa: B007 - as tutorials write it
    model.train()
    running = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        logits = model(xb)
        loss = criterion(logits, yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        running += loss.item() * xb.size(0)
    losses.append(running / len(loader.dataset))

model.eval()
with torch.no_grad():
    logits = model(X)
    preds = logits.argmax(dim=1)
    accuracy = (preds == y).float().mean().item()
    _, predicted = torch.max(logits, 1)
    assert torch.equal(predicted, preds)
    probs = F.softmax(logits, dim=1)
    confidence, top_class = probs.topk(1, dim=1)
    assert top_class.squeeze(1).tolist() == preds.tolist()
    correct = (predicted == y).sum().item()
    soft_loss = F.cross_entropy(logits, F.one_hot(y, num_classes=C).float()).item()

path = os.path.join(tempfile.mkdtemp(), "model.pt")
torch.save(model.state_dict(), path)
restored = LSTMClassifier(D, H, C)
restored.load_state_dict(torch.load(path))
perm = torch.randperm(N)[:8]
with torch.no_grad():
    same = torch.allclose(restored(X[perm]), model(X[perm]))
results = {"losses": losses, "accuracy": accuracy, "correct": correct, "n_params": n_params,
           "soft_loss": soft_loss, "same": same, "confidence": confidence.mean().item()}
