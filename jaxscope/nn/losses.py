"""Losses with TF1's signatures: cross entropies on logits, and ``l2_loss``.

The TF1 cross entropies take ``labels=`` and ``logits=`` by keyword only; as in TF, a
positional call fails (the ``_sentinel`` argument catches it).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.typing import ArrayLike

from jaxscope.nn._common import op_scope, renamed, upcast_half

__all__ = [
    "l2_loss",
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sparse_softmax_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits",
]


def _named_arguments(op: str, sentinel: Any, labels: Any, logits: Any) -> None:
    if sentinel is not None:
        raise ValueError(
            f"Only call `{op}` with named arguments (labels=..., logits=..., ...). "
            f"Received unnamed argument: {sentinel!r}"
        )
    if labels is None or logits is None:
        raise ValueError(f"{op}: both labels and logits must be provided.")


def l2_loss(t: ArrayLike, name: str | None = None) -> jax.Array:
    """``sum(t ** 2) / 2`` (TF ``tf.nn.l2_loss``), in ``t``'s dtype.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> float(js.nn.l2_loss(jnp.array([3.0, 4.0])))
      12.5
    """
    t = jnp.asarray(t)
    with op_scope(name):
        return jnp.sum(jnp.square(t)) / jnp.asarray(2, t.dtype)


def _softmax_xent(labels: jax.Array, logits: jax.Array, axis: int) -> jax.Array:
    dtype = logits.dtype
    logits = upcast_half(logits)
    losses = -jnp.sum(labels.astype(logits.dtype) * jax.nn.log_softmax(logits, axis), axis)
    return losses.astype(dtype)


def softmax_cross_entropy_with_logits_v2(
    labels: ArrayLike,
    logits: ArrayLike,
    axis: int | None = None,
    name: str | None = None,
    dim: int | None = None,
) -> jax.Array:
    """Per-example ``-sum(labels * log_softmax(logits), axis)``; gradients reach both inputs.

    TF1 ``tf.nn.softmax_cross_entropy_with_logits_v2``. Each row of ``labels`` should be a
    probability distribution.

    Args:
      labels: same shape as ``logits``.
      logits: unscaled log probabilities.
      axis: the class axis (default -1; ``dim`` is its old name).
      name: optional ``jax.named_scope`` for the op.

    Returns:
      ``logits``' shape without ``axis``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.softmax_cross_entropy_with_logits_v2(jnp.array([0.0, 1.0]),
      ...                                            jnp.zeros(2)).round(4))
      0.6931
    """
    axis = renamed("axis", axis, "dim", dim)
    with op_scope(name):
        logits = jnp.asarray(logits)
        return _softmax_xent(jnp.asarray(labels), logits, -1 if axis is None else axis)


def softmax_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    dim: int | None = None,
    name: str | None = None,
    axis: int | None = None,
) -> jax.Array:
    """As `softmax_cross_entropy_with_logits_v2`, but no gradient reaches ``labels`` (TF1 v1).

    Call with keywords: ``softmax_cross_entropy_with_logits(labels=..., logits=...)``.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> loss = lambda y: js.nn.softmax_cross_entropy_with_logits(labels=y, logits=jnp.ones(2))
      >>> jax.grad(loss)(jnp.array([0.0, 1.0])).tolist()
      [0.0, 0.0]
    """
    op = "softmax_cross_entropy_with_logits"
    _named_arguments(op, _sentinel, labels, logits)
    axis = renamed("axis", axis, "dim", dim)
    with op_scope(name):
        return _softmax_xent(lax.stop_gradient(jnp.asarray(labels)), jnp.asarray(logits),
                             -1 if axis is None else axis)


def sparse_softmax_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    name: str | None = None,
) -> jax.Array:
    """Per-example ``-log_softmax(logits)[label]`` for integer class ``labels`` (TF1).

    TF1 ``tf.nn.sparse_softmax_cross_entropy_with_logits``; call with keywords. A label
    outside ``[0, num_classes)`` gives NaN (as TF on GPU; TF on CPU raises, which a
    compiled JAX program cannot do).

    Args:
      labels: int32/int64 of shape ``logits.shape[:-1]``.
      logits: ``[..., num_classes]``.
      name: optional ``jax.named_scope`` for the op.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.sparse_softmax_cross_entropy_with_logits(
      ...     labels=jnp.array([1]), logits=jnp.zeros([1, 4])).round(4))
      [1.3863]
    """
    op = "sparse_softmax_cross_entropy_with_logits"
    _named_arguments(op, _sentinel, labels, logits)
    labels, logits = jnp.asarray(labels), jnp.asarray(logits)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"{op}: labels must be int32 or int64, got {labels.dtype}.")
    if labels.ndim != logits.ndim - 1:
        raise ValueError(
            f"Rank mismatch: Rank of labels (received {labels.ndim}) should equal rank of "
            f"logits minus 1 (received {logits.ndim})."
        )
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"Shape mismatch: The shape of labels (received {tuple(labels.shape)}) should "
            f"equal the shape of logits except for the last dimension (received "
            f"{tuple(logits.shape)})."
        )
    with op_scope(name):
        num_classes = logits.shape[-1]
        log_probs = jax.nn.log_softmax(upcast_half(logits), -1)
        # A gather (a scatter in the gradient), as hand-written JAX does; clipping keeps -1
        # from wrapping around to the last class before the NaN below marks it.
        index = jnp.clip(labels, 0, num_classes - 1)[..., None]
        picked = jnp.take_along_axis(log_probs, index, axis=-1)[..., 0]
        in_range = (labels >= 0) & (labels < num_classes)
        return jnp.where(in_range, -picked, jnp.nan).astype(logits.dtype)


def _same_shape(op: str, labels: jax.Array, logits: jax.Array) -> None:
    if labels.shape != logits.shape:
        raise ValueError(
            f"{op}: logits and labels must have the same shape "
            f"({tuple(logits.shape)} vs {tuple(labels.shape)})"
        )


def sigmoid_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    name: str | None = None,
) -> jax.Array:
    """Element-wise logistic loss, TF's stable form ``max(x, 0) - x * z + log(1 + exp(-|x|))``.

    TF1 ``tf.nn.sigmoid_cross_entropy_with_logits``; call with keywords.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.sigmoid_cross_entropy_with_logits(
      ...     labels=jnp.array([1.0, 0.0]), logits=jnp.array([100.0, 0.0])).round(4))
      [0.     0.6931]
    """
    op = "sigmoid_cross_entropy_with_logits"
    _named_arguments(op, _sentinel, labels, logits)
    labels, logits = jnp.asarray(labels), jnp.asarray(logits)
    _same_shape(op, labels, logits)
    with op_scope(name):
        positive = logits >= 0
        relu_logits = jnp.where(positive, logits, 0)
        neg_abs_logits = jnp.where(positive, -logits, logits)
        return relu_logits - logits * labels + jnp.log1p(jnp.exp(neg_abs_logits))


def weighted_cross_entropy_with_logits(
    labels: ArrayLike | None = None,
    logits: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    name: str | None = None,
    targets: ArrayLike | None = None,
) -> jax.Array:
    """Logistic loss with positives weighted by ``pos_weight`` (TF1's weighted version).

    ``(1 - z) * x + (1 + (q - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0))``, as TF computes
    it. ``targets`` is the old name of ``labels``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.weighted_cross_entropy_with_logits(
      ...     jnp.array([1.0]), jnp.array([0.0]), pos_weight=2.0).round(4))
      [1.3863]
    """
    op = "weighted_cross_entropy_with_logits"
    labels = renamed("labels", labels, "targets", targets)
    if labels is None or logits is None or pos_weight is None:
        raise ValueError(f"{op}: labels, logits and pos_weight must be provided.")
    labels, logits = jnp.asarray(labels), jnp.asarray(logits)
    _same_shape(op, labels, logits)
    with op_scope(name):
        log_weight = 1 + (pos_weight - 1) * labels
        softplus_neg = jnp.log1p(jnp.exp(-jnp.abs(logits))) + jnp.maximum(-logits, 0)
        return (1 - labels) * logits + log_weight * softplus_neg
