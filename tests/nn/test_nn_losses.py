"""`js.nn` losses: TF loss values and gradients from the fixtures, TF1 argument rules."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_grad, check_transforms, fixture_cases, randn

import jaxscope.nn as nn


def _scale(op):
    """1 for l2_loss, the factor for the ``tf.multiply(tf.nn.l2_loss(w), c)`` cases."""
    if op == "l2_loss":
        return 1.0
    return float(re.fullmatch(r"tf\.multiply\(tf\.nn\.l2_loss\(w\), ([0-9.e-]+)\)", op).group(1))


@pytest.mark.parametrize(("case", "t"), fixture_cases("losses"))
def test_losses_match_tf(case, t):
    op = case["attrs"]["op"]
    if op == "softmax_cross_entropy_with_logits_v2":
        axis = case["attrs"]["axis"]

        def total(logits, labels):
            return jnp.sum(nn.softmax_cross_entropy_with_logits_v2(labels, logits, axis=axis))

        loss = nn.softmax_cross_entropy_with_logits_v2(t["labels"], t["logits"], axis=axis)
        assert_close(loss, t["loss"])
        if "grad_logits" in t:
            grad_logits, grad_labels = jax.jit(jax.grad(total, (0, 1)))(t["logits"], t["labels"])
            assert_close(grad_logits, t["grad_logits"])
            assert_close(grad_labels, t["grad_labels"])
    elif op == "sparse_softmax_cross_entropy_with_logits":
        def loss_fn(logits):
            return nn.sparse_softmax_cross_entropy_with_logits(labels=t["labels"], logits=logits)

        assert_close(loss_fn(t["logits"]), t["loss"])
        grad = jax.jit(jax.grad(lambda lg: jnp.sum(loss_fn(lg))))(t["logits"])
        assert_close(grad, t["grad_logits"])
    else:
        assert_close(nn.l2_loss(t["input"]) * _scale(op), t["output"])


def test_every_losses_case_is_understood():
    for param in fixture_cases("losses"):
        case, _ = param.values
        if case is None:
            pytest.skip("TF fixtures not found")
        op = case["attrs"]["op"]
        assert op.startswith(("softmax_cross", "sparse_softmax")) or _scale(op) > 0, op


def test_v1_softmax_cross_entropy_stops_gradient_into_labels():
    logits, labels = randn(3, 4), jax.nn.softmax(randn(3, 4, seed=1))

    def v1(labels, logits):
        return jnp.sum(nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))

    def v2(labels, logits):
        return jnp.sum(nn.softmax_cross_entropy_with_logits_v2(labels, logits))

    assert_close(v1(labels, logits), v2(labels, logits))
    g1_labels, g1_logits = jax.grad(v1, (0, 1))(labels, logits)
    g2_labels, g2_logits = jax.grad(v2, (0, 1))(labels, logits)
    assert not np.any(np.asarray(g1_labels))
    assert_close(g1_logits, g2_logits)
    assert_close(g2_labels, -jax.nn.log_softmax(logits))


def test_softmax_cross_entropy_axis():
    logits, labels = randn(4, 3), jax.nn.softmax(randn(4, 3, seed=1), axis=0)
    expected = -np.sum(labels * jax.nn.log_softmax(logits, axis=0), axis=0)
    assert_close(nn.softmax_cross_entropy_with_logits_v2(labels, logits, axis=0), expected)
    assert_close(nn.softmax_cross_entropy_with_logits_v2(labels, logits, dim=0), expected)
    assert_close(nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, dim=0),
                 expected)


def test_tf1_losses_need_named_arguments():
    logits, labels = np.zeros([2, 3]), np.zeros([2, 3])
    with pytest.raises(ValueError, match="Only call `softmax_cross_entropy_with_logits` with"):
        nn.softmax_cross_entropy_with_logits(labels, logits)
    with pytest.raises(ValueError, match="Only call `sparse_softmax_cross_entropy_with_logits`"):
        nn.sparse_softmax_cross_entropy_with_logits(np.zeros(2, jnp.int32), logits)
    with pytest.raises(ValueError, match="Only call `sigmoid_cross_entropy_with_logits`"):
        nn.sigmoid_cross_entropy_with_logits(labels, logits)
    with pytest.raises(ValueError, match="must be provided"):
        nn.sigmoid_cross_entropy_with_logits(labels=labels)


def test_sparse_softmax_cross_entropy_checks_and_out_of_range():
    logits = randn(3, 4)
    for dtype in (np.int32, np.int64):
        labels = np.array([0, 3, 1], dtype)
        expected = -jax.nn.log_softmax(logits)[np.arange(3), labels]
        assert_close(nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
                     expected)
    with pytest.raises(ValueError, match="Rank mismatch"):
        nn.sparse_softmax_cross_entropy_with_logits(labels=np.zeros([3, 4], np.int32),
                                                    logits=logits)
    with pytest.raises(ValueError, match="Shape mismatch"):
        nn.sparse_softmax_cross_entropy_with_logits(labels=np.zeros([2], np.int32),
                                                    logits=logits)
    with pytest.raises(TypeError, match="int32 or int64"):
        nn.sparse_softmax_cross_entropy_with_logits(labels=np.zeros([3]), logits=logits)
    loss = nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([0, 4, -1]), logits=logits)
    assert np.isfinite(loss[0]) and np.isnan(loss[1]) and np.isnan(loss[2])


def test_sigmoid_cross_entropy_is_stable_and_exact():
    logits = np.array([-200.0, -3.0, -0.5, 0.0, 0.5, 3.0, 200.0], np.float32)
    labels = np.array([0.0, 1.0, 0.3, 0.5, 1.0, 0.0, 1.0], np.float32)
    out = nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    x, z = logits.astype(np.float64), labels.astype(np.float64)
    expected = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    assert_close(out, expected)
    small = np.abs(x) < 10  # the naive form agrees where it does not overflow
    p = 1 / (1 + np.exp(-x[small]))
    naive = -z[small] * np.log(p) - (1 - z[small]) * np.log(1 - p)
    assert_close(np.asarray(out)[small], naive)
    with pytest.raises(ValueError, match="same shape"):
        nn.sigmoid_cross_entropy_with_logits(labels=labels[:3], logits=logits)


def test_weighted_cross_entropy_matches_definition():
    logits, labels = randn(5, 3), np.random.RandomState(1).uniform(size=(5, 3))
    q = 2.5
    x, z = logits.astype(np.float64), labels
    expected = -(q * z * np.log(1 / (1 + np.exp(-x))) + (1 - z) * np.log(1 - 1 / (1 + np.exp(-x))))
    assert_close(nn.weighted_cross_entropy_with_logits(labels, logits, q), expected)
    assert_close(nn.weighted_cross_entropy_with_logits(targets=labels, logits=logits,
                                                       pos_weight=1.0),
                 nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def test_l2_loss_keeps_dtype():
    assert nn.l2_loss(np.ones([2, 2], jnp.bfloat16)).dtype == jnp.bfloat16
    assert float(nn.l2_loss(jnp.array([1.0, 2.0]))) == 2.5


def all_losses(logits, labels, v1=True):
    """Every loss of (logits, labels) in one vector, so one compile checks them all."""
    sparse_labels = np.array([1, 0, 3], np.int32)
    v1_loss = [nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)] if v1 else []
    return jnp.concatenate([
        *v1_loss,
        nn.softmax_cross_entropy_with_logits_v2(labels, logits),
        nn.sparse_softmax_cross_entropy_with_logits(labels=sparse_labels, logits=logits),
        nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits).ravel(),
        nn.weighted_cross_entropy_with_logits(labels, logits, 3.0).ravel(),
        nn.l2_loss(logits)[None],
    ])


def test_transforms():
    logits = randn(3, 4)
    labels = np.asarray(jax.nn.softmax(randn(3, 4, seed=1)))
    check_transforms(all_losses, logits, labels)
    # v1 stops the gradient into labels (tested above), so only the others here.
    check_grad(lambda lg, y: all_losses(lg, y, v1=False), logits, labels, argnums=(1,))
