"""Fuse the elementwise part of a trace into one numba kernel for its forward and one for its backward.

An LSTM step records ~16 ops: a matmul, then gates = xw + hw, four column slices, σ/tanh, products and sums.
Everything after the matmul is elementwise on a (batch, hidden) grid, so one loop can compute it per element:

    for b, j in grid:  gates read at columns j, j+H, j+2H, j+3H;  i, f, g, o;  c = f·c_prev + i·g;  h = o·tanh(c)

The backward kernel recomputes those values per element and runs reverse mode on them, one op at a time in the
reverse order, with each op's local derivative: autograd's chain rule, written out as straight-line code. The
forward expressions and the derivatives are the ops' own definitions (`ops/elementwise.py`: `f` and `df`),
rendered as scalar code; nothing here states a derivative. The kernel is generated from the trace, and is checked
against the eager ops it replaces.

Code generation builds the kernels as data first (`Stmt`: a target, an expression tree, whether it accumulates)
and renders text last: `_forward_stmts`, `_backward_stmts`, `_gradient_slabs`, then `_render`.

Values live on a 2-D grid (R, C), the shape of the group's outputs. A value is evaluated at an *instance*:
(which value, row index b or row 0 (broadcast), column j + offset or column 0 (broadcast)). A column slice
`x[:, a:b]` shifts the offset by `a`; broadcasting an (H,) bias pins the row to 0. The grid width and the
offsets are literals of the generated source: one compiled kernel per width (0.3-1 s, once per process), and
loops LLVM vectorizes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import llvmlite.binding as llvm
import numpy as np

from ..kernels import jitcache
from ..kernels import numba_backend as nb
from ..ops import movement as M
from ..ops.elementwise import Elementwise
from ..ops.expr import Expr, Var, render
from .trace import Ref, Trace

_FLOATS = nb._FLOATS


def _fusable_op(op: type) -> bool:
    return issubclass(op, Elementwise)


def _column_slice(rec: Any, in_shape: tuple[int, ...]) -> int | None:
    """The start column when a GetItem is `x[:, a:b]` on a 2-D x (what chunk/split on axis 1 give), else None."""
    index = rec.attrs.get("index")
    if len(in_shape) != 2 or not isinstance(index, tuple) or len(index) != 2:
        return None
    rows, cols = index
    if rows != slice(None) or not isinstance(cols, slice):
        return None
    start, stop, step = cols.indices(in_shape[1])
    return start if step == 1 and stop > start else None


class Instance(NamedTuple):
    ref: Ref  # a trace value
    row: bool  # True: row b of the grid; False: row 0 (broadcast along rows)
    col: int | None  # the column offset from j; None: column 0 (broadcast along columns)


class Group:
    """The fused part of a trace, planned: which trace values it reads (`params`), computes and returns.

    Plain data apart from the two compiled kernels; `ops` keeps the records (with their names) so that a graph
    picture can show the fused ops one by one (see `expand`).
    """

    def __init__(self, trace: Trace, members: list[int], outputs: list[int], params: list[Ref],
                 param_shapes: list[tuple[int, int]], blocks: list[tuple[int, int]], assembly: list[tuple],
                 grid: tuple[int, int], dtype: np.dtype, fwd: Callable, bwd: Callable, source: str) -> None:
        self.ops, self.members, self.outputs, self.params = trace.ops, members, outputs, params  # records only
        self.param_shapes = param_shapes  # each param as the kernels see it: 2-D
        self.blocks = blocks  # the backward writes one array (R, n·C) per block: n gradient slabs side by side
        self.assembly = assembly  # how each param's gradient is made from the blocks (see param_grads)
        self.grid, self.dtype = grid, dtype
        self.fwd, self.bwd, self.source = fwd, bwd, source

    def param_grads(self, blocks: list[np.ndarray]) -> list[np.ndarray]:
        """Each param's gradient (2-D) from the arrays the backward kernel wrote: a block as it is (the gate
        gradients side by side, as the (B, 4H) input they came from), a block summed over its rows (a bias), or
        slabs added into place. Params with the same plan share one array."""
        C = self.grid[1]
        made: dict[tuple, np.ndarray] = {}
        out = []
        for how, shape in zip(self.assembly, self.param_shapes):
            d = made.get(how)
            if d is None:
                if how[0] == "block":
                    d = blocks[how[1]]
                elif how[0] == "rowsum":
                    d = blocks[how[1]].sum(axis=0, keepdims=True)
                else:
                    d = np.zeros(shape, dtype=self.dtype)
                    for blk, k, row, col in how[1]:
                        g = blocks[blk][:, k * C:(k + 1) * C]
                        g = g if row else g.sum(axis=0, keepdims=True)
                        if col is None:
                            d[:, 0:1] += g.sum(axis=1, keepdims=True)
                        else:
                            d[:, col:col + C] += g
                made[how] = d
            out.append(d)
        return out

    @property
    def names(self) -> list[str | None]:
        return [self.ops[i].name for i in self.outputs]

    def expand(self, params: list[Any]) -> list[Any]:
        """Run the fused ops one by one (eager `Function.apply`) on `params` (Tensors), returning the outputs:
        the unfused graph, for pictures and for checking the kernels."""
        vals: dict[Ref, Any] = dict(zip(self.params, params))
        for i in self.members:
            rec = self.ops[i]
            t = rec.op.apply(*[vals[r] for r in rec.args], **rec.attrs)
            if rec.name:
                t.name = rec.name
            vals[Ref("op", i)] = t
        return [vals[Ref("op", i)] for i in self.outputs]

    def __repr__(self) -> str:
        ops = ", ".join(self.ops[i].op.__name__ for i in self.members)
        return f"Group({ops} -> {', '.join(str(n) for n in self.names)})"


def _gradient_layout(param_refs: list[Ref], param_shapes: list[tuple[int, int]], param_insts: list[Instance],
                     slab_of: list[int], C: int) -> tuple[list[tuple[int, int]], list[tuple]]:
    """Where the backward writes each gradient slab, and how each param's gradient is made from those arrays.

    Blocks are (first slab, count): the slabs a param reads side by side (the four gate chunks of xw) form one
    array (R, count·C), so that param's gradient is that array, no copy; every other slab is an array of its own.
    A param's plan is ("block", b), ("rowsum", b) for a bias read on every row, or ("add", ((b, k, row, col), ...)):
    slab k of block b, summed over broadcast rows and columns, added at column `col`."""
    per_param = []
    for ref, (_, cols) in zip(param_refs, param_shapes):
        slabs = [(slab_of[n], i) for n, i in enumerate(param_insts) if i.ref == ref]
        s0 = slabs[0][0]
        tiled = len(slabs) * C == cols and all(i.col == n * C and s == s0 + n for n, (s, i) in enumerate(slabs))
        per_param.append((slabs, (s0, len(slabs)) if tiled else None))
    owner: dict[int, tuple[int, int]] = {}
    for _, span in per_param:
        if span and span[1] > 1 and all(owner.get(s, span) == span for s in range(span[0], sum(span))):
            owner.update({s: span for s in range(span[0], sum(span))})
    blocks = sorted(set(owner.values()) | {(s, 1) for s in range(max(slab_of) + 1) if s not in owner})
    place = {s0 + k: (b, k) for b, (s0, n) in enumerate(blocks) for k in range(n)}
    assembly: list[tuple] = []
    for slabs, span in per_param:
        rows = {i.row for _, i in slabs}
        if span in blocks and rows == {True}:
            assembly.append(("block", blocks.index(span)))
        elif span in blocks and rows == {False}:
            assembly.append(("rowsum", blocks.index(span)))
        else:
            assembly.append(("add", tuple(place[s] + (i.row, i.col) for s, i in slabs)))
    return blocks, assembly


def plan(trace: Trace) -> Group | None:
    """The elementwise ops of `trace` that feed its outputs, as one Group with compiled kernels; None when there
    is nothing to fuse or the trace does not fit the pattern (every fused op elementwise or a column slice, one
    float dtype, a 2-D output grid, no unfused op reading a fused value). In four steps: which ops can fuse, which
    of them form the group, where each fused value is read (instances), then the kernels' code."""
    fusable = _fusable_ops(trace)
    out_ops = list(dict.fromkeys(r.index for r in trace.outputs if r.kind == "op" and r.index in fusable))
    members = _members(trace, fusable, out_ops)
    if members is None:
        return None
    grid, dtype = trace.ops[out_ops[0]].shape, trace.ops[out_ops[0]].dtype
    found = _instances(trace, members, out_ops, grid, dtype)
    if found is None:
        return None
    inst_of_op, edges, param_refs, param_insts = found
    param_shapes = [_as2d(_shape(trace, r)) for r in param_refs]
    source, blocks, assembly = _codegen(trace.ops, members, out_ops, param_refs, param_shapes, param_insts,
                                        inst_of_op, edges, grid[1])
    fwd, bwd = _compile(source, dtype)
    return Group(trace, sorted(members), out_ops, param_refs, param_shapes, blocks, assembly, grid, dtype, fwd, bwd,
                 source)


def _fusable_ops(trace: Trace) -> set[int]:
    """Ops a kernel can compute per element: elementwise ops and column slices, float, at most 2-D."""
    fusable = set()
    for i, rec in enumerate(trace.ops):
        if rec.dtype not in _FLOATS or len(rec.shape) > 2:
            continue
        if _fusable_op(rec.op) or (rec.op is M.GetItem and _column_slice(rec, _shape(trace, rec.args[0])) is not None):
            fusable.add(i)
    return fusable


def _members(trace: Trace, fusable: set[int], out_ops: list[int]) -> set[int] | None:
    """The fusable ops the outputs reach through fusable ops; None unless they make a group worth fusing: two ops
    or more, on one 2-D grid of one dtype, and no unfused op reading a fused value (the group runs after them)."""
    if not out_ops:
        return None
    ops = trace.ops
    members, todo = set(), list(out_ops)
    while todo:
        i = todo.pop()
        if i not in members:
            members.add(i)
            todo.extend(r.index for r in ops[i].args if r.kind == "op" and r.index in fusable)
    if len(members) < 2:
        return None
    if any(i not in members and any(r.kind == "op" and r.index in members for r in rec.args)
           for i, rec in enumerate(ops)):
        return None
    grid, dtype = ops[out_ops[0]].shape, ops[out_ops[0]].dtype
    if len(grid) != 2 or any(ops[i].shape != grid for i in out_ops) or any(ops[i].dtype != dtype for i in members):
        return None
    return members


def _instances(trace: Trace, members: set[int], out_ops: list[int], grid: tuple[int, ...], dtype: np.dtype):
    """Walk from the outputs back to the values read from memory, noting at which (row, column offset) each fused
    value is read: (instances of each op, the inputs of each instance, the params, the params' instances in
    column order); None when a read does not fit the grid."""
    ops = trace.ops
    inst_of_op: dict[int, list[Instance]] = {}
    param_refs: list[Ref] = []
    param_insts: list[Instance] = []
    edges: dict[Instance, list[Instance]] = {}
    need = [Instance(Ref("op", i), True, 0) for i in out_ops]
    seen: set[Instance] = set()
    while need:
        inst = need.pop()
        if inst in seen:
            continue
        seen.add(inst)
        r = inst.ref
        if r.kind == "op" and r.index in members:
            ins = _inputs_of(trace, ops[r.index], inst)
            if ins is None:
                return None
            inst_of_op.setdefault(r.index, []).append(inst)
            edges[inst] = ins
            need.extend(ins)
        else:
            if not _fits_grid(trace, inst, grid, dtype):
                return None
            if r not in param_refs:
                param_refs.append(r)
            param_insts.append(inst)
    # a param's instances in column order, so that the slabs of a chunked input come out side by side
    param_insts.sort(key=lambda i: (param_refs.index(i.ref),) + _inst_key(i))
    return inst_of_op, edges, param_refs, param_insts


def _inputs_of(trace: Trace, rec: Any, inst: Instance) -> list[Instance] | None:
    """The instances an op's instance reads: a column slice shifts the offset; broadcasting pins row or column."""
    if rec.op is M.GetItem:
        if inst.col is None:  # a one-column slice broadcast along the columns: not an offset of j
            return None
        return [Instance(rec.args[0], inst.row, inst.col + _column_slice(rec, _shape(trace, rec.args[0])))]
    ins = [_broadcast(a, inst, _as2d(rec.shape), _as2d(_shape(trace, a))) for a in rec.args]
    return None if any(i is None for i in ins) else ins


def _fits_grid(trace: Trace, inst: Instance, grid: tuple[int, ...], dtype: np.dtype) -> bool:
    """Whether a value read from memory has the dtype and the rows/columns the instance reads."""
    shape = _as2d(_shape(trace, inst.ref))
    if _value(trace, inst.ref)[1] != dtype:
        return False
    if (inst.row and shape[0] != grid[0]) or (not inst.row and shape[0] != 1):
        return False
    if inst.col is None:
        return shape[1] == 1
    return inst.col + grid[1] <= shape[1]


def _value(trace: Trace, r: Ref) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a trace value."""
    if r.kind == "in":
        return trace.input_shapes[r.index], trace.input_dtypes[r.index]
    if r.kind == "op":
        return trace.ops[r.index].shape, trace.ops[r.index].dtype
    return trace.externals[r.index].data.shape, trace.externals[r.index].data.dtype


def _shape(trace: Trace, r: Ref) -> tuple[int, ...]:
    return _value(trace, r)[0]


def _as2d(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 2:
        return shape  # type: ignore[return-value]
    return (1, shape[0]) if len(shape) == 1 else (1, 1)


def _broadcast(ref: Ref, inst: Instance, zshape: tuple[int, int], xshape: tuple[int, int]) -> Instance | None:
    """The instance of input `ref` (of shape `xshape`) that an elementwise op of shape `zshape` reads at `inst`."""
    row = inst.row if xshape[0] == zshape[0] else (False if xshape[0] == 1 else None)
    if row is None:
        return None
    if xshape[1] == zshape[1]:
        col = inst.col
    elif xshape[1] == 1:
        col = None
    else:
        return None
    return Instance(ref, row, col)


# ---------------------------------------------------------------------------------------------------------------
# code generation
# ---------------------------------------------------------------------------------------------------------------


class Stmt(NamedTuple):
    """One statement of a generated kernel, as data: `target = expr` (or `target += expr`), the expression a tree
    of an op's definition whose variables `names` maps to kernel variables."""

    target: str
    expr: Expr
    names: dict[str, str]
    accumulate: bool = False


def _codegen(ops, members, out_ops, param_refs, param_shapes, param_insts, inst_of_op, edges, C
             ) -> tuple[str, list[tuple[int, int]], list[tuple]]:
    """Python source of `fwd` and `bwd` for numba, and the layout of the gradients (see `_gradient_layout`).

    The grid width C is a literal in the source (one compiled kernel per width), and so is every column offset
    (`j + 128`): with the width known, LLVM vectorizes loops that store the four gate gradients side by side into
    one (B, 4H) array, which with a run-time width it did not do (8x slower). Every other array a kernel writes is
    its own argument, written once per element."""
    order = [inst for i in sorted(members) for inst in sorted(inst_of_op.get(i, []), key=_inst_key)]
    var = _variable_names(ops, param_refs, param_insts, order)
    P = [f"p{k}" for k in range(len(param_refs))]
    pname = {r: P[k] for k, r in enumerate(param_refs)}
    loads = [Stmt(var[i], Var("m"), {"m": f"{pname[i.ref]}[{'b' if i.row else '0'}, {_col(i.col)}]"})
             for i in param_insts]
    compute = _forward_stmts(ops, order, edges, var)
    outs = [Instance(Ref("op", i), True, 0) for i in out_ops]
    O, G = [f"out{k}" for k in range(len(outs))], [f"g{k}" for k in range(len(outs))]
    stores = [Stmt(f"{O[k]}[b, j]", Var("v"), {"v": var[o]}) for k, o in enumerate(outs)]
    adj = {inst: "d_" + v for inst, v in var.items()}
    back = [Stmt(adj[i], _ZERO, {}) for i in param_insts + order]
    back += [Stmt(adj[o], Var("g"), {"g": f"{G[k]}[b, j]"}, True) for k, o in enumerate(outs)]
    back += _backward_stmts(ops, order, edges, var, adj)
    slab_of, slab_var = _gradient_slabs(back, [adj[i] for i in param_insts])
    blocks, assembly = _gradient_layout(param_refs, param_shapes, param_insts, slab_of, C)
    D = [f"d{k}" for k in range(len(blocks))]
    back += [Stmt(f"{D[k]}[b, {_col(m * C)}]", Var("v"), {"v": slab_var[s0 + m]})
             for k, (s0, n) in enumerate(blocks) for m in range(n)]
    fwd = _render("fwd", P + O, loads + compute + stores, C, O[0])
    bwd = _render("bwd", P + G + D, loads + compute + back, C, D[0])
    return fwd + "\n\n" + bwd, blocks, assembly


_ZERO = Expr("const", 0.0)


def _col(c: int | None) -> str:
    return "0" if c is None else ("j" if c == 0 else f"j + {c}")


def _variable_names(ops, param_refs, param_insts, order) -> dict[Instance, str]:
    """Kernel variable names: the equation symbols the cell gave its tensors (`f_t`, `c_t`) where it named them,
    so that a student can read the generated code (`show`); `x<k>` for other loaded values, `v<k>` otherwise."""
    var: dict[Instance, str] = {}
    taken: set[str] = set()

    def fresh(base: str) -> str:
        name, k = base, 1
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        return name

    for inst in param_insts:
        var[inst] = fresh(f"x{param_refs.index(inst.ref)}")
    for k, inst in enumerate(order):
        label = ops[inst.ref.index].name
        base = re.sub(r"\W", "_", label) if label else f"v{k}"
        var[inst] = fresh(base if not label or (base.isidentifier() and not _RESERVED.match(base)) else f"v{k}_{base}")
    return var


# names the generated code uses itself: params, outputs, gradients, constants, loads, loop indices, adjoints
_RESERVED = re.compile(r"^((p|g|out|d|c|x|v)\d+(_\d+)?|R|b|j|np|jit|prange|d_.*|P_.*)$")


def _forward_stmts(ops, order, edges, var) -> list[Stmt]:
    """Each fused op's value, from its definition `f` (a column slice is a copy with shifted columns)."""
    out = []
    for inst in order:
        rec, ins = ops[inst.ref.index], edges[inst]
        if rec.op is M.GetItem:
            out.append(Stmt(var[inst], Var("a"), {"a": var[ins[0]]}))
        else:
            low = rec.op.lower(**rec.attrs)
            out.append(Stmt(var[inst], low.forward, dict(zip(low.inputs, (var[i] for i in ins)))))
    return out


def _backward_stmts(ops, order, edges, var, adj) -> list[Stmt]:
    """Reverse mode, one op at a time in reverse order: input k's adjoint += the op's derivative `df`[k], read
    with g = the op's adjoint, z = its value, and its inputs' values."""
    out = []
    for inst in reversed(order):
        rec, ins = ops[inst.ref.index], edges[inst]
        if rec.op is M.GetItem:
            out.append(Stmt(adj[ins[0]], Var("g"), {"g": adj[inst]}, True))
            continue
        low = rec.op.lower(**rec.attrs)
        names = dict(zip(low.inputs, (var[i] for i in ins)), g=adj[inst], z=var[inst])
        out += [Stmt(adj[i], d, names, True) for i, d in zip(ins, low.grads) if d is not None]
    return out


def _gradient_slabs(back: list[Stmt], param_adjs: list[str]) -> tuple[list[int], list[str]]:
    """Which variable holds each param instance's gradient. An adjoint whose only contribution is another adjoint
    (both inputs of gates = xw + hw get the gradient of the sum) is that variable: the two share one slab, so
    fewer stores and one gradient array for both params."""
    sources: dict[str, list[Stmt]] = {}
    for st in back:
        if st.accumulate:
            sources.setdefault(st.target, []).append(st)

    def root(v: str) -> str:
        src = sources.get(v, [])
        while len(src) == 1 and src[0].expr.op == "var":
            v = src[0].names.get(src[0].expr.args[0], src[0].expr.args[0])
            src = sources.get(v, [])
        return v

    slab_of, slab_var = [], []
    for a in param_adjs:
        r = root(a)
        if r not in slab_var:
            slab_var.append(r)
        slab_of.append(slab_var.index(r))
    return slab_of, slab_var


def _render(name: str, args: list[str], stmts: list[Stmt], C: int, like: str) -> str:
    """A kernel's source: a loop over the (R, C) grid running `stmts`; constants typed like array `like`."""
    code = nb.ScalarCode()
    body = [f"{st.target} {'+=' if st.accumulate else '='} {render(st.expr, code, st.names)}" for st in stmts]
    return "\n".join(["@jit", f"def {name}(R, {', '.join(args)}):", *("    " + c for c in code.prologue(like)),
                      "    for b in range(R):", f"        for j in range({C}):", *("            " + b for b in body)])


def _inst_key(inst: Instance) -> tuple:
    return (not inst.row, -1 if inst.col is None else inst.col)


_llvm_tuned = [False]


def _tune_llvm() -> None:
    """Let LLVM's loop vectorizer emit more run-time overlap checks than its default 128 (a process-wide LLVM
    option; it only changes which loops get vectorized, never results). The backward kernel stores to one slab per
    param instance: an LSTM's has 9 stores and 5 loaded arrays, over the default, and ran 7x slower unvectorized."""
    if not _llvm_tuned[0]:
        llvm.set_option("tinygrad_lstm", "-vectorize-memory-check-threshold=4096")
        _llvm_tuned[0] = True


_HEADER = "from tinygrad_lstm.kernels.jitcache import jit\nfrom tinygrad_lstm.kernels.scalar import *\n\n\n"


def _compile(source: str, dtype: np.dtype) -> tuple[Callable, Callable]:
    """numba kernels for `source` (through the on-disk cache: a new process loads them instead of compiling)."""
    _tune_llvm()
    mod = jitcache.load(_HEADER + source + "\n", "fused")
    return mod.fwd, mod.bwd
