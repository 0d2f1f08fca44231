"""Run every ```python block of docs/*.md as a test (Sybil): blocks of one file share a namespace, in order.

A block can be skipped with an HTML comment before it: ``<!-- skip: next -->``. Each file starts from the same
state: seeded generator, gradients recorded, the backend it found (restored afterwards: a block may switch),
flushing subnormals as by default (reset afterwards if a page switched it).
"""

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser


def _setup(namespace: dict) -> None:
    from tinygrad_lstm import get_backend, is_grad_enabled, manual_seed

    assert is_grad_enabled(), "a previous test left gradient recording off"
    manual_seed(0)
    namespace["_doc_backend"] = get_backend()


def _teardown(namespace: dict) -> None:
    from tinygrad_lstm import set_backend
    from tinygrad_lstm.kernels import denormal

    set_backend(namespace["_doc_backend"])
    if denormal.get_requested() is not None:  # a page that switched flushing: back to the default
        denormal.reset()


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["*.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
