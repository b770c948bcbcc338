"""TF1's pooling layers (``tf.layers.MaxPooling2D`` and friends) and their functional forms.

Pooling layers have no variables; they are layers so that they name their ops as TF1
does (``max_pooling2d``, ``max_pooling2d_1``, ...). ``js.nn.max_pool``/``avg_pool``
do the work: SAME padding never picks a padded cell (max) and averages only the cells
inside the input (average), as TF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

from jaxscope import nn
from jaxscope.layers.core import (
    ArrayLayer,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    tf_data_format,
)

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "average_pooling1d",
    "average_pooling2d",
    "average_pooling3d",
    "max_pooling1d",
    "max_pooling2d",
    "max_pooling3d",
]

IntOrTuple = int | Sequence[int]


class _Pooling(ArrayLayer):
    """An ``rank``-D pooling layer running ``pool_function`` (``js.nn.max_pool``...)."""

    pool_function: Callable[..., jax.Array]
    rank: int

    def __init__(self, pool_size: IntOrTuple, strides: IntOrTuple, padding: str = "valid",
                 data_format: str | None = "channels_last", name: str | None = None,
                 **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: jax.Array) -> jax.Array:
        if inputs.ndim != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer {self.name} is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found ndim={inputs.ndim}. Full shape received: "
                f"{tuple(inputs.shape)}"
            )
        return self.pool_function(
            inputs, ksize=self.pool_size, strides=self.strides, padding=self.padding.upper(),
            data_format=tf_data_format(self.data_format, self.rank))


_POOL_DOC = """{kind} pooling over {rank}-D windows, as TF1's ``tf.layers.{cls}``.

    Args:
      pool_size: an int or a tuple of {rank} ints, the window.
      strides: an int or a tuple of {rank} ints (required, as TF1).
      padding: ``"valid"`` or ``"same"`` (case-insensitive).
      data_format: ``"channels_last"`` (``{last}``) or ``"channels_first"``.
      name: the layer's name.
"""


def _doc(kind: str, cls: str, rank: int, example: str) -> str:
    last = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[rank]
    return _POOL_DOC.format(kind=kind, cls=cls, rank=rank, last=last) + example


class MaxPooling1D(_Pooling):
    __doc__ = _doc("Max", "MaxPooling1D", 1, """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.MaxPooling1D(2, 2)(x))
      >>> x = jnp.arange(4.0).reshape(1, 4, 1)
      >>> f.apply(f.init(0, x), x)[0].ravel().tolist()
      [1.0, 3.0]
    """)
    pool_function = staticmethod(nn.max_pool)
    rank = 1


class MaxPooling2D(_Pooling):
    __doc__ = _doc("Max", "MaxPooling2D", 2, """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> pool = js.layers.MaxPooling2D(2, 2)
      >>> f = js.transform(lambda x: pool(x))
      >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
      >>> f.apply(f.init(0, x), x)[0][0, :, :, 0].tolist()
      [[5.0, 7.0], [13.0, 15.0]]
    """)
    pool_function = staticmethod(nn.max_pool)
    rank = 2


class MaxPooling3D(_Pooling):
    __doc__ = _doc("Max", "MaxPooling3D", 3, """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.MaxPooling3D(2, 2)(x))
      >>> x = jnp.ones([1, 4, 4, 4, 2])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 2, 2, 2, 2)
    """)
    pool_function = staticmethod(nn.max_pool)
    rank = 3


class AveragePooling1D(_Pooling):
    __doc__ = _doc("Average", "AveragePooling1D", 1, """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.AveragePooling1D(2, 2)(x))
      >>> x = jnp.arange(4.0).reshape(1, 4, 1)
      >>> f.apply(f.init(0, x), x)[0].ravel().tolist()
      [0.5, 2.5]
    """)
    pool_function = staticmethod(nn.avg_pool)
    rank = 1


class AveragePooling2D(_Pooling):
    __doc__ = _doc("Average", "AveragePooling2D", 2, """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.AveragePooling2D(2, 2, padding="same")(x))
      >>> x = jnp.arange(9.0).reshape(1, 3, 3, 1)
      >>> f.apply(f.init(0, x), x)[0][0, :, :, 0].tolist()  # padding is not averaged
      [[2.0, 3.5], [6.5, 8.0]]
    """)
    pool_function = staticmethod(nn.avg_pool)
    rank = 2


class AveragePooling3D(_Pooling):
    __doc__ = _doc("Average", "AveragePooling3D", 3, """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.AveragePooling3D(2, 1)(x))
      >>> x = jnp.ones([1, 3, 3, 3, 1])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 2, 2, 2, 1)
    """)
    pool_function = staticmethod(nn.avg_pool)
    rank = 3


def max_pooling1d(inputs: Any, pool_size: IntOrTuple, strides: IntOrTuple,
                  padding: str = "valid", data_format: str | None = "channels_last",
                  name: str | None = None) -> jax.Array:
    """Functional `MaxPooling1D` (TF1 ``tf.layers.max_pooling1d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f, x = js.transform(lambda x: js.layers.max_pooling1d(x, 3, 1)), jnp.ones([1, 5, 2])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 3, 2)
    """
    return MaxPooling1D(pool_size, strides, padding, data_format, name)(inputs)


def max_pooling2d(inputs: Any, pool_size: IntOrTuple, strides: IntOrTuple,
                  padding: str = "valid", data_format: str | None = "channels_last",
                  name: str | None = None) -> jax.Array:
    """Functional `MaxPooling2D` (TF1 ``tf.layers.max_pooling2d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.max_pooling2d(x, 3, 2, padding="SAME"))
      >>> x = jnp.ones([1, 7, 7, 2])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 4, 4, 2)
    """
    return MaxPooling2D(pool_size, strides, padding, data_format, name)(inputs)


def max_pooling3d(inputs: Any, pool_size: IntOrTuple, strides: IntOrTuple,
                  padding: str = "valid", data_format: str | None = "channels_last",
                  name: str | None = None) -> jax.Array:
    """Functional `MaxPooling3D` (TF1 ``tf.layers.max_pooling3d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.max_pooling3d(x, 2, 2))
      >>> x = jnp.ones([1, 4, 4, 4, 1])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 2, 2, 2, 1)
    """
    return MaxPooling3D(pool_size, strides, padding, data_format, name)(inputs)


def average_pooling1d(inputs: Any, pool_size: IntOrTuple, strides: IntOrTuple,
                      padding: str = "valid", data_format: str | None = "channels_last",
                      name: str | None = None) -> jax.Array:
    """Functional `AveragePooling1D` (TF1 ``tf.layers.average_pooling1d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.average_pooling1d(x, 2, 2))
      >>> x = jnp.ones([1, 4, 3])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 2, 3)
    """
    return AveragePooling1D(pool_size, strides, padding, data_format, name)(inputs)


def average_pooling2d(inputs: Any, pool_size: IntOrTuple, strides: IntOrTuple,
                      padding: str = "valid", data_format: str | None = "channels_last",
                      name: str | None = None) -> jax.Array:
    """Functional `AveragePooling2D` (TF1 ``tf.layers.average_pooling2d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.average_pooling2d(x, 2, 2))
      >>> x = jnp.ones([2, 6, 6, 3])
      >>> f.apply(f.init(0, x), x)[0].shape
      (2, 3, 3, 3)
    """
    return AveragePooling2D(pool_size, strides, padding, data_format, name)(inputs)


def average_pooling3d(inputs: Any, pool_size: IntOrTuple, strides: IntOrTuple,
                      padding: str = "valid", data_format: str | None = "channels_last",
                      name: str | None = None) -> jax.Array:
    """Functional `AveragePooling3D` (TF1 ``tf.layers.average_pooling3d``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.average_pooling3d(x, 2, 2))
      >>> x = jnp.ones([1, 2, 2, 2, 1])
      >>> f.apply(f.init(0, x), x)[0].shape
      (1, 1, 1, 1, 1)
    """
    return AveragePooling3D(pool_size, strides, padding, data_format, name)(inputs)
