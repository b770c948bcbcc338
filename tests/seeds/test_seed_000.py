"""Seed 000, the "Sharing Variables" guide: every code block as a jaxscope test.

Translation (see the seed file in shared/seeds/000_*.txt): a TF graph snippet is a function
run under `js.transform`, both as the create trace (`init`) and the reuse trace (`apply`);
`v.name == "foo/v:0"` becomes a key of `variables["params"]`; `v1 is v` an identity check
on arrays returned from the trace; `x.op.name == "foo/add"` an op name in the lowered HLO.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
from seedlib import (
    EXISTS,
    MISSING,
    assert_one_shared_variable,
    assert_raises_in_both,
    jit_apply,
    op_names,
    run_both,
)

import jaxscope as js


# -- helpers ---------------------------------------------------------------------------------
def images(seed=0, shape=(1, 8, 8, 32)):
    return jax.random.normal(jax.random.key(seed), shape)


def conv2d(x, w):
    # tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")
    return jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


# -- The Problem: tf.Variable always creates ----------------------------------------------------
def my_image_filter_with_variables(input_images, key):
    k1, k2 = jax.random.split(key)
    conv1_weights = js.Variable(jax.random.normal(k1, [5, 5, 32, 32]), name="conv1_weights")
    conv1_biases = js.Variable(jnp.zeros([32]), name="conv1_biases")
    conv1 = conv2d(input_images, conv1_weights)
    relu1 = jax.nn.relu(conv1 + conv1_biases)

    conv2_weights = js.Variable(jax.random.normal(k2, [5, 5, 32, 32]), name="conv2_weights")
    conv2_biases = js.Variable(jnp.zeros([32]), name="conv2_biases")
    conv2 = conv2d(relu1, conv2_weights)
    return jax.nn.relu(conv2 + conv2_biases)


def test_seed000_problem_tf_variable_filter_has_four_variables():
    key = jax.random.key(7)
    run = run_both(my_image_filter_with_variables, images(), key)
    params = run.variables["params"]
    assert sorted(params) == ["conv1_biases", "conv1_weights", "conv2_biases", "conv2_weights"]
    assert run.variables["state"] == {}
    k1, _ = jax.random.split(key)
    np.testing.assert_array_equal(params["conv1_weights"], jax.random.normal(k1, [5, 5, 32, 32]))
    np.testing.assert_array_equal(params["conv1_biases"], np.zeros(32))
    assert run.out.shape == (1, 8, 8, 32)
    np.testing.assert_allclose(jit_apply(run, images(), key)[0], run.out, rtol=1e-5, atol=1e-5)


def test_seed000_problem_calling_tf_variable_filter_twice_makes_eight_variables():
    key = jax.random.key(7)

    def two_calls(image1, image2):
        # First call creates one set of 4 variables.
        result1 = my_image_filter_with_variables(image1, key)
        # Another set of 4 variables is created in the second call.
        result2 = my_image_filter_with_variables(image2, key)
        return result1, result2

    image = images()
    run = run_both(two_calls, image, image)
    names = {"conv1_weights", "conv1_biases", "conv2_weights", "conv2_biases"}
    assert set(run.variables["params"]) == names | {n + "_1" for n in names}
    # The second call uses its own variables: zeroing them changes only result2.
    params = dict(run.variables["params"])
    for name in names:
        params[name + "_1"] = jnp.zeros_like(params[name + "_1"])
    (result1, result2), _ = run.model.apply({"params": params, "state": {}}, image, image)
    np.testing.assert_array_equal(result1, run.out[0])
    assert float(jnp.abs(run.out[1]).max()) > 0
    np.testing.assert_array_equal(result2, np.zeros_like(result2))


def test_seed000_problem_variables_dict_shares_by_passing_variables():
    key = jax.random.key(3)

    def my_image_filter(input_images, variables_dict):
        conv1 = conv2d(input_images, variables_dict["conv1_weights"])
        relu1 = jax.nn.relu(conv1 + variables_dict["conv1_biases"])
        conv2 = conv2d(relu1, variables_dict["conv2_weights"])
        return jax.nn.relu(conv2 + variables_dict["conv2_biases"])

    def model(image1, image2):
        k1, k2 = jax.random.split(key)
        variables_dict = {
            "conv1_weights": js.Variable(jax.random.normal(k1, [5, 5, 32, 32]),
                                         name="conv1_weights"),
            "conv1_biases": js.Variable(jnp.zeros([32]), name="conv1_biases"),
            "conv2_weights": js.Variable(jax.random.normal(k2, [5, 5, 32, 32]),
                                         name="conv2_weights"),
            "conv2_biases": js.Variable(jnp.zeros([32]), name="conv2_biases"),
        }
        # Both calls to my_image_filter() now use the same variables
        result1 = my_image_filter(image1, variables_dict)
        result2 = my_image_filter(image2, variables_dict)
        return result1, result2

    image = images()
    run = run_both(model, image, image)
    assert len(run.variables["params"]) == 4
    np.testing.assert_array_equal(run.out[0], run.out[1])
    jit1, jit2 = jit_apply(run, image, image)[0]
    np.testing.assert_allclose(jit1, run.out[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(jit1, jit2)


# -- Variable Scope Example -------------------------------------------------------------------
def conv_relu(inputs, kernel_shape, bias_shape):
    # Create variable named "weights".
    weights = js.get_variable("weights", kernel_shape, initializer=js.random_normal_initializer())
    # Create variable named "biases".
    biases = js.get_variable("biases", bias_shape, initializer=js.constant_initializer(0.0))
    conv = conv2d(inputs, weights)
    return jax.nn.relu(conv + biases)


def my_image_filter(input_images):
    with js.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with js.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


def test_seed000_variable_scope_example_names_conv1_and_conv2_variables():
    run = run_both(my_image_filter, images())
    params = run.variables["params"]
    assert list(params) == ["conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases"]
    assert params["conv1/weights"].shape == (5, 5, 32, 32)
    assert params["conv2/biases"].shape == (32,)
    np.testing.assert_array_equal(params["conv1/biases"], np.zeros(32))
    # Distinct variables: the two kernels differ.
    assert not np.array_equal(params["conv1/weights"], params["conv2/weights"])
    np.testing.assert_allclose(jit_apply(run, images())[0], run.out, rtol=1e-5, atol=1e-5)
    # variable_scope opens a name scope: the convolutions are named after their scopes.
    names = op_names(run, images())
    assert any(n.startswith("conv1/conv_general_dilated") for n in names), names
    assert any(n.startswith("conv2/conv_general_dilated") for n in names), names


def test_seed000_calling_my_image_filter_twice_raises_conv1_weights_already_exists():
    def twice(image1, image2):
        result1 = my_image_filter(image1)
        result2 = my_image_filter(image2)  # Raises ValueError(... conv1/weights already exists ...)
        return result1, result2

    variables = js.transform(my_image_filter).init(jax.random.key(0), images())
    error = assert_raises_in_both(
        twice, variables, EXISTS.format("conv1/weights"), images(0), images(1)
    )
    message = str(error)
    assert "Originally defined at" in message
    # The creation site is the user's code (this file, conv_relu), not jaxscope's internals.
    assert f'File "{os.path.abspath(__file__)}"' in message
    assert "in conv_relu" in message


def test_seed000_image_filters_scope_reuse_variables_shares_the_filter():
    def model(image1, image2):
        with js.variable_scope("image_filters") as scope:
            result1 = my_image_filter(image1)
            scope.reuse_variables()
            result2 = my_image_filter(image2)
        return result1, result2

    image1, image2 = images(0), images(1)
    run = run_both(model, image1, image2)
    assert sorted(run.variables["params"]) == [
        "image_filters/conv1/biases", "image_filters/conv1/weights",
        "image_filters/conv2/biases", "image_filters/conv2/weights",
    ]
    # Same parameters for both images: the same image gives the same result.
    same, _ = run.model.apply(run.variables, image1, image1)
    np.testing.assert_array_equal(same[0], same[1])
    np.testing.assert_array_equal(same[0], run.out[0])
    jit1, jit2 = jit_apply(run, image1, image2)[0]
    np.testing.assert_allclose(jit1, run.out[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jit2, run.out[1], rtol=1e-5, atol=1e-5)
    # Ops of the second call live in fresh name scopes (conv1_1), its variables in conv1.
    names = op_names(run, image1, image2)
    for scope in ("conv1", "conv2", "conv1_1", "conv2_1"):
        assert f"image_filters/{scope}/conv_general_dilated" in names, names


# -- Understanding tf.get_variable() ------------------------------------------------------------
def test_seed000_get_variable_call_form_name_shape_dtype_initializer():
    # v = tf.get_variable(name, shape, dtype, initializer)
    def fn():
        return js.get_variable("v", [2, 3], jnp.float32, js.constant_initializer(1.5))

    run = run_both(fn)
    assert run.out.dtype == jnp.float32
    np.testing.assert_array_equal(run.variables["params"]["v"], np.full((2, 3), 1.5))
    np.testing.assert_array_equal(jit_apply(run)[0], np.full((2, 3), 1.5))


def test_seed000_case1_get_variable_creates_foo_v():
    def fn():
        assert js.get_variable_scope().reuse is False
        with js.variable_scope("foo"):
            assert js.get_variable_scope().reuse is False
            v = js.get_variable("v", [1])
        return v

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/v"]
    assert run.variables["params"]["foo/v"].shape == (1,)
    assert run.init_out is run.variables["params"]["foo/v"]
    np.testing.assert_array_equal(jit_apply(run)[0], run.out)


def test_seed000_case2_reuse_true_returns_the_existing_variable():
    def fn():
        with js.variable_scope("foo"):
            v = js.get_variable("v", [1])
        with js.variable_scope("foo", reuse=True):
            assert js.get_variable_scope().reuse is True
            v1 = js.get_variable("v", [1])
        return v, v1

    assert_one_shared_variable(fn, "foo/v")


def test_seed000_case2_reuse_true_missing_variable_raises():
    def fn():
        with js.variable_scope("foo", reuse=True):
            return js.get_variable("v", [1])

    assert_raises_in_both(fn, {"params": {"foo/v": jnp.zeros(1)}, "state": {}},
                          MISSING.format("foo/v"))


# -- Basics of tf.variable_scope() ------------------------------------------------------------
def test_seed000_nested_scopes_name_foo_bar_v():
    def fn():
        with js.variable_scope("foo"):
            with js.variable_scope("bar"):
                v = js.get_variable("v", [1])
                assert js.get_variable_scope().name == "foo/bar"
        return v

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/bar/v"]
    assert run.out is run.variables["params"]["foo/bar/v"]  # apply reads the given array


def test_seed000_get_variable_scope_reuse_variables_shares_v():
    def fn():
        with js.variable_scope("foo"):
            v = js.get_variable("v", [1])
            js.get_variable_scope().reuse_variables()
            v1 = js.get_variable("v", [1])
        return v, v1

    assert_one_shared_variable(fn, "foo/v")


def test_seed000_reuse_flag_is_inherited_and_cannot_be_undone_by_exiting():
    def fn():
        flags = {}
        with js.variable_scope("root"):
            # At start, the scope is not reusing.
            flags["root"] = js.get_variable_scope().reuse
            with js.variable_scope("foo"):
                # Opened a sub-scope, still not reusing.
                flags["root/foo"] = js.get_variable_scope().reuse
            with js.variable_scope("foo", reuse=True):
                # Explicitly opened a reusing scope.
                flags["root/foo reuse=True"] = js.get_variable_scope().reuse
                with js.variable_scope("bar"):
                    # Now sub-scope inherits the reuse flag.
                    flags["root/foo/bar"] = js.get_variable_scope().reuse
            # Exited the reusing scope, back to a non-reusing one.
            flags["root again"] = js.get_variable_scope().reuse
        flags["top"] = js.get_variable_scope().reuse
        return flags

    run = run_both(fn)
    expected = {"root": False, "root/foo": False, "root/foo reuse=True": True,
                "root/foo/bar": True, "root again": False, "top": False}
    for flags in (run.init_out, run.out):
        assert flags == expected
        # `== False` in the seed: TF's root reuse is False (not None) and is inherited as such.
        assert all(type(f) is bool for f in flags.values()), flags


def test_seed000_reuse_false_inside_reusing_scope_stays_reusing():
    # "Note that you cannot set the reuse flag to False."
    def fn():
        with js.variable_scope("foo"):
            v = js.get_variable("v", [1])
        with js.variable_scope("foo", reuse=True):
            with js.variable_scope("bar", reuse=False):
                inner = js.get_variable_scope().reuse
        with js.variable_scope("foo", reuse=True):
            with js.variable_scope("", reuse=False):
                pass
            again = js.get_variable("v", [1])
        return inner, v, again

    run = run_both(fn)
    for inner, v, again in (run.init_out, run.out):
        assert inner is True
        assert again is v


# -- Capturing variable scope ----------------------------------------------------------------
def test_seed000_capturing_scope_object_shares_v_and_w():
    def fn():
        with js.variable_scope("foo") as foo_scope:
            v = js.get_variable("v", [1])
        with js.variable_scope(foo_scope):
            w = js.get_variable("w", [1])
        with js.variable_scope(foo_scope, reuse=True):
            v1 = js.get_variable("v", [1])
            w1 = js.get_variable("w", [1])
        return v, w, v1, w1

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/v", "foo/w"]
    for v, w, v1, w1 in (run.init_out, run.out):
        assert v1 is v
        assert w1 is w
        assert v is not w


def test_seed000_capturing_scope_jumps_out_of_current_prefix():
    def fn():
        names = {}
        with js.variable_scope("foo") as foo_scope:
            names["foo_scope"] = foo_scope.name
        with js.variable_scope("bar"):
            with js.variable_scope("baz") as other_scope:
                names["other_scope"] = other_scope.name
            with js.variable_scope(foo_scope) as foo_scope2:
                names["foo_scope2"] = foo_scope2.name  # Not changed.
                js.get_variable("x", [1])
        return names

    run = run_both(fn)
    for names in (run.init_out, run.out):
        assert names == {"foo_scope": "foo", "other_scope": "bar/baz", "foo_scope2": "foo"}
    # The variable made after the jump lives under foo/, not bar/foo/.
    assert list(run.variables["params"]) == ["foo/x"]


def test_seed000_capturing_scope_is_independent_of_where_it_is_opened():
    # The captured scope brings its own initializer and reuse flag; the enclosing scope's
    # are ignored (TF1: "fully independent of where we do it").
    def fn():
        with js.variable_scope("foo", initializer=js.constant_initializer(0.4)) as foo_scope:
            pass
        with js.variable_scope("bar", initializer=js.constant_initializer(0.9), reuse=True):
            with js.variable_scope(foo_scope) as jumped:
                return jumped.reuse, js.get_variable("x", [1])

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/x"]
    np.testing.assert_allclose(run.variables["params"]["foo/x"], [0.4], rtol=1e-6)
    for reuse, _ in (run.init_out, run.out):
        assert reuse is False


def test_seed000_captured_scope_keeps_ops_in_current_name_scope():
    # "When opening a variable scope using a captured object instead of a string, we do not
    # alter the current name scope for ops": the ops stay under the current name scope
    # ("bar/"); as TF1 (compat.v1), a sub name scope named after the captured scope's last
    # component is opened there, so the op is "bar/foo/add", never "foo/add".
    def fn(x):
        with js.variable_scope("foo") as foo_scope:
            pass
        with js.variable_scope("bar"):
            with js.variable_scope(foo_scope):
                v = js.get_variable("v", [1])
                assert js.current_name_scope() == "bar/foo"
                return x + v

    x = jnp.ones(1)
    run = run_both(fn, x)
    assert list(run.variables["params"]) == ["foo/v"]
    names = op_names(run, x)
    assert "bar/foo/add" in names, names
    assert "foo/add" not in names, names


# -- Initializers in variable scope ------------------------------------------------------------
def test_seed000_scope_initializer_default_override_inherit_change():
    def fn():
        with js.variable_scope("foo", initializer=js.constant_initializer(0.4)):
            v = js.get_variable("v", [1])
            w = js.get_variable("w", [1], initializer=js.constant_initializer(0.3))
            with js.variable_scope("bar"):
                v_bar = js.get_variable("v", [1])
            with js.variable_scope("baz", initializer=js.constant_initializer(0.2)):
                v_baz = js.get_variable("v", [1])
        return v, w, v_bar, v_baz

    run = run_both(fn)
    params = run.variables["params"]
    expected = {"foo/v": 0.4, "foo/w": 0.3, "foo/bar/v": 0.4, "foo/baz/v": 0.2}
    assert list(params) == list(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(params[name], [value], rtol=1e-6)  # v.eval() == 0.4 ...
    for out in (run.init_out, run.out, jit_apply(run)[0]):
        np.testing.assert_allclose(np.concatenate(out), [0.4, 0.3, 0.4, 0.2], rtol=1e-6)


# -- Names of ops in tf.variable_scope() ---------------------------------------------------------
def test_seed000_variable_scope_names_ops_foo_add():
    def fn():
        with js.variable_scope("foo"):
            assert js.current_name_scope() == "foo"
            x = 1.0 + js.get_variable("v", [1])
        assert js.current_name_scope() == ""
        return x

    run = run_both(fn)
    assert "foo/add" in op_names(run), op_names(run)
    np.testing.assert_allclose(run.out, 1.0 + run.variables["params"]["foo/v"])


def test_seed000_name_scope_names_ops_not_variables():
    def fn():
        with js.variable_scope("foo"):
            with js.name_scope("bar"):
                v = js.get_variable("v", [1])
                assert js.current_name_scope() == "foo/bar"
                x = 1.0 + v
        return x

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/v"]  # v.name == "foo/v:0"
    names = op_names(run)
    assert "foo/bar/add" in names, names  # x.op.name == "foo/bar/add"
    assert "foo/add" not in names, names
