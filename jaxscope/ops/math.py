"""TF1's math ops with TF1's signatures: element-wise, reductions, ``matmul``, clipping.

Reductions take ``axis`` (or TF1's ``reduction_indices``) and ``keepdims`` (or TF1's
``keep_dims``); integer ``reduce_mean`` truncates as TF does, ``div`` (Python 2's
``/``), ``floordiv`` and ``mod`` floor as Python does. ``name`` is accepted and ignored.

>>> import jax.numpy as jnp, jaxscope as js
>>> x = jnp.array([[1.0, 2.0], [3.0, 4.0]])
>>> js.reduce_sum(x, reduction_indices=[1], keep_dims=True).tolist()
[[3.0], [7.0]]
>>> js.matmul(x, x, transpose_b=True).tolist()
[[5.0, 11.0], [11.0, 25.0]]
>>> js.reduce_mean(jnp.array([1, 2])).item()   # an int mean stays an int, as in TF
1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.nn._common import clip_by_norm as _clip_by_norm
from jaxscope.nn._common import renamed
from jaxscope.values import canonical_dtype

__all__ = [
    "abs", "add", "add_n", "argmax", "argmin", "ceil", "clip_by_global_norm", "clip_by_norm",
    "clip_by_value", "cos", "count_nonzero", "cumprod", "cumsum", "div", "div_no_nan",
    "divide", "einsum", "equal", "erf", "exp", "expm1", "floor", "floordiv", "global_norm",
    "greater", "greater_equal", "is_finite", "is_inf", "is_nan", "less", "less_equal",
    "lgamma", "log", "log1p", "log_sigmoid", "logical_and", "logical_not", "logical_or",
    "logical_xor", "matmul", "maximum", "minimum", "mod", "multiply", "negative", "norm",
    "not_equal", "pow", "realdiv", "reciprocal", "reduce_all", "reduce_any",
    "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod",
    "reduce_std", "reduce_sum", "reduce_variance", "round", "rsqrt", "sigmoid", "sign", "sin",
    "sqrt", "square", "squared_difference", "subtract", "tanh", "tensordot", "truediv",
    "truncatediv", "truncatemod",
]

ArrayLike = Any


def _example(call: str, result: str) -> str:
    """An ``Example:`` block for a generated docstring: ``call`` printed as ``result``."""
    return ("\n\n    Example:\n      >>> import jax.numpy as jnp, jaxscope as js\n"
            f"      >>> {call}\n      {result}\n    ")


def _unary(fn: Callable[[Any], jax.Array], tf_name: str, example: str,
           result: str) -> Callable[..., jax.Array]:
    """``tf.<tf_name>(x)``; its docstring shows ``js.<tf_name>(jnp.array(example))``."""
    def op(x: ArrayLike, name: str | None = None) -> jax.Array:
        return fn(x)

    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = f"``tf.{tf_name}(x)``, element-wise." + _example(
        f"js.{tf_name}(jnp.array({example})).tolist()", result)
    return op


def _binary(fn: Callable[[Any, Any], jax.Array], tf_name: str, example: tuple[str, str],
            result: str) -> Callable[..., jax.Array]:
    """``tf.<tf_name>(x, y)``; its docstring shows it on ``jnp.array`` of both ``example``s."""
    def op(x: ArrayLike, y: ArrayLike, name: str | None = None) -> jax.Array:
        return fn(x, y)

    x, y = example
    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = f"``tf.{tf_name}(x, y)``, element-wise with broadcasting." + _example(
        f"js.{tf_name}(jnp.array({x}), jnp.array({y})).tolist()", result)
    return op


abs = _unary(jnp.abs, "abs", "[-1.5, 2.0]", "[1.5, 2.0]")  # noqa: A001 - TF's names
negative = _unary(jnp.negative, "negative", "[-1.5, 2.0]", "[1.5, -2.0]")
sign = _unary(jnp.sign, "sign", "[-1.5, 0.0, 2.0]", "[-1.0, 0.0, 1.0]")
square = _unary(jnp.square, "square", "[-1.5, 2.0]", "[2.25, 4.0]")
sqrt = _unary(jnp.sqrt, "sqrt", "[0.25, 4.0]", "[0.5, 2.0]")
rsqrt = _unary(jax.lax.rsqrt, "rsqrt", "[0.25, 4.0]", "[2.0, 0.5]")
reciprocal = _unary(jnp.reciprocal, "reciprocal", "[0.5, 4.0]", "[2.0, 0.25]")
exp = _unary(jnp.exp, "exp", "[0.0, 1.0]", "[1.0, 2.718...]")
expm1 = _unary(jnp.expm1, "expm1", "[0.0, 1e-10]", "[0.0, 1.0000...e-10]")
log = _unary(jnp.log, "log", "[1.0, 0.0]", "[0.0, -inf]")
log1p = _unary(jnp.log1p, "log1p", "[0.0, 1e-10]", "[0.0, 1.0000...e-10]")
sin = _unary(jnp.sin, "sin", "[0.0]", "[0.0]")
cos = _unary(jnp.cos, "cos", "[0.0]", "[1.0]")
tanh = _unary(jnp.tanh, "tanh", "[0.0, jnp.inf]", "[0.0, 1.0]")
sigmoid = _unary(jax.nn.sigmoid, "sigmoid", "[0.0, -jnp.inf]", "[0.5, 0.0]")
log_sigmoid = _unary(jax.nn.log_sigmoid, "log_sigmoid", "[-100.0, 100.0]", "[-100.0, -0.0]")
erf = _unary(jax.scipy.special.erf, "erf", "[0.0, jnp.inf]", "[0.0, 1.0]")
lgamma = _unary(jax.scipy.special.gammaln, "lgamma", "[3.0]", "[0.6931...]")
floor = _unary(jnp.floor, "floor", "[-1.5, 2.5]", "[-2.0, 2.0]")
ceil = _unary(jnp.ceil, "ceil", "[-1.5, 2.5]", "[-1.0, 3.0]")
# half to even, as TF
round = _unary(jnp.round, "round", "[0.5, 1.5, 2.5]", "[0.0, 2.0, 2.0]")  # noqa: A001
is_nan = _unary(jnp.isnan, "is_nan", "[0.0, jnp.nan]", "[False, True]")
is_inf = _unary(jnp.isinf, "is_inf", "[0.0, -jnp.inf]", "[False, True]")
is_finite = _unary(jnp.isfinite, "is_finite", "[0.0, jnp.inf]", "[True, False]")
logical_not = _unary(jnp.logical_not, "logical_not", "[True, False]", "[False, True]")

add = _binary(jnp.add, "add", ("[1.0, 2.0]", "0.5"), "[1.5, 2.5]")
subtract = _binary(jnp.subtract, "subtract", ("[1.0, 2.0]", "[0.5, 0.5]"), "[0.5, 1.5]")
multiply = _binary(jnp.multiply, "multiply", ("[1.0, 2.0]", "[0.5, 0.5]"), "[0.5, 1.0]")
maximum = _binary(jnp.maximum, "maximum", ("[1.0, 2.0]", "1.5"), "[1.5, 2.0]")
minimum = _binary(jnp.minimum, "minimum", ("[1.0, 2.0]", "1.5"), "[1.0, 1.5]")
pow = _binary(jnp.power, "pow", ("[2.0, 4.0]", "[3.0, 0.5]"), "[8.0, 2.0]")  # noqa: A001
floordiv = _binary(jnp.floor_divide, "floordiv", ("[7, -7]", "2"), "[3, -4]")
# floor mod: the sign of the divisor, as Python
mod = _binary(jnp.remainder, "mod", ("[7, -7]", "2"), "[1, 1]")
truncatemod = _binary(jnp.fmod, "truncatemod", ("[7, -7]", "2"), "[1, -1]")
squared_difference = _binary(lambda x, y: jnp.square(jnp.subtract(x, y)),
                             "squared_difference", ("[1.0, 2.0]", "[3.0, 0.5]"), "[4.0, 2.25]")
equal = _binary(jnp.equal, "equal", ("[1, 2]", "[1, 3]"), "[True, False]")
not_equal = _binary(jnp.not_equal, "not_equal", ("[1, 2]", "[1, 3]"), "[False, True]")
less = _binary(jnp.less, "less", ("[1, 2]", "2"), "[True, False]")
less_equal = _binary(jnp.less_equal, "less_equal", ("[1, 2, 3]", "2"), "[True, True, False]")
greater = _binary(jnp.greater, "greater", ("[1, 2]", "1"), "[False, True]")
greater_equal = _binary(jnp.greater_equal, "greater_equal", ("[0, 1, 2]", "1"),
                        "[False, True, True]")
logical_and = _binary(jnp.logical_and, "logical_and", ("[True, True]", "[True, False]"),
                      "[True, False]")
logical_or = _binary(jnp.logical_or, "logical_or", ("[True, False]", "[False, False]"),
                     "[True, False]")
logical_xor = _binary(jnp.logical_xor, "logical_xor", ("[True, True]", "[True, False]"),
                      "[False, True]")


def _is_int(x: Any) -> bool:
    return jnp.issubdtype(jnp.result_type(x), jnp.integer)


def truncatediv(x: ArrayLike, y: ArrayLike, name: str | None = None) -> jax.Array:
    """Integer division rounding toward zero (C's), TF's ``truncatediv``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.truncatediv(jnp.array([7, -7]), 2).tolist()  # floordiv gives [3, -4]
      [3, -3]
    """
    return jax.lax.div(*jnp.broadcast_arrays(*_same_dtype(x, y)))


def _same_dtype(x: ArrayLike, y: ArrayLike) -> tuple[jax.Array, jax.Array]:
    dtype = jnp.result_type(x, y)
    return jnp.asarray(x, dtype), jnp.asarray(y, dtype)


def div(x: ArrayLike, y: ArrayLike, name: str | None = None) -> jax.Array:
    """TF1's ``tf.div``, Python 2's ``/``: integers floor-divide, floats divide.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.div(jnp.array([7, -7]), 2).tolist(), js.div(jnp.array([7.0, -7.0]), 2.0).tolist()
      ([3, -4], [3.5, -3.5])
    """
    return jnp.floor_divide(x, y) if _is_int(x) and _is_int(y) else jnp.divide(x, y)


def truediv(x: ArrayLike, y: ArrayLike, name: str | None = None) -> jax.Array:
    """``tf.truediv`` (also ``tf.divide``, ``tf.realdiv``): always a float quotient.

    int32 -> float64 in TF, float32 without JAX's 64-bit types.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.truediv(jnp.array([7, -7]), 2).tolist()
      [3.5, -3.5]
    """
    return jnp.true_divide(x, y)


divide = realdiv = truediv


def div_no_nan(x: ArrayLike, y: ArrayLike, name: str | None = None) -> jax.Array:
    """``x / y``, and 0 where ``y`` is 0 (with a gradient that is finite there too).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.div_no_nan(jnp.array([1.0, 1.0]), jnp.array([4.0, 0.0])).tolist()
      [0.25, 0.0]
    """
    x, y = _same_dtype(x, y)
    safe = jnp.where(y == 0, jnp.ones_like(y), y)
    return jnp.where(y == 0, jnp.zeros_like(x / safe), x / safe)


def add_n(inputs: Sequence[ArrayLike], name: str | None = None) -> jax.Array:
    """``tf.add_n(inputs)``: the element-wise sum of a non-empty list of arrays.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.add_n([jnp.ones(2), jnp.ones(2), jnp.array([0.5, 2.0])]).tolist()
      [2.5, 4.0]
    """
    if not inputs:
        raise ValueError("inputs must be an iterable of at least one Tensor/IndexedSlices "
                         "with the same dtype and shape.")
    total = jnp.asarray(inputs[0])
    for x in inputs[1:]:
        total = total + x
    return total


# --------------------------------------------------------------------------- reductions


def _axis(axis: Any, reduction_indices: Any) -> int | tuple[int, ...] | None:
    axis = renamed("axis", axis, "reduction_indices", reduction_indices)
    if axis is None or np.ndim(axis) == 0:
        return None if axis is None else int(axis)
    return tuple(int(a) for a in np.asarray(axis).reshape(-1))


def _keepdims(keepdims: Any, keep_dims: Any) -> bool:
    return bool(renamed("keepdims", keepdims, "keep_dims", keep_dims))


def _reduction(fn: Callable[..., jax.Array], tf_name: str, example: str,
               result: str) -> Callable[..., jax.Array]:
    """``tf.<tf_name>``; its docstring shows it over ``axis=1`` of ``jnp.array(example)``."""
    def op(input_tensor: ArrayLike, axis: Any = None, keepdims: Any = None,
           name: str | None = None, reduction_indices: Any = None,
           keep_dims: Any = None) -> jax.Array:
        return fn(jnp.asarray(input_tensor), axis=_axis(axis, reduction_indices),
                  keepdims=_keepdims(keepdims, keep_dims))

    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = (f"``tf.{tf_name}``: over ``axis`` (or ``reduction_indices``; all when "
                  "None), keeping reduced axes with ``keepdims`` (or ``keep_dims``)."
                  + _example(f"js.{tf_name}(jnp.array({example}), axis=1).tolist()", result))
    return op


def _mean(x: jax.Array, axis: Any, keepdims: bool) -> jax.Array:
    if not jnp.issubdtype(x.dtype, jnp.integer):
        return jnp.mean(x, axis=axis, keepdims=keepdims)
    count = np.prod([x.shape[a] for a in np.atleast_1d(
        np.arange(x.ndim) if axis is None else axis)], dtype=np.int64)
    total = jnp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    return jax.lax.div(total, jnp.full_like(total, count))  # truncating, as TF


def _logsumexp(x: jax.Array, axis: Any, keepdims: bool) -> jax.Array:
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


_X = "[[1.0, 2.0], [3.0, 5.0]]"
reduce_sum = _reduction(jnp.sum, "reduce_sum", _X, "[3.0, 8.0]")
reduce_mean = _reduction(_mean, "reduce_mean", _X, "[1.5, 4.0]")
reduce_max = _reduction(jnp.max, "reduce_max", _X, "[2.0, 5.0]")
reduce_min = _reduction(jnp.min, "reduce_min", _X, "[1.0, 3.0]")
reduce_prod = _reduction(jnp.prod, "reduce_prod", _X, "[2.0, 15.0]")
reduce_any = _reduction(jnp.any, "reduce_any", "[[True, False], [False, False]]",
                        "[True, False]")
reduce_all = _reduction(jnp.all, "reduce_all", "[[True, True], [True, False]]",
                        "[True, False]")
reduce_logsumexp = _reduction(_logsumexp, "reduce_logsumexp",
                              "[[0.0, -jnp.inf], [2.0, -jnp.inf]]", "[0.0, 2.0]")
reduce_variance = _reduction(jnp.var, "reduce_variance", _X, "[0.25, 1.0]")
reduce_std = _reduction(jnp.std, "reduce_std", _X, "[0.5, 1.0]")


def count_nonzero(input_tensor: ArrayLike, axis: Any = None, keepdims: Any = None,
                  dtype: Any = np.int64, name: str | None = None,
                  reduction_indices: Any = None, keep_dims: Any = None) -> jax.Array:
    """``tf.count_nonzero``: how many elements are not zero, over ``axis`` (all when None).

    Takes ``reduction_indices``/``keep_dims`` as the reductions do; int64 counts (int32
    while JAX's 64-bit types are off).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([[0.0, 1.5], [2.0, 3.0]])
      >>> js.count_nonzero(x).item(), js.count_nonzero(x, reduction_indices=1).tolist()
      (3, [1, 2])
    """
    count = jnp.count_nonzero(jnp.asarray(input_tensor), axis=_axis(axis, reduction_indices),
                              keepdims=_keepdims(keepdims, keep_dims))
    return count.astype(canonical_dtype(dtype))


def _arg(fn: Callable[..., jax.Array], tf_name: str, result: str) -> Callable[..., jax.Array]:
    """``tf.<tf_name>``; its docstring shows it over both axes of a 2x3 matrix (``result``)."""
    def op(input: ArrayLike, axis: int | None = None, name: str | None = None,  # noqa: A002
           dimension: int | None = None, output_type: Any = np.int64) -> jax.Array:
        axis = renamed("axis", axis, "dimension", dimension)
        index = fn(jnp.asarray(input), axis=0 if axis is None else int(axis))
        return index.astype(canonical_dtype(output_type))

    op.__name__ = op.__qualname__ = tf_name
    op.__doc__ = (f"``tf.{tf_name}`` over ``axis`` (0 when None, as TF1); int64 indices "
                  "(int32 while JAX's 64-bit types are off)."
                  + _example(f"x = jnp.array([[1.0, 5.0, 0.0], [3.0, 2.0, 4.0]])\n      >>> "
                             f"js.{tf_name}(x).tolist(), js.{tf_name}(x, axis=1).tolist()",
                             result))
    return op


argmax = _arg(jnp.argmax, "argmax", "([1, 0, 1], [1, 2])")
argmin = _arg(jnp.argmin, "argmin", "([0, 1, 0], [2, 1])")


def cumsum(x: ArrayLike, axis: int = 0, exclusive: bool = False, reverse: bool = False,
           name: str | None = None) -> jax.Array:
    """``tf.cumsum``: running sums along ``axis``.

    ``exclusive`` starts from 0 (leaving out each element itself), ``reverse`` from the end.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1.0, 2.0, 3.0])
      >>> js.cumsum(x).tolist(), js.cumsum(x, exclusive=True, reverse=True).tolist()
      ([1.0, 3.0, 6.0], [5.0, 3.0, 0.0])
    """
    return _cumulative(jnp.cumsum, jnp.zeros_like, x, axis, exclusive, reverse)


def cumprod(x: ArrayLike, axis: int = 0, exclusive: bool = False, reverse: bool = False,
            name: str | None = None) -> jax.Array:
    """``tf.cumprod``: running products along ``axis``.

    ``exclusive`` starts from 1 (leaving out each element itself), ``reverse`` from the end.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([1.0, 2.0, 3.0])
      >>> js.cumprod(x).tolist(), js.cumprod(x, exclusive=True).tolist()
      ([1.0, 2.0, 6.0], [1.0, 1.0, 2.0])
    """
    return _cumulative(jnp.cumprod, jnp.ones_like, x, axis, exclusive, reverse)


def _cumulative(fn: Callable[..., jax.Array], identity: Callable[..., jax.Array], x: ArrayLike,
                axis: int, exclusive: bool, reverse: bool) -> jax.Array:
    x = jnp.asarray(x)
    axis = int(axis) % x.ndim
    if reverse:
        x = jnp.flip(x, axis)
    out = fn(x, axis=axis)
    if exclusive:
        first = identity(jax.lax.slice_in_dim(x, 0, 1, axis=axis))
        out = jnp.concatenate([first, jax.lax.slice_in_dim(out, 0, -1, axis=axis)], axis)
    return jnp.flip(out, axis) if reverse else out


# --------------------------------------------------------------------------- linear algebra


def matmul(a: ArrayLike, b: ArrayLike, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, output_type: Any = None,
           name: str | None = None) -> jax.Array:
    """``tf.matmul``: matrix product of arrays of rank >= 2, batched over leading axes.

    ``transpose_*``/``adjoint_*`` swap the last two axes (adjoint also conjugates).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> a = jnp.array([[1.0, 2.0]])
      >>> js.matmul(a, a, transpose_a=True).tolist(), js.matmul(a, a, transpose_b=True).tolist()
      ([[1.0, 2.0], [2.0, 4.0]], [[5.0]])
    """
    a, b = jnp.asarray(a), jnp.asarray(b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"Shape must be rank >= 2 for matmul, got shapes {a.shape} and "
                         f"{b.shape} (use tensordot or multiply for vectors).")
    if (transpose_a and adjoint_a) or (transpose_b and adjoint_b):
        raise ValueError("Only one of transpose_a and adjoint_a (or transpose_b and "
                         "adjoint_b) can be True.")
    if transpose_a or adjoint_a:
        a = jnp.swapaxes(a, -1, -2)
        a = jnp.conj(a) if adjoint_a else a
    if transpose_b or adjoint_b:
        b = jnp.swapaxes(b, -1, -2)
        b = jnp.conj(b) if adjoint_b else b
    out = jnp.matmul(a, b)
    return out if output_type is None else out.astype(output_type)


def tensordot(a: ArrayLike, b: ArrayLike, axes: Any, name: str | None = None) -> jax.Array:
    """``tf.tensordot(a, b, axes)``: sum over ``axes`` (a count, or two lists of axes).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> a, b = jnp.array([1.0, 2.0]), jnp.array([3.0, 0.5])
      >>> js.tensordot(a, b, 1).item(), js.tensordot(a, b, 0).tolist()
      (4.0, [[3.0, 0.5], [6.0, 1.0]])
    """
    return jnp.tensordot(a, b, axes)


def einsum(equation: str, *inputs: ArrayLike, **kwargs: Any) -> jax.Array:
    """``tf.einsum(equation, *inputs)``: ``jnp.einsum``, ignoring a ``name=``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.einsum("ij,j->i", jnp.ones((2, 3)), jnp.array([0.5, 1.0, 2.0])).tolist()
      [3.5, 3.5]
    """
    kwargs.pop("name", None)
    return jnp.einsum(equation, *inputs, **kwargs)


def norm(tensor: ArrayLike, ord: Any = "euclidean", axis: Any = None,  # noqa: A002
         keepdims: Any = None, name: str | None = None, keep_dims: Any = None) -> jax.Array:
    """``tf.norm``: the ``ord``-norm of ``tensor`` over ``axis``.

    ``euclidean`` (2), ``fro``, 1, ``np.inf`` or any p over one axis, or the whole tensor as
    a vector when ``axis`` is None.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.array([[3.0, 4.0], [0.0, 0.0]])
      >>> js.norm(x).item(), js.norm(x, axis=1).tolist(), js.norm(x, ord=1, axis=1).tolist()
      (5.0, [5.0, 0.0], [7.0, 0.0])
    """
    x = jnp.asarray(tensor)
    keep = _keepdims(keepdims, keep_dims)
    vector = axis is None or np.ndim(axis) == 0 or len(axis) == 1
    p = (2 if vector else "fro") if ord in ("euclidean", "fro") else ord
    if axis is None:
        flat = jnp.linalg.norm(x.reshape(-1), ord=p)
        return flat.reshape((1,) * x.ndim) if keep else flat
    axes = tuple(int(a) for a in np.atleast_1d(axis))
    return jnp.linalg.norm(x, ord=p, axis=axes if len(axes) > 1 else axes[0], keepdims=keep)


# --------------------------------------------------------------------------- clipping


def clip_by_value(t: ArrayLike, clip_value_min: ArrayLike, clip_value_max: ArrayLike,
                  name: str | None = None) -> jax.Array:
    """``tf.clip_by_value(t, clip_value_min, clip_value_max)``: clamp element-wise.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.clip_by_value(jnp.array([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
      [-1.0, 0.5, 1.0]
    """
    return jnp.clip(t, clip_value_min, clip_value_max)


def clip_by_norm(t: ArrayLike, clip_norm: ArrayLike, axes: Any = None,
                 name: str | None = None) -> jax.Array:
    """``t * clip_norm / max(l2norm(t, axes), clip_norm)``, as TF (a zero ``t`` stays 0).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.clip_by_norm(jnp.array([3.0, 4.0]), 2.5).tolist()  # l2 norm 5 -> 2.5
      [1.5, 2.0]
      >>> js.clip_by_norm(jnp.array([[3.0, 4.0], [0.5, 0.0]]), 2.5, axes=[1]).tolist()
      [[1.5, 2.0], [0.5, 0.0]]
    """
    axes = None if axes is None else tuple(int(a) for a in np.atleast_1d(axes))
    return _clip_by_norm(jnp.asarray(t), clip_norm, axes)


def global_norm(t_list: Sequence[ArrayLike | None], name: str | None = None) -> jax.Array:
    """``sqrt(sum(l2norm(t)**2 for t in t_list))``; ``None`` entries are skipped.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> js.global_norm([jnp.array([3.0]), None, jnp.array([[4.0]])]).item()
      5.0
    """
    squares = [jnp.sum(jnp.square(jnp.asarray(t))) for t in t_list if t is not None]
    if not squares:
        return jnp.zeros((), jnp.float32)
    return jnp.sqrt(sum(squares[1:], squares[0]))


def clip_by_global_norm(t_list: Sequence[ArrayLike | None], clip_norm: ArrayLike,
                        use_norm: ArrayLike | None = None,
                        name: str | None = None) -> tuple[list[jax.Array | None], jax.Array]:
    """``tf.clip_by_global_norm``: TF's ``(list_clipped, global_norm)``.

    Every tensor is scaled by ``clip_norm / max(global_norm, clip_norm)``; ``None`` entries
    stay None, and an infinite global norm makes every entry NaN, as TF.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> grads = [jnp.array([3.0]), None, jnp.array([4.0])]
      >>> clipped, norm = js.clip_by_global_norm(grads, 2.5)  # global norm 5 -> 2.5
      >>> [None if g is None else g.tolist() for g in clipped], norm.item()
      ([[1.5], None, [2.0]], 5.0)
    """
    norm_value = global_norm(t_list) if use_norm is None else jnp.asarray(use_norm)
    scale = clip_norm * jnp.minimum(1.0 / norm_value, 1.0 / clip_norm)
    scale = jnp.where(jnp.isfinite(norm_value), scale, jnp.nan)
    clipped = [None if t is None else (jnp.asarray(t) * scale).astype(jnp.result_type(t))
               for t in t_list]
    return clipped, norm_value
