"""A whole recurrence as one op: the traced cell step, compiled into a time loop that runs inside numba.

A layer direction computes, for t = 0 … T-1 (T-1 … 0 in reverse),

    hw_t = h_{t-1} @ W                        through BLAS (MKL where installed), called from compiled code (gemm.py)
    (h_t, c_t) = fused elementwise body(x_t, hw_t, h_{t-1}, c_{t-1}, biases, …)    jit.fuse's generated kernel
    past a sequence's length (a mask): the state is carried, the output is zero (or the carried h)

and its backward runs the reverse loop: the fused backward kernel per step, then dh_{t-1} += dhw_t @ Wᵀ. Weight
gradients are one product each over all steps, after the loop: dW = [h_0; …; h_{T-1}]ᵀ [dhw_1; …; dhw_T]; biases
and other constants read at every step add their per-step gradients up inside the loop.

Which cells compile: a trace (see trace.py) of one step `step(x_t, state)` whose ops are the fused elementwise
group (fuse.plan) plus matrix products `state_k @ W` or `x_t @ W` of an input by an outside 2-D tensor; every
state it returns is an output of the group, of the same (batch, hidden) shape as the state it replaces. Anything
else (a product of a derived value, a random mask drawn inside the step) gets None from `compile_step`, and the
layer runs step by step as before.

The rows of a batch never interact inside the recurrence, so the rows are split into chunks, each running all T
steps on a thread of its own (kernels/pool.py; numba's `nogil` functions, so no Python runs per step or per chunk
while they work), its products through kernels/gemm.py on that thread: MKL with the weight packed once per call
where installed. The weight gradients after the loop are split over the same threads (`gemm.matmul`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from ..autograd import Function, changed_since
from ..kernels import gemm, jitcache, pool
from ..ops.matmul import MatMul, row_major_transpose
from .fuse import Group, plan
from .trace import Trace

_state = {"enabled": os.environ.get("TINYGRAD_LSTM_SEQUENCE", "1").strip() not in ("0", "false", "no", "off")}


def sequences_enabled() -> bool:
    """Whether recurrent layers run a compilable cell's whole loop as one `Recurrence` op (when fusion is on at
    all, see `fusion_enabled`). Default on; ``TINYGRAD_LSTM_SEQUENCE=0`` or ``with whole_sequences(False):``
    replays each step fused instead (`Stepper`)."""
    return _state["enabled"]


@contextmanager
def whole_sequences(enabled: bool) -> Iterator[None]:
    """``with whole_sequences(False): ...`` runs recurrent layers step by step (each step fused), the path a
    cell the sequence compiler does not support takes."""
    prev, _state["enabled"] = _state["enabled"], enabled
    try:
        yield
    finally:
        _state["enabled"] = prev


class Product(NamedTuple):
    op: int  # index of the MatMul in the trace
    source: int  # which step input it multiplies: 0 is x_t, k >= 1 the state component k-1
    weight: int  # the outside tensor (trace.externals index) it multiplies by


class SequencePlan:
    """How to run a traced step over a whole sequence: the fused group, the products, and the compiled loops.

    `ext` lists the outside tensors the op reads (parents after x and the initial state), `param_kind` says for
    each group param where its value comes from: ("x",), ("state", k), ("prod", p) or ("ext", e)."""

    def __init__(self, tr: Trace, group: Group, products: list[Product], param_kind: list[tuple],
                 state_out: list[int]) -> None:
        self.trace, self.group, self.products, self.param_kind = tr, group, products, param_kind
        self.n_state = len(tr.input_shapes) - 1
        self.state_out = state_out  # the group output each state component is
        self.gext = sorted({k[1] for k in param_kind if k[0] == "ext"})  # outside tensors the group reads
        # ... and the 2-D shape it reads each as (a bias (G·H,) as one row)
        self.ext_shape = {k[1]: s for k, s in zip(param_kind, group.param_shapes) if k[0] == "ext"}
        self.ext = sorted({p.weight for p in products} | set(self.gext))  # every outside tensor the op reads
        self.H = group.grid[1]
        self.dtype = group.dtype
        self.source = _source(self)
        self.fwd, self.bwd = _compile(self)

    @property
    def recurrent(self) -> list[int]:
        return [p for p, prod in enumerate(self.products) if prod.source > 0]


def compile_step(tr: Trace) -> SequencePlan | None:
    """The sequence plan of a traced step ``step(x_t, state) -> state``, or None when it does not fit (see the
    module docstring). Plans are cached by the trace's structure."""
    if tr.key in _plans:
        return _plans[tr.key]
    found = _make_plan(tr)
    _plans[tr.key] = found
    return found


def compiled_plan(key: tuple) -> SequencePlan | None:
    """The plan `compile_step` made before for a trace of this structure (a `Trace.key`), if it made one."""
    return _plans.get(key)


def _make_plan(tr: Trace) -> SequencePlan | None:
    n_in = len(tr.input_shapes)
    if n_in < 2:
        return None
    group = plan(tr)
    if group is None:
        return None
    members = set(group.members)
    products: list[Product] = []
    for i, rec in enumerate(tr.ops):
        if i in members:
            continue
        if rec.op is not MatMul or len(rec.args) != 2:
            return None
        a, w = rec.args
        weight = tr.externals[w.index].data if w.kind == "ext" else None
        if a.kind != "in" or weight is None or weight.ndim != 2 or weight.dtype != group.dtype:
            return None
        if len(tr.input_shapes[a.index]) != 2:
            return None
        products.append(Product(i, a.index, w.index))
    prod_of = {p.op: k for k, p in enumerate(products)}
    param_kind: list[tuple] = []
    for r in group.params:
        if r.kind == "in":
            param_kind.append(("x",) if r.index == 0 else ("state", r.index - 1))
        elif r.kind == "op" and r.index in prod_of:
            param_kind.append(("prod", prod_of[r.index]))
        elif r.kind == "ext":
            param_kind.append(("ext", r.index))
        else:
            return None
    grid = group.grid
    if tr.tuple_out is None and n_in != 2 or tr.tuple_out is not None and len(tr.outputs) != n_in - 1:
        return None
    state_out = []
    for k, r in enumerate(tr.outputs):
        if r.kind != "op" or r.index not in group.outputs or tr.input_shapes[k + 1] != grid:
            return None
        state_out.append(group.outputs.index(r.index))
    if len(set(state_out)) != len(state_out) or len(state_out) != len(group.outputs):
        return None
    if len(tr.input_shapes[0]) != 2 or tr.input_shapes[0][0] != grid[0] or tr.input_dtypes[0] != group.dtype:
        return None
    used = {p.weight for p in products} | {k[1] for k in param_kind if k[0] == "ext"}
    if used != set(range(len(tr.externals))):  # an outside tensor read some other way
        return None
    return SequencePlan(tr, group, products, param_kind, state_out)


_plans: dict[tuple, SequencePlan | None] = {}


# ---------------------------------------------------------------------------------------------------------------
# code generation: one forward loop and one backward loop per plan, over the rows r0:r1 of the batch
# ---------------------------------------------------------------------------------------------------------------


def _entries(how: tuple, blocks: list[tuple[int, int]], C: int) -> list[tuple]:
    """A param's gradient plan (Group.assembly) as slabs to add: (block, slab, on every row?, column or None)."""
    if how[0] == "block":
        return [(how[1], m, True, m * C) for m in range(blocks[how[1]][1])]
    if how[0] == "rowsum":
        return [(how[1], m, False, m * C) for m in range(blocks[how[1]][1])]
    return list(how[1])


def _add_lines(dst: str, entries: list[tuple], C: int, ind: str) -> list[str]:
    """Loops adding a param's gradient slabs (from the blocks at step t) into `dst`, rows r0:r1: a slab into a
    row of `dst` (every row, or row 0 for a row-broadcast param), or summed into its column 0 (a one-value
    param). Over 1-D row views indexed from 0: LLVM vectorizes those loops, and not the same loops written with
    2-D and 3-D indices (5x slower, measured on a row sum)."""
    lines = []
    for blk, k, row, col in entries:
        rr = "r" if row else "0"
        lines += [f"{ind}for r in range(r0, r1):", f"{ind}    s = D{blk}[t, r, {k * C}:{k * C + C}]"]
        if col is None:
            lines += [f"{ind}    acc = {dst}[{rr}, 0]", f"{ind}    for j in range({C}):", f"{ind}        acc += s[j]",
                      f"{ind}    {dst}[{rr}, 0] = acc"]
        else:
            lines += [f"{ind}    d = {dst}[{rr}, {col}:{col + C}]", f"{ind}    for j in range({C}):",
                      f"{ind}        d[j] += s[j]"]
    return lines


def _source(sp: SequencePlan) -> str:
    """Python source of `seq_fwd` and `seq_bwd` for numba (see the module docstring and `_Codegen`)."""
    gen = _Codegen(sp)
    backward = gen.backward()
    sp.x_grad, sp.prod_grad, sp.dests = gen.x_grad, gen.prod_grad, gen.dests
    return "\n".join(gen.forward() + ["", ""] + backward) + "\n"


class _Codegen:
    """The generated loops' names: X (T, B, in) the inputs, HW{p} the products of a state (T, B, N), XS{p} a
    product of the input at the current step (B, N), W{p} their weights, E{e} the outside tensors as the group
    reads them (2-D), S{k} (T+1, B, H) the states (step t reads S[t + rev], writes S[t + 1 - rev]), Y (T, B, H)
    the outputs, M (T, B) the mask; in backward D{b} (T, B, n·C) the fused backward's gradient blocks, dC{k} the
    gradient carried to the state, dE{e} the outside tensors' gradients, WT{p} the weights transposed (contiguous).
    Rows r0:r1 are this call's chunk."""

    def __init__(self, sp: SequencePlan) -> None:
        self.sp, self.g, self.C = sp, sp.group, sp.H
        B = sp.group.grid[0]
        self.S = range(sp.n_state)
        self.rec = sp.recurrent
        prod_arg = [f"{'HW' if p.source else 'XS'}{k}" for k, p in enumerate(sp.products)]
        self.common = (["X"] + [f"E{e}" for e in sp.gext] + [f"W{p}" for p in range(len(sp.products))]
                       + [f"S{k}" for k in self.S] + prod_arg + ["M", "use_mask", "zero_out", "rev", "r0", "r1"])

        def param(kind: tuple, shape: tuple[int, int]) -> str:
            if kind[0] == "x":
                return "X[t, r0:r1]"
            if kind[0] == "state":
                return f"S{kind[1]}[t + rev, r0:r1]"
            if kind[0] == "prod":
                return f"{prod_arg[kind[1]]}[{'t, ' if sp.products[kind[1]].source else ''}r0:r1]"
            return f"E{kind[1]}[r0:r1]" if shape[0] == B else f"E{kind[1]}"

        self.params = [param(k, s) for k, s in zip(sp.param_kind, self.g.param_shapes)]
        # x_t @ W for a layer that projects its input step by step (a few input features): plain loops, per step,
        # in forward and again in backward (a GEMM with K = 1 through BLAS was 30x slower; a (T, B, N) array of
        # all steps' products is a large write for little work)
        n_in, self.xw = sp.trace.input_shapes[0][1], []
        for p, prod in enumerate(sp.products):
            if prod.source == 0:
                n_out = sp.trace.externals[prod.weight].data.shape[1]
                self.xw += ["        for r in range(r0, r1):", f"            for j in range({n_out}):",
                            f"                acc = X[t, r, 0] * W{p}[0, j]",
                            f"                for i in range(1, {n_in}):",
                            f"                    acc += X[t, r, i] * W{p}[i, j]", f"                XS{p}[r, j] = acc"]

    def forward(self) -> list[str]:
        sp, C, S = self.sp, self.C, self.S
        direct, scratch = [""] * len(self.g.outputs), [""] * len(self.g.outputs)
        for k, o in enumerate(sp.state_out):
            direct[o], scratch[o] = f"S{k}[t + 1 - rev, r0:r1]", f"O{k}[r0:r1]"
        args = self.common + ["Y"] + [f"O{k}" for k in S] + [f"PW{p}" for p in self.rec]
        lines = ["@jit(nogil=True)", f"def seq_fwd({', '.join(args)}):", "    arrived()", "    T = Y.shape[0]",
                 "    R = r1 - r0",
                 "    for s in range(T):", "        t = T - 1 - s if rev else s"]
        lines += [f"        gemm_packed(S{sp.products[p].source - 1}[t + rev, r0:r1], W{p}, PW{p}, HW{p}[t, r0:r1], "
                  "0.0)" for p in self.rec]
        lines += self.xw + ["        if use_mask:", f"            fwd(R, {', '.join(self.params + scratch)})",
                            "            for r in range(r0, r1):", "                live = M[t, r]",
                            f"                for j in range({C}):"]
        lines += [f"                    S{k}[t + 1 - rev, r, j] = O{k}[r, j] if live else S{k}[t + rev, r, j]"
                  for k in S]
        return lines + [
            "                    Y[t, r, j] = O0[r, j] if live else (0.0 if zero_out else S0[t + rev, r, j])",
            "        else:", f"            fwd(R, {', '.join(self.params + direct)})",
            # a loop, not `Y[t, r0:r1] = S0[…]`: numba took 11 s to compile that slice assignment
            "            for r in range(r0, r1):", "                y, h = Y[t, r], S0[t + 1 - rev, r]",
            f"                for j in range({C}):", "                    y[j] = h[j]"]

    def targets(self) -> list[str]:
        """Where each param's gradient at step t goes: a block as it is (x's and the products' gradients, named
        in x_grad, prod_grad), an extra (T, B, ·) array dP{i} (`dests`), or added into dC{k} / dE{e}; returns the
        lines that add them."""
        C, self.dests, self.prod_grad, self.x_grad = self.C, [], [""] * len(self.sp.products), ""
        add: list[str] = []
        for kind, how in zip(self.sp.param_kind, self.g.assembly):
            entries = _entries(how, self.g.blocks, C)
            if kind[0] in ("state", "ext"):
                add += _add_lines(f"d{'C' if kind[0] == 'state' else 'E'}{kind[1]}", entries, C, "        ")
                continue
            if how[0] == "block":
                name = f"D{how[1]}"
            else:
                name = f"dP{len(self.dests)}"
                self.dests.append(kind)
                add += _add_lines(name + "[t]", entries, C, "        ")
            if kind[0] == "x":
                self.x_grad = name
            else:
                self.prod_grad[kind[1]] = name
        return add

    def backward(self) -> list[str]:
        sp, C, S, g = self.sp, self.C, self.S, self.g
        add = self.targets()
        n_out, n_blocks = len(g.outputs), len(g.blocks)
        args = (self.common + ["dZ"] + [f"D{b}" for b in range(n_blocks)] + [f"dP{i}" for i in range(len(self.dests))]
                + [f"dE{e}" for e in sp.gext] + [f"dC{k}" for k in S] + [f"G{o}" for o in range(n_out)]
                + [f"WT{p}" for p in self.rec] + [f"PW{p}" for p in self.rec])
        lines = ["@jit(nogil=True)", f"def seq_bwd({', '.join(args)}):", "    arrived()",
                 f"    T = dZ.shape[0] - {sp.n_state}",
                 "    R = r1 - r0", "    for s in range(T - 1, -1, -1):", "        t = T - 1 - s if rev else s",
                 # the gradient of the step's outputs: carried from the next step (and the output y_t) where the
                 # step is real; at a masked step it passes the step by, to the state before it
                 "        for r in range(r0, r1):", "            live = (not use_mask) or M[t, r]",
                 "            dz = dZ[t, r]"]
        lines += [f"            g{k}, c{k} = G{sp.state_out[k]}[r], dC{k}[r]" for k in S]  # row views: see _add_lines
        lines += [f"            for j in range({C}):", "                gy = dz[j]"]
        for k in S:
            gy = " + gy" if k == 0 else ""
            carried = " + (0.0 if zero_out else gy)" if k == 0 else ""
            lines += [f"                g{k}[j] = c{k}[j]{gy} if live else 0.0",
                      f"                c{k}[j] = 0.0 if live else c{k}[j]{carried}"]
        g_args = [f"G{o}[r0:r1]" for o in range(n_out)]
        blocks = [f"D{b}[t, r0:r1]" for b in range(n_blocks)]
        lines += self.xw + [f"        bwd(R, {', '.join(self.params + g_args + blocks)})"] + add
        for p in self.rec:  # dh_{t-1} += dhw_t @ Wᵀ
            state = sp.products[p].source - 1
            lines += [f"        gemm_packed({self.prod_grad[p]}[t, r0:r1], WT{p}, PW{p}, dC{state}[r0:r1], 1.0)"]
        return lines


def _compile(sp: SequencePlan) -> tuple[Callable, Callable]:
    """numba functions for the plan's source, in one module with the fused kernels they call, through the
    on-disk kernel cache (kernels/jitcache.py). `nogil`: the chunks of a batch run on threads of their own."""
    source = (f"# gemm: {gemm.MODULE}\nfrom tinygrad_lstm.kernels.jitcache import jit\n"
              "from tinygrad_lstm.kernels.scalar import *\nfrom tinygrad_lstm.kernels.gemm import gemm_packed\n"
              "from tinygrad_lstm.kernels.spin import arrived\n"
              "import numpy as np\n\n\n" + sp.group.source + "\n\n\n" + sp.source)
    mod = jitcache.load(source, "sequence")
    return mod.seq_fwd, mod.seq_bwd


MIN_CHUNK_ROWS = 4  # fewer rows per chunk than this: the per-step products get too thin to pay for a thread


def chunks(B: int) -> list[tuple[int, int]]:
    """Row ranges [r0, r1) splitting a batch of B rows into chunks, one per worker thread (kernels/pool.py)."""
    return pool.split(B, MIN_CHUNK_ROWS)


def _packed(W: list[np.ndarray], which: Iterable[int], bounds: list[tuple[int, int]]) -> list[list[np.ndarray]]:
    """For each chunk, the weights W[p] (p in `which`) packed for products with that chunk's rows (gemm.pack),
    each packing made once per row count."""
    by_rows: dict[int, list[np.ndarray]] = {}
    for r0, r1 in bounds:
        if r1 - r0 not in by_rows:
            by_rows[r1 - r0] = [gemm.pack(W[p], r1 - r0) for p in which]
    return [by_rows[r1 - r0] for r0, r1 in bounds]


class Recurrence(Function):
    """z = [y_0 … y_{T-1}, h_T, c_T]: a layer direction's whole loop (module docstring), outputs and final state
    stacked on the first axis.        dz/d(x, h_0, c_0, W, b, …): the reverse loop, then one product per weight.

    Parents: x (T, B, in), the initial state components (B, H), then `plan.ext` (the outside tensors). `display`
    draws the op as the steps it runs (nn/loop.py, for viz/unfuse.py)."""

    def forward(self, x: np.ndarray, *rest: np.ndarray, plan: SequencePlan, mask: np.ndarray | None,
                zero_out: bool, reverse: bool, display: Any = None, transposes: list | None = None) -> np.ndarray:
        sp = plan
        n = sp.n_state
        T, B, H = x.shape[0], x.shape[1], sp.H
        x = np.ascontiguousarray(x, dtype=sp.dtype)
        ext = dict(zip(sp.ext, rest[n:]))
        E = [np.ascontiguousarray(ext[e].reshape(sp.ext_shape[e])) for e in sp.gext]
        W = [gemm.operand(ext[p.weight]) for p in sp.products]  # W_hhᵀ stays a view: packed without a copy
        P = [np.empty((T, B, w.shape[1]) if p.source else (B, w.shape[1]), sp.dtype) for p, w in zip(sp.products, W)]
        S = []
        for k in range(n):
            s = np.empty((T + 1, B, H), sp.dtype)
            s[T if reverse else 0] = rest[k]
            S.append(s)
        z = np.empty((T + n, B, H), sp.dtype)
        M = np.ascontiguousarray(mask, dtype=np.bool_) if mask is not None else np.ones((1, 1), np.bool_)
        O = [np.empty((B, H), sp.dtype) for _ in range(n)] if mask is not None else [S[k][0] for k in range(n)]
        common = [x, *E, *W, *S, *P, M, mask is not None, zero_out, reverse]
        bounds = chunks(B)
        packed = _packed(W, sp.recurrent, bounds)
        with gemm.one_thread():
            pool.run(sp.fwd, common, bounds, lambda c: [z[:T], *O, *packed[c]])
        for k in range(n):
            z[T + k] = S[k][0 if reverse else T]
        self.save_for_backward(x, E, W, S, P, M)
        return z

    def backward(self, g: np.ndarray) -> tuple:
        sp: SequencePlan = self.attrs["plan"]
        x, E, W, S, P, M = self.saved_tensors
        n, (T, B) = sp.n_state, x.shape[:2]
        H, C, dt, rev = sp.H, sp.H, sp.dtype, int(self.attrs["reverse"])
        dZ = np.ascontiguousarray(g, dtype=dt)
        D = [np.empty((T, B, k * C), dt) for _, k in sp.group.blocks]
        cols = {("x",): x.shape[2], **{("prod", p): w.shape[1] for p, w in enumerate(W)}}
        dP = [np.zeros((T, B, cols[kind]), dt) for kind in sp.dests]
        bounds = chunks(B)
        dE = [np.zeros((len(bounds),) + sp.ext_shape[e], dt) for e in sp.gext]
        dC = [dZ[T + k].copy() for k in range(n)]
        G = [np.empty((B, H), dt) for _ in sp.group.outputs]
        mask = self.attrs["mask"]
        common = [x, *E, *W, *S, *P, M, mask is not None, self.attrs["zero_out"], bool(rev)]
        WT = [self._transposed(W[p], k) for k, p in enumerate(sp.recurrent)]
        packed = _packed(WT, range(len(WT)), bounds)
        with gemm.one_thread():
            pool.run(sp.bwd, common, bounds,
                     lambda c: [dZ, *D, *dP, *[d[c] for d in dE], *dC, *G, *WT, *packed[c]])
        return self._grads(x, W, S, D, dP, dE, dC)

    def _transposed(self, w: np.ndarray, k: int) -> np.ndarray:
        """Wᵀ row-major, for the backward's dh += dhw Wᵀ (kernels/gemm.py: faster than BLAS's own transpose): the
        tensor the caller named as W's transpose (`transposes`, a recurrent layer's W_hh) if it still holds the
        values the forward used; else W's own memory when W is a transposed view (W_hhᵀ: then W_hh changed in
        place, which the engine's version check reports before this runs); else a copy (0.3 ms for config c's
        256 x 1024)."""
        named = self.attrs["transposes"][k] if self.attrs.get("transposes") else None
        t = row_major_transpose(named, w) if named is not None and not changed_since(named, self) else None
        return t if t is not None else np.ascontiguousarray(w.T)

    def _grads(self, x, W, S, D, dP, dE, dC) -> tuple:
        """The parents' gradients from the loop's results: x's and the weights' as one product each."""
        sp: SequencePlan = self.attrs["plan"]
        n, (T, B, n_in) = sp.n_state, x.shape
        rev = int(self.attrs["reverse"])
        need = self.needs_input_grad
        arrays = {"D": D, "dP": dP}

        def grad_of(name: str) -> np.ndarray:
            return arrays["D" if name[0] == "D" else "dP"][int(name[1 + (name[0] == "d"):])]

        dx = grad_of(sp.x_grad) if sp.x_grad else None
        ext_grads: dict[int, np.ndarray] = {}

        def add(e: int, d: np.ndarray) -> None:
            ext_grads[e] = d if e not in ext_grads else ext_grads[e] + d

        for p, prod in enumerate(sp.products):
            gp = grad_of(sp.prod_grad[p])
            N = gp.shape[2]
            g2 = gp.reshape(T * B, N)
            if prod.source == 0:
                if need[0]:
                    dxp = (g2 @ W[p].T).reshape(T, B, n_in)
                    dx = dxp if dx is None else dx + dxp
                add(prod.weight, gemm.matmul(x.reshape(T * B, n_in), g2, trans_a=True))
            else:
                h = S[prod.source - 1][rev:T + rev].reshape(T * B, -1)
                add(prod.weight, gemm.matmul(h, g2, trans_a=True))  # [h_0; …; h_{T-1}]ᵀ [dhw_1; …; dhw_T]
        for e, d in zip(sp.gext, dE):
            add(e, d.sum(axis=0))
        grads: list[np.ndarray | None] = [dx if need[0] else None]
        grads += [dC[k] if need[1 + k] else None for k in range(n)]
        for j, e in enumerate(sp.ext):
            p = self.parents[1 + n + j]
            grads.append(ext_grads[e].reshape(p.data.shape) if need[1 + n + j] else None)
        return tuple(grads)
