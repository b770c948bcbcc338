"""Design test: the "Sharing Variables" image filter, written as a TF1 user would.

TF1's tutorial (seed 000) builds a two-convolution filter from one helper,
`conv_relu`, that asks for its variables by short names ("weights", "biases").
`variable_scope("conv1")` / `("conv2")` give them distinct full names, and
`scope.reuse_variables()` makes a second call of the whole filter *share* the
first call's variables instead of creating four more.

In jaxscope the same code is a pure function: `js.transform` turns it into
`init` (create trace -> a dict of variables) and `apply` (reuse trace -> output),
and the variables are an ordinary pytree that `jax.grad`, `jax.jit` and optax
understand.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxscope as js

# Small shapes: 4 RGB images of 8x8 pixels, filtered to 8 channels.
BATCH, SIZE, IN_CH, OUT_CH = 4, 8, 3, 8


# -- the model: line for line the seed's code, with js. for tf. ------------------------------
def conv_relu(inputs, kernel_shape, bias_shape):
    # "weights" and "biases" are short names; the enclosing variable scope prefixes them.
    weights = js.get_variable(
        "weights", kernel_shape, initializer=js.random_normal_initializer(stddev=0.1)
    )
    biases = js.get_variable("biases", bias_shape, initializer=js.constant_initializer(0.0))
    # tf.nn.conv2d(inputs, weights, strides=[1, 1, 1, 1], padding="SAME") in NHWC / HWIO.
    conv = jax.lax.conv_general_dilated(
        inputs, weights, window_strides=(1, 1), padding="SAME",
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    return jax.nn.relu(conv + biases)


def my_image_filter(input_images):
    with js.variable_scope("conv1"):
        # Variables created here are named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, IN_CH, OUT_CH], [OUT_CH])
    with js.variable_scope("conv2"):
        # Variables created here are named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, OUT_CH, OUT_CH], [OUT_CH])


@js.transform
def two_filters(image1, image2):
    """The seed's sharing pattern: one filter, applied to two images."""
    with js.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()  # from here on, get_variable returns what exists
        result2 = my_image_filter(image2)
    return result1, result2


EXPECTED_SHAPES = {
    "image_filters/conv1/weights": (5, 5, IN_CH, OUT_CH),
    "image_filters/conv1/biases": (OUT_CH,),
    "image_filters/conv2/weights": (5, 5, OUT_CH, OUT_CH),
    "image_filters/conv2/biases": (OUT_CH,),
}


def images(seed):
    # NumPy makes the data: fixed, and no XLA compilation spent on it.
    rng = np.random.default_rng(seed)
    shape = (BATCH, SIZE, SIZE, IN_CH)
    return (jnp.asarray(rng.standard_normal(shape), jnp.float32),
            jnp.asarray(rng.standard_normal(shape), jnp.float32))


IMAGE1, IMAGE2 = images(0)


@pytest.fixture(scope="module")
def variables():
    """One create trace, shared by the tests below (initializers compile once)."""
    return two_filters.init(jax.random.key(0), IMAGE1, IMAGE2)


# -- what init creates ---------------------------------------------------------------------
def test_two_calls_create_one_set_of_four_variables(variables):
    # Four variables, not eight, named as TF1 names them (full name without ":0"),
    # in creation order; nothing is non-trainable.
    assert list(variables["params"]) == list(EXPECTED_SHAPES)
    assert {k: v.shape for k, v in variables["params"].items()} == EXPECTED_SHAPES
    assert variables["state"] == {}
    # The initializers ran: zero biases, random weights with the requested spread.
    assert jnp.all(variables["params"]["image_filters/conv1/biases"] == 0.0)
    std = jnp.std(variables["params"]["image_filters/conv2/weights"])
    assert 0.05 < float(std) < 0.15


def test_specs_match_init_without_computing_anything():
    specs = two_filters.specs(IMAGE1, IMAGE2)
    assert {name: spec.shape for name, spec in specs.items()} == EXPECTED_SHAPES
    assert all(spec.trainable for spec in specs.values())


def test_calling_the_filter_twice_without_reuse_is_an_error():
    # TF1's safety net: sharing must be asked for; an accidental second call fails.
    @js.transform
    def careless(image1, image2):
        my_image_filter(image1)
        return my_image_filter(image2)

    with pytest.raises(ValueError, match="Variable conv1/weights already exists, disallowed"):
        careless.init(jax.random.key(0), IMAGE1, IMAGE2)


def test_reentering_a_captured_scope_shares_too():
    # The guide's other spelling: capture the scope object, re-open it with reuse=True.
    @js.transform
    def captured(image1, image2):
        with js.variable_scope("model") as scope:
            output1 = my_image_filter(image1)
        with js.variable_scope(scope, reuse=True):  # the object, not the string "model"
            output2 = my_image_filter(image2)
        return output1, output2

    specs = captured.specs(IMAGE1, IMAGE2)
    assert list(specs) == [name.replace("image_filters/", "model/") for name in EXPECTED_SHAPES]


# -- both calls use the same variables -----------------------------------------------------
def test_both_calls_read_the_same_variables(variables):
    # Same variables, same input -> bit-identical outputs.
    (result1, result2), _ = two_filters.apply(variables, IMAGE1, IMAGE1)
    assert result1.shape == (BATCH, SIZE, SIZE, OUT_CH)
    assert jnp.array_equal(result1, result2)


def test_gradient_through_the_second_call_reaches_the_shared_weights(variables):
    # A loss that only looks at the *second* call's output. If the second call had
    # its own copies, the first set would get zero gradient (or, with distinct names,
    # `init` would have returned eight variables).
    def second_call_loss(params):
        (_, result2), _ = two_filters.apply({"params": params, "state": {}}, IMAGE1, IMAGE2)
        return jnp.mean(result2**2)

    grads = jax.grad(second_call_loss)(variables["params"])
    assert set(grads) == set(EXPECTED_SHAPES)
    for name, grad in grads.items():
        assert float(jnp.abs(grad).sum()) > 0.0, f"no gradient reached {name}"


# -- training under jax.jit ----------------------------------------------------------------
def test_training_under_jit_lowers_the_loss(variables):
    image1, image2 = IMAGE1, IMAGE2
    # A regression target: a fixed smooth function of the inputs, one per output channel.
    target1 = jnp.tanh(jnp.tile(image1.mean(-1, keepdims=True), (1, 1, 1, OUT_CH)))
    target2 = jnp.tanh(jnp.tile(image2.mean(-1, keepdims=True), (1, 1, 1, OUT_CH)))
    params = variables["params"]
    optimizer = optax.adam(1e-2)
    opt_state = optimizer.init(params)

    def loss_fn(params):
        (result1, result2), _ = two_filters.apply(
            {"params": params, "state": {}}, image1, image2
        )
        return jnp.mean((result1 - target1) ** 2) + jnp.mean((result2 - target2) ** 2)

    @jax.jit
    def train_step(params, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    losses = []
    for _ in range(20):
        params, opt_state, loss = train_step(params, opt_state)
        losses.append(float(loss))

    assert losses[-1] < 0.7 * losses[0], losses
    # Training kept the structure: still one set of four variables, same shapes.
    assert {k: v.shape for k, v in params.items()} == EXPECTED_SHAPES


# -- op names in compiled code -------------------------------------------------------------
def test_compiled_ops_carry_the_scope_names(variables):
    # variable_scope opens a name scope too, so XLA ops are named like TF1's graph ops.
    # As in TF1, the second call's name scopes are made unique (conv1_1), while its
    # *variables* are the shared conv1/... ones.
    hlo = jax.jit(two_filters.apply).lower(variables, IMAGE1, IMAGE2).as_text(debug_info=True)
    for name in (
        "image_filters/conv1/conv_general_dilated",
        "image_filters/conv2/conv_general_dilated",
        "image_filters/conv1_1/conv_general_dilated",
        "image_filters/conv2_1/conv_general_dilated",
    ):
        assert name in hlo, name
