"""Writing along an axis at positions an index tensor names (torch.scatter, torch.scatter_add), and the index
grids that gather and scatter share. Reading (gather) is an ordinary `GetItem` with these grids."""

from __future__ import annotations

import numpy as np

from ..autograd import Function


def index_grids(index: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """For each position p of `index`: the element at p on every axis except `axis`, where it is index[p].

    So that x[grids] is torch.gather(x, axis, index): `out[i][j][k] = x[i][index[i][j][k]][k]` for axis 1."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


class Scatter(Function):
    """z = x, then z[grids] = src (scatter) or z[grids] += src (scatter_add), src cut to the index's shape

    scatter:      dL/dx = g except 0 at the written places,   dL/dsrc = g[grids]   (where src was used; else 0)
    scatter_add:  dL/dx = g,                                   dL/dsrc = g[grids]"""

    def forward(self, x, src, grids, add):
        used = src[tuple(slice(n) for n in grids_shape(grids))]
        z = x.copy()
        if add:
            np.add.at(z, grids, used)  # repeated positions add up
        else:
            z[grids] = used
        self.save_for_backward(src.shape)
        return z

    def backward(self, g):
        (src_shape,) = self.saved_tensors
        grids, add = self.attrs["grids"], self.attrs["add"]
        gx = gsrc = None
        if self.needs_input_grad[0]:
            gx = g
            if not add:
                gx = g.copy()
                gx[grids] = 0
        if self.needs_input_grad[1]:
            gsrc = np.zeros(src_shape, dtype=g.dtype)
            gsrc[tuple(slice(n) for n in grids_shape(grids))] = g[grids]
        return gx, gsrc


def grids_shape(grids: tuple[np.ndarray, ...]) -> tuple[int, ...]:
    """The shape of the index the grids were made from."""
    return np.broadcast_shapes(*(a.shape for a in grids)) if grids else ()
