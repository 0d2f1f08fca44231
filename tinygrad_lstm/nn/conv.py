"""`conv1d` with torch.nn.functional's arguments and semantics (channels first: input (N, C_in, L),
weight (C_out, C_in, K)), on the `ops.conv.Conv1d` op. Re-exported as ``nn.functional.conv1d``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.conv import Conv1d, conv1d_output_length
from ..tensor import Tensor


def same_padding(length: int, kernel_size: int, stride: int, dilation: int) -> tuple[int, int]:
    """The (left, right) zero padding that makes L_out = ⌈L / stride⌉, the extra one on the right (TensorFlow's
    and Keras's 'same'; for stride 1 also torch's: d·(K - 1) in total)."""
    out = -(-length // stride)
    total = max((out - 1) * stride + dilation * (kernel_size - 1) + 1 - length, 0)
    return total // 2, total - total // 2


def conv1d_padded(x: Tensor, weight: Tensor, bias: Tensor | None, stride: int, pad: tuple[int, int],
                  dilation: int, name: str = "conv1d") -> Tensor:
    """The checked op call: x (N, C, L), weight (O, C, K), explicit (left, right) padding."""
    if x.ndim != 3 or weight.ndim != 3:
        raise ValueError(f"{name}: expected input (N, C_in, L) and weight (C_out, C_in, K), got input of shape "
                         f"{x.shape} and weight of shape {weight.shape}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"{name}: input has {x.shape[1]} channels (shape {x.shape}) but weight of shape "
                         f"{weight.shape} expects {weight.shape[1]}")
    if stride < 1 or dilation < 1 or min(pad) < 0:
        raise ValueError(f"{name}: stride and dilation must be >= 1 and padding >= 0, got stride={stride}, "
                         f"dilation={dilation}, padding={pad}")
    if conv1d_output_length(x.shape[2], weight.shape[2], stride, dilation, pad) < 1:
        raise ValueError(f"{name}: input of length {x.shape[2]} (padded by {pad}) is shorter than the kernel's "
                         f"reach d·(K - 1) + 1 = {dilation * (weight.shape[2] - 1) + 1}")
    if weight.dtype != x.dtype:
        x = x.astype(weight.dtype)
    y = Conv1d.apply(x, weight, stride=int(stride), padding=(int(pad[0]), int(pad[1])), dilation=int(dilation))
    if bias is not None:
        y = y + bias.reshape(1, -1, 1)
    return y


def conv1d(input: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int | str = 0,  # noqa: A002
           dilation: int = 1, groups: int = 1) -> Tensor:
    """torch.nn.functional.conv1d: input (N, C_in, L) or (C_in, L), weight (C_out, C_in, K), bias (C_out,);
    padding an int (both ends), 'valid' (0) or 'same' (stride 1 only, as torch)."""
    if groups != 1:
        raise NotImplementedError(f"conv1d: groups={groups} is not supported (only groups=1)")
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
    b = bias if bias is None or isinstance(bias, Tensor) else Tensor(np.asarray(bias))
    unbatched = x.ndim == 2
    if unbatched:
        x = x.reshape((1,) + x.shape)
    if padding == "valid":
        pad = (0, 0)
    elif padding == "same":
        if stride != 1:
            raise ValueError("conv1d: padding='same' is not supported for strided convolutions (as torch)")
        pad = same_padding(x.shape[-1], w.shape[-1] if w.ndim == 3 else 1, 1, dilation)
    elif isinstance(padding, (int, np.integer)):
        pad = (int(padding), int(padding))
    else:
        raise ValueError(f"conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
    y = conv1d_padded(x, w, b, stride, pad, dilation)
    return y.reshape(y.shape[1:]) if unbatched else y


__all__ = ["conv1d", "conv1d_padded", "same_padding"]
