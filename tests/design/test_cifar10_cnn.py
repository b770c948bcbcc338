"""The TF CIFAR-10 tutorial's model (``cifar10.py``), line by line in jaxscope.

TF1's ``inference()`` builds conv1 -> pool1 -> norm1 -> conv2 -> norm2 -> pool2 ->
local3 -> local4 -> softmax_linear, each in a ``variable_scope`` with ``weights`` and
``biases`` from ``get_variable``, and adds weight decay to a ``losses`` collection.
Here the same code runs under ``js.transform``; weight decay is a ``regularizer=`` whose
losses come back in ``aux.losses``. Small inputs and a few steps keep it fast.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxscope as js

NUM_CLASSES = 10


def _variable_with_weight_decay(name, shape, stddev, wd):
    """cifar10.py's helper: a truncated-normal variable, with L2 weight decay if ``wd``."""
    regularizer = (lambda var: wd * js.nn.l2_loss(var)) if wd is not None else None
    return js.get_variable(name, shape,
                           initializer=js.truncated_normal_initializer(stddev=stddev),
                           regularizer=regularizer)


def inference(images):
    with js.variable_scope("conv1") as scope:
        kernel = _variable_with_weight_decay("weights", [5, 5, 3, 64], stddev=5e-2, wd=None)
        conv = js.nn.conv2d(images, kernel, [1, 1, 1, 1], padding="SAME")
        biases = js.get_variable("biases", [64], initializer=js.constant_initializer(0.0))
        conv1 = js.nn.relu(js.nn.bias_add(conv, biases), name=scope.name)
    pool1 = js.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME",
                           name="pool1")
    norm1 = js.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm1")

    with js.variable_scope("conv2") as scope:
        kernel = _variable_with_weight_decay("weights", [5, 5, 64, 64], stddev=5e-2, wd=None)
        conv = js.nn.conv2d(norm1, kernel, [1, 1, 1, 1], padding="SAME")
        biases = js.get_variable("biases", [64], initializer=js.constant_initializer(0.1))
        conv2 = js.nn.relu(js.nn.bias_add(conv, biases), name=scope.name)
    norm2 = js.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm2")
    pool2 = js.nn.max_pool(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME",
                           name="pool2")

    with js.variable_scope("local3") as scope:
        reshape = jnp.reshape(pool2, [images.shape[0], -1])
        dim = reshape.shape[1]
        weights = _variable_with_weight_decay("weights", [dim, 384], stddev=0.04, wd=0.004)
        biases = js.get_variable("biases", [384], initializer=js.constant_initializer(0.1))
        local3 = js.nn.relu(jnp.matmul(reshape, weights) + biases, name=scope.name)

    with js.variable_scope("local4") as scope:
        weights = _variable_with_weight_decay("weights", [384, 192], stddev=0.04, wd=0.004)
        biases = js.get_variable("biases", [192], initializer=js.constant_initializer(0.1))
        local4 = js.nn.relu(jnp.matmul(local3, weights) + biases, name=scope.name)

    with js.variable_scope("softmax_linear"):
        weights = _variable_with_weight_decay("weights", [192, NUM_CLASSES],
                                              stddev=1 / 192.0, wd=None)
        biases = js.get_variable("biases", [NUM_CLASSES],
                                 initializer=js.constant_initializer(0.0))
        return jnp.add(jnp.matmul(local4, weights), biases)


model = js.transform(inference)
IMAGES = jnp.asarray(np.random.RandomState(0).uniform(size=(8, 24, 24, 3)), jnp.float32)
LABELS = jnp.arange(8) % NUM_CLASSES


def loss_fn(params, state, images, labels):
    logits, aux = model.apply({"params": params, "state": state}, images)
    cross_entropy = jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))
    return cross_entropy + aux.regularization_loss, cross_entropy


def test_variables_are_named_as_the_tutorial():
    variables = model.init(jax.random.key(0), IMAGES)
    assert list(variables["params"]) == [
        f"{layer}/{name}" for layer in ("conv1", "conv2", "local3", "local4", "softmax_linear")
        for name in ("weights", "biases")
    ]
    assert variables["params"]["local3/weights"].shape == (6 * 6 * 64, 384)
    # Truncated normal: nothing beyond two standard deviations.
    assert float(jnp.abs(variables["params"]["conv1/weights"]).max()) <= 2 * 5e-2


def test_weight_decay_losses_are_the_tutorials():
    variables = model.init(jax.random.key(0), IMAGES)
    _, aux = model.apply(variables, IMAGES)
    assert sorted(aux.losses) == ["local3/weights", "local4/weights"]
    w = variables["params"]["local4/weights"]
    np.testing.assert_allclose(aux.losses["local4/weights"], 0.004 * jnp.sum(w**2) / 2,
                               rtol=1e-5)


def test_training_steps_reduce_the_loss():
    variables = model.init(jax.random.key(0), IMAGES)
    params, state = variables["params"], variables["state"]
    optimizer = optax.sgd(0.05)
    opt_state = optimizer.init(params)

    @jax.jit
    def step(params, opt_state):
        (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state, IMAGES, LABELS)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    losses = []
    for _ in range(8):
        params, opt_state, loss = step(params, opt_state)
        losses.append(float(loss))
    assert losses[-1] < losses[0]


def test_compiled_apply_carries_the_tutorials_op_names():
    variables = model.init(jax.random.key(0), IMAGES)
    text = jax.jit(lambda v, x: model.apply(v, x)[0]).lower(variables, IMAGES).as_text(
        debug_info=True)
    for name in ("conv1/", "pool1", "norm1", "conv2/", "local3/", "softmax_linear/"):
        assert name in text, name
