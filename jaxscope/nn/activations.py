"""Activations and softmax with TF1's signatures and TF's gradients at the kinks.

At the kinks the gradients are TF's: 0 for ``relu`` at 0 and ``relu6`` at 0 and 6,
``alpha`` for ``leaky_relu`` at 0, the linear side's slope for ``elu`` and ``selu`` at 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxscope.nn._common import op_scope, renamed

__all__ = [
    "crelu",
    "elu",
    "leaky_relu",
    "log_softmax",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]


def relu(features: ArrayLike, name: str | None = None) -> jax.Array:
    """``max(features, 0)`` (TF ``tf.nn.relu``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.relu(jnp.array([-1.0, 2.0])).tolist()
      [0.0, 2.0]
    """
    with op_scope(name):
        return jax.nn.relu(jnp.asarray(features))


def relu6(features: ArrayLike, name: str | None = None) -> jax.Array:
    """``min(max(features, 0), 6)`` (TF ``tf.nn.relu6``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.relu6(jnp.array([-1.0, 3.0, 9.0])).tolist()
      [0.0, 3.0, 6.0]
    """
    with op_scope(name):
        return jax.nn.relu6(jnp.asarray(features))


def crelu(features: ArrayLike, name: str | None = None, axis: int = -1) -> jax.Array:
    """``concat([relu(x), relu(-x)], axis)`` (TF ``tf.nn.crelu``): twice the channels.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.crelu(jnp.array([-1.0, 2.0])).tolist()
      [0.0, 2.0, 1.0, 0.0]
    """
    x = jnp.asarray(features)
    with op_scope(name):
        return jnp.concatenate([jax.nn.relu(x), jax.nn.relu(-x)], axis)


def elu(features: ArrayLike, name: str | None = None) -> jax.Array:
    """``exp(x) - 1`` if ``x < 0`` else ``x`` (TF ``tf.nn.elu``; gradient 1 at 0, as TF).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.elu(jnp.array([0.0, 2.0])).tolist()
      [0.0, 2.0]
    """
    with op_scope(name):
        return _exp_linear(jnp.asarray(features), 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features: ArrayLike, name: str | None = None) -> jax.Array:
    """Scaled ELU with TF's constants ``scale=1.0507...``, ``alpha=1.6732...`` (``tf.nn.selu``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.selu(jnp.array([1.0])).round(4))
      [1.0507]
    """
    with op_scope(name):
        return _exp_linear(jnp.asarray(features), _SELU_ALPHA, _SELU_SCALE)


def _exp_linear(x: jax.Array, alpha: float, scale: float) -> jax.Array:
    """The ELU family: ``scale * x`` for ``x >= 0``, ``scale * alpha * (exp(x) - 1)`` below.

    TF tests ``x < 0``, so 0 is on the linear side: the gradient there is ``scale``.
    """
    negative = x < 0
    # The exp branch sees 0 where unused, so a large x cannot make an inf that NaNs the grad.
    exp_branch = alpha * jnp.expm1(jnp.where(negative, x, 0))
    return scale * jnp.where(negative, exp_branch, x)


def leaky_relu(features: ArrayLike, alpha: float = 0.2, name: str | None = None) -> jax.Array:
    """``x`` if ``x > 0`` else ``alpha * x`` (TF ``tf.nn.leaky_relu``, default alpha 0.2).

    Integer features are computed as float32, as TF.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.leaky_relu(jnp.array([-1.0, 2.0]), alpha=0.5))
      [-0.5  2. ]
    """
    x = jnp.asarray(features)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.float32)
    with op_scope(name):
        return jnp.where(x > 0, x, jnp.asarray(alpha, x.dtype) * x)


def softplus(features: ArrayLike, name: str | None = None) -> jax.Array:
    """``log(exp(x) + 1)``, computed stably (TF ``tf.nn.softplus``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.softplus(jnp.array([0.0, 100.0])).round(4))
      [  0.6931 100.    ]
    """
    with op_scope(name):
        return jax.nn.softplus(jnp.asarray(features))


def softsign(features: ArrayLike, name: str | None = None) -> jax.Array:
    """``x / (1 + |x|)`` (TF ``tf.nn.softsign``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.softsign(jnp.array([-1.0, 3.0])).tolist()
      [-0.5, 0.75]
    """
    x = jnp.asarray(features)
    with op_scope(name):
        return x / (1 + jnp.abs(x))


def sigmoid(x: ArrayLike, name: str | None = None) -> jax.Array:
    """``1 / (1 + exp(-x))`` (TF ``tf.nn.sigmoid``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.sigmoid(jnp.array([0.0])).tolist()
      [0.5]
    """
    with op_scope(name):
        return jax.nn.sigmoid(jnp.asarray(x))


def swish(features: ArrayLike, beta: float = 1.0, name: str | None = None) -> jax.Array:
    """``x * sigmoid(beta * x)`` (TF ``tf.nn.swish``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.swish(jnp.array([0.0, 2.0])))
      [0.       1.761594]
    """
    x = jnp.asarray(features)
    with op_scope(name):
        return x * jax.nn.sigmoid(beta * x)


def tanh(x: ArrayLike, name: str | None = None) -> jax.Array:
    """Hyperbolic tangent (TF ``tf.nn.tanh``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.tanh(jnp.array([0.0])).tolist()
      [0.0]
    """
    with op_scope(name):
        return jnp.tanh(jnp.asarray(x))


def softmax(
    logits: ArrayLike, axis: int | None = None, name: str | None = None, dim: int | None = None
) -> jax.Array:
    """``exp(x) / sum(exp(x), axis)`` (TF1 ``tf.nn.softmax``; ``axis`` defaults to -1).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.nn.softmax(jnp.zeros(4)).tolist()
      [0.25, 0.25, 0.25, 0.25]
    """
    axis = renamed("axis", axis, "dim", dim)
    with op_scope(name):
        return jax.nn.softmax(jnp.asarray(logits), axis=-1 if axis is None else axis)


def log_softmax(
    logits: ArrayLike, axis: int | None = None, name: str | None = None, dim: int | None = None
) -> jax.Array:
    """``logits - log(sum(exp(logits), axis))`` (TF1 ``tf.nn.log_softmax``; ``axis`` -1).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.nn.log_softmax(jnp.zeros(2)).round(4))
      [-0.6931 -0.6931]
    """
    axis = renamed("axis", axis, "dim", dim)
    with op_scope(name):
        return jax.nn.log_softmax(jnp.asarray(logits), axis=-1 if axis is None else axis)
