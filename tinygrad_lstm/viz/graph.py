"""The picture's content, before any styling: which nodes, which edges, which clusters.

A node is a tensor: a leaf (input, parameter, constant) or the result of one op, drawn as one node that names
both (``c_t = Add(...)``), so a picture has about one node per op. `collapse` swaps every call of the named
modules for one box plus the tensors it hands out. Everything is numbered in topological order, so the same
computation always gives the same ids (no `id()` leaks into the output).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..autograd import ScopeEntry
from ..nn.module import Parameter
from ..tensor import Tensor

Scope = tuple[ScopeEntry, ...]


@dataclass
class Node:
    id: str
    kind: str  # input | param | const | op | named | output | box
    tensor: Tensor | None = None  # None for a collapsed module box
    step: str | None = None  # "t=3" when made inside a time step
    box: ScopeEntry | None = None  # the collapsed module call, for boxes
    box_ops: int = 0  # how many ops the box hides
    side_input: bool = False  # an input drawn inside the one time step that reads it, beside its reader
    shared: int = 0  # for one copy of a leaf drawn once per step: how many steps share it


@dataclass
class Edge:
    src: str
    dst: str
    # where its gradient norm comes from: ("edge", node, k, parent) | ("call", parent, call) | ("tensor", t)
    grad_key: tuple = ()


@dataclass
class Cluster:
    path: Scope
    label: list[ScopeEntry] = field(default_factory=list)  # one entry, or several once merged
    nodes: list[str] = field(default_factory=list)
    children: list[Scope] = field(default_factory=list)


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    clusters: dict[Scope, Cluster]  # by path; the root () holds the top level
    tensors: list[Tensor]  # every tensor walked, topological order


def walk(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor the roots depend on (constants included), inputs before outputs; iterative depth-first.

    Not `autograd.toposort`: that one skips inputs that need no gradient, takes one root, and visits an op's
    inputs last first, while node ids here follow the inputs in order (the first input first)."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t._ctx is not None:
            stack.extend((p, False) for p in reversed(t._ctx.parents) if id(p) not in seen)
    return order


def leaf_kind(t: Tensor) -> str:
    if isinstance(t, Parameter):
        return "param"
    if not t.requires_grad and t.name is None and t.data.size == 1:
        return "const"
    return "input"


def _step_of(scope: Scope) -> str | None:
    steps = [e.label for e in scope if e.kind == "step"]
    return steps[-1] if steps else None


def _collapse_at(scope: Scope, collapse: frozenset[str]) -> int | None:
    """Index of the outermost module call in `scope` to collapse (matched by class or dotted name)."""
    for i, e in enumerate(scope):
        if e.kind == "module" and (e.label in collapse or (e.name and e.name in collapse)):
            return i
    return None


SHARE_ABOVE = 3  # a leaf read in more time steps (or module calls) than this is drawn once per step


def _site(scope: Scope) -> Scope | None:
    """Where a shared leaf gets its own copy: the time step (else the module call) an op ran in."""
    for kind in ("step", "module"):
        for i, e in enumerate(scope):
            if e.kind == kind:
                return scope[: i + 1]
    return None


class _Builder:
    """One pass over the tensors in topological order makes the nodes, a second the edges."""

    def __init__(self, roots: Sequence[Tensor], collapse: Iterable[str] | None, show_params: bool) -> None:
        self.tensors = walk(roots)
        self.roots = {id(r) for r in roots}
        self.show_params = show_params
        self.nodes: list[Node] = []
        self.place: dict[str, Scope] = {}  # node id -> cluster path
        self.node_of: dict[int, str] = {}  # id(tensor) -> node id
        self.copy_of: dict[tuple[int, Scope], str] = {}  # (id(leaf), site) -> node id of that copy
        self.box_of: dict[int, Node] = {}  # call id -> its box node
        self.edges: list[Edge] = []
        self._seen: set[tuple[str, str]] = set()
        wanted = frozenset(collapse or ())
        self.dedupe = bool(wanted)
        self.at: dict[int, int] = {}  # id(op result) -> index of its collapsed call in its scope
        if wanted:
            for t in self.tensors:
                if t._ctx is not None and (i := _collapse_at(t._ctx.scope, wanted)) is not None:
                    self.at[id(t)] = i
        self.exported = self._exported()
        self.sites = self._shared_sites()

    def call_of(self, t: Tensor) -> int | None:
        i = self.at.get(id(t))
        return None if i is None else t._ctx.scope[i].call

    def _exported(self) -> set[int]:
        """Collapsed tensors that stay visible: read outside their call, or a root."""
        out = {r for r in self.roots if r in self.at}
        for t in self.tensors:
            if t._ctx is not None:
                c = self.call_of(t)
                out.update(id(p) for p in t._ctx.parents if id(p) in self.at and self.call_of(p) != c)
        return out

    def _shared_sites(self) -> dict[int, list[Scope]]:
        """Leaves read in more than SHARE_ABOVE steps or calls -> those sites, in order of first use. Drawing
        them once per step keeps edges short: one weight read by 50 steps made Graphviz 30x slower."""
        sites: dict[int, dict[Scope | None, None]] = {}
        for t in self.tensors:
            if t._ctx is not None:
                site = _site(t._ctx.scope)
                for p in t._ctx.parents:
                    if p._ctx is None:
                        sites.setdefault(id(p), {})[site] = None
        return {k: list(v) for k, v in sites.items() if len(v) > SHARE_ABOVE and None not in v}

    def add(self, node: Node, path: Scope) -> str:
        self.nodes.append(node)
        self.place[node.id] = path
        return node.id

    def next_id(self) -> str:
        return f"n{len(self.nodes)}"

    def make_nodes(self) -> None:
        for t in self.tensors:
            node = t._ctx
            if node is None:
                kind = leaf_kind(t)
                if self.show_params or kind != "param" or id(t) in self.roots:
                    for site in self.sites.get(id(t), ()):
                        copy = Node(self.next_id(), kind, t, shared=len(self.sites[id(t)]))
                        self.copy_of[(id(t), site)] = self.add(copy, ())
                    if id(t) not in self.sites:
                        self.node_of[id(t)] = self.add(Node(self.next_id(), kind, t), ())
                continue
            scope = node.scope
            kind = "output" if id(t) in self.roots else ("named" if t.name else "op")
            i = self.at.get(id(t))
            if i is None:
                self.node_of[id(t)] = self.add(Node(self.next_id(), kind, t, _step_of(scope)), scope)
                continue
            entry, outer = scope[i], scope[:i]
            box = self.box_of.get(entry.call)
            if box is None:
                box = self.box_of[entry.call] = Node(self.next_id(), "box", None, _step_of(scope[: i + 1]), entry)
                self.add(box, outer)
            box.box_ops += 1
            if id(t) in self.exported:
                out = Node(self.next_id(), kind, t, _step_of(scope))
                self.node_of[id(t)] = self.add(out, outer)

    def link(self, src: str, dst: str, key: tuple) -> None:
        if self.dedupe:  # collapsed: one edge per pair of boxes/tensors
            if (src, dst) in self._seen:
                return
            self._seen.add((src, dst))
        self.edges.append(Edge(src, dst, key))

    def make_edges(self) -> None:
        for t in self.tensors:
            node = t._ctx
            if node is None:
                continue
            c = self.call_of(t)
            if c is not None and id(t) in self.exported:
                self.link(self.box_of[c].id, self.node_of[id(t)], ("tensor", t))
            site = _site(node.scope)
            for k, p in enumerate(node.parents):
                if c is not None and self.call_of(p) == c:
                    continue  # inside one collapsed call
                src = self.copy_of.get((id(p), site)) if id(p) in self.sites else self.node_of.get(id(p))
                if src is None:
                    continue  # a hidden parameter
                if c is None:
                    self.link(src, self.node_of[id(t)], ("edge", node, k, p))
                else:
                    self.link(src, self.box_of[c].id, ("call", p, c))


def build(roots: Sequence[Tensor], group: str | None, collapse: Iterable[str] | None,
          show_params: bool = True) -> Graph:
    b = _Builder(roots, collapse, show_params)
    b.make_nodes()
    b.make_edges()
    if b.dedupe:
        _drop_box_constants(b)
    if group == "module":
        _pull_step_inputs(b.nodes, b.edges, b.place)
    clusters = _clusters(b.nodes, b.place if group == "module" else {})
    return Graph(b.nodes, b.edges, clusters, b.tensors)


def _drop_box_constants(b: _Builder) -> None:
    """A constant that only collapsed calls read (the 1 of a GRU's 1 - z_t) is part of what the box hides."""
    kind = {n.id: n.kind for n in b.nodes}
    feeds: dict[str, set[str]] = {}
    for e in b.edges:
        feeds.setdefault(e.src, set()).add(kind[e.dst])
    drop = {nid for nid, k in kind.items() if k == "const" and feeds.get(nid) == {"box"}}
    if drop:
        b.nodes[:] = [n for n in b.nodes if n.id not in drop]
        b.edges[:] = [e for e in b.edges if e.src not in drop]


def _pull_step_inputs(nodes: list[Node], edges: list[Edge], place: dict[str, Scope]) -> None:
    """Draw an input that only one time step reads (x_t, an initial state), and each copy of a shared leaf,
    inside the innermost cluster holding all its readers."""
    common: dict[str, Scope] = {}
    for e in edges:
        path = place[e.dst]
        have = common.get(e.src)
        if have is not None:
            n = 0
            while n < min(len(have), len(path)) and have[n] == path[n]:
                n += 1
            path = have[:n]
        common[e.src] = path
    for n in nodes:
        path = common.get(n.id, ())
        if (n.kind in ("input", "const") and any(entry.kind == "step" for entry in path)) or (n.shared and path):
            place[n.id] = path
            n.side_input = True


def _clusters(nodes: list[Node], place: dict[str, Scope]) -> dict[Scope, Cluster]:
    """The cluster tree from each node's scope path; a cluster holding nothing but one sub-cluster is merged
    into it (a time step around one cell call becomes one cluster "t=3 · LSTMCell")."""
    clusters: dict[Scope, Cluster] = {(): Cluster(())}
    for n in nodes:
        path = place.get(n.id, ())
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub not in clusters:
                clusters[sub] = Cluster(sub, [sub[-1]])
                clusters[sub[:-1]].children.append(sub)
        clusters[path].nodes.append(n.id)
    # merge from the deepest up, so chains of single children fold into one
    for path in sorted(clusters, key=len, reverse=True):
        c = clusters[path]
        if path and not c.nodes and len(c.children) == 1:
            child = clusters[c.children[0]]
            child.label = c.label + child.label
            parent = clusters[path[:-1]]
            parent.children[parent.children.index(path)] = child.path
            del clusters[path]
    return clusters
