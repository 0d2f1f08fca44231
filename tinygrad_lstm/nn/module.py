"""Module and Parameter: the containers every layer is built from, with PyTorch's names and behaviour."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import autograd, factory
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module owns and trains: requires_grad=True unless told otherwise."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None, name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(KeyError):
    """A state_dict that does not fit the module: names the keys and shapes."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


class Module:
    """Base class of layers and models. Assigning a Parameter or a Module as an attribute registers it, so
    `parameters()`, `state_dict()` and the graph pictures find it under its dotted name (``lstm.weight_hh_l0``).

    Calling a module runs `forward` inside a scope entry, so every op it records is tagged with the call.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_prefix", "")
        object.__setattr__(self, "training", True)

    # ----- registration -----------------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        params, modules = self._parameters, self._modules
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
            value.name = self._prefix + name
        elif isinstance(value, Module):
            modules[name] = value
            value._set_prefix(self._prefix + name + ".")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    def _set_prefix(self, prefix: str) -> None:
        object.__setattr__(self, "_prefix", prefix)
        for n, p in self._parameters.items():
            p.name = prefix + n
        for n, m in self._modules.items():
            m._set_prefix(prefix + n + ".")

    # ----- calling ----------------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with autograd.scope(self._scope_entry()):
            return self.forward(*args, **kwargs)

    def _scope_entry(self) -> autograd.ScopeEntry:
        return autograd.ScopeEntry("module", type(self).__name__, self._prefix.rstrip("."), autograd.new_call_id())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ----- traversal --------------------------------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:  # iterative, in definition order
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            stack.extend(reversed([(f"{name}.{n}" if name else n, c) for n, c in m._modules.items()]))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, each parameter once, in definition order."""
        seen: set[int] = set()
        for mname, m in self.named_modules(prefix):
            for pname, p in m._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    # ----- state ------------------------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Dotted name → a copy of the parameter's array (copies: later training does not change a saved dict)."""
        return OrderedDict((n, p.data.copy()) for n, p in self.named_parameters())

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors, or anything with .numpy()) into the parameters of the same names.

        Each array is cast to its parameter's dtype. With strict=True a missing or unexpected key raises; a shape
        mismatch always raises, naming the key and both shapes.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing keys: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                parts.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
            raise StateDictError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        arrays = {}
        for k, p in own.items():
            if k not in state_dict:
                continue
            v = _as_array(state_dict[k])
            if v.shape != p.shape:
                raise StateDictError(f"load_state_dict for {type(self).__name__}: size mismatch for {k!r}: the "
                                     f"checkpoint has shape {v.shape}, the model's parameter has shape {p.shape}")
            arrays[k] = v
        for k, v in arrays.items():  # all checked first: a failed load changes nothing
            own[k].data[...] = v
            autograd.bump_version(own[k])
        return IncompatibleKeys(missing, unexpected)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    def train(self, mode: bool = True) -> Module:
        # through each child's own train(), as torch does, so that an override (RNNBase's cells) is reached
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False) -> Module:
        """Convert every parameter to `dtype` (e.g. np.float64 for gradient checks), in place. As torch, also
        takes a device ("cpu": nothing to move) or a tensor (its dtype)."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif factory.is_device(a):
                device = a
            else:
                dtype = a
        factory.check_device(device, "to")
        if dtype is None:
            return self
        dt = factory.parse_dtype(dtype, "to")
        for p in self.parameters():
            p.data = p.data.astype(dt)
            p.grad = None
        return self

    def cpu(self) -> Module:
        """This module (its parameters already are on the CPU)."""
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ----- printing ---------------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _as_array(v: Any) -> np.ndarray:
    if isinstance(v, Tensor):
        return v.data
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a torch tensor
        return v.detach().cpu().numpy()
    return np.asarray(v)
