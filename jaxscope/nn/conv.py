"""Convolutions with TF1's signatures, each one ``lax.conv_general_dilated``.

Filters keep TF's layout (``[kh, kw, in, out]``; ``[kh, kw, out, in]`` for the transposed
convolutions) and channels-first inputs keep theirs: both are described to XLA through
dimension numbers, so no transpose is added. Padding follows TF exactly (see `same_padding`).
"""
# ruff: noqa: A002 - TF's argument names (input, filter) shadow builtins on purpose.

from __future__ import annotations

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
    channel_axis,
    kernel_layout,
    layout,
    output_size,
    padding_pairs,
    same_padding,
    spatial_axes,
    window_param,
)

__all__ = [
    "conv1d",
    "conv1d_transpose",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "conv3d_transpose",
    "depthwise_conv2d",
    "same_padding",
    "separable_conv2d",
]


def _convolve(
    x: jax.Array,
    w: jax.Array,
    strides: Any,
    padding: Padding,
    dilations: Any,
    lay: str,
    op: str,
) -> jax.Array:
    """One ``conv_general_dilated`` for an input and an ``[*k, in, out]`` filter in TF layout.

    An input depth that is a multiple of the filter's in-depth is a grouped convolution.
    """
    n = len(lay) - 2
    check_rank(x, n + 2, op, "input")
    check_rank(w, n + 2, op, "filter")
    strides = window_param(strides, n, lay, "strides", op)
    dilations = window_param(dilations, n, lay, "dilations", op)
    sizes = [x.shape[a] for a in spatial_axes(lay)]
    pads = padding_pairs(padding, sizes, w.shape[:n], strides, dilations, lay, op)
    in_depth, filter_depth, out_depth = x.shape[channel_axis(lay)], w.shape[n], w.shape[n + 1]
    if filter_depth == 0 or in_depth % filter_depth or out_depth % (in_depth // filter_depth):
        raise ValueError(
            f"{op}: depth of input ({in_depth}) must be a multiple of the filter's input "
            f"depth ({filter_depth}; filter shape {tuple(w.shape)}), and the filter's output "
            "depth a multiple of their ratio."
        )
    return lax.conv_general_dilated(
        x,
        w,
        window_strides=strides,
        padding=pads,
        rhs_dilation=dilations,
        dimension_numbers=(lay, kernel_layout(lay), lay),
        feature_group_count=in_depth // filter_depth,
    )


def conv1d(
    value: ArrayLike | None = None,
    filters: ArrayLike | None = None,
    stride: int | Sequence[int] | None = None,
    padding: Padding | None = None,
    use_cudnn_on_gpu: bool | None = None,
    data_format: str | None = None,
    name: str | None = None,
    input: ArrayLike | None = None,
    dilations: int | Sequence[int] | None = None,
) -> jax.Array:
    """1-D convolution of ``[N, W, Cin]`` by a ``[kw, Cin, Cout]`` filter (TF1 ``tf.nn.conv1d``).

    Args:
      value: the input, ``[N, W, Cin]`` (``"NWC"``) or ``[N, Cin, W]`` (``"NCW"``); ``input``
        is its newer name.
      filters: ``[kw, Cin, Cout]``.
      stride: an int, or a list of 1 or 3 (batch and channel entries 1).
      padding: ``"SAME"``, ``"VALID"`` or explicit ``[[0, 0], [left, right], [0, 0]]``.
      use_cudnn_on_gpu: accepted and ignored (XLA picks the kernel).
      data_format: ``"NWC"`` (default) or ``"NCW"``; ``"NHWC"``/``"NCHW"`` mean the same.
      name: optional ``jax.named_scope`` for the op.
      dilations: an int or a list of 1 or 3.

    Returns:
      ``[N, W_out, Cout]`` in the input's layout.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.conv1d(jnp.ones([1, 5, 2]), jnp.ones([3, 2, 4]), 2, "SAME").shape
      (1, 3, 4)
    """
    x = jnp.asarray(required(renamed("input", input, "value", value), "value", "conv1d"))
    with op_scope(name):
        w = jnp.asarray(required(filters, "filters", "conv1d"))
        lay = layout(data_format, 1, "conv1d")
        padding = required(padding, "padding", "conv1d")
        return _convolve(x, w, required(stride, "stride", "conv1d"), padding, dilations, lay,
                         "conv1d")


def conv2d(
    input: ArrayLike,
    filter: ArrayLike | None = None,
    strides: int | Sequence[int] | None = None,
    padding: Padding | None = None,
    use_cudnn_on_gpu: bool = True,
    data_format: str = "NHWC",
    dilations: int | Sequence[int] | None = None,
    name: str | None = None,
    filters: ArrayLike | None = None,
) -> jax.Array:
    """2-D convolution (TF1 ``tf.nn.conv2d``): ``[N, H, W, Cin]`` by ``[kh, kw, Cin, Cout]``.

    Args:
      input: ``[N, H, W, Cin]`` (``"NHWC"``) or ``[N, Cin, H, W]`` (``"NCHW"``).
      filter: ``[kh, kw, Cin, Cout]`` (``filters`` is its newer name). An input depth that is
        a multiple of ``Cin`` makes a grouped convolution.
      strides: an int, a pair, or TF's list of 4 (batch and channel entries 1).
      padding: ``"SAME"``, ``"VALID"``, or explicit pairs in data_format order, e.g.
        ``[[0, 0], [top, bottom], [left, right], [0, 0]]``.
      use_cudnn_on_gpu: accepted and ignored.
      data_format: ``"NHWC"`` or ``"NCHW"``.
      dilations: an int, a pair, or a list of 4.
      name: optional ``jax.named_scope`` for the op.

    Returns:
      The output in the input's layout, ``Cout`` channels.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x, w = jnp.ones([1, 5, 5, 3]), jnp.ones([3, 3, 3, 8])
      >>> js.nn.conv2d(x, w, strides=[1, 2, 2, 1], padding="SAME").shape
      (1, 3, 3, 8)
    """
    x = jnp.asarray(input)
    with op_scope(name):
        w = jnp.asarray(required(renamed("filters", filters, "filter", filter), "filter",
                                 "conv2d"))
        lay = layout(data_format, 2, "conv2d")
        return _convolve(x, w, required(strides, "strides", "conv2d"),
                         required(padding, "padding", "conv2d"), dilations, lay, "conv2d")


def conv3d(
    input: ArrayLike,
    filter: ArrayLike | None = None,
    strides: int | Sequence[int] | None = None,
    padding: Padding | None = None,
    data_format: str = "NDHWC",
    dilations: int | Sequence[int] | None = None,
    name: str | None = None,
    filters: ArrayLike | None = None,
) -> jax.Array:
    """3-D convolution (TF1 ``tf.nn.conv3d``): ``[N, D, H, W, Cin]`` by ``[kd, kh, kw, Cin, Cout]``.

    Args:
      input: ``"NDHWC"`` or ``"NCDHW"`` input.
      filter: ``[kd, kh, kw, Cin, Cout]`` (``filters`` is its newer name).
      strides: an int, a triple, or TF's list of 5.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs.
      data_format: ``"NDHWC"`` or ``"NCDHW"``.
      dilations: an int, a triple, or a list of 5.
      name: optional ``jax.named_scope`` for the op.

    Returns:
      The output in the input's layout.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.conv3d(jnp.ones([1, 4, 4, 4, 1]), jnp.ones([2, 2, 2, 1, 3]),
      ...              [1, 1, 1, 1, 1], "VALID").shape
      (1, 3, 3, 3, 3)
    """
    x = jnp.asarray(input)
    with op_scope(name):
        w = jnp.asarray(required(renamed("filters", filters, "filter", filter), "filter",
                                 "conv3d"))
        lay = layout(data_format, 3, "conv3d")
        return _convolve(x, w, required(strides, "strides", "conv3d"),
                         required(padding, "padding", "conv3d"), dilations, lay, "conv3d")


def depthwise_conv2d(
    input: ArrayLike,
    filter: ArrayLike,
    strides: int | Sequence[int],
    padding: Padding,
    rate: int | Sequence[int] | None = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: int | Sequence[int] | None = None,
) -> jax.Array:
    """Depthwise convolution (TF1 ``tf.nn.depthwise_conv2d``), a grouped ``conv_general_dilated``.

    Output channel ``k * multiplier + m`` is input channel ``k`` convolved with
    ``filter[:, :, k, m]``.

    Args:
      input: ``[N, H, W, Cin]`` (or ``"NCHW"``).
      filter: ``[kh, kw, Cin, multiplier]``.
      strides: an int, a pair, or TF's list of 4.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs.
      rate: dilation, an int or a pair (``dilations`` is its newer name).
      name: optional ``jax.named_scope`` for the op.
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.

    Returns:
      ``Cin * multiplier`` channels.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.depthwise_conv2d(jnp.ones([1, 4, 4, 3]), jnp.ones([3, 3, 3, 2]),
      ...                        [1, 1, 1, 1], "SAME").shape
      (1, 4, 4, 6)
    """
    x = jnp.asarray(input)
    with op_scope(name):
        return _depthwise(x, jnp.asarray(filter), strides, padding,
                          renamed("dilations", dilations, "rate", rate),
                          layout(data_format, 2, "depthwise_conv2d"), "depthwise_conv2d")


def _depthwise(x: jax.Array, w: jax.Array, strides: Any, padding: Padding, dilations: Any,
               lay: str, op: str) -> jax.Array:
    check_rank(w, 4, op, "filter")
    in_depth = x.shape[channel_axis(lay)] if x.ndim == 4 else None
    if in_depth is not None and w.shape[2] != in_depth:
        raise ValueError(
            f"{op}: the filter's input depth ({w.shape[2]}, filter shape {tuple(w.shape)}) "
            f"must equal the input's depth ({in_depth})."
        )
    kh, kw, cin, multiplier = w.shape
    # [kh, kw, Cin, M] -> [kh, kw, 1, Cin*M]: channel k*M+m lands in group k, as TF orders it.
    grouped = w.reshape(kh, kw, 1, cin * multiplier)
    return _convolve(x, grouped, strides, padding, dilations, lay, op)


def separable_conv2d(
    input: ArrayLike,
    depthwise_filter: ArrayLike,
    pointwise_filter: ArrayLike,
    strides: int | Sequence[int],
    padding: Padding,
    rate: int | Sequence[int] | None = None,
    name: str | None = None,
    data_format: str | None = None,
    dilations: int | Sequence[int] | None = None,
) -> jax.Array:
    """Depthwise then 1x1 convolution (TF1 ``tf.nn.separable_conv2d``).

    Args:
      input: ``[N, H, W, Cin]`` (or ``"NCHW"``).
      depthwise_filter: ``[kh, kw, Cin, multiplier]``, applied with ``strides``, ``padding``
        and ``rate``.
      pointwise_filter: ``[1, 1, Cin * multiplier, Cout]``, applied with stride 1, VALID.
      strides: an int, a pair, or TF's list of 4.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs.
      rate: dilation of the depthwise step (``dilations`` is its newer name).
      name: optional ``jax.named_scope`` for the op.
      data_format: ``"NHWC"`` (default) or ``"NCHW"``.

    Returns:
      ``Cout`` channels.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.separable_conv2d(jnp.ones([1, 4, 4, 3]), jnp.ones([3, 3, 3, 2]),
      ...                        jnp.ones([1, 1, 6, 5]), [1, 1, 1, 1], "VALID").shape
      (1, 2, 2, 5)
    """
    op = "separable_conv2d"
    x = jnp.asarray(input)
    with op_scope(name):
        lay = layout(data_format, 2, op)
        pointwise = jnp.asarray(pointwise_filter)
        check_rank(pointwise, 4, op, "pointwise_filter")
        if pointwise.shape[:2] != (1, 1):
            raise ValueError(
                f"{op}: pointwise_filter must be [1, 1, in, out], got shape "
                f"{tuple(pointwise.shape)}."
            )
        depthwise = _depthwise(x, jnp.asarray(depthwise_filter), strides, padding,
                               renamed("dilations", dilations, "rate", rate), lay, op)
        return _convolve(depthwise, pointwise, 1, "VALID", 1, lay, op)


def _static_shape(output_shape: Any, op: str) -> list[int]:
    try:
        return [int(d) for d in np.asarray(output_shape).reshape(-1)]
    except (TypeError, jax.errors.ConcretizationTypeError) as error:
        raise TypeError(
            f"{op}: output_shape must be known when tracing (a list of ints or a concrete "
            f"array), got {output_shape!r}."
        ) from error


def _convolve_transpose(
    x: jax.Array,
    w: jax.Array,
    output_shape: Any,
    strides: Any,
    padding: Padding,
    dilations: Any,
    lay: str,
    op: str,
) -> jax.Array:
    """The gradient of `_convolve` w.r.t. its input, as one dilated ``conv_general_dilated``.

    ``w`` is ``[*k, out, in]``. The forward convolution maps ``output_shape`` onto ``x``'s
    shape; TF refuses an ``output_shape`` for which it does not, and so does this.
    """
    n = len(lay) - 2
    check_rank(x, n + 2, op, "value")
    check_rank(w, n + 2, op, "filter")
    strides = window_param(strides, n, lay, "strides", op)
    dilations = window_param(dilations, n, lay, "dilations", op)
    axes, c_axis = spatial_axes(lay), channel_axis(lay)
    shape = _static_shape(output_shape, op)
    if len(shape) == n + 2:
        out_sizes = [shape[a] for a in axes]
        if shape[c_axis] != w.shape[n]:
            raise ValueError(
                f"{op}: output_shape does not match filter's output channels, "
                f"{shape[c_axis]} != {w.shape[n]}"
            )
        if shape[0] != x.shape[0]:
            raise ValueError(
                f"{op}: input and out_backprop must have the same batch size, input batch: "
                f"{shape[0]} outbackprop batch: {x.shape[0]} batch_dim: 0"
            )
    elif len(shape) == n:
        out_sizes = shape
    else:
        raise ValueError(f"{op}: output_shape must have {n + 2} entries, got {output_shape!r}.")
    if x.shape[c_axis] != w.shape[n + 1]:
        raise ValueError(
            f"{op}: input channels does not match filter's input channels, "
            f"{x.shape[c_axis]} != {w.shape[n + 1]}"
        )
    kernel = w.shape[:n]
    pads = padding_pairs(padding, out_sizes, kernel, strides, dilations, lay, op)
    transposed_pads = []
    for i, axis in enumerate(axes):
        size, k, s, d, (lo, hi) = out_sizes[i], kernel[i], strides[i], dilations[i], pads[i]
        computed, actual = output_size(size, k, s, d, (lo, hi)), x.shape[axis]
        if computed != actual:
            raise ValueError(
                f"{_backprop_op_name(n)}: Size of out_backprop doesn't match computed: "
                f"actual = {actual}, computed = {computed} spatial_dim: {axis} input: {size} "
                f"filter: {k} output: {actual} stride: {s} dilation: {d}"
            )
        effective = (k - 1) * d + 1
        # Rows of the padded output that the forward windows never reached.
        uncovered = size + lo + hi - effective - (actual - 1) * s
        transposed_pads.append((effective - 1 - lo, effective - 1 - hi + uncovered))
    return lax.conv_general_dilated(
        x,
        lax.rev(w, tuple(range(n))),
        window_strides=(1,) * n,
        padding=transposed_pads,
        lhs_dilation=strides,
        rhs_dilation=dilations,
        dimension_numbers=(lay, kernel_layout(lay, "OI"), lay),
    )


def _backprop_op_name(n: int) -> str:
    return "Conv3DBackpropInputOpV2" if n == 3 else "Conv2DCustomBackpropInput"


def conv2d_transpose(
    value: ArrayLike | None = None,
    filter: ArrayLike | None = None,
    output_shape: Sequence[int] | ArrayLike | None = None,
    strides: int | Sequence[int] | None = None,
    padding: Padding = "SAME",
    data_format: str = "NHWC",
    name: str | None = None,
    input: ArrayLike | None = None,
    filters: ArrayLike | None = None,
    dilations: int | Sequence[int] | None = None,
) -> jax.Array:
    """Transposed 2-D convolution (TF1 ``tf.nn.conv2d_transpose``): the gradient of `conv2d`.

    Args:
      value: ``[N, H, W, Cin]`` (``input`` is its newer name).
      filter: ``[kh, kw, Cout, Cin]`` -- output channels first, as TF (``filters``).
      output_shape: ``[N, H_out, W_out, Cout]`` in data_format order (or the spatial sizes).
        `conv2d` of that shape with these strides and padding must give ``value``'s shape,
        else ``ValueError`` with TF's "Size of out_backprop doesn't match computed".
      strides: an int, a pair, or TF's list of 4.
      padding: ``"SAME"``, ``"VALID"`` or explicit pairs (of the forward convolution).
      data_format: ``"NHWC"`` or ``"NCHW"``.
      name: optional ``jax.named_scope`` for the op.
      dilations: an int, a pair, or a list of 4.

    Returns:
      An array of ``output_shape``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.conv2d_transpose(jnp.ones([1, 4, 4, 5]), jnp.ones([3, 3, 2, 5]),
      ...                        [1, 8, 8, 2], [1, 2, 2, 1], "SAME").shape
      (1, 8, 8, 2)
    """
    return _transpose_op(value, input, filter, filters, output_shape, strides, padding,
                         data_format, dilations, name, 2, "conv2d_transpose")


def conv1d_transpose(
    input: ArrayLike,
    filters: ArrayLike,
    output_shape: Sequence[int] | ArrayLike,
    strides: int | Sequence[int],
    padding: Padding = "SAME",
    data_format: str = "NWC",
    dilations: int | Sequence[int] | None = None,
    name: str | None = None,
) -> jax.Array:
    """Transposed 1-D convolution (``tf.nn.conv1d_transpose``), filter ``[kw, Cout, Cin]``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.conv1d_transpose(jnp.ones([1, 3, 4]), jnp.ones([3, 2, 4]), [1, 6, 2], 2).shape
      (1, 6, 2)
    """
    return _transpose_op(input, None, filters, None, output_shape, strides, padding,
                         data_format, dilations, name, 1, "conv1d_transpose")


def conv3d_transpose(
    value: ArrayLike | None = None,
    filter: ArrayLike | None = None,
    output_shape: Sequence[int] | ArrayLike | None = None,
    strides: int | Sequence[int] | None = None,
    padding: Padding = "SAME",
    data_format: str = "NDHWC",
    name: str | None = None,
    input: ArrayLike | None = None,
    filters: ArrayLike | None = None,
    dilations: int | Sequence[int] | None = None,
) -> jax.Array:
    """Transposed 3-D convolution (TF1 ``tf.nn.conv3d_transpose``), filter ``[*k, out, in]``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.conv3d_transpose(jnp.ones([1, 2, 2, 2, 4]), jnp.ones([2, 2, 2, 3, 4]),
      ...                        [1, 4, 4, 4, 3], [1, 2, 2, 2, 1], "VALID").shape
      (1, 4, 4, 4, 3)
    """
    return _transpose_op(value, input, filter, filters, output_shape, strides, padding,
                         data_format, dilations, name, 3, "conv3d_transpose")


def _transpose_op(value: Any, input: Any, filter: Any, filters: Any, output_shape: Any,
                  strides: Any, padding: Padding, data_format: str | None, dilations: Any,
                  name: str | None, n: int, op: str) -> jax.Array:
    x = jnp.asarray(required(renamed("input", input, "value", value), "value", op))
    with op_scope(name):
        w = jnp.asarray(required(renamed("filters", filters, "filter", filter), "filter", op))
        return _convolve_transpose(x, w, required(output_shape, "output_shape", op),
                                   required(strides, "strides", op), padding, dilations,
                                   layout(data_format, n, op), op)
