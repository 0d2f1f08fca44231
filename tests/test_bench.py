"""The benchmark's own logic: the same training in every library, and ratios as medians of per-round ratios.
No timing is asserted (the machine is shared); the step functions run a few steps of a tiny config."""

import numpy as np
import pytest

from benchmarks import lstm_train, train_step


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(train_step.CONFIGS, "tiny", (6, 3, 5, 2))
    return "tiny"


def test_problem_is_seeded_and_shaped(tiny):
    p, q = train_step.problem(tiny), train_step.problem(tiny)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert p["x"].shape == (6, 2, 3) and p["weight_hh_l0"].shape == (20, 5) and p["head.weight"].shape == (1, 5)
    assert all(a.dtype == np.float32 for a in p.values())
    assert np.abs(p["weight_ih_l0"]).max() <= 1 / np.sqrt(5)  # PyTorch's U(-1/sqrt(H), 1/sqrt(H))
    assert not np.any(train_step.problem(tiny, "zero")["y"]) and np.any(p["y"])
    with pytest.raises(ValueError, match="targets"):
        train_step.problem(tiny, "ones")


def test_every_implementation_runs_the_same_training(tiny):
    pytest.importorskip("torch")
    p = train_step.problem(tiny)
    losses = {}
    for name in lstm_train.available(list(train_step.IMPLS)):
        step = train_step.IMPLS[name].build({k: v.copy() for k, v in p.items()})
        losses[name] = [step() for _ in range(4)]  # the loss before each of 4 Adam updates
    ref = losses["torch.nn.LSTM"]
    assert ref[0] > ref[-1]  # it trains
    for name, got in losses.items():
        np.testing.assert_allclose(got, ref, rtol=2e-5, err_msg=name)


def test_an_implementation_whose_switch_is_missing_is_skipped(monkeypatch):
    monkeypatch.setitem(train_step.IMPLS, "ours without x",
                        train_step.Impl("tinygrad_lstm", train_step.build_ours, "tinygrad_lstm.jit:no_such_switch"))
    assert lstm_train.available(["ours", "ours without x", "ours fusion off"]) == ["ours", "ours fusion off"]


def test_measure_reports_every_step(tiny):
    r = train_step.measure("ours", tiny, warmup=1, steps=2)
    assert len(r["step_ms"]) == 2 and len(r["losses"]) == 3 and r["first_ms"] > 0
    assert r["peak_mib"] >= r["base_mib"] > 0 and r["flushed"] is None


def _runs(ours: list[float], torch: list[float]) -> dict:
    return {("ours", "a"): [{"step_ms": [t, t, 1e9]} for t in ours],  # a 1e9 outlier: medians ignore it
            ("torch.nn.LSTM", "a"): [{"step_ms": [t, 0, t]} for t in torch]}


def test_ratio_is_the_median_of_per_round_ratios():
    runs = _runs([10, 20, 30], [20, 10, 40])
    assert lstm_train.round_ratios(runs, "a", "torch.nn.LSTM") == [0.5, 2.0, 0.75]
    assert lstm_train.median(lstm_train.round_ratios(runs, "a", "torch.nn.LSTM")) == 0.75  # not 20/20
    assert lstm_train.median([1, 3, 2, 10]) == 2.5


def test_report_states_targets():
    out = []
    lstm_train.report_targets({"a": 0.5, "b": 1.2, "c": 0.7, "d": 0.9}, {"d": 140.0}, out.append)
    text = "\n".join(out)
    geo = (0.5 * 1.2 * 0.7 * 0.9) ** 0.25
    assert f"**{geo:.2f}**" in text and "target <= 0.8 over abcd: met" in text
    assert "<= 1.0 on every config: NOT met" in text and "140 MiB (target <= 150: met)" in text


def test_an_interrupted_run_keeps_the_complete_rounds(monkeypatch):
    calls = []

    def fake_run_one(impl, cfg, warmup, steps):
        calls.append((impl, cfg))
        if len(calls) == 7:  # round 2 of 3, its 3rd of 4 runs
            raise KeyboardInterrupt
        return {"step_ms": [len(calls)]}

    monkeypatch.setattr(lstm_train, "run_one", fake_run_one)
    runs = lstm_train.collect("ab", ["ours", "torch.nn.LSTM"], 3, 1, 1, lambda msg: None)
    assert calls[:4] == [("ours", "a"), ("torch.nn.LSTM", "a"), ("ours", "b"), ("torch.nn.LSTM", "b")]
    assert calls[4:6] == [("torch.nn.LSTM", "a"), ("ours", "a")]  # the next round in the other order
    assert {k: len(v) for k, v in runs.items()} == dict.fromkeys(runs, 1) and len(runs) == 4
    calls.clear()
    calls.extend(range(4))  # now the interrupt comes within the first round: nothing to report
    with pytest.raises(KeyboardInterrupt):
        lstm_train.collect("ab", ["ours", "torch.nn.LSTM"], 3, 1, 1, lambda msg: None)
