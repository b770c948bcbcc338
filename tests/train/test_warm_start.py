"""TF1 checkpoints into jaxscope models: the image filter reproduces TensorFlow's output."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "tf1_checkpoints" / (
    "image_filter")
if not (FIXTURE / "checkpoint").exists():
    pytest.skip(f"TF1 checkpoint fixtures not found at {FIXTURE}", allow_module_level=True)
EXPECTED = np.load(FIXTURE / "expected.npz")


def conv_relu(x, kernel_shape, bias_shape):
    weights = js.get_variable("weights", kernel_shape,
                              initializer=js.random_normal_initializer())
    biases = js.get_variable("biases", bias_shape, initializer=js.constant_initializer(0.0))
    return js.nn.relu(js.nn.conv2d(x, weights, strides=[1, 1, 1, 1], padding="SAME") + biases)


def my_image_filter(images):
    with js.variable_scope("conv1"):
        relu1 = conv_relu(images, [5, 5, 32, 32], [32])
    with js.variable_scope("conv2"):
        return conv_relu(relu1, [5, 5, 32, 32], [32])


@js.transform
def two_calls(image1, image2):
    with js.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()
        return result1, my_image_filter(image2)


def check_outputs(variables):
    (out, out_reuse), _ = jax.jit(two_calls.apply)(variables, EXPECTED["input"],
                                                   EXPECTED["input_reuse"])
    np.testing.assert_allclose(out, EXPECTED["output"], rtol=1e-5, atol=2e-3)
    np.testing.assert_allclose(out_reuse, EXPECTED["output_reuse"], rtol=1e-5, atol=2e-3)


def test_saver_restores_a_tf1_checkpoint_into_the_model_by_name():
    fresh = two_calls.init(jax.random.key(0), EXPECTED["input"], EXPECTED["input_reuse"])
    prefix = js.train.latest_checkpoint(str(FIXTURE))
    assert prefix.endswith("model.ckpt-100")
    restored = js.train.Saver().restore(prefix, fresh)
    for name in fresh["params"]:
        np.testing.assert_array_equal(restored["params"][name], EXPECTED[name])
    check_outputs(restored)


def test_init_from_checkpoint_maps_scopes_as_tf1():
    fresh = two_calls.init(jax.random.key(0), EXPECTED["input"], EXPECTED["input_reuse"])
    warm = js.train.init_from_checkpoint(str(FIXTURE), {"image_filters/": "image_filters/"},
                                         fresh)
    check_outputs(warm)
    # Root-to-scope and one-variable entries.
    one = js.train.init_from_checkpoint(
        str(FIXTURE), {"image_filters/conv1/biases": "image_filters/conv1/biases"}, fresh)
    np.testing.assert_array_equal(one["params"]["image_filters/conv1/biases"],
                                  EXPECTED["image_filters/conv1/biases"])
    assert one["params"]["image_filters/conv2/weights"] is fresh["params"][
        "image_filters/conv2/weights"]

    def renamed(x):
        with js.variable_scope("tower"):
            return my_image_filter(x)

    model = js.transform(renamed)
    variables = model.init(0, EXPECTED["input"])
    warm = js.train.init_from_checkpoint(str(FIXTURE), {"image_filters/": "tower/"}, variables)
    out, _ = model.apply(warm, EXPECTED["input"])
    np.testing.assert_allclose(out, EXPECTED["output"], rtol=1e-5, atol=2e-3)


def test_init_from_checkpoint_errors_name_what_is_wrong():
    fresh = two_calls.init(jax.random.key(0), EXPECTED["input"], EXPECTED["input_reuse"])
    with pytest.raises(ValueError, match="Tensor image_filter/conv1/weights is not found"):
        js.train.init_from_checkpoint(str(FIXTURE), {"image_filter/": "image_filters/"}, fresh)
    with pytest.raises(ValueError, match="should map to scope only"):
        js.train.init_from_checkpoint(str(FIXTURE), {"image_filters": "image_filters/"}, fresh)
    small = {"params": {"image_filters/conv1/biases": jnp.zeros(3)}, "state": {}}
    message = r"Shape of variable image_filters/conv1/biases \(\(3,\)\)"
    with pytest.raises(ValueError, match=message):
        js.train.init_from_checkpoint(str(FIXTURE), {"image_filters/": "image_filters/"}, small)
