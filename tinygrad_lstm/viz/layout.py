"""Where time steps go: time runs left to right (t=0 leftmost), long sequences wrap into rows.

Graphviz ranks nodes along the data flow, so an unrolled graph left to itself is a staircase: each step below
(or right of) the one it reads from, in an order that mincross picks. This module tells it the order instead:

* top to bottom (the op-level view): the edges from one step to the next do not rank (`constraint=false`), so
  every step starts at the top of its own column; an invisible point per step, all on one rank, chained by
  invisible edges and each pointing at the nodes that start its step, puts the columns in time order. (From
  outside the clusters: Graphviz keeps the order of flat edges between clusters only there.) Long sequences
  wrap: each row of `per_row` columns has its own chains, hung below the row before by one invisible edge (a
  row that is its own piece came out right to left), and the edges into a row start from copies, as below.
* left to right (collapsed and gradient-flow views): the steps chain along the ranks by their own edges; every
  `per_row` steps a new row starts below; the edges into it are drawn from a copy of their tail placed at its
  start (a "carriage return" edge across the picture loops around everything), so each row is a separate
  piece, and Graphviz stacks pieces in the order the file names them (dot.py writes them last first).
  Rows are sized so that the picture stays slide-shaped (about 2.5:1 or narrower) at any number of steps.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .graph import Graph, Scope

# a collapsed step's drawn size, width / height (a box and the states it hands on: about two ranks wide)
STEP_SHAPE = 1.2
# an op-level step drawn top to bottom, width / height: measured 0.94 (LSTM), 1.07 (GRU), 1.38 (peephole),
# 1.47 (RNN); the wide ones decide (at 0.8, 50 RNN steps came out 4.8:1)
COLUMN_SHAPE = 1.2
TARGET_ASPECT = 2.5


@dataclass
class TimeLayout:
    """What `plan` adds to a drawing: the edges that do not rank (by index), and top-level DOT lines: the
    anchors (outside every cluster: Graphviz orders flat edges between clusters only from there), each above
    the first node of its step, on one rank and chained in time order."""

    loose: set[int] = field(default_factory=set)  # indices of edges drawn with constraint=false
    wrapped: set[int] = field(default_factory=set)  # edges into the next row: drawn from a copy of their tail
    chained: set[int] = field(default_factory=set)  # edges from a step to the next along a row
    row_of: dict[Scope, int] = field(default_factory=dict)  # step prefix -> its row
    lines: list[str] = field(default_factory=list)


def step_prefix(path: Scope) -> Scope | None:
    """The scope path up to and including its innermost time step, or None outside every step."""
    for i in range(len(path) - 1, -1, -1):
        if path[i].kind == "step":
            return path[: i + 1]
    return None


def per_row(steps: int, shape: float = STEP_SHAPE) -> int:
    """Steps in a row, each drawn `shape` (width / height), so that the rows come out about TARGET_ASPECT wide."""
    k = math.ceil(math.sqrt(TARGET_ASPECT * steps / shape))
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
        k = per_row(len(steps), COLUMN_SHAPE if vertical else STEP_SHAPE)
        row_of = {s: i // k for i, s in enumerate(steps)}
        out.row_of.update(row_of)
        for i, e in enumerate(g.edges):
            a, b = step_prefix(node_path[e.src]), step_prefix(node_path[e.dst])
            if a is None or b is None or a == b or a not in row_of or b not in row_of:
                continue
            if row_of[a] != row_of[b]:
                out.wrapped.add(i)
            elif vertical:
                out.loose.add(i)
            else:
                out.chained.add(i)
        heads = _heads(g, node_path, set(steps))
        tails = _heads(g, node_path, set(steps), reverse=True)
        if vertical:
            _columns(out, steps, row_of, heads, tails)
            out.lines.extend(_stacked_lanes(g, node_path, steps))
            continue
        for j, (a, b) in enumerate(zip(steps, steps[1:])):  # along a row each step starts right of where the
            if row_of[a] == row_of[b] and heads.get(b) and tails.get(a):  # one before ends: no staircase
                name = f"join{len(out.lines)}_{j}"
                out.lines.append(f'{name} [shape=point style=invis width=0 height=0 label=""]')
                out.lines.extend(f"{n} -> {name} [style=invis]" for n in tails[a])
                out.lines.extend(f"{name} -> {n} [style=invis]" for n in heads[b])
    return out


def _columns(out: TimeLayout, steps: list[Scope], row_of: dict[Scope, int], heads: dict[Scope, list[str]],
             tails: dict[Scope, list[str]]) -> None:
    """Top to bottom: per row, a chain of points above the steps' heads and one below their tails, in time
    order; each row's top chain hangs below the row before's foot chain (rows read top to bottom)."""
    rows: dict[int, list[Scope]] = {}
    for s in steps:
        rows.setdefault(row_of[s], []).append(s)
    last_foot = None
    for chain in rows.values():
        base = len(out.lines)
        ends = {}
        for end, pull in (("top", heads), ("foot", tails)):
            names = ends[end] = [f"{end}{base}_{j}" for j in range(len(chain))]
            for name, s in zip(names, chain):
                out.lines.append(f'{name} [shape=point style=invis width=0 height=0 label=""]')
                out.lines.extend((f"{name} -> {n}" if end == "top" else f"{n} -> {name}") + " [style=invis]"
                                 for n in pull.get(s, ()))
            out.lines.append("{rank=same; " + " ".join(names) + "}")
            if len(names) > 1:
                out.lines.append(" -> ".join(names) + " [style=invis]")
        if last_foot is not None:
            out.lines.append(f"{last_foot} -> {ends['top'][0]} [style=invis]")
        last_foot = ends["foot"][0]


def _stacked_lanes(g: Graph, node_path: dict[str, Scope], steps: list[Scope]) -> list[str]:
    """Invisible edges that put the cell calls inside one step below each other in call order (nn.LSTM's
    layers and directions: cell_l0, cell_l0_reverse, cell_l1, ...), so each reads as its own row of steps:
    from the nodes that end one call to the nodes that start the next."""
    calls: dict[Scope, dict[Scope, list[str]]] = {}
    for n in g.nodes:
        path = node_path[n.id]
        s = step_prefix(path)
        if s in steps and len(path) > len(s) and path[len(s)].kind == "module":
            calls.setdefault(s, {}).setdefault(path[: len(s) + 1], []).append(n.id)
    lines = []
    for lanes in calls.values():
        if len(lanes) < 2:
            continue
        order = sorted(lanes, key=lambda p: p[-1].call)
        for a, b in zip(order, order[1:]):
            ins, outs = set(lanes[a]), set(lanes[b])
            ends = [n for n in lanes[a] if not any(e.src == n and e.dst in ins for e in g.edges)]
            starts = [n for n in lanes[b] if not any(e.dst == n and e.src in outs for e in g.edges)]
            lines.extend(f"{x} -> {y} [style=invis]" for x in ends[:1] for y in starts)
    return lines


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


def slice_start(index: object) -> int | None:
    """Where a GetItem's index starts along its last sliced axis (`[:, 4:8]` -> 4), None if it does not slice."""
    items = index if isinstance(index, tuple) else (index,)
    for item in reversed(items):
        if isinstance(item, slice):
            return int(item.start or 0)
        if item is not None and item is not Ellipsis:
            return None
    return None


def gate_lines(g: Graph, row_of: dict[Scope, int] | None = None) -> list[str]:
    """Top-level DOT lines that draw sibling slices of one tensor left to right by where they start, and the
    gates they feed (the first named tensor below each) in the same order: a cell's gates cut from one stacked
    product come out in equation order (PyTorch stacks them so: i, f, g, o; r, z, n).

    Left alone, mincross puts them where the edges below cross least (o, i, g, f for the LSTM: i and g feed one
    product). In the bundled renderer (graphviz-pure) neither the order nodes and edges are written in,
    `ordering=out`, nor `rank=same` with chained flat edges inside a cluster holds against that (measured:
    o,i,g,f / g,i,f,o). What holds is the device of `plan`'s time-step anchors: invisible points outside every
    cluster, on one rank, chained in order, each pointing at one slice; and two more such chains for the gates,
    one above and one below them (with either alone the GRU's n_t or the peephole's f_t slips). The points cost
    width beside each cluster (a 3-step unrolled LSTM: 1235 -> 1575 pt)."""
    parent = {e.dst: e.src for e in g.edges}
    groups: dict[str, list[tuple[int, str]]] = {}
    for n in g.nodes:
        node = n.tensor._ctx if n.tensor is not None else None
        if node is None or node.op != "GetItem" or n.id not in parent:
            continue
        start = slice_start(node.attrs.get("index"))
        if start is not None:
            groups.setdefault(parent[n.id], []).append((start, n.id))
    chains = [[nid for _, nid in sorted(v)] for v in groups.values() if len(v) > 1]
    below = _named_below(g)
    by_gates: dict[tuple, list[list[str]]] = {}  # slices of several products feeding the same gates (GRU) interleave
    for k, chain in enumerate(chains):
        key = tuple(below.get(s) for s in chain)
        by_gates.setdefault(key if None not in key else (k,), []).append(chain)
    merged = [[s for col in zip(*cs) for s in col] for cs in by_gates.values()]
    gates = {k: None for k in by_gates if len(k) > 1 and None not in k and len(set(k)) == len(k)}
    # the gates are held from above and from below: either alone lets one slip (GRU's n_t, peephole's f_t)
    todo = [(c, True) for c in merged] + [(list(c), up) for up in (True, False) for c in gates]
    # one chain per role through all the steps of a sequence's row, in time order: separate chains let mincross
    # turn the step columns round (5 GRU steps came out t=4 ... t=0)
    paths = node_paths(g)
    rows: dict[tuple, list[tuple[int, list[str]]]] = {}
    count: dict[tuple, int] = {}
    for i, (chain, up) in enumerate(todo):
        kind, step = (up, i < len(merged)), step_prefix(paths[chain[0]])
        k = count[(kind, step)] = count.get((kind, step), -1) + 1  # the k-th chain of its kind in its step
        key = (kind, step[:-1], (row_of or {}).get(step, 0), k) if step else (kind, i)
        rows.setdefault(key, []).append((step[-1].call if step else 0, chain))
    lines: list[str] = []
    for r, (key, members) in enumerate(rows.items()):
        up = key[0][0]
        names = []
        for _, chain in sorted(members, key=lambda m: m[0]):
            for nid in chain:
                name = f"gate{r}_{len(names)}"
                names.append(name)
                lines.append(f'{name} [shape=point style=invis width=0 height=0 label=""]')
                lines.append((f"{name} -> {nid}" if up else f"{nid} -> {name}") + " [style=invis]")
        lines.append("{rank=same; " + " ".join(names) + "}")
        lines.append(" -> ".join(names) + " [style=invis]")
    return lines


def _named_below(g: Graph) -> dict[str, str]:
    """Node -> the first named tensor below it (breadth first, within its cluster): the gate a slice feeds."""
    children: dict[str, list[str]] = {}
    for e in g.edges:
        children.setdefault(e.src, []).append(e.dst)
    paths, named = node_paths(g), {n.id for n in g.nodes if n.tensor is not None and n.tensor.name}
    out: dict[str, str] = {}
    for n in g.nodes:
        if n.tensor is None or n.tensor._ctx is None or n.tensor._ctx.op != "GetItem":
            continue
        todo, seen = deque([n.id]), {n.id}
        while todo:
            u = todo.popleft()
            if u in named:
                out[n.id] = u
                break
            for c in children.get(u, ()):
                if c not in seen and paths.get(c) == paths.get(n.id):
                    seen.add(c)
                    todo.append(c)
    return out
