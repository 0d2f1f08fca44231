"""One LSTM training step, ours against PyTorch, in one run: `python -m benchmarks.lstm_train`.

A step = forward through an LSTM layer, a Linear head on the last hidden state, MSE, backward, Adam.
Configs (T / I / H / B) are those of ../shared/notes/baselines.md. Each (implementation, config) runs in its own
subprocess so that its peak memory (max RSS) is its own; times are medians of `--steps` steps after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CONFIGS = {"a": (28, 28, 128, 64), "b": (100, 1, 50, 512), "c": (50, 64, 256, 32), "d": (200, 32, 128, 16)}
IMPLS = ("ours", "torch.nn.LSTM", "torch LSTMCell loop")


def _rss_mib() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss it is not inherited from the parent)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _make_ours(T: int, I: int, H: int, B: int):  # noqa: E741 - the notes' names
    import numpy as np

    from tinygrad_lstm import Tensor, manual_seed, nn, optim
    from tinygrad_lstm.nn import functional as F

    manual_seed(0)
    lstm, head = nn.LSTM(I, H), nn.Linear(H, 1)
    opt = optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
    rs = np.random.default_rng(0)
    x = Tensor(rs.standard_normal((T, B, I)).astype(np.float32))
    y = Tensor(rs.standard_normal((B, 1)).astype(np.float32))

    def step() -> None:
        out, (h_n, c_n) = lstm(x)
        loss = F.mse_loss(head(h_n[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _make_torch(T: int, I: int, H: int, B: int, fused: bool):  # noqa: E741
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    head = torch.nn.Linear(H, 1)
    x, y = torch.randn(T, B, I), torch.randn(B, 1)
    if fused:
        lstm = torch.nn.LSTM(I, H)
        params = list(lstm.parameters()) + list(head.parameters())

        def last_h():
            return lstm(x)[1][0][-1]
    else:
        cell = torch.nn.LSTMCell(I, H)
        params = list(cell.parameters()) + list(head.parameters())

        def last_h():
            h = c = torch.zeros(B, H)
            for t in range(T):
                h, c = cell(x[t], (h, c))
            return h

    opt = torch.optim.Adam(params, lr=1e-3)

    def step() -> None:
        loss = torch.nn.functional.mse_loss(head(last_h()), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _child(impl: str, cfg: str, steps: int, warmup: int) -> None:
    """Runs in a subprocess: time `steps` training steps, print JSON."""
    T, I, H, B = CONFIGS[cfg]  # noqa: E741
    base = _rss_mib()
    if impl == "ours":
        step = _make_ours(T, I, H, B)
    else:
        step = _make_torch(T, I, H, B, fused=impl == "torch.nn.LSTM")
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"median_ms": 1e3 * times[len(times) // 2], "peak_mib": _rss_mib(),
                      "added_mib": _rss_mib() - base}))


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _median(v: list[float]) -> float:
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def run(configs: str = "abcd", steps: int = 20, warmup: int = 3, rounds: int = 3, print_fn=print) -> dict:
    """Each config runs `rounds` rounds of every implementation, alternating, so that a slow spell of a shared
    machine hits all of them; a ratio is the median over rounds of that round's ratio."""
    impls = IMPLS if _torch_available() else IMPLS[:1]
    runs: dict = {}
    env = dict(os.environ, OMP_NUM_THREADS="2")
    for cfg in configs:
        for r in range(rounds):
            for impl in (impls if r % 2 == 0 else impls[::-1]):
                proc = subprocess.run(
                    [sys.executable, "-m", "benchmarks.lstm_train", "--child", impl, "--configs", cfg,
                     "--steps", str(steps), "--warmup", str(warmup)],
                    capture_output=True, text=True, env=env, cwd=os.path.dirname(os.path.dirname(__file__)) or ".")
                if proc.returncode:
                    print_fn(f"{impl} on config {cfg} failed:\n{proc.stderr[-2000:]}")
                    continue
                runs.setdefault((impl, cfg), []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    results = {key: {"median_ms": _median([x["median_ms"] for x in v]), "peak_mib": max(x["peak_mib"] for x in v),
                     "added_mib": max(x["added_mib"] for x in v), "rounds_ms": [x["median_ms"] for x in v]}
               for key, v in runs.items()}

    def ratio(cfg: str, other: str) -> tuple[float, float, float] | None:
        a, b = runs.get(("ours", cfg), []), runs.get((other, cfg), [])
        if not a or len(a) != len(b):
            return None
        rs = [x["median_ms"] / y["median_ms"] for x, y in zip(a, b)]
        return _median(rs), min(rs), max(rs)

    print_fn(f"\nOne LSTM training step (forward + backward + Adam), ms/step: median of {steps} steps after {warmup} "
             f"warm-up, then the median over {rounds} alternating rounds; float32")
    head = f"{'config (T/I/H/B)':<22}" + "".join(f"{i:>22}" for i in impls)
    if len(impls) > 1:
        head += f"{'ours/nn.LSTM':>14}{'ours/cell loop':>16}{'(rounds)':>14}"
    print_fn(head)
    for cfg in configs:
        T, I, H, B = CONFIGS[cfg]  # noqa: E741
        row = f"{cfg + f' ({T}/{I}/{H}/{B})':<22}"
        for impl in impls:
            r = results.get((impl, cfg))
            row += f"{r['median_ms']:>22.1f}" if r else f"{'-':>22}"
        if len(impls) > 1:
            fused, loop = ratio(cfg, impls[1]), ratio(cfg, impls[2])
            row += f"{fused[0]:>14.2f}" if fused else f"{'-':>14}"
            row += f"{loop[0]:>16.2f}{f'{loop[1]:.2f}-{loop[2]:.2f}':>14}" if loop else f"{'-':>16}"
            if loop:
                results[("ratio", cfg)] = {"cell_loop": loop, "nn.LSTM": fused}
        print_fn(row)
    print_fn("\nPeak memory, MiB (max RSS of the process; in brackets the part added by building and training)")
    print_fn(f"{'config':<22}" + "".join(f"{i:>22}" for i in impls))
    for cfg in configs:
        row = f"{cfg:<22}"
        for impl in impls:
            r = results.get((impl, cfg))
            row += f"{r['peak_mib']:>13.0f} (+{r['added_mib']:>5.0f})" if r else f"{'-':>22}"
        print_fn(row)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--configs", default="abcd", help="which configs to run, e.g. 'ad'")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per config (ratios: their median)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.configs, args.steps, args.warmup)
    else:
        run(args.configs, args.steps, args.warmup, args.rounds)


if __name__ == "__main__":
    main()
