"""Max and average pooling with TF1's signatures, each one ``lax.reduce_window``.

The rank of the input picks 1-, 2- or 3-D pooling; ``data_format`` only says where the
channels are (``"NHWC"`` or ``"NCHW"`` and their 1-D/3-D spellings).
"""
# ruff: noqa: A002 - TF's argument name (input) shadows a builtin on purpose.

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxscope.nn._common import check_rank, op_scope, renamed, required
from jaxscope.nn._window import (
    Padding,
    full_rank,
    layout,
    output_size,
    padding_pairs,
    spatial_axes,
    window_param,
)

__all__ = [
    "avg_pool",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "max_pool",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
]


class _Window:
    """A pooling window resolved against an input: full-rank dims, strides and padding."""

    def __init__(self, x: jax.Array, ksize: Any, strides: Any, padding: Padding,
                 data_format: str | None, op: str):
        check_rank(x, (3, 4, 5), op, "input")
        n = x.ndim - 2
        self.layout = lay = layout(data_format, n, op)
        self.sizes = [x.shape[a] for a in spatial_axes(lay)]
        self.window = window_param(required(ksize, "ksize", op), n, lay, "ksize", op)
        self.strides = window_param(required(strides, "strides", op), n, lay, "strides", op)
        self.pads = padding_pairs(required(padding, "padding", op), self.sizes, self.window,
                                  self.strides, (1,) * n, lay, op)

    def reduce(self, x: jax.Array, init: Any, computation: Any) -> jax.Array:
        return lax.reduce_window(
            x,
            np.array(init, x.dtype),  # a concrete identity: lax then uses its differentiable
            computation,  # reduce_window_max / reduce_window_sum primitives
            full_rank(self.window, self.layout, 1),
            full_rank(self.strides, self.layout, 1),
            full_rank(self.pads, self.layout, (0, 0)),
        )

    def valid_counts(self) -> np.ndarray:
        """How many unpadded cells each output window covers, shaped to broadcast."""
        per_axis = []
        for size, k, s, (lo, hi) in zip(self.sizes, self.window, self.strides, self.pads):
            starts = np.arange(output_size(size, k, s, 1, (lo, hi))) * s - lo
            per_axis.append(np.minimum(starts + k, size) - np.maximum(starts, 0))
        counts = functools.reduce(np.multiply.outer, per_axis)
        return counts.reshape(full_rank(counts.shape, self.layout, 1))


def _lowest(dtype: Any) -> Any:
    if jnp.issubdtype(dtype, jnp.floating):
        return -np.inf
    if jnp.issubdtype(dtype, jnp.integer):
        return jnp.iinfo(dtype).min
    raise TypeError(f"max_pool needs a real-valued input, got dtype {dtype}.")


def max_pool(
    value: ArrayLike | None = None,
    ksize: int | Sequence[int] | None = None,
    strides: int | Sequence[int] | None = None,
    padding: Padding | None = None,
    data_format: str = "NHWC",
    name: str | None = None,
    input: ArrayLike | None = None,
) -> jax.Array:
    """Max pooling (TF1 ``tf.nn.max_pool``); padded cells never win (they act as -inf).

    Args:
      value: ``[N, H, W, C]`` (rank 3 or 5 for 1-D or 3-D pooling; ``input`` is its newer
        name).
      ksize: an int, one value per spatial dim, or TF's full list (batch/channel 1).
      strides: as ``ksize``.
      padding: ``"SAME"``, ``"VALID"``, or explicit pairs in data_format order.
      data_format: ``"NHWC"`` (channels last, any rank) or ``"NCHW"`` (channels first).
      name: optional ``jax.named_scope`` for the op.

    Returns:
      The pooled array, same layout.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> js.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")[0, :, :, 0].tolist()
      [[5.0, 7.0], [13.0, 15.0]]
    """
    x = jnp.asarray(required(renamed("input", input, "value", value), "value", "max_pool"))
    with op_scope(name):
        window = _Window(x, ksize, strides, padding, data_format, "max_pool")
        return window.reduce(x, _lowest(x.dtype), lax.max)


def avg_pool(
    value: ArrayLike | None = None,
    ksize: int | Sequence[int] | None = None,
    strides: int | Sequence[int] | None = None,
    padding: Padding | None = None,
    data_format: str = "NHWC",
    name: str | None = None,
    input: ArrayLike | None = None,
) -> jax.Array:
    """Average pooling (TF1 ``tf.nn.avg_pool``).

    With SAME padding each window's sum is divided by the number of cells it covers inside
    the input (TF excludes the padding from the average).

    Args:
      value: ``[N, H, W, C]`` floats (rank 3 or 5 for 1-D or 3-D pooling; ``input`` is its
        newer name).
      ksize: an int, one value per spatial dim, or TF's full list (batch/channel 1).
      strides: as ``ksize``.
      padding: ``"SAME"`` or ``"VALID"`` (TF's avg_pool has no explicit padding).
      data_format: ``"NHWC"`` (channels last, any rank) or ``"NCHW"`` (channels first).
      name: optional ``jax.named_scope`` for the op.

    Returns:
      The pooled array, same layout.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(9.0).reshape(1, 3, 3, 1)
      >>> js.nn.avg_pool(x, 2, 2, "SAME")[0, :, :, 0].tolist()  # 2x2, 2x1, 1x2, 1x1 cells
      [[2.0, 3.5], [6.5, 8.0]]
    """
    x = jnp.asarray(required(renamed("input", input, "value", value), "value", "avg_pool"))
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"avg_pool needs a floating-point input, got dtype {x.dtype}.")
    if not isinstance(padding, (str, bytes)) and padding is not None:
        raise ValueError(
            f'avg_pool: padding must be "SAME" or "VALID" (TF\'s avg_pool has no explicit '
            f"padding), got {padding!r}."
        )
    with op_scope(name):
        window = _Window(x, ksize, strides, padding, data_format, "avg_pool")
        sums = window.reduce(x, 0, lax.add)
        if not any(lo or hi for lo, hi in window.pads):
            return sums / np.array(np.prod(window.window), x.dtype)
        return sums / window.valid_counts().astype(x.dtype)


def max_pool1d(
    input: ArrayLike,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: Padding,
    data_format: str = "NWC",
    name: str | None = None,
) -> jax.Array:
    """`max_pool` of ``[N, W, C]`` (TF2's ``tf.nn.max_pool1d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1.0, 3.0, 2.0, 5.0, 4.0]).reshape(1, 5, 1)  # [N, W, C]
      >>> js.nn.max_pool1d(x, ksize=2, strides=2, padding="SAME")[0, :, 0].tolist()
      [3.0, 5.0, 4.0]
    """
    return max_pool(input, ksize, strides, padding, data_format, name)


def max_pool2d(
    input: ArrayLike,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: Padding,
    data_format: str = "NHWC",
    name: str | None = None,
) -> jax.Array:
    """`max_pool` of ``[N, H, W, C]`` (TF2's ``tf.nn.max_pool2d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> js.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")[0, :, :, 0].tolist()
      [[5.0, 7.0], [13.0, 15.0]]
    """
    return max_pool(input, ksize, strides, padding, data_format, name)


def max_pool3d(
    input: ArrayLike,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: Padding,
    data_format: str = "NDHWC",
    name: str | None = None,
) -> jax.Array:
    """`max_pool` of ``[N, D, H, W, C]`` (TF2's ``tf.nn.max_pool3d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(8.0).reshape(1, 2, 2, 2, 1)  # [N, D, H, W, C]
      >>> js.nn.max_pool3d(x, ksize=2, strides=2, padding="VALID").reshape(-1).tolist()
      [7.0]
    """
    return max_pool(input, ksize, strides, padding, data_format, name)


def avg_pool1d(
    input: ArrayLike,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: Padding,
    data_format: str = "NWC",
    name: str | None = None,
) -> jax.Array:
    """`avg_pool` of ``[N, W, C]`` (TF2's ``tf.nn.avg_pool1d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1.0, 3.0, 2.0, 5.0, 4.0]).reshape(1, 5, 1)  # [N, W, C]
      >>> js.nn.avg_pool1d(x, ksize=2, strides=2, padding="SAME")[0, :, 0].tolist()
      [2.0, 3.5, 4.0]
    """
    return avg_pool(input, ksize, strides, padding, data_format, name)


def avg_pool2d(
    input: ArrayLike,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: Padding,
    data_format: str = "NHWC",
    name: str | None = None,
) -> jax.Array:
    """`avg_pool` of ``[N, H, W, C]`` (TF2's ``tf.nn.avg_pool2d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> js.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID")[0, :, :, 0].tolist()
      [[2.5, 4.5], [10.5, 12.5]]
    """
    return avg_pool(input, ksize, strides, padding, data_format, name)


def avg_pool3d(
    input: ArrayLike,
    ksize: int | Sequence[int],
    strides: int | Sequence[int],
    padding: Padding,
    data_format: str = "NDHWC",
    name: str | None = None,
) -> jax.Array:
    """`avg_pool` of ``[N, D, H, W, C]`` (TF2's ``tf.nn.avg_pool3d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(8.0).reshape(1, 2, 2, 2, 1)  # [N, D, H, W, C]
      >>> js.nn.avg_pool3d(x, ksize=2, strides=2, padding="VALID").reshape(-1).tolist()
      [3.5]
    """
    return avg_pool(input, ksize, strides, padding, data_format, name)
