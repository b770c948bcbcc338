"""``js.layers`` core: Dense (against ``fixtures/tf_ops/dense``), Dropout, Flatten, naming."""

import contextlib
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js
from jaxscope.collections import get_collection_names

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops"
HAVE_FIXTURES = (FIXTURES / "dense.json").exists()
needs_fixtures = pytest.mark.skipif(not HAVE_FIXTURES, reason=f"no TF fixtures in {FIXTURES}")
ACTIVATIONS = {None: None, "relu": js.nn.relu, "tanh": js.nn.tanh}


def close(actual, expected, rtol=1e-5, atol=1e-6):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# -- the dense fixture: every case in ONE trace, in order, as TF built them in one graph --------
def dense_fixture():
    spec = json.loads((FIXTURES / "dense.json").read_text())
    with np.load(FIXTURES / "dense.npz") as npz:
        data = {k: npz[k] for k in npz.files}
    return spec, data


def dense_fixture_model(spec, data, created):
    def model():
        outputs = {}
        for case in spec["cases"]:
            name, attrs = case["name"], case["attrs"]
            kwargs = dict(
                activation=ACTIVATIONS[attrs["activation"]], use_bias=attrs["use_bias"],
                kernel_initializer=js.constant_initializer(data[f"{name}/kernel"]),
                name=attrs["name"], reuse=attrs["reuse"],
            )
            if attrs["use_bias"]:
                kwargs["bias_initializer"] = js.constant_initializer(data[f"{name}/bias"])
            before = get_collection_names(js.GraphKeys.GLOBAL_VARIABLES)
            scope = (js.variable_scope(attrs["variable_scope"]) if attrs["variable_scope"]
                     else contextlib.nullcontext())
            with scope:
                outputs[name] = js.layers.dense(data[f"{name}/input"], attrs["units"], **kwargs)
            created[name] = get_collection_names(js.GraphKeys.GLOBAL_VARIABLES)[len(before):]
        return outputs

    return js.transform(model)


@needs_fixtures
def test_dense_fixture_names_values_and_outputs_in_one_trace():
    spec, data = dense_fixture()
    created = {}
    model = dense_fixture_model(spec, data, created)
    variables = model.init(0)
    assert list(variables["params"]) == spec["graph_global_variables_in_creation_order"]
    assert variables["state"] == {}
    for case in spec["cases"]:
        assert created[case["name"]] == case["variables_created"], case["name"]
    for name, value in variables["params"].items():
        close(value, data[f"variables/{name}"], rtol=0, atol=0)
    # apply with TF's own variable values (not ours): outputs of every case
    tf_variables = {"params": {name: jnp.asarray(data[f"variables/{name}"])
                               for name in spec["graph_global_variables_in_creation_order"]},
                    "state": {}}
    outputs, aux = model.apply(tf_variables)
    assert aux.losses == {}
    for case in spec["cases"]:
        close(outputs[case["name"]], data[f"{case['name']}/output"])
    assert created["shared_reuse"] == []


@needs_fixtures
def test_dense_fixture_jits():
    spec, data = dense_fixture()
    model = dense_fixture_model(spec, data, {})
    variables = jax.jit(model.init)(0)
    outputs, _ = jax.jit(model.apply)(variables)
    for case in spec["cases"]:
        close(outputs[case["name"]], data[f"{case['name']}/output"])


# -- naming and sharing, as TF1 ---------------------------------------------------------------
def init_names(fn, *args):
    variables = js.transform(fn).init(0, *args)
    return list(variables["params"]) + list(variables["state"])


def test_unnamed_layers_are_unique_per_variable_scope():
    def fn(x):
        js.layers.dense(x, 2)
        with js.variable_scope("tower"):
            js.layers.dense(x, 2)
            js.layers.dense(x, 2)
        js.layers.dense(x, 2, use_bias=False)
        js.layers.conv1d(x[..., None], 1, 1)

    assert init_names(fn, jnp.ones([1, 3])) == [
        "dense/kernel", "dense/bias", "tower/dense/kernel", "tower/dense/bias",
        "tower/dense_1/kernel", "tower/dense_1/bias", "dense_1/kernel",
        "conv1d/kernel", "conv1d/bias",
    ]


def test_named_functional_layer_twice_needs_reuse():
    def twice(x, reuse):
        a = js.layers.dense(x, 4, name="fc")
        b = js.layers.dense(x, 4, name="fc", reuse=reuse)
        return a, b

    x = jnp.ones([2, 3])
    with pytest.raises(ValueError, match=r"Variable fc/kernel already exists, disallowed"):
        js.transform(twice).init(0, x, None)
    model = js.transform(twice)
    variables = model.init(0, x, True)
    assert list(variables["params"]) == ["fc/kernel", "fc/bias"]
    (a, b), _ = model.apply(variables, x, True)
    close(a, b, rtol=0, atol=0)


def test_unnamed_reuse_shares_the_base_name_scope():
    def fn(x):
        a = js.layers.dense(x, 3)
        b = js.layers.dense(x, 3, reuse=True)
        return a, b

    model = js.transform(fn)
    x = jnp.ones([2, 2])
    variables = model.init(0, x)
    assert list(variables["params"]) == ["dense/kernel", "dense/bias"]
    (a, b), _ = model.apply(variables, x)
    close(a, b, rtol=0, atol=0)


def test_reuse_of_missing_named_layer_fails():
    with pytest.raises(ValueError, match=r"Variable fc/kernel does not exist"):
        js.transform(lambda x: js.layers.dense(x, 2, name="fc", reuse=True)).init(
            0, jnp.ones([1, 2]))


def test_reusing_variable_scope_shares_functional_layers():
    def fn(x):
        with js.variable_scope("net"):
            a = js.layers.dense(x, 3, name="out")
        with js.variable_scope("net", reuse=True):
            b = js.layers.dense(x, 3, name="out")
        return a - b

    model = js.transform(fn)
    x = jnp.ones([2, 4])
    variables = model.init(0, x)
    assert list(variables["params"]) == ["net/out/kernel", "net/out/bias"]
    close(model.apply(variables, x)[0], jnp.zeros([2, 3]), atol=0)


# A layer object made once at import time: it keeps no arrays, each trace captures anew.
SHARED_DENSE = js.layers.Dense(3, activation="relu")


def two_calls(x):
    with js.variable_scope("outer"):
        first = SHARED_DENSE(x)
    return first, SHARED_DENSE(x)  # second call: same variables, same (captured) scope


def test_module_level_layer_object_in_init_and_apply():
    model = js.transform(two_calls)
    x = jnp.arange(8.0).reshape(2, 4)
    variables = model.init(jax.random.key(1), x)
    assert list(variables["params"]) == ["outer/dense/kernel", "outer/dense/bias"]
    (a, b), _ = model.apply(variables, x)
    kernel = variables["params"]["outer/dense/kernel"]
    close(a, jax.nn.relu(x @ kernel))
    close(b, a, rtol=0, atol=0)
    # a second transform (and a jitted apply) starts afresh with the same object
    other = js.transform(lambda x: SHARED_DENSE(x))
    assert list(other.init(0, x)["params"]) == ["dense/kernel", "dense/bias"]
    (a2, _), _ = jax.jit(model.apply)(variables, x)
    close(a2, a)


def test_layer_variables_properties():
    layer = js.layers.Dense(2, trainable=False)
    seen = {}

    def fn(x):
        layer(x)
        seen["scope"] = layer.variable_scope.name
        seen["n"] = (len(layer.variables), len(layer.trainable_variables),
                     len(layer.non_trainable_variables))

    js.transform(fn).init(0, jnp.ones([1, 3]))
    assert seen == {"scope": "dense", "n": (2, 0, 2)}


# -- Dense details -----------------------------------------------------------------------------
def test_dense_rank3_uses_the_last_axis_and_default_initializer():
    model = js.transform(lambda x: js.layers.dense(x, 4, use_bias=False))
    x = jax.random.normal(jax.random.key(0), [2, 3, 5])
    variables = model.init(0, x)
    kernel = variables["params"]["dense/kernel"]
    assert kernel.shape == (5, 4)
    # glorot_uniform (API decision 11): the very draw of get_variable with that initializer
    by_hand = js.transform(lambda: js.get_variable(
        "dense/kernel", [5, 4], initializer=js.glorot_uniform_initializer())).init(0)
    np.testing.assert_array_equal(kernel, by_hand["params"]["dense/kernel"])
    close(model.apply(variables, x)[0], jnp.einsum("abi,ij->abj", x, kernel))


def test_dense_kernel_initializer_none_uses_the_scope_initializer():
    def fn(x):
        with js.variable_scope("s", initializer=js.constant_initializer(0.5)):
            return js.layers.dense(x, 2)

    variables = js.transform(fn).init(0, jnp.ones([1, 3]))
    close(variables["params"]["s/dense/kernel"], np.full([3, 2], 0.5), atol=0)
    close(variables["params"]["s/dense/bias"], np.zeros([2]), atol=0)


def test_dense_rejects_rank1_input():
    with pytest.raises(ValueError, match="min_ndim=2"):
        js.transform(lambda x: js.layers.dense(x, 2)).init(0, jnp.ones([3]))


def test_regularizers_land_in_aux_losses_under_variable_names():
    def fn(x):
        return js.layers.dense(
            x, 2, kernel_initializer=js.constant_initializer(2.0),
            bias_initializer=js.constant_initializer(-1.0),
            kernel_regularizer=js.regularizers.l2(0.1),
            bias_regularizer=js.regularizers.l1(0.5),
            activity_regularizer=js.regularizers.l1(0.01), name="fc")

    model = js.transform(fn)
    x = jnp.ones([4, 3])
    variables = model.init(0, x)
    out, aux = model.apply(variables, x)
    assert set(aux.losses) == {"fc/kernel", "fc/bias", "fc/ActivityRegularizer"}
    close(aux.losses["fc/kernel"], 0.1 * (6 * 4.0) / 2)
    close(aux.losses["fc/bias"], 0.5 * 2 * 1.0)
    close(out, np.full([4, 2], 5.0))
    close(aux.losses["fc/ActivityRegularizer"], 0.01 * 40.0 / 4)  # divided by the batch
    close(aux.regularization_loss, 1.2 + 1.0 + 0.1)


def test_trainable_false_puts_kernels_in_state():
    def fn(x):
        h = js.layers.dense(x, 3, trainable=False)
        return js.layers.dense(h, 1)

    variables = js.transform(fn).init(0, jnp.ones([1, 2]))
    assert list(variables["state"]) == ["dense/kernel", "dense/bias"]
    assert list(variables["params"]) == ["dense_1/kernel", "dense_1/bias"]
    specs = js.transform(fn).specs(jnp.ones([1, 2]))
    assert [s.trainable for s in specs.values()] == [False, False, True, True]


def test_kernel_constraint_is_applied_on_assignment():
    def fn(x):
        y = js.layers.dense(x, 2, kernel_constraint=lambda w: jnp.clip(w, -1.0, 1.0),
                            name="fc")
        with js.variable_scope("fc", reuse=True):
            js.assign("kernel", jnp.full([2, 2], 5.0))
        return y

    _, aux = js.transform(fn).apply(js.transform(fn).init(0, jnp.ones([1, 2])), jnp.ones([1, 2]))
    close(aux.updates["params"]["fc/kernel"], np.ones([2, 2]), atol=0)


def test_variables_take_the_input_float_dtype():
    x = jnp.ones([2, 3], jnp.bfloat16)
    model = js.transform(lambda x: js.layers.dense(x, 4))
    variables = model.init(0, x)
    assert variables["params"]["dense/kernel"].dtype == jnp.bfloat16
    assert model.apply(variables, x)[0].dtype == jnp.bfloat16
    ints = js.transform(lambda x: js.layers.dense(x, 4)).init(0, jnp.ones([2, 3], jnp.int32))
    assert ints["params"]["dense/kernel"].dtype == jnp.float32


def test_activation_names_and_errors():
    x = jnp.array([[-1.0, 2.0]])
    f = js.transform(lambda x: js.layers.dense(
        x, 2, activation="relu", kernel_initializer=js.initializers.Identity()))
    close(f.apply(f.init(0, x), x)[0], [[0.0, 2.0]], atol=0)
    with pytest.raises(ValueError, match="Unknown activation"):
        js.layers.Dense(2, activation="nope")


# -- Dropout and Flatten -----------------------------------------------------------------------
def test_dropout_is_identity_unless_training():
    model = js.transform(lambda x, training: js.layers.dropout(x, 0.3, training=training))
    x = jnp.arange(6.0)
    variables = model.init(0, x, False)
    assert variables == {"params": {}, "state": {}}
    close(model.apply(variables, x, False)[0], x, atol=0)  # no rng needed
    with pytest.raises(js.MissingRngError):
        model.apply(variables, x, True)


def test_dropout_training_drops_rate_and_rescales():
    layer = js.layers.Dropout(rate=0.25, seed=3)
    model = js.transform(lambda x: layer(x, training=True))
    x = jnp.ones([20000])
    y, _ = model.apply(model.init(0, x), x, rng=jax.random.key(0))
    kept = np.asarray(y) != 0
    assert abs(kept.mean() - 0.75) < 0.02
    close(np.asarray(y)[kept], np.full(kept.sum(), 1 / 0.75), rtol=1e-6)
    y2, _ = model.apply(model.init(0, x), x, rng=jax.random.key(1))
    assert not np.array_equal(np.asarray(y2) != 0, kept)


def test_dropout_noise_shape_and_traced_training():
    model = js.transform(lambda x, t: js.layers.dropout(x, 0.5, noise_shape=[None, 1],
                                                          training=t))
    x = jnp.ones([64, 8])
    apply = jax.jit(model.apply)
    y, _ = apply(model.init(0, x, True), x, jnp.array(True), rng=jax.random.key(2))
    rows = np.asarray(y)
    assert all(len(set(r.tolist())) == 1 for r in rows)  # whole rows kept or dropped
    assert 0 < (rows[:, 0] == 0).sum() < 64
    y, _ = apply(model.init(0, x, True), x, jnp.array(False), rng=jax.random.key(2))
    close(y, x, atol=0)


def test_flatten_channels_last_and_first():
    x = jax.random.normal(jax.random.key(0), [2, 3, 4, 5])
    model = js.transform(lambda x: (js.layers.flatten(x),
                                    js.layers.flatten(jnp.moveaxis(x, -1, 1),
                                                      data_format="channels_first"),
                                    js.layers.Flatten()(x[:, 0, 0, 0])))
    (last, first, rank1), _ = model.apply(model.init(0, x), x)
    close(last, np.asarray(x).reshape(2, 60), atol=0)
    close(first, last, atol=0)
    assert rank1.shape == (2, 1)
    with pytest.raises(ValueError, match="data_format"):
        js.layers.Flatten(data_format="NHWC")
