"""`js.nn.bias_add` (TF fixtures) and `js.nn.xw_plus_b`."""

from __future__ import annotations

import numpy as np
import pytest
from nnlib import assert_close, check_transforms, fixture_cases, randn

import jaxscope.nn as nn


@pytest.mark.parametrize(("case", "t"), fixture_cases("bias_add"))
def test_bias_add_matches_tf(case, t):
    out = nn.bias_add(t["value"], t["bias"], data_format=case["attrs"]["data_format"])
    assert_close(out, t["output"])


@pytest.mark.parametrize(
    ("shape", "data_format", "axis"),
    [((2, 3), None, 1), ((2, 3, 4, 5), "NHWC", 3), ((2, 3, 4, 5), "NCHW", 1),
     ((2, 3, 4), "NCW", 1), ((2, 3, 4, 5, 6), "NDHWC", 4), ((2, 3, 4, 5, 6), "NCDHW", 1)],
)
def test_bias_add_channel_axis(shape, data_format, axis):
    value, bias = randn(*shape), randn(shape[axis], seed=1)
    expected = value + np.expand_dims(bias, [a for a in range(len(shape)) if a != axis])
    assert_close(nn.bias_add(value, bias, data_format), expected)


def test_bias_add_errors():
    with pytest.raises(ValueError, match="as many biases"):
        nn.bias_add(np.ones([2, 3]), np.ones(4))
    with pytest.raises(ValueError, match="as many biases"):
        nn.bias_add(np.ones([2, 3, 4, 4]), np.ones(4), "NCHW")
    with pytest.raises(ValueError, match="1-D"):
        nn.bias_add(np.ones([2, 3]), np.ones([1, 3]))
    with pytest.raises(ValueError, match="rank 2"):
        nn.bias_add(np.ones(3), np.ones(3))


def test_xw_plus_b_matches_numpy():
    x, w, b = randn(4, 3), randn(3, 5, seed=1), randn(5, seed=2)
    assert_close(nn.xw_plus_b(x, w, b), x.astype(np.float64) @ w + b)


def test_transforms():
    b, w = randn(4, seed=1), randn(3, 4, seed=2)
    check_transforms(lambda v, b: nn.bias_add(v, b, "NCHW"), randn(2, 4, 3, 3), b,
                     argnums=(0, 1))
    check_transforms(lambda x, w, b: nn.xw_plus_b(x, w, b), randn(2, 3), w, b,
                     argnums=(0, 1, 2))
