"""A packed-sequence LSTM classifier written the PyTorch way: only the import lines differ from torch code.

Each sequence has 2 to 12 steps of one feature; the label says whether its sum is positive. A Dataset of
variable-length tensors, a DataLoader whose collate_fn pads a batch and keeps the lengths, and an nn.LSTM fed
a PackedSequence (unsorted batch, enforce_sorted=False) so that padding never enters the state: h_n[-1] is each
sequence's state at its own last step. tests/test_torch_programs.py runs this file as it is and, with the
three imports switched to torch's, under PyTorch.

    python examples/pytorch_packed_classifier.py
"""

import tinygrad_lstm as torch
from tinygrad_lstm import nn
from tinygrad_lstm.utils.data import DataLoader, Dataset


class SignOfSum(Dataset):
    def __init__(self, n):
        self.items = []
        for _ in range(n):
            length = int(torch.randint(2, 13, (1,)).item())
            x = torch.randn(length, 1)
            self.items.append((x, int(x.sum().item() > 0)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def collate(batch):
    xs, ys = zip(*batch)
    lengths = torch.tensor([len(x) for x in xs])
    return nn.utils.rnn.pad_sequence(list(xs), batch_first=True), lengths, torch.tensor(ys)


class Classifier(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1])


def main(n_train=1024, n_test=256, epochs=6, seed=0):
    torch.manual_seed(seed)
    train_loader = DataLoader(SignOfSum(n_train), batch_size=32, shuffle=True, collate_fn=collate)
    test_set = SignOfSum(n_test)
    test_loader = DataLoader(test_set, batch_size=64, collate_fn=collate)
    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for x, lengths, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x, lengths), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        print(f"epoch {epoch + 1}: train loss {total / n_train:.4f}")
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, lengths, y in test_loader:
            correct += (model(x, lengths).argmax(dim=1) == y).sum().item()
    accuracy = correct / len(test_set)
    print(f"test accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
