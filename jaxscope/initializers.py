"""TF1's v1 initializers (``tf.compat.v1.*_initializer``) on JAX.

An initializer is an object called as ``init(key, shape, dtype=None)`` and returning a
``jax.Array``: ``key`` is a JAX PRNG key (``jax.random.key`` or a raw ``PRNGKey``),
``shape`` a tuple of ints and ``dtype`` the variable's dtype, which wins over the
``dtype`` given to the constructor. That is the calling convention of
``jax.nn.initializers`` too, so those work wherever these do.

Every class here builds with no arguments, so the class itself can stand for a default
instance, as in TF1 (``initializer=zeros_initializer``). The lowercase TF names at the
bottom of this module are the classes themselves, again as in TF1.

Seeds: TF's Philox streams cannot be reproduced in JAX, so only the distributions and
formulas match TF, never the sampled numbers. A ``seed`` given to a random initializer
is folded into the key (``jax.random.fold_in(key, seed % 2**32)``): two initializers
with different seeds draw different values from the same key, and the same seed with
the same key always draws the same values. Deterministic initializers (zeros, ones,
constant, identity) ignore the key and accept ``key=None``.

Everything works under ``jax.jit`` and ``jax.eval_shape``: shapes and dtypes are static
and the only traced input is the key.

Example:
  >>> import jax, jaxscope as js
  >>> init = js.truncated_normal_initializer(stddev=0.1)  # TF1: tf.truncated_normal_initializer
  >>> init(jax.random.key(0), (3, 2)).shape  # called directly: (key, shape, dtype)
  (3, 2)
  >>> def model():  # or given to get_variable / variable_scope, as in TF1
  ...     with js.variable_scope("layer", initializer=js.zeros_initializer()):
  ...         return js.get_variable("b", [2])
  >>> js.transform(model).init(0)["params"]["layer/b"].tolist()
  [0.0, 0.0]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "Identity",
    "Initializer",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "UniformUnitScaling",
    "VarianceScaling",
    "Zeros",
    "constant_initializer",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "he_normal",
    "he_uniform",
    "identity_initializer",
    "lecun_normal",
    "lecun_uniform",
    "ones_initializer",
    "orthogonal_initializer",
    "random_normal_initializer",
    "random_uniform_initializer",
    "truncated_normal_initializer",
    "uniform_unit_scaling_initializer",
    "variance_scaling_initializer",
    "zeros_initializer",
]

DTypeLike = Any
Shape = Sequence[int]

# Standard deviation of a standard normal truncated to [-2, 2]
# (scipy.stats.truncnorm.std(a=-2, b=2)); TF >= 1.11 divides by it so that the
# *truncated* samples have the requested variance.
_TRUNCATED_NORMAL_STD = 0.87962566103423978


# --------------------------------------------------------------------------- helpers


def _as_dtype(dtype: DTypeLike) -> np.dtype:
    """A NumPy dtype from a name (``"int32"``), a NumPy/JAX type or a TF ``DType``."""
    if dtype is None:  # np.dtype(None) would be float64; TF's default is float32
        return np.dtype(np.float32)
    as_numpy = getattr(dtype, "as_numpy_dtype", None)  # a tf.DType, if one is passed
    if as_numpy is not None:
        dtype = as_numpy
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Cannot interpret {dtype!r} as a dtype.") from None


def _dtype_str(dtype: np.dtype) -> str:
    # TF prints dtypes as "<dtype: 'int32'>"; error texts keep that form.
    return f"<dtype: '{dtype.name}'>"


def _is_floating(dtype: np.dtype) -> bool:
    return bool(jnp.issubdtype(dtype, jnp.floating))


def _assert_float_dtype(dtype: np.dtype) -> np.dtype:
    if not _is_floating(dtype):
        raise ValueError(f"Expected floating point type, got {_dtype_str(dtype)}.")
    return dtype


def _as_shape(shape: Shape | int) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _fold_seed(key: Any, seed: int | None, who: str) -> Any:
    if key is None:
        raise ValueError(
            f"{who} draws random values and needs a PRNG key: call it as "
            "init(jax.random.key(0), shape, dtype)."
        )
    if seed is None:
        return key
    return jax.random.fold_in(key, int(seed) % (1 << 32))


def _compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) as TF computes them; conv kernels are (..., in, out)."""
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in, fan_out = shape
    else:
        receptive_field = math.prod(shape[:-2])
        fan_in = shape[-2] * receptive_field
        fan_out = shape[-1] * receptive_field
    return int(fan_in), int(fan_out)


# --------------------------------------------------------------------------- base


class Initializer:
    """Base class of jaxscope's initializers: ``init(key, shape, dtype=None) -> Array``.

    ``isinstance(x, Initializer)`` tells jaxscope's initializers from other callables.
    Subclasses set ``dtype`` (the default used when the call gives none) and
    implement ``__call__``; ``get_config`` lists the constructor arguments.

    Example:
      >>> isinstance(Zeros(), Initializer)
      True
    """

    dtype: np.dtype

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        """An array of ``shape``: ``dtype`` if given, else the initializer's own ``dtype``.

        ``key`` is a JAX PRNG key; deterministic initializers accept ``None``.

        Example:
          >>> import jax, jaxscope as js
          >>> init = js.random_uniform_initializer(0.0, 1.0)  # dtype float32 by default
          >>> init(jax.random.key(0), (2, 3)).shape, init(jax.random.key(0), [2], "float16").dtype
          ((2, 3), dtype('float16'))
          >>> js.ones_initializer()(None, (2,), "int32").tolist()
          [1, 1]
        """
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-friendly (dtypes as names).

        Example:
          >>> import jaxscope as js
          >>> js.random_normal_initializer(stddev=0.02).get_config()
          {'mean': 0.0, 'stddev': 0.02, 'seed': None, 'dtype': 'float32'}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Builds an initializer from what `get_config` returned.

        Example:
          >>> import jaxscope as js
          >>> config = js.variance_scaling_initializer(2.0, mode="fan_out").get_config()
          >>> js.variance_scaling_initializer.from_config(config)
          VarianceScaling(scale=2.0, mode='fan_out', distribution='truncated_normal', seed=None,
                          dtype='float32')
        """
        return cls(**config)

    def _call_dtype(self, dtype: DTypeLike | None) -> np.dtype:
        return self.dtype if dtype is None else _as_dtype(dtype)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# --------------------------------------------------------------------------- constants


class Zeros(Initializer):
    """Fills with zeros (``False`` for booleans); ignores the key.

    Example:
      >>> Zeros()(None, (2,), "int32")
      Array([0, 0], dtype=int32)
    """

    def __init__(self, dtype: DTypeLike = jnp.float32):
        self.dtype = _as_dtype(dtype)

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        return jnp.zeros(_as_shape(shape), self._call_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """Fills with ones; ignores the key.

    Example:
      >>> Ones()(None, (2,))
      Array([1., 1.], dtype=float32)
    """

    def __init__(self, dtype: DTypeLike = jnp.float32):
        self.dtype = _as_dtype(dtype)

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        return jnp.ones(_as_shape(shape), self._call_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _dense_dims(value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)):
        return []
    if not value:
        return [0]
    return [len(value), *_dense_dims(value[0])]


def _accepted_types(dtype: np.dtype) -> tuple[type, ...]:
    if dtype == np.bool_:
        return (bool, np.bool_)
    if jnp.issubdtype(dtype, jnp.integer):
        return (numbers.Integral, np.integer)
    if _is_floating(dtype):
        return (numbers.Real, np.integer, np.floating)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return (numbers.Complex, np.number)
    return (object,)


def _check_compatible(value: Any, dtype: np.dtype) -> None:
    """TF's check that Python values fit ``dtype`` (2.7 does not fit int32)."""
    types = _accepted_types(dtype)
    for leaf in _flatten(value):
        if isinstance(leaf, np.ndarray):
            ok = issubclass(leaf.dtype.type, types)
        else:
            ok = isinstance(leaf, types)
        if not ok:
            raise TypeError(
                f"Expected {dtype.name}, but got {leaf} of type '{type(leaf).__name__}'."
            )


def _float_op_dtype(dtype: np.dtype, *constants: Any) -> np.dtype:
    """``dtype`` for a draw only floats can take (``random_normal``, ``eye``): as TF, a
    non-float dtype fails converting the op's first Python constant (its mean...) to it."""
    if not _is_floating(dtype):
        for constant in constants:
            _check_compatible(constant, dtype)
        raise TypeError(
            f"Value for attr 'dtype' of {dtype.name} is not in the list of allowed values: "
            "half, bfloat16, float, double"
        )
    return dtype


_UNIFORM_DTYPES = frozenset(np.dtype(d) for d in (
    jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64, jnp.int32, jnp.int64))


def _uniform_dtype(dtype: np.dtype, minval: Any, maxval: Any) -> np.dtype:
    """``dtype`` for ``random_uniform(minval, maxval)``, with TF's checks in TF's order."""
    if dtype not in _UNIFORM_DTYPES:
        raise ValueError(
            f"Argument `dtype` got invalid value {_dtype_str(dtype)}. Accepted dtypes are "
            "(tf.float16, tf.bfloat16, tf.float32, tf.float64, tf.int32, tf.int64)."
        )
    if maxval is None and jnp.issubdtype(dtype, jnp.integer):
        raise ValueError(f"Must specify maxval for integer dtype tf.{dtype.name}")
    _check_compatible(minval, dtype)
    if maxval is not None:
        _check_compatible(maxval, dtype)
    return dtype


def _constant_value(
    value: Any, shape: tuple[int, ...], dtype: np.dtype, verify_shape: bool
) -> np.ndarray:
    """``tf.compat.v1.constant(value, dtype, shape, verify_shape)`` as a NumPy array."""
    size = math.prod(shape)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value).astype(dtype)  # NumPy values are cast, as in TF
    else:
        if size == 0:
            return np.zeros(shape, dtype)
        _check_compatible(value, dtype)
        try:
            array = np.array(value, dtype=dtype)
        except ValueError:
            array = None
        if array is None or list(array.shape) != _dense_dims(value):
            raise ValueError(
                f"Expected values {value} to be a dense tensor with shape {_dense_dims(value)}."
            )
    if verify_shape and array.shape != shape:
        raise TypeError(f"Expected Tensor's shape: {shape}, but got {array.shape}.")
    if array.size > size:
        raise ValueError(f"Too many elements provided. Takes at most {size}, but got {array.size}.")
    flat = array.reshape(-1)
    if flat.size == 0:
        return np.zeros(shape, dtype)
    # TF1 decodes a short constant by repeating its last element.
    return np.pad(flat, (0, size - flat.size), mode="edge").reshape(shape)


class Constant(Initializer):
    """Fills with ``value`` as TF1's ``constant_initializer``; ignores the key.

    ``value`` is a Python scalar, a (nested) list or tuple, or a NumPy array, read in
    row-major order. With fewer elements than the shape needs, the last one fills the
    rest; more elements raise ``ValueError``. ``verify_shape=True`` requires
    ``value``'s shape to equal the variable's. A Python float for an integer dtype
    raises ``TypeError``, as in TF.

    Args:
      value: the values.
      dtype: the default dtype (the variable's dtype wins).
      verify_shape: require ``value``'s shape to match exactly.

    Example:
      >>> Constant([1, 2])(None, (3, 2))
      Array([[1., 2.],
             [2., 2.],
             [2., 2.]], dtype=float32)
    """

    def __init__(self, value: Any = 0, dtype: DTypeLike = jnp.float32, verify_shape: bool = False):
        if isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
            value = np.asarray(value)
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(
                f"Invalid type for initial value={value} of type: {type(value).__name__}. "
                "Expected Python scalar, list or tuple of values, or numpy.ndarray."
            )
        self.value = value
        self.dtype = _as_dtype(dtype)
        self.verify_shape = bool(verify_shape)

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        dtype = self._call_dtype(dtype)
        return jnp.asarray(_constant_value(self.value, _as_shape(shape), dtype, self.verify_shape))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value, "dtype": self.dtype.name, "verify_shape": self.verify_shape}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only); ignores the key.

    Args:
      gain: multiplies the identity.
      dtype: the default dtype (floating point only).

    Example:
      >>> Identity(gain=2.0)(None, (2, 3))
      Array([[2., 0., 0.],
             [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0, dtype: DTypeLike = jnp.float32):
        self.gain = gain
        self.dtype = _assert_float_dtype(_as_dtype(dtype))

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        shape = _as_shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received shape={list(shape)}"
            )
        dtype = _float_op_dtype(self._call_dtype(dtype), 1.0)
        eye = jnp.eye(*shape, dtype=dtype)
        return (self.gain * eye).astype(eye.dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "dtype": self.dtype.name}


# --------------------------------------------------------------------------- random


class RandomUniform(Initializer):
    """Uniform samples in ``[minval, maxval)``.

    ``maxval=None`` means 1 for floating dtypes; integer dtypes are accepted (as in
    TF) but need an explicit ``maxval``.

    Args:
      minval: lower bound (inclusive).
      maxval: upper bound (exclusive).
      seed: folded into the key (see the module docstring).
      dtype: the default dtype.

    Example:
      >>> import jax
      >>> x = RandomUniform(-1.0, 1.0)(jax.random.key(0), (100,))
      >>> bool((x >= -1).all() and (x < 1).all())
      True
    """

    def __init__(
        self,
        minval: float = 0,
        maxval: float | None = None,
        seed: int | None = None,
        dtype: DTypeLike = jnp.float32,
    ):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = _as_dtype(dtype)

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        dtype = _uniform_dtype(self._call_dtype(dtype), self.minval, self.maxval)
        shape = _as_shape(shape)
        key = _fold_seed(key, self.seed, type(self).__name__)
        if jnp.issubdtype(dtype, jnp.integer):
            return jax.random.randint(key, shape, self.minval, self.maxval, dtype)
        maxval = 1 if self.maxval is None else self.maxval
        return jax.random.uniform(key, shape, dtype, self.minval, maxval)

    def get_config(self) -> dict[str, Any]:
        return {
            "minval": self.minval,
            "maxval": self.maxval,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class RandomNormal(Initializer):
    """Normal samples ``N(mean, stddev**2)``.

    Args:
      mean: the mean.
      stddev: the standard deviation.
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).

    Example:
      >>> import jax
      >>> RandomNormal(stddev=0.1)(jax.random.key(0), (3, 2)).shape
      (3, 2)
    """

    def __init__(
        self,
        mean: float = 0.0,
        stddev: float = 1.0,
        seed: int | None = None,
        dtype: DTypeLike = jnp.float32,
    ):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(_as_dtype(dtype))

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        dtype = _float_op_dtype(self._call_dtype(dtype), self.mean, self.stddev)
        key = _fold_seed(key, self.seed, type(self).__name__)
        z = jax.random.normal(key, _as_shape(shape), dtype)
        return (self.mean + self.stddev * z).astype(z.dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "stddev": self.stddev,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class TruncatedNormal(RandomNormal):
    """Normal samples more than 2 standard deviations from the mean re-drawn.

    The support is ``[mean - 2*stddev, mean + 2*stddev]``; the standard deviation of
    the result is about ``0.8796 * stddev``.

    Args:
      mean: the mean.
      stddev: the standard deviation before truncation.
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).

    Example:
      >>> import jax
      >>> x = TruncatedNormal(stddev=0.5)(jax.random.key(0), (1000,))
      >>> bool(abs(x).max() <= 1.0)
      True
    """

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        dtype = _float_op_dtype(self._call_dtype(dtype), self.mean, self.stddev)
        key = _fold_seed(key, self.seed, type(self).__name__)
        z = jax.random.truncated_normal(key, -2.0, 2.0, _as_shape(shape), dtype)
        return (self.mean + self.stddev * z).astype(z.dtype)


class UniformUnitScaling(Initializer):
    """``U(-L, L)`` with ``L = factor * sqrt(3 / input_size)`` (TF1's old default).

    ``input_size = max(1, prod(shape[:-1]))``, computed on ``full_shape`` when given
    (the whole variable's shape when ``shape`` is one slice of it).

    Args:
      factor: multiplies the limit (1.0 linear, ~1.43 relu, ~1.15 tanh).
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).
      full_shape: shape to compute ``input_size`` from instead of ``shape``.

    Example:
      >>> import jax
      >>> x = UniformUnitScaling()(jax.random.key(0), (300, 10))
      >>> bool(abs(x).max() < 0.1)  # limit sqrt(3 / 300) = 0.1
      True
    """

    def __init__(
        self,
        factor: float = 1.0,
        seed: int | None = None,
        dtype: DTypeLike = jnp.float32,
        full_shape: Shape | None = None,
    ):
        self.factor = factor
        self.seed = seed
        self.dtype = _assert_float_dtype(_as_dtype(dtype))
        self.full_shape = None if full_shape is None else _as_shape(full_shape)

    def limit(self, shape: Shape) -> float:
        """The bound ``L`` for a variable of ``shape``.

        Example:
          >>> import jaxscope as js
          >>> js.uniform_unit_scaling_initializer(factor=2.0).limit((300, 10))  # 2 * sqrt(3 / 300)
          0.2
        """
        scale_shape = _as_shape(shape) if self.full_shape is None else self.full_shape
        input_size = max(1.0, float(math.prod(scale_shape[:-1])))
        return math.sqrt(3.0 / input_size) * self.factor

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        limit = self.limit(shape)
        dtype = _uniform_dtype(self._call_dtype(dtype), -limit, limit)
        key = _fold_seed(key, self.seed, type(self).__name__)
        return jax.random.uniform(key, _as_shape(shape), dtype, -limit, limit)

    def get_config(self) -> dict[str, Any]:
        config = {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}
        if self.full_shape is not None:
            config["full_shape"] = list(self.full_shape)
        return config


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("normal", "uniform", "truncated_normal", "untruncated_normal")


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n``, ``n`` from the shape's fans (TF >= 1.11).

    ``n`` is ``fan_in``, ``fan_out`` or their mean, per ``mode`` (at least 1); fans as
    TF: rank 0 -> (1, 1), rank 1 -> (n, n), rank 2 -> (in, out), conv kernels
    ``(..., in, out)`` multiply by the receptive field. ``distribution``:

    * ``"truncated_normal"`` (default) and its alias ``"normal"``: normal truncated
      at 2 sigma with ``sigma = sqrt(scale / n) / 0.87962566103423978``, so the
      truncated samples have standard deviation ``sqrt(scale / n)``;
    * ``"untruncated_normal"``: ``N(0, scale / n)``;
    * ``"uniform"``: ``U(-L, L)``, ``L = sqrt(3 * scale / n)``.

    Args:
      scale: positive scaling factor.
      mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
      distribution: see above (case-insensitive).
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).

    Example:
      >>> import jax
      >>> init = VarianceScaling(2.0, "fan_in", "uniform")  # He uniform
      >>> x = init(jax.random.key(0), (600, 50))
      >>> bool(abs(x).max() < 0.1)  # sqrt(3 * 2 / 600)
      True
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        dtype: DTypeLike = jnp.float32,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be a positive float. Received: {scale}")
        if mode not in _MODES:
            raise ValueError(
                f"Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). "
                f"Received: {mode}"
            )
        distribution = distribution.lower()
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                "Argument `distribution` should be one of ('normal', 'uniform', "
                f"'truncated_normal', 'untruncated_normal'). Received: {distribution}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(_as_dtype(dtype))

    def variance(self, shape: Shape) -> float:
        """The target variance ``scale / n`` for a variable of ``shape``.

        Example:
          >>> import jaxscope as js
          >>> js.variance_scaling_initializer(2.0, mode="fan_in").variance((3, 3, 16, 32))
          0.013888888888888888
        """
        fan_in, fan_out = _compute_fans(_as_shape(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        return self.scale / max(1.0, n[self.mode])

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        shape = _as_shape(shape)
        variance = self.variance(shape)
        call_dtype = self._call_dtype(dtype)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            dtype = _uniform_dtype(call_dtype, -limit, limit)
        else:
            dtype = _float_op_dtype(call_dtype, 0.0)
        key = _fold_seed(key, self.seed, type(self).__name__)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(variance) / _TRUNCATED_NORMAL_STD
            z = jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)
            return (stddev * z).astype(z.dtype)
        if self.distribution == "untruncated_normal":
            z = jax.random.normal(key, shape, dtype)
            return (math.sqrt(variance) * z).astype(z.dtype)
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class GlorotUniform(VarianceScaling):
    """Glorot/Xavier uniform: ``U(-L, L)``, ``L = sqrt(6 / (fan_in + fan_out))``.

    The default float initializer of TF 1.1 to 1.15 (jaxscope's default is
    `UniformUnitScaling`, as in the TF1 documents it follows).

    Args:
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).

    Example:
      >>> import jax
      >>> x = GlorotUniform()(jax.random.key(0), (3, 3))
      >>> bool(abs(x).max() <= 1.0)  # sqrt(6 / 6)
      True
    """

    def __init__(self, seed: int | None = None, dtype: DTypeLike = jnp.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed=seed, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Glorot/Xavier normal: truncated normal with std ``sqrt(2 / (fan_in + fan_out))``.

    The standard deviation is that of the truncated samples (TF >= 1.11).

    Args:
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).

    Example:
      >>> import jax
      >>> GlorotNormal()(jax.random.key(0), (4, 5)).dtype
      dtype('float32')
    """

    def __init__(self, seed: int | None = None, dtype: DTypeLike = jnp.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed=seed, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """LeCun uniform: ``VarianceScaling(1.0, "fan_in", "uniform")``.

    Example:
      >>> lecun_uniform().distribution
      'uniform'
    """
    return VarianceScaling(1.0, "fan_in", "uniform", seed=seed)


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """LeCun normal: ``VarianceScaling(1.0, "fan_in", "truncated_normal")``.

    Example:
      >>> lecun_normal().scale
      1.0
    """
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed=seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """He uniform: ``VarianceScaling(2.0, "fan_in", "uniform")``.

    Example:
      >>> he_uniform().scale
      2.0
    """
    return VarianceScaling(2.0, "fan_in", "uniform", seed=seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    """He normal: ``VarianceScaling(2.0, "fan_in", "truncated_normal")``.

    Example:
      >>> he_normal().mode
      'fan_in'
    """
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed=seed)


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR of a normal sample.

    The shape is flattened to ``(prod(shape[:-1]), shape[-1])``: with at least as many
    rows as columns the columns are orthonormal, otherwise the rows are. The signs
    of ``diag(R)`` are folded into ``Q`` so the result is uniformly distributed.

    Args:
      gain: multiplies the matrix.
      seed: folded into the key (see the module docstring).
      dtype: the default dtype (floating point only).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> q = Orthogonal()(jax.random.key(0), (4, 3))
      >>> bool(jnp.allclose(q.T @ q, jnp.eye(3), atol=1e-5))
      True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None, dtype: DTypeLike = jnp.float32):
        self.gain = gain
        self.seed = seed
        self.dtype = _assert_float_dtype(_as_dtype(dtype))

    def __call__(self, key: Any, shape: Shape, dtype: DTypeLike | None = None) -> jax.Array:
        dtype = _float_op_dtype(self._call_dtype(dtype), 0.0)
        shape = _as_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize, specified by argument `shape` must be at least "
                f"two-dimensional. Received shape={list(shape)}"
            )
        key = _fold_seed(key, self.seed, type(self).__name__)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat_shape = (cols, rows) if rows < cols else (rows, cols)
        # QR has no half-precision kernels: work in at least float32.
        work_dtype = jnp.promote_types(dtype, jnp.float32)
        a = jax.random.normal(key, flat_shape, work_dtype)
        q, r = jnp.linalg.qr(a, mode="reduced")
        q = q * jnp.sign(jnp.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(jax.dtypes.canonicalize_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


# --------------------------------------------------------------------------- TF names
# As in TF1, the lowercase names are the classes, so they work called or uncalled.

zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
orthogonal_initializer = Orthogonal
identity_initializer = Identity
