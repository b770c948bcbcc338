"""Batch norm's moving-statistics updates follow TF1's UPDATE_OPS (API decision 13).

A GAN's generator (``training=True``) and sampler (``training=False``, shared batch norm)
built in one function: the sampler reads the statistics as they were, the updates come
back in ``aux.updates``. Checked against ``fixtures/update_ops.npz``, written by TensorFlow
2.21 (``fixtures/make_update_ops.py``).
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

FIXTURE = Path(__file__).parent / "fixtures" / "update_ops.npz"
with np.load(FIXTURE) as npz:
    TF = {key: npz[key] for key in npz.files}


def dense_generator(z, training):
    h = js.layers.dense(z, 8, name="fc")
    h = jax.nn.relu(js.layers.batch_normalization(h, training=training, name="bn"))
    return jnp.tanh(js.layers.dense(h, 4, name="out"))


def conv_generator(z, training):
    h = jnp.reshape(js.layers.dense(z, 4 * 4 * 3, name="fc"), [-1, 4, 4, 3])
    h = js.layers.conv2d_transpose(h, 5, 3, strides=2, padding="same", name="deconv")
    h = jax.nn.relu(js.layers.batch_normalization(h, training=training, name="bn"))
    return jnp.tanh(js.layers.conv2d(h, 2, 3, padding="same", name="out"))


def gan(generator):
    def fn(z):
        with js.variable_scope("generator"):
            fake = generator(z, training=True)
        with js.variable_scope("generator", reuse=True):
            sample = generator(z, training=False)
        return fake, sample
    return js.transform(fn)


CASES = {"dense": dense_generator, "conv": conv_generator}


def tf_variables(case):
    prefix = f"{case}/generator/"
    flat = {key[len(case) + 1:]: jnp.asarray(value) for key, value in TF.items()
            if key.startswith(prefix) and not key.endswith("/after")}
    return {"params": {k: v for k, v in flat.items() if "moving_" not in k},
            "state": {k: v for k, v in flat.items() if "moving_" in k}}


@pytest.mark.parametrize("case", list(CASES))
def test_generator_and_sampler_in_one_call_match_tensorflow(case):
    model = gan(CASES[case])
    z = jnp.asarray(TF[f"{case}/z"])
    variables = tf_variables(case)
    assert jax.tree.map(jnp.shape, model.init(0, z)) == jax.tree.map(jnp.shape, variables)
    for apply in (model.apply, jax.jit(model.apply)):
        (fake, sample), aux = apply(variables, z)
        np.testing.assert_allclose(fake, TF[f"{case}/output/generator"], rtol=1e-5, atol=2e-6)
        # The sampler reads the statistics as they were: the update lands when the call ends.
        np.testing.assert_allclose(sample, TF[f"{case}/output/sampler"], rtol=1e-5, atol=2e-6)
        assert sorted(aux.updates["state"]) == sorted(variables["state"])
        for name, value in aux.updates["state"].items():
            np.testing.assert_allclose(value, TF[f"{case}/{name}/after"], rtol=1e-5, atol=1e-7)
    _, sample_after = model.apply(js.merge(variables, aux.updates), z)[0]
    np.testing.assert_allclose(sample_after, TF[f"{case}/output/sampler_after"], rtol=1e-5,
                               atol=2e-6)


def test_two_training_calls_of_one_layer_compose_their_updates_in_order():
    layer = js.layers.BatchNormalization(momentum=0.5, name="bn")

    def model(a, b):
        return layer(a, training=True), layer(b, training=True)

    a, b = jnp.full([2, 1], 4.0), jnp.full([2, 1], 8.0)
    variables = js.transform(model).init(0, a, b)
    _, aux = js.transform(model).apply(variables, a, b)
    # moving = 0 -> 0 - (0 - 4) * 0.5 = 2 -> 2 - (2 - 8) * 0.5 = 5
    np.testing.assert_allclose(aux.updates["state"]["bn/moving_mean"], [5.0])


def test_updates_inside_a_scan_land_at_each_step_end():
    layer = js.layers.BatchNormalization(momentum=0.5, name="bn")

    def model(xs):
        def step(carry, x):
            return carry, layer(x, training=True)
        return js.scan(step, 0.0, xs)[1]

    xs = jnp.stack([jnp.full([2, 1], 4.0), jnp.full([2, 1], 8.0)])
    variables = js.transform(model).init(0, xs)
    assert float(variables["state"]["bn/moving_mean"][0]) == 0.0  # init keeps initial values
    _, aux = jax.jit(js.transform(model).apply)(variables, xs)
    np.testing.assert_allclose(aux.updates["state"]["bn/moving_mean"], [5.0])
