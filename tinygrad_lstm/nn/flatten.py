"""Identity and Flatten: shape plumbing as modules, for `nn.Sequential` (torch's nn.Identity, nn.Flatten)."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .module import Module


class Identity(Module):
    """Returns its input unchanged (derivative 1). Takes and ignores any constructor arguments, as torch's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Joins axes start_dim … end_dim into one: (N, C, L) → (N, C·L) by default (the batch axis is kept)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


__all__ = ["Flatten", "Identity"]
