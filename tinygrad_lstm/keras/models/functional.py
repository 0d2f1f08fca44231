"""The functional API: ``Model(inputs, outputs)`` over layers called on KerasTensors.

    inputs = Input(shape=(10, 1))
    h = LSTM(16)(inputs)
    outputs = Dense(1, activation="sigmoid")(h)
    model = Model(inputs, outputs)          # then compile / fit / evaluate / predict as for Sequential

The model keeps the recorded calls (`symbolic.Node`s) that lead from the inputs to the outputs, in the order
they were made (which already puts every call after the calls it reads from), and runs them in that order on
data: one loop, no recursion. Masks travel alongside, as in Sequential: each call gets the mask of its input
and the layer's compute_mask gives the mask of its output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import autograd
from ...tensor import Tensor
from ..backend import unique_name
from ..layers.base import Layer, as_tensor, show_shape
from ..layers.core import InputLayer
from ..layers.symbolic import KerasTensor, Node, substitute
from . import data
from .training import Model


def _as_list(x: Any, what: str) -> tuple[list[KerasTensor], bool]:
    """The KerasTensors of `inputs`/`outputs` and whether a single one was given (not a list)."""
    if isinstance(x, KerasTensor):
        return [x], True
    items = list(x.values()) if isinstance(x, dict) else list(x) if isinstance(x, (list, tuple)) else [x]
    bad = [type(t).__name__ for t in items if not isinstance(t, KerasTensor)]
    if bad or not items:
        raise ValueError(f"Model: `{what}` must be KerasTensors (from keras.Input and layers called on them), got "
                         f"{bad or 'an empty list'}")
    return items, False


def _graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """The nodes the outputs depend on, in creation order; every path must start at one of `inputs`."""
    seen: dict[int, Node] = {}
    stack = [t.node for t in outputs]
    while stack:  # iterative walk back from the outputs
        node = stack.pop()
        if node is None or node.id in seen:
            continue
        seen[node.id] = node
        stack.extend(t.node for t in node.inputs)
    starts = {id(t) for t in inputs}
    for node in seen.values():
        if isinstance(node.layer, InputLayer) and id(node.outputs[0]) not in starts:
            raise ValueError(f'Graph disconnected: cannot find parent for KerasTensor "{node.outputs[0].name}": it '
                             "comes from an Input that is not in the model's `inputs`")
    return [seen[k] for k in sorted(seen)]


class Functional(Model):
    """A model defined by its inputs and outputs (``keras.Model(inputs, outputs)`` returns one)."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name=name or unique_name("functional"), trainable=trainable, **kwargs)
        self.inputs, self._single_input = _as_list(inputs, "inputs")
        self.outputs, self._single_output = _as_list(outputs, "outputs")
        for t in self.inputs:
            if t.node is None or not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model: every input must come straight from keras.Input, got {t!r} (made by "
                                 f"layer {getattr(t.node, 'layer', None)!r})")
        self._nodes = _graph(self.inputs, self.outputs)
        self._layer_list: list[Layer] = []
        for node in self._nodes:
            layer = node.layer
            if layer in self._layer_list:
                continue
            if any(other.name == layer.name for other in self._layer_list):
                raise ValueError(f'The name "{layer.name}" is used 2 times in the model. All operation names '
                                 "should be unique.")
            self._layer_list.append(layer)
            self._modules[layer.name] = layer  # its weights are "<name>.<weight>"
            layer._set_prefix(self._prefix + layer.name + ".")
        self.built = True
        self._build_input_shape = self._shapes(self.inputs, self._single_input)
        self._output_shape = self._shapes(self.outputs, self._single_output)

    @staticmethod
    def _shapes(tensors: list[KerasTensor], single: bool) -> Any:
        return tensors[0].shape if single else [t.shape for t in tensors]

    # ----- structure ----------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return list(self._layer_list)

    @property
    def input(self) -> Any:
        return self.inputs[0] if self._single_input else list(self.inputs)

    @property
    def output(self) -> Any:
        return self.outputs[0] if self._single_output else list(self.outputs)

    @property
    def input_names(self) -> list[str]:
        return [t.node.layer.name for t in self.inputs]  # type: ignore[union-attr]

    @property
    def output_names(self) -> list[str]:
        return [t.node.layer.name for t in self.outputs]  # type: ignore[union-attr]

    def _output_count(self) -> int:
        return 1 if self._single_output else len(self.outputs)

    def build_from_shape(self, input_shape: Any) -> Any:
        return self._output_shape

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self._output_shape

    # ----- data ---------------------------------------------------------------------------------------------
    def _to_x(self, x: Any, what: str = "x") -> Any:
        return data.to_arrays(x, what, None if self._single_input else self.input_names)

    def _to_y(self, y: Any, what: str = "y") -> Any:
        return data.to_arrays(y, what, None if self._single_output else self.output_names)

    def _check_data(self, x: Any) -> None:
        arrays = x.arrays if isinstance(x, data.Arrays) else [x]
        for i, (t, a) in enumerate(zip(self.inputs, arrays)):
            self._check_input(i, t.shape, np.shape(a))

    def _check_input(self, i: int, declared: tuple, shape: tuple) -> None:
        if len(shape) != len(declared) or any(e is not None and e != s for e, s in zip(declared[1:], shape[1:])):
            raise ValueError(f'Input {i} of layer "{self.name}" is incompatible with the layer: expected '
                             f"shape={show_shape(declared)}, found shape={show_shape(shape)}")

    def _feed(self, inputs: Any) -> list[Tensor]:
        if isinstance(inputs, data.Arrays):
            inputs = inputs.arrays
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise ValueError(f'Model "{self.name}": inputs named {missing} are missing; got {list(inputs)}')
            inputs = [inputs[n] for n in self.input_names]
        items = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
        if len(items) != len(self.inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received '
                             f"{len(items)} input tensors")
        xs = [as_tensor(x) for x in items]
        for i, (t, x) in enumerate(zip(self.inputs, xs)):
            self._check_input(i, t.shape, x.shape)
        return xs

    # ----- running ------------------------------------------------------------------------------------------
    def _execute(self, inputs: Any, training: bool) -> tuple[list[Tensor], list[np.ndarray | None]]:
        value: dict[int, Any] = {}
        mask: dict[int, np.ndarray | None] = {}
        for t, x in zip(self.inputs, self._feed(inputs)):
            value[id(t)], mask[id(t)] = x, None
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            layer, first = node.layer, node.args[0]
            args = [substitute(a, value) for a in node.args]
            kwargs = {k: substitute(v, value) for k, v in node.kwargs.items()}
            kwargs.setdefault("training", training)
            in_mask = substitute(first, mask)
            if layer.supports_masking and in_mask is not None and not (isinstance(in_mask, list) and
                                                                       all(m is None for m in in_mask)):
                kwargs["mask"] = in_mask
            out = layer(*args, **kwargs)
            outs = out if isinstance(out, (list, tuple)) else [out]
            out_mask = layer.compute_mask(args[0], kwargs.get("mask"))
            for i, (t, o) in enumerate(zip(node.outputs, outs)):
                value[id(t)], mask[id(t)] = o, out_mask if i == 0 else None
        return [value[id(t)] for t in self.outputs], [mask[id(t)] for t in self.outputs]

    def call(self, inputs: Any, training: bool = False, mask: Any = None) -> Any:
        outs, _ = self._execute(inputs, training)
        return outs[0] if self._single_output else outs

    def forward(self, inputs: Any, training: bool = False, mask: Any = None, **kwargs: Any) -> Any:
        return self.call(inputs, training=training)

    def _run(self, x: Any, training: bool) -> tuple[Any, Any]:
        with autograd.scope(self._scope_entry()):
            outs, masks = self._execute(x, training)
        if self._single_output:
            return outs[0], masks[0]
        return outs, masks

    # ----- config -------------------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The layers and the calls between them, as plain data (`from_config` rebuilds the model)."""
        where = {id(t): [node.layer.name, node.layer._inbound_nodes.index(node), i]
                 for node in self._nodes for i, t in enumerate(node.outputs)}

        def ref(s: Any) -> Any:
            ts = s if isinstance(s, (list, tuple)) else [s]
            if any(isinstance(t, KerasTensor) for t in ts):
                refs = [{"keras_tensor": where[id(t)]} if isinstance(t, KerasTensor) else t for t in ts]
                return refs if isinstance(s, (list, tuple)) else refs[0]
            return s

        from ..layers import serialize

        calls = [{"layer": n.layer.name, "args": [ref(a) for a in n.args],
                  "kwargs": {k: ref(v) for k, v in n.kwargs.items()}} for n in self._nodes
                 if not isinstance(n.layer, InputLayer)]
        return {"name": self.name, "trainable": self.trainable, "layers": [serialize(lay) for lay in self.layers],
                "calls": calls, "inputs": [where[id(t)] for t in self.inputs],
                "outputs": [where[id(t)] for t in self.outputs],
                "single_input": self._single_input, "single_output": self._single_output}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Functional:
        from ..layers import deserialize

        layers = {c["config"]["name"]: deserialize(c) for c in config["layers"]}
        made: dict[tuple[str, int, int], KerasTensor] = {}
        for name, layer in layers.items():
            if isinstance(layer, InputLayer):
                made[(name, 0, 0)] = layer.output

        def tensor(s: Any) -> Any:
            if isinstance(s, dict) and set(s) == {"keras_tensor"}:
                return made[tuple(s["keras_tensor"])]  # type: ignore[index]
            if isinstance(s, list):  # a list of tensors (one level, as layer calls take)
                return [made[tuple(x["keras_tensor"])] if isinstance(x, dict) else x for x in s]  # type: ignore
            return s

        for call in config["calls"]:
            layer = layers[call["layer"]]
            out = layer(*[tensor(a) for a in call["args"]], **{k: tensor(v) for k, v in call["kwargs"].items()})
            node_index = len(layer._inbound_nodes) - 1
            for i, t in enumerate(out if isinstance(out, list) else [out]):
                made[(layer.name, node_index, i)] = t
        inputs = [made[tuple(r)] for r in config["inputs"]]  # type: ignore[index]
        outputs = [made[tuple(r)] for r in config["outputs"]]  # type: ignore[index]
        return cls(inputs[0] if config["single_input"] else inputs,
                   outputs[0] if config["single_output"] else outputs, name=config["name"],
                   trainable=config.get("trainable", True))


__all__ = ["Functional"]
