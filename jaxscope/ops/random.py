"""TF1's random ops, drawing their keys from `js.next_rng_key` (the ``rng`` given to
``init``/``apply``).

TF's graph-level and op ``seed`` cannot pick JAX's stream: it is accepted and ignored;
the randomness comes from the ``rng`` passed to ``init``/``apply``, as for dropout.

>>> import jax, jax.numpy as jnp, jaxscope as js
>>> model = js.transform(lambda: js.random_normal([2, 3], stddev=0.1))
>>> out, _ = model.apply(model.init(0), rng=jax.random.key(0))
>>> out.shape, out.dtype.name
((2, 3), 'float32')
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.ops.array import _shape_arg
from jaxscope.ops.dtypes import as_dtype
from jaxscope.transform import next_rng_key
from jaxscope.values import canonical_dtype

__all__ = ["multinomial", "random_categorical", "random_normal", "random_shuffle",
           "random_uniform", "truncated_normal"]


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
                  seed: int | None = None, name: str | None = None) -> jax.Array:
    """``tf.random_normal``: normal draws of ``mean`` and ``stddev``, keyed by the ``rng``.

    Example:
      >>> import jaxscope as js
      >>> model = js.transform(lambda: js.random_normal([2, 3], mean=5.0, stddev=0.1))
      >>> out, _ = model.apply(model.init(0), rng=0)
      >>> out.shape, out.dtype.name, bool(((out > 4.0) & (out < 6.0)).all())
      ((2, 3), 'float32', True)
    """
    dtype = as_dtype(dtype)
    z = jax.random.normal(next_rng_key(), _shape_arg(shape), dtype)
    return z * jnp.asarray(stddev, dtype) + jnp.asarray(mean, dtype)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = np.float32,
                     seed: int | None = None, name: str | None = None) -> jax.Array:
    """``tf.truncated_normal``: normal draws, with those over two stddevs away redrawn.

    Normal draws more than two standard deviations from the mean are redrawn, as TF.

    Example:
      >>> import jaxscope as js
      >>> model = js.transform(lambda: js.truncated_normal([1000], stddev=0.5))
      >>> out, _ = model.apply(model.init(0), rng=0)
      >>> out.shape, bool((js.abs(out) <= 1.0).all())  # within 2 * stddev
      ((1000,), True)
    """
    dtype = as_dtype(dtype)
    z = jax.random.truncated_normal(next_rng_key(), -2.0, 2.0, _shape_arg(shape), dtype)
    return z * jnp.asarray(stddev, dtype) + jnp.asarray(mean, dtype)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32,
                   seed: int | None = None, name: str | None = None) -> jax.Array:
    """``tf.random_uniform``: uniform draws in ``[minval, maxval)``.

    ``maxval`` defaults to 1 for floats and is required for integers, as TF.

    Example:
      >>> import jaxscope as js
      >>> model = js.transform(lambda: (js.random_uniform([100], -1.0),
      ...                               js.random_uniform([100], 0, 3, dtype=js.int32)))
      >>> (u, k), _ = model.apply(model.init(0), rng=0)
      >>> bool(((u >= -1.0) & (u < 1.0)).all()), sorted(set(k.tolist())), k.dtype.name
      (True, [0, 1, 2], 'int32')
    """
    dtype = as_dtype(dtype)
    shape = _shape_arg(shape)
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype.name}")
        return jax.random.randint(next_rng_key(), shape, minval, maxval, dtype)
    maxval = 1 if maxval is None else maxval
    return jax.random.uniform(next_rng_key(), shape, dtype, minval, maxval)


def random_shuffle(value: Any, seed: int | None = None, name: str | None = None) -> jax.Array:
    """``tf.random_shuffle``: ``value`` with its first axis permuted.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda: js.random_shuffle(jnp.array([[1, 1], [2, 2], [3, 3]])))
      >>> out, _ = model.apply(model.init(0), rng=0)
      >>> sorted(out.tolist())  # the same rows, in some order
      [[1, 1], [2, 2], [3, 3]]
    """
    return jax.random.permutation(next_rng_key(), jnp.asarray(value), axis=0,
                                  independent=False)


def multinomial(logits: Any, num_samples: int, seed: int | None = None,
                name: str | None = None, output_dtype: Any = None) -> jax.Array:
    """TF1's ``tf.multinomial``: draw class indices from rows of logits.

    ``num_samples`` class indices per row of ``[batch, classes]`` unnormalized
    log-probabilities; int64 (int32 while JAX's 64-bit types are off).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> logits = jnp.log(jnp.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]))
      >>> model = js.transform(lambda: js.multinomial(logits, num_samples=4))
      >>> out, _ = model.apply(model.init(0), rng=0)
      >>> out.shape, bool((out[0] < 2).all()), out[1].tolist()
      ((2, 4), True, [2, 2, 2, 2])
    """
    logits = jnp.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits should be a matrix [batch_size, num_classes], got shape "
                         f"{logits.shape}")
    draws = jax.random.categorical(next_rng_key(), logits, axis=-1,
                                   shape=(int(num_samples), logits.shape[0]))
    dtype = np.int64 if output_dtype is None else as_dtype(output_dtype)
    return draws.T.astype(canonical_dtype(dtype))


def random_categorical(logits: Any, num_samples: int, dtype: Any = None,
                       seed: int | None = None, name: str | None = None) -> jax.Array:
    """``tf.random.categorical``: `multinomial` with TF2's argument name.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> logits = jnp.log(jnp.array([[0.0, 1.0]]))
      >>> model = js.transform(lambda: js.random_categorical(logits, 3, dtype=js.int32))
      >>> out, _ = model.apply(model.init(0), rng=0)
      >>> out.tolist(), out.dtype.name
      ([[1, 1, 1]], 'int32')
    """
    return multinomial(logits, num_samples, seed, name, dtype)
