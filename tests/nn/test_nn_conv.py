"""`js.nn` convolutions: TF fixtures, numpy loop references, TF's padding arithmetic, errors."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_transforms, fixture_cases, primitives, randn, tf_same

import jaxscope.nn as nn

# A conv output sums up to 800 float32 products (same_s1_k5_cin32): outputs near 0 carry
# ~1e-6 absolute rounding in TF's result too (README: |tf - ref| <= 3e-6 * (1 + |ref|)).
CONV_ATOL = 1e-5


# -- references -------------------------------------------------------------------------------
def np_conv(x, w, strides, pads, dilations, groups=1):
    """Channels-last N-D convolution as a loop over kernel offsets, in float64."""
    n = x.ndim - 2
    x = np.pad(np.asarray(x, np.float64), [(0, 0), *pads, (0, 0)])
    w = np.asarray(w, np.float64)
    k = w.shape[:n]
    out_sizes = [
        (x.shape[1 + i] - ((k[i] - 1) * dilations[i] + 1)) // strides[i] + 1 for i in range(n)
    ]
    cin_g, cout = w.shape[n], w.shape[n + 1]
    cout_g = cout // groups
    out = np.zeros([x.shape[0], *out_sizes, cout])
    for offset in itertools.product(*[range(kk) for kk in k]):
        window = tuple(
            slice(o * d, o * d + (size - 1) * s + 1, s)
            for o, d, s, size in zip(offset, dilations, strides, out_sizes)
        )
        patch = x[(slice(None), *window)]
        for g in range(groups):
            out[..., g * cout_g:(g + 1) * cout_g] += (
                patch[..., g * cin_g:(g + 1) * cin_g] @ w[offset][:, g * cout_g:(g + 1) * cout_g]
            )
    return out


def np_conv_transpose(v, w, out_sizes, strides, pads, dilations):
    """Transposed convolution as a scatter of ``v`` through ``w`` ([*k, out, in]), float64."""
    n = v.ndim - 2
    v, w = np.asarray(v, np.float64), np.asarray(w, np.float64)
    padded = [size + lo + hi for size, (lo, hi) in zip(out_sizes, pads)]
    out = np.zeros([v.shape[0], *padded, w.shape[n]])
    in_sizes = v.shape[1:-1]
    for offset in itertools.product(*[range(kk) for kk in w.shape[:n]]):
        window = tuple(
            slice(o * d, o * d + (size - 1) * s + 1, s)
            for o, d, s, size in zip(offset, dilations, strides, in_sizes)
        )
        out[(slice(None), *window)] += v @ w[offset].T
    crop = tuple(slice(lo, lo + size) for size, (lo, _) in zip(out_sizes, pads))
    return out[(slice(None), *crop)]


def np_depthwise(x, w, strides, pads, dilations):
    """Output channel k*M+m = input channel k convolved with w[:, :, k, m]."""
    cin, mult = w.shape[2], w.shape[3]
    outs = [
        np_conv(x[..., k:k + 1], w[:, :, k:k + 1, m:m + 1], strides, pads, dilations)
        for k in range(cin)
        for m in range(mult)
    ]
    return np.concatenate(outs, axis=-1)


def to_nchw(a):
    return np.moveaxis(np.asarray(a), -1, 1)


# -- TF's padding arithmetic ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "k", "s", "d", "expected"),
    [
        (9, 3, 1, 1, (1, 1)),
        (9, 3, 2, 1, (1, 1)),  # out 5: 4*2 + 3 - 9 = 2
        (8, 3, 2, 1, (0, 1)),  # out 4: 3*2 + 3 - 8 = 1, the odd pixel at the end
        (9, 4, 1, 1, (1, 2)),  # even kernel: 3 pixels, 1 before and 2 after
        (9, 4, 2, 1, (1, 2)),
        (8, 2, 2, 1, (0, 0)),
        (10, 2, 1, 3, (1, 2)),  # dilated kernel spans 4
        (7, 1, 3, 1, (0, 0)),
        (5, 7, 1, 1, (3, 3)),  # window larger than the input
    ],
)
def test_same_padding_is_tf_arithmetic(size, k, s, d, expected):
    assert nn.same_padding(size, k, s, d) == expected == tf_same(size, k, s, d)


# -- TF fixtures ------------------------------------------------------------------------------
@pytest.mark.parametrize(("case", "t"), fixture_cases("conv2d"))
def test_conv2d_matches_tf(case, t):
    a = case["attrs"]
    out = nn.conv2d(t["input"], t["filter"], strides=a["strides"], padding=a["padding"],
                    data_format=a["data_format"], dilations=a["dilations"])
    assert_close(out, t["output"], atol=CONV_ATOL)


# NCHW replays of the cases whose H and W attributes differ (a swapped axis would show).
NCHW_CASES = {"same_s2_k4_even_kernel", "same_s1_k5x2_nonsquare", "same_s2x1_strides",
              "same_dil2x3_k2", "explicit_pad_s1_k3"}


def _has_layout_sensitive_attrs(case):
    return case["name"] in NCHW_CASES


@pytest.mark.parametrize(("case", "t"), fixture_cases("conv2d", _has_layout_sensitive_attrs))
def test_conv2d_nchw_matches_tf(case, t):
    a = case["attrs"]
    strides = [a["strides"][i] for i in (0, 3, 1, 2)]
    dilations = [a["dilations"][i] for i in (0, 3, 1, 2)]
    padding = a["padding"]
    if not isinstance(padding, str):
        padding = [padding[i] for i in (0, 3, 1, 2)]
    out = nn.conv2d(to_nchw(t["input"]), filters=t["filter"], strides=strides, padding=padding,
                    data_format="NCHW", dilations=dilations)
    assert_close(out, to_nchw(t["output"]), atol=CONV_ATOL)


@pytest.mark.parametrize(("case", "t"), fixture_cases("conv2d_transpose"))
def test_conv2d_transpose_matches_tf(case, t):
    a = case["attrs"]
    if "raises" in case:
        value = np.zeros([2, 4, 4, 5])  # the refused case stores no tensors: TF's shapes
        w = np.zeros([3, 3, 3, 5])
        message = case["raises"].split(": ", 1)[1]
        with pytest.raises(ValueError) as info:
            nn.conv2d_transpose(value, w, a["output_shape"], a["strides"], a["padding"])
        assert str(info.value) == message
        return
    out = nn.conv2d_transpose(t["value"], t["filter"], a["output_shape"], a["strides"],
                              a["padding"], data_format=a["data_format"])
    assert_close(out, t["output"], atol=CONV_ATOL)


@pytest.mark.parametrize(("case", "t"), fixture_cases("depthwise_conv2d"))
def test_depthwise_conv2d_matches_tf(case, t):
    a = case["attrs"]
    out = nn.depthwise_conv2d(t["input"], t["filter"], a["strides"], a["padding"],
                              rate=a["rate"], data_format=a["data_format"])
    assert_close(out, t["output"], atol=CONV_ATOL)


@pytest.mark.parametrize(("case", "t"), fixture_cases("depthwise_conv2d"))
def test_depthwise_numpy_reference_agrees_with_tf(case, t):
    """The reference used for the non-fixture cases below is itself right."""
    a = case["attrs"]
    strides, rate = a["strides"][1:3], a["rate"]
    k = t["filter"].shape
    pads = [(0, 0)] * 2 if a["padding"] == "VALID" else [
        tf_same(t["input"].shape[1 + i], k[i], strides[i], rate[i]) for i in range(2)
    ]
    assert_close(np_depthwise(t["input"], t["filter"], strides, pads, rate), t["output"],
                 atol=1e-5)


# -- numpy references for the ops without fixtures --------------------------------------------
def _pads(padding, sizes, k, s, d):
    if padding == "VALID":
        return [(0, 0)] * len(sizes)
    return [tf_same(*args) for args in zip(sizes, k, s, d)]


@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "k"),
    [(1, "SAME", 1, 3), (2, "SAME", 1, 4), (2, "VALID", 1, 3), (1, "SAME", 2, 3),
     (3, "VALID", 1, 1)],
)
def test_conv1d_matches_numpy(stride, padding, dilation, k):
    x, w = randn(2, 11, 3), randn(k, 3, 4, seed=1)
    expected = np_conv(x, w, [stride], _pads(padding, [11], [k], [stride], [dilation]),
                       [dilation])
    assert_close(nn.conv1d(x, w, stride, padding, dilations=dilation), expected, atol=1e-5)
    ncw = nn.conv1d(input=to_nchw(x), filters=w, stride=[1, 1, stride], padding=padding,
                    data_format="NCW", dilations=[dilation])
    assert_close(ncw, to_nchw(expected), atol=1e-5)


@pytest.mark.parametrize(
    ("strides", "padding", "dilations"),
    [([1, 1, 1], "SAME", [1, 1, 1]), ([2, 1, 2], "SAME", [1, 1, 1]),
     ([1, 2, 1], "VALID", [1, 1, 1]), ([1, 1, 1], "SAME", [2, 1, 2])],
)
def test_conv3d_matches_numpy(strides, padding, dilations):
    x, w = randn(1, 5, 6, 5, 2), randn(3, 2, 3, 2, 3, seed=1)
    pads = _pads(padding, x.shape[1:4], w.shape[:3], strides, dilations)
    expected = np_conv(x, w, strides, pads, dilations)
    out = nn.conv3d(x, w, [1, *strides, 1], padding, dilations=[1, *dilations, 1])
    assert_close(out, expected, atol=1e-5)
    ncdhw = nn.conv3d(to_nchw(x), filters=w, strides=strides, padding=padding,
                      data_format="NCDHW", dilations=dilations)
    assert_close(ncdhw, to_nchw(expected), atol=1e-5)


@pytest.mark.parametrize(
    ("strides", "padding", "rate"),
    [(1, "SAME", 1), (2, "SAME", 1), (1, "VALID", 2), (2, [[0, 0], [1, 0], [2, 1], [0, 0]], 1)],
)
def test_separable_conv2d_matches_numpy(strides, padding, rate):
    x = randn(2, 7, 6, 3)
    depthwise, pointwise = randn(3, 3, 3, 2, seed=1), randn(1, 1, 6, 5, seed=2)
    if isinstance(padding, list):
        pads = [tuple(p) for p in padding[1:3]]
    else:
        pads = _pads(padding, [7, 6], [3, 3], [strides] * 2, [rate] * 2)
    expected = np_depthwise(x, depthwise, [strides] * 2, pads, [rate] * 2) @ pointwise[0, 0]
    out = nn.separable_conv2d(x, depthwise, pointwise, strides, padding, rate=rate)
    assert_close(out, expected, atol=1e-5)
    nchw = nn.separable_conv2d(to_nchw(x), depthwise, pointwise, strides,
                               padding if isinstance(padding, str) else [padding[i] for i in
                                                                         (0, 3, 1, 2)],
                               dilations=rate, data_format="NCHW")
    assert_close(nchw, to_nchw(expected), atol=1e-5)


def test_grouped_conv2d_matches_numpy():
    x, w = randn(1, 6, 6, 4), randn(3, 3, 2, 6, seed=1)  # input depth 4 = 2 groups of 2
    expected = np_conv(x, w, [1, 1], [(1, 1), (1, 1)], [1, 1], groups=2)
    assert_close(nn.conv2d(x, w, 1, "SAME"), expected, atol=1e-5)


@pytest.mark.parametrize(
    ("out_hw", "strides", "padding", "dilations"),
    [((8, 8), 2, "SAME", 1), ((7, 9), 2, "SAME", 1), ((10, 9), 2, "VALID", 1),
     ((6, 6), 1, "SAME", 2), ((8, 7), (2, 1), [[0, 0], [1, 2], [0, 1], [0, 0]], 1),
     ((9, 9), 3, "VALID", 1)],
)
def test_conv2d_transpose_matches_numpy_and_conv2d_gradient(out_hw, strides, padding, dilations):
    w = randn(3, 3, 2, 5, seed=1)  # [kh, kw, out=2, in=5]
    x_shape = (2, *out_hw, 2)
    y_shape = jax.eval_shape(
        lambda x: nn.conv2d(x, w, strides, padding, dilations=dilations),
        jax.ShapeDtypeStruct(x_shape, jnp.float32)).shape
    v = randn(*y_shape, seed=2)
    out = nn.conv2d_transpose(v, w, x_shape, strides, padding, dilations=dilations)
    # conv2d_transpose is the gradient of conv2d with the same filter.
    _, vjp = jax.vjp(lambda x: nn.conv2d(x, w, strides, padding, dilations=dilations),
                     np.zeros(x_shape))
    assert_close(out, vjp(jnp.asarray(v))[0], atol=1e-5)
    s = (strides,) * 2 if isinstance(strides, int) else strides
    if isinstance(padding, str):
        pads = _pads(padding, out_hw, [3, 3], s, [dilations] * 2)
    else:
        pads = [tuple(p) for p in padding[1:3]]
    assert_close(out, np_conv_transpose(v, w, out_hw, s, pads, [dilations] * 2), atol=1e-5)


def test_conv2d_transpose_nchw():
    v, w = randn(2, 4, 4, 5), randn(3, 3, 3, 5, seed=1)
    nhwc = nn.conv2d_transpose(v, w, [2, 8, 8, 3], [1, 2, 2, 1], "SAME")
    nchw = nn.conv2d_transpose(input=to_nchw(v), filters=w, output_shape=[2, 3, 8, 8],
                               strides=[1, 1, 2, 2], padding="SAME", data_format="NCHW")
    assert_close(nchw, to_nchw(nhwc), atol=1e-5)


def test_conv1d_and_conv3d_transpose_match_numpy():
    v1, w1 = randn(2, 5, 4), randn(3, 2, 4, seed=1)
    out1 = nn.conv1d_transpose(v1, w1, [2, 10, 2], 2, "SAME")
    assert_close(out1, np_conv_transpose(v1, w1, [10], [2], [tf_same(10, 3, 2)], [1]), atol=1e-5)
    v3, w3 = randn(1, 3, 2, 3, 2), randn(2, 3, 2, 3, 2, seed=1)
    out3 = nn.conv3d_transpose(v3, w3, [1, 6, 5, 4, 3], [1, 2, 2, 1, 1], "VALID")
    expected = np_conv_transpose(v3, w3, [6, 5, 4], [2, 2, 1], [(0, 0)] * 3, [1, 1, 1])
    assert_close(out3, expected, atol=1e-5)


# -- argument forms ---------------------------------------------------------------------------
def test_strides_and_dilations_accept_int_pair_and_full_list():
    x, w = randn(1, 9, 9, 2), randn(3, 3, 2, 3, seed=1)
    full = nn.conv2d(x, w, [1, 2, 2, 1], "SAME", dilations=[1, 2, 2, 1])
    assert_close(nn.conv2d(x, w, 2, "SAME", dilations=2), full)
    assert_close(nn.conv2d(x, w, (2, 2), "SAME", dilations=[2]), full)
    assert_close(nn.conv2d(x, filters=w, strides=[2, 2], padding="SAME", dilations=(2, 2)), full)


def test_nchw_is_transpose_free():
    x, w = np.ones([1, 3, 6, 6]), np.ones([3, 3, 3, 4])
    prims = primitives(lambda x: nn.conv2d(x, w, 1, "SAME", data_format="NCHW"), x)
    assert prims.count("conv_general_dilated") == 1
    assert "transpose" not in prims
    prims = primitives(lambda x: nn.conv2d_transpose(x, np.ones([3, 3, 2, 3]), [1, 2, 12, 12],
                                                     2, "SAME", data_format="NCHW"), x)
    assert prims.count("conv_general_dilated") == 1
    assert "transpose" not in prims


def test_name_opens_a_named_scope():
    x, w = np.ones([1, 5, 5, 1]), np.ones([3, 3, 1, 1])
    text = jax.jit(lambda x: nn.conv2d(x, w, 1, "SAME", name="my_conv")).lower(x).as_text(
        debug_info=True)
    assert "my_conv" in text


# -- errors -----------------------------------------------------------------------------------
def test_strides_in_batch_or_channel_are_refused():
    x, w = np.ones([1, 5, 5, 2]), np.ones([3, 3, 2, 2])
    with pytest.raises(ValueError, match="batch and depth"):
        nn.conv2d(x, w, [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="batch and depth"):
        nn.conv2d(x, w, [1, 1, 1, 2], "SAME")
    with pytest.raises(ValueError, match="batch and depth"):
        nn.conv2d(x, w, [1, 1, 1, 1], "SAME", data_format="NCHW", dilations=[1, 2, 1, 1])
    with pytest.raises(ValueError, match="length 1, 2 or 4"):
        nn.conv2d(x, w, [1, 1, 1], "SAME")


def test_bad_padding_is_refused():
    x, w = np.ones([1, 5, 5, 2]), np.ones([3, 3, 2, 2])
    with pytest.raises(ValueError, match="padding must be"):
        nn.conv2d(x, w, 1, "FULL")
    with pytest.raises(ValueError, match="batch and depth"):
        nn.conv2d(x, w, 1, [[1, 1], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match="nonnegative"):
        nn.conv2d(x, w, 1, [[0, 0], [-1, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match="Negative dimension size"):
        nn.conv2d(x, np.ones([7, 3, 2, 2]), 1, "VALID")


def test_shape_and_argument_errors():
    x = np.ones([1, 5, 5, 3])
    with pytest.raises(ValueError, match="multiple of the filter's input depth"):
        nn.conv2d(x, np.ones([3, 3, 2, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="rank 4"):
        nn.conv2d(np.ones([5, 5, 3]), np.ones([3, 3, 3, 4]), 1, "SAME")
    with pytest.raises(ValueError, match="Cannot specify both"):
        nn.conv2d(x, np.ones([3, 3, 3, 4]), 1, "SAME", filters=np.ones([3, 3, 3, 4]))
    with pytest.raises(ValueError, match="data_format"):
        nn.conv2d(x, np.ones([3, 3, 3, 4]), 1, "SAME", data_format="NDHWC")
    with pytest.raises(ValueError, match="filter's input depth"):
        nn.depthwise_conv2d(x, np.ones([3, 3, 2, 1]), 1, "SAME")
    with pytest.raises(ValueError, match="pointwise_filter"):
        nn.separable_conv2d(x, np.ones([3, 3, 3, 1]), np.ones([3, 3, 3, 2]), 1, "SAME")
    with pytest.raises(ValueError, match="output_shape does not match filter's output channels"):
        nn.conv2d_transpose(np.ones([2, 4, 4, 5]), np.ones([3, 3, 3, 5]), [2, 8, 8, 4], 2)
    with pytest.raises(ValueError, match="input channels does not match"):
        nn.conv2d_transpose(np.ones([2, 4, 4, 6]), np.ones([3, 3, 3, 5]), [2, 8, 8, 3], 2)
    with pytest.raises(ValueError, match="doesn't match computed: actual = 4, computed = 5"):
        nn.conv2d_transpose(np.ones([2, 4, 4, 5]), np.ones([3, 3, 3, 5]), [2, 11, 11, 3], 2,
                            "VALID")


# -- jit / vmap / grad ------------------------------------------------------------------------
# name: (op over its array arguments, the arrays); the gradient is checked for all of them.
TRANSFORM_CASES = {
    "conv1d": (lambda x, w: nn.conv1d(x, w, 2, "SAME", dilations=1),
               [randn(2, 7, 2), randn(3, 2, 3, seed=1)]),
    "conv2d": (lambda x, w: nn.conv2d(x, w, [1, 2, 1, 1], "SAME", dilations=[1, 1, 2, 1]),
               [randn(2, 6, 5, 2), randn(3, 2, 2, 3, seed=1)]),
    "conv2d_nchw": (lambda x, w: nn.conv2d(x, w, 2, [[0, 0], [0, 0], [1, 2], [0, 1]],
                                           data_format="NCHW"),
                    [randn(2, 2, 6, 5), randn(3, 3, 2, 3, seed=1)]),
    "conv3d": (lambda x, w: nn.conv3d(x, w, 1, "SAME"),
               [randn(1, 3, 4, 3, 2), randn(2, 2, 2, 2, 2, seed=1)]),
    "depthwise": (lambda x, w: nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME", rate=1),
                  [randn(2, 5, 5, 2), randn(3, 3, 2, 2, seed=1)]),
    "separable": (lambda x, d, p: nn.separable_conv2d(x, d, p, 1, "VALID", rate=2),
                  [randn(1, 6, 6, 2), randn(2, 2, 2, 2, seed=1), randn(1, 1, 4, 3, seed=2)]),
    "conv2d_transpose": (lambda v, w: nn.conv2d_transpose(v, w, [2, 7, 7, 2], 2, "SAME"),
                         [randn(2, 4, 4, 3), randn(3, 3, 2, 3, seed=1)]),
    "conv1d_transpose": (lambda v, w: nn.conv1d_transpose(v, w, [1, 9, 2], 2, "VALID"),
                         [randn(1, 4, 3), randn(3, 2, 3, seed=1)]),
    "conv3d_transpose": (lambda v, w: nn.conv3d_transpose(v, w, [1, 4, 3, 4, 2], [1, 2, 1, 2, 1]),
                         [randn(1, 2, 3, 2, 3), randn(2, 2, 2, 2, 3, seed=1)]),
}


@pytest.mark.parametrize("name", sorted(TRANSFORM_CASES))
def test_transforms(name):
    fn, arrays = TRANSFORM_CASES[name]
    check_transforms(fn, *arrays, argnums=tuple(range(len(arrays))))
