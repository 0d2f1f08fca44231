"""The little global state Keras keeps: automatic layer names, the fuzz factor ε, the session reset.

Keras names layers after their class, counting per session: ``lstm``, ``lstm_1``, ``dense``, ... and
`clear_session` starts the counts again (handy in tests and notebooks).
"""

from __future__ import annotations

import re
from collections import defaultdict

_counts: defaultdict[str, int] = defaultdict(int)

EPSILON = 1e-7  # Keras's backend.epsilon(): clips probabilities in the losses, the optimizers' ε defaults


def epsilon() -> float:
    """The fuzz factor ε = 1e-7 (keras.backend.epsilon())."""
    return EPSILON


def to_snake_case(name: str) -> str:
    """``SimpleRNN`` → ``simple_rnn``, ``TimeDistributed`` → ``time_distributed``, ``Conv1D`` → ``conv1d``,
    ``MaxPooling1D`` → ``max_pooling1d`` (Keras's rule)."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2``, ... (per session)."""
    n = _counts[base]
    _counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Forget the automatic names given so far, so the next ``LSTM`` is called ``lstm`` again."""
    _counts.clear()


__all__ = ["clear_session", "epsilon", "to_snake_case", "unique_name"]
