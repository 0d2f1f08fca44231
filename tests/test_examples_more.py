"""The example scripts char_lm.py, seq2seq_reverse.py and the Keras-style keras_*.py.

Each script runs once in --quick mode as a user would (a subprocess with this Python, from the repository root),
must exit cleanly and end with a parseable RESULT line whose numbers hold a sanity threshold. Seeds are fixed
(--seed 0, the default); the values measured at --quick on 2 shared cores, and the thresholds, are:

    char_lm                       bits/char 3.08 (bigram 3.35, uniform 6.69)    < uniform - 2, bigram in (2.5, 4.5)
    seq2seq_reverse               exact match 0.905 on lengths 3-5               > 0.5
    keras_binary_classification   accuracy 0.69 (majority class 0.53)            > majority + 0.08
    keras_digits                  accuracy 0.78 (most frequent digit 0.075)      > 0.5
    keras_next_word               top-1 0.076 = the frequency baseline           top-1 >= baseline - 0.02, top-5 > top-1
    keras_variable_length         MAE 2.3 (4.5 x length: 9.2, mean sum: 30)      < half the length baseline

(next_word learns little in its quick run: at that size the test only shows that the pipeline runs.)
"""

from __future__ import annotations

import contextlib

import pytest
from examples_support import blas_environment_restored, example, run_script

SCRIPTS = ["char_lm", "seq2seq_reverse", "keras_binary_classification", "keras_digits", "keras_next_word",
           "keras_variable_length"]


@pytest.fixture(scope="module", autouse=True)
def _environment_restored():
    """Importing a script imports _common, which sets the BLAS thread variables: put them back afterwards."""
    with blas_environment_restored():
        yield


def run_quick(name: str, *extra: str, timeout: float = 180) -> tuple[dict[str, float], str]:
    """Run examples/<name>.py --quick in a subprocess; return its RESULT metrics and its stdout."""
    proc = run_script(f"examples/{name}.py", "--quick", *extra, timeout=timeout)
    assert proc.stdout.strip().splitlines()[-1].startswith("RESULT "), "RESULT must be the last line"
    return example("_common").parse_result(proc.stdout), proc.stdout


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        example(name).main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--quick" in out and "--seed" in out


def test_char_lm_quick_beats_uniform_and_samples():
    metrics, out = run_quick("char_lm", "--sample", "40", "--prompt", "The ", "--temperature", "0.7")
    assert set(metrics) == {"bits_per_char", "bigram_bits_per_char", "uniform_bits_per_char"}
    assert 2.5 < metrics["bigram_bits_per_char"] < 4.5
    assert metrics["bits_per_char"] < metrics["uniform_bits_per_char"] - 2
    sample = out.split("--- sample (temperature 0.7) ---\n", 1)[1].rsplit("\n---\nRESULT", 1)[0]
    assert sample.startswith("The ") and len(sample) == 4 + 40


def test_char_lm_rejects_a_prompt_outside_the_vocabulary(capsys):
    try:  # main() limits BLAS threads for the whole process: undo that afterwards
        from threadpoolctl import threadpool_limits
        restore = threadpool_limits(limits=None)
    except ImportError:
        restore = contextlib.nullcontext()
    with restore, pytest.raises(SystemExit) as e:
        example("char_lm").main(["--quick", "--prompt", "\u2603"])
    assert e.value.code == 2 and "not in the text" in capsys.readouterr().err


def test_seq2seq_reverse_quick():
    metrics, out = run_quick("seq2seq_reverse")
    assert set(metrics) == {"exact_match", "digit_accuracy"}
    assert 0.5 < metrics["exact_match"] <= metrics["digit_accuracy"] <= 1.0
    assert " -> " in out


def test_seq2seq_batches_and_held_out_strings():
    s2s = example("seq2seq_reverse")
    maker = s2s.StringMaker(2, 4, seed=0)
    test = maker.hold_out(50)
    held = {t.tobytes() for t in test}
    assert not any(s.tobytes() in held for s in maker.make(2000))
    src, lengths, dec_in, target = s2s.make_batch([s2s.np.array([3, 4, 5]), s2s.np.array([7, 8])])
    assert lengths.tolist() == [3, 2]
    assert target.tolist() == [[5, 4, 3, s2s.EOS], [8, 7, s2s.EOS, s2s.PAD]]
    assert dec_in.tolist() == [[s2s.SOS, 5, 4, 3], [s2s.SOS, 8, 7, s2s.EOS]]


def test_keras_binary_classification_quick():
    metrics, _ = run_quick("keras_binary_classification")
    assert set(metrics) == {"test_accuracy", "baseline_accuracy"}
    assert 0.4 < metrics["baseline_accuracy"] < 0.6
    assert metrics["test_accuracy"] > metrics["baseline_accuracy"] + 0.08


def test_keras_binary_labels():
    mod = example("keras_binary_classification")
    bits = mod.np.array([[0, 1, 1, 1, 1, 0], [1, 1, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1]])
    assert mod.has_run(bits).tolist() == [1.0, 0.0, 1.0]


def test_keras_digits_quick():
    metrics, out = run_quick("keras_digits")
    assert set(metrics) == {"test_accuracy", "baseline_accuracy"}
    assert metrics["test_accuracy"] > 0.5 and metrics["baseline_accuracy"] < 0.2
    assert "confusion matrix" in out


def test_keras_next_word_quick():
    metrics, _ = run_quick("keras_next_word")
    assert set(metrics) == {"top1_accuracy", "top5_accuracy", "baseline_top1", "baseline_top5"}
    assert 0.03 < metrics["baseline_top1"] < metrics["baseline_top5"] < 0.5
    assert metrics["top1_accuracy"] >= metrics["baseline_top1"] - 0.02
    assert metrics["top1_accuracy"] < metrics["top5_accuracy"] <= 1.0


def test_keras_next_word_examples_are_prefixes():
    mod = example("keras_next_word")
    x, y = mod.make_examples([[5, 6, 7], [8, 9]], context=2)
    assert x.tolist() == [[0, 5], [5, 6], [0, 8]] and y.tolist() == [6, 7, 9]
    sentences = mod.prose_sentences("A first sentence is here. And a second one here!\n\n   code = 1\n")
    assert sentences == ["A first sentence is here.", "And a second one here!"]


def test_keras_variable_length_quick():
    metrics, _ = run_quick("keras_variable_length")
    assert set(metrics) == {"test_mae", "length_baseline_mae", "mean_baseline_mae", "longer_mae"}
    assert metrics["test_mae"] < metrics["length_baseline_mae"] / 2
    assert metrics["length_baseline_mae"] < metrics["mean_baseline_mae"]


def test_keras_variable_length_batches_have_one_length():
    mod = example("keras_variable_length")
    pairs = mod.make_sequences(200, mod.np.random.default_rng(0), 3, 6)
    batches = mod.batches_by_length(pairs, batch_size=16, rng=mod.np.random.default_rng(1))
    assert sum(len(x) for x, _ in batches) == 200
    for x, y in batches:
        assert x.ndim == 3 and x.shape[2] == 10 and 3 <= x.shape[1] <= 6 and len(x) <= 16
        assert mod.np.allclose(x.argmax(axis=2).sum(axis=1) / mod.SCALE, y)
