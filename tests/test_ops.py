"""TF1's generic ops under ``js.``: every call in ``fixtures/ops_cases.py`` gives what
TensorFlow 2.21's ``tf.compat.v1`` gave (``fixtures/ops.npz``, written by
``fixtures/make_ops.py``) -- values and dtypes (64-bit ones as JAX stores them)."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fixtures.ops_cases import CASES, X

import jaxscope as js

EXPECTED = np.load(pathlib.Path(__file__).parent / "fixtures" / "ops.npz")


def expected_outputs(case_id: str) -> list[np.ndarray] | np.ndarray:
    if case_id in EXPECTED:
        return EXPECTED[case_id]
    keys = sorted((k for k in EXPECTED if k.startswith(case_id + "/")),
                  key=lambda k: k.rsplit("/", 1)[1])
    return {k.rsplit("/", 1)[1]: EXPECTED[k] for k in keys}


def check(got, want, case_id):
    want_dtype = np.dtype(jax.dtypes.canonicalize_dtype(want.dtype))
    got = np.asarray(got)
    assert got.dtype == want_dtype, f"{case_id}: dtype {got.dtype}, TF {want.dtype}"
    assert got.shape == want.shape, f"{case_id}: shape {got.shape}, TF {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6, err_msg=case_id)
    else:
        np.testing.assert_array_equal(got, want, err_msg=case_id)


@pytest.mark.parametrize(("case_id", "op", "args", "kwargs"), CASES, ids=[c[0] for c in CASES])
def test_op_matches_tensorflow(case_id, op, args, kwargs):
    got = getattr(js, op)(*args, **kwargs)
    want = expected_outputs(case_id)
    if op == "clip_by_global_norm":
        clipped, norm = got
        check(norm, want.pop("norm"), case_id)
        assert [k for k, t in enumerate(clipped) if t is not None] == sorted(map(int, want))
        for k, value in want.items():
            check(clipped[int(k)], value, f"{case_id}/{k}")
    elif isinstance(want, dict):
        assert len(got) == len(want), case_id
        for k, value in want.items():
            check(got[int(k)], value, f"{case_id}/{k}")
    else:
        check(got, want, case_id)


def test_dtypes_hash_like_array_dtypes():
    """The trap of a port: ``x.dtype in {tf.int32, ...}`` with jnp types is silently False."""
    x = jnp.ones(2, jnp.int32)
    assert x.dtype in {js.int32, js.int64}
    assert x.dtype not in {jnp.int32, jnp.int64}  # why js.int32 is not jnp.int32
    assert js.as_dtype(jnp.bfloat16) is js.bfloat16 and js.as_dtype("float32") is js.float32
    assert js.zeros([2], js.bfloat16).dtype == jnp.bfloat16


def test_shape_values_work_under_jit():
    @jax.jit
    def flatten(x):
        return js.reshape(x, [js.shape(x)[0], -1]) * js.to_float(js.size(x))

    assert flatten(jnp.ones((2, 3, 4))).shape == (2, 12)


def test_traced_values_where_tf_took_tensors():
    """A traced begin slices dynamically; a traced shape is a clear error."""
    @jax.jit
    def window(x, start):
        return js.slice(x, [start, 0], [2, 4])

    np.testing.assert_array_equal(window(X, 1), X[1:3])
    with pytest.raises(TypeError, match="reshape: shape must be known when the function is "
                                        "traced"):
        jax.jit(lambda x, n: js.reshape(x, [n, -1]))(X, 3)
    with pytest.raises(TypeError, match="slice: a size of -1 needs a begin known"):
        jax.jit(lambda x, b: js.slice(x, [b, 0], [-1, 4]))(X, 1)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="evenly divisible by 3"):
        js.split(X, 3, axis=1)
    with pytest.raises(ValueError, match="Cannot specify both 'keep_dims' and 'keepdims'"):
        js.reduce_sum(X, keepdims=True, keep_dims=True)
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype int32"):
        js.transform(lambda: js.random_uniform([2], dtype=js.int32)).init(0)
    with pytest.raises(ValueError, match="within the input shape"):
        js.slice(X, [2, 0], [2, 4])


def test_random_ops_draw_from_the_transform_rng():
    def draws():
        return (js.random_normal([4000], mean=1.0, stddev=2.0),
                js.truncated_normal([4000], stddev=0.5),
                js.random_uniform([4000], -1.0, 3.0),
                js.random_uniform([4000], 0, 5, dtype=js.int32),
                js.multinomial(jnp.log(jnp.array([[0.2, 0.8]])), 4000),
                js.random_shuffle(jnp.arange(10)))

    model = js.transform(draws)
    (normal, trunc, uniform, ints, classes, shuffled), _ = model.apply(model.init(0), rng=1)
    assert abs(float(normal.mean()) - 1.0) < 0.1 and abs(float(normal.std()) - 2.0) < 0.1
    assert float(jnp.abs(trunc).max()) <= 1.0  # two standard deviations
    # a normal truncated at +-2 has standard deviation 0.8796 (of the untruncated one)
    assert abs(float(trunc.std()) - 0.5 * 0.8796) < 0.02
    assert float(uniform.min()) >= -1.0 and float(uniform.max()) < 3.0
    assert set(np.unique(ints).tolist()) == {0, 1, 2, 3, 4}
    assert classes.shape == (1, 4000) and abs(float(classes.mean()) - 0.8) < 0.03
    assert sorted(shuffled.tolist()) == list(range(10))
    again, _ = model.apply(model.init(0), rng=1)
    np.testing.assert_array_equal(again[0], normal)  # the same rng, the same draws


def test_control_dependencies_order_nothing_and_say_so():
    with js.control_dependencies([X]):
        y = js.identity(X)
    assert js.group(y) is None and js.no_op() is None
    assert "orders nothing" in js.control_dependencies.__doc__


def test_ops_compile_to_the_same_program_as_jax_numpy():
    """Thin wrappers: a TF-style expression stages the same program as the jax.numpy one."""
    def tf_style(x, y):
        h = js.matmul(x, y, transpose_b=True)
        return js.reduce_mean(js.square(h), axis=1, keep_dims=True)

    def jnp_style(x, y):
        return jnp.mean(jnp.square(x @ y.T), axis=1, keepdims=True)

    assert str(jax.make_jaxpr(tf_style)(X, X)) == str(jax.make_jaxpr(jnp_style)(X, X))


def test_tf1_rnn_spellings_under_nn():
    """``tf.nn.dynamic_rnn`` and ``tf.nn.rnn_cell.*`` port by renaming too."""
    assert js.nn.dynamic_rnn is js.rnn.dynamic_rnn
    assert js.nn.rnn_cell.MultiRNNCell is js.rnn.MultiRNNCell
    assert js.nn.bidirectional_dynamic_rnn is js.rnn.bidirectional_dynamic_rnn
    with pytest.raises(AttributeError, match="has no attribute 'dynamic_rnnn'"):
        js.nn.dynamic_rnnn  # noqa: B018
