"""Seed 004, a tutorial on sharing: every code block as a jaxscope test.

`Variable` always makes a new uniquely named variable; `get_variable` creates or reuses by
scope name + name; reuse is inherited; scopes can be captured; initializers are inherited;
ops are named after the variable and name scopes they are made in.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from seedlib import (
    EXISTS,
    assert_one_shared_variable,
    assert_raises_in_both,
    jit_apply,
    op_names,
    run_both,
)

import jaxscope as js


# -- tf.Variable: every call makes new variables ---------------------------------------------
def add_function():
    x = js.Variable(3, name="x_scalar")
    y = js.Variable(2, name="y_scalar")
    with js.name_scope("add_function"):  # tf.add(x, y, name="add_function")
        addition = x + y
    return addition


def add_function_of(x, y):
    with js.name_scope("add_function"):
        return x + y


def test_seed004_add_function_with_tf_variable_creates_a_new_set_per_call():
    def fn():
        # First Call creates one set of 2 variables.
        result1 = add_function()
        # Second Call creates another set of 2 variables.
        result2 = add_function()
        return result1, result2

    run = run_both(fn)
    state = run.variables["state"]
    assert list(state) == ["x_scalar", "y_scalar", "x_scalar_1", "y_scalar_1"]
    assert all(v.dtype == jnp.int32 and v.shape == () for v in state.values())  # int32_ref
    assert run.variables["params"] == {}
    for out in (run.init_out, run.out, jit_apply(run)[0]):
        assert [int(r) for r in out] == [5, 5]
    # result1: Tensor("add_function:0"), result2: Tensor("add_function_1:0")
    names = op_names(run)
    assert {"add_function/add", "add_function_1/add"} <= names, names
    # The second set is its own: changing it changes result2 only.
    changed = {"params": {}, "state": {**state, "x_scalar_1": jnp.int32(10)}}
    result1, result2 = run.model.apply(changed)[0]
    assert (int(result1), int(result2)) == (5, 12)


def test_seed004_variables_dict_shares_one_set_and_continues_the_naming_sequence():
    def fn():
        add_function()  # x_scalar, y_scalar
        add_function()  # x_scalar_1, y_scalar_1
        # The way to share two variables declared in one place
        variables_dict = {"x_scalar": js.Variable(3, name="x_scalar"),
                          "y_scalar": js.Variable(2, name="y_scalar")}
        # First Call uses the set of 2 variables; the second call uses the same set.
        result1 = add_function_of(variables_dict["x_scalar"], variables_dict["y_scalar"])
        result2 = add_function_of(variables_dict["x_scalar"], variables_dict["y_scalar"])
        return result1, result2

    run = run_both(fn)
    assert list(run.variables["state"]) == [
        "x_scalar", "y_scalar", "x_scalar_1", "y_scalar_1", "x_scalar_2", "y_scalar_2"]
    for out in (run.init_out, run.out, jit_apply(run)[0]):
        assert [int(r) for r in out] == [5, 5]
    # Same variables, different op names: add_function_2 and add_function_3.
    names = op_names(run)
    assert {"add_function_2/add", "add_function_3/add"} <= names, names
    changed = {"params": {}, "state": {**run.variables["state"], "x_scalar_2": jnp.int32(10)}}
    assert [int(r) for r in run.model.apply(changed)[0]] == [12, 12]


# -- Understanding tf.get_variable() ------------------------------------------------------------
def test_seed004_get_variable_twice_without_reuse_raises():
    def fn():
        # First Call create a tensor named "x_scalar"
        x = js.get_variable("x_scalar", [])
        # Second call: error, because reuse is False
        y = js.get_variable("x_scalar", [])
        return x, y

    assert_raises_in_both(fn, {"params": {"x_scalar": jnp.float32(0)}, "state": {}},
                          EXISTS.format("x_scalar"))


def test_seed004_case1_root_and_scoped_names():
    def fn():
        # By default, reuse option is set to False
        assert js.get_variable_scope().reuse is False
        test = js.get_variable("test_vector", [2])
        with js.variable_scope("test"):
            v = js.get_variable("v_vector", [2])
        return test, v

    run = run_both(fn)
    # test.name == "test_vector:0"; v.name == "test/v_vector:0"
    assert list(run.variables["params"]) == ["test_vector", "test/v_vector"]
    assert run.variables["params"]["test/v_vector"].shape == (2,)


def test_seed004_case2_reuse_true_returns_var():
    def fn():
        with js.variable_scope("test"):
            var = js.get_variable("var_vector", [2])
        with js.variable_scope("test", reuse=True):
            var1 = js.get_variable("var_vector", [2])
        return var, var1

    assert_one_shared_variable(fn, "test/var_vector")


def test_seed004_nested_scope_test_simple_obj_vector():
    def fn():
        with js.variable_scope("test"):
            with js.variable_scope("simple"):
                return js.get_variable("obj_vector", [2])

    run = run_both(fn)
    assert list(run.variables["params"]) == ["test/simple/obj_vector"]


def test_seed004_get_variable_scope_reuse_variables_shares_t_vector():
    def fn():
        with js.variable_scope("test"):
            t = js.get_variable("t_vector", [2])
            js.get_variable_scope().reuse_variables()
            t1 = js.get_variable("t_vector", [2])
        return t, t1

    assert_one_shared_variable(fn, "test/t_vector")


def test_seed004_captured_scope_reuse_variables_shares_t_vector1():
    def fn():
        with js.variable_scope("test") as scope:
            t = js.get_variable("t_vector1", [2])
            scope.reuse_variables()
            t1 = js.get_variable("t_vector1", [2])
        return t, t1

    assert_one_shared_variable(fn, "test/t_vector1")


def test_seed004_add_function_with_get_variable_shares_after_root_reuse_variables():
    def add_function1():
        x = js.get_variable("x_scalar1", [2])
        y = js.get_variable("y_scalar1", [2])
        with js.name_scope("add_function1"):  # tf.add(x, y, name="add_function1")
            addition = x + y
        return addition, x, y

    def fn():
        # First Call creates one set of 2 variables.
        result1, x, y = add_function1()
        js.get_variable_scope().reuse_variables()
        # Second Call gets the same set of 2 variables from result1.
        result2, x2, y2 = add_function1()
        assert x2 is x
        assert y2 is y
        return result1, result2

    run = run_both(fn)
    assert list(run.variables["params"]) == ["x_scalar1", "y_scalar1"]
    expected = run.variables["params"]["x_scalar1"] + run.variables["params"]["y_scalar1"]
    for _ in range(3):  # for _ in range(3): sess.run(result1)
        for result1, result2 in (run.model.apply(run.variables)[0], jit_apply(run)[0]):
            np.testing.assert_array_equal(result1, expected)
            np.testing.assert_array_equal(result2, expected)
    names = op_names(run)
    assert {"add_function1/add", "add_function1_1/add"} <= names, names


# -- the additional properties of tf.get_variable() --------------------------------------------
def test_seed004_reuse_flag_is_inherited_root1_foo2_foo1_bar1():
    def fn():
        seen = []
        with js.variable_scope("root1"):
            scope = js.get_variable_scope()
            seen.append((scope.name, scope.reuse))  # At start, the scope is not reusing.
            with js.variable_scope("foo2"):
                scope = js.get_variable_scope()
                seen.append((scope.name, scope.reuse))  # Opened a sub-scope, still not reusing.
            with js.variable_scope("foo1", reuse=True):
                scope = js.get_variable_scope()
                seen.append((scope.name, scope.reuse))  # Explicitly opened a reusing scope.
                with js.variable_scope("bar1"):
                    scope = js.get_variable_scope()
                    seen.append((scope.name, scope.reuse))  # Sub-scope inherits the flag.
            scope = js.get_variable_scope()
            seen.append((scope.name, scope.reuse))  # Back to a non-reusing one.
        return seen

    run = run_both(fn)
    expected = [("root1", False), ("root1/foo2", False), ("root1/foo1", True),
                ("root1/foo1/bar1", True), ("root1", False)]
    for seen in (run.init_out, run.out):
        assert seen == expected
        assert [type(reuse) for _, reuse in seen] == [bool] * 5


def test_seed004_capturing_scope_with_a_with_block():
    def fn():
        seen = {}
        with js.variable_scope("foo") as foo_scope:
            v = js.get_variable("v", [1])
            seen["first"] = (js.get_variable_scope().name, js.get_variable_scope().reuse)
        with js.variable_scope(foo_scope):
            w = js.get_variable("w", [1])
            seen["second"] = (js.get_variable_scope().name, js.get_variable_scope().reuse)
        # you don't have to use the exact string for a variable scope.
        with js.variable_scope(foo_scope, reuse=True):
            seen["third"] = (js.get_variable_scope().name, js.get_variable_scope().reuse)
            v1 = js.get_variable("v", [1])
            w1 = js.get_variable("w", [1])
        seen["foo_scope"] = foo_scope.name
        seen["shared"] = (v1 is v, w1 is w)
        return seen

    run = run_both(fn)
    assert list(run.variables["params"]) == ["foo/v", "foo/w"]
    for seen in (run.init_out, run.out):
        assert seen == {"first": ("foo", False), "second": ("foo", False),
                        "third": ("foo", True), "foo_scope": "foo", "shared": (True, True)}


def test_seed004_captured_scope_names_jump_from_nested_scopes():
    def fn():
        names = {}
        with js.variable_scope("foo_test") as foo_scope:
            names["first"] = js.get_variable_scope().name
        with js.variable_scope("bar_test"):
            names["bar_test"] = js.get_variable_scope().name
            with js.variable_scope("baz_test") as other_scope:
                names["other_scope"] = other_scope.name
                with js.variable_scope(foo_scope) as foo_scope2:
                    names["foo_scope2"] = foo_scope2.name  # Not changed.
                    names["current"] = js.get_variable_scope().name
                    js.get_variable("moved", [1])
        names["foo_scope"] = foo_scope.name
        return names

    run = run_both(fn)
    for names in (run.init_out, run.out):
        assert names == {"first": "foo_test", "bar_test": "bar_test",
                         "other_scope": "bar_test/baz_test", "foo_scope2": "foo_test",
                         "current": "foo_test", "foo_scope": "foo_test"}
    assert list(run.variables["params"]) == ["foo_test/moved"]


def test_seed004_inheriting_initializer_values():
    def fn():
        with js.variable_scope("initiializer", initializer=js.constant_initializer(0.4)):
            v = js.get_variable("v", [1])
            w = js.get_variable("w", [1], initializer=js.constant_initializer(0.3))
            with js.variable_scope("initiializer_inherited"):
                v1 = js.get_variable("v", [1])
            with js.variable_scope("solely_initiializer",
                                   initializer=js.constant_initializer(0.2)):
                v2 = js.get_variable("v", [1])
        return v, w, v1, v2

    run = run_both(fn)
    expected = {
        "initiializer/v": 0.4,
        "initiializer/w": 0.3,
        "initiializer/initiializer_inherited/v": 0.4,
        "initiializer/solely_initiializer/v": 0.2,
    }
    assert list(run.variables["params"]) == list(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(run.variables["params"][name], [value], rtol=1e-6)
    # v_(0.4), w_(0.3), v1_(0.4), v2_(0.2)
    for out in (run.init_out, run.out, jit_apply(run)[0]):
        np.testing.assert_allclose(np.concatenate(out), [0.4, 0.3, 0.4, 0.2], rtol=1e-6)


def test_seed004_variable_scope_names_ops_variable_name_add():
    def fn():
        with js.variable_scope("variable_name"):
            x = 1.0 + js.get_variable("v", [1])
            name_scope = js.current_name_scope()
        assert name_scope == "variable_name"
        return x

    run = run_both(fn)
    assert list(run.variables["params"]) == ["variable_name/v"]
    assert "variable_name/add" in op_names(run)  # x.op.name == "variable_name/add"


def test_seed004_name_scope_only_influences_op_names():
    def fn():
        with js.variable_scope("op_name"):
            with js.name_scope("name_scope"):  # it only influences the name of ops
                v = js.get_variable("v", [1])
                x = 1.0 + v
                assert js.current_name_scope() == "op_name/name_scope"
        return x

    run = run_both(fn)
    assert list(run.variables["params"]) == ["op_name/v"]  # v.name == "op_name/v:0"
    names = op_names(run)
    assert "op_name/name_scope/add" in names, names  # x.op.name == "op_name/name_scope/add"
    assert "op_name/add" not in names, names
