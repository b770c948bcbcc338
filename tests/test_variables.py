"""get_variable arguments, API.md section 8 decisions, assignment, filter."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js


def init_apply(fn, *args):
    model = js.transform(fn)
    variables = model.init(jax.random.key(0), *args)
    out, aux = model.apply(variables, *args)
    return variables, out, aux


# -- value initializers and dtypes (decisions 2, 3, 9) -----------------------------------------
def test_value_initializers_keep_their_own_dtype_and_shape():
    def fn():
        js.get_variable("i", initializer=2)
        js.get_variable("f", initializer=2.5)
        js.get_variable("m", initializer=jnp.full([3, 2], 0.1))
        js.get_variable("l", initializer=[[2, 3], [4, 5]])
        js.get_variable("b", initializer=np.array([True, False]))

    variables, _, _ = init_apply(fn)
    assert variables["state"]["i"].dtype == jnp.int32 and variables["state"]["i"].shape == ()
    assert variables["params"]["f"].dtype == jnp.float32
    assert variables["params"]["m"].shape == (3, 2)
    assert variables["state"]["l"].tolist() == [[2, 3], [4, 5]]
    assert variables["state"]["b"].dtype == jnp.bool_
    assert not variables["params"]["f"].weak_type


def test_value_initializer_with_shape_or_other_dtype_raises_tf_texts():
    with pytest.raises(ValueError, match="If initializer is a constant, do not specify shape."):
        js.transform(lambda: js.get_variable("v", [2], initializer=[1.0, 2.0])).init(0)
    with pytest.raises(ValueError, match=re.escape(
            "Initializer type 'int32' and explicit dtype 'float32' don't match.")):
        js.transform(lambda: js.get_variable("v", initializer=2, dtype=jnp.float32)).init(0)


def test_dtype_accepts_names_and_reuse_without_dtype_accepts_stored_dtype():
    seen = []

    def fn():
        counter = js.get_variable("counter", [], dtype="int32")
        js.get_variable_scope().reuse_variables()
        again = js.get_variable("counter")  # decision 3: no dtype given, int32 accepted
        seen.append(again is counter)
        with pytest.raises(js.VariableDtypeError, match=re.escape(
                "Trying to share variable counter, but specified dtype float32 and found "
                "dtype int32.")):
            js.get_variable("counter", dtype=jnp.float32)

    variables, _, _ = init_apply(fn)
    assert seen == [True, True]
    assert variables["state"]["counter"].dtype == jnp.int32


def test_integer_variables_live_in_state_whatever_trainable_says():
    def fn():
        js.get_variable("steps", [], dtype=jnp.int32, trainable=True)
        return js.get_variable("w", [2])

    variables, _, _ = init_apply(fn)
    assert list(variables["state"]) == ["steps"] and list(variables["params"]) == ["w"]
    spec = js.transform(fn).specs()["steps"]
    assert spec.trainable and "trainable_variables" in spec.collections
    # ... so jax.grad over params works with a seed-style integer counter.
    model = js.transform(fn)
    jax.grad(lambda p: jnp.sum(model.apply({"params": p, "state": variables["state"]})[0]
                               ))(variables["params"])


def test_default_initializers_by_dtype():
    def fn():
        js.get_variable("f", [5, 5, 3])
        js.get_variable("i", [2, 2], dtype=jnp.int32)
        js.get_variable("b", [2], dtype=jnp.bool_)

    variables, _, _ = init_apply(fn)
    limit = np.sqrt(3.0 / 25.0)  # uniform_unit_scaling: input_size = 5 * 5
    f = np.asarray(variables["params"]["f"])
    assert np.all(np.abs(f) <= limit) and np.abs(f).max() > 0.5 * limit
    assert variables["state"]["i"].tolist() == [[0, 0], [0, 0]]
    assert variables["state"]["b"].tolist() == [False, False]
    with pytest.raises(ValueError, match="An initializer for variable c of complex64 is required"):
        js.transform(lambda: js.get_variable("c", [2], dtype=jnp.complex64)).init(0)


def test_global_glorot_default_through_root_scope():
    def fn():
        with js.variable_scope("", initializer=js.glorot_uniform_initializer()):
            js.get_variable("w", [500, 300])

    w = np.asarray(init_apply(fn)[0]["params"]["w"])
    assert np.abs(w).max() <= np.sqrt(6.0 / 800) and w.std() == pytest.approx(0.05, rel=0.02)


def test_shape_forms_and_invalid_initializer():
    def fn():
        js.get_variable("n", 3, initializer=js.zeros_initializer)
        js.get_variable("lam", initializer=lambda: [2])
        js.get_variable("opt", initializer=lambda x=True: [2.0])

    variables, _, _ = init_apply(fn)
    assert variables["params"]["n"].shape == (3,)
    assert variables["state"]["lam"].tolist() == [2]
    assert variables["params"]["opt"].tolist() == [2.0]
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        js.transform(lambda: js.get_variable("v")).init(0)
    with pytest.raises(ValueError, match="The initializer passed is not valid"):
        js.transform(lambda: js.get_variable("v", initializer=lambda x: [2])).init(0)


def test_initializer_conventions_jax_tf_style_and_uncalled_class():
    def tf_style(shape, dtype=None, partition_info=None):
        return jnp.full(shape, 7.0, dtype)

    def fn():
        js.get_variable("jax", [3, 4], initializer=jax.nn.initializers.ones)
        js.get_variable("lecun", [3, 4], initializer=jax.nn.initializers.lecun_normal())
        js.get_variable("tf", [2], initializer=tf_style)
        js.get_variable("cls", [2], initializer=js.ones_initializer)

    variables, _, _ = init_apply(fn)
    assert variables["params"]["jax"].tolist() == [[1.0] * 4] * 3
    assert variables["params"]["lecun"].shape == (3, 4)
    assert variables["params"]["tf"].tolist() == [7.0, 7.0]
    assert variables["params"]["cls"].tolist() == [1.0, 1.0]


def test_string_values_are_refused_clearly():
    with pytest.raises(TypeError, match="JAX has no string"):
        js.transform(lambda: js.Variable("Orange")).init(0)


# -- Variable naming (decision 4) --------------------------------------------------------------
def test_variable_and_get_variable_share_one_naming_counter():
    def fn():
        with js.variable_scope("layer1", reuse=js.AUTO_REUSE):
            w1 = js.Variable(jnp.zeros([2, 2]), name="w")
            w2 = js.get_variable("w", initializer=jnp.ones([3, 3]))
            w3 = js.get_variable("w", initializer=jnp.ones([3, 3]))
        return w1 is not w2, w2 is w3

    variables, out, _ = init_apply(fn)
    assert list(variables["params"]) == ["layer1/w", "layer1/w_1"]
    assert variables["params"]["layer1/w_1"].shape == (3, 3)
    assert out == (True, True)


def test_variable_follows_name_scope_not_variable_scope():
    def fn():
        with js.name_scope("foo1"):
            js.get_variable("v", [1])
            js.Variable(1, name="v2")
        for _ in range(2):
            with js.variable_scope("foo2"):
                js.Variable(1.0, name="v2")

    variables, _, _ = init_apply(fn)
    assert list(variables["params"]) == ["v", "foo2/v2", "foo2_1/v2"]
    assert list(variables["state"]) == ["foo1/v2"]


def test_variable_rejects_a_dtype_passed_as_trainable():
    with pytest.raises(TypeError, match=re.escape("js.Variable(2, dtype=jnp.int16)")):
        js.transform(lambda: js.Variable(2, jnp.int16)).init(0)


def test_variable_reuse_true_cannot_fetch_a_variable():
    def fn():
        with js.variable_scope("s"):
            js.Variable(1.0, name="w")
        with js.variable_scope("s", reuse=True):
            js.get_variable("w", [])

    with pytest.raises(ValueError, match="Variable s/w does not exist, or was not created"):
        js.transform(fn).init(0)


# -- assignment ------------------------------------------------------------------------------------
def test_assign_updates_later_reads_and_lands_in_aux_and_init():
    def fn():
        with js.variable_scope("opt"):
            js.get_variable("counter", initializer=0)
            js.get_variable("v", shape=(), initializer=js.zeros_initializer())
            v1 = js.assign_add("v", 1.0)
            js.assign("v", v1)
            js.assign_add("counter", 1)
            with js.variable_scope("", reuse=True):
                pass
        with js.variable_scope("opt", reuse=True):
            return js.get_variable("v", ()), js.get_variable("counter", dtype=jnp.int32)

    model = js.transform(fn)
    variables = model.init(0)
    assert float(variables["params"]["opt/v"]) == 1.0
    assert int(variables["state"]["opt/counter"]) == 1
    (v, counter), aux = model.apply(variables)
    assert float(v) == 2.0 and int(counter) == 2
    assert {part: list(names) for part, names in aux.updates.items()} == {
        "params": ["opt/v"], "state": ["opt/counter"]}  # only what the call assigned
    assert int(aux.updates["state"]["opt/counter"]) == 2
    assert float(aux.updates["params"]["opt/v"]) == 2.0
    # The input is not mutated, and apply under jit gives the same.
    assert int(variables["state"]["opt/counter"]) == 1
    _, jitted = jax.jit(model.apply)(variables)
    assert int(jitted.updates["state"]["opt/counter"]) == 2


def test_constraint_applies_after_assignment_only():
    def fn():
        js.get_variable("w", initializer=jnp.array([-2.0, 3.0]),
                        constraint=lambda w: jnp.clip(w, -1.0, 1.0))
        js.get_variable("free", initializer=jnp.array([-2.0, 3.0]),
                        constraint=lambda w: jnp.clip(w, -1.0, 1.0))
        return js.assign_sub("w", 0.5)

    variables, out, _ = init_apply(fn)
    # init: [-2, 3] - 0.5 = [-2.5, 2.5], clipped; the unassigned variable is left alone.
    assert variables["params"]["w"].tolist() == [-1.0, 1.0]
    assert variables["params"]["free"].tolist() == [-2.0, 3.0]
    # apply starts from init's values: [-1, 1] - 0.5 = [-1.5, 0.5], clipped.
    assert out.tolist() == [-1.0, 0.5]


def test_assign_errors_name_the_variable():
    def missing():
        with js.variable_scope("foo"):
            js.get_variable("counter", [])
            js.assign("countr", 1.0)

    with pytest.raises(ValueError, match=r"foo/countr does not exist .* Did you mean "
                                         r"'foo/counter'"):
        js.transform(missing).init(0)

    def bad_shape():
        js.get_variable("w", [2])
        js.assign("w", jnp.ones(3))

    with pytest.raises(ValueError, match=re.escape("variable w has shape (2,) but the value has "
                                                   "shape (3,)")):
        js.transform(bad_shape).init(0)

    def bad_dtype():
        js.get_variable("n", [], dtype=jnp.int32)
        js.assign("n", jnp.float32(1.5))

    with pytest.raises(TypeError, match="cast it first"):
        js.transform(bad_dtype).init(0)


def test_gradient_flows_through_an_assigned_value():
    def fn(x):
        w = js.get_variable("w", [], initializer=js.constant_initializer(3.0))
        js.assign("w", w * x)
        return js.get_variable_scope() and jnp.asarray(0.0)

    model = js.transform(fn)
    variables = model.init(0, 2.0)

    def new_w(params):
        return model.apply({"params": params, "state": {}}, 2.0)[1].updates["params"]["w"]

    assert float(jax.grad(new_w)(variables["params"])["w"]) == 2.0


# -- collections and filter --------------------------------------------------------------------
def test_collections_inside_trace_and_filter_outside():
    def fn():
        with js.variable_scope("discriminator"):
            js.get_variable("v1", [3], initializer=js.zeros_initializer)
        with js.variable_scope("discriminator_extra"):
            js.get_variable("u", [1])
        with js.variable_scope("generator"):
            js.get_variable("v2", [2], initializer=js.zeros_initializer)
            js.get_variable("frozen", [2], trainable=False)
            js.get_variable("custom", [1], collections=["mine"])
        return (
            [v.shape for v in js.get_collection(js.GraphKeys.GLOBAL_VARIABLES,
                                                scope="discriminator")],
            [v.shape for v in js.trainable_variables("generator")],
            len(js.global_variables()),
            [v.shape for v in js.get_collection("mine")],
        )

    variables, out, _ = init_apply(fn)
    # TF's regex prefix match: "discriminator" also matches "discriminator_extra/u".
    assert out == ([(3,), (1,)], [(2,), (1,)], 4, [(1,)])
    params = variables["params"]
    assert list(js.filter(params, scope="discriminator")) == ["discriminator/v1"]
    assert list(js.filter(variables, scope="generator")["state"]) == ["generator/frozen"]
    assert list(js.filter(params, pattern=r"v\d$")) == ["discriminator/v1", "generator/v2"]


def test_regularizer_loss_only_at_creation_and_in_collection():
    def fn():
        with js.variable_scope("s", regularizer=js.regularizers.l2(1.0)):
            w = js.get_variable("w", initializer=jnp.array([3.0, 4.0]))
            js.get_variable_scope().reuse_variables()
            js.get_variable("w")
            js.add_loss(jnp.sum(w), name="extra")
            js.add_loss(2.0)
            js.add_loss(3.0)
        return len(js.get_collection(js.GraphKeys.REGULARIZATION_LOSSES))

    _, count, aux = init_apply(fn)
    assert count == 1
    assert {k: float(v) for k, v in aux.losses.items()} == {
        "s/w": 12.5, "s/extra": 7.0, "s/loss": 2.0, "s/loss_1": 3.0}
    assert float(aux.regularization_loss) == 24.5


def test_regularization_loss_is_differentiable():
    def fn():
        js.get_variable("w", initializer=jnp.array([1.0, -2.0]),
                        regularizer=js.regularizers.l2(0.5))

    model = js.transform(fn)
    variables = model.init(0)
    grads = jax.grad(lambda p: model.apply({"params": p, "state": {}})[1].regularization_loss)(
        variables["params"])
    assert grads["w"].tolist() == [0.5, -1.0]  # d/dw 0.5 * sum(w**2) / 2 = 0.5 * w


def test_variable_with_random_callable_applies_without_rng():
    """apply needs no rng for a Variable whose initial value draws from next_rng_key."""
    model = js.transform(
        lambda: js.Variable(lambda: jax.random.normal(js.next_rng_key(), [2]), name="w"))
    variables = model.init(0)
    out, _ = model.apply(variables)
    np.testing.assert_array_equal(out, variables["params"]["w"])


# TF 2.21's errors for these shapes (measured there with tf.compat.v1.get_variable).
@pytest.mark.parametrize(("shape", "error", "message"), [
    ([-1, 3], ValueError, "Dimension -1 must be >= 0"),
    ([2.5, 3], TypeError, "Dimension value must be integer or None or have an __index__ "
                          "method, got value '2.5' with type '<class 'float'>'"),
    ("12", TypeError, "Failed to convert ''12'' to a shape: ''1''could not be converted to a "
                      "dimension."),
    ([True, 3], TypeError, "Error converting [True, 3] (arg name = shape) to a TensorShape: "
                           "Field tensorflow.TensorShapeProto.Dim.size: Expected an int, got a "
                           "boolean."),
])
def test_bad_shapes_raise_tensorflow_errors_before_xla(shape, error, message):
    with pytest.raises(error) as raised:
        js.transform(lambda: js.get_variable("v", shape)).init(0)
    assert str(raised.value).startswith(message)


def test_a_negative_layer_size_is_tensorflows_units_error():
    # TF 2.21 (tf.compat.v1.layers.dense, legacy Keras): this text; 2.5 units make 2.
    with pytest.raises(ValueError, match="expected a positive integer. Received: units=-3"):
        js.transform(lambda x: js.layers.dense(x, -3)).init(0, jnp.ones([1, 2]))
    out = js.transform(lambda x: js.layers.dense(x, 2.5)).init(0, jnp.ones([1, 2]))
    assert out["params"]["dense/kernel"].shape == (2, 2)


@pytest.mark.parametrize("shape", [[2**40, 2**40], [2**62, 4], [2**61, 2]])
def test_a_shape_no_array_can_hold_is_refused_before_xla(shape):
    """TF 2.21: "Shape [...] is too large (more than 2**63 - 1 entries)"; XLA used to abort
    the interpreter (the last two) or JAX raise NotImplementedError (the first)."""
    with pytest.raises(ValueError, match=r"is too large \(more than 2\*\*63 - 1 entries\) "
                                         "for variable v"):
        js.transform(lambda: js.get_variable("v", shape)).init(0)
