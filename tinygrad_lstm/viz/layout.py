"""Where time steps go: time runs left to right (t=0 leftmost), long sequences wrap into rows.

Graphviz ranks nodes along the data flow, so an unrolled graph left to itself is a staircase: each step below
(or right of) the one it reads from, in an order that mincross picks. This module tells it the order instead:

* top to bottom (the op-level view): the edges from one step to the next do not rank (`constraint=false`), so
  every step starts at the top of its own column; an invisible point per step, all on one rank, chained by
  invisible edges and each pointing at the nodes that start its step, puts the columns in time order. (From
  outside the clusters: Graphviz keeps the order of flat edges between clusters only there.)
* left to right (collapsed and gradient-flow views): the steps chain along the ranks by their own edges; every
  `per_row` steps a new row starts below; the edges into it are drawn from a copy of their tail placed at its
  start (a "carriage return" edge across the picture loops around everything), so each row is a separate
  piece, and Graphviz stacks pieces in the order the file names them (dot.py writes them last first).
  Rows are sized so that the picture stays slide-shaped (about 2.5:1 or narrower) at any number of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .graph import Graph, Scope

# a collapsed step's drawn size, width / height (a box and the states it hands on: about two ranks wide)
STEP_SHAPE = 1.2
TARGET_ASPECT = 2.5


@dataclass
class TimeLayout:
    """What `plan` adds to a drawing: the edges that do not rank (by index), and top-level DOT lines: the
    anchors (outside every cluster: Graphviz orders flat edges between clusters only from there), each above
    the first node of its step, on one rank and chained in time order."""

    loose: set[int] = field(default_factory=set)  # indices of edges drawn with constraint=false
    wrapped: set[int] = field(default_factory=set)  # edges into the next row: drawn from a copy of their tail
    chained: set[int] = field(default_factory=set)  # edges from a step to the next along a row
    lines: list[str] = field(default_factory=list)


def step_prefix(path: Scope) -> Scope | None:
    """The scope path up to and including its innermost time step, or None outside every step."""
    for i in range(len(path) - 1, -1, -1):
        if path[i].kind == "step":
            return path[: i + 1]
    return None


def per_row(steps: int) -> int:
    """Steps in a row of a left-to-right view, so that the rows come out about TARGET_ASPECT wide."""
    k = math.ceil(math.sqrt(TARGET_ASPECT * steps / STEP_SHAPE))
    k = max(1, min(steps, k))
    rows = math.ceil(steps / k)
    return math.ceil(steps / rows)  # balanced rows: 10 steps in two rows of 5, not 8 and 2


def _steps(g: Graph) -> dict[Scope, list[Scope]]:
    """Sequences of time steps: parent path -> its step prefixes in time order (reverse directions share t)."""
    groups: dict[Scope, dict[Scope, None]] = {}
    for path in g.clusters:
        s = step_prefix(path)
        if s is not None:
            groups.setdefault(s[:-1], {})[s] = None
    return {p: sorted(v, key=lambda s: s[-1].call) for p, v in groups.items() if len(v) > 1}


def plan(g: Graph, node_path: dict[str, Scope], rankdir: str) -> TimeLayout:
    """The time layout of `g` (whose nodes sit in clusters `node_path`), for `rankdir` TB or LR."""
    out = TimeLayout()
    vertical = rankdir in ("TB", "BT")
    for steps in _steps(g).values():
        k = len(steps) if vertical else per_row(len(steps))
        row_of = {s: i // k for i, s in enumerate(steps)}
        for i, e in enumerate(g.edges):
            a, b = step_prefix(node_path[e.src]), step_prefix(node_path[e.dst])
            if a is None or b is None or a == b or a not in row_of or b not in row_of:
                continue
            if vertical:
                out.loose.add(i)
            elif row_of[a] != row_of[b]:
                out.wrapped.add(i)
            else:
                out.chained.add(i)
        heads = _heads(g, node_path, set(steps))
        if not vertical:  # along a row each step starts right of where the one before ends: no staircase
            tails = _heads(g, node_path, set(steps), reverse=True)
            for j, (a, b) in enumerate(zip(steps, steps[1:])):
                if row_of[a] == row_of[b] and heads.get(b) and tails.get(a):
                    name = f"join{len(out.lines)}_{j}"
                    out.lines.append(f'{name} [shape=point style=invis width=0 height=0 label=""]')
                    out.lines.extend(f"{n} -> {name} [style=invis]" for n in tails[a])
                    out.lines.extend(f"{name} -> {n} [style=invis]" for n in heads[b])
        chain = steps if vertical else []  # rows: see `_in_time_order` in dot.py
        if len(chain) < 2:
            continue
        tails = _heads(g, node_path, set(steps), reverse=True)
        base = len(out.lines)
        for end, pull in (("top", heads), ("foot", tails)):
            names = [f"{end}{base}_{j}" for j in range(len(chain))]
            for name, s in zip(names, chain):
                out.lines.append(f'{name} [shape=point style=invis width=0 height=0 label=""]')
                out.lines.extend((f"{name} -> {n}" if end == "top" else f"{n} -> {name}") + " [style=invis]"
                                 for n in pull.get(s, ()))
            out.lines.append("{rank=same; " + " ".join(names) + "}")
            out.lines.append(" -> ".join(names) + " [style=invis]")
    return out


def _heads(g: Graph, node_path: dict[str, Scope], steps: set[Scope], reverse: bool = False
           ) -> dict[Scope, list[str]]:
    """Per step, the nodes nothing in the same step feeds (or, `reverse`, that feed nothing in it): where its
    anchors pull it (all of them pull harder than one)."""
    fed = {e.src if reverse else e.dst for e in g.edges
           if step_prefix(node_path[e.src]) == step_prefix(node_path[e.dst])}
    out: dict[Scope, list[str]] = {}
    for n in g.nodes:
        s = step_prefix(node_path[n.id])
        if s in steps and n.id not in fed:
            out.setdefault(s, []).append(n.id)
    return out


def node_paths(g: Graph) -> dict[str, Scope]:
    """Node id -> the path of the cluster it is drawn in."""
    return {nid: path for path, c in g.clusters.items() for nid in c.nodes}
