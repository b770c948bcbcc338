"""Porting a TensorFlow 1 model: load TensorFlow's checkpoint into jaxscope and check outputs.

You have TF1 model code and a checkpoint that TensorFlow wrote from it. Porting is:

1. copy the model code, with ``js.`` for ``tf.`` (the variable names come out the same,
   because ``variable_scope``/``get_variable`` name them as TF1 does);
2. ``js.train.list_variables`` shows what the checkpoint holds, no TensorFlow needed;
3. ``model.init`` builds the variables' structure, ``js.train.Saver().restore`` fills it
   with TensorFlow's values by name (checking every shape and dtype);
4. run ``apply`` on inputs TensorFlow saw and compare with TensorFlow's outputs;
5. save the result as a jaxscope checkpoint, and carry on in JAX.

The model is the image filter of TF1's "Sharing Variables" guide (two 5x5x32x32
convolutions under ``image_filters/``, called twice with ``scope.reuse_variables()``).
``examples/data/tf1_image_filter/`` holds a checkpoint written by TensorFlow's
``tf.compat.v1.train.Saver`` at global step 100, and ``expected.npz``: inputs and the
outputs TensorFlow computed from them with that checkpoint's variables.

Run:  python examples/tf1_port.py [--checkpoint examples/data/tf1_image_filter] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

import jaxscope as js

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CHECKPOINT = os.path.join(HERE, "data", "tf1_image_filter")

# TensorFlow computed in float32, with outputs up to ~1.2e3 in size (std-1 weights): its
# fixtures README measures |TF - float64 reference| <= 6e-4 and advises these tolerances.
RTOL, ATOL = 1e-5, 2e-3


# -- the TF1 model code, line for line, with js. for tf. ------------------------------------
def conv_relu(input, kernel_shape, bias_shape):  # noqa: A002 - the guide's name
    # Create variable named "weights".  (TF1: tf.get_variable(..., tf.random_normal_initializer()))
    weights = js.get_variable("weights", kernel_shape, initializer=js.random_normal_initializer())
    # Create variable named "biases".
    biases = js.get_variable("biases", bias_shape, initializer=js.constant_initializer(0.0))
    conv = js.nn.conv2d(input, weights, strides=[1, 1, 1, 1], padding="SAME")
    return js.nn.relu(conv + biases)


def my_image_filter(input_images):
    with js.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with js.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


def two_filters(image1, image2):
    """The guide's graph: the filter twice, the second call sharing the first's variables."""
    with js.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()
        result2 = my_image_filter(image2)
    return result1, result2


# TF1 built a graph and ran it in a Session; js.transform gives two pure functions instead:
# model.init(rng, ...) -> variables, model.apply(variables, ...) -> (outputs, aux).
model = js.transform(two_filters)


@js.transform
def renamed_model(image1, image2):
    """The same code under a new top scope, as ported code often is ("ported/image_filters/...")."""
    with js.variable_scope("ported"):
        return two_filters(image1, image2)


# -- the porting steps ---------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", default=DEFAULT_CHECKPOINT,
        help="folder with TensorFlow's checkpoint and expected.npz "
             "(default examples/data/tf1_image_filter)")
    parser.add_argument(
        "--workdir", default=None,
        help="where the jaxscope checkpoint is written (default: a new temporary folder)")
    return parser.parse_args(argv)


def show_checkpoint_contents(prefix: str) -> list[tuple[str, tuple[int, ...]]]:
    """Print the checkpoint's names and shapes (TF1: tf.train.list_variables)."""
    listing = js.train.list_variables(prefix)
    print(f"TensorFlow checkpoint {os.path.relpath(prefix)}:")
    for name, shape in listing:
        print(f"  {name:32s} {list(shape)}")
    return listing


def max_abs_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def compare_with_tensorflow(variables, expected) -> tuple[float, bool, int]:
    """Run apply image by image on TensorFlow's inputs; (max |diff|, allclose, #outputs)."""
    apply = jax.jit(model.apply)  # one compilation: every image has the same shape
    worst, close, count = 0.0, True, 0
    n_images = expected["input"].shape[0]
    for i in tqdm(range(n_images), desc="comparing with TensorFlow", unit="image"):
        # The two calls of the graph: `input` through the first, `input_reuse` through the
        # second (shared) one; TensorFlow's results are `output` and `output_reuse`.
        image1, image2 = expected["input"][i : i + 1], expected["input_reuse"][i : i + 1]
        (result1, result2), _ = apply(variables, image1, image2)
        for ours, theirs in ((result1, expected["output"][i : i + 1]),
                             (result2, expected["output_reuse"][i : i + 1])):
            worst = max(worst, max_abs_diff(ours, theirs))
            close &= bool(np.allclose(ours, theirs, rtol=RTOL, atol=ATOL))
            count += theirs.size
    # Each output sums 2 x 800 float32 products of std-1 weights: rounding differences of
    # float32 (~1e-7 relative) times the outputs' scale (~1e3) are ~1e-4..1e-3 absolute.
    scale = max(np.max(np.abs(expected["output"])), np.max(np.abs(expected["output_reuse"])))
    print(f"max |jaxscope - TensorFlow| = {worst:.1e} for outputs up to {scale:.0f} "
          f"({worst / scale:.1e} of their scale)")
    print(f"np.allclose(jaxscope, TensorFlow, rtol={RTOL}, atol={ATOL}): {close}")
    return worst, close, count


def global_step_of(prefix: str) -> int | None:
    """TF1 writes the global step into the file name: model.ckpt-100 -> 100."""
    match = re.search(r"-(\d+)$", prefix)
    return int(match.group(1)) if match else None


def same_variables(a, b) -> bool:
    return all(
        a[c].keys() == b[c].keys()
        and all(np.array_equal(np.asarray(a[c][k]), np.asarray(b[c][k])) for k in a[c])
        for c in ("params", "state")
    )


def main(argv=None):
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="tf1_port_")
    os.makedirs(workdir, exist_ok=True)
    expected = dict(np.load(os.path.join(args.checkpoint, "expected.npz")))

    # 1. What TensorFlow saved. A directory's `checkpoint` state file names the latest
    #    prefix, as tf.train.latest_checkpoint reads it.
    prefix = js.train.latest_checkpoint(args.checkpoint)
    if prefix is None:
        sys.exit(f"no checkpoint found in {args.checkpoint}")
    listing = show_checkpoint_contents(prefix)

    # 2. The model's variables: init traces the code once; the TF names come out as TF1's.
    image1, image2 = jnp.asarray(expected["input"]), jnp.asarray(expected["input_reuse"])
    variables = model.init(jax.random.key(0), image1, image2)
    print("\nthe ported model's variables (freshly initialized):")
    print(js.summary(variables))
    in_model = set(variables["params"]) | set(variables["state"])
    in_checkpoint = {name for name, _ in listing}
    print(f"\nmodel names == checkpoint names: {'yes' if in_model == in_checkpoint else 'no'}")
    if in_model != in_checkpoint:
        print("  only in the model:", sorted(in_model - in_checkpoint))
        print("  only in the checkpoint:", sorted(in_checkpoint - in_model))

    # The comparison has teeth: random weights are far from TensorFlow's outputs.
    (fresh, _), _ = jax.jit(model.apply)(variables, image1, image2)
    print(f"before restoring, max |jaxscope - TensorFlow| = "
          f"{max_abs_diff(fresh, expected['output']):.1f}")

    # 3. TF1: saver = tf.train.Saver(); saver.restore(sess, prefix). Here restore returns
    #    new variables, each replaced by the checkpoint's value of the same name after a
    #    shape and dtype check (a mismatch is an error, not a silent broadcast).
    restored = js.train.Saver().restore(prefix, variables)
    bitwise = all(np.array_equal(np.asarray(restored["params"][name]), expected[name])
                  for name in expected["__variable_names__"])
    print(f"restored values == TensorFlow's saved values (bitwise): {'yes' if bitwise else 'no'}")

    # A renamed scope is what tf.train.init_from_checkpoint's assignment map is for.
    renamed = renamed_model.init(jax.random.key(1), image1, image2)
    renamed = js.train.init_from_checkpoint(
        prefix, {"image_filters/": "ported/image_filters/"}, renamed)
    (out_renamed, _), _ = jax.jit(renamed_model.apply)(renamed, image1, image2)
    (out_restored, _), _ = jax.jit(model.apply)(restored, image1, image2)
    same = bool(jnp.array_equal(out_renamed, out_restored))
    print("init_from_checkpoint({'image_filters/': 'ported/image_filters/'}) gives the same "
          f"outputs: {'yes' if same else 'no'}")

    # 4. TensorFlow's inputs through jaxscope, against TensorFlow's outputs.
    worst, close, count = compare_with_tensorflow(restored, expected)

    # 5. Keep the port as a jaxscope checkpoint (safetensors + TF1's `checkpoint` file).
    saved = js.train.Saver().save(
        restored, os.path.join(workdir, "model.ckpt"), global_step=global_step_of(prefix))
    reloaded = js.train.Saver().restore(js.train.latest_checkpoint(workdir))
    print(f"\nsaved the port as {saved}")
    print("  files:", ", ".join(sorted(os.listdir(workdir))))
    round_trip = same_variables(reloaded, restored)
    print(f"  reloads to the same variables: {'yes' if round_trip else 'no'}")

    matches = close and bitwise and same and round_trip
    print(f"\nfinal: max |jaxscope - TensorFlow| = {worst:.1e} over {count} outputs "
          f"(matches: {'yes' if matches else 'no'})")
    return 0 if matches else 1


if __name__ == "__main__":
    sys.exit(main())
