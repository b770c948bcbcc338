"""Tests of `jaxscope.initializers` against TF's formulas and TF-written fixtures.

Deterministic fixture cases are matched exactly (values, dtypes, error types and texts).
Random cases are matched against the THEORY stored next to TF's sample statistics
(limits, bounds, standard deviations, orthogonality), on our own JAX samples: TF's
Philox streams cannot be reproduced, so TF's sampled numbers are never compared.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxscope as js
from jaxscope import initializers as inits

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops"
INIT_JSON = FIXTURES / "initializers.json"
INIT_NPZ = FIXTURES / "initializers.npz"
MISSING = f"TF fixture {INIT_JSON} not found (the shared/ checkout is absent)"

TRUNC_STD = 0.87962566103423978


def _facts(kind: str) -> list:
    """Fixture cases of one kind as pytest params (one skipped param if absent)."""
    if not INIT_JSON.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))]
    cases = json.loads(INIT_JSON.read_text())["facts"][kind]
    return [pytest.param(c, id=c.get("name", c.get("dtype"))) for c in cases]


# The fixture names initializers by TF expressions; evaluate them against ours.
_TF_NAMES = {
    name: getattr(inits, name)
    for name in inits.__all__
    if name.endswith("_initializer") or name.islower()
}
_TF_NAMES["initializers"] = SimpleNamespace(
    **{name.removesuffix("_initializer"): obj for name, obj in _TF_NAMES.items()}
)


def _initializer_from_tf(expression: str) -> inits.Initializer:
    """``"tf.compat.v1.constant_initializer([1, 2]) with dtype int32"`` -> ours."""
    expression = expression.split(" with dtype ")[0].split("  (")[0].strip()
    expression = re.sub(r"^tf\.compat\.v1\.", "", expression)
    return eval(expression, {"__builtins__": {}}, dict(_TF_NAMES))


def _parse_raises(text: str) -> tuple[str, str]:
    kind, message = text.split(": ", 1)
    return kind, message


# --------------------------------------------------------------------------- fixture


@pytest.mark.parametrize("case", _facts("deterministic"))
def test_deterministic_fixture_case(case):
    shape, dtype = tuple(case["shape"]), case["dtype"]
    if "raises" in case:
        kind, message = _parse_raises(case["raises"])
        with pytest.raises(Exception) as info:
            _initializer_from_tf(case["initializer"])(None, shape, dtype)
        assert type(info.value).__name__ == kind
        assert str(info.value) == message
        return
    init = _initializer_from_tf(case["initializer"])
    got = init(None, shape, dtype)
    assert got.shape == shape and got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(case["result"], dtype))
    # The key is ignored: a real key gives the same values.
    np.testing.assert_array_equal(np.asarray(init(jax.random.key(3), shape, dtype)), got)
    with np.load(INIT_NPZ) as npz:
        expected = npz[f"{case['name']}/value"]
    assert expected.dtype == got.dtype
    np.testing.assert_array_equal(np.asarray(got), expected)


def _theory_mean(case) -> float:
    if "bounds" in case:
        return sum(case["bounds"]) / 2
    return 0.0


@pytest.mark.parametrize("case", _facts("random"))
def test_random_fixture_case_matches_theory(case):
    shape, dtype = tuple(case["shape"]), case["dtype"]
    init = _initializer_from_tf(case["initializer"])
    x = np.asarray(init(jax.random.key(1234), shape, dtype), np.float64)
    assert x.shape == shape and init(jax.random.key(0), shape, dtype).dtype == np.dtype(dtype)
    n = x.size

    if "expected_std" in case:
        assert x.std() == pytest.approx(case["expected_std"], rel=0.015)
    std = case.get("expected_std", x.std())
    assert abs(x.mean() - _theory_mean(case)) < 6 * std / math.sqrt(n) + 1e-7

    def within(lo: float, hi: float) -> None:
        slack = 1e-6 * (1 + max(abs(lo), abs(hi)))
        assert x.min() >= lo - slack and x.max() <= hi + slack
        # ... and the samples reach the edges, so a too narrow range fails too.
        width = hi - lo
        assert x.min() <= lo + 0.05 * width and x.max() >= hi - 0.05 * width

    if "expected_limit" in case:
        within(-case["expected_limit"], case["expected_limit"])
    if "bound" in case:
        within(-case["bound"], case["bound"])
    if "bounds" in case:
        within(*case["bounds"])

    if "fan_in" in case:
        assert inits._compute_fans(shape) == (case["fan_in"], case["fan_out"])
    if "input_size" in case:
        assert isinstance(init, inits.UniformUnitScaling)
        assert init.limit(shape) == pytest.approx(case["expected_limit"], rel=1e-12)
    if isinstance(init, inits.VarianceScaling) and "expected_limit" in case:
        assert math.sqrt(3 * init.variance(shape)) == pytest.approx(case["expected_limit"])

    if "max_abs_QtQ_minus_I" in case:
        q = x.reshape(-1, shape[-1])
        gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(gram, np.eye(len(gram)), atol=2e-5)


@pytest.mark.filterwarnings("ignore:Explicitly requested dtype")  # 64-bit without x64
@pytest.mark.parametrize("case", _facts("get_variable_defaults"))
def test_default_initializers_by_dtype(case):
    dtype = case["dtype"]
    if dtype == "string":
        pytest.skip("JAX arrays hold no strings; string variables are out of scope")
    if "glorot_limit_for_shape" in case:
        x = inits.GlorotUniform()(jax.random.key(0), (2, 2), dtype)
        assert np.abs(np.asarray(x)).max() <= case["glorot_limit_for_shape"]
        assert inits.GlorotUniform().variance((2, 2)) * 3 == pytest.approx(
            case["glorot_limit_for_shape"] ** 2
        )
    else:
        got = inits.Zeros()(None, (2, 2), dtype)
        assert got.dtype == jax.dtypes.canonicalize_dtype(dtype)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(case["result"], dtype))


# --------------------------------------------------------------------------- classes

ALL_CLASSES = [
    inits.Zeros,
    inits.Ones,
    inits.Constant,
    inits.Identity,
    inits.RandomUniform,
    inits.RandomNormal,
    inits.TruncatedNormal,
    inits.UniformUnitScaling,
    inits.VarianceScaling,
    inits.GlorotUniform,
    inits.GlorotNormal,
    inits.Orthogonal,
]
DETERMINISTIC = [inits.Zeros, inits.Ones, inits.Constant, inits.Identity]
RANDOM = [c for c in ALL_CLASSES if c not in DETERMINISTIC]


def test_tf_names_are_the_classes():
    pairs = {
        "zeros_initializer": inits.Zeros,
        "ones_initializer": inits.Ones,
        "constant_initializer": inits.Constant,
        "random_normal_initializer": inits.RandomNormal,
        "truncated_normal_initializer": inits.TruncatedNormal,
        "random_uniform_initializer": inits.RandomUniform,
        "uniform_unit_scaling_initializer": inits.UniformUnitScaling,
        "glorot_uniform_initializer": inits.GlorotUniform,
        "glorot_normal_initializer": inits.GlorotNormal,
        "variance_scaling_initializer": inits.VarianceScaling,
        "orthogonal_initializer": inits.Orthogonal,
        "identity_initializer": inits.Identity,
    }
    for name, cls in pairs.items():
        assert getattr(inits, name) is cls, name


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_every_class_builds_without_arguments(cls):
    init = cls()
    assert isinstance(init, inits.Initializer)
    x = init(jax.random.key(0), (4, 3))
    assert x.shape == (4, 3) and x.dtype == jnp.float32
    assert type(init).from_config(init.get_config()).get_config() == init.get_config()
    assert repr(init).startswith(cls.__name__ + "(")


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", ["float32", jnp.bfloat16])
def test_jit_and_eval_shape(cls, dtype):
    init, key, shape = cls(), jax.random.key(7), (3, 5)
    eager = init(key, shape, dtype)
    jitted = jax.jit(lambda k: init(k, shape, dtype))(key)
    np.testing.assert_array_equal(np.asarray(eager, np.float32), np.asarray(jitted, np.float32))
    abstract = jax.eval_shape(lambda k: init(k, shape, dtype), key)
    assert abstract.shape == shape and abstract.dtype == np.dtype(dtype) == eager.dtype


@pytest.mark.parametrize("cls", RANDOM, ids=lambda c: c.__name__)
def test_random_initializers_need_a_key_and_accept_both_key_kinds(cls):
    with pytest.raises(ValueError, match="needs a PRNG key"):
        cls()(None, (2, 2))
    new_style = cls()(jax.random.key(5), (2, 2))
    raw = cls()(jax.random.PRNGKey(5), (2, 2))
    np.testing.assert_array_equal(np.asarray(new_style), np.asarray(raw))


@pytest.mark.parametrize("cls", RANDOM, ids=lambda c: c.__name__)
def test_seed_is_folded_into_the_key(cls):
    key, shape = jax.random.key(0), (8, 8)
    a = np.asarray(cls(seed=1)(key, shape))
    again = np.asarray(cls(seed=1)(key, shape))
    b = np.asarray(cls(seed=2)(key, shape))
    unseeded = np.asarray(cls()(key, shape))
    folded = np.asarray(cls()(jax.random.fold_in(key, 1), shape))
    np.testing.assert_array_equal(a, again)
    np.testing.assert_array_equal(a, folded)
    assert not np.array_equal(a, b) and not np.array_equal(a, unseeded)


@pytest.mark.parametrize(
    "cls",
    [c for c in ALL_CLASSES if c not in (inits.Zeros, inits.Ones, inits.Constant)],
    ids=lambda c: c.__name__,
)
def test_float_only_initializers_reject_int_dtypes(cls):
    """TF1's constructors refuse an int dtype (ValueError); called with one, TF fails
    converting the draw's first Python constant to it (TypeError, texts in the fixture)."""
    if cls is inits.RandomUniform:
        with pytest.raises(ValueError, match=re.escape("got invalid value <dtype: 'bool'>")):
            cls()(jax.random.key(0), (2, 2), "bool")
        return
    with pytest.raises(ValueError, match=re.escape(
            "Expected floating point type, got <dtype: 'int32'>.")):
        cls(dtype="int32")
    with pytest.raises(TypeError, match=re.escape("Expected int32, but got ")):
        cls()(jax.random.key(0), (2, 2), jnp.int32)


@pytest.mark.parametrize("dtype", ["int32", np.int32, jnp.int32, np.dtype("int32")])
def test_dtype_spellings(dtype):
    assert inits.Zeros()(None, (2,), dtype).dtype == jnp.int32
    assert inits.Ones(dtype=dtype)(None, (2,)).dtype == jnp.int32


def test_call_dtype_wins_over_constructor_dtype():
    init = inits.Ones(dtype="int32")
    assert init(None, (2,)).dtype == jnp.int32
    assert init(None, (2,), "float32").dtype == jnp.float32
    assert inits.Constant(1.5, dtype="float16")(None, (1,), "float32").dtype == jnp.float32


def test_zeros_ones_for_bool():
    np.testing.assert_array_equal(np.asarray(inits.Zeros()(None, (2,), bool)), [False, False])
    np.testing.assert_array_equal(np.asarray(inits.Ones()(None, (2,), bool)), [True, True])


# --------------------------------------------------------------------------- constant


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    data=st.data(),
)
def test_constant_pads_with_the_last_value(shape, data):
    size = math.prod(shape)
    values = data.draw(st.lists(st.integers(-50, 50), min_size=0, max_size=size))
    got = np.asarray(inits.Constant(values)(None, shape)).reshape(-1)
    # TF1 repeats the last value; no values at all means zeros.
    expected = values + [values[-1]] * (size - len(values)) if values else [0] * size
    np.testing.assert_array_equal(got, np.asarray(expected, np.float32))


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    extra=st.integers(1, 3),
)
def test_constant_too_many_values(shape, extra):
    size = math.prod(shape)
    message = f"Too many elements provided. Takes at most {size}, but got {size + extra}."
    with pytest.raises(ValueError, match=re.escape(message)):
        inits.Constant(list(range(size + extra)))(None, shape)


def test_constant_scalar_fills_and_numpy_values_are_cast():
    np.testing.assert_array_equal(np.asarray(inits.Constant(3)(None, (2, 2), "int32")), 3)
    # NumPy values are cast as TF casts them (no compatibility check) ...
    got = inits.Constant(np.array([1.7, 2.2]))(None, (3,), "int32")
    np.testing.assert_array_equal(np.asarray(got), [1, 2, 2])
    # ... Python floats into ints are refused, ints into floats are fine.
    with pytest.raises(TypeError, match=re.escape("Expected int32, but got 1.5 of type 'float'.")):
        inits.Constant([1, 1.5])(None, (2,), "int32")
    assert inits.Constant([1, 2])(None, (2,), "float32").dtype == jnp.float32


def test_constant_verify_shape():
    assert inits.Constant([[1, 2]], verify_shape=True)(None, (1, 2)).shape == (1, 2)
    message = "Expected Tensor's shape: (2, 2), but got (4,)."
    with pytest.raises(TypeError, match=re.escape(message)):
        inits.Constant([1, 2, 3, 4], verify_shape=True)(None, (2, 2))


def test_constant_rejects_other_types_and_ragged_lists():
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        inits.Constant({"a": 1})
    with pytest.raises(TypeError, match="Invalid type for initial value"):
        inits.Constant(None)
    with pytest.raises(ValueError, match="dense tensor"):
        inits.Constant([[1, 2], [3]])(None, (4,))


def test_constant_accepts_concrete_jax_arrays_and_zero_size_shapes():
    got = inits.Constant(jnp.arange(3.0))(None, (2, 2))
    np.testing.assert_array_equal(np.asarray(got), [[0, 1], [2, 2]])
    assert inits.Constant([1, 2])(None, (0, 3)).shape == (0, 3)


def test_constant_under_jit_is_a_constant():
    fn = jax.jit(lambda k: inits.Constant([1.0, 2.0, 3.0])(k, (2, 2)))
    np.testing.assert_array_equal(np.asarray(fn(jax.random.key(0))), [[1, 2], [3, 3]])


# --------------------------------------------------------------------------- identity


def test_identity():
    np.testing.assert_array_equal(
        np.asarray(inits.Identity(0.5)(None, (2, 3))), [[0.5, 0, 0], [0, 0.5, 0]]
    )
    with pytest.raises(ValueError, match="can only be used for 2D matrices"):
        inits.Identity()(None, (2, 2, 2))


# --------------------------------------------------------------------------- random

BIG = (500, 500)


def test_random_uniform_ranges_and_ints():
    x = np.asarray(inits.RandomUniform(-3.0, 5.0)(jax.random.key(0), BIG))
    assert x.min() >= -3 and x.max() < 5 and x.mean() == pytest.approx(1.0, abs=0.02)
    assert x.std() == pytest.approx(8 / math.sqrt(12), rel=0.01)
    ints = np.asarray(inits.RandomUniform(2, 6)(jax.random.key(0), (1000,), "int32"))
    assert ints.dtype == np.int32 and set(ints.tolist()) == {2, 3, 4, 5}
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype"):
        inits.RandomUniform()(jax.random.key(0), (3,), "int32")


def test_random_normal_moments():
    x = np.asarray(inits.RandomNormal(2.0, 0.5)(jax.random.key(0), BIG))
    assert x.mean() == pytest.approx(2.0, abs=0.005)
    assert x.std() == pytest.approx(0.5, rel=0.01)


def test_truncated_normal_bounds_and_std():
    x = np.asarray(inits.TruncatedNormal(-1.0, 0.2)(jax.random.key(0), BIG))
    assert x.min() >= -1.4 - 1e-6 and x.max() <= -0.6 + 1e-6
    assert x.std() == pytest.approx(0.2 * TRUNC_STD, rel=0.01)


@pytest.mark.parametrize(
    ("shape", "full_shape", "limit"),
    [
        ((), None, math.sqrt(3)),
        ((7,), None, math.sqrt(3)),
        ((12, 5), None, math.sqrt(3 / 12)),
        ((3, 3, 4, 8), None, math.sqrt(3 / 36)),
        ((4, 5), (12, 5), math.sqrt(3 / 12)),
        ((0, 5), None, math.sqrt(3)),
    ],
)
def test_uniform_unit_scaling_limit(shape, full_shape, limit):
    init = inits.UniformUnitScaling(factor=1.5, full_shape=full_shape)
    assert init.limit(shape) == pytest.approx(1.5 * limit)
    x = np.asarray(init(jax.random.key(0), shape))
    assert x.shape == shape
    if x.size:
        assert np.abs(x).max() <= 1.5 * limit


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((), (1, 1)), ((6,), (6, 6)), ((3, 4), (3, 4)), ((2, 3, 4), (6, 8)), ((3, 3, 4, 8), (36, 72))],
)
def test_compute_fans(shape, fans):
    assert inits._compute_fans(shape) == fans


@pytest.mark.parametrize(("mode", "n"), [("fan_in", 200), ("fan_out", 100), ("fan_avg", 150)])
def test_variance_scaling_modes(mode, n):
    assert inits.VarianceScaling(3.0, mode).variance((200, 100)) == pytest.approx(3.0 / n)


def test_variance_scaling_distributions():
    key, shape = jax.random.key(0), BIG
    target = math.sqrt(2.0 / 500)
    truncated = inits.VarianceScaling(2.0, distribution="truncated_normal")(key, shape)
    # Decision 10: "normal" is the truncated normal with the 0.8796 correction.
    normal = inits.VarianceScaling(2.0, distribution="Normal")(key, shape)
    np.testing.assert_array_equal(np.asarray(truncated), np.asarray(normal))
    t = np.asarray(truncated)
    assert t.std() == pytest.approx(target, rel=0.01)
    assert np.abs(t).max() <= 2 * target / TRUNC_STD * (1 + 1e-6)
    u = np.asarray(inits.VarianceScaling(2.0, distribution="untruncated_normal")(key, shape))
    assert u.std() == pytest.approx(target, rel=0.01)
    assert np.abs(u).max() > 3 * target  # not truncated
    f = np.asarray(inits.VarianceScaling(2.0, distribution="uniform")(key, shape))
    assert f.std() == pytest.approx(target, rel=0.01)
    assert np.abs(f).max() <= math.sqrt(3) * target


def test_variance_scaling_errors():
    with pytest.raises(ValueError, match=re.escape("must be a positive float. Received: -1")):
        inits.VarianceScaling(-1)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). Received: fan"
        ),
    ):
        inits.VarianceScaling(mode="fan")
    with pytest.raises(
        ValueError, match=r"Argument `distribution` should be one of .* Received: x"
    ):
        inits.VarianceScaling(distribution="x")


def test_presets():
    assert inits.GlorotUniform().get_config() == {"seed": None, "dtype": "float32"}
    for init, scale, mode, dist in [
        (inits.GlorotUniform(), 1.0, "fan_avg", "uniform"),
        (inits.GlorotNormal(), 1.0, "fan_avg", "truncated_normal"),
        (inits.lecun_uniform(), 1.0, "fan_in", "uniform"),
        (inits.lecun_normal(), 1.0, "fan_in", "truncated_normal"),
        (inits.he_uniform(seed=3), 2.0, "fan_in", "uniform"),
        (inits.he_normal(), 2.0, "fan_in", "truncated_normal"),
    ]:
        assert (init.scale, init.mode, init.distribution) == (scale, mode, dist)
    assert inits.he_uniform(seed=3).seed == 3


def test_glorot_uniform_conv_limit():
    shape = (3, 3, 16, 32)  # fan_in 144, fan_out 288
    limit = math.sqrt(6 / (144 + 288))
    x = np.asarray(inits.GlorotUniform()(jax.random.key(0), shape))
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit


# --------------------------------------------------------------------------- orthogonal


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 3, 4, 8), (2, 3, 20)])
def test_orthogonal(shape):
    q = np.asarray(inits.Orthogonal(gain=2.0)(jax.random.key(0), shape), np.float64)
    assert q.shape == shape
    q = q.reshape(-1, shape[-1]) / 2.0
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)


def test_orthogonal_rank_error_and_low_precision():
    message = (
        "The tensor to initialize, specified by argument `shape` must be at least "
        "two-dimensional. Received shape=[5]"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        inits.Orthogonal()(jax.random.key(0), (5,))
    q = inits.Orthogonal()(jax.random.key(0), (8, 8), jnp.bfloat16)
    assert q.dtype == jnp.bfloat16
    q = np.asarray(q, np.float32)
    np.testing.assert_allclose(q.T @ q, np.eye(8), atol=0.05)


@pytest.mark.parametrize("cls", RANDOM, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", ["float32", "float16", jnp.bfloat16])
def test_init_draws_each_variable_as_the_initializer_does_op_by_op(cls, dtype):
    """init runs jaxscope's random initializers as one cached compiled draw per
    (config, shape, dtype); the values must be those of calling the initializer on
    ``fold_in(rng, stable_hash(name))`` op by op (the documented key of every variable)."""
    import jaxscope as js
    from jaxscope.naming import stable_hash

    shapes = {"conv/kernel": (3, 3, 4, 8), "dense/kernel": (8, 5), "seeded": (6, 4)}
    initializers = {"conv/kernel": cls(), "dense/kernel": cls(), "seeded": cls(seed=123)}

    def model():
        for name, shape in shapes.items():
            js.get_variable(name, shape, dtype=dtype, initializer=initializers[name])

    rng = jax.random.key(11)
    params = js.transform(model).init(rng)["params"]
    for name, shape in shapes.items():
        expected = initializers[name](jax.random.fold_in(rng, stable_hash(name)), shape, dtype)
        assert params[name].dtype == expected.dtype, name
        np.testing.assert_array_equal(np.asarray(params[name], np.float32),
                                      np.asarray(expected, np.float32), err_msg=name)


def test_init_makes_deterministic_variables_as_the_initializer_does():
    """Keyless initializers run compiled and cached too; configs that compare equal but
    differ (0.0 and -0.0, 1 and True) must not share a compiled program."""
    import jaxscope as js

    cases = {
        "zeros": (inits.Zeros(), (3, 2), "float32"),
        "ones": (inits.Ones(), (4,), "int32"),
        "identity": (inits.Identity(gain=2.0), (3, 3), "float32"),
        "plus_zero": (inits.Constant(0.0), (2,), "float32"),
        "minus_zero": (inits.Constant(-0.0), (2,), "float32"),
        "one_int": (inits.Constant(1), (2,), "float32"),
        "true": (inits.Constant(True), (2,), "bool"),
        "listed": (inits.Constant([1.0, 2.0]), (2,), "float32"),
    }

    def model():
        for name, (init, shape, dtype) in cases.items():
            js.get_variable(name, shape, dtype=dtype, initializer=init, trainable=False)

    state = js.transform(model).init(None)["state"]
    for name, (init, shape, dtype) in cases.items():
        expected = np.asarray(init(None, shape, dtype))
        got = np.asarray(state[name])
        assert got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected), err_msg=name)


def test_vmapped_and_jitted_init_equal_eager_init():
    """The compiled initializers batch under jax.vmap (an ensemble's init over keys) and
    inline under jax.jit with the same values as eager init."""
    import jaxscope as js

    def model(x):
        w = js.get_variable("w", [3, 4], initializer=inits.GlorotUniform())
        b = js.get_variable("b", [4], initializer=inits.Zeros())
        return x @ w + b + js.get_variable("v", [4])  # the default, uniform_unit_scaling

    transformed, x = js.transform(model), jnp.ones((1, 3))
    keys = jax.random.split(jax.random.key(0), 3)
    batched = jax.vmap(lambda k: transformed.init(k, x))(keys)
    for i, key in enumerate(keys):
        eager = transformed.init(key, x)["params"]
        jitted = jax.jit(transformed.init)(key, x)["params"]
        for name, value in eager.items():
            np.testing.assert_array_equal(batched["params"][name][i], value, err_msg=name)
            np.testing.assert_array_equal(jitted[name], value, err_msg=name)


# -- dtypes an initializer cannot make: TF's errors (fixtures/initializer_dtypes.json) ----------
_DTYPE_FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "initializer_dtypes.json").read_text())["cases"]
_BY_TF_NAME = {
    "random_normal": lambda: js.random_normal_initializer(),
    "truncated_normal": lambda: js.truncated_normal_initializer(),
    "random_uniform": lambda: js.random_uniform_initializer(),
    "random_uniform_float_bounds": lambda: js.random_uniform_initializer(-1.0, 1.0),
    "random_uniform_int_bounds": lambda: js.random_uniform_initializer(0, 10),
    "uniform_unit_scaling": lambda: js.uniform_unit_scaling_initializer(),
    "glorot_uniform": lambda: js.glorot_uniform_initializer(),
    "glorot_normal": lambda: js.glorot_normal_initializer(),
    "variance_scaling": lambda: js.variance_scaling_initializer(),
    "orthogonal": lambda: js.orthogonal_initializer(),
    "zeros": lambda: js.zeros_initializer(),
    "ones": lambda: js.ones_initializer(),
    "constant": lambda: js.constant_initializer(1),
    "constant_float": lambda: js.constant_initializer(1.5),
    "identity": lambda: js.identity_initializer(),
}
# TF's QR kernel has no bfloat16; jaxscope's orthogonal works in float32 and casts.
_BEYOND_TF = {"orthogonal/bfloat16"}


@pytest.mark.parametrize("case", sorted(set(_DTYPE_FIXTURE) - _BEYOND_TF))
def test_initializer_dtypes_as_tensorflow(case):
    name, dtype = case.split("/")
    model = js.transform(lambda: js.get_variable("v", [2, 2], dtype=dtype,
                                                  initializer=_BY_TF_NAME[name]()))
    expected = _DTYPE_FIXTURE[case]
    if expected[0] == "ok":
        variables = model.init(0)
        (value,) = [*variables["params"].values(), *variables["state"].values()]
        assert value.dtype == np.dtype(jnp.dtype(expected[1]))
    else:
        error = {"TypeError": TypeError, "ValueError": ValueError}[expected[1]]
        with pytest.raises(error) as raised:
            model.init(0)
        assert str(raised.value).split("\n")[0] == expected[2]
