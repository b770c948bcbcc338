"""``js.layers`` convolutions and pooling against TF's op fixtures and ``jax.lax``.

Compiling dominates the cost of these tests, so each test runs its layers (and the
``lax`` references) in one jitted ``apply``, with variables made from ``specs`` or taken
from the fixtures rather than from a separate ``init`` compilation.
"""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import jaxscope as js

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops"
needs_fixtures = pytest.mark.skipif(not (FIXTURES / "conv2d.json").exists(),
                                    reason=f"no TF fixtures in {FIXTURES}")


def close(actual, expected, rtol=1e-5, atol=1e-5, what=""):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def fixture(family, select=lambda case: True):
    """``[(case, {tensor: array})]`` of the cases TF did not refuse."""
    spec = json.loads((FIXTURES / f"{family}.json").read_text())
    with np.load(FIXTURES / f"{family}.npz") as npz:
        data = {k: npz[k] for k in npz.files}
    out = []
    for case in spec["cases"]:
        if "raises" not in case and select(case):
            prefix = case["name"] + "/"
            out.append((case, {k[len(prefix):]: v for k, v in data.items()
                               if k.startswith(prefix)}))
    return out


def random_variables(model, *args, seed=0):
    """Random values for every variable ``model`` creates (trainable ones in params)."""
    rng = np.random.default_rng(seed)
    variables = {"params": {}, "state": {}}
    for name, spec in model.specs(*args).items():
        part = "params" if spec.trainable else "state"
        variables[part][name] = rng.standard_normal(spec.shape).astype(spec.dtype)
    return variables


def against_reference(fn, reference, *args):
    """Run ``fn`` (transformed) and ``reference(params, *args)`` in one jitted call."""
    model = js.transform(fn)
    variables = random_variables(model, *args)

    @jax.jit
    def both(variables, *args):
        return model.apply(variables, *args)[0], reference(variables["params"], *args)

    return both(variables, *args)


def bias_for(n):
    return np.linspace(-1.0, 1.0, n).astype(np.float32)


# -- TF's op fixtures through the layers: every case of a family in one trace ------------------
@needs_fixtures
def test_conv2d_layers_reproduce_tf_conv2d():
    cases = fixture("conv2d", lambda case: isinstance(case["attrs"]["padding"], str))
    assert len(cases) == 14

    def fn(*inputs):
        return [js.layers.conv2d(x, t["filter"].shape[-1], t["filter"].shape[:2],
                                 strides=case["attrs"]["strides"][1:3],
                                 padding=case["attrs"]["padding"].lower(),
                                 dilation_rate=case["attrs"]["dilations"][1:3])
                for x, (case, t) in zip(inputs, cases)]

    inputs = [t["input"] for _, t in cases]
    names = [f"conv2d_{i}" if i else "conv2d" for i in range(len(cases))]
    transformed = js.transform(fn)
    assert list(transformed.specs(*inputs)) == [f"{n}/{v}" for n in names
                                                for v in ("kernel", "bias")]
    params = {}
    for name, (_, t) in zip(names, cases):
        params[f"{name}/kernel"] = t["filter"]
        params[f"{name}/bias"] = bias_for(t["filter"].shape[-1])
    outputs, _ = jax.jit(transformed.apply)({"params": params, "state": {}}, *inputs)
    for name, out, (case, t) in zip(names, outputs, cases):
        close(out, t["output"] + params[f"{name}/bias"], what=case["name"])


@needs_fixtures
def test_conv2d_transpose_layers_reproduce_tf():
    # Keras infers the output size (size * stride for "same", + max(k - s, 0) for "valid");
    # two fixture cases ask TF for other sizes, which a layer cannot express.
    cases = fixture("conv2d_transpose", lambda case: case["name"] not in (
        "same_s2_k3_odd_out", "valid_s2_k3_extra_row"))
    assert len(cases) == 6

    def fn(*values):
        return [js.layers.conv2d_transpose(v, t["filter"].shape[2], t["filter"].shape[:2],
                                           strides=case["attrs"]["strides"][1:3],
                                           padding=case["attrs"]["padding"])
                for v, (case, t) in zip(values, cases)]

    values = [t["value"] for _, t in cases]
    model = js.transform(fn)
    specs = model.specs(*values)
    params = {}
    for i, (_, t) in enumerate(cases):
        name = f"conv2d_transpose_{i}" if i else "conv2d_transpose"
        assert specs[f"{name}/kernel"].shape == t["filter"].shape  # [kh, kw, out, in]
        params[f"{name}/kernel"] = t["filter"]
        params[f"{name}/bias"] = bias_for(t["filter"].shape[2])
    assert set(specs) == set(params)
    outputs, _ = jax.jit(model.apply)({"params": params, "state": {}}, *values)
    for i, (out, (case, t)) in enumerate(zip(outputs, cases)):
        bias = params[f"conv2d_transpose_{i}/bias" if i else "conv2d_transpose/bias"]
        assert list(out.shape) == case["attrs"]["output_shape"], case["name"]
        close(out, t["output"] + bias, what=case["name"])


@needs_fixtures
def test_pooling2d_layers_reproduce_tf():
    max_cases, avg_cases = fixture("max_pool"), fixture("avg_pool")

    def fn(*xs):
        outs = []
        for x, (case, _) in zip(xs, max_cases + avg_cases):
            attrs = case["attrs"]
            pool = (js.layers.MaxPooling2D if len(outs) < len(max_cases)
                    else js.layers.AveragePooling2D)
            outs.append(pool(attrs["ksize"][1:3], attrs["strides"][1:3],
                             padding=attrs["padding"].lower())(x))
        return outs

    inputs = [t["input"] for _, t in max_cases + avg_cases]
    model = js.transform(fn)
    assert model.specs(*inputs) == {}
    outputs, _ = jax.jit(model.apply)({"params": {}, "state": {}}, *inputs)
    for out, (case, t) in zip(outputs, max_cases + avg_cases):
        close(out, t["output"], what=case["name"])


# -- against jax.lax ---------------------------------------------------------------------------
def lax_conv(x, w, strides, padding, dilation, dims, groups=1):
    return lax.conv_general_dilated(x, w, strides, padding, rhs_dilation=dilation,
                                    dimension_numbers=dims, feature_group_count=groups)


def test_conv1d_conv3d_and_causal_against_lax():
    rng = np.random.default_rng(3)
    x1 = rng.standard_normal([2, 11, 3]).astype(np.float32)
    x3 = rng.standard_normal([1, 5, 6, 7, 2]).astype(np.float32)

    def fn(x1, x3):
        return (js.layers.conv1d(x1, 4, 3, strides=2, padding="SAME", name="a"),
                js.layers.conv1d(x1, 4, 3, dilation_rate=2, padding="causal", name="b"),
                js.layers.conv3d(x3, 3, (2, 3, 2), strides=(1, 2, 1), name="c",
                                 activation=jax.nn.relu))

    def reference(p, x1, x3):
        causal = jnp.pad(x1, [(0, 0), (4, 0), (0, 0)])
        nwc = ("NWC", "WIO", "NWC")
        return (lax_conv(x1, p["a/kernel"], (2,), "SAME", (1,), nwc) + p["a/bias"],
                lax_conv(causal, p["b/kernel"], (1,), "VALID", (2,), nwc) + p["b/bias"],
                jax.nn.relu(lax_conv(x3, p["c/kernel"], (1, 2, 1), "VALID", (1, 1, 1),
                                     ("NDHWC", "DHWIO", "NDHWC")) + p["c/bias"]))

    outputs, expected = against_reference(fn, reference, x1, x3)
    assert outputs[1].shape == (2, 11, 4)  # causal keeps the length
    for out, ref in zip(outputs, expected):
        close(out, ref)
    with pytest.raises(ValueError, match="padding"):
        js.layers.Conv2D(2, 3, padding="causal")


def test_separable_convolutions_against_lax():
    x = np.random.default_rng(4).standard_normal([2, 9, 9, 3]).astype(np.float32)

    def fn(x):
        return (js.layers.separable_conv2d(x, 5, 3, strides=2, padding="same",
                                           depth_multiplier=2),
                js.layers.separable_conv1d(x[:, 0], 4, 3, dilation_rate=2))

    def reference(p, x):
        nhwc, nwc = ("NHWC", "HWIO", "NHWC"), ("NWC", "WIO", "NWC")
        dw = p["separable_conv2d/depthwise_kernel"].reshape(3, 3, 1, 6)
        y2 = lax_conv(lax_conv(x, dw, (2, 2), "SAME", (1, 1), nhwc, groups=3),
                      p["separable_conv2d/pointwise_kernel"], (1, 1), "VALID", (1, 1), nhwc)
        dw1 = p["separable_conv1d/depthwise_kernel"].reshape(3, 1, 3)
        y1 = lax_conv(lax_conv(x[:, 0], dw1, (1,), "VALID", (2,), nwc, groups=3),
                      p["separable_conv1d/pointwise_kernel"], (1,), "VALID", (1,), nwc)
        return y2 + p["separable_conv2d/bias"], y1 + p["separable_conv1d/bias"]

    specs = js.transform(fn).specs(x)
    assert {k: s.shape for k, s in specs.items()} == {
        "separable_conv2d/depthwise_kernel": (3, 3, 3, 2),
        "separable_conv2d/pointwise_kernel": (1, 1, 6, 5),
        "separable_conv2d/bias": (5,),
        "separable_conv1d/depthwise_kernel": (3, 3, 1),
        "separable_conv1d/pointwise_kernel": (1, 3, 4),
        "separable_conv1d/bias": (4,),
    }
    assert list(specs) == ["separable_conv2d/depthwise_kernel",
                           "separable_conv2d/pointwise_kernel", "separable_conv2d/bias",
                           "separable_conv1d/depthwise_kernel",
                           "separable_conv1d/pointwise_kernel", "separable_conv1d/bias"]
    outputs, expected = against_reference(fn, reference, x)
    for out, ref in zip(outputs, expected):
        close(out, ref)


def test_channels_first_matches_channels_last():
    x = np.random.default_rng(5).standard_normal([2, 7, 8, 3]).astype(np.float32)

    def fn(x, xt):
        # each channels_first layer shares the variables of the channels_last one before it
        def pair(layer, *args, **kwargs):
            last = layer(x, *args, name="last", **kwargs)
            first = layer(xt, *args, data_format="channels_first", name="last", reuse=True,
                          **kwargs)
            return last, jnp.moveaxis(first, 1, -1)

        with js.variable_scope("conv"):
            conv = pair(js.layers.conv2d, 4, 3, 2, "same")
        with js.variable_scope("deconv"):
            deconv = pair(js.layers.conv2d_transpose, 4, 3, 2, "valid")
        with js.variable_scope("sep"):
            sep = pair(js.layers.separable_conv2d, 4, 2, depth_multiplier=2)
        conv1 = (js.layers.conv1d(x[:, 0], 4, 2, name="c1"),
                 jnp.moveaxis(js.layers.conv1d(xt[:, :, 0], 4, 2, data_format="channels_first",
                                               name="c1", reuse=True), 1, -1))
        pools = [(js.layers.max_pooling2d(x, 3, 2, "same"),
                  jnp.moveaxis(js.layers.max_pooling2d(xt, 3, 2, "same", "channels_first"),
                               1, -1)),
                 (js.layers.average_pooling2d(x, 2, 1),
                  jnp.moveaxis(js.layers.average_pooling2d(
                      xt, 2, 1, data_format="channels_first"), 1, -1))]
        return [conv, deconv, sep, conv1, *pools]

    xt = np.moveaxis(x, -1, 1)
    outputs, _ = against_reference(fn, lambda p, *a: (), x, xt)
    for last, first in outputs:
        close(first, last)


def test_pooling_1d_and_3d_against_lax():
    rng = np.random.default_rng(8)
    x1 = rng.standard_normal([2, 9, 3]).astype(np.float32)
    x3 = rng.standard_normal([1, 4, 5, 6, 2]).astype(np.float32)

    def fn(x1, x3):
        return (js.layers.max_pooling1d(x1, 3, 2), js.layers.average_pooling1d(x1, 2, 2),
                js.layers.max_pooling3d(x3, 2, (1, 2, 3)),
                js.layers.average_pooling3d(x3, (2, 2, 2), 2))

    def reference(p, x1, x3):
        window = lax.reduce_window
        return (window(x1, -jnp.inf, lax.max, (1, 3, 1), (1, 2, 1), "VALID"),
                window(x1, 0.0, lax.add, (1, 2, 1), (1, 2, 1), "VALID") / 2,
                window(x3, -jnp.inf, lax.max, (1, 2, 2, 2, 1), (1, 1, 2, 3, 1), "VALID"),
                window(x3, 0.0, lax.add, (1, 2, 2, 2, 1), (1, 2, 2, 2, 1), "VALID") / 8)

    outputs, expected = against_reference(fn, reference, x1, x3)
    for out, ref in zip(outputs, expected):
        close(out, ref)


def test_argument_checks():
    with pytest.raises(ValueError, match="kernel_size"):
        js.layers.Conv2D(3, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        js.layers.MaxPooling2D(2, 2, padding="full")
    with pytest.raises(ValueError, match="ndim=4"):
        js.transform(lambda x: js.layers.conv2d(x, 2, 3)).specs(jnp.ones([2, 5, 3]))
    with pytest.raises(TypeError):
        js.layers.max_pooling2d(jnp.ones([1, 4, 4, 1]), 2)  # strides are required, as TF1


def test_conv_regularizers_trainable_and_names():
    def fn(x):
        h = js.layers.conv2d(x, 2, 3, kernel_regularizer=js.regularizers.l2(1.0),
                             trainable=False)
        h = js.layers.conv2d_transpose(h, 2, 2, strides=2,
                                       bias_regularizer=js.regularizers.l1(1.0),
                                       bias_initializer=js.constant_initializer(0.5))
        return js.layers.conv2d(h, 1, 1, activity_regularizer=lambda y: jnp.sum(y * 0 + 1.0))

    x = jnp.ones([2, 6, 6, 1])
    model = js.transform(fn)
    specs = model.specs(x)
    assert [k for k, s in specs.items() if not s.trainable] == ["conv2d/kernel", "conv2d/bias"]
    assert [k for k, s in specs.items() if s.trainable] == [
        "conv2d_transpose/kernel", "conv2d_transpose/bias", "conv2d_1/kernel", "conv2d_1/bias"]
    variables = jax.jit(model.init)(jax.random.key(0), x)
    assert set(variables["state"]) == {"conv2d/kernel", "conv2d/bias"}  # frozen: in state
    out, aux = jax.jit(model.apply)(variables, x)
    assert out.shape == (2, 8, 8, 1)
    assert set(aux.losses) == {"conv2d/kernel", "conv2d_transpose/bias",
                               "conv2d_1/ActivityRegularizer"}
    close(aux.losses["conv2d/kernel"], jnp.sum(variables["state"]["conv2d/kernel"] ** 2) / 2)
    close(aux.losses["conv2d_transpose/bias"], 1.0)
    close(aux.losses["conv2d_1/ActivityRegularizer"], 64.0)  # 2 * 8 * 8 / batch 2


# -- a small conv net: jit and grad ------------------------------------------------------------
POOL = js.layers.MaxPooling2D(2, 2)  # a module-level layer object


def convnet(images, training):
    x = js.layers.conv2d(images, 4, 3, padding="same", activation=js.nn.relu)
    x = js.layers.batch_normalization(x, training=training)
    x = POOL(x)
    x = js.layers.separable_conv2d(x, 6, 3, padding="same")
    x = js.layers.dropout(js.layers.flatten(x), 0.1, training=training)
    return js.layers.dense(x, 3)


def test_jit_and_grad_through_a_conv_net():
    model = js.transform(convnet)
    images = np.random.default_rng(10).standard_normal([4, 8, 8, 2]).astype(np.float32)
    labels = jnp.array([0, 1, 2, 1])
    variables = jax.jit(lambda rng, x: model.init(rng, x, True))(jax.random.key(0), images)
    assert sorted(variables["state"]) == ["batch_normalization/moving_mean",
                                          "batch_normalization/moving_variance"]

    def loss(params, state, rng):
        variables = {"params": params, "state": state}
        logits, aux = model.apply(variables, images, True, rng=rng)
        xent = js.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        inference, _ = model.apply(js.merge(variables, aux.updates), images, False)
        return jnp.mean(xent), (aux.updates["state"], inference)

    step = jax.jit(jax.value_and_grad(loss, has_aux=True))
    (value, (new_state, inference)), grads = step(variables["params"], variables["state"],
                                                  jax.random.key(1))
    assert np.isfinite(float(value))
    assert inference.shape == (4, 3)
    assert set(grads) == set(variables["params"])
    for name, g in grads.items():
        assert np.isfinite(np.asarray(g)).all(), name
        assert float(jnp.abs(g).sum()) > 0, name
    assert float(jnp.abs(new_state["batch_normalization/moving_mean"]).sum()) > 0
