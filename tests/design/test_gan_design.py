"""Design test: a tiny GAN with two optimizers that pick their variables by scope.

Seed 002 trains a generator and a discriminator "with different cost functions for
different trainable parameters": each network lives in its own variable scope, and each
optimizer gets `var_list=<the variables of its scope>`. The discriminator is applied
twice, to real and to generated samples, sharing its variables through `reuse=True`.

In jaxscope the variables are one `{full_name: array}` dict; `js.filter(params,
scope=...)` plays the part of `var_list`: differentiate with respect to that part only,
update it with its own optax optimizer, and merge it back.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxscope as js

LATENT, HIDDEN, BATCH = 2, 8, 32


# -- the model -----------------------------------------------------------------------------
def dense(x, units, activation=None):
    # Default initializer (uniform unit scaling) for the weights, zeros for the biases.
    weights = js.get_variable("weights", [x.shape[-1], units])
    biases = js.get_variable("biases", [units], initializer=js.zeros_initializer)
    y = x @ weights + biases
    return y if activation is None else activation(y)


def generator(z):
    """Latent noise [N, 2] -> a 2-D sample [N, 2]."""
    with js.variable_scope("hidden"):
        h = dense(z, HIDDEN, jnp.tanh)
    with js.variable_scope("out"):
        return dense(h, 2)


def discriminator(x):
    """A 2-D sample [N, 2] -> the logit of "this is real" [N]."""
    with js.variable_scope("hidden"):
        h = dense(x, HIDDEN, jnp.tanh)
    with js.variable_scope("out"):
        return dense(h, 1)[:, 0]


def gan_fn(z, real):
    with js.variable_scope("generator"):
        fake = generator(z)
    with js.variable_scope("discriminator"):
        d_real = discriminator(real)
    # The same discriminator judges the fakes: reuse, don't create a second one.
    with js.variable_scope("discriminator", reuse=True):
        d_fake = discriminator(fake)
    return fake, d_real, d_fake


gan = js.transform(gan_fn)


def data(seed):
    """Latent noise, and "real" points from a Gaussian blob centred at (2, -1)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((BATCH, LATENT)).astype(np.float32)
    real = (np.array([2.0, -1.0]) + 0.3 * rng.standard_normal((BATCH, 2))).astype(np.float32)
    return jnp.asarray(z), jnp.asarray(real)


Z, REAL = data(0)

GENERATOR_NAMES = [
    "generator/hidden/weights", "generator/hidden/biases",
    "generator/out/weights", "generator/out/biases",
]
DISCRIMINATOR_NAMES = [
    "discriminator/hidden/weights", "discriminator/hidden/biases",
    "discriminator/out/weights", "discriminator/out/biases",
]


# -- losses and the two training steps -------------------------------------------------------
def bce(logits, label):
    return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)).mean()


def d_loss_fn(params, z, real):
    (_, d_real, d_fake), _ = gan.apply({"params": params, "state": {}}, z, real)
    return bce(d_real, 1.0) + bce(d_fake, 0.0)


def g_loss_fn(params, z, real):
    (_, _, d_fake), _ = gan.apply({"params": params, "state": {}}, z, real)
    return bce(d_fake, 1.0)


def minimize(loss_fn, optimizer, scope):
    """`optimizer.minimize(loss, var_list=<variables under scope>)` as a pure, jitted step.

    The step differentiates `loss_fn` with respect to the variables under `scope` only,
    and merges the updated ones back into the full dict: the rest are passed through.
    """

    @jax.jit
    def step(params, opt_state, z, real):
        own = js.filter(params, scope=scope)
        loss, grads = jax.value_and_grad(lambda own: loss_fn({**params, **own}, z, real))(own)
        updates, opt_state = optimizer.update(grads, opt_state, own)
        return {**params, **optax.apply_updates(own, updates)}, opt_state, loss

    return step


d_optimizer, g_optimizer = optax.adam(1e-2), optax.adam(1e-2)
d_step = minimize(d_loss_fn, d_optimizer, "discriminator")
g_step = minimize(g_loss_fn, g_optimizer, "generator")


@pytest.fixture(scope="module")
def params():
    return gan.init(jax.random.key(0), Z, REAL)["params"]


def changed(before, after):
    """The names whose values differ."""
    return {name for name in before if not jnp.array_equal(before[name], after[name])}


# -- the variables ---------------------------------------------------------------------------
def test_one_discriminator_judges_both_real_and_fake(params):
    # Two calls of discriminator(), one set of its variables.
    assert list(params) == GENERATOR_NAMES + DISCRIMINATOR_NAMES
    assert params["discriminator/hidden/weights"].shape == (2, HIDDEN)
    assert params["generator/out/weights"].shape == (HIDDEN, 2)


def test_filter_splits_the_variables_by_scope(params):
    generator_vars = js.filter(params, scope="generator")
    discriminator_vars = js.filter(params, scope="discriminator")
    assert list(generator_vars) == GENERATOR_NAMES
    assert list(discriminator_vars) == DISCRIMINATOR_NAMES
    # A whole variables dict works too, part by part.
    assert js.filter({"params": params, "state": {}}, scope="generator") == {
        "params": generator_vars, "state": {},
    }


def test_seed_scope_variables_helper_inside_the_trace():
    # The seed's own helper, unchanged but for js.: collect by scope inside the model.
    def scope_variables(name):
        with js.variable_scope(name):
            return js.get_collection(
                js.GraphKeys.GLOBAL_VARIABLES, scope=js.get_variable_scope().name
            )

    @js.transform
    def var_lists(z, real):
        gan_fn(z, real)
        return [v.shape for v in scope_variables("generator")], [
            v.shape for v in scope_variables("discriminator")
        ]

    shapes = [(LATENT, HIDDEN), (HIDDEN,), (HIDDEN, 2), (2,)]
    (g_shapes, d_shapes), _ = var_lists.apply(var_lists.init(0, Z, REAL), Z, REAL)
    assert g_shapes == shapes
    assert d_shapes == [(2, HIDDEN), (HIDDEN,), (HIDDEN, 1), (1,)]


# -- two optimizers, each on its own part -----------------------------------------------------
def test_each_step_changes_only_its_own_scope(params):
    d_state = d_optimizer.init(js.filter(params, scope="discriminator"))
    g_state = g_optimizer.init(js.filter(params, scope="generator"))

    after_d, d_state, _ = d_step(params, d_state, Z, REAL)
    assert changed(params, after_d) == set(DISCRIMINATOR_NAMES)

    after_g, g_state, _ = g_step(after_d, g_state, Z, REAL)
    assert changed(after_d, after_g) == set(GENERATOR_NAMES)


def test_discriminator_step_lowers_its_loss_with_generator_fixed(params):
    d_state = d_optimizer.init(js.filter(params, scope="discriminator"))
    trained = params
    losses = []
    for _ in range(5):
        trained, d_state, loss = d_step(trained, d_state, Z, REAL)
        losses.append(float(loss))  # the loss before each update
    losses.append(float(d_loss_fn(trained, Z, REAL)))

    assert all(b < a for a, b in itertools.pairwise(losses)), losses
    assert changed(params, trained) == set(DISCRIMINATOR_NAMES)  # the generator stood still


def test_generator_step_lowers_its_loss_with_discriminator_fixed(params):
    g_state = g_optimizer.init(js.filter(params, scope="generator"))
    trained = params
    for _ in range(5):
        trained, g_state, _ = g_step(trained, g_state, Z, REAL)

    assert float(g_loss_fn(trained, Z, REAL)) < float(g_loss_fn(params, Z, REAL))
    assert changed(params, trained) == set(GENERATOR_NAMES)


def test_alternating_training_is_deterministic():
    # Same rng, same data -> the same variables, bit for bit: init draws each variable
    # from a key derived from the rng and its full name.
    def train():
        params = gan.init(jax.random.key(0), Z, REAL)["params"]
        d_state = d_optimizer.init(js.filter(params, scope="discriminator"))
        g_state = g_optimizer.init(js.filter(params, scope="generator"))
        for _ in range(3):
            params, d_state, _ = d_step(params, d_state, Z, REAL)
            params, g_state, _ = g_step(params, g_state, Z, REAL)
        return params

    first, second = train(), train()
    assert not changed(first, second)
