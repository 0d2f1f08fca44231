"""Kernel throughput: the numpy backend, the numba backend and torch on the same float32 arrays.

    python -m benchmarks.kernels

Tables: elementwise kernels at 1e3..1e6 elements (median µs per call); the LSTM's gate case (a column slice of
the gate matrix); a parallel kernel right after a matmul; matmul at LSTM shapes (GFLOP/s). torch runs on 2
threads, as numba does on this machine. On a shared machine read the ratio columns, measured seconds apart,
rather than absolute times.
"""

from __future__ import annotations

import os
import statistics
import time
import timeit
from collections.abc import Callable

import numba
import numpy as np

from tinygrad_lstm.kernels import numba_backend, numpy_backend

PrintFn = Callable[..., None]
SIZES = (1_000, 10_000, 100_000, 1_000_000)
# (m, k, n): x @ W for a batch of 64/512/32/16 rows; (512x50 @ 50x200 is config (b): H=50, B=512)
MATMUL_SHAPES = ((64, 128, 512), (64, 28, 512), (512, 50, 200), (32, 256, 1024), (16, 128, 512))


def time_us(fn: Callable[[], object], repeats: int = 15, min_seconds: float = 2e-3) -> float:
    """Median over `repeats` of the time per call of `fn` in µs; each repeat loops for >= `min_seconds`."""
    for _ in range(3):  # warm-up: compiles (or loads) numba kernels, starts thread pools
        fn()
    number = 1
    while (t := timeit.timeit(fn, number=number)) < min_seconds:
        number = max(number * 2, int(number * min_seconds / max(t, 1e-9) * 1.2))
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeats)) / number * 1e6


def settle(seconds: float = 0.02) -> None:
    """Let other thread pools go idle before timing: numpy's OpenBLAS threads spin ~0.1 s after a matmul, and
    OpenMP threads (numba, torch) a little after each parallel region; a spinning pool slows the next one."""
    time.sleep(seconds)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def _cases(torch, rng: np.random.Generator, n: int) -> list[tuple[str, Callable, Callable, Callable | None]]:
    """(name, numpy-backend call, numba-backend call, torch call or None) on fresh float32 arrays of n elements."""
    x = rng.standard_normal(n).astype(np.float32) * 3
    b = rng.standard_normal(n).astype(np.float32)
    y, s = np.tanh(x), numpy_backend.sigmoid(x)
    P, N = numpy_backend, numba_backend
    cases = [
        ("sigmoid", lambda: P.sigmoid(x), lambda: N.sigmoid(x)),
        ("tanh", lambda: P.tanh(x), lambda: N.tanh(x)),
        ("mul", lambda: P.mul(x, b), lambda: N.mul(x, b)),
        ("add", lambda: P.add(x, b), lambda: N.add(x, b)),
        ("exp", lambda: P.exp(x), lambda: N.exp(x)),
        ("tanh_backward", lambda: P.tanh_backward(y, b), lambda: N.tanh_backward(y, b)),
        ("sigmoid_backward", lambda: P.sigmoid_backward(s, b), lambda: N.sigmoid_backward(s, b)),
        ("relu_backward", lambda: P.relu_backward(x, b), lambda: N.relu_backward(x, b)),
    ]
    if torch is None:
        return [(*c, None) for c in cases]
    tx, tb, ty, ts = (torch.from_numpy(a) for a in (x, b, y, s))
    aten = torch.ops.aten  # torch's own fused backward kernels, as autograd calls them
    th = {
        "sigmoid": lambda: torch.sigmoid(tx),
        "tanh": lambda: torch.tanh(tx),
        "mul": lambda: tx * tb,
        "add": lambda: tx + tb,
        "exp": lambda: torch.exp(tx),
        "tanh_backward": lambda: aten.tanh_backward(tb, ty),
        "sigmoid_backward": lambda: aten.sigmoid_backward(tb, ts),
        "relu_backward": lambda: aten.threshold_backward(tb, tx, 0),
    }
    return [(*c, th[c[0]]) for c in cases]


def _ratio(a: float, b: float | None) -> str:
    return f"{a / b:10.2f}" if b else f"{'-':>10}"


def _us(t: float | None) -> str:
    return f"{t:9.1f}" if t is not None else f"{'-':>9}"


def elementwise_table(print_fn: PrintFn = print, torch=None) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    print_fn(f"float32 elementwise kernels, median µs per call (numba threads: {numba.get_num_threads()})")
    print_fn(f"{'kernel':<17}{'n':>10}{'numpy':>9}{'numba':>9}{'torch':>9}{'numba/numpy':>12}{'numba/torch':>12}")
    per_size = {n: _cases(torch, rng, n) for n in SIZES}
    for i, (name, *_) in enumerate(per_size[SIZES[0]]):
        for n in SIZES:
            _, f_np, f_nb, f_th = per_size[n][i]
            settle()
            t_np = time_us(f_np)
            settle()
            t_nb = time_us(f_nb)
            settle()
            t_th = time_us(f_th) if f_th else None
            rows.append({"kernel": name, "n": n, "numpy_us": t_np, "numba_us": t_nb, "torch_us": t_th})
            print_fn(f"{name:<17}{n:>10,}{_us(t_np)}{_us(t_nb)}{_us(t_th)}{t_nb / t_np:12.2f}{_ratio(t_nb, t_th):>12}")
    return rows


def gate_slice_table(print_fn: PrintFn = print, torch=None) -> list[dict]:
    """The LSTM case: sigmoid/tanh of one gate, a (B, H) column slice of the (B, 4H) gate matrix."""
    rows = []
    print_fn("\nLSTM gate: activation of a[:, H:2H] of a (B, 4H) float32 array (a view), median µs per call")
    print_fn(f"{'kernel':<17}{'B x H':>10}{'numpy':>9}{'numba':>9}{'torch':>9}{'numba/numpy':>12}{'numba/torch':>12}")
    for B, H in ((64, 128), (512, 50), (32, 256), (16, 128)):
        a = np.random.default_rng(1).standard_normal((B, 4 * H)).astype(np.float32)
        gate = a[:, H : 2 * H]
        for name in ("sigmoid", "tanh"):
            settle()
            t_np = time_us(lambda n=name, g=gate: getattr(numpy_backend, n)(g))
            settle()
            t_nb = time_us(lambda n=name, g=gate: getattr(numba_backend, n)(g))
            t_th = None
            if torch is not None:
                settle()
                tg = torch.from_numpy(a)[:, H : 2 * H]
                t_th = time_us(lambda n=name, tg=tg: getattr(torch, n)(tg))
            rows.append({"kernel": name, "B": B, "H": H, "numpy_us": t_np, "numba_us": t_nb, "torch_us": t_th})
            print_fn(
                f"{name:<17}{f'{B} x {H}':>10}{_us(t_np)}{_us(t_nb)}{_us(t_th)}{t_nb / t_np:12.2f}"
                f"{_ratio(t_nb, t_th):>12}"
            )
    return rows


def after_matmul_table(print_fn: PrintFn = print, torch=None) -> list[dict]:
    """A matmul, then sigmoid of 1e6 float32 elements: the numba kernel on all threads, then on one."""
    rng = np.random.default_rng(3)
    h, w = rng.standard_normal((64, 128)).astype(np.float32), rng.standard_normal((128, 512)).astype(np.float32)
    x = rng.standard_normal(1_000_000).astype(np.float32)
    print_fn("\nmatmul 64x128 @ 128x512, then sigmoid of 1e6 float32 elements, median µs per pair")
    threads = numba.get_num_threads()
    rows = [("sigmoid alone, numba", lambda: numba_backend.sigmoid(x), threads)]
    rows += [("matmul + sigmoid, numba", lambda: (h @ w, numba_backend.sigmoid(x)), t) for t in (threads, 1)]
    if torch is not None:
        th, tw, tx = torch.from_numpy(h), torch.from_numpy(w), torch.from_numpy(x)
        rows.append(("matmul + sigmoid, torch", lambda: (th @ tw, torch.sigmoid(tx)), None))
    out = []
    for name, fn, t in rows:
        if t is not None:
            numba.set_num_threads(t)
        try:
            settle(0.3)
            us = time_us(fn)
        finally:
            numba.set_num_threads(threads)
        label = f"{name} ({t} thread{'s' if t != 1 else ''})" if t else name
        out.append({"case": label, "us": us})
        print_fn(f"{label:<40}{us:10.1f}")
    return out


def matmul_table(print_fn: PrintFn = print, torch=None) -> list[dict]:
    """Both backends call numpy's matmul (BLAS); torch for comparison."""
    rows = []
    print_fn("\nfloat32 matmul (both backends: numpy/BLAS), GFLOP/s")
    print_fn(f"{'m x k @ k x n':<22}{'numpy':>9}{'torch':>9}{'numpy/torch':>12}")
    rng = np.random.default_rng(2)
    for m, k, n in MATMUL_SHAPES:
        a, b = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
        flop = 2.0 * m * k * n
        settle()
        g_np = flop / time_us(lambda a=a, b=b: numba_backend.matmul(a, b)) / 1e3
        g_th = None
        if torch is not None:
            settle(0.3)  # OpenBLAS threads stop spinning
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            g_th = flop / time_us(lambda ta=ta, tb=tb: ta @ tb) / 1e3
        rows.append({"shape": (m, k, n), "numpy_gflops": g_np, "torch_gflops": g_th})
        ratio = f"{g_np / g_th:12.2f}" if g_th else f"{'-':>12}"
        print_fn(f"{f'{m}x{k} @ {k}x{n}':<22}{g_np:9.1f}{g_th or float('nan'):9.1f}{ratio}")
    return rows


def run(print_fn: PrintFn = print) -> dict[str, list[dict]]:
    """Print all tables; return their rows (times in µs, throughput in GFLOP/s)."""
    torch = _torch()
    if torch is None:
        print_fn("torch is not importable: torch columns are empty")
    # Other busy processes hurt multi-threaded code most (numba's parallel kernels, torch, BLAS): a thread team
    # waits for its slowest, descheduled member. Compare the load with the core count before trusting a table.
    print_fn(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    tables = {
        "elementwise": elementwise_table(print_fn, torch),
        "gate_slice": gate_slice_table(print_fn, torch),
        "after_matmul": after_matmul_table(print_fn, torch),
        "matmul": matmul_table(print_fn, torch),
    }
    print_fn(f"load average after: {os.getloadavg()[0]:.2f}")
    return tables


if __name__ == "__main__":
    run()
