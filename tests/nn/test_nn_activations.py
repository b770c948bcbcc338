"""`js.nn` activations and softmax: numpy formulas, TF's gradients at the kinks, transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_transforms, randn

import jaxscope.nn as nn

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
X = np.array([-30.0, -6.5, -2.0, -0.3, 0.0, 0.4, 2.5, 6.0, 7.5, 30.0], np.float32)

REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "elu": lambda x: np.where(x < 0, np.expm1(x), x),
    "selu": lambda x: SELU_SCALE * np.where(x < 0, SELU_ALPHA * np.expm1(x), x),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "softplus": lambda x: np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "tanh": np.tanh,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_matches_numpy(name):
    expected = REFERENCES[name](X.astype(np.float64))
    assert_close(getattr(nn, name)(X), expected)


def test_crelu_and_leaky_alpha():
    assert_close(nn.crelu(X), np.concatenate([np.maximum(X, 0), np.maximum(-X, 0)]))
    x = randn(2, 3)
    assert nn.crelu(x, axis=0).shape == (4, 3)
    assert_close(nn.leaky_relu(X, alpha=0.01), np.where(X > 0, X, 0.01 * X))
    assert nn.leaky_relu(jnp.array([-2, 3])).dtype == jnp.float32  # ints computed as float32


@pytest.mark.parametrize(
    ("name", "x", "grad"),
    [("relu", 0.0, 0.0), ("relu6", 0.0, 0.0), ("relu6", 6.0, 0.0), ("relu6", 3.0, 1.0),
     ("leaky_relu", 0.0, 0.2), ("elu", 0.0, 1.0), ("selu", 0.0, SELU_SCALE),
     ("softplus", 0.0, 0.5), ("softsign", 0.0, 1.0)],
)
def test_gradient_at_kinks_is_tf(name, x, grad):
    derivative = jax.jit(jax.grad(getattr(nn, name)))(jnp.float32(x))
    assert float(derivative) == pytest.approx(grad, rel=1e-6)


def test_large_inputs_keep_finite_gradients():
    for name in ("elu", "selu", "softplus", "sigmoid", "swish"):
        grads = jax.jit(jax.grad(lambda x, n=name: jnp.sum(getattr(nn, n)(x))))(X * 10)
        assert np.isfinite(np.asarray(grads)).all(), name


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_softmax_and_log_softmax_match_numpy(axis):
    x = randn(3, 4) * 5
    ax = -1 if axis is None else axis
    shifted = x - x.max(ax, keepdims=True)
    expected_log = shifted - np.log(np.exp(shifted).sum(ax, keepdims=True))
    assert_close(nn.log_softmax(x, axis), expected_log)
    assert_close(nn.softmax(x, axis), np.exp(expected_log))
    assert_close(nn.softmax(x, dim=axis), np.exp(expected_log))
    with pytest.raises(ValueError, match="Cannot specify both"):
        nn.softmax(x, axis=0, dim=1)


ALL = sorted(REFERENCES) + ["crelu", "softmax", "log_softmax"]


def test_transforms():
    """jit, vmap and grad of every activation at once (one compile; random output weights)."""
    x = randn(3, 4) * 2
    check_transforms(lambda x: jnp.concatenate([getattr(nn, n)(x).ravel() for n in ALL]), x)


def test_name_scope():
    text = jax.jit(lambda x: nn.relu(x, name="act")).lower(np.ones(3)).as_text(debug_info=True)
    assert "act" in text
