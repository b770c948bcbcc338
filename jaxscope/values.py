"""Turning what users pass (values, shapes, dtypes) into what JAX stores."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def canonical_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype as JAX will store it (``"int32"``, ``jnp.float32``, ``np.float64``...)."""
    try:
        return _CANONICAL[dtype]
    except (KeyError, TypeError):
        pass
    original = np.dtype(jnp.dtype(dtype))
    canonical = np.dtype(jax.dtypes.canonicalize_dtype(original))
    # jax_enable_x64 can change at any time, so 64-bit dtypes are never cached.
    if original == canonical and original not in _X64_DEPENDENT:
        try:
            _CANONICAL[dtype] = canonical
        except TypeError:
            pass
    return canonical


_CANONICAL: dict[Any, np.dtype] = {}
_X64_DEPENDENT = frozenset(np.dtype(t) for t in ("float64", "int64", "uint64", "complex128"))


def as_shape(shape: Any) -> tuple[int | None, ...] | None:
    """TF's ``as_shape``: ``None`` (unknown), an int ``n`` (``(n,)``) or a sequence of ints
    (or ``None``), with TF's errors for anything else -- before anything reaches XLA.

    Example:
      >>> as_shape([2, None]), as_shape(3)
      ((2, None), (3,))
      >>> as_shape([-1, 3])
      Traceback (most recent call last):
      ...
      ValueError: Dimension -1 must be >= 0
    """
    if shape is None:
        return None
    if type(shape) is tuple or type(shape) is list:  # the common case, without a generator
        dims = tuple(shape)
        for d in dims:
            if type(d) is not int or d < 0:
                break
        else:
            return dims
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (_dimension(shape, shape),)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        first = shape[0] if isinstance(shape, (str, bytes)) and shape else shape
        raise TypeError(
            f"Failed to convert '{shape!r}' to a shape: '{first!r}'could not be converted to "
            "a dimension. A shape should either be single dimension (e.g. 10), or an iterable "
            "of dimensions (e.g. [1, 10, None])."
        )
    return tuple(_dimension(d, shape) for d in shape)


def _dimension(d: Any, shape: Any) -> int | None:
    """One dimension, as TF's ``Dimension`` accepts it."""
    if d is None:
        return None
    if isinstance(d, (bool, np.bool_)):
        raise TypeError(
            f"Error converting {shape!r} (arg name = shape) to a TensorShape: Field "
            "tensorflow.TensorShapeProto.Dim.size: Expected an int, got a boolean."
        )
    if not hasattr(d, "__index__"):
        raise TypeError(
            "Dimension value must be integer or None or have an __index__ method, got value "
            f"'{d!r}' with type '{type(d)}'"
        )
    value = int(d.__index__())
    if value < 0:
        raise ValueError(f"Dimension {value} must be >= 0")
    return value


def value_dtype(value: Any) -> np.dtype:
    """The dtype a value initializer gives its variable: an array's own, and for Python
    values TF's (int -> int32, or int64 when a value does not fit; float -> float32),
    whether or not JAX's 64-bit types are on (API decisions 2 and 16)."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        array = np.asarray(value)
        dtype = _python_dtype(array)
    if np.dtype(dtype).kind in "OUSV" and np.dtype(dtype) != jnp.dtype("bfloat16"):
        raise TypeError(
            f"Cannot make a JAX variable from {value!r}: JAX has no string or object arrays. "
            "Use a numeric or boolean value."
        )
    return canonical_dtype(dtype)


_INT32 = np.iinfo(np.int32)


def _python_dtype(array: np.ndarray) -> np.dtype:
    """TF's dtype for Python numbers (NumPy would make them 64-bit)."""
    kind = array.dtype.kind
    if kind == "f":
        return np.dtype(np.float32)
    if kind == "i" and (array.size == 0 or _INT32.min <= array.min() <= array.max() <= _INT32.max):
        return np.dtype(np.int32)
    return array.dtype


def as_value(value: Any, dtype: Any = None) -> jax.Array:
    """``value`` as a JAX array of its own dtype (or ``dtype``), never weakly typed."""
    target = value_dtype(value) if dtype is None else canonical_dtype(dtype)
    return jnp.asarray(value, dtype=target)


def abstract_value(value: Any) -> tuple[tuple[int, ...], np.dtype]:
    """``(shape, dtype)`` of an array, tracer, ``ShapeDtypeStruct`` or Python/NumPy value."""
    try:  # arrays of every kind (duck-typed: isinstance(x, jax.Array) is slow on the hot path)
        shape, dtype = value.shape, value.dtype
    except AttributeError:
        return tuple(np.shape(value)), value_dtype(value)
    return (shape if type(shape) is tuple else tuple(shape)), canonical_dtype(dtype)
