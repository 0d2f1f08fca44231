"""Shared test helpers: random inputs, hypothesis strategies, and the three oracles every op is held to —
numpy (forward), finite differences (`gradcheck`, float64), and PyTorch (forward and every input gradient)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lstm import Tensor, backend, gradcheck

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def broadcast_shapes(n: int = 2, max_dims: int = 3, max_side: int = 3) -> st.SearchStrategy:
    """`n` shapes that broadcast together (0 to `max_dims` axes; sides 1..`max_side`)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=max_dims, min_side=1,
                                             max_side=max_side)


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def rand(shape: Sequence[int], seed: int = 0, domain: str = "any", dtype: Any = np.float64) -> np.ndarray:
    """Random values in a domain where the op under test is smooth enough for finite differences.

    any: uniform(-2, 2)   pos: uniform(0.5, 2)   away: |x| in (0.2, 2), either sign (kinks at 0 avoided)
    """
    r = np.random.default_rng(seed)
    shape = tuple(shape)
    if domain == "any":
        x = r.uniform(-2, 2, shape)
    elif domain == "pos":
        x = r.uniform(0.5, 2, shape)
    elif domain == "away":
        x = r.uniform(0.2, 2, shape) * r.choice([-1.0, 1.0], shape)
    else:  # pragma: no cover - a typo in a test
        raise ValueError(domain)
    return np.asarray(x, dtype=dtype)


def leaves(*arrays: np.ndarray) -> list[Tensor]:
    """Our tensors for `arrays`: floating ones require grad, others (indices) do not."""
    return [Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]


def _flat(out: Any) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _weights(outs: list, seed: int) -> list[np.ndarray]:
    r = np.random.default_rng(seed)
    return [r.standard_normal(tuple(o.shape)) for o in outs]


def forward_and_grads(fn: Callable[..., Any], *arrays: np.ndarray, seed: int = 1234
                      ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Run `fn` on fresh leaves; backpropagate Σ w·out (fixed random w) so every output element matters.
    Returns the output arrays and every input's .grad."""
    xs = leaves(*arrays)
    outs = _flat(fn(*xs))
    diff = [o for o in outs if o.requires_grad]
    if diff:
        loss = None
        for o, w in zip(outs, _weights(outs, seed)):
            if o.requires_grad:
                term = (o * Tensor(w.astype(o.dtype))).sum()
                loss = term if loss is None else loss + term
        loss.backward()
    return [o.data.copy() for o in outs], [x.grad for x in xs]


def check_backends(fn: Callable[..., Any], *arrays: np.ndarray, rtol: float = 1e-12, atol: float = 1e-12) -> None:
    """The numpy and numba backends agree on the forward and on every input gradient."""
    with backend("numpy"):
        out_np, g_np = forward_and_grads(fn, *arrays)
    with backend("numba"):
        out_nb, g_nb = forward_and_grads(fn, *arrays)
    assert len(out_np) == len(out_nb)
    for a, b in zip(out_np, out_nb):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg="forward differs between backends")
    for i, (a, b) in enumerate(zip(g_np, g_nb)):
        assert (a is None) == (b is None), f"input {i}: grad is None in one backend only"
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=f"grad of input {i} differs")


def check_grad(fn: Callable[..., Any], *arrays: np.ndarray, **kw: Any) -> None:
    """gradcheck in float64 of `fn` at `arrays` (floating ones are differentiated)."""
    assert gradcheck(fn, leaves(*[np.asarray(a, dtype=np.float64) if a.dtype.kind == "f" else a
                                  for a in arrays]), **kw)


def check_op(fn: Callable[..., Any], *arrays: np.ndarray, torch_fn: Callable[..., Any] | None = None,
             rtol: float = 1e-10, atol: float = 1e-12, seed: int = 1234) -> None:
    """Run `fn` on our tensors and `torch_fn` (default: the same `fn`) on torch tensors made from the same
    float64 `arrays`; compare every output and the gradient of every floating input. Skips without torch."""
    torch = pytest.importorskip("torch")
    arrays = tuple(np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
                   for a in arrays)
    ours_out, ours_grads = forward_and_grads(fn, *arrays, seed=seed)

    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    t_outs = _flat((torch_fn or fn)(*ts))
    assert len(t_outs) == len(ours_out), f"{len(ours_out)} outputs, torch gives {len(t_outs)}"
    for k, (o, t) in enumerate(zip(ours_out, t_outs)):
        t_np = t.detach().numpy()
        assert o.shape == t_np.shape, f"output {k}: shape {o.shape}, torch {t_np.shape}"
        np.testing.assert_allclose(o, t_np, rtol=rtol, atol=atol, err_msg=f"output {k} differs from torch")
    diff = [t for t in t_outs if t.requires_grad]
    if diff:
        loss = sum((t * torch.tensor(w)).sum() for t, w in zip(t_outs, _weights(t_outs, seed)) if t.requires_grad)
        loss.backward()
    for i, (g, t) in enumerate(zip(ours_grads, ts)):
        if not t.requires_grad:
            continue
        tg = t.grad.numpy() if t.grad is not None else np.zeros_like(arrays[i])
        g = g if g is not None else np.zeros_like(arrays[i])
        assert g.shape == tg.shape, f"grad of input {i}: shape {g.shape}, torch {tg.shape}"
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=atol, err_msg=f"grad of input {i} differs from torch")
