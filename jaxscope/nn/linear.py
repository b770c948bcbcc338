"""Bias addition and the affine map, with TF1's signatures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxscope.nn._common import op_scope

__all__ = ["bias_add", "xw_plus_b"]


def bias_add(value: ArrayLike, bias: ArrayLike, data_format: str | None = None,
             name: str | None = None) -> jax.Array:
    """Adds a 1-D ``bias`` along the channel axis (TF1 ``tf.nn.bias_add``).

    Args:
      value: rank >= 2.
      bias: ``[C]``.
      data_format: None or channels-last (``"NHWC"``, ``"N...C"``): the last axis; a format
        starting with ``"NC"`` (``"NCHW"``): axis 1.
      name: optional ``jax.named_scope`` for the op.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.bias_add(jnp.zeros([1, 2, 1, 1]), jnp.array([1.0, 2.0]), "NCHW").ravel().tolist()
      [1.0, 2.0]
    """
    value, bias = jnp.asarray(value), jnp.asarray(bias)
    if value.ndim < 2:
        raise ValueError(f"bias_add: value must be at least rank 2, got shape {value.shape}.")
    if bias.ndim != 1:
        raise ValueError(f"bias_add: bias must be 1-D, got shape {bias.shape}.")
    fmt = "" if data_format is None else str(data_format).upper()
    if fmt and not (fmt.startswith("N") and (fmt.endswith("C") or fmt.startswith("NC"))):
        raise ValueError(f"bias_add: unknown data_format {data_format!r}.")
    axis = 1 if fmt.startswith("NC") else value.ndim - 1
    if value.shape[axis] != bias.shape[0]:
        raise ValueError(
            f"bias_add: must provide as many biases as the channel dimension of the input: "
            f"{bias.shape[0]} biases for value of shape {value.shape} (channel axis {axis})."
        )
    with op_scope(name):
        shape = [1] * value.ndim
        shape[axis] = -1
        return value + bias.reshape(shape).astype(value.dtype)


def xw_plus_b(x: ArrayLike, weights: ArrayLike, biases: ArrayLike,
              name: str | None = None) -> jax.Array:
    """``matmul(x, weights) + biases`` (TF1 ``tf.nn.xw_plus_b``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.xw_plus_b(jnp.ones([1, 2]), jnp.ones([2, 3]), jnp.arange(3.0)).tolist()
      [[2.0, 3.0, 4.0]]
    """
    with op_scope(name):
        return bias_add(jnp.matmul(jnp.asarray(x), jnp.asarray(weights)), biases)
