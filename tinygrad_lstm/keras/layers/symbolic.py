"""The functional API's bookkeeping: `KerasTensor` (a placeholder with a shape) and `Node` (one layer call).

    x = Input(shape=(10, 1))            a KerasTensor, made by an InputLayer's node
    h = LSTM(16)(x)                     calling a layer on KerasTensors computes nothing: it builds the layer
                                        for x's shape and records a Node(layer, args, outputs) whose outputs are
                                        new KerasTensors of the output shape
    Model(inputs=x, outputs=h)          walks the Nodes back from the outputs (see models/functional.py)

Nodes are numbered as they are made, so that numbering is already an order in which every node comes after
the nodes whose outputs it reads.
"""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count()


class KerasTensor:
    """A symbolic tensor: the shape (None for the batch), dtype and the (layer, node, output) that made it."""

    def __init__(self, shape: tuple[int | None, ...], dtype: str = "float32", name: str | None = None,
                 node: Node | None = None, index: int = 0) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self.node, self.index = node, index

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def _keras_history(self) -> tuple[Any, int, int]:
        """(layer, node index within the layer, output index): Keras's name for where this tensor came from."""
        assert self.node is not None
        return self.node.layer, self.node.layer._inbound_nodes.index(self.node), self.index

    def __repr__(self) -> str:
        from .base import show_shape

        return f"<KerasTensor shape={show_shape(self.shape)}, dtype={self.dtype}, name={self.name}>"

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor has no value: it only stands for the data a model will get. Use "
                        "it as the input of layers, then build keras.Model(inputs, outputs)")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("A symbolic KerasTensor (from keras.Input or a layer called on one) has no values. "
                        "Call layers on it and build keras.Model(inputs, outputs), then call the model on data")


def keras_tensors(structure: Any) -> list[KerasTensor]:
    """The KerasTensors in an argument: one, or a list/tuple/dict of them (one level, as layer calls take)."""
    if isinstance(structure, KerasTensor):
        return [structure]
    if isinstance(structure, dict):
        structure = list(structure.values())
    if isinstance(structure, (list, tuple)):
        return [s for s in structure if isinstance(s, KerasTensor)]
    return []


def substitute(structure: Any, value: dict[int, Any]) -> Any:
    """`structure` with each KerasTensor replaced by value[id(tensor)]."""
    if isinstance(structure, KerasTensor):
        return value[id(structure)]
    if isinstance(structure, (list, tuple)):
        return type(structure)(value[id(s)] if isinstance(s, KerasTensor) else s for s in structure)
    if isinstance(structure, dict):
        return {k: value[id(s)] if isinstance(s, KerasTensor) else s for k, s in structure.items()}
    return structure


def shape_of(structure: Any) -> Any:
    """The shape(s) a layer is built for: one tuple, or a list of them for a list of inputs."""
    if isinstance(structure, KerasTensor):
        return structure.shape
    return [s.shape for s in structure]


class Node:
    """One call of `layer` on KerasTensors: the arguments as given, and the KerasTensors it produced."""

    def __init__(self, layer: Any, args: tuple, kwargs: dict[str, Any], output_shapes: list[Any],
                 dtype: str = "float32") -> None:
        self.id = next(_ids)
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.inputs = [t for a in (*args, *kwargs.values()) for t in keras_tensors(a)]
        layer._inbound_nodes.append(self)
        self.outputs = [KerasTensor(s, dtype, f"{layer.name}_{len(layer._inbound_nodes) - 1}_{i}" if i else
                                    layer.name, self, i) for i, s in enumerate(output_shapes)]


def is_symbolic(args: tuple, kwargs: dict[str, Any]) -> bool:
    return any(keras_tensors(a) for a in (*args, *kwargs.values()))


def symbolic_call(layer: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Build `layer` for the inputs' shapes and record the call; returns its output KerasTensor(s)."""
    if not args:
        raise TypeError(f'Layer "{layer.name}": give the inputs as the first argument, e.g. layer(x)')
    inputs = args[0]
    if not isinstance(inputs, KerasTensor) and len(keras_tensors(inputs)) != len(inputs):
        raise TypeError(f'Layer "{layer.name}": a list of inputs must hold only KerasTensors when one of them is, '
                        f"got {[type(i).__name__ for i in inputs]}")
    out_shape = layer.build_from_shape(shape_of(inputs))
    several = isinstance(out_shape, list)
    node = Node(layer, args, kwargs, out_shape if several else [out_shape])
    return list(node.outputs) if several else node.outputs[0]


__all__ = ["KerasTensor", "Node", "is_symbolic", "keras_tensors", "substitute", "symbolic_call"]
