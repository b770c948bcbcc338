"""`js.nn.dropout`: TF1 arguments, keep statistics, scaling, keys, and `js.transform`'s rng."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_transforms, randn

import jaxscope as js
import jaxscope.nn as nn

KEY = jax.random.key(0)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_keep_rate_and_scaling(rate):
    y = np.asarray(nn.dropout(np.ones(200_000), rate=rate, rng=KEY))
    kept = y != 0
    assert abs(kept.mean() - (1 - rate)) < 0.005  # ~5 standard deviations
    np.testing.assert_array_equal(y[kept], np.float32(1 / (1 - rate)))
    assert abs(y.mean() - 1) < 0.02  # dropout keeps the expectation


def test_keep_prob_is_one_minus_rate():
    x = randn(50, 20)
    assert_close(nn.dropout(x, keep_prob=0.7, rng=KEY), nn.dropout(x, rate=0.3, rng=KEY))
    assert_close(nn.dropout(x, 0.7, rng=KEY), nn.dropout(x, rate=0.3, rng=KEY))
    y = np.asarray(nn.dropout(x, keep_prob=0.7, rng=KEY))
    kept = y != 0
    assert_close(y[kept], x[kept] / 0.7)


def test_determinism_by_key_and_seed():
    x = np.ones([1000])
    a = nn.dropout(x, rate=0.5, rng=jax.random.key(1))
    assert np.array_equal(a, nn.dropout(x, rate=0.5, rng=jax.random.key(1)))
    assert not np.array_equal(a, nn.dropout(x, rate=0.5, rng=jax.random.key(2)))
    assert not np.array_equal(a, nn.dropout(x, rate=0.5, rng=jax.random.key(1), seed=7))
    assert np.array_equal(nn.dropout(x, rate=0.5, rng=jax.random.key(1), seed=7),
                          nn.dropout(x, rate=0.5, rng=jax.random.key(1), seed=7))
    assert np.array_equal(nn.dropout(x, rate=0.5, rng=3), nn.dropout(x, rate=0.5, rng=3))
    assert np.array_equal(nn.dropout(x, rate=0.5, rng=jax.random.PRNGKey(4)),
                          nn.dropout(x, rate=0.5, rng=jax.random.PRNGKey(4)))


def test_noise_shape_drops_whole_slices():
    y = np.asarray(nn.dropout(np.ones([200, 8]), rate=0.5, noise_shape=[200, 1], rng=KEY))
    assert all(len(set(row)) == 1 for row in y.tolist())  # a row is all kept or all dropped
    assert 0 < (y[:, 0] == 0).sum() < 200
    z = np.asarray(nn.dropout(np.ones([8, 200]), rate=0.5, noise_shape=[1, None], rng=KEY))
    assert (z == z[0]).all()
    with pytest.raises(ValueError, match="noise_shape"):
        nn.dropout(np.ones([4, 3]), rate=0.5, noise_shape=[4, 2], rng=KEY)
    with pytest.raises(ValueError, match="noise_shape"):
        nn.dropout(np.ones([4, 3]), rate=0.5, noise_shape=[4], rng=KEY)


def test_argument_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="both 'keep_prob' and 'rate'"):
        nn.dropout(x, keep_prob=0.5, rate=0.5, rng=KEY)
    with pytest.raises(ValueError, match="must provide a `rate`"):
        nn.dropout(x, rng=KEY)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="keep_prob"):
            nn.dropout(x, keep_prob=bad, rng=KEY)
    for bad in (1.0, -0.5):
        with pytest.raises(ValueError, match="rate"):
            nn.dropout(x, rate=bad, rng=KEY)


def test_rate_zero_is_identity():
    x = jnp.arange(4.0)
    assert nn.dropout(x, rate=0.0) is x  # no key is needed either
    assert nn.dropout(x, keep_prob=1.0) is x


def test_key_comes_from_the_transform():
    def model(x):
        return nn.dropout(x, rate=0.5)

    f = js.transform(model)
    x = np.ones([500])
    variables = f.init(0, x)
    a, _ = f.apply(variables, x, rng=jax.random.key(5))
    b, _ = f.apply(variables, x, rng=jax.random.key(5))
    c, _ = f.apply(variables, x, rng=jax.random.key(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(np.asarray(a).tolist()) == {0.0, 2.0}
    with pytest.raises(js.MissingRngError):
        f.apply(variables, x)
    with pytest.raises(js.NotInTransformError, match="js.transform"):
        nn.dropout(x, rate=0.5)


def test_transforms_and_traced_rate():
    x = randn(4, 6)
    check_transforms(lambda x: nn.dropout(x, rate=0.4, rng=KEY), x)
    by_rate = jax.jit(lambda x, r: nn.dropout(x, rate=r, rng=KEY))
    assert_close(by_rate(x, 0.4), nn.dropout(x, rate=0.4, rng=KEY))
    grad = jax.jit(jax.grad(lambda x: jnp.sum(nn.dropout(x, rate=0.4, rng=KEY))))(x)
    kept = np.asarray(nn.dropout(jnp.ones_like(x), rate=0.4, rng=KEY)) != 0
    assert_close(grad, np.where(kept, 1 / 0.6, 0.0))
