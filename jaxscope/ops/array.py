"""TF1's array ops with TF1's signatures and argument order, over ``jax.numpy``.

``name`` is accepted everywhere and ignored (JAX arrays have no names). Shapes are
static in JAX, so `shape`, `size` and `rank` return NumPy values that ``reshape``,
slicing and Python arithmetic take as they are, under ``jax.jit`` too.

>>> import jax.numpy as jnp, jaxscope as js
>>> x = jnp.arange(12.0).reshape(3, 4)
>>> [p.shape for p in js.split(x, [1, -1], axis=1)]      # TF's order: value, sizes, axis
[(3, 1), (3, 3)]
>>> js.concat([x, x], 0).shape, js.slice(x, [1, 1], [-1, 2]).tolist()
((6, 4), [[5.0, 6.0], [9.0, 10.0]])
>>> js.reshape(x, [js.shape(x)[0], -1, 2]).shape
(3, 2, 2)
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.nn._common import renamed
from jaxscope.ops.dtypes import as_dtype, int32
from jaxscope.values import value_dtype

__all__ = [
    "boolean_mask", "cast", "concat", "constant", "expand_dims", "fill", "gather",
    "gather_nd", "identity", "one_hot", "ones", "ones_like", "pad", "range", "rank",
    "reshape", "reverse", "reverse_v2", "sequence_mask", "shape", "size", "slice", "split",
    "squeeze", "stack", "stop_gradient", "tile", "to_float", "to_int32", "to_int64",
    "transpose", "unstack", "where", "zeros", "zeros_like",
]

ArrayLike = Any


def _static_ints(values: Any, what: str, op: str) -> list[int]:
    """``values`` as Python ints; a clear error when they are traced (JAX shapes are static)."""
    try:
        return [int(v) for v in np.asarray(values).reshape(-1)]
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError,
            TypeError):
        raise TypeError(
            f"{op}: {what} must be known when the function is traced (JAX shapes are static); "
            f"got {values!r}. Compute it from .shape or js.shape(...), not from traced values."
        ) from None


# --------------------------------------------------------------------------- making arrays


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const",
             verify_shape: bool = False) -> jax.Array:
    """``tf.constant``: Python numbers get TF's dtypes (int32, float32); a scalar fills
    ``shape``, a value of as many elements is reshaped to it."""
    dtype = value_dtype(value) if dtype is None else as_dtype(dtype)
    array = jnp.asarray(value, dtype=dtype)
    if shape is None:
        return array
    shape = tuple(_static_ints(shape, "shape", "constant")) if np.ndim(shape) else (int(shape),)
    if verify_shape and array.shape != shape:
        raise TypeError(f"Expected Tensor's shape: {shape}, got {array.shape}.")
    if array.size == 1:
        return jnp.broadcast_to(array.reshape(()), shape)
    if array.size != int(np.prod(shape)):
        raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tried to "
                        f"convert value of shape {array.shape} to shape {shape}.")
    return array.reshape(shape)


def zeros(shape: Any, dtype: Any = np.float32, name: str | None = None) -> jax.Array:
    return jnp.zeros(_shape_arg(shape), as_dtype(dtype))


def ones(shape: Any, dtype: Any = np.float32, name: str | None = None) -> jax.Array:
    return jnp.ones(_shape_arg(shape), as_dtype(dtype))


def fill(dims: Any, value: Any, name: str | None = None) -> jax.Array:
    return jnp.full(_shape_arg(dims), value, dtype=value_dtype(value))


def zeros_like(tensor: ArrayLike, dtype: Any = None, name: str | None = None,
               optimize: bool = True) -> jax.Array:
    return jnp.zeros_like(tensor, dtype=None if dtype is None else as_dtype(dtype))


def ones_like(tensor: ArrayLike, dtype: Any = None, name: str | None = None,
              optimize: bool = True) -> jax.Array:
    return jnp.ones_like(tensor, dtype=None if dtype is None else as_dtype(dtype))


def _shape_arg(shape: Any) -> tuple[int, ...]:
    return tuple(_static_ints(shape, "shape", "zeros/ones/fill")) if np.ndim(shape) else (
        int(shape),)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> jax.Array:
    """``tf.range``: ``range(5)`` or ``range(2, 10, 3)``; int32 for ints, float32 for floats."""
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        kinds = [value_dtype(v) for v in (start, limit, delta)]
        dtype = max(kinds, key=lambda d: (d.kind == "f", d.itemsize))
    return jnp.arange(start, limit, delta, dtype=as_dtype(dtype))


def one_hot(indices: ArrayLike, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> jax.Array:
    """``tf.one_hot``: a new axis of size ``depth`` (last, or at ``axis``); indices outside
    ``[0, depth)`` give an all-``off_value`` row, as in TF."""
    if dtype is None:
        given = on_value if on_value is not None else off_value
        dtype = np.float32 if given is None else value_dtype(given)
    dtype = as_dtype(dtype)
    on = jnp.asarray(1 if on_value is None else on_value, dtype)
    off = jnp.asarray(0 if off_value is None else off_value, dtype)
    indices = jnp.asarray(indices)
    axis = -1 if axis is None else axis
    hot = jax.nn.one_hot(indices, depth, dtype=jnp.bool_, axis=axis)
    return jnp.where(hot, on, off)


# --------------------------------------------------------------------------- shapes


def shape(input: ArrayLike, name: str | None = None,  # noqa: A002 - TF's name
          out_type: Any = int32) -> np.ndarray:
    """The static shape as a NumPy vector (``tf.shape(x)[0]`` works in ``reshape``)."""
    return np.asarray(np.shape(input), dtype=as_dtype(out_type))


def size(input: ArrayLike, name: str | None = None,  # noqa: A002
         out_type: Any = int32) -> np.generic:
    return as_dtype(out_type).type(np.size(input))


def rank(input: ArrayLike, name: str | None = None) -> np.int32:  # noqa: A002
    return np.int32(np.ndim(input))


def reshape(tensor: ArrayLike, shape: Any, name: str | None = None) -> jax.Array:
    return jnp.reshape(tensor, tuple(_static_ints(shape, "shape", "reshape")))


def expand_dims(input: ArrayLike, axis: int | None = None,  # noqa: A002
                name: str | None = None, dim: int | None = None) -> jax.Array:
    axis = renamed("axis", axis, "dim", dim)
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return jnp.expand_dims(input, int(axis))


def squeeze(input: ArrayLike, axis: Any = None, name: str | None = None,  # noqa: A002
            squeeze_dims: Any = None) -> jax.Array:
    axis = renamed("axis", axis, "squeeze_dims", squeeze_dims)
    if isinstance(axis, (list, tuple)):
        axis = tuple(axis) or None
    return jnp.squeeze(input, axis)


def transpose(a: ArrayLike, perm: Sequence[int] | None = None, name: str = "transpose",
              conjugate: bool = False) -> jax.Array:
    out = jnp.transpose(a, None if perm is None else tuple(int(p) for p in perm))
    return jnp.conj(out) if conjugate else out


def tile(input: ArrayLike, multiples: Any, name: str | None = None) -> jax.Array:  # noqa: A002
    multiples = _static_ints(multiples, "multiples", "tile")
    if len(multiples) != np.ndim(input):
        raise ValueError(f"Shape must be rank {np.ndim(input)} but is rank {len(multiples)}: "
                         f"tile's multiples need one entry per dimension of the input.")
    return jnp.tile(input, multiples)


def pad(tensor: ArrayLike, paddings: Any, mode: str = "CONSTANT", name: str | None = None,
        constant_values: Any = 0) -> jax.Array:
    """``tf.pad``: ``paddings`` is ``[[before, after], ...]``; modes CONSTANT, REFLECT,
    SYMMETRIC (any case)."""
    widths = np.asarray(_static_ints(paddings, "paddings", "pad")).reshape(-1, 2)
    modes = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}
    if mode.upper() not in modes:
        raise ValueError(f"Value of argument `mode` expected to be one of \"CONSTANT\", "
                         f"\"REFLECT\", or \"SYMMETRIC\". Received `mode` = {mode}")
    if mode.upper() == "CONSTANT":
        return jnp.pad(tensor, widths, constant_values=constant_values)
    return jnp.pad(tensor, widths, mode=modes[mode.upper()])


def reverse(tensor: ArrayLike, axis: Any, name: str | None = None) -> jax.Array:
    """``tf.reverse`` (TF2 / ``reverse_v2``): flip the given axes."""
    return jnp.flip(tensor, tuple(_static_ints(axis, "axis", "reverse")))


reverse_v2 = reverse


# --------------------------------------------------------------------------- joining, splitting


def concat(values: Sequence[ArrayLike], axis: int, name: str = "concat") -> jax.Array:
    """``tf.concat(values, axis)`` -- TF's order; ``axis`` is required."""
    return jnp.concatenate([jnp.asarray(v) for v in values], int(axis))


def stack(values: Sequence[ArrayLike], axis: int = 0, name: str = "stack") -> jax.Array:
    return jnp.stack([jnp.asarray(v) for v in values], axis)


def unstack(value: ArrayLike, num: int | None = None, axis: int = 0,
            name: str = "unstack") -> list[jax.Array]:
    value = jnp.asarray(value)
    n = value.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"Dimension {axis % value.ndim} in both shapes must be equal, but are "
                         f"{n} and {num}.")
    return [jax.lax.index_in_dim(value, i, axis, keepdims=False) for i in builtins.range(n)]


def split(value: ArrayLike, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str = "split") -> list[jax.Array]:
    """``tf.split(value, num_or_size_splits, axis)``: a count of equal pieces, or their
    sizes (one of them may be -1: the rest)."""
    value = jnp.asarray(value)
    axis = int(axis) % value.ndim
    n = value.shape[axis]
    if np.ndim(num_or_size_splits) == 0:
        count = int(num_or_size_splits)
        if count <= 0 or n % count:
            raise ValueError(f"Dimension size must be evenly divisible by {count} but is {n} "
                             f"for 'split' with input shape {list(value.shape)} and axis {axis}")
        return jnp.split(value, count, axis)
    sizes = _static_ints(num_or_size_splits, "num_or_size_splits", "split")
    if sizes.count(-1) > 1:
        raise ValueError("Determined shape must either match input shape along split_dim "
                         f"exactly if fully specified, or be less than the size of the input "
                         f"along split_dim if not fully specified. Got: {sizes}")
    if -1 in sizes:
        sizes[sizes.index(-1)] = n - (builtins.sum(sizes) + 1)
    if builtins.sum(sizes) != n or builtins.min(sizes, default=0) < 0:
        raise ValueError(f"Determined shape must either match input shape along split_dim "
                         f"exactly if fully specified: sizes {sizes} do not add up to {n}.")
    return jnp.split(value, np.cumsum(sizes)[:-1].tolist(), axis)


def slice(input_: ArrayLike, begin: Any, size: Any, name: str | None = None) -> jax.Array:  # noqa: A001
    """``tf.slice``: ``size[i] == -1`` takes everything from ``begin[i]`` on. ``begin`` may be
    traced when no size is -1 (a dynamic slice)."""
    x = jnp.asarray(input_)
    sizes = _static_ints(size, "size", "slice")
    try:
        starts = [int(b) for b in np.asarray(begin).reshape(-1)]
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError,
            TypeError):
        if -1 in sizes:
            raise TypeError("slice: a size of -1 needs a begin known when tracing; give "
                            "explicit sizes for a traced begin.") from None
        return jax.lax.dynamic_slice(x, [begin[i] for i in builtins.range(x.ndim)], sizes)
    ends = [dim if s == -1 else b + s for b, s, dim in zip(starts, sizes, x.shape)]
    if any(b < 0 or e > dim or e < b for b, e, dim in zip(starts, ends, x.shape)):
        raise ValueError(f"Expected begin and size arguments to be within the input shape "
                         f"{list(x.shape)}: begin {starts}, size {sizes}.")
    return x[tuple(builtins.slice(b, e) for b, e in zip(starts, ends))]


# --------------------------------------------------------------------------- gathering, masks


def gather(params: ArrayLike, indices: ArrayLike, validate_indices: Any = None,
           name: str | None = None, axis: int | None = None, batch_dims: int = 0) -> jax.Array:
    """``tf.gather``. TF on CPU refuses an index out of range; a compiled gather cannot
    raise, so it gives zeros there (as TF on GPU)."""
    params, indices = jnp.asarray(params), jnp.asarray(indices)
    axis = batch_dims if axis is None else int(axis) % params.ndim
    batch_dims = batch_dims % indices.ndim if batch_dims < 0 else batch_dims
    take = _take_fill
    for _ in builtins.range(batch_dims):
        take = jax.vmap(take, in_axes=(0, 0, None))
    return take(params, indices, axis - batch_dims)


def _take_fill(params: jax.Array, indices: jax.Array, axis: int) -> jax.Array:
    indices = jnp.where(indices < 0, params.shape[axis], indices)
    return jnp.take(params, indices, axis=axis, mode="fill", fill_value=0)


def gather_nd(params: ArrayLike, indices: ArrayLike, name: str | None = None,
              batch_dims: int = 0) -> jax.Array:
    """``tf.gather_nd``: the last axis of ``indices`` indexes the leading axes of ``params``
    (zeros for an index out of range, as `gather`)."""
    params, indices = jnp.asarray(params), jnp.asarray(indices)

    def one(p: jax.Array, i: jax.Array) -> jax.Array:
        depth = i.shape[-1]
        dims = jnp.asarray(p.shape[:depth])
        valid = jnp.all((i >= 0) & (i < dims), axis=-1)
        rows = p[tuple(jnp.clip(i[..., k], 0, p.shape[k] - 1) for k in builtins.range(depth))]
        mask = valid.reshape(valid.shape + (1,) * (rows.ndim - valid.ndim))
        return jnp.where(mask, rows, jnp.zeros((), p.dtype))

    for _ in builtins.range(batch_dims):
        one = jax.vmap(one)
    return one(params, indices)


def sequence_mask(lengths: ArrayLike, maxlen: Any = None, dtype: Any = np.bool_,
                  name: str | None = None) -> jax.Array:
    """``tf.sequence_mask``: ``mask[..., j] = j < lengths[...]``; without ``maxlen`` the
    lengths must be known when tracing (the mask's width is ``max(lengths)``)."""
    lengths = jnp.asarray(lengths)
    if maxlen is None:
        maxlen = builtins.max(_static_ints(lengths, "lengths (with maxlen=None)",
                                           "sequence_mask"), default=0)
    mask = jnp.arange(int(maxlen)) < lengths[..., None]
    return mask.astype(as_dtype(dtype))


def where(condition: ArrayLike, x: ArrayLike = None, y: ArrayLike = None,
          name: str | None = None) -> jax.Array:
    """TF1's ``tf.where``: with ``x`` and ``y``, elements of ``x`` where ``condition`` (a
    vector ``condition`` picks whole rows); alone, the coordinates of the true elements
    (int64; needs a condition known when tracing)."""
    condition = jnp.asarray(condition)
    if x is None and y is None:
        return jnp.argwhere(condition).astype(jax.dtypes.canonicalize_dtype(np.int64))
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = jnp.asarray(x), jnp.asarray(y)
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape((-1,) + (1,) * (x.ndim - 1))
    return jnp.where(condition, x, y)


def boolean_mask(tensor: ArrayLike, mask: ArrayLike, name: str = "boolean_mask",
                 axis: int | None = None) -> jax.Array:
    """``tf.boolean_mask``; its size depends on the mask's values, so outside ``jax.jit``
    only (under jit, use `where` or multiply by the mask)."""
    tensor, mask = jnp.asarray(tensor), np.asarray(mask)
    axis = 0 if axis is None else int(axis)
    flat = tensor.reshape(tensor.shape[:axis] + (-1,) + tensor.shape[axis + mask.ndim:])
    return jnp.compress(mask.reshape(-1), flat, axis=axis)


# --------------------------------------------------------------------------- dtypes, identity


def cast(x: ArrayLike, dtype: Any, name: str | None = None) -> jax.Array:
    """``tf.cast``; complex to real keeps the real part, as TF."""
    x, dtype = jnp.asarray(x), as_dtype(dtype)
    if jnp.iscomplexobj(x) and dtype.kind != "c":
        x = jnp.real(x)
    return x.astype(dtype)


def to_float(x: ArrayLike, name: str = "ToFloat") -> jax.Array:
    return cast(x, np.float32)


def to_int32(x: ArrayLike, name: str = "ToInt32") -> jax.Array:
    return cast(x, np.int32)


def to_int64(x: ArrayLike, name: str = "ToInt64") -> jax.Array:
    return cast(x, np.int64)


def identity(input: ArrayLike, name: str | None = None) -> jax.Array:  # noqa: A002
    return jnp.asarray(input)


def stop_gradient(input: ArrayLike, name: str | None = None) -> jax.Array:  # noqa: A002
    return jax.lax.stop_gradient(input)
