"""`to_dot` and `draw`: the graph of a computation as DOT text / a `graphviz.Digraph` (no binary needed).

The text is a pure function of the computation and the options: nodes are numbered in topological order and
attributes written in a fixed order, so two runs of the same code give byte-identical DOT.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import graphviz

from ..tensor import Tensor
from . import equations, style
from .grads import GradTrace, LeafGrads, last_trace
from .graph import Cluster, Edge, Graph, Node, build
from .layout import TimeLayout, gate_lines, node_paths, plan, step_prefix
from .text import Picture, fit
from .unfuse import unfuse

# Above this many nodes (and with collapse=None) module calls are collapsed. graphviz-pure took ~1.4 s for 2,600
# nodes of an unrolled LSTM in clusters, 8.5 s for 2,500 flat, 20-70 s for 10,000 (docs/graphs.md has the table).
MAX_NODES = 2000
VIEWS = ("ops", "equations")


def _quote(v: Any) -> str:
    if isinstance(v, style.Html):
        return fit(str(v))
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**kw: Any) -> str:
    return "[" + " ".join(f"{k}={_quote(v)}" for k, v in kw.items() if v is not None) + "]"


def _roots(root: Tensor | Sequence[Tensor]) -> list[Tensor]:
    roots = [root] if isinstance(root, Tensor) else list(root)
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError("viz: root must be a Tensor or a non-empty list of Tensors")
    return roots


def _grad_source(show_grads: Any, tensors: list[Tensor]) -> Any:
    if show_grads is False or show_grads is None:
        return None
    if show_grads is True:
        tr = last_trace()
        return tr if tr is not None and tr.covers(tensors) else LeafGrads()
    if isinstance(show_grads, (GradTrace, LeafGrads)):
        return show_grads
    raise TypeError(f"viz: show_grads must be a bool or a GradTrace from trace_grads(), got {show_grads!r}")


def _edge_norm(src: Any, e: Edge) -> float | None:
    kind, *rest = e.grad_key
    if kind == "edge":
        return src.edge_norm(*rest)
    if kind == "call":
        return src.call_input_norm(*rest)
    return src.tensor_norm(*rest)


def _auto_collapse(roots: list[Tensor], g: Graph, group: str | None, max_nodes: int, show_params: bool) -> Graph:
    """Collapse module calls, innermost class first, until the picture has at most `max_nodes` nodes."""
    depth: dict[str, int] = {}
    for t in g.tensors:
        if t._ctx is not None:
            for d, e in enumerate(t._ctx.scope):
                if e.kind == "module":
                    depth[e.label] = max(depth.get(e.label, -1), d)
    n0, best = len(g.nodes), g
    for label in sorted(depth, key=lambda k: (-depth[k], k)):
        cand = build(roots, group, [label], show_params)
        if len(cand.nodes) < len(best.nodes):
            best = cand
        if len(best.nodes) <= max_nodes:
            break
    warnings.warn(
        f"viz: the graph has {n0} nodes (max_nodes={max_nodes}); drawn with module calls collapsed "
        f"({len(best.nodes)} nodes). Pass collapse=[...] to choose, collapse=[] to draw everything, "
        "or a larger max_nodes.", stacklevel=4)
    return best


def _leaf_title(t: Tensor, kind: str) -> str:
    if t.name:
        return t.name
    if kind == "const":
        return style.summary(t.data)
    return "zeros" if t.data.size and not t.data.any() else "input"


def _node_line(n: Node, values: bool, grads: Any, no_clusters: bool) -> str:
    fill, border, shape, st, _ = style.KINDS[n.kind]
    if n.kind == "box":  # a box names its time step itself only when no cluster does
        label = style.box_label(n.box, n.step if no_clusters else None, n.box_ops)
        return f"{n.id} {_attrs(label=label, shape=shape, style=st, fillcolor=fill, color=border)}"
    t = n.tensor
    node = t._ctx
    if node is None:
        title = _leaf_title(t, n.kind)
        op, args = None, ""
    else:
        title = t.name or node.op
        op, args = node.op, style.op_args(node.op, node.attrs)
    grad = None
    if grads is not None and t.requires_grad:
        norm = grads.tensor_norm(t)
        grad = "‖grad‖ " + (style.fmt_num(norm) if norm is not None else "not recorded")
    label = style.tensor_label(
        title, n.step if t.name else None, op, args, t.data.shape, str(t.data.dtype),
        style.summary(t.data) if values and n.kind != "const" else None, grad, named_op=bool(t.name),
        note=f"shared ×{n.shared}" if n.shared else None)
    tip = " › ".join([e.label + (f" {e.name}" if e.name else "") for e in (node.scope if node else ())]
                     + [(t.name + " = " if t.name and op else (t.name or "")) + (op or "")])
    return f"{n.id} {_attrs(label=label, shape=shape, style=st, fillcolor=fill, color=border, tooltip=tip)}"


def _edge_line(e: Edge, grads: Any, scale: style.GradScale | None, norm: float | None, side: bool,
               loose: bool, gap: bool = False, more: dict[str, Any] | None = None) -> str:
    # a step's own input sits beside its reader (same rank), so unrolled steps line up instead of climbing;
    # a loose edge (one step to the next, see layout.py) does not rank its ends; a gap leaves a rank free
    # between two steps for the next one's other inputs (else its cluster overlaps and steps climb)
    minlen = 0 if side else (2 if gap else None)
    constraint = "false" if loose else None
    more = more or {}
    if grads is None:
        plain = _attrs(minlen=minlen, constraint=constraint, **more)
        return f"{e.src} -> {e.dst}" + (f" {plain}" if plain != "[]" else "")
    if norm is None:
        if not e.grad_key:  # an edge that is no single edge of the graph (into a map several gates share)
            more = {"tooltip": "gradient not drawn: the product is shared by several gates", **more}
            return f"{e.src} -> {e.dst} {_attrs(color=style.NO_GRAD_COLOUR, minlen=minlen, constraint=constraint, **more)}"  # noqa: E501
        return (f"{e.src} -> {e.dst} "
                f"{_attrs(color=style.NO_GRAD_COLOUR, style='dashed', minlen=minlen, constraint=constraint, **more)}")
    tip = "‖grad‖ " + style.fmt_num(norm)
    more = dict(more)
    width = more.pop("penwidth", scale.width(norm))
    attrs = _attrs(color=scale.colour(norm), penwidth=width, minlen=minlen, constraint=constraint, tooltip=tip,
                   **more)
    return f"{e.src} -> {e.dst} {attrs}"


def _cluster_lines(g: Graph, lines_of: dict[str, str], extra: dict[tuple, list[str]], backwards: bool) -> list[str]:
    """The body: nested `subgraph cluster_k` blocks, written with an explicit stack (no recursion)."""
    body: list[str] = []
    number: dict[tuple, int] = {}
    stack: list[tuple[Cluster | None, int]] = [(g.clusters[()], 0)]
    while stack:
        c, depth = stack.pop()
        if c is None:  # closes a cluster
            body.append("\t" * depth + "}")
            continue
        ind = "\t" * (depth + 1)
        if c.path:
            k = number.setdefault(c.path, len(number))
            fill, border = style.cluster_colours(c.label, depth - 1)
            body.append("\t" * depth + f"subgraph cluster_{k} {{")
            body.append(f"{ind}graph {_attrs(label=style.cluster_label(c.label), style='rounded,filled', fillcolor=fill, color=border, labeljust='l', fontsize=12)}")  # noqa: E501
        body.extend(ind + lines_of[nid] for nid in c.nodes)
        body.extend(ind + line for line in extra.get(c.path, ()))
        if c.path:
            stack.append((None, depth))
        stack.extend((g.clusters[p], depth + 1) for p in reversed(_in_time_order(c.children, backwards)))
    return body


def _in_time_order(paths: list[tuple], backwards: bool) -> list[tuple]:
    """Sibling clusters with the time steps among them sorted by t (Graphviz's first order is the file's), or
    last first: rows of a left-to-right view are separate pieces, stacked upwards in the order they are met."""
    steps = sorted((p for p in paths if step_prefix(p) is not None), key=lambda p: step_prefix(p)[-1].call,
                   reverse=backwards)
    it = iter(steps)
    return [next(it) if step_prefix(p) is not None else p for p in paths]


def _digraph(root: Tensor | Sequence[Tensor], show_values: bool, show_grads: Any, group: str | None,
             collapse: Iterable[str] | None, rankdir: str | None, max_nodes: int | None, show_params: bool,
             view: str = "ops") -> graphviz.Digraph:
    if view not in VIEWS:
        raise ValueError(f"viz: view must be one of {', '.join(map(repr, VIEWS))}, got {view!r}")
    rankdir = rankdir or ("LR" if view == "equations" else "TB")
    if group not in ("module", None):
        raise ValueError(f"viz: group must be 'module' or None, got {group!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"viz: rankdir must be one of TB, LR, BT, RL, got {rankdir!r}")
    if isinstance(collapse, str):
        collapse = [collapse]
    # the picture is made from a display copy of the graph in which every fused op (jit.Fused: a recurrent
    # layer's replayed steps) is expanded into the ops it fuses, so it looks as if fusion were off
    shown = unfuse(_roots(root))
    roots = shown.roots
    if view == "equations":
        g, labels = equations.build(roots, group)
    else:
        g = build(roots, group, collapse, show_params)
        if collapse is None and max_nodes is not None and len(g.nodes) > max_nodes:
            g = _auto_collapse(roots, g, group, max_nodes, show_params)
    grads = _grad_source(show_grads, [shown.original(t) for t in g.tensors])
    if grads is not None:
        grads = shown.grads(grads)
    norms = [_edge_norm(grads, e) if grads is not None and e.grad_key else None for e in g.edges]
    scale = style.GradScale([n for n in norms if n is not None]) if grads is not None else None

    if view == "equations":
        lines_of = {n.id: _equation_node(n, labels[n.id]) for n in g.nodes}
        carry = equations.carry_edges(g)
        more = [{"weight": 8, "penwidth": 2.4, **({"label": style.fmt_num(n)} if n is not None else {})}
                if i in carry else ({"label": style.fmt_num(n)} if n is not None else None)
                for i, n in enumerate(norms)]
    else:
        lines_of = {n.id: _node_line(n, show_values, grads, group is None) for n in g.nodes}
        more = [None] * len(g.edges)
    paths = node_paths(g)
    layout = plan(g, paths, rankdir) if group == "module" else TimeLayout()
    edges = list(g.edges)
    gates = gate_lines(g) if view == "ops" else {}  # cluster -> lines that order a cell's gates
    extra = {path: list(lines) for path, lines in gates.items()}
    for i in sorted(layout.wrapped):  # an edge into the next row starts from a copy of its tail, at the row start
        e = edges[i]
        copy = f"{e.src}_{e.dst}"
        line = lines_of[e.src].replace('style="', 'style="dashed,', 1)
        extra.setdefault(paths[e.dst], []).append(copy + line[len(e.src):])
        edges[i] = Edge(copy, e.dst, e.grad_key)
    body = _cluster_lines(g, lines_of, extra, backwards=bool(layout.wrapped) and rankdir in ("LR", "RL"))
    side, beside = {n.id for n in g.nodes if n.side_input}, set()
    crowded = {d for d, k in Counter(e.dst for e in edges if e.src in side).items() if k > 1}
    for i, (e, n) in enumerate(zip(edges, norms)):  # one side input per reader sits beside it, more would curl
        flat = e.src in side and e.dst not in beside
        if flat:
            beside.add(e.dst)
        gap = i in layout.chained and e.dst in crowded
        if i in layout.chained:  # the state from one step to the next: heavy, so a row runs straight
            more[i] = {"weight": 10, **(more[i] or {})}
        if i in layout.spine:  # heavier than a cluster pulls its sides in (layout._spine)
            more[i] = {**(more[i] or {}), "weight": 200}
        body.append("\t" + _edge_line(e, grads, scale, n, flat, i in layout.loose, gap, more[i]))
    body.extend("\t" + line for line in layout.lines)
    if view == "equations":
        body.extend("\t" + line for line in equations.order_lines(g))
    present = {n.kind for n in g.nodes}
    kinds = [k for k in style.KINDS if k in present]
    # the legend is the graph's own label, outside the layout: as a node it would widen a whole rank
    legend = style.legend_label(kinds, scale, params_hidden=not show_params and view == "ops")
    body.insert(0, "\t" + f"graph {_attrs(label=legend, labelloc='t', labeljust='l', fontsize=11)}")
    return Picture(
        "tinygrad_lstm",
        graph_attr={"rankdir": rankdir, "fontname": style.FONT, "bgcolor": "white", "nodesep": "0.25",
                    "ranksep": "0.35", "newrank": "true",
                    # the flat edges that order a cell's gates hold inside clusters; dot's second crossing
                    # minimisation over the whole graph does not see them (layout.gate_lines)
                    **({"remincross": "false"} if gates else {})},
        node_attr={"fontname": style.FONT, "fontsize": "11", "penwidth": "1.2", "margin": "0.08,0.04"},
        edge_attr={"color": style.EDGE_COLOUR, "arrowsize": "0.6", "fontname": style.FONT, "fontsize": "9"},
        body=[line + "\n" for line in body],
    )


def _equation_node(n: Node, label: str) -> str:
    """A node of the equations view: pointwise ops as circles, affine maps as boxes, inputs as ellipses."""
    if n.kind == "step":  # the heading of a time step
        return f"{n.id} {_attrs(label=style.Html('<' + label + '>'), shape='plaintext', fontcolor='#0369a1')}"
    fill, border, shape, st, _ = style.KINDS[n.kind]
    if n.kind in ("op", "named", "output"):
        shape, st = "circle", "filled" + (",bold" if n.kind == "output" else "")
    return f"{n.id} {_attrs(label=style.Html('<' + label + '>'), shape=shape, style=st, fillcolor=fill, color=border, margin='0.04')}"  # noqa: E501


def to_dot(root: Tensor | Sequence[Tensor], *, show_values: bool = False, show_grads: Any = False,
           group: str | None = "module", collapse: Iterable[str] | None = None, rankdir: str | None = None,
           max_nodes: int | None = MAX_NODES, show_params: bool = True, view: str = "ops") -> str:
    """The DOT source of the graph that computed `root` (a tensor or a list of tensors).

    show_values   a summary of each tensor's value (small arrays in full, else mean/min/max)
    show_grads    gradient norms on nodes and, shaded, on edges: a `GradTrace` from `trace_grads()`, or True
                  (the most recent trace if it saw this graph, else the `.grad` that leaves kept)
    group         "module": one cluster per module call and time step; None: flat
    collapse      module class names (or dotted names) to draw as one box per call, e.g. ["LSTMCell"];
                  None collapses automatically above `max_nodes` nodes (with a warning), [] never
    rankdir       "TB" (top to bottom) or "LR" (left to right); default TB, LR for the equations view
    max_nodes     the size above which collapse=None collapses module calls
    show_params   False leaves out parameters and their edges (a lighter picture of the data flow)
    view          "ops": every op, as autograd records it (the default); "equations": the cell's equations,
                  made from the same graph: plumbing hidden, each gate's affine map one node
                  (W_i·[h_{t-1}, x_t] + b_i), σ / tanh / × / + nodes named by their tensors (gradient norms
                  written on the edges); show_values, collapse and show_params apply to "ops" only
    """
    return _digraph(root, show_values, show_grads, group, collapse, rankdir, max_nodes, show_params, view).source


def draw(root: Tensor | Sequence[Tensor], *, show_values: bool = False, show_grads: Any = False,
         group: str | None = "module", collapse: Iterable[str] | None = None, rankdir: str | None = None,
         max_nodes: int | None = MAX_NODES, show_params: bool = True, view: str = "ops") -> graphviz.Digraph:
    """`to_dot`'s graph as a `graphviz.Digraph` (shows inline in Jupyter; `.render()`/`.pipe()` use the
    renderer `render` finds: `dot`, else `graphviz-pure`). It renders quietly: the renderer's warnings about
    character widths, which text.py makes up for, never reach stderr (an error is still raised with them)."""
    from .renderer import configure_graphviz

    configure_graphviz()
    return _digraph(root, show_values, show_grads, group, collapse, rankdir, max_nodes, show_params, view)
