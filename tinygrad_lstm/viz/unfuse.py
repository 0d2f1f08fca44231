"""Fused ops drawn as the ops they fuse: the display copy of a graph that the pictures are made from.

A recurrent layer replays its steps t >= 1 as one `jit.Fused` op computing every elementwise op of the step,
followed (for an LSTM) by GetItems taking h_t and c_t out of its stacked output. A picture for teaching should show
i_t, f_t, … at every step, as the eager ops make them. `unfuse(roots)` builds a copy of the graph for display:

  * each Fused op (with the GetItems reading its stacked output) is replaced by its ops, run again eagerly with
    `group.expand` on the Fused op's inputs (their `.data`, so it works after backward freed the saved values),
    under the Fused op's scope: they land in the same module call and time step, with the same names;
  * every tensor downstream of a replaced one is a shallow copy whose node is a shallow copy pointing at the
    copied inputs. Nothing of the real graph is changed: it still runs backward, with the same gradients.

Gradient norms (`View.grads`): lookups of a copied tensor or node go to the original. The fused ops' own
gradients were never computed (the Fused op's backward is one kernel), so for each Fused op the trace's whole
gradient of its output is pushed back through another expansion of its ops, on detached copies of its inputs (no
real `.grad` is touched), and the norms recorded there answer for the expanded tensors and edges.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import autograd
from ..autograd import Function
from ..jit.fused import Fused
from ..jit.sequence import Recurrence
from ..ops.movement import GetItem
from ..tensor import Tensor, stack
from .grads import GradTrace
from .graph import leaf_kind, walk


@contextmanager
def _recording(scope: tuple) -> Iterator[list]:
    """Ops run inside are recorded as graph nodes (even under no_grad) with `scope`; yields the list of their
    calls, `(op, parents, attrs, out)` in order (a jit trace running around the picture does not see them)."""
    with autograd.enable_grad(), autograd.at_scope(scope), autograd.trace_calls() as calls:
        yield calls


class _Expansion:
    """One Fused op (or a whole compiled loop, `jit.Recurrence`), expanded for display."""

    def __init__(self, z: Tensor, params: list[Tensor]) -> None:
        node = z._ctx
        self.z, self.params = z, params
        if isinstance(node, Fused):
            group = node.attrs["group"]
            n = len(group.outputs)
            expand = group.expand
            self.split = (lambda g: list(g)) if n > 1 else (lambda g: [g])
            self.output_index = lambda index, size: _index(index, n)
        else:  # the loop's own expansion (nn/loop.py): every step's ops, the masks, the stacked outputs
            display = node.attrs["display"]
            expand, self.split, self.output_index = display.expand, display.split, display.output_index
        self.expand = expand
        with _recording(node.scope) as calls:
            self.outs: list[Tensor] = expand(params)
        self.made = [c[3] for c in calls]  # every tensor the expansion made, in order
        # the real tensor each output stands for: z itself, or the GetItem z[k] (filled in as they are met)
        self.real: list[Tensor | None] = [z] if len(self.outs) == 1 else [None] * len(self.outs)

    def local_grads(self, grads: Any) -> tuple[Any, dict[int, Tensor]] | None:
        """The fused ops' own gradients: dL/dz from `grads` pushed back through a fresh expansion on detached
        inputs. Returns the GradTrace of that backward and, for each tensor of `made`, its twin there (the
        trace holds weak references: the caller keeps the twins)."""
        fused_grad = getattr(grads, "fused_grad", None)
        g = fused_grad(self.z) if fused_grad is not None else None
        if g is None:
            return None
        gs = self.split(g)
        # start from the outputs the real backward reached (an output nothing used stays "not recorded")
        seeds = [k for k, r in enumerate(self.real)
                 if (grads.tensor_norm(r) is not None if r is not None else bool(np.any(gs[k])))]
        detached = [_detached(p) for p in self.params]
        with _recording(()) as calls:
            outs = self.expand(detached)
            seeds = [k for k in seeds if outs[k].requires_grad]
            if not seeds:
                return None
            if len(seeds) == 1:
                root, seed = outs[seeds[0]], gs[seeds[0]]
            elif len({outs[k].shape for k in seeds}) == 1:
                root = stack([outs[k] for k in seeds], axis=0)
                seed = np.stack([gs[k] for k in seeds], axis=0)
            else:  # outputs of different shapes (a loop's outputs and final state): Σ_k <out_k, g_k>
                terms = [(outs[k] * Tensor(gs[k])).sum() for k in seeds]
                root = sum(terms[1:], terms[0])
                seed = np.ones((), dtype=root.dtype)
        local = GradTrace()
        with autograd.observe_grads(local, exclusive=True):  # a trace_grads() block around must not see this
            autograd.backward(root, seed)
        local.finish()
        twins = [c[3] for c in calls[:len(self.made)]]  # the calls after them made the root (a stack)
        found = {id(t): twin for t, twin in zip(self.made, twins)}
        self.inputs = {id(p): d for p, d in zip(self.params, detached)}  # for the inner calls' input sums
        return local, found

    def inner_calls(self) -> set[int]:
        """Module calls made inside the expansion that the real graph does not have (a compiled loop's per-step
        cell calls; a Fused op's ops are in its own step's call, which is real)."""
        outer = {e.call for e in self.z._ctx.scope if e.kind == "module"}
        inner = {e.call for t in self.made if t._ctx is not None for e in t._ctx.scope if e.kind == "module"}
        return inner - outer


def _detached(t: Tensor) -> Tensor:
    """A leaf with `t`'s data and requires_grad: backward stops at it and writes only its own `.grad`."""
    d = t.detach()
    d.requires_grad = t.requires_grad
    return d


class View:
    """The graph to draw: `roots` (the display copies of the roots) and the way back to the real graph."""

    def __init__(self, roots: list[Tensor]) -> None:
        self.roots = roots
        self.expansions: list[_Expansion] = []
        self._tensor: dict[int, tuple[Tensor, Tensor]] = {}  # id(display copy) -> (copy, original)
        self._node: dict[int, tuple[Function, Function]] = {}  # id(copied node) -> (copy, original)

    def original(self, t: Tensor) -> Tensor:
        """The real tensor a display tensor stands for (itself when it is not a copy; an expanded op's result,
        other than an output, stands for itself)."""
        hit = self._tensor.get(id(t))
        return hit[1] if hit is not None and hit[0] is t else t

    def grads(self, source: Any) -> Any:
        """`source` (a GradTrace or LeafGrads), answering for the display tensors and edges."""
        if not self.expansions:
            return source
        return _DisplayGrads(self, source)


class _DisplayGrads:
    """Gradient norms of the display graph: copies looked up as their originals, expanded ops in the local
    backward of their Fused op (see `_Expansion.local_grads`)."""

    def __init__(self, view: View, base: Any) -> None:
        self.view, self.base = view, base
        self.local_tensor: dict[int, tuple[Any, Tensor]] = {}  # id(expanded tensor) -> (local trace, its twin)
        self.local_node: dict[int, tuple[Any, Function]] = {}  # id(expanded node) -> (local trace, its twin)
        self.local_call: dict[int, tuple] = {}  # call id -> (local trace, twins, inputs' twins) inside a loop
        self.expanded: set[int] = set()  # ids of every expanded tensor and node (None where nothing recorded)
        for exp in view.expansions:
            self.expanded.update(id(t) for t in exp.made)
            self.expanded.update(id(t._ctx) for t in exp.made if t._ctx is not None)
            found = exp.local_grads(base)
            if found is None:
                continue
            local, twins = found
            for call in exp.inner_calls():
                self.local_call[call] = (local, twins, exp.inputs)
            for t in exp.made:
                twin = twins[id(t)]
                self.local_tensor[id(t)] = (local, twin)
                if t._ctx is not None and twin._ctx is not None:
                    self.local_node[id(t._ctx)] = (local, twin._ctx)

    def tensor_norm(self, t: Tensor) -> float | None:
        hit = self.local_tensor.get(id(t))
        if hit is not None:
            return hit[0].tensor_norm(hit[1])
        original = self.view.original(t)
        if id(t) in self.expanded and original is t:
            return None  # an inner expanded op whose Fused op got no gradient
        return self.base.tensor_norm(original)

    def edge_norm(self, node: Function, k: int, parent: Tensor) -> float | None:
        hit = self.local_node.get(id(node))
        if hit is not None:
            twin = hit[1]
            return hit[0].edge_norm(twin, k, twin.parents[k])
        if id(node) in self.expanded:
            return None
        copied = self.view._node.get(id(node))
        if copied is not None and copied[0] is node:
            real = copied[1]
            return self.base.edge_norm(real, k, real.parents[k])
        return self.base.edge_norm(node, k, parent)

    def call_input_norm(self, parent: Tensor, call: int) -> float | None:
        # the gradient a call sends back to a tensor from outside it: the same sum in the real graph, where the
        # Fused op's edges carry what its ops' edges would; a compiled loop's step calls exist only in its expansion
        hit = self.local_call.get(call)
        if hit is not None:
            local, twins, inputs = hit
            twin = twins.get(id(parent))
            twin = inputs.get(id(parent)) if twin is None else twin
            return local.call_input_norm(twin, call) if twin is not None else None
        return self.base.call_input_norm(self.view.original(parent), call)


def _index(k: Any, n: int) -> int | None:
    """k for a GetItem `z[k]` taking one of the n outputs stacked by a Fused op, else None."""
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and -n <= k < n:
        return int(k) % n
    return None


def unfuse(roots: Sequence[Tensor]) -> View:
    """The display copy of the graph behind `roots`, every Fused op expanded (the roots themselves when there is
    none). Node numbering stays a function of the computation: the copy has the eager graph's structure."""
    tensors = walk(roots)
    if not any(isinstance(t._ctx, (Fused, Recurrence)) for t in tensors):
        return View(list(roots))
    view = View([])
    shown: dict[int, Tensor] = {}  # id(real tensor) -> its display tensor, where they differ
    stacked: dict[int, _Expansion] = {}  # id(z) -> expansion, for a Fused op with several outputs
    for t in tensors:
        node = t._ctx
        if node is None:
            continue
        if isinstance(node, (Fused, Recurrence)):
            params = []
            for p in node.parents:
                p = shown.get(id(p), p)
                if isinstance(node, Fused) and p._ctx is None and leaf_kind(p) == "const":
                    # the eager step makes its constants afresh (the 1 of `1 - z_t`); the replay reuses the one
                    # its trace saw: a copy per step draws it as the eager graph does
                    p = _copy_tensor(view, p, None)
                params.append(p)
            exp = _Expansion(t, params)
            view.expansions.append(exp)
            if len(exp.outs) == 1:
                _stand_in(view, shown, exp.outs[0], t)
            else:
                stacked[id(t)] = exp
            continue
        exp = stacked.get(id(node.parents[0])) if type(node) is GetItem else None
        k = exp.output_index(node.attrs.get("index"), node.parents[0].shape[0]) if exp is not None else None
        if exp is not None and k is not None:
            exp.real[k] = t
            _stand_in(view, shown, exp.outs[k], t)
            continue
        parents = tuple(shown.get(id(p), p) for p in node.parents)
        if any(a is not b for a, b in zip(parents, node.parents)):
            copied = copy.copy(node)
            copied.parents = parents
            view._node[id(copied)] = (copied, node)
            shown[id(t)] = _copy_tensor(view, t, copied)
    view.roots = [shown.get(id(r), r) for r in roots]
    return view


def _copy_tensor(view: View, t: Tensor, ctx: Function | None) -> Tensor:
    """A shallow copy of the real tensor `t` made by `ctx`, looked up as `t` for its gradient."""
    c = copy.copy(t)
    c._ctx = ctx
    view._tensor[id(c)] = (c, t)
    return c


def _stand_in(view: View, shown: dict[int, Tensor], out: Tensor, real: Tensor) -> None:
    """`out`, an expanded output, is drawn for the real tensor `real`, with its value (the recomputed one can
    differ from the fused kernel's in the last bit)."""
    out.data = real.data
    view._tensor[id(out)] = (out, real)
    shown[id(real)] = out
