"""gradcheck: compare autograd's gradients with central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import enable_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree; the message names the input, the index and both numbers."""


def _outputs(out: Any) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        flat: list[Tensor] = []
        for o in out:
            flat.extend(_outputs(o))
        return flat
    raise TypeError(f"gradcheck: fn must return a Tensor or a tuple/list of Tensors, got {type(out).__name__}")


def _gradients(fn: Callable[..., Any], inputs: Sequence[Any] | Any, eps: float, seed: int
               ) -> list[tuple[int, Tensor, np.ndarray, np.ndarray]]:
    """(position, x, autograd's dL/dx, central finite differences' dL/dx) for every input x that requires grad, where
    L = Σ w·fn(inputs) with a fixed random w per output. Inputs are copied to float64 first."""
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        inputs = (inputs,)
    xs = []
    for x in inputs:
        if isinstance(x, Tensor):
            data = x.data.astype(np.float64) if x.dtype.kind == "f" else x.data
            xs.append(Tensor(data, requires_grad=x.requires_grad, name=x.name))
        else:
            xs.append(x)
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")

    rs = np.random.default_rng(seed)
    with enable_grad():
        outs = _outputs(fn(*xs))
    weights = [rs.standard_normal(o.shape) for o in outs]

    def objective() -> float:
        with enable_grad():
            return float(sum(np.sum(o.data * w) for o, w in zip(_outputs(fn(*xs)), weights)))

    # analytic
    total = None
    for o, w in zip(outs, weights):
        if not o.requires_grad:
            continue
        term = (o * Tensor(w)).sum()
        total = term if total is None else total + term
    for i in checked:
        xs[i].grad = None
    if total is not None:
        total.backward()

    found = []
    for i in checked:
        x = xs[i]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = objective()
            flat[j] = old - eps
            minus = objective()
            flat[j] = old
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        found.append((i, x, np.asarray(analytic), numeric))
    return found


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Any] | Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check d fn / d input for every input that requires grad.

    Each output is contracted with a fixed random weight w (so every output element matters), making the scalar
    L = Σ w·fn(inputs). Autograd's dL/dx is compared, element by element, with (L(x+eps) - L(x-eps)) / 2eps.
    Inputs are copied to float64 first; `fn` must not depend on their dtype.
    """
    ok = True
    for i, x, analytic, numeric in _gradients(fn, inputs, eps, seed):
        bad = ~np.isclose(analytic, numeric, rtol=rtol, atol=atol)
        if bad.any():
            ok = False
            idx = tuple(int(v) for v in np.argwhere(bad)[0])
            label = f"input {i}" + (f" ({x.name!r})" if x.name else "") + f" of shape {x.shape}"
            msg = (f"gradcheck: gradient of {label} differs at index {idx}: autograd {float(analytic[idx])!r}, "
                   f"finite differences {float(numeric[idx])!r} ({int(bad.sum())} of {bad.size} elements differ; "
                   f"atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(msg)
    return ok


def gradient_errors(fn: Callable[..., Any], inputs: Sequence[Any] | Any, eps: float = 1e-6, seed: int = 0
                    ) -> dict[str, tuple[float, float]]:
    """How far autograd is from finite differences, per input that requires grad: {name: (absolute error, relative
    error)}, keyed by the tensor's name (``input <position>`` for an unnamed or repeated one).

    The same comparison as `gradcheck` (L = Σ w·fn(inputs), float64, central differences with step `eps`),
    summarized instead of judged: the absolute error is max |a - n| over the input's elements (a autograd's
    gradient, n the finite differences'); the relative error divides it by max |n| (by 1 if the gradient is all
    zeros). With eps = 1e-6 a correct float64 gradient typically shows errors around 1e-10 or less: what remains is
    the finite differences' own truncation and rounding error."""
    errors: dict[str, tuple[float, float]] = {}
    for i, x, analytic, numeric in _gradients(fn, inputs, eps, seed):
        label = x.name if x.name and x.name not in errors else f"input {i}"
        err = float(np.max(np.abs(analytic - numeric), initial=0.0))
        scale = float(np.max(np.abs(numeric), initial=0.0))
        errors[label] = (err, err / scale if scale > 0 else err)
    return errors
