"""Seed 002, a practical tour: every code block as a jaxscope test.

Variables by dtype, `get_variable` initializers, constants as initial values, assign /
assign_add, checkpoints with `js.train.Saver`, `trainable=False`
for transfer learning, picking variables by scope for two optimizers (GAN), scoping layers,
`Variable` vs `get_variable` naming, reuse, and the `name_scope` caveat.
"""

from __future__ import annotations

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from seedlib import (
    EXISTS,
    MISSING,
    assert_one_shared_variable,
    assert_raises_in_both,
    empty,
    jit_apply,
    run_both,
)

import jaxscope as js


# -- Variables: rank 0, 1, 2 ---------------------------------------------------------------------
def test_seed002_rank0_rank1_rank2_variables_of_each_dtype():
    def fn():
        quantity = js.Variable(2, dtype=jnp.int16)  # tf.Variable(2, tf.int16)
        price = js.Variable(3.23, dtype=jnp.float32)  # tf.Variable(3.23, tf.float32)
        answers = js.Variable([[False, True], [False, False]], dtype=jnp.bool_)
        return quantity, price, answers

    run = run_both(fn)
    state, params = run.variables["state"], run.variables["params"]
    assert list(params) == ["Variable_1"]
    assert list(state) == ["Variable", "Variable_2"]  # integer and boolean: state
    assert state["Variable"].dtype == jnp.int16
    assert state["Variable"].shape == ()
    assert int(state["Variable"]) == 2
    assert params["Variable_1"].dtype == jnp.float32
    np.testing.assert_allclose(params["Variable_1"], 3.23, rtol=1e-6)
    assert state["Variable_2"].dtype == jnp.bool_
    np.testing.assert_array_equal(state["Variable_2"], [[False, True], [False, False]])
    for out in (run.out, jit_apply(run)[0]):
        assert [x.dtype for x in out] == [jnp.int16, jnp.float32, jnp.bool_]


def test_seed002_float64_rank1_variable_with_x64_enabled():
    def fn():
        return js.Variable([3.23, 4.02], dtype=jnp.float64)  # tf.Variable([...], tf.float64)

    with jax.enable_x64(True):
        run = run_both(fn)
        prices = run.variables["params"]["Variable"]
        assert prices.dtype == jnp.float64
        np.testing.assert_array_equal(prices, np.array([3.23, 4.02]))


def test_seed002_variable_dtype_as_second_positional_argument_is_a_clear_type_error():
    # tf.Variable(2, tf.int16) silently passed the dtype as `trainable`; jaxscope refuses it.
    def fn():
        return js.Variable(2, jnp.int16)

    with pytest.raises(TypeError) as info:
        js.transform(fn).init(jax.random.key(0))
    message = str(info.value)
    assert "trainable" in message
    assert "dtype=" in message  # says how to write it
    with pytest.raises(TypeError, match="trainable"):
        js.transform(fn).apply(empty())


@pytest.mark.parametrize("value", ["Orange", ["Fruit", "orange"]], ids=["rank0", "rank1"])
def test_seed002_string_variables_are_a_clear_type_error(value):
    # fruit = tf.Variable("Orange", tf.string); strings = tf.Variable(["Fruit", "orange"], ...)
    def fn():
        return js.Variable(value)

    for call in (lambda m: m.init(jax.random.key(0)), lambda m: m.apply(empty())):
        with pytest.raises(TypeError, match="string") as info:
            call(js.transform(fn))
        assert "JAX" in str(info.value)

    def with_get_variable():
        return js.get_variable("fruit", initializer="Orange")

    with pytest.raises(TypeError, match="string"):
        js.transform(with_get_variable).init(jax.random.key(0))


# -- Initialize variables ------------------------------------------------------------------------
def initialize_variables(seed_names=False):
    v1 = js.get_variable("v1", [5, 5, 3])  # A tensor with shape (5, 5, 3) filled with random values
    v2 = js.get_variable("v2", [5, 5, 3], dtype=jnp.int32, trainable=True)

    v3 = js.get_variable("v3", [3, 2], initializer=js.zeros_initializer)  # Set to 0
    v4 = js.get_variable("v4", [3, 2], initializer=js.ones_initializer)  # Set to 1

    v5 = js.get_variable("v5", initializer=jnp.asarray(2))  # scalar: 2. int32 (decision 2)
    v6 = js.get_variable("v6", initializer=jnp.asarray([2]))  # [2]
    v7 = js.get_variable("v7", initializer=jnp.asarray([[2, 3], [4, 5]]))  # [[2, 3], [4, 5]]

    v8 = js.get_variable("v8", initializer=jnp.full([3, 2], 0.1))

    # As printed, the seed names these "v3" and "v4" again: see the test below.
    name9, name10 = ("v3", "v4") if seed_names else ("v9", "v10")
    # [[ 1.  2.], [ 3.  4.], [ 5.  6.]]
    v9 = js.get_variable(name9, [3, 2], initializer=js.constant_initializer([1, 2, 3, 4, 5, 6]))
    # [[ 1.  2.], [ 2.  2.], [ 2.  2.]]
    v10 = js.get_variable(name10, [3, 2], initializer=js.constant_initializer([1, 2]))
    return v1, v2, v3, v4, v5, v6, v7, v8, v9, v10


def test_seed002_initialize_variables_names_dtypes_and_values():
    def fn():
        variables = initialize_variables()
        # v2 is an int32 variable created with trainable=True: it is in state, but its flag
        # is kept in the TRAINABLE_VARIABLES collection.
        trainable = js.trainable_variables()
        assert [x is variables[1] for x in trainable] == [False, True] + [False] * 8
        return variables

    run = run_both(fn)
    params, state = run.variables["params"], run.variables["state"]
    # "By default, variable is of type float32. tf.get_variable assumes the variable is
    # trainable." Integer variables live in state whatever `trainable` says (decision 9).
    assert list(params) == ["v1", "v3", "v4", "v8", "v9", "v10"]
    assert list(state) == ["v2", "v5", "v6", "v7"]
    assert all(v.dtype == jnp.float32 for v in params.values())

    v1 = np.asarray(params["v1"])
    assert v1.shape == (5, 5, 3)
    # Default initializer: uniform_unit_scaling (decision 1), limit sqrt(3 / (5 * 5)).
    limit = math.sqrt(3 / 25)
    assert np.abs(v1).max() <= limit
    assert np.abs(v1).max() > 0.9 * limit
    assert len(np.unique(v1)) == v1.size

    assert state["v2"].dtype == jnp.int32
    np.testing.assert_array_equal(state["v2"], np.zeros((5, 5, 3)))  # ints default to zeros
    specs = run.model.specs()
    assert specs["v2"].trainable is True
    assert {k: (s.shape, s.dtype) for k, s in specs.items()} == {
        k: (v.shape, v.dtype) for k, v in {**params, **state}.items()}

    np.testing.assert_array_equal(params["v3"], np.zeros((3, 2)))
    np.testing.assert_array_equal(params["v4"], np.ones((3, 2)))

    # initializer=tf.constant(2): an int32 scalar, not float32 as the seed's comment says.
    assert state["v5"].dtype == jnp.int32
    assert state["v5"].shape == ()
    assert int(state["v5"]) == 2
    assert state["v6"].dtype == jnp.int32
    np.testing.assert_array_equal(state["v6"], [2])
    np.testing.assert_array_equal(state["v7"], [[2, 3], [4, 5]])

    np.testing.assert_allclose(params["v8"], np.full((3, 2), 0.1))
    np.testing.assert_array_equal(params["v9"], [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(params["v10"], [[1, 2], [2, 2], [2, 2]])

    for out in (run.out, jit_apply(run)[0]):
        for got, name in zip(out, ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"]):
            np.testing.assert_array_equal(got, {**params, **state}[name])


def test_seed002_initialize_variables_as_printed_reuses_the_names_v3_and_v4():
    # The seed creates `v9 = tf.get_variable("v3", ...)`: in a non-reusing scope, TF raises.
    variables = js.transform(initialize_variables).init(jax.random.key(0))
    error = assert_raises_in_both(lambda: initialize_variables(seed_names=True), variables,
                                  EXISTS.format("v3"))
    assert "Originally defined at" in str(error)


# -- Randomized the value of variables ---------------------------------------------------------
def test_seed002_truncated_normal_and_random_uniform_initializers():
    stddev = np.sqrt(2.0 / 784)

    def fn():
        W = js.get_variable("W", [784, 256],
                            initializer=js.truncated_normal_initializer(stddev=stddev))
        Z = js.get_variable("z", [4, 5], initializer=js.random_uniform_initializer(-1, 1))
        return W, Z

    run = run_both(fn)
    W = np.asarray(run.variables["params"]["W"])
    Z = np.asarray(run.variables["params"]["z"])
    assert W.shape == (784, 256)
    assert np.abs(W).max() <= 2 * stddev  # redrawn beyond two standard deviations
    assert np.abs(W).max() > 1.9 * stddev
    assert abs(W.std() - 0.8796 * stddev) < 0.02 * stddev
    assert Z.shape == (4, 5)
    assert Z.min() >= -1
    assert Z.max() < 1
    assert len(np.unique(Z)) == 20


# -- Using variables: a counter incremented by assignment ----------------------------------------
def using_variables(run_increment=False):
    stddev = np.sqrt(2.0 / 784)
    js.get_variable("W", [784, 256], initializer=js.truncated_normal_initializer(stddev=stddev))
    biases = js.get_variable("z", [256], initializer=js.zeros_initializer)

    counter = js.get_variable("counter", initializer=jnp.asarray(0))

    # Add an Op to increment a counter (run only when asked, as sess.run(increment) would).
    if run_increment:
        js.assign("counter", counter + 1)
    return biases


def test_seed002_using_variables_counter_and_assign_increment():
    run = run_both(using_variables)
    b = run.out  # b = sess.run(biases)
    np.testing.assert_array_equal(b, np.zeros(256))
    assert run.variables["state"]["counter"].dtype == jnp.int32
    assert int(run.variables["state"]["counter"]) == 0
    assert "counter" not in run.variables["params"]

    model = run.model
    variables = run.variables
    step = jax.jit(lambda v: model.apply(v, run_increment=True)[1].updates)
    for expected in (1, 2, 3):
        _, aux = model.apply(variables, run_increment=True)
        assert int(aux.updates["state"]["counter"]) == expected
        jitted = step(variables)
        assert jitted == {"params": {}, "state": {"counter": jitted["state"]["counter"]}}
        assert int(jitted["state"]["counter"]) == expected
        variables = js.merge(variables, aux.updates)
    # The other variables pass through unchanged.
    assert variables["params"]["W"] is run.variables["params"]["W"]
    # An assignment made during init lands in init's variables (API.md, Assignment).
    assert int(model.init(jax.random.key(0), run_increment=True)["state"]["counter"]) == 1


# -- Save / restore checkpoints ----------------------------------------------------------------
def save_block():
    # Create some variables
    v1 = js.get_variable("v1", shape=[3], initializer=js.zeros_initializer)
    v2 = js.get_variable("v2", shape=[5], initializer=js.zeros_initializer)
    # Create the op
    inc_v1 = js.assign("v1", v1 + 1)
    dec_v2 = js.assign("v2", v2 - 1)
    return inc_v1, dec_v2


def test_seed002_save_block_assign_ops_before_saving():
    model = js.transform(save_block)
    variables = model.init(jax.random.key(0))
    # init runs the create trace including the two assignments (inc_v1.op.run(), dec_v2...).
    np.testing.assert_array_equal(variables["params"]["v1"], np.ones(3))
    np.testing.assert_array_equal(variables["params"]["v2"], -np.ones(5))
    zeros = {"params": {"v1": jnp.zeros(3), "v2": jnp.zeros(5)}, "state": {}}
    for (inc_v1, dec_v2), aux in (model.apply(zeros), jax.jit(model.apply)(zeros)):
        np.testing.assert_array_equal(inc_v1, np.ones(3))
        np.testing.assert_array_equal(dec_v2, -np.ones(5))
        np.testing.assert_array_equal(aux.updates["params"]["v1"], np.ones(3))
        np.testing.assert_array_equal(aux.updates["params"]["v2"], -np.ones(5))


def test_seed002_restore_block_needs_no_initializer_when_values_are_given():
    # "We do not need to provide initializer or init_op if it is restored": apply reads
    # the given values and never runs an initializer.
    def fn():
        v1 = js.get_variable("v1", shape=[3])
        v2 = js.get_variable("v2", shape=[5])
        return v1, v2

    restored = {"params": {"v1": jnp.ones(3), "v2": -jnp.ones(5)}, "state": {}}
    model = js.transform(fn)
    created = model.init(jax.random.key(0))  # without a checkpoint: the default initializer
    assert {k: v.shape for k, v in created["params"].items()} == {"v1": (3,), "v2": (5,)}
    for (v1, v2), _ in (model.apply(restored), jax.jit(model.apply)(restored)):
        np.testing.assert_array_equal(v1, np.ones(3))  # print("v1 : %s" % v1.eval())
        np.testing.assert_array_equal(v2, -np.ones(5))


def _v1_v2(initializer=js.zeros_initializer):
    """Seed 002's checkpoint model: v1 [3] and v2 [5]; one step increments v1, decrements v2."""
    v1 = js.get_variable("v1", shape=[3], initializer=initializer)
    v2 = js.get_variable("v2", shape=[5], initializer=initializer)
    return v1, v2


def _inc_dec():
    v1, v2 = _v1_v2()
    js.assign("v1", v1 + 1)  # inc_v1 = v1.assign(v1+1)
    js.assign("v2", v2 - 1)  # dec_v2 = v2.assign(v2-1)


def test_seed002_checkpoint_save_all_variables_with_saver(tmp_path):
    model = js.transform(_inc_dec)
    variables = model.init(jax.random.key(0))  # init ran inc/dec once: v1 = 1, v2 = -1
    saver = js.train.Saver()
    save_path = saver.save(variables, str(tmp_path / "model.ckpt"))
    assert save_path == str(tmp_path / "model.ckpt")
    restored = js.train.Saver().restore(save_path)
    np.testing.assert_array_equal(restored["params"]["v1"], np.ones(3))
    np.testing.assert_array_equal(restored["params"]["v2"], -np.ones(5))


def test_seed002_checkpoint_restore_all_variables_with_saver(tmp_path):
    save_path = js.train.Saver().save(js.transform(_inc_dec).init(0), str(tmp_path / "model.ckpt"))
    # "We do not need to provide initializer": the restored values replace any init.
    model = js.transform(lambda: _v1_v2(initializer=None))
    fresh = model.init(jax.random.key(1))
    restored = js.train.Saver().restore(save_path, fresh)
    (v1, v2), _ = model.apply(restored)
    assert v1.tolist() == [1.0] * 3 and v2.tolist() == [-1.0] * 5


def test_seed002_checkpoint_save_and_restore_a_subset(tmp_path):
    save_path = js.train.Saver().save(js.transform(_inc_dec).init(0), str(tmp_path / "model.ckpt"))
    model = js.transform(_v1_v2)
    variables = model.init(0)  # "Initialize v1 since the saver will not."
    restored = js.train.Saver({"v2": "v2"}).restore(save_path, variables)
    assert restored["params"]["v1"].tolist() == [0.0] * 3
    assert restored["params"]["v2"].tolist() == [-1.0] * 5


def test_seed002_checkpoint_load_latest_and_save_every_n_steps_with_global_step(tmp_path):
    checkpoint_dir = tmp_path / "checkpoint"
    checkpoint_dir.mkdir()
    model = js.transform(_inc_dec)
    saver = js.train.Saver()

    def loadmodel(variables):
        ckpt = js.train.get_checkpoint_state(str(checkpoint_dir))
        if ckpt and ckpt.model_checkpoint_path:
            return True, saver.restore(ckpt.model_checkpoint_path, variables)
        return False, variables

    loaded, variables = loadmodel(model.init(0))
    assert not loaded
    for i in range(3001):
        if i % 1000 == 0:
            saver.save(variables, str(checkpoint_dir / "model"), global_step=i)
        if i < 3:
            _, aux = model.apply(variables)
            variables = js.merge(variables, aux.updates)
    assert js.train.latest_checkpoint(str(checkpoint_dir)) == str(checkpoint_dir / "model-3000")
    loaded, restored = loadmodel(model.init(0))
    assert loaded
    assert restored["params"]["v1"].tolist() == [4.0] * 3  # 1 from init + 3 steps


def test_seed002_transfer_learning_loadmodel_from_checkpoint(tmp_path):
    def cnn(x):
        freezed_W = js.get_variable("CNN_W", [5, 5, 3, 32], trainable=False,
                                    initializer=js.truncated_normal_initializer(stddev=0.02))
        head = js.get_variable("head", [32, 2])
        return jnp.tensordot(x, freezed_W, 3) @ head

    model = js.transform(cnn)
    x = jnp.ones((5, 5, 3))
    trained = model.init(jax.random.key(0), x)
    save_path = js.train.Saver().save(trained, str(tmp_path / "model.ckpt"))
    restored = js.train.Saver().restore(save_path, model.init(jax.random.key(1), x))
    np.testing.assert_array_equal(restored["state"]["CNN_W"], trained["state"]["CNN_W"])
    # The frozen layer is not trained: gradients exist for the params only.
    grads = jax.grad(lambda p: jnp.sum(model.apply({"params": p, "state": restored["state"]},
                                                   x)[0]))(restored["params"])
    assert list(grads) == ["head"]


# -- Trainable / non-trainable parameters --------------------------------------------------------
def test_seed002_trainable_false_freezes_a_layer():
    def fn(x, name="CNN_W"):
        freezed_W = js.get_variable(name, [5, 5, 3, 32], trainable=False,
                                    initializer=js.truncated_normal_initializer(stddev=0.02))
        w = js.get_variable("w", [32, 1])
        return jnp.sum(jnp.tensordot(x, freezed_W, 3) @ w)

    x = jnp.ones((5, 5, 3))
    # The guide's name 'CNN_W!' is one TensorFlow refuses (checked with TF 2.21), and so
    # does jaxscope, with TF's text; the example runs with a valid name.
    with pytest.raises(ValueError, match=re.escape("'CNN_W!' is not a valid root scope name.")):
        js.transform(fn).init(0, x, "CNN_W!")
    run = run_both(fn, x)
    assert list(run.variables["state"]) == ["CNN_W"]
    assert list(run.variables["params"]) == ["w"]
    frozen = np.asarray(run.variables["state"]["CNN_W"])
    assert frozen.shape == (5, 5, 3, 32)
    assert np.abs(frozen).max() <= 0.04
    # Training over params never touches the frozen layer.
    state = run.variables["state"]
    grads = jax.grad(lambda p: run.model.apply({"params": p, "state": state}, x)[0])(
        run.variables["params"])
    assert list(grads) == ["w"]
    assert float(jnp.abs(grads["w"]).sum()) > 0


# -- Two optimizers for two networks (GAN) -------------------------------------------------------
def scope_variables(name):
    with js.variable_scope(name):
        return js.get_collection(js.GraphKeys.GLOBAL_VARIABLES,
                                 scope=js.get_variable_scope().name)


def gan(x):
    # Model parameters for the discriminator network
    with js.variable_scope("discriminator"):
        v1 = js.get_variable("v1", [3], initializer=js.zeros_initializer)
    # Model parameters for the generator network
    with js.variable_scope("generator"):
        v2 = js.get_variable("v2", [2], initializer=js.zeros_initializer)

    # Get all the trainable parameters for the discriminator / the generator
    discriminator_variables = scope_variables("discriminator")
    generator_variables = scope_variables("generator")
    assert len(discriminator_variables) == 1
    assert discriminator_variables[0] is v1
    assert len(generator_variables) == 1
    assert generator_variables[0] is v2

    # Each loss depends on both networks.
    d_loss = jnp.sum((v1 - x) ** 2) + jnp.sum(v2 * x[:2])
    g_loss = jnp.sum((v2 + x[:2]) ** 2) + jnp.sum(v1 * x)
    return d_loss, g_loss


def test_seed002_gan_scope_variables_collects_each_network():
    x = jnp.array([1.0, 2.0, 3.0])
    run = run_both(gan, x)
    params = run.variables["params"]
    assert sorted(params) == ["discriminator/v1", "generator/v2"]
    assert list(js.filter(params, scope="discriminator")) == ["discriminator/v1"]
    assert list(js.filter(params, scope="generator")) == ["generator/v2"]


def test_seed002_gan_two_optimizers_each_update_only_their_own_scope():
    x = jnp.array([1.0, 2.0, 3.0])
    model = js.transform(gan)
    variables = model.init(jax.random.key(0), x)
    params, state = variables["params"], variables["state"]

    def losses(p):
        return model.apply({"params": p, "state": state}, x)[0]

    # Each loss has gradients for BOTH networks: the var_list restriction is what matters.
    for which in (0, 1):
        grads = jax.grad(lambda p, w=which: losses(p)[w])(params)
        assert all(float(jnp.abs(g).sum()) > 0 for g in grads.values())

    discriminator_optimizer = optax.sgd(0.1)
    generator_optimizer = optax.adam(0.1)
    d_state = discriminator_optimizer.init(js.filter(params, scope="discriminator"))
    g_state = generator_optimizer.init(js.filter(params, scope="generator"))

    def minimize(optimizer, opt_state, params, scope, which):
        """optimizer.minimize(loss, var_list=<the scope's variables>)."""
        var_list = js.filter(params, scope=scope)
        grads = jax.grad(lambda sub: losses({**params, **sub})[which])(var_list)
        updates, opt_state = optimizer.update(grads, opt_state, var_list)
        return {**params, **optax.apply_updates(var_list, updates)}, opt_state

    train_discriminator = jax.jit(
        lambda p, s: minimize(discriminator_optimizer, s, p, "discriminator", 0))
    train_generator = jax.jit(lambda p, s: minimize(generator_optimizer, s, p, "generator", 1))

    for _ in range(3):
        before = params
        params, d_state = train_discriminator(params, d_state)
        assert not np.array_equal(params["discriminator/v1"], before["discriminator/v1"])
        np.testing.assert_array_equal(params["generator/v2"], before["generator/v2"])
        assert float(losses(params)[0]) < float(losses(before)[0])  # d_loss went down

        before = params
        params, g_state = train_generator(params, g_state)
        np.testing.assert_array_equal(params["discriminator/v1"], before["discriminator/v1"])
        assert not np.array_equal(params["generator/v2"], before["generator/v2"])
        assert float(losses(params)[1]) < float(losses(before)[1])  # g_loss went down
    assert sorted(params) == ["discriminator/v1", "generator/v2"]


# -- Scoping -------------------------------------------------------------------------------------
def conv2d(input, output_dim, filter_h=5, filter_w=5, stride_h=2, stride_w=2, stddev=0.02):  # noqa: A002
    w = js.get_variable("w", [filter_h, filter_w, input.shape[-1], output_dim],
                        initializer=js.truncated_normal_initializer(stddev=stddev))
    conv = jax.lax.conv_general_dilated(input, w, (stride_h, stride_w), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    biases = js.get_variable("biases", [output_dim], initializer=js.constant_initializer(0.0))
    conv = jnp.reshape(conv + biases, conv.shape)
    return conv


def test_seed002_scoping_two_conv_layers_have_their_own_w_and_b():
    def fn(input1, input2):
        with js.variable_scope("conv1"):
            cnn1 = conv2d(input1, 16)
        with js.variable_scope("conv2"):
            cnn2 = conv2d(input2, 16)
        return cnn1, cnn2

    input1 = jax.random.normal(jax.random.key(1), [1, 10, 10, 32])
    input2 = jax.random.normal(jax.random.key(2), [1, 20, 20, 32])
    run = run_both(fn, input1, input2)
    params = run.variables["params"]
    assert list(params) == ["conv1/w", "conv1/biases", "conv2/w", "conv2/biases"]
    assert params["conv1/w"].shape == params["conv2/w"].shape == (5, 5, 32, 16)
    assert not np.array_equal(params["conv1/w"], params["conv2/w"])
    assert float(jnp.abs(params["conv1/w"]).max()) <= 0.04
    cnn1, cnn2 = run.out
    assert cnn1.shape == (1, 5, 5, 16)
    assert cnn2.shape == (1, 10, 10, 16)
    jit1, jit2 = jit_apply(run, input1, input2)[0]
    np.testing.assert_allclose(jit1, cnn1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jit2, cnn2, rtol=1e-5, atol=1e-6)


# -- Variable sharing ----------------------------------------------------------------------------
def test_seed002_tf_variable_always_creates_a_new_uniquely_named_variable():
    def fn():
        v1 = js.Variable(10, name="name1")
        v2 = js.Variable(10, name="name1")
        return v1, v2

    run = run_both(fn)
    assert list(run.variables["state"]) == ["name1", "name1_1"]  # name1:0, name1_1:0
    for v1, v2 in (run.init_out, run.out):
        assert v1 is not v2
        assert int(v1) == int(v2) == 10


def affine(x, shape):
    W = js.Variable(jax.random.truncated_normal(jax.random.key(5), -2.0, 2.0, shape))
    b = js.Variable(jnp.zeros([shape[1]]))
    model = jax.nn.relu(x @ W + b)
    return model


def test_seed002_affine_with_tf_variable_creates_two_sets_in_scope_n1():
    def fn(x):
        with js.variable_scope("n1"):
            n1 = affine(x, [784, 500])
        with js.variable_scope("n1"):
            n2 = affine(x, [784, 500])
        return n1, n2

    x = jax.random.normal(jax.random.key(0), [2, 784])
    run = run_both(fn, x)
    # tf.Variable follows the name scope, which is made unique on re-entry: n1_1.
    assert list(run.variables["params"]) == [
        "n1/Variable", "n1/Variable_1", "n1_1/Variable", "n1_1/Variable_1"]
    assert run.variables["params"]["n1/Variable"].shape == (784, 500)
    # n2 uses its own W: zero it and only n2 changes.
    params = {**run.variables["params"], "n1_1/Variable": jnp.zeros((784, 500))}
    (n1, n2), _ = run.model.apply({"params": params, "state": {}}, x)
    np.testing.assert_array_equal(n1, run.out[0])
    np.testing.assert_array_equal(n2, np.zeros((2, 500)))
    # x = tf.placeholder(tf.float32, [None, 784]): any batch size.
    (m1, _), _ = run.model.apply(run.variables, jnp.ones([5, 784]))
    assert m1.shape == (5, 500)


def affine_reuseable(x, shape):
    W = js.get_variable("W", shape, initializer=js.random_normal_initializer())
    b = js.get_variable("b", [shape[1]], initializer=js.constant_initializer(0.0))
    model = jax.nn.relu(x @ W + b)
    return model, W


def test_seed002_affine_reuseable_shares_w_and_b_in_scope_n2():
    def fn(x):
        with js.variable_scope("n2"):
            nn1, W1 = affine_reuseable(x, [784, 500])
        with js.variable_scope("n2", reuse=True):
            nn2, W2 = affine_reuseable(x, [784, 500])
        return nn1, nn2, W1, W2

    x = jax.random.normal(jax.random.key(0), [2, 784])
    run = run_both(fn, x)
    assert list(run.variables["params"]) == ["n2/W", "n2/b"]
    for nn1, nn2, W1, W2 in (run.init_out, run.out):
        assert W2 is W1
        np.testing.assert_array_equal(nn1, nn2)
    nn1, nn2, _, _ = jit_apply(run, x)[0]
    np.testing.assert_array_equal(nn1, nn2)


# -- Reuse: do NOT do this / do this -------------------------------------------------------------
def test_seed002_do_not_get_existing_variable_without_reuse():
    def fn():
        with js.variable_scope("foo"):
            js.get_variable("v", [1])
            js.get_variable("v")  # Raises ValueError("... v already exists ...").

    assert_raises_in_both(fn, empty(**{"foo/v": jnp.zeros(1)}), EXISTS.format("foo/v"))


def test_seed002_do_not_reuse_a_variable_that_does_not_exist():
    def fn():
        with js.variable_scope("foo", reuse=True):
            js.get_variable("v")  # Raises ValueError("... v does not exists ...").

    assert_raises_in_both(fn, empty(**{"foo/v": jnp.zeros(1)}), MISSING.format("foo/v"))


def test_seed002_set_the_reuse_flag_properly():
    def fn():
        with js.variable_scope("foo"):
            v = js.get_variable("v2", [1])  # Create a new variable.
        with js.variable_scope("foo", reuse=True):
            v1 = js.get_variable("v2")  # reuse/share the variable "foo/v2".
        with js.variable_scope("foo") as scope:
            w = js.get_variable("v3", [1])
            scope.reuse_variables()
            w1 = js.get_variable("v3")
        return v, v1, w, w1

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/v2", "foo/v3"]
    for v, v1, w, w1 in (run.init_out, run.out):
        assert v1 is v
        assert w1 is w


def my_image_filter(input_images):
    with js.variable_scope("conv1"):
        w1 = js.get_variable("weights", [3, 3, 4, 4], initializer=js.random_normal_initializer())
        relu1 = jax.nn.relu(jax.lax.conv_general_dilated(
            input_images, w1, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
    with js.variable_scope("conv2"):
        w2 = js.get_variable("weights", [3, 3, 4, 4], initializer=js.random_normal_initializer())
        return jax.nn.relu(jax.lax.conv_general_dilated(
            relu1, w2, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))


def test_seed002_reuse_captured_scope_instead_of_the_name_model():
    def fn(input1, input2):
        with js.variable_scope("model") as scope:
            output1 = my_image_filter(input1)
        with js.variable_scope(scope, reuse=True):  # Can use scope instead of "model"
            output2 = my_image_filter(input2)
        return output1, output2

    image = jax.random.normal(jax.random.key(0), [1, 8, 8, 4])
    run = run_both(fn, image, image)
    assert list(run.variables["params"]) == ["model/conv1/weights", "model/conv2/weights"]
    np.testing.assert_array_equal(run.out[0], run.out[1])
    out1, out2 = jit_apply(run, image, image)[0]
    np.testing.assert_array_equal(out1, out2)


def test_seed002_nested_scope_foo_bar_v():
    def fn():
        with js.variable_scope("foo"):
            with js.variable_scope("bar"):
                return js.get_variable("v", [1])

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/bar/v"]  # v.name == "foo/bar/v:0"


# -- Caveat: name_scope and tf.Variable --------------------------------------------------------
def test_seed002_name_scope_does_not_prefix_get_variable_but_prefixes_variable():
    def fn():
        with js.name_scope("foo1"):
            v1 = js.get_variable("v", [1])
            v2 = js.Variable(1, name="v2")
        with js.variable_scope("foo2"):
            v3 = js.get_variable("v", [1])
            v4 = js.Variable(1, name="v2")
        return v1, v2, v3, v4

    run = run_both(fn)
    assert list(run.variables["params"]) == ["v", "foo2/v"]  # v:0 (Unexpected!), foo2/v:0
    assert list(run.variables["state"]) == ["foo1/v2", "foo2/v2"]  # foo1/v2:0, foo2/v2:0
    for v1, v2, v3, v4 in (run.init_out, run.out):
        assert v1 is not v3
        assert v2 is not v4


def test_seed002_best_practice_variable_scope_then_reuse():
    def fn():
        with js.variable_scope("foo"):
            v = js.get_variable("v2", [1])  # Create a new variable
        with js.variable_scope("foo", reuse=True):
            v1 = js.get_variable("v2")  # Reuse a variable created before.
        return v, v1

    assert_one_shared_variable(fn, "foo/v2")


# -- Assignment ----------------------------------------------------------------------------------
def test_seed002_assign_add_then_assign():
    def fn():
        v = js.get_variable("v", shape=(), initializer=js.zeros_initializer())
        v1 = js.assign_add("v", 1)  # 1.0
        js.assign("v", v1)  # 1.0
        js.get_variable_scope().reuse_variables()
        value = js.get_variable("v", shape=())  # later reads see the assignment
        return v, value, v1

    model = js.transform(fn)
    variables = model.init(jax.random.key(0))
    assert float(variables["params"]["v"]) == 1.0  # init's assignments land in its variables
    zero = {"params": {"v": jnp.float32(0.0)}, "state": {}}
    for (v, value, value1), aux in (model.apply(zero), jax.jit(model.apply)(zero)):
        assert float(v) == 0.0
        assert (float(value), float(value1)) == (1.0, 1.0)  # print(value, value1): 1.0 1.0
        assert value.dtype == jnp.float32
        assert float(aux.updates["params"]["v"]) == 1.0
