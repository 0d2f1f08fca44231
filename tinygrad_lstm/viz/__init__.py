"""Pictures of computation graphs: tensors, ops, module calls and time steps, values and gradient flow.

    from tinygrad_lstm import viz
    viz.to_dot(loss)                          # DOT text, no binary needed
    viz.draw(loss)                            # a graphviz.Digraph (inline in Jupyter)
    viz.render(loss, "graph.svg")             # through `dot` or the bundled `graphviz-pure`
    with viz.trace_grads() as tr:             # record gradient norms of intermediates during backward
        loss.backward()
    viz.render(loss, "grads.svg", show_grads=tr, collapse=["LSTMCell"])

See docs/graphs.md.
"""

from .dot import MAX_NODES, draw, to_dot
from .grads import GradTrace, last_trace, trace_grads
from .renderer import RendererNotFoundError, configure_graphviz, find_renderer, render, render_source
from .scope import time_step

__all__ = [
    "MAX_NODES", "GradTrace", "RendererNotFoundError", "configure_graphviz", "draw", "find_renderer", "last_trace",
    "render", "render_source", "time_step", "to_dot", "trace_grads",
]
