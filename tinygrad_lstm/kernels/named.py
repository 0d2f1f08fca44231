"""Each backend's elementwise ops by name on plain arrays (`numba_backend.tanh(x)`): for tests and benchmarks,
through the same path the ops take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NAMES = ("Exp", "Log", "Sqrt", "Tanh", "Sigmoid", "Relu", "Add", "Sub", "Mul", "Div")


def by_name(elementwise: Callable[[Any, tuple], Any]) -> tuple[Callable, ...]:
    """One function per op in NAMES, running `elementwise` (a backend's) on that op's definition."""

    def make(op: str) -> Callable:
        def fn(*xs: Any) -> Any:
            from ..ops import elementwise as E  # imported late: the ops import the kernels package

            return elementwise(getattr(E, op).lower(), xs)

        fn.__name__ = op.lower()
        return fn

    return tuple(make(op) for op in NAMES)


GRAD_NAMES = ("Tanh", "Sigmoid", "Relu")


def grads_by_name(elementwise_grad: Callable[..., Any]) -> tuple[Callable, ...]:
    """`tanh_backward(z, g)`, `sigmoid_backward(z, g)`, `relu_backward(x, g)`: the gradient of the one input from
    what the op saved (its output z, or for relu its input x) and the incoming gradient g."""

    def make(op: str) -> Callable:
        def fn(saved: Any, g: Any) -> Any:
            from ..ops import elementwise as E

            return elementwise_grad(getattr(E, op).lower(), 0, g, (saved,))

        fn.__name__ = f"{op.lower()}_backward"
        return fn

    return tuple(make(op) for op in GRAD_NAMES)
