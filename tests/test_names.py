"""Variable names as TensorFlow 2.21 accepts, refuses and spells them
(``fixtures/variable_names.json``, written by ``fixtures/make_variable_names.py``)."""

import json
from pathlib import Path

import jax.numpy as jnp
import pytest

import jaxscope as js

CASES = json.loads((Path(__file__).parent / "fixtures" / "variable_names.json").read_text())


def make(kind, name):
    if kind.endswith("in_scope"):
        with js.variable_scope("s"):
            return make(kind[: -len("_in_scope")], name)
    if kind == "Variable":
        return js.Variable(1.0, name=name)
    return js.get_variable(name, [1])


@pytest.mark.parametrize(("name", "kind", "expected"), CASES["cases"],
                         ids=[f"{kind}-{name!r}" for name, kind, _ in CASES["cases"]])
def test_variable_names_as_tensorflow(name, kind, expected):
    model = js.transform(lambda: make(kind, name))
    if expected[0] == "ok":
        variables = model.init(0)
        assert list(variables["params"]) == [expected[1]]
        model.apply(variables)
    else:
        assert expected[1] == "ValueError"
        with pytest.raises(ValueError) as raised:
            model.init(0)
        assert str(raised.value).startswith(expected[2])


@pytest.mark.parametrize("make_variable", [
    lambda: js.get_variable(3, [1]), lambda: js.Variable(1.0, name=3)], ids=["get_variable",
                                                                          "Variable"])
def test_a_name_that_is_not_a_string_is_a_clear_type_error(make_variable):
    with pytest.raises(TypeError, match="the variable's name must be a string, got int 3"):
        js.transform(make_variable).init(0)


def test_a_name_valid_in_a_scope_is_checked_again_at_the_root():
    def fn():
        with js.name_scope("ns"):
            js.Variable(jnp.ones(1), name="_ok_here")  # a nested name may start with _
        js.get_variable("_ok_here", [1])  # ... a root one may not

    with pytest.raises(ValueError, match="'_ok_here' is not a valid root scope name"):
        js.transform(fn).init(0)
