"""``dropout`` with TF1's signature; its randomness comes from a JAX key."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxscope.nn._common import op_scope

__all__ = ["dropout"]


def dropout(
    x: ArrayLike,
    keep_prob: float | ArrayLike | None = None,
    noise_shape: Sequence[int | None] | None = None,
    seed: int | None = None,
    name: str | None = None,
    rate: float | ArrayLike | None = None,
    *,
    rng: jax.Array | int | None = None,
) -> jax.Array:
    """Zeroes each element with probability ``rate`` and scales the rest by ``1 / keep_prob``.

    TF1 ``tf.nn.dropout``: give exactly one of ``keep_prob`` and ``rate``
    (``rate = 1 - keep_prob``).

    Args:
      x: the input.
      keep_prob: probability of keeping an element, in ``(0, 1]``.
      noise_shape: shape of the random keep mask, broadcast against ``x`` (e.g.
        ``[N, 1, 1, C]`` drops whole channels); ``None`` entries take ``x``'s size.
      seed: an int folded into the key, so different seeds give different masks.
      name: optional ``jax.named_scope`` for the op.
      rate: probability of dropping an element, in ``[0, 1)``.
      rng: the JAX key (or int seed) to draw the mask from; by default
        ``js.next_rng_key()``, which works inside ``model.apply(..., rng=key)``.

    Returns:
      An array like ``x``.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> y = js.nn.dropout(jnp.ones(1000), rate=0.5, rng=jax.random.key(0))
      >>> sorted(set(y.tolist())), bool(0.4 < (y > 0).mean() < 0.6)
      ([0.0, 2.0], True)
    """
    rate = _rate(keep_prob, rate)
    x = jnp.asarray(x)
    if isinstance(rate, numbers.Real) and rate == 0:
        return x
    with op_scope(name):
        key = _key(rng)
        if seed is not None:
            key = jax.random.fold_in(key, seed)
        shape = _noise_shape(noise_shape, x.shape)
        keep = jax.random.uniform(key, shape, dtype=jnp.float32) >= rate
        # As TF, a Python rate gives a scale computed in double precision, then cast.
        scale = 1 / (1 - rate) if isinstance(rate, numbers.Real) else 1 / (1 - jnp.asarray(rate))
        return jnp.where(keep, x * jnp.asarray(scale, x.dtype), jnp.zeros((), x.dtype))


def _rate(keep_prob: float | ArrayLike | None, rate: float | ArrayLike | None):
    if keep_prob is not None and rate is not None:
        raise ValueError("dropout: cannot specify both 'keep_prob' and 'rate'; give one.")
    if keep_prob is None and rate is None:
        raise ValueError(
            "dropout: you must provide a `rate` (probability to drop) or a `keep_prob` "
            "(probability to keep)."
        )
    if keep_prob is not None:
        if isinstance(keep_prob, numbers.Real) and not 0 < keep_prob <= 1:
            raise ValueError(f"dropout: keep_prob must be a scalar in (0, 1], got {keep_prob}.")
        return 1 - keep_prob
    if isinstance(rate, numbers.Real) and not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be a scalar in [0, 1), got {rate}.")
    return rate


def _key(rng: jax.Array | int | None) -> jax.Array:
    if rng is None:
        from jaxscope.transform import next_rng_key  # lazy: no import cycle with jaxscope

        return next_rng_key()
    return jax.random.key(rng) if isinstance(rng, int) else rng


def _noise_shape(noise_shape: Sequence[int | None] | None, shape: tuple[int, ...]):
    if noise_shape is None:
        return shape
    noise = list(noise_shape)
    if len(noise) != len(shape):
        raise ValueError(
            f"dropout: noise_shape {noise_shape} must have the rank of x's shape {shape}."
        )
    noise = [s if n is None else int(n) for n, s in zip(noise, shape)]
    if any(n not in (1, s) for n, s in zip(noise, shape)):
        raise ValueError(f"dropout: noise_shape {noise_shape} does not broadcast to {shape}.")
    return tuple(noise)
