"""Scope behaviour is the same with JAX's 64-bit types on and off (API decisions 2, 14, 16).

TF makes Python ints int32 and Python floats float32 whatever the platform; NumPy (and so
JAX with ``jax_enable_x64``) would make them 64-bit. jaxscope keeps TF's rule in both
modes; a 64-bit variable needs an explicit dtype or a 64-bit NumPy value.
"""

import re

import jax
import numpy as np
import pytest

import jaxscope as js

MODES = pytest.mark.parametrize("x64", [False, True], ids=["x64-off", "x64-on"])


def dtypes_of(fn, x64):
    """``{name: dtype name}`` of what init makes; apply must accept it back."""
    with jax.enable_x64(x64):
        model = js.transform(fn)
        variables = model.init(0)
        model.apply(variables)
        return {name: value.dtype.name for part in variables.values()
                for name, value in part.items()}


@MODES
def test_python_values_make_tf_dtypes(x64):
    def fn():
        js.Variable(1.0, name="variable_float")
        js.Variable(3, name="variable_int")
        js.get_variable("float_value", initializer=2.5)
        js.get_variable("int_list_given_int32", initializer=[1, 2], dtype="int32")
        js.Variable(lambda: [1.0, 2.0], name="callable_list")
        js.get_variable("callable_ints", initializer=lambda: [1, 2])
        js.get_variable("bools", initializer=[True, False])
        js.get_variable("empty", initializer=[])

    assert dtypes_of(fn, x64) == {
        "variable_float": "float32", "variable_int": "int32", "float_value": "float32",
        "int_list_given_int32": "int32", "callable_list": "float32", "callable_ints": "int32",
        "bools": "bool", "empty": "float32"}


@MODES
def test_64_bit_needs_an_explicit_dtype_or_a_64_bit_value(x64):
    def fn():
        js.get_variable("explicit", [2], dtype="float64")
        js.get_variable("numpy_float64", initializer=np.array([1.0, 2.0]))
        js.get_variable("numpy_int64", initializer=np.array([1, 2], np.int64))

    wide = "64" if x64 else "32"  # with x64 off JAX stores 64-bit types as 32-bit
    assert dtypes_of(fn, x64) == {"explicit": f"float{wide}", "numpy_float64": f"float{wide}",
                                  "numpy_int64": f"int{wide}"}


@MODES
def test_an_int_too_big_for_int32(x64):
    def fn():
        js.get_variable("big", initializer=2**40)

    if x64:  # TF makes it int64 too
        assert dtypes_of(fn, x64) == {"big": "int64"}
    else:  # never a silent wrap (decision 14)
        with pytest.raises(OverflowError, match="1099511627776"):
            dtypes_of(fn, x64)


@MODES
def test_reuse_rules_and_errors_do_not_depend_on_the_mode(x64):
    def fn():
        with js.variable_scope("foo"):
            v = js.get_variable("v", initializer=1.0)
        with js.variable_scope("foo", reuse=True):
            assert js.get_variable("v") is v  # dtype=None accepts the stored float32
            with pytest.raises(ValueError, match=re.escape(
                    "Trying to share variable foo/v, but specified dtype float16 and found "
                    "dtype float32.")):
                js.get_variable("v", dtype="float16")
        with js.variable_scope("foo"), pytest.raises(ValueError, match=re.escape(
                "Variable foo/v already exists, disallowed.")):
            js.get_variable("v", initializer=1.0)

    assert dtypes_of(fn, x64) == {"foo/v": "float32"}
