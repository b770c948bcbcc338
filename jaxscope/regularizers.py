"""Weight regularizers as TF1's ``tf.contrib.layers`` ones: ``reg(w) -> scalar or None``.

A regularizer maps a variable's value to a scalar loss, or to ``None`` for "no loss".
jaxscope applies it once to each variable it creates and records the result in
``aux.losses`` under the variable's full name (a partitioned variable is one array, so
its regularizer applies once to the whole of it).

As in TF, a scale of 0 gives a regularizer that returns ``None`` (no loss is added), a
negative scale is an error, and the loss has the dtype of the weights. Unlike TF,
integer scales are accepted (``l2(1)`` is ``l2(1.0)``).

Example:
  >>> import jax.numpy as jnp, jaxscope as js
  >>> def model(x):
  ...     # TF1: tf.get_variable("w", regularizer=tf.contrib.layers.l2_regularizer(0.1), ...)
  ...     w = js.get_variable("w", initializer=jnp.array([1.0, 2.0]),
  ...                         regularizer=js.regularizers.l2(0.1))
  ...     return x * w
  >>> model = js.transform(model)
  >>> _, aux = model.apply(model.init(0, 1.0), 1.0)
  >>> {name: round(float(loss), 4) for name, loss in aux.losses.items()}  # 0.1 * (1 + 4) / 2
  {'w': 0.25}
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp

__all__ = [
    "Regularizer",
    "l1",
    "l1_l2",
    "l1_l2_regularizer",
    "l1_regularizer",
    "l2",
    "l2_regularizer",
    "no_regularizer",
    "sum_regularizer",
]

Regularizer = Callable[[Any], "jax.Array | None"]


class _Penalty:
    """A named regularizer: ``__name__`` (TF's op name, e.g. ``"l2_regularizer"``)."""

    def __init__(self, name: str, description: str, fn: Callable[[jax.Array], Any]):
        self.__name__ = name
        self._description = description
        self._fn = fn

    def __call__(self, weights: Any) -> jax.Array | None:
        return self._fn(_as_weights(weights))

    def __repr__(self) -> str:
        return self._description


def _as_weights(weights: Any) -> jax.Array:
    weights = jnp.asarray(weights)
    if not jnp.issubdtype(weights.dtype, jnp.inexact):
        weights = weights.astype(jnp.float32)
    return weights


def _check_scale(scale: Any) -> bool:
    """Validates a scale; True when it is a number equal to 0 (regularizer disabled)."""
    if isinstance(scale, (str, bytes, bool)):
        raise TypeError(f"A regularizer scale must be a number, got {scale!r}.")
    if not isinstance(scale, numbers.Real):
        return False  # an array scale is used as is, as TF does with a tensor
    if scale < 0.0:
        raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale:g}")
    return scale == 0.0


def _disabled(name: str, description: str) -> _Penalty:
    return _Penalty(name, description, lambda _: None)


def l1(scale: float, scope: str | None = None) -> Regularizer:
    """L1 penalty ``scale * sum(|w|)`` (TF's ``l1_regularizer``).

    Args:
      scale: non-negative factor; 0 disables the regularizer (it returns None).
      scope: name of the loss (default ``"l1_regularizer"``), as TF's ``scope``.

    Returns:
      A regularizer ``reg(w) -> scalar or None``.

    Example:
      >>> import jax.numpy as jnp
      >>> l1(0.5)(jnp.array([1.0, -2.0]))
      Array(1.5, dtype=float32)
    """
    name, description = scope or "l1_regularizer", f"l1(scale={scale!r})"
    if _check_scale(scale):
        return _disabled(name, description)

    def penalty(w: jax.Array) -> jax.Array:
        return jnp.asarray(scale, w.dtype) * jnp.sum(jnp.abs(w))

    return _Penalty(name, description, penalty)


def l2(scale: float, scope: str | None = None) -> Regularizer:
    """L2 penalty ``scale * sum(w**2) / 2`` (TF's ``l2_regularizer``, i.e. ``l2_loss``).

    Args:
      scale: non-negative factor; 0 disables the regularizer (it returns None).
      scope: name of the loss (default ``"l2_regularizer"``), as TF's ``scope``.

    Returns:
      A regularizer ``reg(w) -> scalar or None``.

    Example:
      >>> import jax.numpy as jnp
      >>> l2(0.1)(jnp.array([1.0, 2.0]))  # 0.1 * (1 + 4) / 2
      Array(0.25, dtype=float32)
    """
    name, description = scope or "l2_regularizer", f"l2(scale={scale!r})"
    if _check_scale(scale):
        return _disabled(name, description)

    def penalty(w: jax.Array) -> jax.Array:
        return jnp.asarray(scale, w.dtype) * (jnp.sum(jnp.square(w)) / 2)

    return _Penalty(name, description, penalty)


def sum_regularizer(
    regularizer_list: Iterable[Regularizer | None], scope: str | None = None
) -> Regularizer | None:
    """The sum of several regularizers; ``None`` entries and ``None`` losses are skipped.

    As TF, an empty list (or only ``None``) returns ``None`` rather than a regularizer,
    and the sum is ``None`` when every member returns ``None``.

    Args:
      regularizer_list: regularizers to add up.
      scope: name of the loss (default ``"sum_regularizer"``).

    Returns:
      A regularizer, or ``None`` if the list holds none.

    Example:
      >>> import jax.numpy as jnp
      >>> sum_regularizer([l1(1.0), l2(1.0)])(jnp.array([2.0]))  # 2 + 4 / 2
      Array(4., dtype=float32)
    """
    regularizers = [reg for reg in regularizer_list if reg is not None]
    if not regularizers:
        return None

    def penalty(w: jax.Array) -> jax.Array | None:
        losses = [loss for loss in (reg(w) for reg in regularizers) if loss is not None]
        if not losses:
            return None
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    description = f"sum_regularizer({regularizers!r})"
    return _Penalty(scope or "sum_regularizer", description, penalty)


def l1_l2(scale_l1: float = 1.0, scale_l2: float = 1.0, scope: str | None = None) -> Regularizer:
    """``scale_l1 * sum(|w|) + scale_l2 * sum(w**2) / 2`` (TF's ``l1_l2_regularizer``).

    A zero scale drops that term; both zero gives a regularizer returning None.

    Args:
      scale_l1: non-negative L1 factor.
      scale_l2: non-negative L2 factor.
      scope: name of the loss (default ``"l1_l2_regularizer"``).

    Returns:
      A regularizer ``reg(w) -> scalar or None``.

    Example:
      >>> import jax.numpy as jnp
      >>> l1_l2(1.0, 0.5)(jnp.array([-2.0]))  # 2 + 0.5 * 4 / 2
      Array(3., dtype=float32)
    """
    name = scope or "l1_l2_regularizer"
    l1_off, l2_off = _check_scale(scale_l1), _check_scale(scale_l2)
    if l1_off:
        return l2(scale_l2, name)
    if l2_off:
        return l1(scale_l1, name)
    both = sum_regularizer([l1(scale_l1), l2(scale_l2)], name)
    assert both is not None
    return both


def no_regularizer(_: Any) -> None:
    """Returns None: as a scope's or variable's regularizer, it turns regularization off.

    Example:
      >>> no_regularizer(1.0) is None
      True
    """
    return None


l1_regularizer = l1
l2_regularizer = l2
l1_l2_regularizer = l1_l2
