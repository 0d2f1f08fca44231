"""Where time steps go: time runs left to right (t=0 leftmost), long sequences wrap into rows.

Graphviz ranks nodes along the data flow, so an unrolled graph left to itself is a staircase: each step below
(or right of) the one it reads from, in an order that mincross picks. This module tells it the order instead:

* top to bottom (the op-level view): the edges from one step to the next do not rank (`constraint=false`), so
  every step starts at the top of its own column; an invisible point per step, all on one rank, chained by
  invisible edges and each pointing at the nodes that start its step, puts the columns in time order. (From
  outside the clusters: Graphviz keeps the order of flat edges between clusters only there.) Long sequences
  wrap: each row of `per_row` columns has its own chains, hung below the row before by one invisible edge (a
  row that is its own piece came out right to left), and the edges into a row start from copies, as below.
* left to right (collapsed and gradient-flow views): the steps chain along the ranks by their own edges, the
  edges from each box to the state it hands on and into the next box drawn heavy so a row runs level; every
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

# a collapsed step's drawn size, width / height (a box and the states it hands on: about two ranks wide), as
# placed in its row: measured 1.7 (LSTM, 266 x 156 pt with gradient norms) to 2.0 (RNN). It read 1.2 while each
# row drifted downhill (see _spine), which made the rows taller: straight, 10 steps in rows of 5 came out 4.4:1
STEP_SHAPE = 1.7
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
    spine: set[int] = field(default_factory=set)  # box -> state -> next box along a row: drawn straight
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
        spine, held = _spine(g, node_path, steps, row_of)
        out.spine.update(spine)
        for j, (a, b) in enumerate(zip(steps, steps[1:])):  # along a row each step starts right of where the
            # one before ends (no staircase): the spine sees to that where it runs; elsewhere an invisible point
            # after the one step's ends and before the other's starts (a rank of its own between the columns)
            if row_of[a] == row_of[b] and heads.get(b) and tails.get(a) and b not in held:
                name = f"join{len(out.lines)}_{j}"
                out.lines.append(f'{name} [shape=point style=invis width=0 height=0 label=""]')
                out.lines.extend(f"{n} -> {name} [style=invis]" for n in tails[a])
                out.lines.extend(f"{name} -> {n} [style=invis]" for n in heads[b])
    return out


def _spine(g: Graph, node_path: dict[str, Scope], steps: list[Scope], row_of: dict[Scope, int]
           ) -> tuple[set[int], set[Scope]]:
    """Left to right with collapsed calls: the edges from each step's box to the state it hands on along the
    row (h_t: the first the next box reads; in a row's last step the output of the same name) and from there
    into the next box, and the steps whose box such an edge reaches. Drawn heavy they run straight, so every
    box of a row sits at one height. Left at the weight of a step-to-step edge, each step's cluster, drawing
    its sides in harder, pulled its taller h_t a few points off its box, and the next box followed: 10 steps
    drifted 20-30 pt, 50 steps 77."""
    box: dict[Scope, list[str]] = {}
    for n in g.nodes:
        if n.kind == "box" and step_prefix(node_path[n.id]) in row_of:
            box.setdefault(step_prefix(node_path[n.id]), []).append(n.id)
    index = {(e.src, e.dst): i for i, e in enumerate(g.edges)}
    name = {n.id: n.tensor.name for n in g.nodes if n.tensor is not None}
    out, held, state = set(), set(), None
    for a, b in zip(steps, steps[1:] + [None]):
        if len(box.get(a, ())) != 1:
            continue
        outputs = [e.dst for e in g.edges if e.src == box[a][0]]
        if b is not None and row_of[a] == row_of[b] and len(box.get(b, ())) == 1:
            carry = next((e.src for e in g.edges if e.dst == box[b][0] and e.src in outputs), None)
            if carry is not None:
                out.add(index[(carry, box[b][0])])
                held.add(b)
        else:  # the last of its row
            carry = next((n for n in outputs if state is not None and name.get(n) == state), None)
        if carry is not None:
            out.add(index[(box[a][0], carry)])
            state = name.get(carry)
    return out, held


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


def gate_lines(g: Graph) -> dict[Scope, list[str]]:
    """DOT lines, by the cluster they go in, that draw sibling slices of one tensor left to right by where they
    start, and the gates they feed (the first named tensor below each) in the same order: a cell's gates cut from
    one stacked product come out in equation order (PyTorch stacks them so: i, f, g, o; r, z, n).

    Left alone, mincross puts them where the edges below cross least (o, i, g, f for the LSTM: i and g feed one
    product). Each chain is a `rank=same` subgraph of invisible flat edges inside the cell's own cluster: while
    dot orders a cluster's nodes, a flat edge's tail stays left of its head (mincross.c, `left2right`). Only the
    second crossing minimisation over the whole graph that dot runs when there are clusters ignores them (it
    swapped i and f in the reverse rows of a bidirectional nn.LSTM), so the picture turns it off (`remincross=false`,
    dot.py). Gates that depend on another gate of the cell (the GRU's n_t on r_t, the peephole's o_t on c_t) sit
    on a lower rank and stay out of the flat chain (a same-rank constraint would draw their inputs' edges
    upwards); an invisible point at the chain's right end, pointing at them, draws them on the right."""
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
    paths, lines, parents = node_paths(g), {}, {}
    for e in g.edges:
        parents.setdefault(e.dst, []).append(e.src)
    for key, cs in by_gates.items():
        chain = [s for col in zip(*cs) for s in col]
        if len({paths[s] for s in chain}) == 1:  # a rank=same subgraph holds nodes of one cluster only
            lines.setdefault(paths[chain[0]], []).extend(_flat_chain(chain))
        gates = list(key)
        if len(gates) < 2 or None in gates or len(set(gates)) < len(gates) or len({paths[n] for n in gates}) > 1:
            continue
        later = _depends_on_another(parents, paths, gates)
        out = lines.setdefault(paths[gates[0]], [])
        first = [n for n in gates if n not in later]
        if later:  # pulled hard: at weight 1 n_t or o_t came out left of a gate in 21 of 160 layouts tried
            end = f"{first[-1]}_later"
            out.append(f'{end} [shape=point style=invis width=0 height=0 label=""]')
            out.extend(f"{end} -> {n} [style=invis weight=10]" for n in gates if n in later)
            first.append(end)
        out.extend(_flat_chain(first))
    return lines


def _flat_chain(names: list[str]) -> list[str]:
    """One rank, left to right in the order given: invisible flat edges in a rank=same subgraph."""
    return ["{rank=same; " + " -> ".join(names) + " [style=invis]}"] if len(names) > 1 else []


def _depends_on_another(parents: dict[str, list[str]], paths: dict[str, Scope], gates: list[str]) -> set[str]:
    """The gates computed from another of `gates`: walked back along the edges (no recursion), within their
    cluster (one cell call: earlier steps' gates do not count)."""
    others, out, home = set(gates), set(), paths[gates[0]]
    for gate in gates:
        todo, seen = list(parents.get(gate, ())), set()
        while todo:
            u = todo.pop()
            if u in others:
                out.add(gate)
                break
            if u not in seen and paths.get(u) == home:
                seen.add(u)
                todo.extend(parents.get(u, ()))
    return out


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
