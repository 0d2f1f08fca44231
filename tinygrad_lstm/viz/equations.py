"""The equations view: the recorded graph drawn as a cell's equations, not as its implementation.

Made from the same graph as the op-level view (so it works for any cell, a user's too), in three moves:

* plumbing (Transpose, GetItem, Reshape, Contiguous, Expand, Concat) is see-through: an edge runs from
  the tensor that went in to the op that reads what came out;
* every affine map is folded into one node: a connected run of MatMul / Add / plumbing whose other inputs are
  parameters, such as ``x_t @ W_ihᵀ + h @ W_hhᵀ + b`` sliced to one gate, is drawn as ``W_i·[h_{t-1}, x_t] + b_i``
  (the subscript from the first named tensor it feeds, i_t -> i; the bracket lists the tensors it multiplies);
* what is left is σ / tanh / × / + / − ... nodes, labelled with the name of the tensor they make (f_t, c_t).

The path a state takes without passing through an affine map (c_{t-1} -> × -> + -> c_t in an LSTM, h_{t-1} -> ×
-> + -> h_t in a GRU) is drawn bold and straight, along the top. With gradients, each edge that is one edge of the
real graph carries its gradient norm (an edge into an affine map shared by several gates carries none: that
gradient is the gates' sum, not this gate's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from ..nn.module import Parameter
from ..tensor import Tensor
from . import style
from .graph import Edge, Graph, Node, _clusters, leaf_kind, walk

# Stack is no plumbing here: a layer stacks its steps' outputs, and the next layer (or the loss) reads them all
PLUMBING = frozenset({"Transpose", "GetItem", "Reshape", "Contiguous", "Expand", "Concat", "Cast"})
AFFINE = PLUMBING | {"MatMul", "Add"}
SYMBOLS = {"Sigmoid": "σ", "Tanh": "tanh", "Relu": "ReLU", "Mul": "×", "Add": "+", "Sub": "−", "Neg": "−",
           "Div": "÷", "Exp": "exp", "Log": "log", "Sqrt": "√", "Abs": "|·|", "Maximum": "max", "Minimum": "min",
           "Stack": "stack"}
_PEEPHOLE = re.compile(r"^(?:.*\.)?weight_c([a-z])(?:_l\d+)?(?:_reverse)?$")


def symbol_html(name: str) -> str:
    """A tensor name as math: i_t -> i<sub>t</sub>, h_{t-1} -> h<sub>t-1</sub>, weight_ci -> p<sub>i</sub>."""
    m = _PEEPHOLE.match(name)
    if m:
        name = f"p_{m.group(1)}"
    base, sep, sub = name.partition("_")
    if not sep or not base:
        return escape(name)
    sub = sub[1:-1] if sub.startswith("{") and sub.endswith("}") else sub
    return f'{escape(base)}<sub><font point-size="9">{escape(sub)}</font></sub>'


class _Affine:
    """Which tensors are parameters (a Parameter, or plumbing and sums of parameters only: Wᵀ, b_ih + b_hh) and
    which belong to an affine map (MatMul by a parameter, and Add/plumbing of such products, parameters and
    other members). Computed once, in topological order."""

    def __init__(self, tensors: list[Tensor]) -> None:
        self.param: dict[int, bool] = {}
        self.member: dict[int, bool] = {}
        for t in tensors:  # parents first
            node = t._ctx
            if node is None:
                self.param[id(t)], self.member[id(t)] = isinstance(t, Parameter), False
                continue
            params = [self.param[id(p)] for p in node.parents]
            self.param[id(t)] = node.op in PLUMBING | {"Add"} and all(params)
            if self.param[id(t)] or node.op not in AFFINE:
                self.member[id(t)] = False
            elif node.op == "MatMul":
                self.member[id(t)] = any(params)
            else:
                inner = [p for p, is_p in zip(node.parents, params) if not is_p]
                self.member[id(t)] = all(self.member[id(p)] for p in inner)

    def inputs(self, root: Tensor) -> tuple[list[Tensor], list[Any]]:
        """The tensors a folded map multiplies (first met first) and its MatMul nodes."""
        ins: list[Tensor] = []
        mms: list[Any] = []
        todo, seen = [root], set()
        while todo:
            t = todo.pop()
            if id(t) in seen or t._ctx is None:
                continue
            seen.add(id(t))
            node = t._ctx
            if node.op == "MatMul":
                mms.append(node)
                for p in node.parents:  # [h, x] stacked by hand: the tensors that went into the Concat
                    ins.extend(_spread(p) if not self.param[id(p)] else ())
                continue
            todo.extend(p for p in reversed(node.parents) if self.member[id(p)])
        return ins, mms


def _spread(t: Tensor) -> list[Tensor]:
    """`t`, or the tensors a Concat (through other plumbing) put together into it."""
    u = t
    while u._ctx is not None and u._ctx.op in PLUMBING - {"Concat"}:
        u = u._ctx.parents[0]
    if u._ctx is not None and u._ctx.op == "Concat":
        return list(u._ctx.parents)
    return [t]


class _Builder:
    def __init__(self, roots: Sequence[Tensor]) -> None:
        self.roots = {id(r) for r in roots}
        self.tensors = walk(roots)
        self.affine = _Affine(self.tensors)
        self.children: dict[int, list[Tensor]] = {}
        for t in self.tensors:
            if t._ctx is not None:
                for p in t._ctx.parents:
                    self.children.setdefault(id(p), []).append(t)
        self.nodes: list[Node] = []
        self.labels: dict[str, str] = {}
        self.place: dict[str, tuple] = {}
        self.node_of: dict[int, str] = {}
        self.edges: list[Edge] = []
        self.seen: set[tuple[str, str]] = set()

    def _read_outside(self, t: Tensor) -> bool:
        """Whether an op outside every affine map reads `t` (or `t` is a root)."""
        return id(t) in self.roots or any(not self.affine.member[id(c)] and not self.affine.param[id(c)]
                                          for c in self.children.get(id(t), ()))

    def shown(self, t: Tensor) -> bool:
        """Whether `t` is drawn as a node of its own."""
        node = t._ctx
        if self.affine.param[id(t)]:  # a parameter drawn only where a pointwise op reads it (a peephole)
            return node is None and self._read_outside(t)
        if node is None:
            return leaf_kind(t) != "const"
        if self.affine.member[id(t)]:
            return self._read_outside(t)
        return node.op not in PLUMBING

    def source(self, t: Tensor) -> Tensor | None:
        """The drawn tensor that `t` stands for: itself, or through plumbing the tensor that went in."""
        while not self.shown(t):
            node = t._ctx
            if node is None or node.op not in PLUMBING:
                return None
            t = node.parents[0]
        return t

    def add(self, t: Tensor, kind: str, label: str) -> None:
        nid = f"e{len(self.nodes)}"
        self.nodes.append(Node(nid, kind, t))
        self.labels[nid] = label
        self.place[nid] = t._ctx.scope if t._ctx is not None else ()
        self.node_of[id(t)] = nid

    def link(self, src: Tensor, dst: Tensor, key: tuple) -> None:
        s = self.source(src)
        if s is None or id(s) not in self.node_of:
            return
        pair = (self.node_of[id(s)], self.node_of[id(dst)])
        if pair not in self.seen:
            self.seen.add(pair)
            self.edges.append(Edge(*pair, grad_key=key))

    def gate(self, t: Tensor) -> str:
        """The subscript of a folded map: the letter of the first named tensor downstream (i_t -> i); none for
        a map that makes the state itself (h_t of an RNN)."""
        todo, seen = [t], set()
        while todo:
            u = todo.pop(0)
            if id(u) in seen:
                continue
            seen.add(id(u))
            if u is not t and u.name:
                letter = u.name.split("_")[0]
                return "" if letter in ("h", "c") else letter
            todo.extend(self.children.get(id(u), ()))
        return ""

    def symbol(self, t: Tensor, reader: Tensor) -> str:
        """How `reader`'s equation names its input `t`: h_t made by the step before reads as h_{t-1}."""
        s = self.source(t)
        if s is not None and not s.name and s._ctx is not None and len(s._ctx.parents) == 2 and \
                s._ctx.op in ("Mul", "Add", "Sub"):  # one level of an unnamed product: f_t⊙h_{t-1}
            a, b = (self.source(p) for p in s._ctx.parents)
            if a is not None and b is not None and a.name and b.name:
                op = {"Mul": "⊙", "Add": " + ", "Sub": " − "}[s._ctx.op]
                return self.symbol(a, reader) + op + self.symbol(b, reader)
        if s is not None and not s.name and s._ctx is not None and s._ctx.op == "Stack":
            names = {p.name for p in s._ctx.parents}  # a layer below's outputs: this step reads its own h_t
            if len(names) == 1 and None not in names:
                return symbol_html(names.pop())
        if s is not None and s._ctx is None and not s.name:  # as the op-level view names an unnamed leaf
            return "0" if s.data.size and not s.data.any() else "input"
        if s is None or not s.name:
            return "·"
        if s.name.endswith("_t") and s._ctx is not None and _step(s) != _step(reader):
            return symbol_html(s.name[:-2] + "_{t-1}")
        return symbol_html(s.name)

    def build(self) -> None:
        for t in self.tensors:
            if not self.shown(t):
                continue
            if t._ctx is None:
                self.add(t, "param" if isinstance(t, Parameter) else "input", _leaf_label(t))
            elif self.affine.member[id(t)]:
                self.add(t, "affine", self._affine_label(t))
            else:
                kind = "output" if id(t) in self.roots else ("named" if t.name else "op")
                self.add(t, kind, self._op_label(t))
        for t in self.tensors:
            if id(t) not in self.node_of or t._ctx is None:
                continue
            node = t._ctx
            if self.affine.member[id(t)]:
                ins, mms = self.affine.inputs(t)
                for p in ins:
                    at = [(m, k) for m in mms for k, q in enumerate(m.parents) if q is p]
                    own = len(at) == 1 and self._exclusive(at[0][0], t)
                    self.link(p, t, ("edge", at[0][0], at[0][1], p) if own else ())
                continue
            for k, p in enumerate(node.parents):
                if p._ctx is None and leaf_kind(p) == "const":
                    continue  # written into the op's label: "1 −"
                self.link(p, t, ("edge", node, k, p))

    def _exclusive(self, mm_node: Any, root: Tensor) -> bool:
        """Whether a MatMul feeds this folded map only (not a product that several gates slice)."""
        out = next((t for t in self.tensors if t._ctx is mm_node), None)
        todo, roots, seen = [out], set(), set()
        while todo:
            u = todo.pop()
            if u is None or id(u) in seen:
                continue
            seen.add(id(u))
            if self.shown(u):
                roots.add(id(u))
                continue
            todo.extend(c for c in self.children.get(id(u), ()) if self.affine.member[id(c)])
        return roots == {id(root)}

    def _affine_label(self, t: Tensor) -> str:
        ins, _ = self.affine.inputs(t)
        g = self.gate(t)
        sub = f'<sub><font point-size="9">{escape(g)}</font></sub>' if g else ""
        args = list(dict.fromkeys(self.symbol(p, t) for p in reversed(ins)))  # cells add W x first: [h, x]
        text = f"[{', '.join(args)}]" if len(args) > 1 else "".join(args)
        return f"W{sub}·{text} + b{sub}"

    def _op_label(self, t: Tensor) -> str:
        node = t._ctx
        consts = [p for p in node.parents if p._ctx is None and leaf_kind(p) == "const"]
        sym = escape(SYMBOLS.get(node.op, node.op))
        if consts:
            c = style.fmt_num(float(consts[0].data))
            sym = f"{c} {sym}" if consts[0] is node.parents[0] else f"{sym} {c}"
        name = f'<br/><font point-size="10">{symbol_html(t.name)}</font>' if t.name else ""
        return f"<b>{sym}</b>{name}"


def _leaf_label(t: Tensor) -> str:
    if t.name:
        return f"<b>{symbol_html(t.name)}</b>"
    return "<b>0</b>" if t.data.size and not t.data.any() else "<b>input</b>"


def order_key(t: Tensor) -> tuple[int, ...]:
    """Where a folded map comes in the equations: by the first column it slices from the stacked gates (PyTorch
    stacks them in equation order: i, f, g, o), unsliced ones last."""
    starts, todo, seen = [], [t], set()
    while todo:
        u = todo.pop()
        if id(u) in seen or u._ctx is None:
            continue
        seen.add(id(u))
        if u._ctx.op == "GetItem":
            index = u._ctx.attrs.get("index")
            last = index[-1] if isinstance(index, tuple) and index else index
            if isinstance(last, slice) and last.start is not None:
                starts.append(int(last.start))
        todo.extend(p for p in u._ctx.parents if p._ctx is not None and p._ctx.op in AFFINE)
    return (min(starts),) if starts else (1 << 30,)


def order_lines(g: Graph) -> list[str]:
    """Top-to-bottom order in each cell call: the leaves a state runs from on top (the cell state along the top,
    as in the well-known LSTM diagrams), then the gates' maps in equation order (a flat edge's tail comes first).
    Leaves go with the call that first reads them."""
    carry_src = {g.edges[i].src for i in carry_edges(g)}
    scope = {n.id: (n.tensor._ctx.scope if n.tensor._ctx is not None else None) for n in g.nodes}
    for e in g.edges:  # a leaf: the scope of its first reader
        if scope[e.src] is None:
            scope[e.src] = scope[e.dst]
    groups: dict[Any, tuple[list[str], list[Node]]] = {}
    heading = {n.tensor._ctx.scope: n.id for n in g.nodes if n.kind == "step"}
    for n in g.nodes:
        leaves, maps = groups.setdefault(scope[n.id], ([], []))
        if n.kind == "input":
            leaves.append(n.id)
        elif n.kind == "affine":
            maps.append(n)
    lines = []
    for key, (leaves, maps) in groups.items():
        # the state first, then the others last made first: the cells project x before h, the equations say [h, x]
        leaves = [n for n in leaves if n in carry_src] + [n for n in reversed(leaves) if n not in carry_src]
        top = [heading[key]] if key in heading else []
        for chain in (leaves, top + [n.id for n in sorted(maps, key=lambda n: order_key(n.tensor))]):
            if len(chain) > 1:
                lines.append("{rank=same; " + " ".join(chain) + "}")
                lines.append(" -> ".join(chain) + " [style=invis]")
    return lines


def build(roots: Sequence[Tensor], group: str | None) -> tuple[Graph, dict[str, str]]:
    """The equations graph and each node's HTML label body (kinds: input, param, affine, op, named, output, and
    "step", the heading of a time step).

    No clusters: inside one the bundled renderer (graphviz-pure) does not keep the order of the flat edges that put
    the gates in equation order and the cell state on top. Time steps run left to right by themselves (each reads
    the one before); with `group="module"` each gets a heading "t=k" above its gates instead of a box."""
    b = _Builder(roots)
    b.build()
    steps: dict[Any, Any] = {}
    for n in b.nodes:
        s = _step(n.tensor)
        if s is not None and n.kind == "affine":
            steps.setdefault(s, n)
    if group == "module" and len(steps) > 1:
        for s, first in sorted(steps.items(), key=lambda kv: kv[0].call):
            nid = f"e{len(b.nodes)}"
            b.nodes.append(Node(nid, "step", first.tensor, step=s.label))
            b.labels[nid] = f"<b>{escape(s.label)}</b>"
    return Graph(b.nodes, b.edges, _clusters(b.nodes, {}), b.tensors), b.labels


CARRY_OPS = ("Mul", "Add")


def carry_edges(g: Graph) -> set[int]:
    """Indices of the edges a state runs along without an affine map: from a state (a tensor another step made,
    or an input leaf) through × and + only, into a named tensor of the same letter (c_{t-1} -> × -> + -> c_t).
    Drawn bold and heavy, so Graphviz keeps that path straight."""
    kind = {n.id: n.kind for n in g.nodes}
    tensor = {n.id: n.tensor for n in g.nodes}
    g = Graph([n for n in g.nodes if n.kind != "step"], g.edges, g.clusters, g.tensors)
    step = {n.id: _step(n.tensor) for n in g.nodes}

    def op(nid: str) -> str | None:
        t = tensor[nid]
        return t._ctx.op if t is not None and t._ctx is not None else None

    def letter(nid: str) -> str:
        name = tensor[nid].name or ""
        return name.split("_")[0] if "_" in name else name[:1]

    out_edges: dict[str, list[int]] = {}
    for i, e in enumerate(g.edges):
        out_edges.setdefault(e.src, []).append(i)
    found: set[int] = set()
    for i, e in enumerate(g.edges):
        seed = kind[e.src] == "input" or (step[e.src] != step[e.dst] and kind[e.src] != "affine")
        if not seed or op(e.dst) not in CARRY_OPS or kind[e.src] == "param":
            continue
        want, path, todo = letter(e.src), {i}, [e.dst]
        while todo:  # follow × and + forward to the named tensor the state becomes
            nid = todo.pop()
            if tensor[nid].name and letter(nid) == want:
                found |= path
                break
            nxt = [j for j in out_edges.get(nid, ()) if op(g.edges[j].dst) in CARRY_OPS
                   and step[g.edges[j].dst] == step[e.dst]]
            path |= set(nxt)
            todo.extend(g.edges[j].dst for j in nxt)
        else:
            continue
    return found


def _step(t: Tensor | None) -> Any:
    if t is None or t._ctx is None:
        return None
    steps = [e for e in t._ctx.scope if e.kind == "step"]
    return steps[-1] if steps else None
