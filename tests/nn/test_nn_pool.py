"""`js.nn` pooling: TF fixtures, numpy loop references in 1-3 D, layouts, errors."""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_transforms, fixture_cases, primitives, randn, tf_same

import jaxscope.nn as nn


def np_pool(x, ksize, strides, pads, kind):
    """Channels-last pooling as a loop over window offsets, float64; padding never counts."""
    n = x.ndim - 2
    fill = -np.inf if kind == "max" else 0.0
    padded = np.pad(np.asarray(x, np.float64), [(0, 0), *pads, (0, 0)], constant_values=fill)
    inside = np.pad(np.ones(x.shape), [(0, 0), *pads, (0, 0)])
    out_sizes = [(padded.shape[1 + i] - ksize[i]) // strides[i] + 1 for i in range(n)]
    acc = np.full([x.shape[0], *out_sizes, x.shape[-1]], fill)
    count = np.zeros_like(acc)
    for offset in itertools.product(*[range(k) for k in ksize]):
        window = (slice(None),) + tuple(
            slice(o, o + (size - 1) * s + 1, s) for o, s, size in zip(offset, strides, out_sizes)
        )
        if kind == "max":
            acc = np.maximum(acc, padded[window])
        else:
            acc += padded[window]
            count += inside[window]
    return acc if kind == "max" else acc / count


def spatial(value, n):
    """The n spatial entries of an int, a spatial list, or a full NHWC-style list."""
    if isinstance(value, int):
        return [value] * n
    return value[1:-1] if len(value) == n + 2 else value


def _pads(padding, sizes, ksize, strides):
    if padding == "VALID":
        return [(0, 0)] * len(sizes)
    return [tf_same(*args) for args in zip(sizes, ksize, strides)]


@pytest.mark.parametrize(("case", "t"), fixture_cases("max_pool"))
def test_max_pool_matches_tf(case, t):
    a = case["attrs"]
    out = nn.max_pool(t["input"], a["ksize"], a["strides"], a["padding"],
                      data_format=a["data_format"])
    assert_close(out, t["output"])


@pytest.mark.parametrize(("case", "t"), fixture_cases("avg_pool"))
def test_avg_pool_matches_tf(case, t):
    a = case["attrs"]
    out = nn.avg_pool(t["input"], a["ksize"], a["strides"], a["padding"],
                      data_format=a["data_format"])
    assert_close(out, t["output"])


def _strided_or_nonsquare(case):
    return "s2" in case["name"] or "x" in case["name"]


@pytest.mark.parametrize("family", ["max_pool", "avg_pool"])
def test_nchw_matches_tf(family):
    cases = fixture_cases(family, _strided_or_nonsquare)
    if cases[0].values[0] is None:
        pytest.skip("TF fixtures not found")
    pool = getattr(nn, family)
    for param in cases:
        case, t = param.values
        a = case["attrs"]
        to_nchw = [a["ksize"][i] for i in (0, 3, 1, 2)], [a["strides"][i] for i in (0, 3, 1, 2)]
        out = pool(input=np.moveaxis(t["input"], -1, 1), ksize=to_nchw[0], strides=to_nchw[1],
                   padding=a["padding"], data_format="NCHW")
        assert_close(out, np.moveaxis(t["output"], -1, 1))


def test_avg_pool_same_divides_by_valid_cells():
    # A 3x3 input of ones with a 2x2 SAME window, stride 2: every average is exactly 1,
    # which it would not be if padded zeros were counted.
    out = nn.avg_pool(np.ones([1, 3, 3, 1]), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    assert np.asarray(out).ravel().tolist() == [1.0] * 4
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    out = nn.avg_pool(x, 3, 1, "SAME")[0, :, :, 0]
    assert float(out[0, 0]) == pytest.approx((0 + 1 + 3 + 4) / 4)
    assert float(out[1, 1]) == pytest.approx(4.0)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    ("shape", "ksize", "strides", "padding"),
    [((2, 9, 3), [3], [2], "SAME"), ((2, 8, 3), 2, 2, "VALID"),
     ((1, 5, 6, 4, 2), [2, 3, 2], [2, 2, 1], "SAME"), ((1, 5, 6, 4, 2), 2, [1, 2, 2], "VALID"),
     ((2, 7, 6, 3), [1, 4, 3, 1], [1, 3, 2, 1], "SAME")],
)
def test_pools_match_numpy_in_1d_2d_3d(kind, shape, ksize, strides, padding):
    x = randn(*shape)
    n = len(shape) - 2
    k, s = spatial(ksize, n), spatial(strides, n)
    expected = np_pool(x, k, s, _pads(padding, shape[1:-1], k, s), kind)
    pool = nn.max_pool if kind == "max" else nn.avg_pool
    assert_close(pool(x, ksize, strides, padding), expected)
    named = getattr(nn, f"{kind}_pool{n}d")
    assert_close(named(x, ksize, strides, padding), expected)


def test_max_pool_explicit_padding_never_selects_padding():
    x = -np.abs(randn(1, 4, 5, 2)) - 1  # all negative: a zero pad would win
    padding = [[0, 0], [1, 2], [2, 0], [0, 0]]
    out = nn.max_pool(x, 3, 1, padding)
    assert_close(out, np_pool(x, [3, 3], [1, 1], [(1, 2), (2, 0)], "max"))
    assert float(np.max(out)) < 0


def test_max_pool_integers():
    x = np.arange(-8, 8, dtype=jnp.int32).reshape(1, 4, 4, 1) * -1
    out = nn.max_pool(x, 2, 2, "SAME")
    assert out.dtype == jnp.int32
    assert np.asarray(out).ravel().tolist() == [8, 6, 0, -2]


def test_pools_are_one_reduce_window_without_transpose():
    x = np.ones([2, 3, 7, 7])
    for pool in (nn.max_pool, nn.avg_pool):
        prims = primitives(lambda x, pool=pool: pool(x, [1, 1, 3, 3], [1, 1, 2, 2], "SAME",
                                                     data_format="NCHW"), x)
        assert sum(p.startswith("reduce_window") for p in prims) == 1, prims
        assert "transpose" not in prims


def test_pool_errors():
    x = np.ones([1, 4, 4, 2])
    with pytest.raises(ValueError, match="batch and depth"):
        nn.max_pool(x, [2, 2, 2, 1], [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="batch and depth"):
        nn.avg_pool(x, [1, 2, 2, 2], [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="batch and depth"):
        nn.max_pool(x, [1, 2, 2, 1], [1, 1, 1, 2], "VALID")
    with pytest.raises(ValueError, match="explicit padding"):
        nn.avg_pool(x, 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match="Negative dimension size"):
        nn.max_pool(x, 5, 1, "VALID")
    with pytest.raises(ValueError, match="rank"):
        nn.max_pool(np.ones([4, 4]), 2, 1, "VALID")
    with pytest.raises(TypeError, match="floating"):
        nn.avg_pool(np.ones([1, 4, 4, 1], jnp.int32), 2, 1, "VALID")
    with pytest.raises(ValueError, match="Cannot specify both"):
        nn.max_pool(x, 2, 1, "VALID", input=x)


@pytest.mark.parametrize("pool", ["max_pool", "avg_pool"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_transforms(pool, padding):
    x = randn(2, 5, 6, 2)
    x = x + np.arange(x.size).reshape(x.shape) * 1e-2  # no ties: max_pool is smooth here
    check_transforms(lambda x: getattr(nn, pool)(x, [1, 3, 2, 1], [1, 2, 2, 1], padding), x)
