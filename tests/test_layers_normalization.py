"""``js.layers.batch_normalization`` against ``fixtures/tf_ops/batch_normalization``."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops"


def close(actual, expected, rtol=1e-5, atol=1e-6):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def fixture_cases():
    if not (FIXTURES / "batch_normalization.json").exists():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="no TF fixtures"))]
    spec = json.loads((FIXTURES / "batch_normalization.json").read_text())
    with np.load(FIXTURES / "batch_normalization.npz") as npz:
        data = {k: npz[k] for k in npz.files}
    params = []
    for case in spec["cases"]:
        prefix = case["name"] + "/"
        tensors = {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}
        params.append(pytest.param(case, tensors, id=case["name"]))
    return params


def fixture_model(attrs):
    """Inference, one training step, inference again: one layer, as the fixture.

    The second inference is in the same call, so it still sees the statistics as they were
    (API decision 13: the training step's update lands when the call ends, as TF1's
    UPDATE_OPS); the fixture's ``output_inference_after`` is the next call's inference."""

    def model(x, training=True):
        kwargs = dict(axis=attrs["axis"], momentum=attrs["momentum"],
                      epsilon=attrs["epsilon"], name=attrs["name"])
        before = js.layers.batch_normalization(x, training=False, **kwargs)
        train = js.layers.batch_normalization(x, training=training, reuse=True, **kwargs)
        after = js.layers.batch_normalization(x, training=False, reuse=True, **kwargs)
        return before, train, after, len(js.get_collection(js.GraphKeys.UPDATE_OPS))

    return js.transform(model)


def fixture_variables(model, t, name):
    variables = model.init(0, t["input"])
    variables["params"][f"{name}/gamma"] = jnp.asarray(t["gamma"])
    variables["params"][f"{name}/beta"] = jnp.asarray(t["beta"])
    assert set(variables["state"]) == {f"{name}/moving_mean", f"{name}/moving_variance"}
    variables["state"][f"{name}/moving_mean"] = jnp.asarray(t["moving_mean_before"])
    variables["state"][f"{name}/moving_variance"] = jnp.asarray(t["moving_variance_before"])
    return variables


@pytest.mark.parametrize(("case", "t"), fixture_cases())
def test_batch_normalization_reproduces_tensorflow(case, t):
    attrs, name = case["attrs"], case["attrs"]["name"]
    model = fixture_model(attrs)
    specs = model.specs(t["input"])
    assert list(specs) == case["variables"]
    assert [k for k, s in specs.items() if s.trainable] == case["trainable_variables"]
    variables = fixture_variables(model, t, name)
    assert list(variables["params"]) == case["trainable_variables"]
    (before, train, same_call, n_updates), aux = model.apply(variables, t["input"])
    np.testing.assert_array_equal(same_call, before)  # the old statistics
    (after, _, _, _), _ = model.apply(js.merge(variables, aux.updates), t["input"])
    assert n_updates == attrs["n_update_ops"]
    close(before, t["output_inference_before"])
    close(train, t["output_train"])
    close(aux.updates["state"][f"{name}/moving_mean"], t["moving_mean_after"])
    close(aux.updates["state"][f"{name}/moving_variance"], t["moving_variance_after"])
    close(after, t["output_inference_after"])
    assert aux.losses == {}
    # gamma/beta are not returned: only what the call assigned comes back
    assert aux.updates["params"] == {}
    assert set(aux.updates["state"]) == {f"{name}/moving_mean", f"{name}/moving_variance"}


@pytest.mark.parametrize(("case", "t"), fixture_cases())
def test_moving_variance_uses_unbiased_variance_only_with_the_fused_kernel(case, t):
    attrs, name = case["attrs"], case["attrs"]["name"]
    model = fixture_model(attrs)
    _, aux = model.apply(fixture_variables(model, t, name), t["input"])
    x = np.asarray(t["input"], np.float64)
    n = x.size // x.shape[-1]
    var = x.reshape(-1, x.shape[-1]).var(0)
    expected = var * n / (n - 1) if attrs["fused_kernel_used"] else var
    m = attrs["momentum"]
    close(aux.updates["state"][f"{name}/moving_variance"], m * 1 + (1 - m) * expected)
    other = var if attrs["fused_kernel_used"] else var * n / (n - 1)
    assert not np.allclose(aux.updates["state"][f"{name}/moving_variance"], m + (1 - m) * other,
                           rtol=1e-6, atol=0)


@pytest.mark.parametrize(("case", "t"), fixture_cases())
def test_traced_training_flag_matches_static(case, t):
    attrs, name = case["attrs"], case["attrs"]["name"]
    model = fixture_model(attrs)
    variables = fixture_variables(model, t, name)
    apply = jax.jit(lambda v, x, training: model.apply(v, x, training))
    (_, train, _, _), aux = apply(variables, t["input"], jnp.array(True))
    (after, _, _, _), _ = apply(js.merge(variables, aux.updates), t["input"], jnp.array(False))
    close(train, t["output_train"])
    close(aux.updates["state"][f"{name}/moving_mean"], t["moving_mean_after"])
    close(after, t["output_inference_after"])
    (_, train, _, _), aux = apply(variables, t["input"], jnp.array(False))
    close(train, t["output_inference_before"])
    close(aux.updates["state"][f"{name}/moving_mean"], t["moving_mean_before"], atol=0)


def test_init_returns_initial_moving_statistics():
    model = js.transform(lambda x: js.layers.batch_normalization(x, training=True))
    x = jax.random.normal(jax.random.key(0), [8, 3]) + 5.0
    variables = model.init(0, x)
    close(variables["state"]["batch_normalization/moving_mean"], np.zeros(3), atol=0)
    close(variables["state"]["batch_normalization/moving_variance"], np.ones(3), atol=0)
    y, aux = model.apply(variables, x)
    close(y.mean(0), np.zeros(3), atol=1e-5)
    assert float(aux.updates["state"]["batch_normalization/moving_mean"].min()) > 0.04


def batch_norm_reference(x, axes, gamma, beta, eps=1e-3):
    reduce = tuple(i for i in range(x.ndim) if i not in axes)
    mean = x.mean(reduce, keepdims=True)
    var = x.var(reduce, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


@pytest.mark.parametrize(("shape", "axis", "fused"), [
    ((4, 3, 5, 5), 1, None),  # NCHW: fused kernel
    ((4, 5, 5, 3), 3, False),  # NHWC, forced unfused
    ((2, 3, 4, 5, 6), 1, None),  # NCDHW: fused
    ((6, 3, 4), 1, None),  # rank 3, middle axis: unfused
    ((4, 3, 5), [1, 2], None),  # two feature axes
])
def test_other_axes(shape, axis, fused):
    x = (np.random.default_rng(1).standard_normal(shape) * 2 + 1).astype(np.float32)
    model = js.transform(lambda x: js.layers.batch_normalization(
        x, axis=axis, training=True, fused=fused,
        gamma_initializer=js.constant_initializer(1.5),
        beta_initializer=js.constant_initializer(0.25)))
    variables = jax.jit(model.init)(jax.random.key(0), x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    expected_shape = ((shape[axis],) if isinstance(axis, int)
                      else tuple(s if i in axes else 1 for i, s in enumerate(shape)))
    assert variables["params"]["batch_normalization/gamma"].shape == expected_shape
    y, aux = jax.jit(model.apply)(variables, x)
    close(y, batch_norm_reference(x, axes, 1.5, 0.25), rtol=1e-4, atol=1e-5)
    reduce = tuple(i for i in range(x.ndim) if i not in axes)
    mean = x.mean(reduce).reshape(expected_shape)
    close(aux.updates["state"]["batch_normalization/moving_mean"], 0.01 * mean,
          rtol=1e-4, atol=1e-6)


def test_center_scale_off_trainable_off_and_half_inputs():
    x = jax.random.normal(jax.random.key(2), [4, 2, 2, 3]).astype(jnp.bfloat16)
    model = js.transform(lambda x: js.layers.BatchNormalization(
        center=False, scale=False, trainable=False)(x, training=True))
    variables = model.init(0, x)
    assert variables["params"] == {}
    assert list(variables["state"]) == ["batch_normalization/moving_mean",
                                        "batch_normalization/moving_variance"]
    assert variables["state"]["batch_normalization/moving_mean"].dtype == jnp.float32
    y, _ = model.apply(variables, x)
    assert y.dtype == jnp.bfloat16
    close(np.asarray(y, np.float32),
          batch_norm_reference(np.asarray(x, np.float32), (3,), 1.0, 0.0), rtol=0, atol=2e-2)


def test_regularizers_and_unsupported_arguments():
    model = js.transform(lambda x: js.layers.batch_normalization(
        x, gamma_regularizer=js.regularizers.l2(1.0), name="bn"))
    x = jnp.ones([2, 3])
    _, aux = model.apply(model.init(0, x), x)
    close(aux.losses["bn/gamma"], 1.5)
    with pytest.raises(NotImplementedError, match="renorm"):
        js.layers.BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="Invalid axis"):
        js.transform(lambda x: js.layers.batch_normalization(x, axis=2)).init(0, x)


def test_moving_statistics_are_not_partitioned():
    def fn(x):
        with js.variable_scope("s", partitioner=js.fixed_size_partitioner(2)):
            return js.layers.batch_normalization(x)

    specs = js.transform(fn).specs(jnp.ones([2, 4]))
    assert specs["s/batch_normalization/gamma"].partitioner is not None
    assert specs["s/batch_normalization/moving_mean"].partitioner is None
    assert specs["s/batch_normalization/moving_variance"].partitioner is None
