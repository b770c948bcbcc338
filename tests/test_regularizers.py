"""Tests of `jaxscope.regularizers` (TF's l1/l2/l1_l2/sum regularizers)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from jaxscope import regularizers as regs

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops"
LOSSES_JSON = FIXTURES / "losses.json"
LOSSES_NPZ = FIXTURES / "losses.npz"


def _l2_cases() -> list:
    """The l2_loss / weight-decay cases of losses.json with the scale each implies."""
    if not LOSSES_JSON.exists():
        reason = f"TF fixture {LOSSES_JSON} not found (the shared/ checkout is absent)"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason))]
    params = []
    for case in json.loads(LOSSES_JSON.read_text())["cases"]:
        op = case["attrs"]["op"]
        if op == "l2_loss":
            scale = 1.0
        else:
            match = re.fullmatch(r"tf\.multiply\(tf\.nn\.l2_loss\(w\), ([0-9.e-]+)\)", op)
            if match is None:
                continue
            scale = float(match.group(1))
        params.append(pytest.param(case, scale, id=case["name"]))
    return params


@pytest.mark.parametrize(("case", "scale"), _l2_cases())
def test_l2_matches_tf_l2_loss(case, scale):
    with np.load(LOSSES_NPZ) as npz:
        weights = npz[case["inputs"][0]]
        expected = npz[case["outputs"][0]]
    got = regs.l2(scale)(jnp.asarray(weights))
    assert got.shape == () and got.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(got), expected, rtol=3e-6, atol=3e-6)


def test_values():
    w = jnp.array([[1.0, -2.0], [3.0, -4.0]])
    assert float(regs.l1(0.5)(w)) == pytest.approx(5.0)
    assert float(regs.l2(0.5)(w)) == pytest.approx(0.5 * 30 / 2)
    assert float(regs.l1_l2(0.5, 0.1)(w)) == pytest.approx(5.0 + 0.1 * 15)
    assert float(regs.l1_l2()(w)) == pytest.approx(10.0 + 15.0)


def test_tf_names_are_aliases():
    assert regs.l1_regularizer is regs.l1
    assert regs.l2_regularizer is regs.l2
    assert regs.l1_l2_regularizer is regs.l1_l2


def test_zero_scale_gives_no_loss():
    w = jnp.ones((2, 2))
    assert regs.l1(0.0)(w) is None
    assert regs.l2(0)(w) is None
    assert regs.l1_l2(0.0, 0.0)(w) is None
    # One zero scale keeps only the other term.
    assert float(regs.l1_l2(0.0, 2.0)(w)) == pytest.approx(4.0)
    assert float(regs.l1_l2(2.0, 0.0)(w)) == pytest.approx(8.0)


@pytest.mark.parametrize("scale", [-0.5, -1e-7, -3])
def test_negative_scale_is_refused(scale):
    message = f"Setting a scale less than 0 on a regularizer: {scale:g}"
    for make in (regs.l1, regs.l2, regs.l1_l2, lambda s: regs.l1_l2(1.0, s)):
        with pytest.raises(ValueError, match=re.escape(message)):
            make(scale)


def test_non_numeric_scale_is_refused():
    with pytest.raises(TypeError, match="must be a number"):
        regs.l2("0.1")


def test_array_scale_is_used_as_is():
    got = regs.l2(jnp.float32(0.5))(jnp.array([2.0]))
    assert float(got) == pytest.approx(1.0)


def test_sum_regularizer():
    w = jnp.array([2.0])
    assert regs.sum_regularizer([]) is None
    assert regs.sum_regularizer([None, None]) is None
    total = regs.sum_regularizer([regs.l1(1.0), None, regs.l2(1.0), regs.no_regularizer])
    assert float(total(w)) == pytest.approx(2.0 + 2.0)
    assert regs.sum_regularizer([regs.l2(0.0), regs.no_regularizer])(w) is None


def test_no_regularizer():
    assert regs.no_regularizer(jnp.ones(3)) is None


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_loss_has_the_weights_dtype(dtype):
    w = jnp.ones((3,), dtype)
    for reg in (regs.l1(0.1), regs.l2(0.1), regs.l1_l2(0.1, 0.2)):
        loss = reg(w)
        assert loss.dtype == dtype and loss.shape == ()


def test_jit_and_grad():
    w = jnp.array([1.0, -2.0, 3.0])
    reg = regs.l1_l2(0.5, 0.25)
    assert float(jax.jit(reg)(w)) == pytest.approx(float(reg(w)))
    grad = jax.grad(reg)(w)
    np.testing.assert_allclose(np.asarray(grad), 0.5 * np.sign(w) + 0.25 * np.asarray(w))


def test_names_and_repr():
    assert regs.l2(0.1).__name__ == "l2_regularizer"
    assert regs.l1(0.1).__name__ == "l1_regularizer"
    assert regs.l1_l2(0.1, 0.1).__name__ == "l1_l2_regularizer"
    assert regs.l1_l2(0.0, 0.1).__name__ == "l1_l2_regularizer"
    assert regs.l2(0.1, scope="wd").__name__ == "wd"
    assert repr(regs.l2(0.1)) == "l2(scale=0.1)"


@settings(max_examples=40, deadline=None)
@given(
    w=hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
        elements=st.floats(-100, 100, width=32),
    ),
    scale=st.floats(0.0, 10.0),
)
def test_l2_formula(w, scale):
    loss = regs.l2(scale)(jnp.asarray(w))
    if scale == 0.0:
        assert loss is None
        return
    expected = scale * np.sum(w.astype(np.float64) ** 2) / 2
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5, atol=1e-30)
