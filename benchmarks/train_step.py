"""One LSTM training step, built the same way in every library from the same numbers, timed in a fresh process.

A step = forward through a one-layer LSTM over the whole sequence, a Linear head on the last hidden state, MSE
against targets, backward, one Adam update (lr 1e-3). Weights, inputs and targets come from one seeded numpy
generator (PyTorch's initialisation: U(-1/√H, 1/√H)) and are copied into each library, so every implementation
runs the same training and its losses can be compared step by step.

    python -m benchmarks.train_step --impl ours --config d --warmup 3 --steps 30   # prints one JSON line

`lstm_train.py` and `denormal.py` run this as a subprocess per (implementation, config, round): the peak memory
(VmHWM) is then the implementation's own, and the first step is that of a fresh process.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

# T (sequence length), I (input features), H (hidden units), B (batch): shared/notes/baselines.md's configs.
CONFIGS = {"a": (28, 28, 128, 64), "b": (100, 1, 50, 512), "c": (50, 64, 256, 32), "d": (200, 32, 128, 16)}
LR = 1e-3

Step = Callable[[], float]  # one training step; returns the loss before the update


def problem(cfg: str, targets: str = "normal", seed: int = 0) -> dict[str, np.ndarray]:
    """Weights (PyTorch's names), inputs x (T, B, I) and targets y (B, 1), float32. targets: 'normal' or 'zero'."""
    if targets not in ("normal", "zero"):
        raise ValueError(f"problem: targets must be 'normal' or 'zero', got {targets!r}")
    T, I, H, B = CONFIGS[cfg]
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(H)

    def u(*shape: int) -> np.ndarray:
        return rng.uniform(-k, k, shape).astype(np.float32)

    p = {"weight_ih_l0": u(4 * H, I), "weight_hh_l0": u(4 * H, H), "bias_ih_l0": u(4 * H), "bias_hh_l0": u(4 * H),
         "head.weight": u(1, H), "head.bias": u(1)}
    p["x"] = rng.standard_normal((T, B, I)).astype(np.float32)
    y = rng.standard_normal((B, 1)).astype(np.float32)
    p["y"] = y if targets == "normal" else np.zeros_like(y)
    return p


def build_ours(p: dict[str, np.ndarray]) -> Step:
    from tinygrad_lstm import Tensor, nn, optim
    from tinygrad_lstm.nn import functional as F

    T, B, I = p["x"].shape
    H = p["weight_hh_l0"].shape[1]
    lstm, head = nn.LSTM(I, H), nn.Linear(H, 1)
    lstm.load_state_dict({k: v.copy() for k, v in p.items() if k.endswith("_l0")})
    head.load_state_dict({"weight": p["head.weight"].copy(), "bias": p["head.bias"].copy()})
    opt = optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=LR)
    x, y = Tensor(p["x"]), Tensor(p["y"])

    def step() -> float:
        out, (h_n, c_n) = lstm(x)
        loss = F.mse_loss(head(h_n[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.data)

    return step


def build_torch(p: dict[str, np.ndarray], fused: bool) -> Step:
    """fused: torch.nn.LSTM (one C++/oneDNN call per sequence); else nn.LSTMCell called in a Python loop."""
    import torch

    T, B, I = p["x"].shape
    H = p["weight_hh_l0"].shape[1]
    head = torch.nn.Linear(H, 1)
    rnn = torch.nn.LSTM(I, H) if fused else torch.nn.LSTMCell(I, H)
    suffix = "_l0" if fused else ""
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(rnn, name + suffix).copy_(torch.from_numpy(p[name + "_l0"]))
        head.weight.copy_(torch.from_numpy(p["head.weight"]))
        head.bias.copy_(torch.from_numpy(p["head.bias"]))
    opt = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=LR)
    x, y = torch.from_numpy(p["x"].copy()), torch.from_numpy(p["y"].copy())

    def last_h() -> torch.Tensor:
        if fused:
            return rnn(x)[1][0][-1]
        h = c = torch.zeros(B, H)
        for t in range(T):
            h, c = rnn(x[t], (h, c))
        return h

    def step() -> float:
        loss = torch.nn.functional.mse_loss(head(last_h()), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _ours_switched_off(module: str, switch: str) -> Callable[[dict[str, np.ndarray]], Step]:
    """Ours with one of its compilation switches off (a context manager taking False) around building and every
    step: `jit.fusion` (every op eagerly), `jit.sequence.whole_sequences` (each time step replayed fused)."""

    def build(p: dict[str, np.ndarray]) -> Step:
        import importlib

        off = getattr(importlib.import_module(module), switch)
        with off(False):
            step = build_ours(p)

        def switched() -> float:
            with off(False):
                return step()

        return switched

    return build


class Impl(NamedTuple):
    library: str  # the package it times
    build: Callable[[dict[str, np.ndarray]], Step]
    needs: str = ""  # "module:attr" it needs, absent in some versions: the benchmark skips it then


# The first is "ours"; ratios are taken against torch.nn.LSTM and the cell loop.
IMPLS: dict[str, Impl] = {
    "ours": Impl("tinygrad_lstm", build_ours),
    "ours step by step": Impl("tinygrad_lstm", _ours_switched_off("tinygrad_lstm.jit.sequence", "whole_sequences"),
                              "tinygrad_lstm.jit.sequence:whole_sequences"),
    "ours fusion off": Impl("tinygrad_lstm", _ours_switched_off("tinygrad_lstm.jit", "fusion")),
    "torch.nn.LSTM": Impl("torch", lambda p: build_torch(p, fused=True)),
    "torch LSTMCell loop": Impl("torch", lambda p: build_torch(p, fused=False)),
}
# What each library loads before it builds anything: the memory baseline (numba and LLVM are ours's runtime)
RUNTIME = {"tinygrad_lstm": ("tinygrad_lstm", "numba", "tinygrad_lstm.kernels.numba_backend"), "torch": ("torch",)}


def set_flush(library: str, on: bool) -> bool:
    """Each library's own switch for flushing subnormals to zero; returns whether it took effect."""
    if library == "torch":
        import torch

        return torch.set_flush_denormal(on)
    import tinygrad_lstm

    return tinygrad_lstm.set_flush_denormal(on)


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB, from /proc (VmHWM is this process's own peak)."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields[key] = rest
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def blas_core() -> str:
    """The BLAS numpy runs here and the CPU kernel it picked (OPENBLAS_CORETYPE changes that)."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    libs.sort(key=lambda lib: "numpy" not in lib.get("filepath", ""))  # numpy's own first (scipy brings another)
    if not libs:
        return "?"
    return f"{libs[0].get('internal_api')} {libs[0].get('version')} {libs[0].get('architecture', '')}".strip()


def measure(impl: str, cfg: str, warmup: int, steps: int, targets: str = "normal", flush: bool | None = None) -> dict:
    """Build `impl` on `cfg` in this process and run warmup + steps training steps; every step is timed."""
    library, builder = IMPLS[impl].library, IMPLS[impl].build
    for module in RUNTIME[library]:  # loading the library is in the memory baseline, not in the training delta
        __import__(module)
    base_rss, _ = rss_mib()
    flushed = set_flush(library, flush) if flush is not None else None
    p = problem(cfg, targets)
    step = builder(p)
    times, losses = [], []
    for _ in range(warmup + steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)
        if len(times) == 1:
            first_end = time.time()
    return {"impl": impl, "config": cfg, "warmup": warmup, "step_ms": [1e3 * t for t in times[warmup:]],
            "first_ms": 1e3 * times[0], "first_end": first_end, "losses": losses, "flushed": flushed,
            "base_mib": base_rss, "peak_mib": rss_mib()[1], "blas": blas_core()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl", required=True, choices=list(IMPLS))
    ap.add_argument("--config", required=True, choices=list(CONFIGS))
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--targets", choices=("normal", "zero"), default="normal")
    ap.add_argument("--flush", choices=("on", "off"), help="flush subnormals to zero (default: the library's own)")
    a = ap.parse_args()
    flush = None if a.flush is None else a.flush == "on"
    print(json.dumps(measure(a.impl, a.config, a.warmup, a.steps, a.targets, flush)))


if __name__ == "__main__":
    main()
