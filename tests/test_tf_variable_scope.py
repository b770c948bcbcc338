"""TF1's ``variable_scope_test.py`` ported to jaxscope.

Source: ``tensorflow/python/kernel_tests/variables/variable_scope_test.py`` (classes
``VariableScopeTest``, ``VariableScopeWithPartitioningTest``,
``VariableScopeWithCustomGetterTest``); every test marked "yes" or "partly" in section 6.1
of ``shared/TF_SEMANTICS.md`` has a function here named after it (``testVarScopeGetVar`` ->
``test_var_scope_get_var``) whose docstring names the TF test.

Translation:
* TF's graph code is the body of a function run by `run_both`: ``init`` (create trace) and
  then ``apply`` (reuse trace). Assertions written inside that function therefore run in
  both traces, which is how "a program that runs/raises in one runs/raises in the other"
  is checked.
* ``v.name == "foo/v:0"`` becomes `has_name` (the one item of a collection whose full
  name is exactly ``foo/v`` is ``v``) and/or the keys of ``variables["params"]`` /
  ``["state"]``; ``assertIs`` is ``is`` inside the trace.
* Op names (``constant(name="c").name == "outer/c:0"``) become `op_name`, which opens a
  name scope named like the op: TF names ops and name scopes with the same graph
  counter, so the name it yields is the op's name.
* ``with ops.name_scope("scope2") as sc2: assertEqual(sc2, "outer/scope2/")`` becomes
  ``name_scope_here("scope2") == "outer/scope2/"``; `create_w` / `reuse_w` are the step
  TF's outer-scope tests repeat (get ``w``, check its name or identity, then ``scope2``).
* Partitioned variables are one logical array (API.md section 8 decision 8): shard
  names and shard shapes are not ported, the naming/reuse/error parts are.
"""

from __future__ import annotations

import inspect
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

GLOBAL = js.GraphKeys.GLOBAL_VARIABLES
TRAINABLE = js.GraphKeys.TRAINABLE_VARIABLES
LOCAL = js.GraphKeys.LOCAL_VARIABLES
REG_LOSSES = js.GraphKeys.REGULARIZATION_LOSSES


# -- helpers --------------------------------------------------------------------------------
def run_both(fn, *args):
    """Run ``fn`` as ``init`` then as ``apply``; return ``(variables, out, aux)``."""
    model = js.transform(fn)
    variables = model.init(jax.random.key(0), *args)
    out, aux = model.apply(variables, *args)
    assert set(aux.updates["params"]) <= set(variables["params"])  # apply never creates
    assert set(aux.updates["state"]) <= set(variables["state"])
    return variables, out, aux


def all_names(variables):
    return list(variables["params"]) + list(variables["state"])


def has_name(var, name, key=GLOBAL):
    """TF's ``var.name == name + ":0"`` inside a trace."""
    found = js.get_collection(key, scope=re.escape(name) + "$")
    return len(found) == 1 and found[0] is var


def same(xs, ys):
    """Two lists of arrays hold the very same objects, in order."""
    return len(xs) == len(ys) and all(x is y for x, y in zip(xs, ys))


def contains(xs, y):
    return any(x is y for x in xs)


def op_name(name):
    """The name TF gives an op ``name`` created here (``outer/c`` for ``outer/c:0``)."""
    with js.name_scope(name) as scope:
        return scope[:-1]


def name_scope_here(name):
    """The full name scope ``name_scope(name)`` opens here (``"outer_1/scope2/"``)."""
    with js.name_scope(name) as scope:
        return scope


def create_w(full_name, scope2):
    """``get_variable("w", [])`` here creates ``full_name``; ``name_scope("scope2")`` is ``scope2``.

    Returns the new variable.
    """
    w = js.get_variable("w", [])
    assert has_name(w, full_name)
    assert name_scope_here("scope2") == scope2
    return w


def reuse_w(w, scope2):
    """``get_variable("w", [])`` here returns ``w``; ``name_scope("scope2")`` is ``scope2``."""
    assert js.get_variable("w", []) is w
    assert name_scope_here("scope2") == scope2


def store_get_variable(name, shape, reuse=None):
    """TF's ``_VariableStore.get_variable(name, shape, reuse=reuse)``.

    jaxscope has no public store object; its last getter (the store) is reached through
    a custom getter that passes the store-level ``reuse`` (None = get or create).
    """

    def with_reuse(getter, name, **kwargs):
        kwargs["reuse"] = reuse
        return getter(name, **kwargs)

    return js.get_variable(name, shape, custom_getter=with_reuse)


# -- class VariableScopeTest ----------------------------------------------------------------
def test_get_var():
    """TF: VariableScopeTest.testGetVar."""

    def fn():
        v = store_get_variable("v", [1])
        v1 = store_get_variable("v", [1])
        assert v is v1

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["v"]


def test_name_exists():
    """TF: VariableScopeTest.testNameExists."""

    def fn():
        # No check by default (reuse=None): create, then get the existing one.
        v = store_get_variable("v", [1])
        v1 = store_get_variable("v", [1])
        assert v is v1
        # reuse=False fails when the variable is already there.
        store_get_variable("w", [1], reuse=False)
        with pytest.raises(ValueError, match="Variable v already exists, disallowed."):
            store_get_variable("v", [1], reuse=False)
        # reuse=True fails when the variable is new.
        assert store_get_variable("v", [1], reuse=True) is v
        with pytest.raises(ValueError, match="Variable u does not exist, or was not created"):
            store_get_variable("u", [1], reuse=True)

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["v", "w"]


def test_nameless_store():
    """TF: VariableScopeTest.testNamelessStore."""

    def fn():
        store_get_variable("v1", [2])
        store_get_variable("v2", [2])

    variables, _, _ = run_both(fn)
    assert set(all_names(variables)) == {"v1", "v2"}


def test_var_scope_initializer():
    """TF: VariableScopeTest.testVarScopeInitializer."""
    init = js.constant_initializer(0.3)

    def fn():
        with js.variable_scope("tower0") as tower:
            with js.variable_scope("foo", initializer=init):
                v = js.get_variable("v", [])
                np.testing.assert_allclose(v, 0.3)
            with js.variable_scope(tower, initializer=init):
                w = js.get_variable("w", [])
                np.testing.assert_allclose(w, 0.3)

    variables, _, aux = run_both(fn)
    for params in (variables["params"], js.merge(variables, aux.updates)["params"]):
        assert list(params) == ["tower0/foo/v", "tower0/w"]
        np.testing.assert_allclose(params["tower0/foo/v"], 0.3)
        np.testing.assert_allclose(params["tower0/w"], 0.3)


def test_var_scope_constraint():
    """TF: VariableScopeTest.testVarScopeConstraint.

    TF checks ``v.constraint``; jaxscope keeps the constraint as metadata and applies it
    on assignment, so the port observes it through `js.assign` (0.0 * x).
    """

    def constraint(x):
        return 0.0 * x

    def fn():
        with js.variable_scope("tower1") as tower:
            with js.variable_scope("foo", constraint=constraint):
                js.get_variable("v", [], initializer=js.ones_initializer())
                assert float(js.assign("v", 3.0)) == 0.0
            with js.variable_scope(tower, constraint=constraint):
                js.get_variable("w", [], initializer=js.ones_initializer())
                assert float(js.assign("w", 3.0)) == 0.0
            # Control: a variable made without the constraint keeps the assigned value.
            js.get_variable("free", [], initializer=js.ones_initializer())
            assert float(js.assign("free", 3.0)) == 3.0

    variables, _, aux = run_both(fn)
    for params in (variables["params"], js.merge(variables, aux.updates)["params"]):
        assert float(params["tower1/foo/v"]) == 0.0
        assert float(params["tower1/w"]) == 0.0
        assert float(params["tower1/free"]) == 3.0


def test_var_scope_nesting_error():
    """TF: VariableScopeTest.testVarScopeNestingError."""

    def fn():
        with js.variable_scope("aa"):
            scope = js.variable_scope("bb")
            scope.__enter__()
            with js.variable_scope("cc"):
                with pytest.raises(RuntimeError, match="Improper nesting of variable_scope"):
                    scope.__exit__(None, None, None)
            scope.__exit__(None, None, None)
            assert js.get_variable_scope().name == "aa"
        assert js.get_variable_scope().name == ""

    run_both(fn)


def test_var_scope_dtype():
    """TF: VariableScopeTest.testVarScopeDType."""

    def fn():
        with js.variable_scope("tower2") as tower:
            with js.variable_scope("foo", dtype=jnp.float16):
                v = js.get_variable("v", [])
                assert v.dtype == jnp.float16
            with js.variable_scope(tower, dtype=jnp.float16):
                w = js.get_variable("w", [])
                assert w.dtype == jnp.float16

    variables, _, _ = run_both(fn)
    assert variables["params"]["tower2/foo/v"].dtype == jnp.float16
    assert variables["params"]["tower2/w"].dtype == jnp.float16


def test_eager_variables_store_adds_to_collections():
    """TF: VariableScopeTest.testEagerVariablesStoreAddsToCollections (partly).

    The collection rule is ported (custom ``collections`` replace GLOBAL, trainable ones are
    appended to TRAINABLE); TF's ``EagerVariableStore`` has no jaxscope counterpart.
    """

    def fn():
        trainable = js.get_variable("v1", [], trainable=True)
        not_trainable = js.get_variable("v2", [], trainable=False)
        concat = js.get_variable(
            "v3", [], collections=[js.GraphKeys.CONCATENATED_VARIABLES]
        )
        assert same(js.get_collection(GLOBAL), [trainable, not_trainable])
        assert same(js.get_collection(TRAINABLE), [trainable, concat])
        assert same(js.get_collection(js.GraphKeys.CONCATENATED_VARIABLES), [concat])

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == ["v1", "v3"]
    assert list(variables["state"]) == ["v2"]


def test_init_from_non_tensor_value():
    """TF: VariableScopeTest.testInitFromNonTensorValue."""

    def fn():
        v = js.get_variable("v4", initializer=4, dtype=jnp.int32)
        assert int(v) == 4
        w = js.get_variable("w4", initializer=np.array([1, 2, 3]), dtype=jnp.int64)
        np.testing.assert_array_equal(w, [1, 2, 3])
        # TF graph mode raises TypeError for a dict initializer.
        with pytest.raises(TypeError):
            js.get_variable("x4", initializer={})

    variables, _, aux = run_both(fn)
    for state in (variables["state"], js.merge(variables, aux.updates)["state"]):
        assert int(state["v4"]) == 4
        np.testing.assert_array_equal(state["w4"], [1, 2, 3])
    assert "x4" not in all_names(variables)


def test_init_from_non_initializer():
    """TF: VariableScopeTest.testInitFromNonInitializer."""
    types = [jnp.int8, jnp.uint8, jnp.int16, jnp.uint16, jnp.int32, jnp.int64, jnp.bool_]

    def fn():
        for i, dtype in enumerate(types):
            x = js.get_variable(name=f"xx{i}", shape=(3, 4), dtype=dtype)
            y = js.get_variable(
                name=f"yy{i}", shape=(3, 4), dtype=dtype,
                initializer=js.zeros_initializer(dtype=dtype),
            )
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)

    variables, _, _ = run_both(fn)
    for i in range(len(types)):
        np.testing.assert_array_equal(variables["state"][f"xx{i}"], np.zeros((3, 4)))
    assert variables["state"]["xx6"].dtype == np.bool_


def test_var_scope_regularizer():
    """TF: VariableScopeTest.testVarScopeRegularizer."""
    init = js.constant_initializer(0.3)

    def regularizer1(v):
        return jnp.mean(v) + 0.1

    def regularizer2(v):
        return jnp.mean(v) + 0.2

    def fn():
        with js.variable_scope("tower3", regularizer=regularizer1) as tower:
            with js.variable_scope("foo", initializer=init):
                js.get_variable("v", [])
                losses = js.get_collection(REG_LOSSES)
                assert len(losses) == 1
                np.testing.assert_allclose(losses[0], 0.4, rtol=1e-6)
            with js.variable_scope(tower, initializer=init) as vs:
                js.get_variable("u", [])
                vs.set_regularizer(regularizer2)
                js.get_variable("w", [])
                # The next 3 variables are not regularized: disabling regularization.
                js.get_variable("x", [], regularizer=js.no_regularizer)
                with js.variable_scope("baz", regularizer=js.no_regularizer):
                    js.get_variable("y", [])
                vs.set_regularizer(js.no_regularizer)
                js.get_variable("z", [])
                losses = js.get_collection(REG_LOSSES)
                assert len(losses) == 3
                np.testing.assert_allclose(losses[0], 0.4, rtol=1e-6)
                np.testing.assert_allclose(losses[1], 0.4, rtol=1e-6)
                np.testing.assert_allclose(losses[2], 0.5, rtol=1e-6)
            with js.variable_scope("foo", reuse=True):
                js.get_variable("v", [])  # already there, reused
                assert len(js.get_collection(REG_LOSSES)) == 3  # no new loss

    variables, _, aux = run_both(fn)
    assert list(aux.losses) == ["tower3/foo/v", "tower3/u", "tower3/w"]
    np.testing.assert_allclose(
        [aux.losses[k] for k in aux.losses], [0.4, 0.4, 0.5], rtol=1e-6
    )
    assert list(variables["params"]) == [
        "tower3/foo/v", "tower3/u", "tower3/w", "tower3/x", "tower3/baz/y", "tower3/z",
    ]


def test_initialize_from_value():
    """TF: VariableScopeTest.testInitializeFromValue.

    Added (API.md decision 3, deliberately unlike TF): re-fetching the int32 variable
    ``t`` with ``dtype=None`` returns it, where TF would compare with float32 and raise;
    an explicit different dtype still raises.
    """

    def fn():
        init = jnp.asarray(0.1, dtype=jnp.float32)
        w = js.get_variable("v", initializer=init)
        np.testing.assert_allclose(w, 0.1)
        with pytest.raises(ValueError, match="shape"):
            # An explicit shape is disallowed when the initializer is a constant.
            js.get_variable("u", [1], initializer=init)
        with js.variable_scope("foo", initializer=init):
            # A constant initializer can be passed through scopes.
            v = js.get_variable("v")
            np.testing.assert_allclose(v, 0.1)
        # A non-float32 initializer makes a non-float32 variable.
        init = jnp.asarray(1, dtype=jnp.int32)
        t = js.get_variable("t", initializer=init)
        assert t.dtype == jnp.int32
        # initializer dtype and explicit dtype must be identical.
        with pytest.raises(ValueError, match="don't match"):
            js.get_variable("s", initializer=init, dtype=jnp.float64)
        # jaxscope decision 3: dtype=None on reuse accepts the stored dtype.
        js.get_variable_scope().reuse_variables()
        assert js.get_variable("t") is t
        with pytest.raises(
            ValueError,
            match=r"Trying to share variable t, but specified dtype float32 and found dtype "
            r"int32\.",
        ):
            js.get_variable("t", dtype=jnp.float32)

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == ["v", "foo/v"]
    assert list(variables["state"]) == ["t"]
    assert variables["state"]["t"].dtype == jnp.int32


def test_get_variable_scope():
    """TF: VariableScopeTest.testGetVariableScope."""
    init = js.constant_initializer(0.3)

    def fn():
        with js.variable_scope("bar"):
            assert js.get_variable_scope().initializer is None
            js.get_variable_scope().set_initializer(init)
            v = js.get_variable("v", [])
            np.testing.assert_allclose(v, 0.3)
            js.get_variable_scope().reuse_variables()
            with pytest.raises(ValueError, match="Variable bar/w does not exist"):
                js.get_variable("w", [1])  # w does not exist yet
        # The initializer set on "bar" goes away with it.
        assert js.get_variable_scope().initializer is None

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["bar/v"]
    np.testing.assert_allclose(variables["params"]["bar/v"], 0.3)


def test_var_scope():
    """TF: VariableScopeTest.testVarScope (partly in the JAX column: names only; all ported)."""

    def fn():
        with js.variable_scope("tower4") as tower:
            assert tower.name == "tower4"
            assert name_scope_here("scope") == "tower4/scope/"
        with js.variable_scope("tower5"):
            with js.variable_scope("bar") as bar:
                assert bar.name == "tower5/bar"
                assert name_scope_here("scope") == "tower5/bar/scope/"
        with js.variable_scope("tower6"):
            with js.variable_scope(tower, reuse=True) as tower_shared:
                assert tower_shared.name == "tower4"
                assert name_scope_here("scope") == "tower6/tower4/scope/"

    run_both(fn)


def test_var_scope_name_scope():
    """TF: VariableScopeTest.testVarScopeNameScope (names only; all ported)."""

    def fn():
        with js.name_scope("testVarScopeNameScope1"):
            with js.variable_scope("tower") as tower:
                assert name_scope_here("scope2") == "testVarScopeNameScope1/tower/scope2/"
            with js.variable_scope(tower):  # re-entering acts like another "tower"
                assert name_scope_here("scope2") == "testVarScopeNameScope1/tower_1/scope2/"
            with js.variable_scope("tower"):  # re-entering by string acts the same
                assert name_scope_here("scope2") == "testVarScopeNameScope1/tower_2/scope2/"
        with js.name_scope("testVarScopeNameScope2"):
            with js.variable_scope("tower"):
                assert name_scope_here("scope2") == "testVarScopeNameScope2/tower/scope2/"
            with js.variable_scope(tower):
                assert name_scope_here("scope2") == "testVarScopeNameScope2/tower_1/scope2/"
        root_var_scope = js.get_variable_scope()
        with js.name_scope("testVarScopeNameScope3"):
            with js.variable_scope(root_var_scope):
                assert name_scope_here("scope2") == "testVarScopeNameScope3/scope2/"

    run_both(fn)


def test_var_scope_original_name_scope():
    """TF: VariableScopeTest.testVarScopeOriginalNameScope (names only; all ported)."""

    def fn():
        with js.name_scope("scope1"):
            with js.variable_scope("tower") as tower:
                assert tower.original_name_scope == "scope1/tower/"
                assert name_scope_here("scope2") == "scope1/tower/scope2/"
        with js.name_scope("scope2"):
            with js.variable_scope(tower) as tower1:
                # Re-entering preserves the original name scope.
                assert tower1.original_name_scope == "scope1/tower/"
                assert name_scope_here("foo") == "scope2/tower/foo/"
            # Re-entering the original name scope.
            with js.name_scope(tower.original_name_scope):
                assert name_scope_here("bar") == "scope1/tower/bar/"
        with js.name_scope("scope2"):
            with js.variable_scope(tower):
                with js.name_scope(tower.original_name_scope):
                    assert name_scope_here("bar") == "scope1/tower/bar_1/"

    run_both(fn)


def test_var_scope_object_reuse():
    """TF: VariableScopeTest.testVarScopeObjectReuse."""

    def fn():
        with js.variable_scope("jump", reuse=True) as scope:
            vs = scope
        with js.variable_scope(vs) as jump:
            assert jump.reuse
        with js.variable_scope(vs, reuse=True) as jump_reuse:
            assert jump_reuse.reuse
        with js.variable_scope(vs, reuse=False) as jump_no_reuse:
            assert jump_no_reuse.reuse  # inherited, cannot be undone
        with js.variable_scope("jump", reuse=False) as scope:
            vs = scope
        with js.variable_scope(vs) as jump:
            assert not jump.reuse
        with js.variable_scope(vs, reuse=True) as jump_reuse:
            assert jump_reuse.reuse
        with js.variable_scope(vs, reuse=False) as jump_no_reuse:
            assert not jump_no_reuse.reuse

    run_both(fn)


def test_var_scope_get_or_create_reuse():
    """TF: VariableScopeTest.testVarScopeGetOrCreateReuse (``state_ops.assign`` -> js.assign)."""

    def fn():
        def test_value(value):
            x = jnp.asarray(value, dtype=jnp.float32)
            with js.variable_scope("testVarScopeGetOrCreateReuse_bar", reuse=js.AUTO_REUSE):
                js.get_variable("var", [])
                js.assign("var", x)
            with js.variable_scope("testVarScopeGetOrCreateReuse_bar", reuse=js.AUTO_REUSE):
                var = js.get_variable("var", [])
            assert float(var) == value

        test_value(42.0)  # the variable is created
        test_value(13.0)  # and reused hereafter
        test_value(17.0)

    variables, _, aux = run_both(fn)
    assert all_names(variables) == ["testVarScopeGetOrCreateReuse_bar/var"]
    assert float(variables["params"]["testVarScopeGetOrCreateReuse_bar/var"]) == 17.0
    assert float(aux.updates["params"]["testVarScopeGetOrCreateReuse_bar/var"]) == 17.0


def test_var_op_scope():
    """TF: VariableScopeTest.testVarOpScope."""

    def fn():
        with js.name_scope("testVarOpScope1"):
            with js.variable_scope("tower", "default", []):
                assert has_name(js.get_variable("w", []), "tower/w")
                assert name_scope_here("testVarOpScope2") == (
                    "testVarOpScope1/tower/testVarOpScope2/"
                )
            with js.variable_scope("tower", "default", []):
                with pytest.raises(ValueError, match="Variable tower/w already exists"):
                    js.get_variable("w", [])
                assert name_scope_here("testVarOpScope2") == (
                    "testVarOpScope1/tower_1/testVarOpScope2/"
                )
        with js.name_scope("testVarOpScope2"):
            with js.variable_scope(None, "default", []):
                assert has_name(js.get_variable("w", []), "default/w")
                assert name_scope_here("testVarOpScope2") == (
                    "testVarOpScope2/default/testVarOpScope2/"
                )
            with js.variable_scope(None, "default", []):
                assert has_name(js.get_variable("w", []), "default_1/w")
                assert name_scope_here("testVarOpScope2") == (
                    "testVarOpScope2/default_1/testVarOpScope2/"
                )

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["tower/w", "default/w", "default_1/w"]


def test_var_op_scope_unique_names_interleaved_substring_scopes():
    """TF: VariableScopeTest.testVarOpScopeUniqueNamesInterleavedSubstringScopes."""
    expected = [
        "defaultScope1/layer/w",
        "defaultScope1_1/layer/w",
        "defaultScope/layer/w",
        "defaultScope1_2/layer/w",
    ]

    def fn():
        for outer, name in zip(
            ["defaultScope1", "defaultScope1", "defaultScope", "defaultScope1"], expected
        ):
            with js.variable_scope(None, outer):
                with js.variable_scope(None, "layer"):
                    assert has_name(js.get_variable("w", []), name)

    variables, _, _ = run_both(fn)
    assert all_names(variables) == expected


def test_var_op_scope_unique_names_with_jump():
    """TF: VariableScopeTest.testVarOpScopeUniqueNamesWithJump."""

    def fn():
        with js.variable_scope("default") as default:
            with js.variable_scope(None, "layer"):
                assert has_name(js.get_variable("w", []), "default/layer/w")
            with js.variable_scope(None, "layer"):
                assert has_name(js.get_variable("w", []), "default/layer_1/w")
            with js.variable_scope(default):
                pass
            # No matter the jump in the middle, unique numbering continues.
            with js.variable_scope(None, "layer"):
                assert has_name(js.get_variable("w", []), "default/layer_2/w")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["default/layer/w", "default/layer_1/w", "default/layer_2/w"]


def _outer_with_tower_and_default_w():
    """The first half of TF's ``testVarOpScopeReuse`` and ``testVarOpScopeReuseParam``.

    In a new scope ``outer``, ``w`` is created in scope ``tower`` and in a scope named by
    default (``default``); returns ``outer`` and the two variables.
    """
    with js.variable_scope("outer") as outer:
        with js.variable_scope("tower", "default", []):
            tw = create_w("outer/tower/w", "outer/tower/scope2/")
        with js.variable_scope(None, "default", []):
            dw = create_w("outer/default/w", "outer/default/scope2/")
    return outer, tw, dw


def test_var_op_scope_reuse():
    """TF: VariableScopeTest.testVarOpScopeReuse."""

    def fn():
        outer, tw, dw = _outer_with_tower_and_default_w()
        with js.variable_scope(outer, reuse=True) as outer:
            with js.variable_scope("tower", "default", []):
                reuse_w(tw, "outer_1/tower/scope2/")
            with js.variable_scope(None, "default", []):
                reuse_w(dw, "outer_1/default/scope2/")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/tower/w", "outer/default/w"]


def test_var_scope_get_var():
    """TF: VariableScopeTest.testVarScopeGetVar."""

    def fn():
        with js.variable_scope("root"):
            with js.variable_scope("towerA") as tower_a:
                va = js.get_variable("v", [1])
                assert has_name(va, "root/towerA/v")
            with js.variable_scope(tower_a, reuse=True):
                assert js.get_variable("v", [1]) is va
            with js.variable_scope("towerB"):
                vb = js.get_variable("v", [1])
                assert has_name(vb, "root/towerB/v")
            with pytest.raises(ValueError, match="Variable root/towerA/v already exists"):
                with js.variable_scope("towerA"):
                    js.get_variable("v", [1])
            with js.variable_scope("towerA", reuse=True):
                assert js.get_variable("v", [1]) is va
            with js.variable_scope("foo"):
                with js.variable_scope("bar"):
                    v = js.get_variable("v", [1])
                    assert has_name(v, "root/foo/bar/v")
                    with js.variable_scope(tower_a, reuse=True):
                        assert js.get_variable("v", [1]) is va
            with pytest.raises(ValueError, match="Variable root/towerA/baz/v does not exist"):
                with js.variable_scope(tower_a, reuse=True):
                    with js.variable_scope("baz"):
                        js.get_variable("v", [1])
            with pytest.raises(ValueError, match="shape") as exc:
                with js.variable_scope(tower_a, reuse=True):
                    js.get_variable("v", [2])  # different shape
            assert str(exc.value).startswith(
                "Trying to share variable root/towerA/v, but specified shape (2,) and found "
                "shape (1,)."
            )
            with pytest.raises(ValueError, match="dtype") as exc:
                with js.variable_scope(tower_a, reuse=True):
                    js.get_variable("v", [1], dtype=jnp.int32)
            assert str(exc.value).startswith(
                "Trying to share variable root/towerA/v, but specified dtype int32 and found "
                "dtype float32."
            )

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["root/towerA/v", "root/towerB/v", "root/foo/bar/v"]


def test_var_scope_outer_scope():
    """TF: VariableScopeTest.testVarScopeOuterScope."""

    def fn():
        with js.variable_scope("outer") as outer:
            pass
        with js.variable_scope(outer):
            w = create_w("outer/w", "outer_1/scope2/")
            with js.variable_scope("default"):
                dw = create_w("outer/default/w", "outer_1/default/scope2/")
        with js.variable_scope(outer, reuse=True):
            reuse_w(w, "outer_2/scope2/")
            with js.variable_scope("default", reuse=True):
                reuse_w(dw, "outer_2/default/scope2/")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/w", "outer/default/w"]


def test_var_scope_nested_outer_scope():
    """TF: VariableScopeTest.testVarScopeNestedOuterScope."""

    def fn():
        with js.variable_scope("outer") as outer:
            with js.variable_scope(outer):
                w = create_w("outer/w", "outer/outer/scope2/")
            with js.variable_scope("default"):
                dw = create_w("outer/default/w", "outer/default/scope2/")
            with js.variable_scope(outer, reuse=True):
                reuse_w(w, "outer/outer_1/scope2/")
            with js.variable_scope("default", reuse=True):
                reuse_w(dw, "outer/default_1/scope2/")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/w", "outer/default/w"]


def test_var_op_scope_reuse_param():
    """TF: VariableScopeTest.testVarOpScopeReuseParam."""

    def fn():
        outer, tw, dw = _outer_with_tower_and_default_w()
        with js.variable_scope(outer) as outer:
            with js.variable_scope("tower", "default", reuse=True):
                reuse_w(tw, "outer_1/tower/scope2/")
            outer.reuse_variables()
            with js.variable_scope(None, "default", []):
                reuse_w(dw, "outer_1/default/scope2/")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/tower/w", "outer/default/w"]


def test_var_op_scope_reuse_error():
    """TF: VariableScopeTest.testVarOpScopeReuseError."""

    def fn():
        with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
            with js.variable_scope(None, "default", reuse=True):
                js.get_variable("w", [])
        with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
            with js.variable_scope(None, "default", reuse=js.AUTO_REUSE):
                js.get_variable("w", [])

    variables, _, _ = run_both(fn)
    assert all_names(variables) == []


def test_var_op_scope_outer_scope():
    """TF: VariableScopeTest.testVarOpScopeOuterScope."""

    def fn():
        with js.variable_scope("outer") as outer:
            pass
        with js.variable_scope(outer, "default", []):
            w = create_w("outer/w", "outer_1/scope2/")
            with js.variable_scope(None, "default", []):
                dw = create_w("outer/default/w", "outer_1/default/scope2/")
        with js.variable_scope(outer, "default", reuse=True):
            reuse_w(w, "outer_2/scope2/")
            outer.reuse_variables()
            with js.variable_scope(None, "default", []):
                reuse_w(dw, "outer_2/default/scope2/")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/w", "outer/default/w"]


def test_var_op_scope_nested_outer_scope():
    """TF: VariableScopeTest.testVarOpScopeNestedOuterScope."""

    def fn():
        with js.variable_scope("outer") as outer:
            with js.variable_scope(outer, "default", []):
                w = create_w("outer/w", "outer/outer/scope2/")
            with js.variable_scope(None, "default", []):
                dw = create_w("outer/default/w", "outer/default/scope2/")
        with js.variable_scope(outer, "default", reuse=True):
            reuse_w(w, "outer_1/scope2/")
            with js.variable_scope(None, "default", []):
                reuse_w(dw, "outer_1/default/scope2/")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/w", "outer/default/w"]


def test_basic_when_auxiliary_name_scope_is_false():
    """TF: VariableScopeTest.testBasicWhenAuxiliaryNameScopeIsFalse (op names via `op_name`)."""

    def fn():
        with js.variable_scope("scope", auxiliary_name_scope=False) as scope:
            assert scope.original_name_scope == ""
            assert has_name(js.get_variable("w", []), "scope/w")
            assert op_name("c") == "c"
        with js.variable_scope(scope, auxiliary_name_scope=False):
            assert scope.original_name_scope == ""
            assert has_name(js.get_variable("w1", []), "scope/w1")
            assert op_name("c1") == "c1"
        # Recheck: no new name scope was created before.
        with js.name_scope("scope"):
            assert op_name("c") == "scope/c"

        with js.variable_scope("outer"):
            with js.variable_scope("inner", auxiliary_name_scope=False) as inner:
                assert inner.original_name_scope == "outer/"
                assert has_name(js.get_variable("w", []), "outer/inner/w")
                assert op_name("c") == "outer/c"
            with js.variable_scope(inner, auxiliary_name_scope=False) as inner1:
                assert inner1.original_name_scope == "outer/"
                assert has_name(js.get_variable("w1", []), "outer/inner/w1")
                assert op_name("c1") == "outer/c1"
            # Recheck: no new name scope was created before.
            with js.name_scope("inner"):
                assert op_name("c") == "outer/inner/c"

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["scope/w", "scope/w1", "outer/inner/w", "outer/inner/w1"]


def test_created_by_default_name_when_auxiliary_name_scope_is_false():
    """TF: VariableScopeTest.testCreatedByDefaultNameWhenAuxiliaryNameScopeIsFalse."""

    def fn():
        with js.variable_scope(
            None, default_name="default", auxiliary_name_scope=False
        ) as scope:
            assert scope.original_name_scope == ""
            assert has_name(js.get_variable("w", []), "default/w")
            assert op_name("c") == "c"
        # Recheck: no new name scope was created before.
        with js.name_scope("default"):
            assert op_name("c") == "default/c"

        with js.variable_scope("outer"):
            with js.variable_scope(
                None, default_name="default", auxiliary_name_scope=False
            ) as inner:
                assert inner.original_name_scope == "outer/"
                assert has_name(js.get_variable("w", []), "outer/default/w")
                assert op_name("c") == "outer/c"
            # Recheck: no new name scope was created before.
            with js.name_scope("default"):
                assert op_name("c") == "outer/default/c"

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["default/w", "outer/default/w"]


def test_reenter_root_scope_when_auxiliary_name_scope_is_false():
    """TF: VariableScopeTest.testReenterRootScopeWhenAuxiliaryNameScopeIsFalse."""

    def fn():
        root_scope = js.get_variable_scope()
        with js.variable_scope(root_scope, auxiliary_name_scope=False) as scope:
            assert scope.original_name_scope == ""
            assert has_name(js.get_variable("w", []), "w")
            assert op_name("c") == "c"
        with js.variable_scope("outer"):
            with js.variable_scope(root_scope, auxiliary_name_scope=False) as inner:
                assert inner.original_name_scope == ""
                assert has_name(js.get_variable("w1", []), "w1")
                assert op_name("c1") == "outer/c1"

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["w", "w1"]


def test_auxiliary_name_scope_is_invalid():
    """TF: VariableScopeTest.testAuxiliaryNameScopeIsInvalid."""

    def fn():
        with pytest.raises(TypeError, match="auxiliary_name_scope"):
            with js.variable_scope(None, default_name="scope", auxiliary_name_scope="invalid"):
                pass
        with pytest.raises(TypeError, match="auxiliary_name_scope"):
            with js.variable_scope("scope", auxiliary_name_scope="invalid"):
                pass
        with js.variable_scope("scope") as scope:
            pass
        with pytest.raises(TypeError, match="auxiliary_name_scope"):
            with js.variable_scope(scope, auxiliary_name_scope="invalid"):
                pass
        assert js.get_variable_scope().name == ""
        assert js.current_name_scope() == ""

    run_both(fn)


def test_reuse_scope_without_name_scope_collision():
    """TF: VariableScopeTest.testReuseScopeWithoutNameScopeCollision (GitHub issue 13429)."""

    def fn():
        with js.variable_scope("outer"):
            with js.variable_scope("inner") as inner:
                pass
        with js.variable_scope(inner, auxiliary_name_scope=False) as scope:
            with js.name_scope(scope.original_name_scope):
                assert has_name(js.get_variable("w", []), "outer/inner/w")
                assert op_name("c") == "outer/inner/c"
            with js.name_scope("inner"):
                assert op_name("c") == "inner/c"
        with js.variable_scope("another"):
            with js.variable_scope(inner, auxiliary_name_scope=False) as scope1:
                with js.name_scope(scope1.original_name_scope):
                    assert has_name(js.get_variable("w1", []), "outer/inner/w1")
                    assert op_name("c1") == "outer/inner/c1"
                with js.name_scope("inner"):
                    assert op_name("c") == "another/inner/c"

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["outer/inner/w", "outer/inner/w1"]


def test_get_local_var():
    """TF: VariableScopeTest.testGetLocalVar."""

    def fn():
        with js.variable_scope("outer") as outer:
            with js.variable_scope(outer, "default", []):
                local_var = js.get_local_variable("w", [], collections=["foo"])
                assert has_name(local_var, "outer/w", key=LOCAL)
        # A local variable is in LOCAL_VARIABLES (and its own collections), not TRAINABLE.
        assert contains(js.get_collection(LOCAL), local_var)
        assert contains(js.get_collection("foo"), local_var)
        assert not contains(js.get_collection(TRAINABLE), local_var)
        # A local variable respects reuse.
        with js.variable_scope(outer, "default", reuse=True):
            assert js.get_local_variable("w", []) is local_var

    variables, _, _ = run_both(fn)
    assert variables["params"] == {}
    assert list(variables["state"]) == ["outer/w"]


def test_signature_get_var_vs_get_local_var():
    """TF: VariableScopeTest.testSignatureGetVarVsGetLocalVar."""
    arg_names = list(inspect.signature(js.get_variable).parameters)
    local_arg_names = list(inspect.signature(js.get_local_variable).parameters)
    assert arg_names == local_arg_names


def test_get_collection():
    """TF: VariableScopeTest.testGetCollection (names -> identities of the fetched arrays)."""

    def fn():
        a = js.get_variable("testGetCollection_a", [])
        b = js.get_variable("testGetCollection_b", [], trainable=False)
        with js.variable_scope("testGetCollection_foo_") as scope1:
            a1 = js.get_variable("testGetCollection_a", [])
            b1 = js.get_variable("testGetCollection_b", [], trainable=False)
            assert same(scope1.get_collection(TRAINABLE), [a1])
            assert same(scope1.get_collection(GLOBAL), [a1, b1])
            assert has_name(a1, "testGetCollection_foo_/testGetCollection_a")
        with js.variable_scope("testGetCollection_foo") as scope2:
            a2 = js.get_variable("testGetCollection_a", [])
            b2 = js.get_variable("testGetCollection_b", [], trainable=False)
            assert same(scope2.get_collection(TRAINABLE), [a2])
            assert same(scope2.get_collection(GLOBAL), [a2, b2])
            assert has_name(b2, "testGetCollection_foo/testGetCollection_b")
        scope = js.get_variable_scope()
        assert same(scope.get_collection(GLOBAL), [a, b, a1, b1, a2, b2])
        assert same(scope.get_collection(TRAINABLE), [a, a1, a2])

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == [
        "testGetCollection_a",
        "testGetCollection_foo_/testGetCollection_a",
        "testGetCollection_foo/testGetCollection_a",
    ]
    assert list(variables["state"]) == [
        "testGetCollection_b",
        "testGetCollection_foo_/testGetCollection_b",
        "testGetCollection_foo/testGetCollection_b",
    ]


def _check_trainable_variables(make):
    """The graph code of TF's two ``testGetTrainableVariables*`` tests, run in both traces.

    ``make(name, **kwargs)`` creates each variable (``trainable=`` when TF gives it); the
    trainable ones are checked by name and returned with the rest of init's variables.
    """

    def fn():
        make("testGetTrainableVariables_a")
        with js.variable_scope("testGetTrainableVariables_foo") as scope:
            b = make("testGetTrainableVariables_b")
            make("testGetTrainableVariables_c", trainable=False)
            make("testGetTrainableVariables_d", trainable=False)
            assert same(scope.trainable_variables(), [b])
            assert has_name(b, "testGetTrainableVariables_foo/testGetTrainableVariables_b")
            e = make("testGetTrainableVariables_e", trainable=True)
            assert same(scope.trainable_variables(), [b, e])
            f = make("testGetTrainableVariables_f")
            assert same(scope.trainable_variables(), [b, e, f])

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == [
        "testGetTrainableVariables_a",
        "testGetTrainableVariables_foo/testGetTrainableVariables_b",
        "testGetTrainableVariables_foo/testGetTrainableVariables_e",
        "testGetTrainableVariables_foo/testGetTrainableVariables_f",
    ]
    return variables


def test_get_trainable_variables_with_get_variable():
    """TF: VariableScopeTest.testGetTrainableVariablesWithGetVariable.

    jaxscope has no ``synchronization``: TF's ``d`` (ON_READ, hence non-trainable) is
    ``trainable=False``, ``e`` (ON_READ with ``trainable=True``) is ``trainable=True`` and
    ``f`` (ON_WRITE, hence trainable) takes the default.
    """
    _check_trainable_variables(lambda name, **kwargs: js.get_variable(name, [], **kwargs))


def test_get_trainable_variables_with_variable():
    """TF: VariableScopeTest.testGetTrainableVariablesWithVariable (partly: no synchronization).

    ``VariableV1`` -> `js.Variable`; the ON_READ/ON_WRITE variables map to ``trainable``
    as in `test_get_trainable_variables_with_get_variable`.
    """
    variables = _check_trainable_variables(
        lambda name, **kwargs: js.Variable(1.0, name=name, **kwargs)
    )
    assert list(variables["state"]) == [
        "testGetTrainableVariables_foo/testGetTrainableVariables_c",
        "testGetTrainableVariables_foo/testGetTrainableVariables_d",
    ]


def test_get_global_variables():
    """TF: VariableScopeTest.testGetGlobalVariables."""

    def fn():
        a = js.get_variable("testGetGlobalVariables_a", [])
        with js.variable_scope("testGetGlobalVariables_foo") as scope:
            b = js.get_variable("testGetGlobalVariables_b", [])
            assert same(scope.global_variables(), [b])
            assert has_name(b, "testGetGlobalVariables_foo/testGetGlobalVariables_b")
        assert same(js.global_variables(), [a, b])

    variables, _, _ = run_both(fn)
    assert all_names(variables) == [
        "testGetGlobalVariables_a", "testGetGlobalVariables_foo/testGetGlobalVariables_b",
    ]


def test_get_local_variables():
    """TF: VariableScopeTest.testGetLocalVariables."""

    def fn():
        a = js.get_variable("a", [], collections=[LOCAL])
        with js.variable_scope("foo") as scope:
            b = js.get_variable("b", [], collections=[LOCAL])
            c = js.get_variable("c", [])
            assert same(scope.local_variables(), [b])
            assert has_name(b, "foo/b", key=LOCAL)
        assert same(js.local_variables(), [a, b])
        assert same(js.global_variables(), [c])

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["a", "foo/b", "foo/c"]


def test_get_variable_with_initializer_which_takes_no_args():
    """TF: VariableScopeTest.testGetVariableWithInitializerWhichTakesNoArgs."""

    def fn():
        v = js.get_variable("foo", initializer=lambda: [2])
        assert has_name(v, "foo")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["foo"]
    np.testing.assert_array_equal(variables["state"]["foo"], [2])


def test_get_variable_with_initializer_which_takes_optional_args():
    """TF: VariableScopeTest.testGetVariableWithInitializerWhichTakesOptionalArgs."""

    def fn():
        v = js.get_variable("foo", initializer=lambda x=True: [2])
        assert has_name(v, "foo")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["foo"]


def test_get_variable_with_initializer_which_takes_unprovided_args_and_no_shape():
    """TF: VariableScopeTest.testGetVariableWithInitializerWhichTakesUnprovidedArgsAndNoShape."""
    message = re.escape(
        "The initializer passed is not valid. It should be a callable with no arguments and "
        "the shape should not be provided or an instance of `tf.keras.initializers.*' and "
        "`shape` should be fully defined."
    )

    def fn():
        with pytest.raises(ValueError, match=message):
            js.get_variable("foo", initializer=lambda x: [2])

    variables, _, _ = run_both(fn)
    assert all_names(variables) == []


def test_two_graphs():
    """TF: VariableScopeTest.testTwoGraphs (partly: the scope-name validation only)."""

    def fn():
        with pytest.raises(ValueError, match="'_' is not a valid (?:root )?scope name"):
            with js.variable_scope("_"):
                pass
        assert js.get_variable_scope().name == ""
        assert js.current_name_scope() == ""

    run_both(fn)


# -- class VariableScopeWithPartitioningTest ---------------------------------------------------
def axis0_into1_partitioner(shape=None, **unused_kwargs):
    return [1] * len(shape)


def axis0_into2_partitioner(shape=None, **unused_kwargs):
    part = [1] * len(shape)
    part[0] = 2
    return part


def axis0_into3_partitioner(shape=None, **unused_kwargs):
    part = [1] * len(shape)
    part[0] = 3
    return part


def test_result_name_matches_requested():
    """TF: VariableScopeWithPartitioningTest.testResultNameMatchesRequested (partly).

    jaxscope keeps one logical array under the full name ``scope0/name0`` (decision 8), so
    TF's ``part_0``/``part_1`` shard names are not ported: there must be none.
    """

    def fn():
        with js.variable_scope("scope0", partitioner=axis0_into2_partitioner):
            v = js.get_variable("name0", shape=(3, 1, 1))
            assert v.shape == (3, 1, 1)
            assert has_name(v, "scope0/name0")

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["scope0/name0"]
    spec = js.transform(fn).specs()["scope0/name0"]
    assert spec.partitioner is axis0_into2_partitioner
    assert spec.shape == (3, 1, 1)


def test_breaks_if_partitioning_changes():
    """TF: VariableScopeWithPartitioningTest.testBreaksIfPartitioningChanges."""
    message = (
        "Trying to reuse partitioned variable .* but specified partitions .* and found "
        "partitions .*"
    )

    def fn():
        with js.variable_scope("scope0", partitioner=axis0_into2_partitioner):
            js.get_variable("name0", shape=(3, 1, 1))
        with js.variable_scope("scope0", partitioner=axis0_into3_partitioner, reuse=True):
            with pytest.raises(ValueError, match=message):
                js.get_variable("name0", shape=(3, 1, 1))
        with js.variable_scope("scope0", partitioner=axis0_into1_partitioner, reuse=True):
            with pytest.raises(ValueError, match=message):
                js.get_variable("name0", shape=(3, 1, 1))

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["scope0/name0"]


def test_returns_existing_concatenated_value_if_reuse():
    """TF: VariableScopeWithPartitioningTest.testReturnsExistingConcatenatedValueIfReuse."""

    def fn():
        with js.variable_scope("scope0", partitioner=axis0_into2_partitioner):
            v_concat = js.get_variable("name0", shape=(3, 1, 1))
            js.get_variable_scope().reuse_variables()
            v_concat_2 = js.get_variable("name0", shape=(3, 1, 1))
            assert v_concat_2 is v_concat

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["scope0/name0"]


def test_allows_reuse_without_partitioner():
    """TF: VariableScopeWithPartitioningTest.testAllowsReuseWithoutPartitioner.

    Added: with ``AUTO_REUSE`` (not ``True``) and no partitioner, TF's single-variable path
    refuses the partitioned name ("No partitioner was provided ...").
    """

    def fn():
        with js.variable_scope("scope0", partitioner=axis0_into2_partitioner):
            v = js.get_variable("name0", shape=(3, 1, 1))
        with js.variable_scope("scope0", reuse=True):
            v_reused = js.get_variable("name0")
        assert v_reused is v
        with js.variable_scope("scope0", reuse=js.AUTO_REUSE):
            with pytest.raises(
                ValueError,
                match=re.escape(
                    "No partitioner was provided, but a partitioned version of the variable "
                    "was found: scope0/name0/part_0."
                ),
            ):
                js.get_variable("name0", shape=(3, 1, 1))

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["scope0/name0"]


def test_propagate_partitioner_on_reopening():
    """TF: VariableScopeWithPartitioningTest.testPropagatePartitionerOnReopening."""

    def fn():
        with js.variable_scope("scope0", partitioner=axis0_into2_partitioner) as vs:
            assert vs.partitioner is axis0_into2_partitioner
            with js.variable_scope(vs) as vs1:
                assert vs1.partitioner is axis0_into2_partitioner

    run_both(fn)


def test_scalar_ignores_partitioner():
    """TF: VariableScopeWithPartitioningTest.testScalarIgnoresPartitioner."""

    def fn():
        with js.variable_scope("scope0", partitioner=axis0_into2_partitioner):
            v = js.get_variable("name0", shape=())
            assert has_name(v, "scope0/name0")
            assert contains(js.get_collection(GLOBAL), v)

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["scope0/name0"]
    assert js.transform(fn).specs()["scope0/name0"].partitioner is None


def test_partition_concatenates_along_correct_axis():
    """TF: VariableScopeWithPartitioningTest.testPartitionConcatenatesAlongCorrectAxis (partly).

    The full shapes are ported; TF's shard shapes ``(1, 2, 2)`` / ``(2, 1, 2)`` are not, as
    a partitioned variable is one logical array in jaxscope (decision 8).
    """

    def _part_axis_0(**unused_kwargs):
        return (2, 1, 1)

    def _part_axis_1(**unused_kwargs):
        return (1, 2, 1)

    def fn():
        with js.variable_scope("root"):
            v0 = js.get_variable("n0", shape=(2, 2, 2), partitioner=_part_axis_0)
            v1 = js.get_variable("n1", shape=(2, 2, 2), partitioner=_part_axis_1)
        assert v0.shape == (2, 2, 2)
        assert v1.shape == (2, 2, 2)

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["root/n0", "root/n1"]
    specs = js.transform(fn).specs()
    assert specs["root/n0"].partitioner is _part_axis_0
    assert specs["root/n1"].partitioner is _part_axis_1


# -- class VariableScopeWithCustomGetterTest ---------------------------------------------------
def test_non_callable_getter_fails():
    """TF: VariableScopeWithCustomGetterTest.testNonCallableGetterFails."""

    def fn():
        with pytest.raises(ValueError, match=r"custom_getter .* not callable:"):
            with js.variable_scope("scope0", custom_getter=3):
                js.get_variable("name0")
        with pytest.raises(ValueError, match=r"custom_getter .* not callable:"):
            js.get_variable("name0", custom_getter=3)

    variables, _, _ = run_both(fn)
    assert all_names(variables) == []


def test_no_side_effects_with_identity_custom_getter():
    """TF: VariableScopeWithCustomGetterTest.testNoSideEffectsWithIdentityCustomGetter."""
    counts = []

    def fn():
        called = [0]

        def custom_getter(getter, *args, **kwargs):
            called[0] += 1
            return getter(*args, **kwargs)

        with js.variable_scope("scope", custom_getter=custom_getter) as scope:
            v = js.get_variable("v", [1])
        with js.variable_scope(scope, reuse=True):
            v2 = js.get_variable("v", [1])
        with js.variable_scope("new_scope") as new_scope:
            v3 = js.get_variable("v3", [1])
        with js.variable_scope(new_scope, reuse=True, custom_getter=custom_getter):
            v4 = js.get_variable("v3", [1])
        assert v is v2
        assert v3 is v4
        counts.append(called[0])

    variables, _, _ = run_both(fn)
    assert counts == [3, 3]  # one per trace; skipped the first new_scope call
    assert all_names(variables) == ["scope/v", "new_scope/v3"]


def test_synchronization_and_aggregation_with_custom_getter():
    """TF: VariableScopeWithCustomGetterTest.testSynchronizationAndAggregationWithCustomGetter.

    Partly: jaxscope has no synchronization/aggregation modes; the getter still receives
    both keywords (``None``), and the second half of the TF test (passing ON_READ/MEAN to
    ``get_variable``) has no counterpart.
    """
    calls = []

    def custom_getter(getter, *args, **kwargs):
        calls.append((kwargs["synchronization"], kwargs["aggregation"]))
        return getter(*args, **kwargs)

    def fn():
        with js.variable_scope("scope", custom_getter=custom_getter):
            js.get_variable("v", [1])

    run_both(fn)
    assert calls == [(None, None), (None, None)]


def test_custom_getter_with_reuse():
    """TF: VariableScopeWithCustomGetterTest.testCustomGetterWithReuse.

    The getter sees ``kwargs["reuse"]`` (False, then True). TF tells them apart by the
    name of an identity op; here the getter returns a different value (``var`` or
    ``var + 1``).
    """
    seen = []

    def custom_getter(getter, *args, **kwargs):
        var = getter(*args, **kwargs)
        seen.append(kwargs["reuse"])
        return var + 1.0 if kwargs["reuse"] else var

    def fn():
        with js.variable_scope("scope", custom_getter=custom_getter) as scope:
            v = js.get_variable("v", [1])
        with js.variable_scope(scope, reuse=True):
            v2 = js.get_variable("v", [1])
        return v, v2

    variables, (v, v2), _ = run_both(fn)
    assert seen == [False, True, False, True]
    np.testing.assert_allclose(v, variables["params"]["scope/v"])
    np.testing.assert_allclose(v2, variables["params"]["scope/v"] + 1.0)


def test_custom_getter_with_reuse_op_name():
    """TF: VariableScopeWithCustomGetterTest.testCustomGetterWithReuse.

    The names-only part: ``v.name == "not_reused:0"`` and ``v2.name == "reused:0"`` for
    identity ops made inside the getter, which TF runs with the name scope reset to the
    root (not ``scope/`` / ``scope_1/``).
    """
    names = []

    def custom_getter(getter, *args, **kwargs):
        var = getter(*args, **kwargs)
        names.append(op_name("reused" if kwargs["reuse"] else "not_reused"))
        return var

    def fn():
        with js.variable_scope("scope", custom_getter=custom_getter) as scope:
            js.get_variable("v", [1])
        with js.variable_scope(scope, reuse=True):
            js.get_variable("v", [1])

    run_both(fn)
    assert names == ["not_reused", "reused", "not_reused", "reused"]


def _two_variables_getter(op_scopes):
    def custom_getter(getter, name, *args, **kwargs):
        g_0 = getter(f"{name}/0", *args, **kwargs)
        g_1 = getter(f"{name}/1", *args, **kwargs)
        with js.name_scope("custom_getter") as ns:
            op_scopes.append(ns)
            return g_0 + g_1

    return custom_getter


def test_getter_that_creates_two_variables_and_sums_them():
    """TF: VariableScopeWithCustomGetterTest.testGetterThatCreatesTwoVariablesAndSumsThem.

    TF's op-name assertion (``v.name == "custom_getter/add:0"``) is in
    `test_getter_that_creates_two_variables_and_sums_them_op_name`.
    """
    custom_getter = _two_variables_getter([])

    def fn():
        with js.variable_scope("scope", custom_getter=custom_getter):
            v = js.get_variable("v", [1, 2, 3])
        assert v.shape == (1, 2, 3)
        true_vars = js.trainable_variables()
        assert len(true_vars) == 2
        assert has_name(true_vars[0], "scope/v/0")
        assert has_name(true_vars[1], "scope/v/1")
        return v

    variables, v, _ = run_both(fn)
    assert list(variables["params"]) == ["scope/v/0", "scope/v/1"]
    np.testing.assert_allclose(
        v, variables["params"]["scope/v/0"] + variables["params"]["scope/v/1"]
    )


def test_getter_that_creates_two_variables_and_sums_them_op_name():
    """TF: VariableScopeWithCustomGetterTest.testGetterThatCreatesTwoVariablesAndSumsThem.

    The names-only part: ``v.name == "custom_getter/add:0"``. TF's
    ``VariableScope.get_variable`` runs the store (and so the custom getter) under
    ``ops.name_scope(None)``, so ops the getter makes are named from the root, not from
    the enclosing ``scope/`` name scope.
    """
    op_scopes = []
    custom_getter = _two_variables_getter(op_scopes)

    def fn():
        with js.variable_scope("scope", custom_getter=custom_getter):
            js.get_variable("v", [1, 2, 3])

    run_both(fn)
    assert op_scopes == ["custom_getter/", "custom_getter/"]


def test_nested_custom_getters():
    """TF: VariableScopeWithCustomGetterTest.testNestedCustomGetters."""

    def sum_getter(getter, name, *args, **kwargs):
        g_0 = getter(f"{name}/sum_0", *args, **kwargs)
        g_1 = getter(f"{name}/sum_1", *args, **kwargs)
        return g_0 + g_1

    def prod_getter(getter, name, *args, **kwargs):
        g_0 = getter(f"{name}/prod_0", *args, **kwargs)
        g_1 = getter(f"{name}/prod_1", *args, **kwargs)
        return g_0 * g_1

    template = "prod_scope/sum_scope/inner_sum_scope/v/sum_%d/sum_%d/prod_%d"
    expected = [template % (i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]

    def fn():
        with js.variable_scope("prod_scope", custom_getter=prod_getter):
            with js.variable_scope("sum_scope", custom_getter=sum_getter):
                with js.variable_scope("inner_sum_scope", custom_getter=sum_getter):
                    # sums of sums of products
                    v = js.get_variable("v", [1, 2, 3])
        assert v.shape == (1, 2, 3)
        true_vars = js.trainable_variables()
        assert len(true_vars) == 8
        for var, name in zip(true_vars, expected):
            assert has_name(var, name)
        return v

    variables, v, _ = run_both(fn)
    assert list(variables["params"]) == expected
    p = [variables["params"][name] for name in expected]
    np.testing.assert_allclose(
        v, ((p[0] * p[1]) + (p[2] * p[3])) + ((p[4] * p[5]) + (p[6] * p[7])), rtol=1e-6
    )


# -- variable creators (TF's testVariableCreator, testVariableCreatorNestingError) ---------------
def test_variable_creator():
    def fn():
        variable_names = []

        def creator_a(next_creator, **kwargs):
            variable_names.append(kwargs.get("name", ""))
            return next_creator(**kwargs)

        def creator_b(next_creator, **kwargs):
            kwargs["name"] = "forced_name"
            return next_creator(**kwargs)

        with js.variable_creator_scope(creator_a):
            with js.variable_creator_scope(creator_b):
                js.Variable(1.0, name="one_name")
        assert variable_names[0] == "forced_name"

        called = [False]

        def creater_c(next_creator, **kwargs):
            called[0] = True
            assert kwargs["synchronization"] == js.VariableSynchronization.ON_WRITE
            assert kwargs["aggregation"] == js.VariableAggregation.MEAN
            return next_creator(**kwargs)

        with js.variable_creator_scope(creater_c):
            js.get_variable("v", [], synchronization=js.VariableSynchronization.ON_WRITE,
                            aggregation=js.VariableAggregation.MEAN)
        assert called[0]

    variables, _, _ = run_both(fn)  # the same names in init and apply
    assert all_names(variables) == ["forced_name", "v"]
    spec = js.transform(fn).specs()["v"]
    assert (spec.synchronization, spec.aggregation) == (js.VariableSynchronization.ON_WRITE,
                                                        js.VariableAggregation.MEAN)


def test_variable_creator_nesting_error():
    def creator(next_creator, **kwargs):
        return next_creator(**kwargs)

    def fn():
        scope = js.variable_creator_scope(creator)
        scope.__enter__()
        with js.variable_creator_scope(creator):
            with pytest.raises(RuntimeError,
                               match="Exiting variable_creator_scope without proper nesting."):
                scope.__exit__(None, None, None)

    run_both(fn)


def test_variable_creator_changes_what_it_is_given():
    seen = []

    def creator(next_creator, **kwargs):
        seen.append({k: kwargs[k] for k in ("name", "shape", "trainable", "dtype")})
        kwargs["trainable"] = False  # freeze
        kwargs["initial_value"] = lambda: jnp.full(kwargs["shape"], 7.0)
        return next_creator(**kwargs)

    def fn():
        with js.variable_scope("net") as net, js.variable_creator_scope(creator):
            w = js.get_variable("w", [2], initializer=js.zeros_initializer())
            with js.variable_scope(net, reuse=True):
                assert js.get_variable("w") is w  # reuse: no creator, the same variable
        js.get_variable("free", [1])  # outside the scope: no creator
        return w

    variables, out, _ = run_both(fn)
    assert seen[0] == {"name": "net/w", "shape": (2,), "trainable": True,
                       "dtype": np.dtype("float32")}
    assert len(seen) == 2  # once in init, once in apply (which makes the same names)
    assert list(variables["state"]) == ["net/w"] and list(variables["params"]) == ["free"]
    np.testing.assert_array_equal(variables["state"]["net/w"], [7.0, 7.0])
    np.testing.assert_array_equal(out, [7.0, 7.0])


def test_variable_creator_is_not_callable():
    with pytest.raises(TypeError, match="takes a callable creator"):
        js.variable_creator_scope("not a function")


# -- TF1.15 arguments: use_resource, synchronization, aggregation -------------------------------
def test_use_resource_is_accepted_and_inherited():
    def fn():
        with js.variable_scope("a", use_resource=True) as scope:
            assert scope.use_resource is True
            with js.variable_scope("b") as inner:
                assert inner.use_resource is True
                js.get_variable("v", [1], use_resource=False)
                js.get_local_variable("l", [1], use_resource=True)

    variables, _, _ = run_both(fn)
    assert all_names(variables) == ["a/b/v", "a/b/l"]


def test_synchronization_and_aggregation_are_validated_as_tf():
    def get(**kwargs):
        return lambda: js.get_variable("v", [1], **kwargs)

    with pytest.raises(ValueError, match="Invalid variable synchronization mode: Invalid for "
                                         "variable: v"):
        js.transform(get(synchronization="Invalid")).init(0)
    with pytest.raises(ValueError, match="Invalid variable aggregation mode: invalid for "
                                         "variable: v"):
        js.transform(get(synchronization=js.VariableSynchronization.ON_WRITE,
                         aggregation="invalid")).init(0)
    with pytest.raises(ValueError, match="Synchronization value can be set to "
                                         "VariableSynchronization.ON_READ only for non-trainable"):
        js.transform(get(trainable=True,
                         synchronization=js.VariableSynchronization.ON_READ)).init(0)
    # ON_READ makes a variable non-trainable; numbers are accepted as TF's enums are.
    variables = js.transform(get(synchronization=3, aggregation=1)).init(0)
    assert list(variables["state"]) == ["v"]
    spec = js.transform(get(synchronization=3, aggregation=1)).specs()["v"]
    assert (spec.synchronization, spec.aggregation, spec.trainable) == (
        js.VariableSynchronization.ON_READ, js.VariableAggregation.SUM, False)


def test_custom_getter_receives_synchronization_and_aggregation():
    called = [0]

    def custom_getter(getter, *args, **kwargs):
        called[0] += 1
        assert kwargs["synchronization"] in (None, js.VariableSynchronization.ON_READ)
        assert kwargs["aggregation"] in (None, js.VariableAggregation.MEAN)
        return getter(*args, **kwargs)

    def fn():
        called[0] = 0
        with js.variable_scope("scope", custom_getter=custom_getter):
            js.get_variable("v", [1])
        assert called[0] == 1
        with js.variable_scope("scope", custom_getter=custom_getter):
            js.get_variable("v1", [1], synchronization=js.VariableSynchronization.ON_READ,
                            aggregation=js.VariableAggregation.MEAN)
        assert called[0] == 2

    variables, _, _ = run_both(fn)
    assert list(variables["state"]) == ["scope/v1"]  # ON_READ: not trainable
