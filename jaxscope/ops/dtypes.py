"""TF's dtype names (``js.float32``, ...) as NumPy dtypes.

They are ``np.dtype`` objects, not ``jnp.float32``-style scalar types, so they compare
*and hash* equal to an array's ``.dtype``: ``x.dtype in {js.float32, js.float16}`` is
True for a float32 array (with ``jnp.float32`` in the set it is silently False). Every
JAX and NumPy function takes them as a ``dtype=``.

>>> import jax.numpy as jnp, jaxscope as js
>>> x = jnp.ones(3)
>>> x.dtype in {js.float32, js.float16}, x.dtype == js.float32
(True, True)
>>> js.as_dtype("int32") is js.int32, js.zeros([2], js.bfloat16).dtype.name
(True, 'bfloat16')
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

__all__ = [
    "as_dtype", "bfloat16", "bool", "complex64", "complex128", "float16", "float32",
    "float64", "half", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64",
]

float16 = half = np.dtype(np.float16)
bfloat16 = np.dtype(jnp.bfloat16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
uint16 = np.dtype(np.uint16)
uint32 = np.dtype(np.uint32)
uint64 = np.dtype(np.uint64)
bool = np.dtype(np.bool_)  # noqa: A001 - TF's name (tf.bool)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)

_BY_NAME = {d.name: d for d in (float16, bfloat16, float32, float64, int8, int16, int32,
                                 int64, uint8, uint16, uint32, uint64, bool, complex64,
                                 complex128)}


def as_dtype(type_value: Any) -> np.dtype:
    """TF's ``tf.as_dtype``: a dtype from a name (``"float32"``), a NumPy/JAX type or dtype.

    Returns the module's own constant, so ``js.as_dtype("int32") is js.int32``.

    Example:
      >>> import jax.numpy as jnp, numpy as np, jaxscope as js
      >>> js.as_dtype("int32") is js.int32, js.as_dtype(jnp.bfloat16) is js.bfloat16
      (True, True)
      >>> js.as_dtype(np.float32) == js.float32, js.as_dtype(js.float16).name
      (True, 'float16')
    """
    try:
        dtype = np.dtype(type_value)
    except TypeError:
        raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.") from None
    return _BY_NAME.get(dtype.name, dtype)
