"""`tinygrad-lstm demo`: autograd on a small expression, then an LSTM trained on real handwritten digits, and the
pictures that explain it, written into `demo_out/`.

Each 8x8 digit image is read as a sequence of 8 rows (8 steps of 8 pixels); an LSTM reads the rows and a linear
layer classifies its last hidden state. The data is scikit-learn's digits, which ship with the package (offline).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

OUT_DIR = "demo_out"


def worked_example() -> None:
    """e = a·b, d = e + c, f = tanh d, L = f²: autograd's gradients beside the chain rule done by hand, then checked
    against finite differences (`gradcheck.gradient_errors`)."""
    from . import Tensor
    from .gradcheck import gradient_errors

    a = Tensor(2.0, requires_grad=True, dtype=np.float64, name="a")
    b = Tensor(-3.0, requires_grad=True, dtype=np.float64, name="b")
    c = Tensor(10.0, requires_grad=True, dtype=np.float64, name="c")
    f = ((a * b) + c).tanh()
    L = f * f
    L.backward()
    dL_dd = 2 * np.tanh(4.0) * (1 - np.tanh(4.0) ** 2)  # dL/df = 2f, df/dd = 1 - f²
    print("1. Autograd on  L = tanh(a·b + c)²  at a=2, b=-3, c=10")
    print(f"   L = {L.item():.6f}")
    for name, t, hand in (("a", a, dL_dd * -3.0), ("b", b, dL_dd * 2.0), ("c", c, dL_dd)):
        print(f"   dL/d{name} = {float(t.grad): .8f}   (chain rule by hand: {hand: .8f})")
        assert abs(float(t.grad) - hand) < 1e-12
    # and by gradcheck: the same gradients against central finite differences of L, in float64
    errors = gradient_errors(lambda a, b, c: ((a * b) + c).tanh() ** 2, [a, b, c])
    worst = max(rel for _, rel in errors.values())
    print("   gradcheck, autograd vs finite differences: " +
          ", ".join(f"dL/d{n} off by {abs_err:.1e}" for n, (abs_err, _) in errors.items()))
    assert worst < 1e-5, f"gradcheck: the worked example's gradients are off by {worst:.1e} (relative)"


def train_digits(epochs: int = 12, hidden: int = 64, batch_size: int = 32, lr: float = 0.01, seed: int = 0
                 ) -> tuple[Any, Any, dict[str, list[float]], float]:
    """Train LSTM(8 → hidden) + Linear(hidden → 10) on the digits; returns (lstm, head, history, test accuracy)."""
    from . import Tensor, manual_seed, nn, no_grad, optim
    from .data import batches, load_digits_sequences
    from .keras.progbar import Progbar
    from .nn import functional as F

    manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits_sequences(seed=seed)
    lstm, head = nn.LSTM(8, hidden, batch_first=True), nn.Linear(hidden, 10)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=lr)
    history: dict[str, list[float]] = {"loss": [], "test_accuracy": []}
    steps = -(-len(x_train) // batch_size)
    print(f"2. Training an LSTM on {len(x_train)} handwritten digits (8 rows of 8 pixels each), "
          f"testing on {len(x_test)}")

    def accuracy() -> float:
        with no_grad():
            _, (h_n, _) = lstm(Tensor(x_test))
            return float((head(h_n[-1]).data.argmax(axis=1) == y_test).mean())

    for epoch in range(epochs):
        print(f"   Epoch {epoch + 1}/{epochs}")
        bar = Progbar(steps, verbose=1)  # live on a terminal or in a notebook, else a line per epoch
        total, seen = 0.0, 0
        for step, (xb, yb) in enumerate(batches(x_train, y_train, batch_size=batch_size, seed=seed + epoch), 1):
            _, (h_n, _) = lstm(Tensor(xb))
            loss = F.cross_entropy(head(h_n[-1]), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, seen = total + loss.item() * len(xb), seen + len(xb)
            bar.update(step, {"loss": total / seen})
        history["loss"].append(total / seen)
        history["test_accuracy"].append(accuracy())
        bar.finish({"loss": history["loss"][-1], "test_accuracy": history["test_accuracy"][-1]})
    return lstm, head, history, history["test_accuracy"][-1]


def pictures(lstm: Any, head: Any, history: dict[str, list[float]], x_example: np.ndarray, out_dir: str
             ) -> list[str]:
    """The cell's graph, the unrolled graph collapsed by cell, a gradient-flow plot and the training curves."""
    from . import Tensor, manual_seed, nn, viz
    from .nn import functional as F
    from .plots import gradient_flow, plot_gradient_flow, plot_history
    from .viz.cli import unrolled

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    loss, _ = unrolled("lstm", 1)  # one LSTMCell step: the six equations
    paths.append(viz.render(loss, os.path.join(out_dir, "lstm_cell.svg")))

    _, (h_n, _) = lstm(Tensor(x_example[None]))  # the trained model on one digit, 8 steps
    logits = head(h_n[-1]).named("logits")
    loss = F.cross_entropy(logits, np.array([0])).named("loss")
    with viz.trace_grads() as tr:
        loss.backward()
    paths.append(viz.render(loss, os.path.join(out_dir, "lstm_unrolled_collapsed.svg"), collapse=["LSTMCell"],
                            show_grads=tr, show_params=False, rankdir="LR"))

    # the vanishing-gradient picture: the same random sequence through a fresh RNN and a fresh LSTM
    manual_seed(1)
    x_long = np.random.default_rng(1).standard_normal((8, 60, 8)).astype(np.float32)
    rnn, lstm_fresh = nn.RNN(8, 32, batch_first=True), nn.LSTM(8, 32, batch_first=True)
    lstm_fresh.bias_hh_l0.data[32:64] = 1.0  # forget-gate bias 1: the usual start that keeps memory open
    norms = {"RNN": gradient_flow(rnn, x_long), "LSTM": gradient_flow(lstm_fresh, x_long)}
    paths.append(plot_gradient_flow(norms, os.path.join(out_dir, "gradient_flow.png")))
    paths.append(plot_history(history, os.path.join(out_dir, "loss_curve.png"), title="LSTM on digits"))
    return [str(p) for p in paths]


def _one_blas_thread() -> None:
    """The demo's matrix products are small: extra BLAS threads only add overhead, and on a busy machine they
    made training steps 5-40x slower. threadpoolctl comes with scikit-learn, which the demo needs anyway."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


def run(out_dir: str = OUT_DIR, epochs: int = 12) -> float:
    t0 = time.perf_counter()
    _one_blas_thread()
    worked_example()
    print()
    try:
        lstm, head, history, acc = train_digits(epochs=epochs)
    except ImportError as e:
        print(f"   skipped: {e}")
        return float("nan")
    print(f"   test accuracy: {acc:.1%}\n")
    from .data import load_digits_sequences

    x_example = load_digits_sequences()[2][0]
    print(f"3. Pictures (in {out_dir}/)")
    for p in pictures(lstm, head, history, x_example, out_dir):
        print(f"   {p}")
    print(f"\ndone in {time.perf_counter() - t0:.0f}s. Next: `tinygrad-lstm graph lstm --steps 3`, docs/, examples/")
    return acc
