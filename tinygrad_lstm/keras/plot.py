"""`plot_model` / `model_to_dot`: a picture of a model's layers and how they connect, as keras.utils draws it.

One box per layer ("name" and "(Class)"), with show_shapes its input and output shapes, arrows along the data
flow (a functional model's joins and branches, a Sequential model's chain). The DOT text is rendered by
tinygrad_lstm.viz's renderer (Graphviz's `dot`, or the bundled `graphviz-pure`), written atomically.
"""

from __future__ import annotations

import os
from html import escape
from typing import Any

from .layers.base import show_shape

FILL, BORDER, HEAD = "#f5f3ff", "#7c3aed", "#ede9fe"
INPUT_FILL, INPUT_BORDER = "#dbeafe", "#2563eb"


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return show_shape(shape)


def _label(layer: Any, show_shapes: bool, show_layer_names: bool, show_activations: bool,
           show_trainable: bool) -> str:
    kind = type(layer).__name__
    title = f"<b>{escape(layer.name)}</b><br/>({escape(kind)})" if show_layer_names else f"<b>{escape(kind)}</b>"
    rows = [f'<tr><td colspan="2" bgcolor="{HEAD}">{title}</td></tr>']
    if show_activations and hasattr(layer, "activation"):
        act = getattr(layer.activation, "__name__", str(layer.activation))
        rows.append(f'<tr><td colspan="2">activation: {escape(act)}</td></tr>')
    if show_trainable:
        rows.append(f'<tr><td colspan="2">trainable: {"yes" if layer.trainable else "no"}</td></tr>')
    if show_shapes:
        rows.append(f"<tr><td>Input shape: {escape(_shape_text(layer.input_shape))}</td>"
                    f"<td>Output shape: {escape(_shape_text(layer.output_shape))}</td></tr>")
    return '<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">' + "".join(rows) + "</table>>"


def _edges(model: Any) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """The layers to draw and the (from, to) pairs between them."""
    nodes = getattr(model, "_nodes", None)
    if nodes is not None:  # functional: every call's inputs
        pairs = [(t.node.layer, node.layer) for node in nodes for t in node.inputs]
        return model.layers, list(dict.fromkeys(pairs))
    layers = list(model.layers)
    return layers, list(zip(layers, layers[1:]))


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
                 show_layer_activations: bool = False, show_trainable: bool = False, **kwargs: Any) -> str:
    """The DOT text of the model's layer graph (keras.utils.model_to_dot returns a pydot graph; this, text)."""
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR', got {rankdir!r}")
    layers, pairs = _edges(model)
    ids = {id(layer): f"layer{i}" for i, layer in enumerate(layers)}
    lines = [f'digraph "{escape(model.name)}" {{', f"  rankdir={rankdir};",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin=0.05];',
             '  edge [color="#6b7280", arrowsize=0.7];']
    for layer in layers:
        inputish = type(layer).__name__ == "InputLayer"
        fill, border = (INPUT_FILL, INPUT_BORDER) if inputish else (FILL, BORDER)
        label = _label(layer, show_shapes, show_layer_names, show_layer_activations, show_trainable)
        lines.append(f'  {ids[id(layer)]} [label={label}, fillcolor="{fill}", color="{border}"];')
    for a, b in pairs:
        lines.append(f"  {ids[id(a)]} -> {ids[id(b)]};")
    lines.append("}")
    return "\n".join(lines)


def plot_model(model: Any, to_file: str | os.PathLike[str] = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, **kwargs: Any) -> Any:
    """Draw the model's layers into `to_file` (.png or .svg). Like Keras, returns an IPython Image of it when
    IPython is installed (so a notebook shows it), else None."""
    from ..viz.renderer import render_source

    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    fmt = os.path.splitext(os.fspath(to_file))[1].lstrip(".").lower() or "png"
    if fmt not in ("png", "svg"):
        raise ValueError(f"plot_model: only .png and .svg files can be drawn, got {os.fspath(to_file)!r}")
    dot = model_to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                       show_layer_activations, show_trainable)
    path = render_source(dot, to_file, fmt)
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=path) if fmt == "png" else display.SVG(filename=path)


__all__ = ["model_to_dot", "plot_model"]
