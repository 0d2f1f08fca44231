"""What subnormal gradients cost, ours and PyTorch's, with and without flushing them to zero.

    python -m benchmarks.denormal              # ours and torch.nn.LSTM, config d (T=200), 3 rounds (~2 min)
    python -m benchmarks.denormal --rounds 1 --impls "ours,ours fusion off,torch.nn.LSTM,torch LSTMCell loop"

The workload where they appear: a long sequence (config d of `lstm_train.py`: T/I/H/B = 200/32/128/16),
standard-normal inputs, zero targets, untrained weights. The loss gradient shrinks with every step back in time,
and over the first ~40 steps of the sequence it is below float32's smallest normal number (1.2e-38). Each library
runs the same training (`train_step.py`) in a fresh process, once computing with subnormals (the default) and
once flushing them to zero (`tinygrad_lstm.set_flush_denormal(True)`, `torch.set_flush_denormal(True)`), in
alternating rounds; the slowdown is the median over rounds of that round's ratio.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .lstm_train import PrintFn, available, md_table, median, run_one, split_impls
from .train_step import CONFIGS, IMPLS, problem

CONFIG = "d"
DEFAULT_IMPLS = ["ours", "torch.nn.LSTM"]


def subnormal_profile(cfg: str = CONFIG, targets: str = "zero") -> list[tuple[int, float]]:
    """(t, fraction of the input gradient's entries at time step t that are subnormal), for every t where some
    are: computed with ours, float32, on the benchmark's first step."""
    from tinygrad_lstm import Tensor, nn, set_flush_denormal
    from tinygrad_lstm.nn import functional as F

    set_flush_denormal(False)  # IEEE on every thread, the library's workers included: see them all
    p = problem(cfg, targets)
    T, B, I = p["x"].shape
    lstm, head = nn.LSTM(I, p["weight_hh_l0"].shape[1]), nn.Linear(p["weight_hh_l0"].shape[1], 1)
    lstm.load_state_dict({k: v.copy() for k, v in p.items() if k.endswith("_l0")})
    head.load_state_dict({"weight": p["head.weight"].copy(), "bias": p["head.bias"].copy()})
    x = Tensor(p["x"].copy(), requires_grad=True)
    F.mse_loss(head(lstm(x)[1][0][-1]), Tensor(p["y"])).backward()
    g = np.abs(x.grad.reshape(T, -1))
    sub = ((g > 0) & (g < np.finfo(np.float32).tiny)).mean(axis=1)
    return [(t, float(f)) for t, f in enumerate(sub) if f > 0]


def run(rounds: int = 3, warmup: int = 3, steps: int = 10, impls: list[str] | None = None,
        targets: str = "zero", print_fn: PrintFn = print) -> dict[str, list[float]]:
    impls = available(impls or DEFAULT_IMPLS)
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(rounds):
        order = [(i, f) for i in impls for f in ("off", "on")]
        for impl, flush in order if r % 2 == 0 else order[::-1]:
            print(f"round {r + 1}/{rounds}: {impl}, flush {flush}", file=sys.stderr, flush=True)
            res = run_one(impl, CONFIG, warmup, steps, ("--targets", targets, "--flush", flush))
            if not res["flushed"]:
                raise RuntimeError(f"{impl}: the library could not set flush-to-zero {flush}")
            times.setdefault((impl, flush), []).append(median(res["step_ms"]))
    prof = subnormal_profile(CONFIG, targets)
    where = (f"time steps {prof[0][0]}-{prof[-1][0]} of {CONFIGS[CONFIG][0]}, up to {max(f for _, f in prof):.0%} "
             f"of a step's" if prof else "none")
    print_fn(f"\nSubnormal gradients, config {CONFIG} (T/I/H/B {'/'.join(map(str, CONFIGS[CONFIG]))}), standard-normal "
             f"inputs, {'zero' if targets == 'zero' else 'standard-normal'} targets, untrained weights. "
             f"Input-gradient entries that are subnormal: {where}. ms/step: per round the median of {steps} steps "
             f"after {warmup} warm-up, median over {rounds} rounds.\n")
    rows, slowdowns = [], {}
    for impl in impls:
        ratios = [a / b for a, b in zip(times[(impl, "off")], times[(impl, "on")])]
        slowdowns[impl] = ratios
        rows.append([impl, f"{median(times[(impl, 'off')]):.1f}", f"{median(times[(impl, 'on')]):.1f}",
                     f"**{median(ratios):.2f}** ({min(ratios):.2f}-{max(ratios):.2f})"])
    md_table(["implementation", "subnormals kept", "flushed to zero", "kept / flushed (rounds)"], rows, print_fn)
    return slowdowns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--targets", choices=("zero", "normal"), default="zero",
                    help="zero (the default) or standard-normal targets, as in lstm_train.py")
    ap.add_argument("--impls", help=f"comma-separated, of: {', '.join(IMPLS)} (default: {', '.join(DEFAULT_IMPLS)})")
    a = ap.parse_args()
    impls = split_impls(a.impls, ap)
    run(a.rounds, a.warmup, a.steps, impls, a.targets)


if __name__ == "__main__":
    main()
