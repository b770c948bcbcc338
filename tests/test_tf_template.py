"""TF1's ``template_test.py`` (tensorflow/python/kernel_tests), ported to jaxscope.

Every test that TF_SEMANTICS.md section 6.2 marks "yes" or "partly" is here, under
TF's name, with the TF test named in its docstring. The translation:

* TF's graph code becomes a model function under ``js.transform``; it runs as the
  create trace (``init``) and as the reuse trace (``apply`` on init's variables).
  Assertions made inside the function therefore run in both traces.
* ``v.name`` becomes a key of ``variables["params"]`` / ``["state"]`` (no ``:0``);
  ``assertEqual(v1, v2)`` on TF variables is object identity, checked with ``is``
  inside the traced function.
* Template properties (``variable_scope``, ``variables``, ...) are per trace, so they
  are read inside the traced function.
* Op names are checked through ``js.current_name_scope()`` and the lowered HLO's
  debug locations.

Left out (TF_SEMANTICS.md marks them "no"): the eager-only tests
(``test_unique_name_raise_error_in_eager``,
``test_permits_extra_non_trainable_variables_eager``,
``test_nested_eager_templates_raises_error``) and the graph-function ones
(``test_nested_templates_with_defun``, ``test_graph_function_no_name``,
``test_make_template_with_defun``). The end of this file tests what jaxscope adds:
templates built outside any transform.
"""

from __future__ import annotations

import re
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js
from jaxscope import template as template_module


# -- TF's helper functions, as jaxscope code ------------------------------------------------------
def variable_scoped_function(trainable=True):
    return js.get_variable(
        "dummy", shape=[1], trainable=trainable, initializer=js.zeros_initializer()
    )


def internally_variable_scoped_function(scope_name):
    with js.variable_scope(scope_name):
        return js.get_variable("dummy", shape=[1], initializer=js.zeros_initializer())


def function_with_create(trainable):
    """Creates a variable as a side effect with js.Variable (TF: tf.Variable)."""
    js.Variable(0, trainable=trainable)
    return js.get_variable("dummy", shape=[1], initializer=js.zeros_initializer())


def function_with_side_create(trainable, name="side"):
    """Creates a variable as a side effect with js.get_variable."""
    js.get_variable(name, shape=[1], trainable=trainable)
    return js.get_variable("dummy", shape=[1], initializer=js.zeros_initializer())


def variable_scoped_function_with_local_variable():
    js.get_local_variable("local", shape=[1], initializer=js.zeros_initializer())
    return js.get_variable("dummy", shape=[1], initializer=js.zeros_initializer())


# -- helpers -------------------------------------------------------------------------------------
def run_both(fn, *args):
    """Run ``fn`` as init, then as apply on init's variables; return (variables, out, aux)."""
    model = js.transform(fn)
    variables = model.init(jax.random.key(0), *args)
    out, aux = model.apply(variables, *args)
    return variables, out, aux


def names(variables):
    """All variable keys of an init result, params first, in creation order."""
    return list(variables["params"]) + list(variables["state"])


def same_objects(got, expected):
    """TF's ``assertEqual`` on lists of variables: same length, same objects."""
    return len(got) == len(expected) and all(a is b for a, b in zip(got, expected))


def assert_raises_in_init_and_apply(fn, variables, exc, match):
    """``fn`` raises in init, and also in apply over ``variables`` (apply runs the same checks)."""
    model = js.transform(fn)
    with pytest.raises(exc, match=match):
        model.init(jax.random.key(0))
    with pytest.raises(exc, match=match):
        model.apply(variables)


def zeros1():
    return jnp.zeros([1], jnp.float32)


def two_s1_templates(func, *call_args, **kwargs):
    """TF's recurring check, inside a trace: two ``make_template("s1", func, **kwargs)``.

    Calling the first twice returns the same variable (``v1 is v2``); the second template
    has its own (``v1 is not v3``). Returns the first template for further calls.
    """
    tmpl1 = js.make_template("s1", func, **kwargs)
    tmpl2 = js.make_template("s1", func, **kwargs)
    v1 = tmpl1(*call_args)
    v2 = tmpl1(*call_args)
    v3 = tmpl2(*call_args)
    assert v1 is v2
    assert v1 is not v3
    return tmpl1


# -- the ported tests ----------------------------------------------------------------------------
def mse(prediction, target):
    return jnp.mean(jnp.square(prediction - jnp.asarray(target, jnp.float32)))


# y = 2x + 1, TF's data.
TRAIN_X, TRAIN_Y = jnp.array([1.0, 2.0, 3.0, 4.0]), [2.8, 5.1, 7.2, 8.7]
TEST_X, TEST_Y = jnp.array([5.0, 6.0, 7.0, 8.0]), [11.0, 13.0, 15.0, 17.0]


def line_function(x):
    m = js.get_variable("w", shape=[], initializer=js.truncated_normal_initializer())
    b = js.get_variable("b", shape=[], initializer=js.truncated_normal_initializer())
    return x * m + b


def test_end_to_end():
    """TF: test_end_to_end — a template shares w, b between a train and a test model."""

    def losses(train_x, test_x):
        line_template = js.make_template("line", line_function)
        train_prediction = line_template(train_x)
        test_prediction = line_template(test_x)
        return mse(train_prediction, TRAIN_Y), mse(test_prediction, TEST_Y)

    model = js.transform(losses)
    variables = model.init(jax.random.key(1234), TRAIN_X, TEST_X)
    assert names(variables) == ["line/w", "line/b"]  # one pair, shared by both calls

    def train_loss(params):
        (train, _), _ = model.apply({"params": params, "state": {}}, TRAIN_X, TEST_X)
        return train

    def test_loss(params):
        (_, test), _ = model.apply({"params": params, "state": {}}, TRAIN_X, TEST_X)
        return test

    @jax.jit
    def sgd_step(params):
        grads = jax.grad(train_loss)(params)
        return jax.tree.map(lambda p, g: p - 0.1 * g, params, grads)

    params = variables["params"]
    initial_test_loss = float(test_loss(params))
    train_losses = [float(train_loss(params))]
    for _ in range(5):
        params = sgd_step(params)
        train_losses.append(float(train_loss(params)))
    final_test_loss = float(test_loss(params))
    # The parameters are tied, so training on the train call lowers the test call's loss.
    assert final_test_loss < initial_test_loss
    assert train_losses[-1] < train_losses[0]


# A template built outside any transform, used by two separate transforms (TF's eager test
# calls the template from two separate loss functions).
_LINE_TEMPLATE = js.make_template("line", line_function)


def test_end_to_end_eager():
    """TF: test_end_to_end_eager — one template object called from two loss functions.

    The eager test's point (variables created by the first call, reused by the
    later calls from another function) maps to a template built outside any
    transform and called by two transformed losses that share one variables dict.
    """
    train = js.transform(lambda: mse(_LINE_TEMPLATE(TRAIN_X), TRAIN_Y))
    test = js.transform(lambda: mse(_LINE_TEMPLATE(TEST_X), TEST_Y))
    variables = test.init(jax.random.key(1234))
    assert names(variables) == ["line/w", "line/b"]
    assert names(train.init(jax.random.key(1234))) == ["line/w", "line/b"]

    def train_loss(params):
        return train.apply({"params": params, "state": {}})[0]

    def test_loss(params):
        return test.apply({"params": params, "state": {}})[0]

    params = variables["params"]
    initial_test_loss = float(test_loss(params))
    grads = jax.grad(train_loss)(params)
    params = jax.tree.map(lambda p, g: p - 0.1 * g, params, grads)
    assert float(test_loss(params)) < initial_test_loss


def test_skip_stack_frames():
    """TF: test_skip_stack_frames — only the frames the call site does not share are kept.

    TF_SEMANTICS.md marks it "partly, if error decoration is copied": jaxscope copies
    it, so the helper is checked, and so is the note it puts on errors.
    """
    first = traceback.format_stack()
    second = traceback.format_stack()
    result = template_module._skip_common_stack_elements(first, second)
    assert len(result) == 1
    assert len(first) != len(result)

    def failing(x):
        raise TypeError("boom")

    def fn():
        tmpl = js.make_template("f", failing)
        tmpl(1.0)

    with pytest.raises(TypeError, match="boom") as info:
        js.transform(fn).init(0)
    assert any("originally defined at" in note for note in getattr(info.value, "__notes__", []))


def test_template_with_empty_name():
    """TF: test_template_with_empty_name — ``make_template("")`` in ``outer`` gives ``outer//``."""

    def fn():
        tpl = js.make_template("", variable_scoped_function)
        with js.variable_scope("outer"):
            x = js.get_variable("x", [])
            v = tpl()
        assert tpl.variable_scope_name == "outer/"
        # Graph semantics: the template's collections are a prefix match, so `x` is in.
        assert same_objects(tpl.variables, [x, v])

    variables, _, _ = run_both(fn)
    assert names(variables) == ["outer/x", "outer//dummy"]


def test_template_with_name():
    """TF: test_template_with_name — two ``s1`` templates get ``s1`` and ``s1_1``."""

    def fn():
        two_s1_templates(variable_scoped_function)

    variables, _, _ = run_both(fn)
    assert names(variables) == ["s1/dummy", "s1_1/dummy"]


def test_same_unique_name_raise_error():
    """TF: test_same_unique_name_raise_error — ``unique_name_`` twice without reuse fails."""

    def fn():
        tmpl1 = js.make_template("_", variable_scoped_function, unique_name_="s1")
        tmpl1()
        tmpl2 = js.make_template("_", variable_scoped_function, unique_name_="s1")
        tmpl2()

    assert_raises_in_init_and_apply(
        fn, {"params": {"s1/dummy": zeros1()}, "state": {}}, ValueError,
        "Variable s1/dummy already exists, disallowed.*",
    )


def test_unique_name_and_reuse():
    """TF: test_unique_name_and_reuse — after root ``reuse_variables()`` a template shares."""

    def fn():
        tmpl1 = js.make_template("_", variable_scoped_function, unique_name_="s1")
        v1 = tmpl1()
        v2 = tmpl1()
        js.get_variable_scope().reuse_variables()
        tmpl2 = js.make_template("_", variable_scoped_function, unique_name_="s1")
        v3 = tmpl2()
        assert v1 is v2
        assert v1 is v3

    variables, _, _ = run_both(fn)
    assert names(variables) == ["s1/dummy"]


def test_template_in_scope():
    """TF: test_template_in_scope — the first call's scope is kept; ``scope2`` is ignored."""

    def fn():
        tmpl1 = js.make_template("s1", variable_scoped_function)
        tmpl2 = js.make_template("s1", variable_scoped_function)
        with js.variable_scope("scope"):
            v1 = tmpl1()
            v3 = tmpl2()
        # The template contract requires the following to ignore scope2.
        with js.variable_scope("scope2"):
            v2 = tmpl1()
        assert v1 is v2
        assert v1 is not v3

    variables, _, _ = run_both(fn)
    assert names(variables) == ["scope/s1/dummy", "scope/s1_1/dummy"]


def test_template_with_internal_reuse():
    """TF: test_template_with_internal_reuse — inner scope ``test``; another name later fails."""

    def fn():
        tmpl1 = two_s1_templates(internally_variable_scoped_function, "test")
        with pytest.raises(ValueError, match="s1/not_test/dummy does not exist"):
            tmpl1("not_test")

    variables, _, _ = run_both(fn)
    assert names(variables) == ["s1/test/dummy", "s1_1/test/dummy"]


def test_template_without_name():
    """TF: test_template_without_name — ``name_=None`` raises "name cannot be None."."""
    with pytest.raises(ValueError, match=r"name cannot be None\."):
        js.make_template(None, variable_scoped_function)

    def fn():
        with pytest.raises(ValueError, match=r"name cannot be None\."):
            js.make_template(None, variable_scoped_function)

    run_both(fn)


def test_make_template():
    """TF: test_make_template — keyword arguments are bound at construction."""

    def fn():
        two_s1_templates(internally_variable_scoped_function, scope_name="test")

    variables, _, _ = run_both(fn)
    assert names(variables) == ["s1/test/dummy", "s1_1/test/dummy"]


def test_enforces_no_extra_trainable_variables():
    """TF: test_enforces_no_extra_trainable_variables — a trainable Variable on a later call."""

    def fn():
        tmpl = js.make_template("s", function_with_create, trainable=True)
        tmpl()
        tmpl()

    # The later call's Variable is uniquified in the new name scope: s_1/Variable.
    variables = {
        "params": {"s/dummy": zeros1()},
        "state": {"s/Variable": jnp.int32(0), "s_1/Variable": jnp.int32(0)},
    }
    assert_raises_in_init_and_apply(
        fn, variables, ValueError, "Trainable variable created when calling a template after "
        "the first time",
    )


def test_enforces_no_extra_trainable_variables_eager():
    """TF: test_enforces_no_extra_trainable_variables_eager (graph mode): a new name later fails."""

    def fn():
        tmpl = js.make_template("s", function_with_side_create, trainable=True)
        tmpl(name="1")
        tmpl(name="2")

    variables = {"params": {"s/1": zeros1(), "s/dummy": zeros1()}, "state": {}}
    assert_raises_in_init_and_apply(fn, variables, ValueError, "Variable s/2 does not exist")


def test_permits_extra_non_trainable_variables():
    """TF: test_permits_extra_non_trainable_variables — non-trainable Variables are allowed."""

    def fn():
        tmpl = js.make_template("s", function_with_create, trainable=False)
        assert tmpl() is tmpl()

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == ["s/dummy"]
    assert list(variables["state"]) == ["s/Variable", "s_1/Variable"]


def test_internal_variable_reuse():
    """TF: test_internal_variable_reuse — a captured inner scope re-entered with reuse=True."""

    def nested():
        with js.variable_scope("nested") as vs:
            v1 = js.get_variable("x", initializer=js.zeros_initializer(), shape=[])
        with js.variable_scope(vs, reuse=True):
            v2 = js.get_variable("x")
        assert v1 is v2
        return v1

    def fn():
        two_s1_templates(nested)

    variables, _, _ = run_both(fn)
    assert names(variables) == ["s1/nested/x", "s1_1/nested/x"]


def test_nested_templates():
    """TF: test_nested_templates — names and per-template variable lists of nested templates.

    Partly ported: the checkpoint-dependency and Keras ``Model`` tracking parts have
    no jaxscope counterpart.
    """

    def nested_template():
        nested1 = js.make_template("nested", variable_scoped_function)
        nested2 = js.make_template("nested", variable_scoped_function)
        v1 = nested1()
        v2 = nested2()
        # nested1 and nested2 do not share variables ...
        assert v1 is not v2
        # ... and each one's lists hold only its own.
        assert same_objects(nested1.variables, [v1])
        assert same_objects(nested2.variables, [v2])
        assert same_objects(nested1.trainable_variables, [v1])
        assert same_objects(nested2.trainable_variables, [v2])
        assert len(nested1.non_trainable_variables) == 0
        assert len(nested2.non_trainable_variables) == 0
        return v1, v2

    def fn():
        tmpl1 = js.make_template("s1", nested_template)
        tmpl2 = js.make_template("s1", nested_template)
        v1, v2 = tmpl1()
        v3, v4 = tmpl1()
        v5, v6 = tmpl2()
        # The second call of tmpl1 reuses the first call's variables.
        assert v1 is v3 and v2 is v4
        assert same_objects(tmpl1.variables, [v1, v2])
        assert same_objects(tmpl1.trainable_variables, [v1, v2])
        assert len(tmpl1.non_trainable_variables) == 0
        # tmpl1 and tmpl2 do not share.
        assert v1 is not v5 and v2 is not v6
        assert same_objects(tmpl2.variables, [v5, v6])
        assert same_objects(tmpl2.trainable_variables, [v5, v6])
        assert len(tmpl2.non_trainable_variables) == 0

    variables, _, _ = run_both(fn)
    assert names(variables) == [
        "s1/nested/dummy", "s1/nested_1/dummy", "s1_1/nested/dummy", "s1_1/nested_1/dummy",
    ]


def test_immediate_scope_creation():
    """TF: test_immediate_scope_creation — ``create_scope_now_`` binds the construction scope."""

    def fn():
        with js.variable_scope("ctor_scope"):
            tmpl_immed = js.make_template("a", variable_scoped_function, True)  # scope now
            tmpl_defer = js.make_template("b", variable_scoped_function, False)  # at call
        with js.variable_scope("call_scope"):
            inner_imm_var = tmpl_immed()
            inner_defer_var = tmpl_defer()
        outer_imm_var = tmpl_immed()
        outer_defer_var = tmpl_defer()
        assert inner_imm_var is not inner_defer_var
        assert outer_imm_var is inner_imm_var
        assert outer_defer_var is inner_defer_var

    variables, _, _ = run_both(fn)
    assert names(variables) == ["ctor_scope/a/dummy", "call_scope/b/dummy"]


def test_scope_access():
    """TF: test_scope_access — ``variable_scope`` before a call: unique, or None if deferred."""

    def fn():
        with js.variable_scope("foo"):
            ta = js.make_template("bar", variable_scoped_function, True)
            tb = js.make_template("bar", variable_scoped_function, True)
        # The scopes exist before either template is called.
        assert ta.variable_scope.name == "foo/bar"
        assert tb.variable_scope.name == "foo/bar_1"
        with js.variable_scope("foo_2"):
            tc = js.make_template("blah", variable_scoped_function, False)
        assert tc.variable_scope is None
        assert tc.variable_scope_name is None
        tc()
        # Called at the top level, so there is no "foo_2" in front.
        assert tc.variable_scope.name == "blah"

    variables, _, _ = run_both(fn)
    assert names(variables) == ["blah/dummy"]


def test_custom_getter():
    """TF: test_custom_getter — ``custom_getter_`` runs on creation and on every later call."""

    def fn():
        custom_getter_count = [0]

        def custom_getter(getter, name, *args, **kwargs):
            custom_getter_count[0] += 1
            return getter(name, *args, **kwargs)

        tmpl1 = js.make_template("s1", variable_scoped_function, custom_getter_=custom_getter)
        assert custom_getter_count[0] == 0
        tmpl1()
        assert custom_getter_count[0] == 1
        tmpl1()
        assert custom_getter_count[0] == 2

        # Also when the scope is created at construction.
        custom_getter_count[0] = 0
        tmpl2 = js.make_template(
            "s2", variable_scoped_function, custom_getter_=custom_getter, create_scope_now_=True
        )
        assert custom_getter_count[0] == 0
        tmpl2()
        assert custom_getter_count[0] == 1
        tmpl2()
        assert custom_getter_count[0] == 2

    variables, _, _ = run_both(fn)
    assert names(variables) == ["s1/dummy", "s2/dummy"]


def test_fails_gracefully():
    """TF: test_fails_gracefully — a failed first call leaves the template uncreated.

    TF reads the private ``_variables_created``; here its public face: the
    template's ``variables`` stay empty after the failed call, and the retry is
    again a creating call in the same scope (no ``_1`` scope, no "does not exist").
    """

    def module_function_with_one_arg(inputs):
        w = js.get_variable("w", shape=[1], initializer=js.zeros_initializer())
        return inputs * w

    def fn():
        for create_scope_now in [True, False]:
            templatized_function = js.make_template(
                "f1", module_function_with_one_arg, create_scope_now_=create_scope_now
            )
            data = jnp.zeros([1])
            with pytest.raises(TypeError):
                # An unsupported keyword argument.
                templatized_function(data, is_training=True)
            # The failed call has not changed the template's state.
            assert templatized_function.variables == []
            templatized_function(data)
            assert len(templatized_function.variables) == 1

    variables, _, _ = run_both(fn)
    assert names(variables) == ["f1/w", "f1_1/w"]


def linear_module(x, output_size, name_scopes):
    w = js.get_variable(
        "w", shape=[x.shape[1], output_size], initializer=js.zeros_initializer()
    )
    b = js.get_variable("b", shape=[output_size], initializer=js.zeros_initializer())
    name_scopes.append(js.current_name_scope())
    return (x @ w + b), w


def test_name_scopes_for_variable_scopes():
    """TF: test_name_scopes_for_variable_scopes — op name scopes are uniquified only when needed.

    Op names ``foo/add``, ``foo_1/add``, ``foo_1_1/add``, ``foo_1_2/add`` are checked
    as the name scope current inside each call, and in the lowered HLO.
    """
    name_scopes: list[str] = []

    def make_linear_module(output_size, name):
        return js.make_template(
            name, linear_module, output_size=output_size, name_scopes=name_scopes,
            create_scope_now_=True,
        )

    def fn(inputs):
        del name_scopes[:]
        linear1 = make_linear_module(output_size=2, name="foo")
        outputs_a, _ = linear1(inputs)
        outputs_b, _ = linear1(inputs)
        assert linear1.variable_scope.name == "foo"
        linear2 = make_linear_module(output_size=2, name="foo")
        outputs_c, _ = linear2(inputs)
        outputs_d, _ = linear2(inputs)
        # A new template gets a fresh variable scope because "foo" is taken.
        assert linear2.variable_scope.name == "foo_1"
        return outputs_a, outputs_b, outputs_c, outputs_d

    inputs = jnp.ones((3, 4))
    model = js.transform(fn)
    variables = model.init(jax.random.key(0), inputs)
    assert names(variables) == ["foo/w", "foo/b", "foo_1/w", "foo_1/b"]
    expected_scopes = ["foo", "foo_1", "foo_1_1", "foo_1_2"]
    assert name_scopes == expected_scopes
    model.apply(variables, inputs)
    assert name_scopes == expected_scopes

    text = jax.jit(model.apply).lower(variables, inputs).as_text(debug_info=True)
    locations = set(re.findall(r'loc\("([^"]*)"', text))
    for scope in expected_scopes:
        assert any(loc.endswith(f"/{scope}/add") for loc in locations), (scope, locations)


def test_global_variables():
    """TF: test_global_variables — empty before the call; then 1, and 2 with a Variable."""

    def fn():
        with js.variable_scope("foo"):
            ta = js.make_template("bar", variable_scoped_function, True)
            tb = js.make_template("s", function_with_create, trainable=False)
        # No variables before the first call.
        assert list(ta.global_variables) == []
        assert list(tb.global_variables) == []
        ta()
        tb()
        assert len(ta.global_variables) == 1
        assert len(tb.global_variables) == 2

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == ["foo/bar/dummy", "s/dummy"]
    assert list(variables["state"]) == ["s/Variable"]


def test_trainable_variables():
    """TF: test_trainable_variables — trainable / non-trainable / all counts."""

    def fn():
        with js.variable_scope("foo2"):
            ta = js.make_template("bar", variable_scoped_function, True)
            tb = js.make_template("bar", variable_scoped_function, True)
        assert list(ta.trainable_variables) == []
        assert list(tb.trainable_variables) == []
        ta()
        tb()
        assert len(ta.trainable_variables) == 1
        assert len(tb.trainable_variables) == 1
        assert list(ta.non_trainable_variables) == []
        assert list(tb.non_trainable_variables) == []
        assert len(ta.variables) == 1
        assert len(tb.variables) == 1

    variables, _, _ = run_both(fn)
    assert names(variables) == ["foo2/bar/dummy", "foo2/bar_1/dummy"]


def test_non_trainable_variables():
    """TF: test_non_trainable_variables — ``trainable=False`` lands in non_trainable_variables."""

    def fn():
        with js.variable_scope("foo2"):
            ta = js.make_template("a", variable_scoped_function, trainable=True)
            tb = js.make_template("b", variable_scoped_function, trainable=False)
        assert list(ta.variables) == []
        assert list(tb.variables) == []
        ta()
        tb()
        assert len(ta.trainable_variables) == 1
        assert list(ta.non_trainable_variables) == []
        assert list(tb.trainable_variables) == []
        assert len(tb.non_trainable_variables) == 1
        assert len(ta.variables) == 1
        assert len(tb.variables) == 1

    variables, _, _ = run_both(fn)
    # Deferred templates called at the top level: scopes "a" and "b".
    assert list(variables["params"]) == ["a/dummy"]
    assert list(variables["state"]) == ["b/dummy"]


def test_local_variables():
    """TF: test_local_variables — ``get_local_variable`` inside a template is in local_variables."""

    def fn():
        with js.variable_scope("foo3"):
            ta = js.make_template("bar", variable_scoped_function, True)
            tb = js.make_template("bar", variable_scoped_function_with_local_variable)
        assert list(ta.local_variables) == []
        assert list(tb.local_variables) == []
        ta()
        tb()
        assert len(ta.local_variables) == 0
        assert len(tb.local_variables) == 1

    variables, _, _ = run_both(fn)
    assert list(variables["params"]) == ["foo3/bar/dummy", "bar/dummy"]
    assert list(variables["state"]) == ["bar/local"]


# -- what jaxscope adds: templates that outlive a trace ------------------------------------------
_MODULE_TEMPLATE = js.make_template("s1", variable_scoped_function)


def test_module_level_template_across_init_and_apply():
    """A template built outside any transform starts afresh in every init/apply call."""

    def fn():
        v1 = _MODULE_TEMPLATE()
        v2 = _MODULE_TEMPLATE()
        assert v1 is v2
        assert _MODULE_TEMPLATE.variable_scope.name == "s1"
        assert same_objects(_MODULE_TEMPLATE.variables, [v1])
        return v1

    model = js.transform(fn)
    variables = model.init(jax.random.key(0))
    # A second init is again the first call of the template: "s1", not "s1_1".
    assert names(model.init(jax.random.key(1))) == names(variables) == ["s1/dummy"]
    out, _ = model.apply(variables)
    np.testing.assert_array_equal(out, variables["params"]["s1/dummy"])
    out, _ = jax.jit(model.apply)(variables)
    np.testing.assert_array_equal(out, variables["params"]["s1/dummy"])
    # Nothing of a trace is visible once it returned.
    assert _MODULE_TEMPLATE.variable_scope is None
    with pytest.raises(js.NotInTransformError, match=r"js\.transform"):
        _ = _MODULE_TEMPLATE.variables
    with pytest.raises(js.NotInTransformError, match=r"js\.transform"):
        _MODULE_TEMPLATE()


def test_module_level_template_with_unique_name_and_kwargs():
    """A module-level template with ``unique_name_`` and bound kwargs, in two transforms."""
    tmpl = js.make_template("_", internally_variable_scoped_function, unique_name_="shared",
                            scope_name="inner")
    first = js.transform(lambda: tmpl())
    second = js.transform(lambda: (tmpl(), tmpl()))
    variables = first.init(0)
    assert names(variables) == ["shared/inner/dummy"]
    assert names(second.init(0)) == ["shared/inner/dummy"]
    (a, b), _ = second.apply(variables)
    np.testing.assert_array_equal(a, b)


def test_create_scope_now_outside_transform_raises():
    """``create_scope_now_=True`` needs a trace to open its scope in: a clear ValueError."""
    with pytest.raises(ValueError, match="create_scope_now_"):
        js.make_template("a", variable_scoped_function, create_scope_now_=True)


def test_create_scope_now_template_from_another_trace_raises():
    """A ``create_scope_now_`` template belongs to the trace that built it."""
    built = []

    def build():
        built.append(js.make_template("a", variable_scoped_function, create_scope_now_=True))
        return built[-1]()

    variables = js.transform(build).init(0)
    assert names(variables) == ["a/dummy"]
    with pytest.raises(ValueError, match="create_scope_now_=True in another"):
        js.transform(lambda: built[0]()).apply(variables)
