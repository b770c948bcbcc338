"""Custom getters apply to every read of every variable: `get_variable`, every layer
family, RNN cells (also inside `dynamic_rnn`'s `js.scan`), templates.

The reference is derived by hand: with a getter that doubles what it returns, the model
computes exactly what the same model without the getter computes on doubled variables.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

RNG = np.random.default_rng(0)


def doubled(getter, name, *args, **kwargs):
    return getter(name, *args, **kwargs) * 2


def images(*shape):
    return jnp.asarray(RNG.standard_normal(shape), jnp.float32)


def _one_step(cell, x):
    out, _ = cell(x, cell.zero_state(x.shape[0], jnp.float32))
    return out


CELLS = {
    "BasicRNNCell": lambda: js.rnn.BasicRNNCell(4),
    "BasicLSTMCell": lambda: js.rnn.BasicLSTMCell(4),
    "LSTMCell (peepholes, projection)": lambda: js.rnn.LSTMCell(4, use_peepholes=True,
                                                                num_proj=3),
    "GRUCell": lambda: js.rnn.GRUCell(4),
    "MultiRNNCell": lambda: js.rnn.MultiRNNCell([js.rnn.GRUCell(3), js.rnn.BasicRNNCell(2)]),
}

FAMILIES = {
    "get_variable": (lambda x: x @ js.get_variable("w", [x.shape[-1], 3]), images(2, 5)),
    "dense": (lambda x: js.layers.dense(x, 3, activation=jnp.tanh), images(2, 5)),
    "dense twice (shared)": (
        lambda x: (lambda layer: layer(x) + layer(2 * x))(js.layers.Dense(3)), images(2, 5)),
    "conv1d": (lambda x: js.layers.conv1d(x, 3, 2), images(2, 6, 2)),
    "conv2d": (lambda x: js.layers.conv2d(x, 3, 2, padding="same"), images(2, 5, 5, 2)),
    "conv3d": (lambda x: js.layers.conv3d(x, 2, 2), images(1, 4, 4, 4, 2)),
    "conv2d_transpose": (lambda x: js.layers.conv2d_transpose(x, 3, 2, strides=2),
                         images(2, 3, 3, 2)),
    "separable_conv2d": (lambda x: js.layers.separable_conv2d(x, 3, 2), images(2, 5, 5, 2)),
    "batch_normalization (inference)": (
        lambda x: js.layers.batch_normalization(x, training=False), images(4, 3)),
    "batch_normalization (training)": (
        lambda x: js.layers.batch_normalization(x, training=True), images(4, 3)),
    "template": (lambda x: js.make_template(
        "affine", lambda a: a @ js.get_variable("w", [a.shape[-1], 2])
        + js.get_variable("b", [2], initializer=js.ones_initializer()))(x), images(2, 5)),
    **{f"{name} (one step)": (lambda x, make=make: _one_step(make(), x), images(2, 5))
       for name, make in CELLS.items()},
    **{f"{name} in dynamic_rnn": (
        lambda x, make=make: js.rnn.dynamic_rnn(make(), x, dtype=jnp.float32)[0], images(2, 4, 5))
       for name, make in CELLS.items()},
}


def under(getter, build):
    def model(x):
        with js.variable_scope("s", custom_getter=getter):
            return build(x)
    return js.transform(model)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_scope_getter_applies_to_every_read(family):
    build, x = FAMILIES[family]
    plain = under(None, build)
    variables = plain.init(0, x)
    twice = jax.tree.map(lambda v: 2 * v, variables)
    expected, _ = plain.apply(twice, x)
    got, aux = under(doubled, build).apply(variables, x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # Updates (batch norm's moving statistics) apply to the stored variable, as TF1's assign
    # ops do to the variable and not to what a getter returned: the batch statistics come
    # from the input, so they equal the updates of the plain model on the same variables.
    _, plain_aux = plain.apply(variables, x)
    assert list(aux.updates["state"]) == list(plain_aux.updates["state"])
    for name, value in aux.updates["state"].items():
        np.testing.assert_allclose(value, plain_aux.updates["state"][name], rtol=1e-6)


def test_mixed_precision_getter_reads_float16_from_float32_storage():
    def float32_storage(getter, name, shape=None, dtype=None, *args, trainable=True, **kwargs):
        """The classic TF1 mixed-precision getter: store trainables in float32, read as asked."""
        stored = getter(name, shape, jnp.float32 if trainable else dtype, *args,
                        trainable=trainable, **kwargs)
        return stored.astype(dtype) if trainable and dtype != jnp.float32 else stored

    def model(x):
        with js.variable_scope("net", custom_getter=float32_storage):
            h = js.layers.dense(x.astype(jnp.float16), 4, activation=jax.nn.relu)
            out, _ = js.rnn.dynamic_rnn(js.rnn.BasicLSTMCell(3), h[:, None, :],
                                        dtype=jnp.float16)
            return out

    x = images(2, 5)
    model = js.transform(model)
    variables = model.init(0, x)
    assert {v.dtype for v in variables["params"].values()} == {jnp.dtype(jnp.float32)}
    out, _ = model.apply(variables, x)
    assert out.dtype == jnp.float16
    assert jax.jit(model.apply)(variables, x)[0].dtype == jnp.float16


def test_a_layer_calls_the_getter_once_per_variable_as_tf1():
    """TF1's layer keeps what the getter returned at build (``self.kernel``): a second call
    of the layer does not call the getter again."""
    calls = []

    def counting(getter, name, *args, **kwargs):
        calls.append(name)
        return getter(name, *args, **kwargs)

    layer = js.layers.Dense(3, name="fc")

    def model(x):
        with js.variable_scope("s", custom_getter=counting):
            return layer(layer(x))

    x = images(2, 3)
    variables = js.transform(model).init(0, x)
    assert calls == ["s/fc/kernel", "s/fc/bias"]
    calls.clear()
    js.transform(model).apply(variables, x)
    assert calls == ["s/fc/kernel", "s/fc/bias"]


def test_a_read_after_assignment_goes_through_the_getter_again():
    def model(x):
        with js.variable_scope("s", custom_getter=doubled):
            layer = js.layers.Dense(2, use_bias=False, name="fc")
            first = layer(x)
            with js.variable_scope("fc", reuse=True):
                js.assign("kernel", jnp.ones([2, 2]))
            return first, layer(x)

    x = jnp.ones([1, 2])
    model = js.transform(model)
    given = {"params": {"s/fc/kernel": jnp.full([2, 2], 3.0)}, "state": {}}
    (first, second), aux = model.apply(given, x)
    np.testing.assert_allclose(first, [[12.0, 12.0]])  # x @ (2 * 3)
    np.testing.assert_allclose(second, [[4.0, 4.0]])  # x @ (2 * ones)
    np.testing.assert_allclose(aux.updates["params"]["s/fc/kernel"], np.ones([2, 2]))


def test_a_getter_that_renames_reaches_the_layer():
    def suffixed(getter, name, *args, **kwargs):
        return getter(name + "_v2", *args, **kwargs)

    def model(x):
        with js.variable_scope("s", custom_getter=suffixed):
            return js.layers.dense(x, 2, name="fc")

    x = images(1, 3)
    model = js.transform(model)
    variables = model.init(0, x)
    assert list(variables["params"]) == ["s/fc/kernel_v2", "s/fc/bias_v2"]
    out, _ = model.apply(variables, x)
    p = variables["params"]
    np.testing.assert_allclose(out, x @ p["s/fc/kernel_v2"] + p["s/fc/bias_v2"], rtol=1e-6)
