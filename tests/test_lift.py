"""Lifted transforms: create once, equal to the unrolled loop, jit, effects flow out."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

XS = jnp.arange(1.0, 6.0)


def rnn_step(h, x):
    """A tiny recurrent step with a weight, a bias (regularized) and a step counter."""
    with js.variable_scope("cell"):
        w = js.get_variable("w", [], initializer=js.constant_initializer(0.5))
        b = js.get_variable("b", [], initializer=js.constant_initializer(0.1),
                            regularizer=js.regularizers.l2(2.0))
        js.get_variable("steps", [], dtype=jnp.int32, initializer=js.zeros_initializer)
        js.assign_add("steps", 1)
        js.add_loss(x * 0.0 + 1.0, name="per_step")
    h = jnp.tanh(w * h + x + b)
    return h, h


def unrolled(xs):
    h, ys = 0.0, []
    with js.variable_scope("loop", reuse=js.AUTO_REUSE):
        for x in xs:
            h, y = rnn_step(h, x)
            ys.append(y)
    return h, jnp.stack(ys)


def scanned(xs):
    with js.variable_scope("loop"):
        return js.scan(rnn_step, 0.0, xs)


def test_scan_creates_once_and_matches_the_unrolled_loop():
    model = js.transform(scanned)
    variables = model.init(jax.random.key(0), XS)
    assert list(variables["params"]) == ["loop/cell/w", "loop/cell/b"]
    assert list(variables["state"]) == ["loop/cell/steps"]
    # init returns the variables after the call: the counter ran once per step.
    assert int(variables["state"]["loop/cell/steps"]) == 5

    (h, ys), aux = model.apply(variables, XS)
    reference = js.transform(unrolled)
    (h_ref, ys_ref), aux_ref = reference.apply(variables, XS)
    np.testing.assert_allclose(ys, ys_ref, rtol=1e-6)
    np.testing.assert_allclose(h, h_ref, rtol=1e-6)
    assert int(aux.updates["state"]["loop/cell/steps"]) == 10  # 5 more steps from init's 5
    # The regularizer runs once (at creation), per-step losses are summed over the steps.
    assert float(aux.losses["loop/cell/b"]) == pytest.approx(2.0 * 0.1**2 / 2)
    assert float(aux.losses["loop/cell/per_step"]) == 5.0
    # The unrolled loop (AUTO_REUSE) adds the per-step loss under five names summing to 5.
    per_step = sum(float(v) for k, v in aux_ref.losses.items() if "per_step" in k)
    assert per_step == 5.0


def test_scan_under_jit_and_grad():
    model = js.transform(scanned)
    variables = model.init(0, XS)
    eager, _ = model.apply(variables, XS)
    jitted, _ = jax.jit(model.apply)(variables, XS)
    np.testing.assert_allclose(jitted[1], eager[1], rtol=1e-6)

    def loss(params, apply):
        return jnp.sum(apply({"params": params, "state": variables["state"]}, XS)[0][1])

    grads = jax.grad(loss)(variables["params"], model.apply)
    expected = jax.grad(loss)(variables["params"], js.transform(unrolled).apply)
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-5)


def test_jitted_init_through_scan():
    variables = jax.jit(js.transform(scanned).init)(jax.random.key(0), XS)
    assert float(variables["params"]["loop/cell/w"]) == 0.5


def test_scan_gives_each_step_its_own_rng_key():
    def noisy(xs):
        return js.scan(lambda c, x: (c, jax.random.uniform(js.next_rng_key())), 0.0, xs)[1]

    model = js.transform(noisy)
    out, _ = model.apply(model.init(0, XS), XS, rng=jax.random.key(1))
    assert len(set(np.asarray(out).tolist())) == len(XS)


def test_scan_reverse_and_length_without_xs():
    def count_down(n):
        def step(c, _):
            k = js.get_variable("k", [], initializer=js.constant_initializer(2.0))
            return c * k, c

        return js.scan(step, 1.0, None, length=n)

    model = js.transform(lambda: count_down(4))
    (final, ys), _ = model.apply(model.init(0))
    assert float(final) == 16.0 and ys.tolist() == [1.0, 2.0, 4.0, 8.0]

    def backwards(xs):
        return js.scan(lambda c, x: (c + x, c + x), 0.0, xs, reverse=True)[1]

    out, _ = js.transform(backwards).apply({"params": {}, "state": {}}, XS)
    assert out.tolist() == [15.0, 14.0, 12.0, 9.0, 5.0]


def test_nested_scans_share_inner_variables():
    def inner_step(c, x):
        return c + x * js.get_variable("w", [], initializer=js.ones_initializer), None

    def outer_step(c, row):
        with js.variable_scope("inner"):
            total, _ = js.scan(inner_step, 0.0, row)
        js.assign_add("visits", 1)
        return c + total, None

    def model(grid):
        js.get_variable("visits", [], dtype=jnp.int32)
        return js.scan(outer_step, 0.0, grid)[0]

    grid = jnp.arange(6.0).reshape(2, 3)
    m = js.transform(model)
    variables = m.init(0, grid)
    assert sorted(variables["params"]) == ["inner/w"]
    # Created once, outside both loops: a concrete array, not a tracer of a loop body.
    assert isinstance(variables["params"]["inner/w"], jax.Array)
    assert not isinstance(variables["params"]["inner/w"], jax.core.Tracer)
    out, aux = m.apply(variables, grid)
    assert float(out) == 15.0
    assert int(aux.updates["state"]["visits"]) == int(variables["state"]["visits"]) + 2


def test_lifted_transforms_nest_and_create_outside_all_of_them():
    def per_example(x):
        return x * js.get_variable("scale", [], initializer=js.constant_initializer(3.0))

    def total(ys):
        return jnp.sum(ys) * js.get_variable("w", [], initializer=js.ones_initializer)

    def step(c, xs):
        return c + js.remat(total)(js.vmap(per_example)(xs)), None

    def model(grid):
        return js.scan(step, 0.0, grid)[0]

    grid = jnp.arange(6.0).reshape(2, 3)
    m = js.transform(model)
    variables = m.init(0, grid)
    assert sorted(variables["params"]) == ["scale", "w"]
    for value in variables["params"].values():
        assert not isinstance(value, jax.core.Tracer)
    assert float(m.apply(variables, grid)[0]) == 45.0


def test_vmap_shares_variables_across_examples():
    def per_example(x):
        with js.variable_scope("head"):
            w = js.get_variable("w", [3, 2])
            js.add_loss(jnp.sum(x), name="sum")
        return x @ w

    def model(xs):
        return js.vmap(per_example)(xs)

    xs = jnp.arange(12.0).reshape(4, 3)
    m = js.transform(model)
    variables = m.init(jax.random.key(0), xs)
    assert list(variables["params"]) == ["head/w"]
    out, aux = m.apply(variables, xs)
    np.testing.assert_allclose(out, xs @ variables["params"]["head/w"], rtol=1e-6)
    assert float(aux.losses["head/sum"]) == pytest.approx(float(jnp.mean(jnp.sum(xs, 1))))
    jitted, _ = jax.jit(m.apply)(variables, xs)
    np.testing.assert_allclose(jitted, out, rtol=1e-6)


def test_vmap_assigning_a_per_example_value_is_explained():
    def per_example(x):
        js.get_variable("last", [], trainable=False)
        js.assign("last", x)
        return x

    with pytest.raises(js.RawTransformError, match=r"js\.vmap: .*assigned: \['last'\]"):
        js.transform(lambda xs: js.vmap(per_example)(xs)).init(0, XS)


def test_remat_matches_plain_gradients():
    def layer(x):
        return jnp.tanh(x @ js.get_variable("w", [3, 3]))

    def plain(x):
        return jnp.sum(layer(layer_scope(x)))

    def layer_scope(x):
        with js.variable_scope("a"):
            return layer(x)

    def rematted(x):
        with js.variable_scope("a"):
            h = js.remat(layer)(x)
        return jnp.sum(js.remat(layer)(h))

    x = jnp.ones((2, 3))
    variables = js.transform(plain).init(jax.random.key(0), x)
    assert list(js.transform(rematted).init(jax.random.key(0), x)["params"]) == ["a/w", "w"]

    def grads(fn):
        model = js.transform(fn)
        return jax.grad(lambda p: model.apply({"params": p, "state": {}}, x)[0])(
            variables["params"])

    for name, g in grads(plain).items():
        np.testing.assert_allclose(grads(rematted)[name], g, rtol=1e-6)


def test_cond_creates_both_branches_and_runs_the_taken_one():
    def model(x):
        def big(x):
            js.get_variable("calls", [], dtype=jnp.int32, trainable=False)
            js.assign_add("calls", 1)
            return x * js.get_variable("a", [], initializer=js.constant_initializer(10.0))

        def small(x):
            return x * js.get_variable("b", [], initializer=js.constant_initializer(0.1),
                                       regularizer=js.regularizers.l1(1.0))

        return js.cond(x > 1, big, small, x)

    m = js.transform(model)
    variables = m.init(0, 2.0)
    assert list(variables["params"]) == ["a", "b"]
    assert list(variables["state"]) == ["calls"]
    for x, expected, calls in ((2.0, 20.0, 2), (0.5, 0.05, 1)):
        out, aux = jax.jit(m.apply)(variables, x)
        assert float(out) == pytest.approx(expected)
        assert int(aux.updates["state"]["calls"]) == calls
        assert float(aux.losses["b"]) == pytest.approx(0.1)


def test_raw_transforms_name_the_lifted_form():
    def body(c, x):
        return c + x * js.get_variable("w", [], initializer=js.ones_initializer), None

    message = re.escape("Use the lifted form") + ".*js.scan"
    with pytest.raises(js.RawTransformError, match=message):
        js.transform(lambda xs: jax.lax.scan(body, 0.0, xs)[0]).init(0, XS)
    with pytest.raises(js.RawTransformError, match="Variable w is being created"):
        js.transform(lambda x: jax.checkpoint(lambda y: body(y, y)[0])(x)).init(0, 1.0)
    # A raw transform nested inside a lifted one is caught too.
    with pytest.raises(js.RawTransformError):
        js.transform(lambda xs: js.vmap(lambda x: jax.lax.scan(body, 0.0, x)[0])(xs)).init(
            0, jnp.ones((2, 3)))


def test_while_loop_creates_once_carries_assignments_and_sums_losses():
    def body(v):
        k = js.get_variable("k", [], initializer=js.constant_initializer(2.0))
        js.get_variable("iterations", [], dtype=jnp.int32, trainable=False)
        js.assign_add("iterations", 1)
        js.add_loss(jnp.asarray(1.0), name="per_iteration")
        return v * k

    def model(x):
        return js.while_loop(lambda v: v < js.get_variable("limit", initializer=100.0),
                             body, x)

    m = js.transform(model)
    variables = m.init(0, 3.0)
    assert sorted(variables["params"]) == ["k", "limit"]
    # init ran the loop once: 3 -> 6 -> ... -> 192 is six iterations.
    assert int(variables["state"]["iterations"]) == 6
    out, aux = jax.jit(m.apply)(variables, 3.0)
    assert float(out) == 192.0
    assert int(aux.updates["state"]["iterations"]) == 12
    assert float(aux.losses["per_iteration"]) == 6.0


def test_fori_loop_static_and_traced_bounds_match_the_python_loop():
    def body(i, v):
        return v + i * js.get_variable("w", [], initializer=js.constant_initializer(0.5))

    def static(x):
        return js.fori_loop(0, 5, body, x)

    def traced(x, n):
        return js.fori_loop(0, n, body, x)

    m = js.transform(static)
    variables = m.init(0, 1.0)
    assert float(m.apply(variables, 1.0)[0]) == 1.0 + 0.5 * 10
    t = js.transform(traced)
    out, _ = jax.jit(t.apply)(t.init(0, 1.0, 5), 1.0, 5)
    assert float(out) == 6.0
