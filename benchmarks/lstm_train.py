"""One LSTM training step, ours against PyTorch, timed fairly: `python -m benchmarks.lstm_train` (`make bench`).

- Columns: ours (default settings); ours step by step (`with jit.sequence.whole_sequences(False)`: each time
  step replayed with its elementwise ops fused, where this version has the sequence compiler); ours fusion off
  (`with jit.fusion(False)`: every op eagerly); torch.nn.LSTM (its fused C++ kernels); nn.LSTMCell in a loop.
- Same training everywhere: every implementation starts from the same weights and sees the same inputs and
  targets (seeded numpy, copied into each library: `train_step.py`), and its losses are checked to agree.
- Same points of that training: each run does `--warmup` steps, then times exactly `--steps` steps, so every
  implementation is timed at the same steps (what the values are, subnormal or not, depends on the step).
- Alternating rounds: a round runs every implementation once per config, each in a fresh subprocess, in
  alternating order; a ratio is the median over rounds of that round's ratio of median step times, so that a
  slow spell of a shared machine hits all implementations alike.
- Peak RSS is each subprocess's own peak (VmHWM): the implementation's library, its training, and the Python
  interpreter. In brackets, the part added after importing the library: building the model and training.
- First step: the first training step of the fresh process (tracing, compiling or loading kernels from the
  cache), and from launching the process to the end of that step (interpreter start and imports included).

    python -m benchmarks.lstm_train                        # configs a-d, 5 rounds (~5 min on 2 cores)
    python -m benchmarks.lstm_train --configs ad --rounds 2

Ctrl-C during a later round prints the tables of the rounds already complete.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable

from .train_step import CONFIGS, IMPLS

PrintFn = Callable[..., None]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS, FUSED, LOOP = "ours", "torch.nn.LSTM", "torch LSTMCell loop"
# issue 10's targets: ours / torch.nn.LSTM as a geometric mean over a-d and on each config; peak RSS on d
TARGET_GEOMEAN, TARGET_EACH, TARGET_RSS_D = 0.8, 1.0, 150.0
# Set on some machines for old OpenBLAS builds; they make a current numpy pick a slower kernel
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def median(v: list[float]) -> float:
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def child_env() -> dict[str, str]:
    """The children's environment: this one, without the OpenBLAS kernel overrides (see OPENBLAS_VARS)."""
    return {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}


def run_one(impl: str, cfg: str, warmup: int, steps: int, extra: tuple[str, ...] = ()) -> dict:
    """One fresh process: `train_step.py` for (impl, cfg). Adds `launch_to_first_s`."""
    cmd = [sys.executable, "-m", "benchmarks.train_step", "--impl", impl, "--config", cfg,
           "--warmup", str(warmup), "--steps", str(steps), *extra]
    launched = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"{impl} on config {cfg} failed:\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["launch_to_first_s"] = r["first_end"] - launched
    return r


def available(impls: list[str]) -> list[str]:
    """The implementations whose library (and switch, for some of ours) this installation has."""
    import importlib
    import importlib.util

    def has(impl: str) -> bool:
        if importlib.util.find_spec(IMPLS[impl].library) is None:
            return False
        if not IMPLS[impl].needs:
            return True
        module, attr = IMPLS[impl].needs.split(":")
        try:
            return hasattr(importlib.import_module(module), attr)
        except ImportError:
            return False

    return [i for i in impls if has(i)]


def collect(configs: str, impls: list[str], rounds: int, warmup: int, steps: int, log: PrintFn) -> dict:
    """runs[(impl, cfg)] = the list of per-round results, rounds in order. Interrupted (Ctrl-C), it keeps the
    rounds that were complete."""
    runs: dict[tuple[str, str], list[dict]] = {}
    try:
        for r in range(rounds):
            for cfg in configs:
                for impl in impls if r % 2 == 0 else impls[::-1]:
                    log(f"round {r + 1}/{rounds}, config {cfg}: {impl}")
                    runs.setdefault((impl, cfg), []).append(run_one(impl, cfg, warmup, steps))
    except KeyboardInterrupt:
        done = min((len(v) for v in runs.values()), default=0) if len(runs) == len(configs) * len(impls) else 0
        if not done:
            raise
        log(f"interrupted: reporting the {done} complete round(s)")
        runs = {k: v[:done] for k, v in runs.items()}
    return runs


def round_ratios(runs: dict, cfg: str, other: str) -> list[float]:
    """Per round: ours's median step time / other's."""
    ours, theirs = runs.get((OURS, cfg), []), runs.get((other, cfg), [])
    return [median(a["step_ms"]) / median(b["step_ms"]) for a, b in zip(ours, theirs)]


def loss_agreement(runs: dict, cfg: str) -> float:
    """Largest relative difference, over all steps, between any implementation's loss and ours's (round 1)."""
    ref = runs[(OURS, cfg)][0]["losses"]
    worst = 0.0
    for (_, c), rs in runs.items():
        if c == cfg:
            for a, b in zip(rs[0]["losses"], ref):
                worst = max(worst, abs(a - b) / max(abs(b), 1e-30))
    return worst


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def md_table(head: list[str], rows: list[list[str]], print_fn: PrintFn) -> None:
    print_fn(_row(head))
    print_fn(_row(["---"] * len(head)))
    for r in rows:
        print_fn(_row(r))


def _cfg_name(cfg: str) -> str:
    return f"{cfg} {'/'.join(map(str, CONFIGS[cfg]))}"


def report_times(runs: dict, configs: str, impls: list[str], print_fn: PrintFn) -> dict[str, float]:
    """The ms/step table with the ratio columns; returns ours/torch.nn.LSTM per config."""
    head = ["config T/I/H/B", *impls]
    others = [o for o in (FUSED, LOOP) if o in impls and OURS in impls]
    head += [f"ours / {o} (rounds)" for o in others]
    rows, vs_fused = [], {}
    for cfg in configs:
        row = [_cfg_name(cfg)]
        row += [f"{median([median(r['step_ms']) for r in runs[(i, cfg)]]):.1f}" for i in impls]
        for o in others:
            rs = round_ratios(runs, cfg, o)
            row.append(f"**{median(rs):.2f}** ({min(rs):.2f}-{max(rs):.2f})")
            if o == FUSED:
                vs_fused[cfg] = median(rs)
        rows.append(row)
    md_table(head, rows, print_fn)
    return vs_fused


def report_memory_and_start(runs: dict, configs: str, impls: list[str], print_fn: PrintFn) -> dict[str, float]:
    """Peak RSS and first-step tables; returns ours's peak RSS per config."""
    print_fn("\nPeak RSS of each implementation's own process, MiB (in brackets: added by building and training):\n")
    md_table(["config", *impls], [[cfg] + [
        f"{max(r['peak_mib'] for r in runs[(i, cfg)]):.0f} "
        f"(+{max(r['peak_mib'] - r['base_mib'] for r in runs[(i, cfg)]):.0f})" for i in impls] for cfg in configs],
        print_fn)
    print_fn("\nFirst step of a fresh process: the step itself, ms / from launching the process to its end, s "
             "(medians over rounds):\n")
    md_table(["config", *impls], [[cfg] + [
        f"{median([r['first_ms'] for r in runs[(i, cfg)]]):.0f} / "
        f"{median([r['launch_to_first_s'] for r in runs[(i, cfg)]]):.2f}" for i in impls] for cfg in configs],
        print_fn)
    return {cfg: max(r["peak_mib"] for r in runs[(OURS, cfg)]) for cfg in configs if (OURS, cfg) in runs}


def report_targets(vs_fused: dict[str, float], rss: dict[str, float], print_fn: PrintFn) -> None:
    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if vs_fused:
        g = math.exp(sum(math.log(v) for v in vs_fused.values()) / len(vs_fused))
        names = "".join(vs_fused)
        print_fn(f"\nours / torch.nn.LSTM, geometric mean over {names}: **{g:.2f}** "
                 f"(target <= {TARGET_GEOMEAN} over abcd: {mark(g <= TARGET_GEOMEAN and names == 'abcd')}); "
                 f"<= {TARGET_EACH} on every config: {mark(all(v <= TARGET_EACH for v in vs_fused.values()))}")
    if "d" in rss:
        print_fn(f"peak RSS of ours on d: {rss['d']:.0f} MiB (target <= {TARGET_RSS_D:.0f}: "
                 f"{mark(rss['d'] <= TARGET_RSS_D)})")


def run(configs: str = "abcd", rounds: int = 5, warmup: int = 3, steps: int = 30, impls: list[str] | None = None,
        print_fn: PrintFn = print, log: PrintFn | None = None) -> dict:
    impls = available(impls or list(IMPLS))
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    load_before = os.getloadavg()[0]
    runs = collect(configs, impls, rounds, warmup, steps, log)
    first = runs[(impls[0], configs[0])][0]
    removed = [k for k in OPENBLAS_VARS if k in os.environ]
    rounds = len(runs[(impls[0], configs[0])])
    print_fn(f"\nOne LSTM training step (forward + backward + Adam, float32), ms/step: per round the median of {steps} "
             f"steps after {warmup} warm-up steps, then the median over {rounds} alternating rounds. numpy's BLAS: "
             f"{first['blas']}" + (f" (ran without {', '.join(removed)})" if removed else "") + ". Load average "
             f"(1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
             + (": other processes shared the machine, so read the ratios more than the times.\n"
                if max(load_before, os.getloadavg()[0]) > (os.cpu_count() or 1) else ".\n"))
    vs_fused = report_times(runs, configs, impls, print_fn)
    for cfg in configs:
        if (OURS, cfg) in runs:
            print_fn(f"config {cfg}: losses of every implementation agree with ours to {loss_agreement(runs, cfg):.1e} "
                     f"(largest relative difference over the {warmup + steps} steps)")
    rss = report_memory_and_start(runs, configs, impls, print_fn)
    report_targets(vs_fused, rss, print_fn)
    return runs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.lstm_train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="abcd", help="which configs, e.g. 'ad' (default abcd)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (ratios: their median)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before the timed ones")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per implementation per round")
    ap.add_argument("--impls", help=f"comma-separated subset of: {', '.join(IMPLS)}")
    a = ap.parse_args(argv)
    bad = set(a.configs) - set(CONFIGS)
    if bad:
        ap.error(f"--configs: unknown config(s) {''.join(sorted(bad))}; expected letters of {''.join(CONFIGS)}")
    run(a.configs, a.rounds, a.warmup, a.steps, split_impls(a.impls, ap))


def split_impls(arg: str | None, ap: argparse.ArgumentParser) -> list[str] | None:
    """--impls "ours,torch.nn.LSTM" -> the names, checked; None when not given."""
    if not arg:
        return None
    names = [s.strip() for s in arg.split(",")]
    if set(names) - set(IMPLS):
        ap.error(f"--impls: unknown {sorted(set(names) - set(IMPLS))}; expected some of {list(IMPLS)}")
    return names


if __name__ == "__main__":
    main()
