"""``jax.jit(model.apply)``: only what the call changed leaves it, and jit sees apply's own
signature (``static_argnames``, ``static_argnums``, ``donate_*`` mean what they say)."""

import inspect
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

X = jnp.linspace(-1.0, 1.0, 12).reshape(3, 4)
KEY = jax.random.key(1)


def net(x, training=False):
    """A dense layer, batch norm, and dropout only when training (a Python ``if``)."""
    y = js.layers.dense(x, 5, name="fc")
    y = js.layers.batch_normalization(y, training=training)
    if training:
        y = js.layers.dropout(y, 0.5, training=True)
    return y


def mlp(x):
    for i in range(3):
        with js.variable_scope(f"layer{i}"):
            w = js.get_variable("w", [x.shape[-1], 8])
            b = js.get_variable("b", [8], initializer=js.zeros_initializer)
            x = jnp.tanh(x @ w + b)
    return x


def hand_mlp(params, x):
    for i in range(3):
        x = jnp.tanh(x @ params[f"layer{i}/w"] + params[f"layer{i}/b"])
    return x


MODEL = js.transform(net)
VARIABLES = MODEL.init(0, X, training=True)
MOVING = ["batch_normalization/moving_mean", "batch_normalization/moving_variance"]


def fresh():
    """A copy of VARIABLES that a donating call may consume."""
    return jax.tree.map(jnp.copy, VARIABLES)


def test_init_apply_have_their_own_signatures_and_the_models_name_and_doc():
    assert list(inspect.signature(MODEL.init).parameters) == ["rng", "args", "kwargs"]
    assert list(inspect.signature(MODEL.apply).parameters) == [
        "variables", "args", "rng", "kwargs"]
    assert inspect.signature(MODEL.apply).parameters["rng"].kind is inspect.Parameter.KEYWORD_ONLY
    for fn in (MODEL.init, MODEL.apply):
        assert fn.__name__ == "net"
        assert not hasattr(fn, "__wrapped__")  # which would make jit read net's signature
        assert "dropout only when training" in fn.__doc__
    assert MODEL.apply.__doc__.startswith("Reuse trace of net: apply(variables, *args")
    assert MODEL.init.__doc__.startswith("Create trace of net: init(rng, *args")
    # A model without a docstring, and a callable object, get the one-line summary alone.
    assert js.transform(lambda: None).init.__doc__.startswith("Create trace of <lambda>")
    assert js.transform(mlp).apply.__doc__.count("\n") == 0


EAGER_OUT, EAGER_AUX = MODEL.apply(VARIABLES, X, training=True, rng=KEY)

JIT_WAYS = {
    "static_argnames": (dict(static_argnames="training"),
                        lambda f, v, flag: f(v, X, training=flag, rng=KEY)),
    "static_argnums": (dict(static_argnums=2), lambda f, v, flag: f(v, X, flag, rng=KEY)),
    "donate_argnums": (dict(static_argnames="training", donate_argnums=0),
                       lambda f, v, flag: f(v, X, training=flag, rng=KEY)),
    "donate_argnames": (dict(static_argnums=2, donate_argnames="variables"),
                        lambda f, v, flag: f(v, X, flag, rng=KEY)),
}


# Donating apply's variables is allowed but buys nothing now: no output can reuse them.
@pytest.mark.filterwarnings("ignore:Some donated buffers were not usable")
@pytest.mark.parametrize("way", list(JIT_WAYS))
def test_a_python_training_flag_under_jit_each_way(way):
    jit_kwargs, call = JIT_WAYS[way]
    jitted = jax.jit(MODEL.apply, **jit_kwargs)
    out, aux = call(jitted, fresh(), True)
    np.testing.assert_allclose(out, EAGER_OUT, rtol=1e-6, atol=1e-6)
    assert list(aux.updates["state"]) == MOVING and aux.updates["params"] == {}
    for name in MOVING:
        np.testing.assert_allclose(aux.updates["state"][name], EAGER_AUX.updates["state"][name],
                                   rtol=1e-6)
    # The flag is static: training=False is another program, with no dropout and no update.
    out, aux = call(jitted, fresh(), False)
    np.testing.assert_allclose(out, MODEL.apply(VARIABLES, X)[0], rtol=1e-6, atol=1e-6)
    assert aux.updates == {"params": {}, "state": {}}


def output_bytes(fn, *args, **kwargs):
    return fn.lower(*args, **kwargs).compile().memory_analysis().output_size_in_bytes


def test_jitted_apply_writes_only_the_output():
    model = js.transform(mlp)
    variables = model.init(0, X)
    out_bytes = output_bytes(jax.jit(model.apply), variables, X)
    assert out_bytes == output_bytes(jax.jit(hand_mlp), variables["params"], X) == 3 * 8 * 4
    # ... and no output buffer is an input's (an unchanged variable is never handed back).
    _, aux = jax.jit(model.apply)(variables, X)
    assert jax.tree.leaves(aux) == []


def test_jitted_training_apply_writes_the_output_and_the_assigned_statistics():
    out_bytes = output_bytes(jax.jit(MODEL.apply, static_argnames="training"),
                             VARIABLES, X, training=True, rng=KEY)
    # What a function returning exactly (output, new mean, new variance) writes, as XLA
    # counts it (the arrays, and the table of a tuple of outputs).
    just_these = [EAGER_OUT] + [VARIABLES["state"][n] for n in MOVING]
    expected = output_bytes(jax.jit(lambda *a: tuple(x + 1 for x in a)), *just_these)
    assert expected >= sum(x.nbytes for x in just_these)
    assert out_bytes == expected


def test_merge_folds_updates_back_inside_and_outside_jit():
    def step(variables):
        _, aux = MODEL.apply(variables, X, training=True, rng=KEY)
        return js.merge(variables, aux.updates)

    merged = js.merge(VARIABLES, EAGER_AUX.updates)
    jitted = jax.jit(step)(VARIABLES)
    for name in MOVING:
        np.testing.assert_allclose(jitted["state"][name], merged["state"][name], rtol=1e-6)
        assert not np.allclose(merged["state"][name], VARIABLES["state"][name])  # it moved
    for name, value in VARIABLES["params"].items():
        assert merged["params"][name] is value  # unchanged entries are the same arrays
    assert list(merged["state"]) == list(VARIABLES["state"])  # order kept
    # Two steps of TF's update: moving -= (moving - batch) * (1 - momentum), by hand.
    twice = step(step(VARIABLES))
    batch_mean = EAGER_AUX.updates["state"][MOVING[0]] / 0.01  # first step from zeros
    expected = 0.99 * (0.01 * batch_mean) + 0.01 * batch_mean
    np.testing.assert_allclose(twice["state"][MOVING[0]], expected, rtol=1e-5, atol=1e-7)


def test_merge_refuses_updates_of_another_model():
    with pytest.raises(js.ApplyVariablesError, match=re.escape(
            "js.merge: variable 'batch_normalization/moving_mea' in updates['state'] is not in "
            "variables['state']. Did you mean 'batch_normalization/moving_mean' or")):
        js.merge(VARIABLES, {"state": {"batch_normalization/moving_mea": jnp.zeros(5)}})
    with pytest.raises(ValueError, match="variables has no 'state' dict"):
        js.merge({"params": {}}, {"state": {"x": jnp.zeros(1)}})
    assert js.merge(VARIABLES, {"params": {}, "state": {}}) == VARIABLES


@pytest.mark.parametrize("attr", ["variables", "state"])
def test_the_old_aux_attributes_say_how_to_migrate(attr):
    with pytest.raises(AttributeError, match=re.escape(
            f"aux.{attr} was removed: apply returns only what the call changed, in aux.updates")
            ) as error:
        getattr(EAGER_AUX, attr)
    assert "js.merge(variables, aux.updates)" in str(error.value)
    with pytest.raises(AttributeError, match="'Aux' object has no attribute 'other'"):
        EAGER_AUX.other  # noqa: B018


def test_jitted_init_takes_static_arguments_too():
    init = jax.jit(MODEL.init, static_argnames="training")
    variables = init(jax.random.key(0), X, training=True)
    assert jax.tree.map(jnp.shape, variables) == jax.tree.map(jnp.shape, VARIABLES)
    np.testing.assert_array_equal(variables["params"]["fc/kernel"],
                                  MODEL.init(jax.random.key(0), X)["params"]["fc/kernel"])
