"""Shared by the graph tests: the recorded nodes behind a tensor."""

from __future__ import annotations

from tinygrad_lstm import Tensor


def graph_nodes(root: Tensor) -> list:
    """Every recorded node behind `root`, walking `_ctx.parents` iteratively (deep unrolled graphs)."""
    nodes, seen, todo = [], set(), [root]
    while todo:
        t = todo.pop()
        if id(t) in seen or t._ctx is None:
            continue
        seen.add(id(t))
        nodes.append(t._ctx)
        todo.extend(t._ctx.parents)
    return nodes
