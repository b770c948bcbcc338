"""Seed 003, the three reuse modes (None, True, AUTO_REUSE) and their exact errors.

Each snippet runs under `js.transform` both as `init` and as `apply`; the errors are TF's
texts, first sentence verbatim.
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
    run_both,
)

import jaxscope as js

# The errors of this seed are all about one variable.
W_EXISTS = EXISTS.format("layer1/w")
W_MISSING = MISSING.format("layer1/w")


def random_normal(shape, seed=0):
    # tf.random_normal(shape=shape, mean=0, stddev=1)
    return jax.random.normal(jax.random.key(seed), shape)


# -- Create two variables in tf.variable_scope() --------------------------------------------
def test_seed003_variable_and_get_variable_of_one_name_are_w_and_w_1():
    def fn():
        with js.variable_scope("layer1", reuse=js.AUTO_REUSE):
            w1 = js.Variable(random_normal([2, 2], seed=1), name="w")
            w2 = js.get_variable(name="w", initializer=random_normal([3, 3], seed=2))
        return w1, w2

    run = run_both(fn)
    params = run.variables["params"]
    # w1.name == "layer1/w:0", w2.name == "layer1/w_1:0" (API.md decision 4)
    assert list(params) == ["layer1/w", "layer1/w_1"]
    assert params["layer1/w"].shape == (2, 2)
    assert params["layer1/w_1"].shape == (3, 3)
    np.testing.assert_array_equal(params["layer1/w"], random_normal([2, 2], seed=1))
    np.testing.assert_array_equal(params["layer1/w_1"], random_normal([3, 3], seed=2))
    for w1, w2 in (run.init_out, run.out):
        assert w1 is not w2  # w1 != w2
        assert w1.shape == (2, 2)
        assert w2.shape == (3, 3)
    w1, w2 = jit_apply(run)[0]
    np.testing.assert_array_equal(w1, params["layer1/w"])
    np.testing.assert_array_equal(w2, params["layer1/w_1"])


def test_seed003_auto_reuse_then_returns_w_1_and_a_new_variable_is_w_2():
    def fn():
        with js.variable_scope("layer1", reuse=js.AUTO_REUSE):
            w1 = js.Variable(random_normal([2, 2], seed=1), name="w")
            w2 = js.get_variable(name="w", initializer=random_normal([3, 3], seed=2))
            # AUTO_REUSE returns the get_variable one from now on ...
            w3 = js.get_variable(name="w", initializer=random_normal([3, 3], seed=3))
            # ... and a Variable is always new, uniquely named after both.
            w4 = js.Variable(random_normal([2, 2], seed=4), name="w")
        return w1, w2, w3, w4

    run = run_both(fn)
    assert list(run.variables["params"]) == ["layer1/w", "layer1/w_1", "layer1/w_2"]
    np.testing.assert_array_equal(run.variables["params"]["layer1/w_2"],
                                  random_normal([2, 2], seed=4))
    for w1, w2, w3, w4 in (run.init_out, run.out):
        assert w3 is w2
        assert w4 is not w1


# -- When reuse = None ---------------------------------------------------------------------
def test_seed003_reuse_none_creating_twice_raises_already_exists():
    def fn():
        with js.variable_scope("layer1", reuse=None):
            w1 = js.get_variable(name="w", initializer=random_normal([3, 3]))
            w2 = js.get_variable(name="w", initializer=random_normal([3, 3]))
        return w1, w2

    variables = {"params": {"layer1/w": random_normal([3, 3])}, "state": {}}
    error = assert_raises_in_both(fn, variables, W_EXISTS)
    message = str(error)
    assert message.startswith(W_EXISTS + " Originally defined at:")
    # The creation site is this file, in fn (the first get_variable call's line).
    assert f'File "{os.path.abspath(__file__)}"' in message
    assert "in fn" in message
    lines = [line for line in message.splitlines() if os.path.abspath(__file__) in line]
    first_call = fn.__code__.co_firstlineno + 2
    assert f"line {first_call}," in lines[0]
    assert isinstance(error, js.VariableExistsError)


def test_seed003_reuse_none_inherits_auto_reuse_from_the_parent():
    def fn():
        with js.variable_scope("layer1", reuse=js.AUTO_REUSE):
            with js.variable_scope("layer_sub_1", reuse=None):
                reuse = js.get_variable_scope().reuse
                w1 = js.get_variable(name="w", initializer=random_normal([3, 3]))
                w2 = js.get_variable(name="w", initializer=random_normal([3, 3], seed=9))
        return reuse, w1, w2

    run = run_both(fn)
    assert list(run.variables["params"]) == ["layer1/layer_sub_1/w"]
    np.testing.assert_array_equal(run.variables["params"]["layer1/layer_sub_1/w"],
                                  random_normal([3, 3]))  # the first initializer won
    for reuse, w1, w2 in (run.init_out, run.out):
        assert reuse is js.AUTO_REUSE
        assert w1 is w2  # w1 = w2: yes


# -- When reuse = True ---------------------------------------------------------------------
def test_seed003_reuse_true_getting_a_missing_variable_raises_does_not_exist():
    def fn():
        with js.variable_scope("layer1", reuse=True):
            w1 = js.get_variable(name="w", initializer=random_normal([3, 3]))
            w2 = js.get_variable(name="w", initializer=random_normal([3, 3]))
        return w1, w2

    # apply fails the same way, even when given a value under that name.
    variables = {"params": {"layer1/w": random_normal([3, 3])}, "state": {}}
    error = assert_raises_in_both(fn, variables, W_MISSING)
    assert isinstance(error, js.VariableMissingError)


def test_seed003_reuse_true_after_creating_returns_the_same_variable():
    def fn():
        with js.variable_scope("layer1"):
            w1 = js.get_variable(name="w", initializer=random_normal([2, 2]))
        with js.variable_scope("layer1", reuse=True):
            w2 = js.get_variable(name="w", initializer=random_normal([2, 2], seed=3))
        return w1, w2

    run = assert_one_shared_variable(fn, "layer1/w")
    np.testing.assert_array_equal(run.variables["params"]["layer1/w"], random_normal([2, 2]))


def test_seed003_reuse_true_on_a_name_only_made_by_tf_variable_raises_does_not_exist():
    # "if reuse = True, tf.get_variable() only can return an existing variable created by
    # tf.get_variable()"
    def fn():
        with js.variable_scope("layer1"):
            js.Variable(random_normal([2, 2]), name="w")
        with js.variable_scope("layer1", reuse=True):
            js.get_variable("w", [2, 2])

    assert_raises_in_both(fn, {"params": {"layer1/w": random_normal([2, 2])}, "state": {}},
                          W_MISSING)


# -- When reuse = tf.AUTO_REUSE --------------------------------------------------------------
def layer_weight():
    with js.variable_scope("weight", reuse=js.AUTO_REUSE):
        w = js.get_variable(name="w", initializer=random_normal([2, 2]))
    return w


def test_seed003_auto_reuse_creates_then_returns_the_existing_variable():
    def fn():
        w1 = layer_weight()
        w2 = layer_weight()
        return w1, w2

    run = assert_one_shared_variable(fn, "weight/w")  # w1 = w2
    # Changing the one variable changes both results.
    variables = {"params": {"weight/w": jnp.ones((2, 2))}, "state": {}}
    for (w1, w2), _ in (run.model.apply(variables), jax.jit(run.model.apply)(variables)):
        np.testing.assert_array_equal(w1, np.ones((2, 2)))
        np.testing.assert_array_equal(w2, np.ones((2, 2)))
