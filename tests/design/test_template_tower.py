"""Design test: a shared tower built with `make_template`, with weight decay from a scope.

`make_template("tower", fn)` wraps a function that calls `get_variable` so that the
first call creates its variables (under a scope named "tower") and every later call
reuses them, without any `reuse=True` at the call site. This is how TF1 wrote
siamese networks and shared encoders.

Weight decay comes from a default on an enclosing variable scope: every variable
created inside gets `regularizer=l2(scale)` unless it says otherwise (the biases here
opt out with `js.no_regularizer`). Each regularizer runs once per variable, when the
variable is created, and its result lands in `aux.losses` under the variable's name;
`aux.regularization_loss` is their sum, ready to add to the training loss.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxscope as js

FEATURES, HIDDEN, BATCH = 4, 8, 16
SCALE = 0.05  # weight decay: l2(SCALE)(w) = SCALE * sum(w ** 2) / 2


# -- the model -------------------------------------------------------------------------------
def dense(x, units, activation=None):
    weights = js.get_variable("weights", [x.shape[-1], units])
    # Biases are usually exempt from weight decay: an explicit regularizer beats the default.
    biases = js.get_variable(
        "biases", [units], initializer=js.zeros_initializer, regularizer=js.no_regularizer
    )
    y = x @ weights + biases
    return y if activation is None else activation(y)


def tower_fn(x):
    with js.variable_scope("layer1"):
        h = dense(x, HIDDEN, jax.nn.relu)
    with js.variable_scope("layer2"):
        return dense(h, 1)[:, 0]


# Built once, at module level, as in TF1 code; each init/apply trace starts it afresh.
tower = js.make_template("tower", tower_fn)


def siamese_fn(x1, x2):
    with js.variable_scope("siamese", regularizer=js.regularizers.l2(SCALE)):
        # First call creates siamese/tower/...; the second reuses it.
        return tower(x1), tower(x2)


siamese = js.transform(siamese_fn)


TOWER_NAMES = [
    "siamese/tower/layer1/weights", "siamese/tower/layer1/biases",
    "siamese/tower/layer2/weights", "siamese/tower/layer2/biases",
]
WEIGHT_NAMES = [name for name in TOWER_NAMES if name.endswith("/weights")]


def data(seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((2, BATCH, FEATURES)).astype(np.float32)
    target = lambda x: np.sin(x).sum(-1) - 0.5 * x[:, 0]  # noqa: E731 - a toy target
    return jnp.asarray(x1), jnp.asarray(x2), jnp.asarray(target(x1)), jnp.asarray(target(x2))


X1, X2, Y1, Y2 = data(0)


@pytest.fixture(scope="module")
def variables():
    return siamese.init(jax.random.key(0), X1, X2)


def hand_l2(params):
    """TF's l2_regularizer by hand, over the regularized (weight) variables only."""
    return sum(SCALE * np.sum(np.asarray(params[name]) ** 2) / 2 for name in WEIGHT_NAMES)


# -- one set of variables, shared by both calls ------------------------------------------------
def test_two_calls_make_one_set_of_tower_variables(variables):
    assert list(variables["params"]) == TOWER_NAMES
    assert variables["state"] == {}
    assert variables["params"]["siamese/tower/layer1/weights"].shape == (FEATURES, HIDDEN)
    assert not any("tower_1" in name for name in variables["params"])


def test_both_calls_read_the_same_variables(variables):
    (out1, out2), _ = siamese.apply(variables, X1, X1)
    assert out1.shape == (BATCH,)
    assert jnp.array_equal(out1, out2)

    # A loss on the second call alone reaches every tower variable.
    def second_call_loss(params):
        (_, out2), _ = siamese.apply({"params": params, "state": {}}, X1, X2)
        return jnp.mean(out2**2)

    grads = jax.grad(second_call_loss)(variables["params"])
    assert all(float(jnp.abs(g).sum()) > 0 for g in grads.values())


def test_the_template_lists_its_variables_inside_the_trace():
    # TF1 code feeds `var_list=tower.trainable_variables` to an optimizer; inside a
    # trace the template answers with the values of its (one set of) variables.
    @js.transform
    def listing(x1, x2):
        siamese_fn(x1, x2)
        return (
            tower.variable_scope_name,
            [v.shape for v in tower.trainable_variables],
            len(js.get_collection(js.GraphKeys.REGULARIZATION_LOSSES)),
        )

    (scope_name, shapes, n_losses), _ = listing.apply(listing.init(0, X1, X2), X1, X2)
    assert scope_name == "siamese/tower/"
    assert shapes == [(FEATURES, HIDDEN), (HIDDEN,), (HIDDEN, 1), (1,)]
    assert n_losses == len(WEIGHT_NAMES)  # one per regularized variable, not per call


def test_two_templates_of_one_name_do_not_share():
    # The contrast: *one* template called twice shares; *two* templates get two scopes.
    @js.transform
    def two_towers(x):
        first = js.make_template("tower", tower_fn)
        second = js.make_template("tower", tower_fn)
        return first(x), second(x)

    specs = two_towers.specs(X1)
    assert [name for name in specs if name.endswith("layer1/weights")] == [
        "tower/layer1/weights", "tower_1/layer1/weights",
    ]


# -- the regularization loss -------------------------------------------------------------------
def test_regularization_loss_is_l2_of_the_weights_counted_once(variables):
    _, aux = siamese.apply(variables, X1, X2)
    # One loss per regularized variable, named after it; the second tower call adds none.
    assert sorted(aux.losses) == sorted(WEIGHT_NAMES)
    for name in WEIGHT_NAMES:
        w = np.asarray(variables["params"][name])
        np.testing.assert_allclose(aux.losses[name], SCALE * np.sum(w**2) / 2, rtol=1e-6)
    np.testing.assert_allclose(aux.regularization_loss, hand_l2(variables["params"]), rtol=1e-6)
    # specs() records which variables carry a regularizer.
    regularized = {name: spec.regularized for name, spec in siamese.specs(X1, X2).items()}
    assert regularized == {name: name in WEIGHT_NAMES for name in TOWER_NAMES}


def test_regularization_gradient_is_weight_decay(variables):
    # d/dw [scale * sum(w**2) / 2] = scale * w for weights; zero for the exempt biases.
    def reg_loss(params):
        return siamese.apply({"params": params, "state": {}}, X1, X2)[1].regularization_loss

    # Shift every variable off zero first, so that zero-initialized biases would show
    # a gradient if they were regularized.
    params = {name: value + 1.0 for name, value in variables["params"].items()}
    grads = jax.grad(reg_loss)(params)
    for name in TOWER_NAMES:
        expected = SCALE * params[name] if name in WEIGHT_NAMES else jnp.zeros_like(params[name])
        np.testing.assert_allclose(grads[name], expected, rtol=1e-6)


# -- training ---------------------------------------------------------------------------------
def test_training_with_regularization_lowers_the_loss(variables):
    optimizer = optax.adam(1e-2)

    def loss_fn(params):
        (out1, out2), aux = siamese.apply({"params": params, "state": {}}, X1, X2)
        data_loss = jnp.mean((out1 - Y1) ** 2) + jnp.mean((out2 - Y2) ** 2)
        return data_loss + aux.regularization_loss

    @jax.jit
    def train_step(params, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    params = variables["params"]
    opt_state = optimizer.init(params)
    losses = []
    for _ in range(30):
        params, opt_state, loss = train_step(params, opt_state)
        losses.append(float(loss))

    assert losses[-1] < 0.8 * losses[0], losses
    # Still one tower (jit returns dicts with sorted keys), and the reported
    # regularization still matches the new weights.
    assert sorted(params) == sorted(TOWER_NAMES)
    _, aux = siamese.apply({"params": params, "state": {}}, X1, X2)
    np.testing.assert_allclose(aux.regularization_loss, hand_l2(params), rtol=1e-6)
