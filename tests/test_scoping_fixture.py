"""The scoping patterns of ``fixtures/tf_ops/variable_scoping.json``, written by real TensorFlow."""

import json
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops" / (
    "variable_scoping.json")
if not FIXTURE.exists():
    pytest.skip(f"TF fixtures not found at {FIXTURE}", allow_module_level=True)
CASES = {case["case"]: case for case in json.loads(FIXTURE.read_text())["cases"]}


def run(fn, *args):
    """init then apply; the names both traces see, and apply's output."""
    model = js.transform(fn)
    variables = model.init(jax.random.key(0), *args)
    out, aux = model.apply(variables, *args)
    names = list(variables["params"]) + list(variables["state"])
    return names, out, aux, variables


def first_sentence(raises: str) -> str:
    message = raises.split(": ", 1)[1]
    return message.split(" Originally defined at:")[0]


def test_nested_scope_and_reuse_by_path():
    case = CASES["nested_scope_and_reuse_by_path"]

    def fn():
        with js.variable_scope("foo"):
            with js.variable_scope("bar"):
                v = js.get_variable("v", [1])
        with js.variable_scope("foo/bar", reuse=True):
            return v is js.get_variable("v", [1])

    names, same, _, _ = run(fn)
    assert names == case["global_variables"]
    assert same is case["same_object"]


def test_duplicate_get_variable_raises_with_origin():
    expected = first_sentence(CASES["duplicate_get_variable_raises"]["raises"])

    def fn():
        js.get_variable("v", [1])
        js.get_variable("v", [1])

    with pytest.raises(ValueError, match=re.escape(expected) + " Originally defined at:") as err:
        js.transform(fn).init(0)
    assert __file__ in str(err.value)


def test_reuse_missing_variable_raises():
    expected = CASES["reuse_missing_variable_raises"]["raises"].split(": ", 1)[1]

    def fn():
        with js.variable_scope("bar", reuse=True):
            js.get_variable("v", [1])

    for call in (lambda m: m.init(0), lambda m: m.apply({"params": {}, "state": {}})):
        with pytest.raises(ValueError, match=re.escape(expected)):
            call(js.transform(fn))


def test_default_name_uniquify_and_name_scope():
    case = CASES["default_name_uniquify_and_name_scope"]
    op_names = []

    def fn(x):
        with js.variable_scope("s"):
            js.get_variable("w", [1])
        for _ in range(2):
            with js.variable_scope(None, default_name="blk"):
                js.get_variable("w", [1])
        with js.name_scope("ns"):
            js.get_variable("gv", [1])
            js.Variable(jnp.zeros([1]), name="plain")
        for _ in range(2):
            with js.variable_scope("vs"):
                op_names.append(js.current_name_scope() + "/op")
        return x

    names, _, _, _ = run(fn, jnp.ones(1))
    assert names == case["global_variables"]
    assert op_names[-2:] == case["op_names"]


def test_make_template():
    case = CASES["make_template"]

    def my_op(x, scalar_name):
        return x * js.get_variable(scalar_name, [], initializer=js.constant_initializer(1.0))

    def fn(x):
        a = js.make_template("scale_by_y", my_op, scalar_name="y")
        b = js.make_template("scale_by_y", my_op, scalar_name="y")
        a(x), a(x), b(x)
        inner = js.make_template("inner", lambda: js.get_variable("w", [1]),
                                 unique_name_="inner")
        with js.variable_scope("outer"):
            inner()
        return x

    names, _, _, _ = run(fn, jnp.ones(1))
    assert names == case["global_variables"]


def test_scope_regularizer_losses():
    case = CASES["scope_regularizer"]

    # The fixture's losses end in a `mul` op: scale * sum(v). w = [1, 1] under the scope's
    # 0.1 regularizer gives 0.2; b = [2, 2] with its own scale-1 regularizer gives 4.0.
    def fn():
        with js.variable_scope("reg", regularizer=lambda v: 0.1 * jnp.sum(v)):
            js.get_variable("w", [2], initializer=js.ones_initializer)
            js.get_variable("b", [2], initializer=js.constant_initializer(2.0),
                            regularizer=lambda v: 1.0 * jnp.sum(v))

    names, _, aux, _ = run(fn)
    assert names == case["global_variables"]
    assert list(aux.losses) == [n.split("/Regularizer")[0] for n in
                                case["regularization_losses_names"]]
    np.testing.assert_allclose([float(v) for v in aux.losses.values()], case["values"],
                               rtol=1e-6)
    np.testing.assert_allclose(float(aux.regularization_loss), case["total"], rtol=1e-6)


def test_scope_default_initializer_inherited():
    case = CASES["scope_default_initializer_inherited"]

    def fn():
        with js.variable_scope("init", initializer=js.constant_initializer(0.3)):
            js.get_variable("a", [2])
            with js.variable_scope("inner"):
                js.get_variable("b", [2])
            js.get_variable("c", [2], initializer=js.constant_initializer(0.7))

    names, _, _, variables = run(fn)
    assert names == case["global_variables"]
    for name, value in case["values"].items():
        np.testing.assert_allclose(variables["params"][name], value, rtol=1e-7)


def test_auto_reuse():
    case = CASES["auto_reuse"]

    def fn():
        ws = []
        for _ in range(2):
            with js.variable_scope("auto", reuse=js.AUTO_REUSE):
                ws.append(js.get_variable("w", [2]))
        return ws[0] is ws[1]

    names, same, _, _ = run(fn)
    assert names == case["global_variables"]
    assert same is case["same_object"]


def test_reuse_with_wrong_shape_raises():
    expected = CASES["reuse_with_wrong_shape_raises"]["raises"].split(": ", 1)[1]

    def fn():
        js.get_variable("shape_v", [2, 3])
        js.get_variable_scope().reuse_variables()
        js.get_variable("shape_v", [3, 2])

    with pytest.raises(ValueError, match=re.escape(expected)):
        js.transform(fn).init(0)


def test_scope_partitioner_keeps_one_logical_array():
    case = CASES["scope_partitioner"]
    # TF stores the shards p/big/part_0, part_1; jaxscope keeps one array named as TF's
    # checkpoint names it (API.md decision 8) and records the partitioning in specs.
    logical = {part.rsplit("/part_", 1)[0] for part in case["parts"]}

    def fn():
        with js.variable_scope("p", partitioner=js.fixed_size_partitioner(len(case["parts"]))):
            js.get_variable("big", [4, 3])

    names, _, _, _ = run(fn)
    assert names == sorted(logical)
    spec = js.transform(fn).specs()["p/big"]
    assert spec.partitioner is not None and spec.shape == (4, 3)


def test_duplicate_get_variable_in_apply_points_to_init():
    """apply records no creation sites (its hot path); its error says where to get them."""
    expected = first_sentence(CASES["duplicate_get_variable_raises"]["raises"])

    def fn():
        js.get_variable("v", [1])
        js.get_variable("v", [1])

    with pytest.raises(ValueError, match=re.escape(expected) + " Originally defined at:") as err:
        js.transform(fn).apply({"params": {"v": np.zeros(1, np.float32)}, "state": {}})
    assert "model.init on the same code raises this error with them" in str(err.value)
