"""`Fused`: the op that runs a planned Group's kernels. Its forward computes all the group's outputs in one pass,
its backward all the gradients in another; both are generated from the traced ops (see fuse.py)."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from .fuse import Group


class Fused(Function):
    """z₁ … zₖ = the group's elementwise ops, per element        dz/dx: reverse mode through the same ops

    Returns the single output, or the k outputs stacked on a new leading axis (take them with z[0], z[1], …).
    """

    def forward(self, *params: np.ndarray, group: Group) -> np.ndarray:
        R, C = group.grid
        # the kernels read every param as 2-D (a bias (G·H,) as (1, G·H)); shapes were checked against the trace
        flat = [p if p.ndim == 2 else p.reshape(s) for p, s in zip(params, group.param_shapes)]
        out = np.empty((len(group.outputs), R, C), dtype=group.dtype)
        group.fwd(R, *flat, *out)  # out[k] are C-contiguous: as fast as separate arrays
        self.save_for_backward(*flat)
        return out if len(group.outputs) > 1 else out[0]

    def backward(self, g: np.ndarray):
        group: Group = self.attrs["group"]
        flat = self.saved_tensors
        R, C = group.grid
        gs = list(g) if len(group.outputs) > 1 else [g]
        blocks = [np.empty((R, n * C), dtype=group.dtype) for _, n in group.blocks]
        group.bwd(R, *flat, *gs, *blocks)
        grads = group.param_grads(blocks)
        return tuple(d.reshape(p.shape) if need else None
                     for d, p, need in zip(grads, self.parents, self.needs_input_grad))
