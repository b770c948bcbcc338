"""`js.nn` normalizations: TF batch-norm and LRN fixtures, numpy references, transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_transforms, fixture_cases, primitives, randn

import jaxscope.nn as nn


def moving_average(before, value, momentum):
    """tf.layers' update: ``moving -= (moving - value) * (1 - momentum)``."""
    return before - (before - value) * (1 - momentum)


# -- batch_normalization fixtures: what applies to the pure ops ------------------------------
# The fixture is tf.layers.batch_normalization. Its training output is tf.nn.moments +
# tf.nn.batch_normalization (non-fused) or tf.nn.fused_batch_norm (4-D); its inference
# outputs normalize with the moving statistics; its moving-variance update uses the biased
# batch variance (moments) when non-fused and the UNBIASED one (fused_batch_norm's returned
# variance) when fused.
@pytest.mark.parametrize(("case", "t"), fixture_cases("batch_normalization"))
def test_batch_norm_training_output_matches_tf(case, t):
    a, x = case["attrs"], t["input"]
    mean, var = nn.moments(x, list(range(x.ndim - 1)))
    assert_close(mean, t["numpy_batch_mean"])
    assert_close(var, t["numpy_batch_var_biased"])
    out = nn.batch_normalization(x, mean, var, t["beta"], t["gamma"], a["epsilon"])
    assert_close(out, t["output_train"])
    if a["fused_kernel_used"]:
        y, _, _ = nn.fused_batch_norm(x, t["gamma"], t["beta"], epsilon=a["epsilon"])
        assert_close(y, t["output_train"])


@pytest.mark.parametrize(("case", "t"), fixture_cases("batch_normalization"))
def test_batch_norm_moving_statistics_match_tf(case, t):
    a, x = case["attrs"], t["input"]
    if a["fused_kernel_used"]:
        _, batch_mean, batch_var = nn.fused_batch_norm(x, t["gamma"], t["beta"],
                                                       epsilon=a["epsilon"])
        n = x.size // x.shape[-1]
        assert_close(batch_var, t["numpy_batch_var_biased"] * n / (n - 1))
    else:
        batch_mean, batch_var = nn.moments(x, list(range(x.ndim - 1)))
    m = a["momentum"]
    assert_close(moving_average(t["moving_mean_before"], batch_mean, m), t["moving_mean_after"])
    assert_close(moving_average(t["moving_variance_before"], batch_var, m),
                 t["moving_variance_after"])


@pytest.mark.parametrize(("case", "t"), fixture_cases("batch_normalization"))
@pytest.mark.parametrize("when", ["before", "after"])
def test_batch_norm_inference_matches_tf(case, t, when):
    a, x = case["attrs"], t["input"]
    mean, var = t[f"moving_mean_{when}"], t[f"moving_variance_{when}"]
    out = nn.batch_normalization(x, mean, var, t["beta"], t["gamma"], a["epsilon"])
    assert_close(out, t[f"output_inference_{when}"])
    if a["fused_kernel_used"]:
        y, m, v = nn.fused_batch_norm(x, t["gamma"], t["beta"], mean, var,
                                      epsilon=a["epsilon"], is_training=False)
        assert_close(y, t[f"output_inference_{when}"])
        assert_close(m, mean)
        assert_close(v, var)


# -- LRN fixtures and reference ---------------------------------------------------------------
def np_lrn(x, depth_radius, bias, alpha, beta):
    r = depth_radius
    x = np.asarray(x, np.float64)
    sums = np.zeros_like(x)
    for c in range(x.shape[-1]):
        sums[..., c] = np.sum(x[..., max(0, c - r):c + r + 1] ** 2, axis=-1)
    return x / (bias + alpha * sums) ** beta


@pytest.mark.parametrize(("case", "t"), fixture_cases("local_response_normalization"))
def test_lrn_matches_tf(case, t):
    assert_close(nn.local_response_normalization(t["input"], **case["attrs"]), t["output"])
    assert_close(np_lrn(t["input"], **case["attrs"]), t["output"])


@pytest.mark.parametrize(("r", "bias", "alpha", "beta"), [(0, 1.0, 1.0, 0.5), (1, 2.0, 0.3, 0.75),
                                                         (3, 0.5, 1e-2, 1.0), (9, 1.0, 0.5, 0.6)])
def test_lrn_matches_numpy(r, bias, alpha, beta):
    x = randn(2, 3, 2, 7)
    out = nn.lrn(x, depth_radius=r, bias=bias, alpha=alpha, beta=beta)
    assert_close(out, np_lrn(x, r, bias, alpha, beta))


def test_lrn_is_one_reduce_window():
    prims = primitives(lambda x: nn.lrn(x, 2), np.ones([1, 2, 2, 6]))
    assert prims.count("reduce_window_sum") == 1, prims
    with pytest.raises(ValueError, match="rank 4"):
        nn.lrn(np.ones([2, 6]))


# -- moments, fused_batch_norm, l2_normalize --------------------------------------------------
def test_moments_axes_and_keepdims():
    x = randn(3, 4, 5)
    mean, var = nn.moments(x, [0, 2])
    assert_close(mean, x.mean((0, 2)))
    assert_close(var, x.var((0, 2)))
    mean, var = nn.moments(x, [1], keep_dims=True)
    assert mean.shape == var.shape == (3, 1, 5)
    mean, var = nn.moments(x, -1, keepdims=True)
    assert_close(var, x.var(-1, keepdims=True))
    with pytest.raises(ValueError, match="Cannot specify both"):
        nn.moments(x, [0], keep_dims=True, keepdims=True)
    half_mean, _ = nn.moments(jnp.asarray(x, jnp.float16), [0])
    assert half_mean.dtype == jnp.float16


def test_fused_batch_norm_nchw_and_running_average():
    x, scale, offset = randn(4, 3, 2, 5), randn(3, seed=1), randn(3, seed=2)
    xt = np.moveaxis(x, 1, -1)
    y, _, v = nn.fused_batch_norm(x, scale, offset, data_format="NCHW", epsilon=1e-3)
    mean, var = xt.reshape(-1, 3).mean(0), xt.reshape(-1, 3).var(0)
    expected = (xt - mean) / np.sqrt(var + 1e-3) * scale + offset
    assert_close(y, np.moveaxis(expected, -1, 1), atol=1e-5)
    n = x.size // 3
    assert_close(v, var * n / (n - 1))
    running_mean, running_var = np.ones(3, np.float32), np.full(3, 2.0, np.float32)
    _, m2, v2 = nn.fused_batch_norm(x, scale, offset, running_mean, running_var,
                                    data_format="NCHW", exponential_avg_factor=0.25)
    assert_close(m2, 0.75 * running_mean + 0.25 * mean)
    assert_close(v2, 0.75 * running_var + 0.25 * var * n / (n - 1))


@pytest.mark.parametrize("epsilon", [0.0, 1e-6, 1e-3])
def test_fused_batch_norm_uses_a_small_epsilon_as_given(epsilon):
    """TF 2.21's tf.compat.v1 kernel (API decision 12): measured there, the output of this
    input agrees with the float64 formula to 4e-7 for each epsilon; TF 1.x raised an
    epsilon below 1.001e-5 to it, an error of up to 1.5 in the low-variance channel."""
    x = (randn(4, 3, 3, 2) * np.array([1e-3, 1.0])).astype(np.float32)  # variance ~1e-6
    y, _, _ = nn.fused_batch_norm(x, np.ones(2), np.zeros(2), epsilon=epsilon)
    x64 = x.astype(np.float64)
    reference = (x64 - x64.mean((0, 1, 2))) / np.sqrt(x64.var((0, 1, 2)) + epsilon)
    assert np.abs(np.asarray(y) - reference).max() < 1e-5


def test_fused_batch_norm_errors():
    x = randn(2, 2, 2, 3)
    with pytest.raises(ValueError, match="mean.*variance"):
        nn.fused_batch_norm(x, np.ones(3), np.zeros(3), is_training=False)
    with pytest.raises(ValueError, match="rank 4 or 5"):
        nn.fused_batch_norm(np.ones([4, 3]), np.ones(3), np.zeros(3))


def test_batch_normalization_without_offset_or_scale():
    x, mean, var = randn(5, 3), randn(3, seed=1), np.abs(randn(3, seed=2)) + 0.5
    assert_close(nn.batch_normalization(x, mean, var, None, None, 1e-3),
                 (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)
    assert_close(nn.batch_normalization(x, mean, var, 1.5, 2.0, 1e-3),
                 2.0 * (x - mean) / np.sqrt(var + 1e-3) + 1.5, atol=1e-5)


@pytest.mark.parametrize(("axis", "epsilon"), [(None, 1e-12), (0, 1e-12), ([0, 2], 1e-12),
                                               (-1, 100.0)])
def test_l2_normalize_matches_numpy(axis, epsilon):
    x = randn(3, 2, 4)
    ax = tuple(axis) if isinstance(axis, list) else axis
    expected = x / np.sqrt(np.maximum(np.sum(x**2, ax, keepdims=True), epsilon))
    assert_close(nn.l2_normalize(x, axis, epsilon), expected)
    assert_close(nn.l2_normalize(x, dim=axis, epsilon=epsilon), expected)
    assert np.isfinite(np.asarray(nn.l2_normalize(np.zeros(3), 0))).all()


# -- jit / vmap / grad ------------------------------------------------------------------------
def test_transforms_batch_normalization():
    x, mean, var = randn(4, 3), randn(3, seed=1), np.abs(randn(3, seed=2)) + 0.5
    offset, scale = randn(3, seed=3), randn(3, seed=4)
    check_transforms(lambda x, m, v, o, s: nn.batch_normalization(x, m, v, o, s, 1e-3),
                     x, mean, var, offset, scale, argnums=(0, 1, 2, 3, 4))


def test_transforms_moments():
    check_transforms(lambda x: jnp.stack(nn.moments(x, [0, 1])), randn(3, 4, 2))


@pytest.mark.parametrize("is_training", [True, False])
def test_transforms_fused_batch_norm(is_training):
    x, scale, offset = randn(3, 2, 2, 3), randn(3, seed=1), randn(3, seed=2)
    mean, var = randn(3, seed=3), np.abs(randn(3, seed=4)) + 0.5

    def f(x, scale, offset):
        y, m, v = nn.fused_batch_norm(x, scale, offset, mean, var, is_training=is_training)
        return jnp.concatenate([y.ravel(), m, v])

    check_transforms(f, x, scale, offset, argnums=(0, 1, 2))


def test_transforms_lrn_and_l2_normalize():
    x = randn(2, 2, 2, 6)
    check_transforms(lambda x: nn.lrn(x, 2, 1.5, 0.4, 0.75), x)
    check_transforms(lambda x: nn.l2_normalize(x, -1), x)


def test_name_scope_reaches_hlo():
    text = jax.jit(lambda x: nn.lrn(x, name="norm1")).lower(np.ones([1, 1, 1, 3])).as_text(
        debug_info=True)
    assert "norm1" in text
