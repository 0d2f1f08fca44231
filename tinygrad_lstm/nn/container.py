"""Sequential and ModuleList: modules registered under the names "0", "1", …"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .module import Module


class _Numbered(Module):
    """Children named by position, with list-like access."""

    def append(self, module: Module) -> _Numbered:
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(_Numbered):
    """Calls its modules in order, each on the previous one's output."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_Numbered):
    """A list of modules whose parameters are registered."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)
