"""What the Keras tests share: a fresh session and seed before every test, and float32 normal inputs."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lstm import manual_seed
from tinygrad_lstm.keras import backend


@pytest.fixture(autouse=True)
def _fresh():
    backend.clear_session()
    manual_seed(0)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
