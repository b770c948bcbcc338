"""TF1 models ported by renaming ``tf.`` to ``js.``, checked against TensorFlow's own numbers.

``examples/ports/gpt2_model.py`` is openai/gpt-2's ``src/model.py`` ported; the fixture
``tests/fixtures/gpt2/`` (written by ``tests/fixtures/make_gpt2.py`` with TensorFlow 2.21's
``tf.compat.v1``) holds the original's checkpoint, outputs and gradients at tiny size.
"""

from __future__ import annotations

import importlib.util
import os

import jax
import numpy as np
import pytest

import jaxscope as js

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT2_PORT = os.path.join(REPO, "examples", "ports", "gpt2_model.py")
GPT2_DATA = os.path.join(REPO, "tests", "fixtures", "gpt2")
GPT2_CKPT = os.path.join(GPT2_DATA, "model.ckpt")
GPT2_HPARAMS = {"n_vocab": 50, "n_ctx": 16, "n_embd": 32, "n_head": 4, "n_layer": 2}
# Both sides compute in float32. Outputs (|logits| <= 1.4) differ by <= 8.3e-7; atol 2e-6
# leaves room for another CPU's XLA vectorization. Gradients reach 36 in magnitude and sum
# many terms: measured against the port run in float64, TF's float32 gradients are off by
# up to 8.6e-6 and the port's by up to 1.1e-5 (a few float32 ulps of 36), so the two can
# differ by ~2e-5 and an element near zero cannot meet rtol alone; GRAD_ATOL = 3e-5 is
# ~1e-6 of the largest gradient, and test_gpt2_gradients_match_tensorflow also bounds the
# largest difference by 1e-6 of the largest gradient.
RTOL, ATOL, GRAD_ATOL = 1e-5, 2e-6, 3e-5


def load_port(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpt2():
    port = load_port(GPT2_PORT, "gpt2_model")
    hparams = port.default_hparams().override_from_dict(GPT2_HPARAMS)
    expected = dict(np.load(os.path.join(GPT2_DATA, "expected.npz")))
    model = js.transform(lambda tokens, past=None: port.model(hparams, tokens, past=past))
    variables = jax.jit(model.init)(0, expected["tokens"])  # one compile, not one per op
    restored = js.train.Saver().restore(GPT2_CKPT, variables)
    return model, variables, restored, expected


def test_gpt2_variables_match_checkpoint(gpt2):
    _, variables, restored, _ = gpt2
    checkpoint = js.train.load_checkpoint(GPT2_CKPT)
    assert variables["state"] == {}
    made = {name: tuple(v.shape) for name, v in variables["params"].items()}
    assert made == {name: a.shape for name, a in checkpoint.items()}
    assert len(made) == 4 + 2 * 12  # wte, wpe, ln_f/{g,b}; 12 per block
    for name, value in checkpoint.items():
        np.testing.assert_array_equal(restored["params"][name], value)


def test_gpt2_forward_matches_tensorflow(gpt2):
    model, _, restored, expected = gpt2
    out, _ = jax.jit(model.apply)(restored, expected["tokens"])
    np.testing.assert_allclose(out["logits"], expected["logits"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out["present"], expected["present"], rtol=RTOL, atol=ATOL)


def test_gpt2_past_matches_tensorflow(gpt2):
    # The incremental path (unstack past, concat keys/values, shifted positions and mask).
    model, _, restored, expected = gpt2
    out, _ = jax.jit(model.apply)(restored, expected["tokens2"], expected["present"])
    np.testing.assert_allclose(out["logits"], expected["logits2"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out["present"], expected["present2"], rtol=RTOL, atol=ATOL)


def test_gpt2_gradients_match_tensorflow(gpt2):
    model, _, restored, expected = gpt2

    def loss(params):
        out, _ = model.apply({**restored, "params": params}, expected["tokens"])
        return js.reduce_sum(out["logits"] * expected["weights"])

    grads = jax.jit(jax.grad(loss))(restored["params"])
    tf_grads = {k[len("grad/"):]: v for k, v in expected.items() if k.startswith("grad/")}
    assert set(grads) == set(tf_grads)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, tf_grads[name], rtol=RTOL, atol=GRAD_ATOL, err_msg=name)
    largest = max(np.abs(g).max() for g in tf_grads.values())
    worst = max(np.abs(grads[name] - g).max() for name, g in tf_grads.items())
    assert worst <= 1e-6 * largest, (worst, largest)
