"""`Optimizer`: the base class of every optimizer — param groups, per-parameter state, zero_grad, state_dict.

An optimizer holds a list of *parameter groups* (``param_groups``): dicts with a ``"params"`` list of Tensors
plus that group's hyperparameters (``lr``, ``momentum``, ...). Schedulers change ``group["lr"]`` between
steps. Per-parameter buffers (momentum, running averages, step counts) live in ``state[param]``, a dict of
ndarrays and numbers.

A subclass gives its defaults to ``__init__``, checks hyperparameters in ``_check`` and updates ``p.data`` in
place in ``step``, skipping parameters whose ``.grad`` is None.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .. import autograd
from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``, where params is an iterable of Tensors or of group dicts.

    >>> from tinygrad_lstm import Tensor
    >>> from tinygrad_lstm.optim import SGD
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.5)
    >>> (w * w).sum().backward()   # w.grad == [2, 4]
    >>> opt.step(); w.data
    array([0., 0.], dtype=float32)
    >>> opt.zero_grad(); w.grad is None
    True
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self._check(self.defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts, "
                            f"got a single {type(params).__name__} (wrap it in a list)")
        if callable(getattr(params, "parameters", None)):  # a Module, as torch users sometimes pass by mistake
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts, got the module "
                            f"{type(params).__name__} itself; pass its parameters: {name}(model.parameters(), ...)")
        if isinstance(params, dict):
            params = [params]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered collection (list or tuple), not a set: the "
                            "order of a set changes between runs, so saved optimizer state would not match")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- hooks for subclasses ---------------------------------------------------------------------------
    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError for a bad hyperparameter in `group` (a group dict or the defaults)."""
        self._check_nonneg(group, "lr", "learning rate")

    def _check_nonneg(self, group: dict[str, Any], key: str, what: str) -> None:
        value = group.get(key, 0.0)
        try:
            ok = value >= 0.0  # False for NaN too
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"{type(self).__name__}: invalid {what} {key}={value!r} (must be a number >= 0)")

    def _params_with_grads(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, np.ndarray, np.ndarray]]:
        """(parameter, its array, its gradient) for each parameter of `group` that has a gradient."""
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            d = p.data
            if g.dtype != d.dtype or g.shape != d.shape:
                g = self._fix_grad(p, g)
            autograd.bump_version(p)  # the step changes d in place (as torch: a graph made before can't backward)
            yield p, d, g

    def _fix_grad(self, p: Tensor, g: np.ndarray) -> np.ndarray:
        """A gradient with the parameter's dtype, or an error naming the mismatched shapes."""
        if g.shape != p.shape:
            label = f"parameter {p.name}" if p.name else "a parameter"
            raise ValueError(f"{type(self).__name__}.step: {label} has shape {p.shape} "
                             f"but its .grad has shape {g.shape}")
        return g.astype(p.dtype)

    # ----- parameter groups -------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (``{"params": [...], "lr": ...}``); hyperparameters it leaves out take the defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a param group needs a 'params' entry, got keys {sorted(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered collection (list or tuple), not a set: the "
                            "order of a set changes between runs, so saved optimizer state would not match")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: params must be Tensors, got {type(p).__name__} at index {i}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (index {i}, made by "
                                 f"{type(p.grad_fn).__name__}); optimize the tensors you created instead")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: can only optimize floating-point tensors, got dtype {p.dtype} "
                                f"at index {i}")
        if len({id(p) for p in params}) != len(params):
            warnings.warn(f"{name}: a parameter group lists the same tensor more than once; it will be "
                          "updated more than once per step", UserWarning, stacklevel=2)
        group["params"] = params
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ----- the training loop ------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set every ``p.grad`` to None (default), or fill it with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update each parameter with a gradient; `closure`, if given, recomputes and returns the loss."""
        raise NotImplementedError

    def _closure(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----- checkpoints ------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, in PyTorch's layout, with parameters named by their position::

            {"state": {0: {"step": 3, "exp_avg": ndarray, ...}, 1: {...}},       # only params that have state
             "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}, ...]}

        Positions count through the groups in order. Arrays are copies, so the dict is a snapshot (torch
        returns references) and can be saved with `tinygrad_lstm.save`.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, st in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v))
                                       for k, v in st.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict` returned, to resume training; groups must hold as many params as saved.

        Hyperparameters come from the saved groups (so a scheduler's changed ``lr`` is restored); floating
        arrays are copied and cast to their parameter's dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' keys")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: saved parameter group {i} has "
                                 f"{len(saved['params'])} parameters, this optimizer's has "
                                 f"{len(group['params'])}")
            by_index.update(zip((int(k) for k in saved["params"]), group["params"]))

        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved_st in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key}, "
                                 "which no saved group lists")
            p = by_index[int(key)]
            st = {}
            for k, v in saved_st.items():
                if isinstance(v, np.ndarray):
                    if v.ndim and v.shape != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                                         f"{v.shape}, the parameter has shape {p.shape}")
                    v = v.astype(p.dtype) if v.dtype.kind == "f" else v.copy()
                else:
                    v = copy.deepcopy(v)
                st[k] = v
            new_state[p] = st

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for k, default in self.defaults.items():
                new.setdefault(k, default)
            self._check(new)
            new["params"] = group["params"]
            new_groups.append(new)
        for group, new in zip(self.param_groups, new_groups):  # update in place: others may hold these dicts
            group.clear()
            group.update(new)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        lines.append(")")
        return "\n".join(lines)
