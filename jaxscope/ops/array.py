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
from jaxscope.values import canonical_dtype, value_dtype

__all__ = [
    "boolean_mask", "cast", "concat", "constant", "convert_to_tensor", "expand_dims", "fill",
    "gather", "gather_nd", "identity", "one_hot", "ones", "ones_like", "pad", "range", "rank",
    "reshape", "reverse", "reverse_v2", "sequence_mask", "shape", "size", "slice", "split",
    "squeeze", "stack", "stop_gradient", "tile", "to_float", "to_int32", "to_int64",
    "transpose", "unstack", "where", "zeros", "zeros_like",
]

ArrayLike = Any


def _concrete_ints(values: Any) -> list[int] | None:
    """``values`` as Python ints, or None when they are traced."""
    try:
        return [int(v) for v in np.asarray(values).reshape(-1)]
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError,
            TypeError):
        return None


def _static_ints(values: Any, what: str, op: str) -> list[int]:
    """``values`` as Python ints; a clear error when they are traced (JAX shapes are static)."""
    ints = _concrete_ints(values)
    if ints is None:
        raise TypeError(
            f"{op}: {what} must be known when the function is traced (JAX shapes are static); "
            f"got {values!r}. Compute it from .shape or js.shape(...), not from traced values."
        )
    return ints


# --------------------------------------------------------------------------- making arrays


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const",
             verify_shape: bool = False) -> jax.Array:
    """``tf.constant``: an array of ``value``, with TF's dtypes and ``shape`` rules.

    Python numbers get TF's dtypes (int32, float32); a scalar fills ``shape``, a value of as
    many elements is reshaped to it.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.constant([1, 2]).dtype.name, js.constant(0.5, shape=[2, 2]).tolist()
      ('int32', [[0.5, 0.5], [0.5, 0.5]])
      >>> js.constant([1.0, 2.0, 3.0, 4.0], shape=[2, 2]).tolist()
      [[1.0, 2.0], [3.0, 4.0]]
    """
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


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None,
                      preferred_dtype: Any = None, dtype_hint: Any = None) -> jax.Array:
    """``tf.convert_to_tensor``: ``value`` as an array, without changing an array's dtype.

    Python values get TF's dtypes (or ``dtype``, or the ``preferred_dtype``/``dtype_hint``
    when they fit it); an array asked for another dtype is an error, as in TF.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.convert_to_tensor([1, 2]).dtype.name, js.convert_to_tensor(1, js.float32).tolist()
      ('int32', 1.0)
      >>> js.convert_to_tensor(jnp.ones(2), js.int32)
      Traceback (most recent call last):
      ...
      ValueError: Tensor conversion requested dtype int32 for Tensor with dtype float32
    """
    given = getattr(value, "dtype", None)
    if given is not None and not isinstance(value, np.generic):
        if dtype is not None and as_dtype(dtype) != np.dtype(given):
            raise ValueError(f"Tensor conversion requested dtype {as_dtype(dtype).name} for "
                             f"Tensor with dtype {np.dtype(given).name}")
        return jnp.asarray(value)
    if dtype is None:
        hint = preferred_dtype if preferred_dtype is not None else dtype_hint
        natural = value_dtype(value)
        dtype = natural if hint is None or np.can_cast(natural, as_dtype(hint)) else hint
    return jnp.asarray(value, dtype=as_dtype(dtype))


def zeros(shape: Any, dtype: Any = np.float32, name: str | None = None) -> jax.Array:
    """``tf.zeros(shape, dtype=tf.float32)``: an array of zeros.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.zeros([2, 3]).shape, js.zeros([2], js.int32).tolist()
      ((2, 3), [0, 0])
    """
    return jnp.zeros(_shape_arg(shape), as_dtype(dtype))


def ones(shape: Any, dtype: Any = np.float32, name: str | None = None) -> jax.Array:
    """``tf.ones(shape, dtype=tf.float32)``: an array of ones.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.ones([2, 3]).shape, js.ones([2], js.int32).tolist()
      ((2, 3), [1, 1])
    """
    return jnp.ones(_shape_arg(shape), as_dtype(dtype))


def fill(dims: Any, value: Any, name: str | None = None) -> jax.Array:
    """``tf.fill(dims, value)``: an array of shape ``dims`` filled with ``value`` (TF's dtype).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.fill([2, 2], 0.5).tolist(), js.fill([3], 7).dtype.name
      ([[0.5, 0.5], [0.5, 0.5]], 'int32')
    """
    return jnp.full(_shape_arg(dims), value, dtype=value_dtype(value))


def zeros_like(tensor: ArrayLike, dtype: Any = None, name: str | None = None,
               optimize: bool = True) -> jax.Array:
    """``tf.zeros_like``: zeros of ``tensor``'s shape, and of its dtype unless ``dtype`` is given.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.zeros_like(jnp.array([[1, 2]])).tolist(), js.zeros_like(jnp.ones(2), js.int32).tolist()
      ([[0, 0]], [0, 0])
    """
    return jnp.zeros_like(tensor, dtype=None if dtype is None else as_dtype(dtype))


def ones_like(tensor: ArrayLike, dtype: Any = None, name: str | None = None,
              optimize: bool = True) -> jax.Array:
    """``tf.ones_like``: ones of ``tensor``'s shape, and of its dtype unless ``dtype`` is given.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.ones_like(jnp.array([[1, 2]])).tolist(), js.ones_like(jnp.zeros(2), js.int32).tolist()
      ([[1, 1]], [1, 1])
    """
    return jnp.ones_like(tensor, dtype=None if dtype is None else as_dtype(dtype))


def _shape_arg(shape: Any) -> tuple[int, ...]:
    return tuple(_static_ints(shape, "shape", "zeros/ones/fill")) if np.ndim(shape) else (
        int(shape),)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> jax.Array:
    """``tf.range``: ``range(5)`` or ``range(2, 10, 3)``; int32 for ints, float32 for floats.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.range(3).tolist(), js.range(2, 10, 3).tolist(), js.range(0.0, 1.0, 0.5).tolist()
      ([0, 1, 2], [2, 5, 8], [0.0, 0.5])
    """
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        kinds = [value_dtype(v) for v in (start, limit, delta)]
        dtype = max(kinds, key=lambda d: (d.kind == "f", d.itemsize))
    return jnp.arange(start, limit, delta, dtype=as_dtype(dtype))


def one_hot(indices: ArrayLike, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> jax.Array:
    """``tf.one_hot``: a new axis of size ``depth`` (last, or at ``axis``).

    Indices outside ``[0, depth)`` give an all-``off_value`` row, as in TF.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.one_hot([0, 2, 5], depth=3).tolist()
      [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
      >>> js.one_hot([1], 2, on_value=5, off_value=-1).tolist()
      [[-1, 5]]
    """
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
    """The static shape as a NumPy vector (``tf.shape(x)[0]`` works in ``reshape``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.shape(jnp.zeros((2, 3))).tolist(), js.shape(jnp.zeros((2, 3))).dtype.name
      ([2, 3], 'int32')
    """
    return np.asarray(np.shape(input), dtype=as_dtype(out_type))


def size(input: ArrayLike, name: str | None = None,  # noqa: A002
         out_type: Any = int32) -> np.generic:
    """``tf.size``: the number of elements, a NumPy scalar (static, as `shape`).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.size(jnp.zeros((2, 3))).item()
      6
    """
    return as_dtype(out_type).type(np.size(input))


def rank(input: ArrayLike, name: str | None = None) -> np.int32:  # noqa: A002
    """``tf.rank``: the number of axes, a NumPy int32 (static, as `shape`).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.rank(jnp.zeros((2, 3))).item(), js.rank(1.5).item()
      (2, 0)
    """
    return np.int32(np.ndim(input))


def reshape(tensor: ArrayLike, shape: Any, name: str | None = None) -> jax.Array:
    """``tf.reshape(tensor, shape)``: one entry of ``shape`` may be -1 (the rest).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.reshape(jnp.arange(6.0), [2, -1]).tolist()
      [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    return jnp.reshape(tensor, tuple(_static_ints(shape, "shape", "reshape")))


def expand_dims(input: ArrayLike, axis: int | None = None,  # noqa: A002
                name: str | None = None, dim: int | None = None) -> jax.Array:
    """``tf.expand_dims(input, axis)``: a new axis of size 1 (TF1 also calls it ``dim``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.expand_dims(jnp.zeros((2, 3)), 1).shape, js.expand_dims(jnp.zeros(2), dim=-1).shape
      ((2, 1, 3), (2, 1))
    """
    axis = renamed("axis", axis, "dim", dim)
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return jnp.expand_dims(input, int(axis))


def squeeze(input: ArrayLike, axis: Any = None, name: str | None = None,  # noqa: A002
            squeeze_dims: Any = None) -> jax.Array:
    """``tf.squeeze``: drop the size-1 ``axis`` (TF1's ``squeeze_dims``), or all of them.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.zeros((1, 2, 1))
      >>> js.squeeze(x).shape, js.squeeze(x, [2]).shape, js.squeeze(x, squeeze_dims=[0]).shape
      ((2,), (1, 2), (2, 1))
    """
    axis = renamed("axis", axis, "squeeze_dims", squeeze_dims)
    if isinstance(axis, (list, tuple)):
        axis = tuple(axis) or None
    return jnp.squeeze(input, axis)


def transpose(a: ArrayLike, perm: Sequence[int] | None = None, name: str = "transpose",
              conjugate: bool = False) -> jax.Array:
    """``tf.transpose(a, perm)``: permute the axes (reverse them when ``perm`` is None).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.zeros((2, 3, 4))
      >>> js.transpose(x).shape, js.transpose(x, [0, 2, 1]).shape
      ((4, 3, 2), (2, 4, 3))
    """
    out = jnp.transpose(a, None if perm is None else tuple(int(p) for p in perm))
    return jnp.conj(out) if conjugate else out


def tile(input: ArrayLike, multiples: Any, name: str | None = None) -> jax.Array:  # noqa: A002
    """``tf.tile(input, multiples)``: repeat ``input`` ``multiples[i]`` times along axis i.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.tile(jnp.array([[1, 2]]), [2, 2]).tolist()
      [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    multiples = _static_ints(multiples, "multiples", "tile")
    if len(multiples) != np.ndim(input):
        raise ValueError(f"Shape must be rank {np.ndim(input)} but is rank {len(multiples)}: "
                         f"tile's multiples need one entry per dimension of the input.")
    return jnp.tile(input, multiples)


def pad(tensor: ArrayLike, paddings: Any, mode: str = "CONSTANT", name: str | None = None,
        constant_values: Any = 0) -> jax.Array:
    """``tf.pad``: ``paddings`` is ``[[before, after], ...]``, one pair per axis.

    Modes CONSTANT, REFLECT, SYMMETRIC (any case).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1, 2, 3])
      >>> js.pad(x, [[1, 2]]).tolist(), js.pad(x, [[2, 0]], "REFLECT").tolist()
      ([0, 1, 2, 3, 0, 0], [3, 2, 1, 2, 3])
    """
    widths = np.asarray(_static_ints(paddings, "paddings", "pad")).reshape(-1, 2)
    modes = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}
    if mode.upper() not in modes:
        raise ValueError(f"Value of argument `mode` expected to be one of \"CONSTANT\", "
                         f"\"REFLECT\", or \"SYMMETRIC\". Received `mode` = {mode}")
    if mode.upper() == "CONSTANT":
        return jnp.pad(tensor, widths, constant_values=constant_values)
    return jnp.pad(tensor, widths, mode=modes[mode.upper()])


def reverse(tensor: ArrayLike, axis: Any, name: str | None = None) -> jax.Array:
    """``tf.reverse`` (TF2 / ``reverse_v2``): flip the given axes.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.reverse(jnp.array([[1, 2], [3, 4]]), [1]).tolist()
      [[2, 1], [4, 3]]
    """
    return jnp.flip(tensor, tuple(_static_ints(axis, "axis", "reverse")))


reverse_v2 = reverse


# --------------------------------------------------------------------------- joining, splitting


def concat(values: Sequence[ArrayLike], axis: int, name: str = "concat") -> jax.Array:
    """``tf.concat(values, axis)``: join arrays along an existing axis.

    TF's argument order; ``axis`` is required.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.concat([jnp.zeros((1, 2)), jnp.ones((1, 2))], 0).tolist()
      [[0.0, 0.0], [1.0, 1.0]]
    """
    return jnp.concatenate([jnp.asarray(v) for v in values], int(axis))


def stack(values: Sequence[ArrayLike], axis: int = 0, name: str = "stack") -> jax.Array:
    """``tf.stack(values, axis=0)``: join same-shaped arrays along a new axis.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.stack([jnp.array([1, 2]), jnp.array([3, 4])], axis=1).tolist()
      [[1, 3], [2, 4]]
    """
    return jnp.stack([jnp.asarray(v) for v in values], axis)


def unstack(value: ArrayLike, num: int | None = None, axis: int = 0,
            name: str = "unstack") -> list[jax.Array]:
    """``tf.unstack(value, num=None, axis=0)``: the slices along ``axis``, as a list.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> [x.tolist() for x in js.unstack(jnp.array([[1, 2], [3, 4]]), axis=1)]
      [[1, 3], [2, 4]]
    """
    value = jnp.asarray(value)
    n = value.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"Dimension {axis % value.ndim} in both shapes must be equal, but are "
                         f"{n} and {num}.")
    return [jax.lax.index_in_dim(value, i, axis, keepdims=False) for i in builtins.range(n)]


def split(value: ArrayLike, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str = "split") -> list[jax.Array]:
    """``tf.split(value, num_or_size_splits, axis)``: a list of pieces along ``axis``.

    ``num_or_size_splits`` is a count of equal pieces, or their sizes (one of them may be
    -1: the rest).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(6)
      >>> [p.tolist() for p in js.split(x, 3)], [p.tolist() for p in js.split(x, [1, -1])]
      ([[0, 1], [2, 3], [4, 5]], [[0], [1, 2, 3, 4, 5]])
    """
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
    """``tf.slice(input_, begin, size)``: the block of ``size`` elements from ``begin``.

    ``size[i] == -1`` takes everything from ``begin[i]`` on. ``begin`` may be traced when no
    size is -1 (a dynamic slice).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.arange(12).reshape(3, 4)
      >>> js.slice(x, [1, 0], [2, 2]).tolist(), js.slice(x, [2, 1], [-1, -1]).tolist()
      ([[4, 5], [8, 9]], [[9, 10, 11]])
    """
    x = jnp.asarray(input_)
    sizes = _static_ints(size, "size", "slice")
    starts = _concrete_ints(begin)
    if starts is None:
        if -1 in sizes:
            raise TypeError("slice: a size of -1 needs a begin known when tracing; give "
                            "explicit sizes for a traced begin.")
        return jax.lax.dynamic_slice(x, [begin[i] for i in builtins.range(x.ndim)], sizes)
    ends = [dim if s == -1 else b + s for b, s, dim in zip(starts, sizes, x.shape)]
    if any(b < 0 or e > dim or e < b for b, e, dim in zip(starts, ends, x.shape)):
        raise ValueError(f"Expected begin and size arguments to be within the input shape "
                         f"{list(x.shape)}: begin {starts}, size {sizes}.")
    return x[tuple(builtins.slice(b, e) for b, e in zip(starts, ends))]


# --------------------------------------------------------------------------- gathering, masks


def gather(params: ArrayLike, indices: ArrayLike, validate_indices: Any = None,
           name: str | None = None, axis: int | None = None, batch_dims: int = 0) -> jax.Array:
    """``tf.gather``: the slices of ``params`` at ``indices`` along ``axis`` (0 by default).

    TF on CPU refuses an index out of range; a compiled gather cannot raise, so it gives
    zeros there (as TF on GPU).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([[1, 2], [3, 4], [5, 6]])
      >>> js.gather(x, [2, 0, 7]).tolist(), js.gather(x, [1], axis=1).tolist()
      ([[5, 6], [1, 2], [0, 0]], [[2], [4], [6]])
    """
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
    """``tf.gather_nd``: the last axis of ``indices`` indexes the leading axes of ``params``.

    Zeros for an index out of range, as `gather`.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([[1, 2], [3, 4]])
      >>> js.gather_nd(x, [[1, 0], [0, 1]]).tolist(), js.gather_nd(x, [[1]]).tolist()
      ([3, 2], [[3, 4]])
    """
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
    """``tf.sequence_mask``: ``mask[..., j] = j < lengths[...]``.

    Without ``maxlen`` the lengths must be known when tracing (the mask's width is
    ``max(lengths)``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.sequence_mask([1, 3], 4).tolist()
      [[True, False, False, False], [True, True, True, False]]
      >>> js.sequence_mask([2, 1], dtype=js.float32).tolist()
      [[1.0, 1.0], [1.0, 0.0]]
    """
    lengths = jnp.asarray(lengths)
    if maxlen is None:
        maxlen = builtins.max(_static_ints(lengths, "lengths (with maxlen=None)",
                                           "sequence_mask"), default=0)
    mask = jnp.arange(int(maxlen)) < lengths[..., None]
    return mask.astype(as_dtype(dtype))


def where(condition: ArrayLike, x: ArrayLike = None, y: ArrayLike = None,
          name: str | None = None) -> jax.Array:
    """TF1's ``tf.where``: choose between ``x`` and ``y``, or find the true elements.

    With ``x`` and ``y``, elements of ``x`` where ``condition`` (a vector ``condition`` picks
    whole rows); alone, the coordinates of the true elements (int64; needs a condition known
    when tracing).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x, y = jnp.array([[1, 2], [3, 4]]), jnp.zeros((2, 2), jnp.int32)
      >>> js.where(jnp.array([True, False]), x, y).tolist()  # TF1: a vector picks rows
      [[1, 2], [0, 0]]
      >>> js.where(jnp.array([[True, False], [False, True]])).tolist()
      [[0, 0], [1, 1]]
    """
    condition = jnp.asarray(condition)
    if x is None and y is None:
        return jnp.argwhere(condition).astype(canonical_dtype(np.int64))
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = jnp.asarray(x), jnp.asarray(y)
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape((-1,) + (1,) * (x.ndim - 1))
    return jnp.where(condition, x, y)


def boolean_mask(tensor: ArrayLike, mask: ArrayLike, name: str = "boolean_mask",
                 axis: int | None = None) -> jax.Array:
    """``tf.boolean_mask``: the elements (or slices along ``axis``) where ``mask`` is true.

    Its size depends on the mask's values, so outside ``jax.jit`` only (under jit, use
    `where` or multiply by the mask).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([[1, 2], [3, 4], [5, 6]])
      >>> js.boolean_mask(x, [True, False, True]).tolist()
      [[1, 2], [5, 6]]
      >>> js.boolean_mask(x, [False, True], axis=1).tolist()
      [[2], [4], [6]]
    """
    tensor, mask = jnp.asarray(tensor), np.asarray(mask)
    axis = 0 if axis is None else int(axis)
    flat = tensor.reshape(tensor.shape[:axis] + (-1,) + tensor.shape[axis + mask.ndim:])
    return jnp.compress(mask.reshape(-1), flat, axis=axis)


# --------------------------------------------------------------------------- dtypes, identity


def cast(x: ArrayLike, dtype: Any, name: str | None = None) -> jax.Array:
    """``tf.cast(x, dtype)``; complex to real keeps the real part, as TF.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.cast(jnp.array([1.5, -2.5]), js.int32).tolist()  # truncates toward zero
      [1, -2]
      >>> js.cast(jnp.array([1.5 + 2j]), "float32").tolist()
      [1.5]
    """
    x, dtype = jnp.asarray(x), as_dtype(dtype)
    if jnp.iscomplexobj(x) and dtype.kind != "c":
        x = jnp.real(x)
    return x.astype(dtype)


def to_float(x: ArrayLike, name: str = "ToFloat") -> jax.Array:
    """TF1's ``tf.to_float``: ``cast(x, tf.float32)``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.to_float(jnp.array([1, 2])).tolist()
      [1.0, 2.0]
    """
    return cast(x, np.float32)


def to_int32(x: ArrayLike, name: str = "ToInt32") -> jax.Array:
    """TF1's ``tf.to_int32``: ``cast(x, tf.int32)``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.to_int32(jnp.array([1.5, -2.5])).tolist()
      [1, -2]
    """
    return cast(x, np.int32)


def to_int64(x: ArrayLike, name: str = "ToInt64") -> jax.Array:
    """TF1's ``tf.to_int64``: ``cast(x, tf.int64)`` (int32 while JAX's 64-bit types are off).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> import jax
      >>> with jax.enable_x64(True):
      ...     js.to_int64(jnp.array([1.5, -2.5])).dtype.name
      'int64'
    """
    return cast(x, np.int64)


def identity(input: ArrayLike, name: str | None = None) -> jax.Array:  # noqa: A002
    """``tf.identity``: ``input`` as a JAX array, unchanged.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.identity([1.0, 2.0]).tolist()
      [1.0, 2.0]
    """
    return jnp.asarray(input)


def stop_gradient(input: ArrayLike, name: str | None = None) -> jax.Array:  # noqa: A002
    """``tf.stop_gradient``: ``input`` in the forward pass, a constant for gradients.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> import jax
      >>> jax.grad(lambda x: x * js.stop_gradient(x))(3.0).item()  # d/dx of x * const
      3.0
    """
    return jax.lax.stop_gradient(input)
