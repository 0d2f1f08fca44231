import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))  # `import helpers` from any test file

# Few examples, no deadline (the first call of a numba kernel compiles it), and derandomized so that CI runs
# the same examples every time. HYPOTHESIS_PROFILE=thorough for a longer local search.
settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """A test must not leave gradient recording switched off for the tests after it."""
    from tinygrad_lstm import autograd

    yield
    enabled, scope = autograd.is_grad_enabled(), autograd.current_scope()
    autograd._mode.enabled, autograd._mode.scope = True, ()  # so one leak fails one test, not all after it
    assert enabled, "grad mode leaked out of the test (no_grad not exited)"
    assert scope == (), f"scope {scope} leaked out of the test"
