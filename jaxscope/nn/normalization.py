"""Normalizations with TF1's signatures: batch norm (plain and fused), moments, LRN, L2."""
# ruff: noqa: A002 - TF's argument name (input) shadows a builtin on purpose.

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from jaxscope.nn._common import check_rank, op_scope, renamed, upcast_half

__all__ = [
    "batch_normalization",
    "fused_batch_norm",
    "l2_normalize",
    "local_response_normalization",
    "lrn",
    "moments",
]

def batch_normalization(
    x: ArrayLike,
    mean: ArrayLike,
    variance: ArrayLike,
    offset: ArrayLike | None,
    scale: ArrayLike | None,
    variance_epsilon: float,
    name: str | None = None,
) -> jax.Array:
    """``scale * (x - mean) / sqrt(variance + eps) + offset`` (TF1 ``tf.nn.batch_normalization``).

    Computed as TF does: ``x * inv + (offset - mean * inv)`` with
    ``inv = scale * rsqrt(variance + variance_epsilon)``. All arguments broadcast against
    ``x``; ``offset`` and ``scale`` may be None.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.batch_normalization(jnp.array([1.0, 3.0]), 2.0, 1.0, None, None, 0.0).tolist()
      [-1.0, 1.0]
    """
    x = jnp.asarray(x)
    with op_scope(name):
        inv = lax.rsqrt(jnp.asarray(variance) + variance_epsilon)
        if scale is not None:
            inv = inv * scale
        shift = -jnp.asarray(mean) * inv if offset is None else offset - mean * inv
        return x * inv.astype(x.dtype) + jnp.asarray(shift).astype(x.dtype)


def moments(
    x: ArrayLike,
    axes: int | Sequence[int],
    shift: ArrayLike | None = None,
    name: str | None = None,
    keep_dims: bool | None = None,
    keepdims: bool | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Mean and (biased) variance of ``x`` over ``axes`` (TF1 ``tf.nn.moments``).

    Args:
      x: the input; half floats are reduced in float32 and the results cast back.
      axes: the axes to reduce.
      shift: unused, as in TF.
      name: optional ``jax.named_scope`` for the op.
      keep_dims: keep the reduced axes with length 1 (``keepdims`` is its newer name).

    Returns:
      ``(mean, variance)``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> [m.tolist() for m in js.nn.moments(jnp.array([[1.0, 2.0], [3.0, 6.0]]), [0])]
      [[2.0, 4.0], [1.0, 4.0]]
    """
    x = jnp.asarray(x)
    keep = bool(renamed("keepdims", keepdims, "keep_dims", keep_dims))
    axes = (axes,) if isinstance(axes, int) else tuple(int(a) for a in axes)
    with op_scope(name):
        y = upcast_half(x)
        mean = jnp.mean(y, axes, keepdims=True)
        # TF stops the gradient through the mean here; the derivative is the same anyway.
        variance = jnp.mean(jnp.square(y - lax.stop_gradient(mean)), axes, keepdims=True)
        if not keep:
            mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
        return mean.astype(x.dtype), variance.astype(x.dtype)


def fused_batch_norm(
    x: ArrayLike,
    scale: ArrayLike,
    offset: ArrayLike,
    mean: ArrayLike | None = None,
    variance: ArrayLike | None = None,
    epsilon: float = 0.001,
    data_format: str = "NHWC",
    is_training: bool = True,
    name: str | None = None,
    exponential_avg_factor: float = 1.0,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Batch norm of a 4-D or 5-D input over all axes but channels (TF1 ``tf.nn.fused_batch_norm``).

    In training the batch statistics normalize ``x`` with the *biased* variance, while the
    returned variance is TF's *unbiased* one (``n / (n - 1)``), which is what TF's fused
    kernel feeds into moving averages. ``epsilon`` is used as given, as TensorFlow 2.21's
    ``tf.compat.v1`` does (API decision 12; TF 1.x raised an epsilon below 1.001e-5 to it).

    Args:
      x: ``[N, H, W, C]`` (or ``"NCHW"``, ``"NDHWC"``, ``"NCDHW"``); half floats are
        computed in float32 and ``y`` cast back.
      scale: ``[C]``.
      offset: ``[C]``.
      mean: ``[C]``; required for inference, and in training the previous running mean
        when ``exponential_avg_factor != 1``.
      variance: ``[C]``, as ``mean``.
      epsilon: added to the variance.
      data_format: where the channels are.
      is_training: use batch statistics (True) or ``mean``/``variance`` (False).
      name: optional ``jax.named_scope`` for the op.
      exponential_avg_factor: in training, the returned statistics are
        ``(1 - f) * mean + f * batch_mean`` (and likewise the variance).

    Returns:
      ``(y, batch_mean, batch_variance)``; in inference, ``mean`` and ``variance`` as given.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1.0, 3.0]).reshape(2, 1, 1, 1)
      >>> y, m, v = js.nn.fused_batch_norm(x, jnp.ones(1), jnp.zeros(1), epsilon=0.0)
      >>> y.ravel().round(3).tolist(), m.tolist(), v.tolist()  # v = 1 * 2/(2-1)
      ([-1.0, 1.0], [2.0], [2.0])
    """
    op = "fused_batch_norm"
    x = jnp.asarray(x)
    check_rank(x, (4, 5), op, "x")
    fmt = str(data_format).upper()
    if fmt not in ("NHWC", "NCHW", "NDHWC", "NCDHW"):
        raise ValueError(f"{op}: data_format must be NHWC, NCHW, NDHWC or NCDHW, got {fmt!r}.")
    c_axis = 1 if fmt.startswith("NC") else x.ndim - 1
    epsilon = float(epsilon)
    with op_scope(name):
        y = upcast_half(x)
        axes = tuple(a for a in range(x.ndim) if a != c_axis)
        per_channel = [1] * x.ndim
        per_channel[c_axis] = -1
        if is_training:
            batch_mean, batch_var = moments(y, axes)
            out_mean, out_var = _fused_statistics(
                batch_mean, batch_var, x.size // x.shape[c_axis], mean, variance,
                exponential_avg_factor,
            )
        else:
            if mean is None or variance is None:
                raise ValueError(
                    f"{op}: both 'mean' and 'variance' must be a 1-D tensor when "
                    "is_training is False."
                )
            batch_mean, batch_var = jnp.asarray(mean), jnp.asarray(variance)
            out_mean, out_var = batch_mean, batch_var
        factor = lax.rsqrt(batch_var + epsilon) * scale
        normalized = (y - batch_mean.reshape(per_channel)) * factor.reshape(per_channel)
        normalized = normalized + jnp.reshape(jnp.asarray(offset), per_channel)
        return normalized.astype(x.dtype), out_mean, out_var


def _fused_statistics(
    batch_mean: jax.Array,
    batch_var: jax.Array,
    count: int,
    mean: ArrayLike | None,
    variance: ArrayLike | None,
    factor: float,
) -> tuple[jax.Array, jax.Array]:
    """The statistics the fused kernel returns in training: unbiased, optionally averaged."""
    unbiased = batch_var * np.float32(count / max(count - 1, 1)).astype(batch_var.dtype)
    if factor == 1.0:
        return batch_mean, unbiased
    if mean is None or variance is None:
        raise ValueError(
            "fused_batch_norm: exponential_avg_factor != 1 needs the running 'mean' and "
            "'variance'."
        )
    return ((1 - factor) * jnp.asarray(mean) + factor * batch_mean,
            (1 - factor) * jnp.asarray(variance) + factor * unbiased)


def local_response_normalization(
    input: ArrayLike,
    depth_radius: int = 5,
    bias: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.5,
    name: str | None = None,
) -> jax.Array:
    """Local response normalization across channels (TF ``tf.nn.local_response_normalization``).

    ``out[..., c] = x[..., c] / (bias + alpha * sum(x[..., c-r:c+r+1] ** 2)) ** beta``; the
    window is clipped at the first and last channel. One ``lax.reduce_window`` sums it.

    Args:
      input: ``[N, H, W, C]``.
      depth_radius: half-width ``r`` of the channel window.
      bias: offset.
      alpha: scale of the sum of squares.
      beta: exponent.
      name: optional ``jax.named_scope`` for the op.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1.0, 1.0, 1.0]).reshape(1, 1, 1, 3)
      >>> js.nn.lrn(x, depth_radius=1, bias=0.0, alpha=1.0, beta=1.0).ravel().tolist()
      [0.5, 0.3333333432674408, 0.5]
    """
    x = jnp.asarray(input)
    check_rank(x, 4, "local_response_normalization", "input")
    r = int(depth_radius)
    with op_scope(name):
        squares_sum = lax.reduce_window(
            jnp.square(x),
            np.array(0, x.dtype),  # concrete zero: lax's differentiable reduce_window_sum
            lax.add,
            (1, 1, 1, 2 * r + 1),
            (1, 1, 1, 1),
            ((0, 0), (0, 0), (0, 0), (r, r)),
        )
        return x * (bias + alpha * squares_sum) ** -beta


lrn = local_response_normalization


def l2_normalize(
    x: ArrayLike,
    axis: int | Sequence[int] | None = None,
    epsilon: float = 1e-12,
    name: str | None = None,
    dim: int | Sequence[int] | None = None,
) -> jax.Array:
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))`` (TF1 ``tf.nn.l2_normalize``).

    Args:
      x: the input.
      axis: the axes to normalize over; None means all (``dim`` is its old name).
      epsilon: lower bound on the sum of squares (avoids dividing by zero).
      name: optional ``jax.named_scope`` for the op.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.l2_normalize(jnp.array([3.0, 4.0]), 0).tolist()
      [0.6000000238418579, 0.800000011920929]
    """
    x = jnp.asarray(x)
    axis = renamed("axis", axis, "dim", dim)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    with op_scope(name):
        square_sum = jnp.sum(jnp.square(x), axis, keepdims=True)
        return x * lax.rsqrt(jnp.maximum(square_sum, epsilon))
