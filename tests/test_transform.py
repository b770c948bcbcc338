"""`transform`: init/apply/specs as pure JAX functions, rng handling, apply checks."""

import re
import subprocess
import sys
import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js
from jaxscope.naming import stable_hash


def mlp(x):
    for i, width in enumerate((4, 3)):
        with js.variable_scope(f"layer{i}"):
            w = js.get_variable("w", [x.shape[-1], width])
            b = js.get_variable("b", [width], initializer=js.zeros_initializer)
            x = jnp.tanh(x @ w + b)
    return x


def hand_written(params, x):
    for i in range(2):
        x = jnp.tanh(x @ params[f"layer{i}/w"] + params[f"layer{i}/b"])
    return x


X = jnp.linspace(-1.0, 1.0, 10).reshape(2, 5)


def test_init_returns_params_and_state_in_creation_order():
    variables = js.transform(mlp).init(jax.random.key(0), X)
    assert list(variables) == ["params", "state"]
    assert list(variables["params"]) == ["layer0/w", "layer0/b", "layer1/w", "layer1/b"]
    assert variables["state"] == {}
    assert variables["params"]["layer0/w"].shape == (5, 4)


def test_apply_matches_hand_written_function():
    model = js.transform(mlp)
    variables = model.init(jax.random.key(0), X)
    out, aux = model.apply(variables, X)
    np.testing.assert_allclose(out, hand_written(variables["params"], X), rtol=1e-6)
    assert aux.losses == {}
    assert aux.updates == {"params": {}, "state": {}}  # nothing assigned, nothing returned
    assert float(aux.regularization_loss) == 0.0
    assert aux.regularization_loss.dtype == jnp.float32


def test_init_and_apply_under_jit_grad_vmap():
    model = js.transform(mlp)
    variables = jax.jit(model.init)(jax.random.key(0), X)
    eager = model.init(jax.random.key(0), X)
    for name in eager["params"]:
        np.testing.assert_allclose(variables["params"][name], eager["params"][name], rtol=1e-6)

    out, _ = jax.jit(model.apply)(variables, X)
    np.testing.assert_allclose(out, model.apply(variables, X)[0], rtol=1e-6)

    def loss(params):
        return jnp.sum(model.apply({"params": params, "state": {}}, X)[0] ** 2)

    grads = jax.grad(loss)(variables["params"])
    expected = jax.grad(lambda p: jnp.sum(hand_written(p, X) ** 2))(variables["params"])
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-5, atol=1e-7)

    batched = jax.vmap(lambda x: model.apply(variables, x[None])[0][0])(X)
    np.testing.assert_allclose(batched, out, rtol=1e-6)

    keys = jax.random.split(jax.random.key(1), 3)
    ensemble = jax.vmap(lambda k: model.init(k, X))(keys)
    assert ensemble["params"]["layer0/w"].shape == (3, 5, 4)


def test_specs_is_abstract_and_matches_init():
    model = js.transform(mlp)
    specs = model.specs(jax.ShapeDtypeStruct((2, 5), jnp.float32))
    variables = model.init(0, X)
    assert list(specs) == list(variables["params"])
    for name, spec in specs.items():
        assert spec.name == name
        assert spec.shape == variables["params"][name].shape
        assert spec.dtype == variables["params"][name].dtype
        assert spec.trainable
        assert spec.collections == ("variables", "trainable_variables")
    assert isinstance(specs["layer0/b"].initializer, js.initializers.Zeros)


def test_specs_runs_no_flops():
    def model(x):
        w = js.get_variable("w", [4096, 4096])
        return x @ w

    # An abstract trace of a 64 MiB variable is instant and allocates nothing.
    specs = js.transform(model).specs(jax.ShapeDtypeStruct((1, 4096), jnp.float32))
    assert specs["w"].shape == (4096, 4096)


def test_specs_keeps_python_arguments_static():
    def model(x, width, training):
        assert isinstance(width, int) and training is True
        return x @ js.get_variable("w", [x.shape[-1], width])

    specs = js.transform(model).specs(jnp.ones((1, 3)), 7, training=True)
    assert specs["w"].shape == (3, 7)


def test_initial_values_depend_on_name_not_creation_order():
    def one(x):
        js.get_variable("a", [3])
        js.get_variable("b", [3])

    def other(x):
        js.get_variable("extra", [5])
        js.get_variable("b", [3])
        js.get_variable("a", [3])

    key = jax.random.key(42)
    v1 = js.transform(one).init(key, X)["params"]
    v2 = js.transform(other).init(key, X)["params"]
    np.testing.assert_array_equal(v1["a"], v2["a"])
    np.testing.assert_array_equal(v1["b"], v2["b"])
    assert not np.array_equal(v1["a"], v1["b"])
    # Deterministic, and different for another rng.
    np.testing.assert_array_equal(v1["a"], js.transform(one).init(key, X)["params"]["a"])
    assert not np.array_equal(v1["a"], js.transform(one).init(7, X)["params"]["a"])


def test_rng_accepts_new_style_raw_and_int_seed():
    model = js.transform(mlp)
    typed = model.init(jax.random.key(3), X)["params"]["layer0/w"]
    seed = model.init(3, X)["params"]["layer0/w"]
    raw = model.init(jax.random.PRNGKey(3), X)["params"]["layer0/w"]
    np.testing.assert_array_equal(typed, seed)
    assert raw.shape == typed.shape
    with pytest.raises(TypeError, match="rng must be a JAX key"):
        model.init("seed", X)


def test_stable_hash_is_the_same_in_another_process():
    code = "from jaxscope.naming import stable_hash; print(stable_hash('conv1/weights'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "123"})
    assert int(other.stdout) == stable_hash("conv1/weights")
    assert 0 <= stable_hash("x") < 2**32


def test_next_rng_key_in_apply_and_its_errors():
    def noisy(x):
        return x + jax.random.normal(js.next_rng_key(), x.shape)

    model = js.transform(noisy)
    variables = model.init(0, X)
    a, _ = model.apply(variables, X, rng=jax.random.key(1))
    b, _ = model.apply(variables, X, rng=jax.random.key(1))
    c, _ = model.apply(variables, X, rng=jax.random.key(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(js.MissingRngError, match=re.escape("rng=jax.random.key(0)")):
        model.apply(variables, X)


def test_two_next_rng_keys_differ():
    def two():
        return js.next_rng_key(), js.next_rng_key()

    model = js.transform(two)
    (k1, k2), _ = model.apply(model.init(0), rng=0)
    assert not np.array_equal(jax.random.key_data(k1), jax.random.key_data(k2))


def test_init_without_rng_works_for_keyless_initializers_and_explains_otherwise():
    def zeros():
        js.get_variable("b", [2], initializer=js.zeros_initializer)

    assert js.transform(zeros).init(None)["params"]["b"].tolist() == [0.0, 0.0]

    def random():
        js.get_variable("w", [2])

    with pytest.raises(js.MissingRngError, match="Variable w needs a random initial value"):
        js.transform(random).init(None)


@pytest.mark.parametrize(
    "call",
    [
        lambda: js.get_variable("v", [1]),
        lambda: js.variable_scope("foo").__enter__(),
        lambda: js.name_scope("foo").__enter__(),
        lambda: js.get_variable_scope(),
        lambda: js.Variable(1.0),
        lambda: js.assign("v", 1.0),
        lambda: js.get_collection("variables"),
        lambda: js.next_rng_key(),
        lambda: js.add_loss(1.0),
    ],
)
def test_scope_functions_outside_transform_say_to_wrap(call):
    with pytest.raises(js.NotInTransformError, match=r"inside a function transformed with "
                                                      r"js\.transform"):
        call()


def test_apply_names_a_missing_variable_and_suggests_close_names():
    model = js.transform(mlp)
    variables = model.init(0, X)
    params = dict(variables["params"])
    params["layer0/W"] = params.pop("layer0/w")
    with pytest.raises(js.ApplyVariablesError) as err:
        model.apply({"params": params, "state": {}}, X)
    message = str(err.value)
    assert "'layer0/w'" in message and "(5, 4)" in message and "float32" in message
    assert "Did you mean 'layer0/W'" in message


def test_apply_names_shape_and_dtype_mismatches():
    model = js.transform(mlp)
    variables = model.init(0, X)
    wrong_shape = {"params": {**variables["params"], "layer1/w": jnp.zeros((4, 2))}, "state": {}}
    with pytest.raises(js.ApplyVariablesError,
                       match=re.escape("'layer1/w' has shape (4, 2) in variables['params'], "
                                       "but the code asks for shape (4, 3)")):
        model.apply(wrong_shape, X)
    wrong_dtype = {"params": {**variables["params"],
                              "layer1/b": jnp.zeros((3,), jnp.int32)}, "state": {}}
    with pytest.raises(js.ApplyVariablesError, match="dtype int32 .* asks for dtype float32"):
        model.apply(wrong_dtype, X)


def test_apply_explains_variables_in_the_wrong_collection():
    def model():
        js.get_variable("w", [2], trainable=False)

    with pytest.raises(js.ApplyVariablesError, match=r"in variables\['params'\] instead"):
        js.transform(model).apply({"params": {"w": jnp.zeros(2)}, "state": {}})


def test_apply_rejects_a_flat_params_dict_with_a_hint():
    model = js.transform(mlp)
    variables = model.init(0, X)
    with pytest.raises(TypeError, match="flat"):
        model.apply(variables["params"], X)


def test_apply_runs_the_same_reuse_checks_as_init():
    def twice():
        with js.variable_scope("foo"):
            js.get_variable("v", [1])
        with js.variable_scope("foo"):
            js.get_variable("v", [1])

    model = js.transform(twice)
    message = re.escape("Variable foo/v already exists, disallowed.")
    with pytest.raises(ValueError, match=message):
        model.init(0)
    with pytest.raises(ValueError, match=message):
        model.apply({"params": {"foo/v": jnp.zeros(1)}, "state": {}})


def test_merge_keeps_unused_variables_and_extra_entries():
    def model():
        return js.assign("a", js.get_variable("a", [1]) + 1.0)

    given = {"params": {"a": jnp.ones(1), "unused": jnp.zeros(2)}, "state": {}, "meta": 1}
    _, aux = js.transform(model).apply(given)
    assert list(aux.updates["params"]) == ["a"]
    merged = js.merge(given, aux.updates)
    assert merged["params"]["unused"] is given["params"]["unused"]
    assert merged["meta"] == 1
    assert float(merged["params"]["a"][0]) == 2.0
    assert float(given["params"]["a"][0]) == 1.0  # the input is not changed


def test_variable_fetched_twice_is_the_same_object_in_init_and_apply():
    seen = []

    def model():
        with js.variable_scope("s", reuse=js.AUTO_REUSE):
            seen.append(js.get_variable("v", [2]) is js.get_variable("v", [2]))

    m = js.transform(model)
    m.apply(m.init(0))
    assert seen == [True, True]


def test_frames_do_not_leak_between_threads():
    barrier = threading.Barrier(2)
    results = {}

    def model(tag):
        with js.variable_scope(tag):
            barrier.wait(timeout=10)
            js.get_variable("v", [1])
            return js.get_variable_scope().name

    def run(tag):
        m = js.transform(model)
        results[tag] = (list(m.init(0, tag)["params"]), m.apply(m.init(0, tag), tag)[0])

    threads = [threading.Thread(target=run, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": (["a/v"], "a"), "b": (["b/v"], "b")}


def test_nested_transform_has_its_own_frame():
    inner = js.transform(lambda: js.get_variable("w", [1]))

    def outer():
        with js.variable_scope("outer"):
            inner_vars = inner.init(0)
            js.get_variable("w", [1])
            return list(inner_vars["params"])

    model = js.transform(outer)
    assert list(model.init(0)["params"]) == ["outer/w"]
    assert model.apply(model.init(0))[0] == ["w"]


def test_scope_used_after_its_trace_raises():
    captured = []

    def model():
        with js.variable_scope("foo") as scope:
            js.get_variable("v", [1])
        captured.append(scope)

    js.transform(model).init(0)

    def reenter():
        with js.variable_scope(captured[0]):
            pass

    with pytest.raises(js.ScopeLifetimeError, match="already returned"):
        js.transform(reenter).init(0)
    with pytest.raises(js.ScopeLifetimeError):
        captured[0].reuse_variables()


def test_raw_jax_transform_creating_a_variable_in_init_is_caught():
    def body(carry, x):
        w = js.get_variable("w", [], initializer=js.ones_initializer)
        return carry + w * x, None

    def model(xs):
        return jax.lax.scan(body, 0.0, xs)[0]

    with pytest.raises(js.RawTransformError, match="Variable w is being created inside a JAX"):
        js.transform(model).init(0, jnp.arange(3.0))

    def vmapped(xs):
        return jax.vmap(lambda x: x * js.get_variable("w", [], initializer=js.ones_initializer))(xs)

    with pytest.raises(js.RawTransformError):
        js.transform(vmapped).init(0, jnp.arange(3.0))


def test_raw_scan_may_read_variables_created_before_it():
    def model(xs):
        js.get_variable("w", [], initializer=js.constant_initializer(2.0))

        def body(carry, x):
            with js.variable_scope("", reuse=True):
                w = js.get_variable("w", [])
            return carry + w * x, None

        return jax.lax.scan(body, 0.0, xs)[0]

    m = js.transform(model)
    xs = jnp.arange(4.0)
    variables = m.init(0, xs)
    assert float(m.apply(variables, xs)[0]) == 12.0


def test_apply_output_hlo_carries_scope_op_names():
    def model(x):
        with js.variable_scope("foo"):
            with js.name_scope("bar"):
                return 1.0 + js.get_variable("v", [1]) * x

    m = js.transform(model)
    variables = m.init(0, jnp.ones(1))
    text = jax.jit(lambda v, x: m.apply(v, x)[0]).lower(variables, jnp.ones(1)).as_text(
        debug_info=True)
    assert "foo/bar/add" in text and "foo/bar/mul" in text


def test_a_context_copied_in_a_trace_and_run_after_it_raises():
    """A contextvars context copied inside init still holds the trace's frame after init
    returned: using it must raise, not record a variable nowhere."""
    import contextvars

    copied = []

    def model():
        copied.append(contextvars.copy_context())
        return js.get_variable("w", [1])

    js.transform(model).init(0)
    with pytest.raises(js.ScopeLifetimeError, match="has already returned"):
        copied[0].run(lambda: js.get_variable("v", [1]))


def test_every_error_class_has_one_base_and_keeps_its_builtin():
    for error in (js.NotInTransformError, js.VariableExistsError, js.VariableMissingError,
                  js.VariableShapeError, js.VariableDtypeError, js.ApplyVariablesError,
                  js.MissingRngError, js.RawTransformError, js.ScopeLifetimeError,
                  js.train.CheckpointError):
        assert issubclass(error, js.JaxscopeError)
    assert issubclass(js.VariableExistsError, ValueError)
    assert issubclass(js.NotInTransformError, RuntimeError)
    with pytest.raises(js.JaxscopeError, match="already exists"):
        js.transform(lambda: [js.get_variable("w", [1]) for _ in range(2)]).init(0)
