"""TensorFlow 1's "Sharing Variables" image filter, in jaxscope.

The model code below is the guide's, line for line, with `js.` for `tf.`. What changes
is around it: `js.transform` turns the model into two pure functions, `init` (creates
the variables, returns them as a dict) and `apply` (runs the model on given variables),
so training is plain JAX + optax.

Run:  python examples/image_filter.py [--steps 200]
"""

import argparse
import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

import jaxscope as js


def conv2d(x, w):
    """tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME"), NHWC images, HWIO kernels."""
    return jax.lax.conv_general_dilated(
        x, w, window_strides=(1, 1), padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def conv_relu(input, kernel_shape, bias_shape):  # noqa: A002 - the guide's name
    # Create variable named "weights".
    # (The guide uses stddev=1.0; a smaller spread keeps this demo's numbers readable.)
    weights = js.get_variable(
        "weights", kernel_shape, initializer=js.random_normal_initializer(stddev=0.02)
    )
    # Create variable named "biases".
    biases = js.get_variable("biases", bias_shape, initializer=js.constant_initializer(0.0))
    conv = conv2d(input, weights)
    return jax.nn.relu(conv + biases)


def my_image_filter(input_images):
    with js.variable_scope("conv1"):
        # Variables created here will be named "conv1/weights", "conv1/biases".
        relu1 = conv_relu(input_images, [5, 5, 32, 32], [32])
    with js.variable_scope("conv2"):
        # Variables created here will be named "conv2/weights", "conv2/biases".
        return conv_relu(relu1, [5, 5, 32, 32], [32])


@js.transform
def model(image1, image2):
    with js.variable_scope("image_filters") as scope:
        result1 = my_image_filter(image1)
        scope.reuse_variables()
        result2 = my_image_filter(image2)
    return result1, result2


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps (default 200)")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="Adam's step size")
    parser.add_argument("--seed", type=int, default=0, help="seed of the images and variables")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    # Two batches of two 16x16 images with 32 channels, as the guide's [5, 5, 32, 32] kernels need.
    image1 = jnp.asarray(rng.standard_normal([2, 16, 16, 32]), jnp.float32)
    image2 = jnp.asarray(rng.standard_normal([2, 16, 16, 32]), jnp.float32)

    # init runs the model once to create the variables: 4 of them, not 8.
    variables = model.init(jax.random.key(args.seed), image1, image2)
    print(js.summary(variables))

    # apply runs it on those variables; both calls read the same four.
    (result1, result2), _ = model.apply(variables, image1, image1)
    print("\nsame image, same variables -> same result:", bool(jnp.array_equal(result1, result2)))

    # Without scope.reuse_variables(), the second call is refused, as in TF1.
    def careless(image1, image2):
        my_image_filter(image1)
        return my_image_filter(image2)

    try:
        js.transform(careless).init(jax.random.key(0), image1, image2)
    except ValueError as err:
        print("calling the filter twice without reuse:", str(err).split("?")[0] + "?")

    # Train both calls to rectify their images (target: relu(image)), with optax.
    def loss_fn(params):
        (result1, result2), _ = model.apply({"params": params, "state": {}}, image1, image2)
        return jnp.mean((result1 - jax.nn.relu(image1)) ** 2) + jnp.mean(
            (result2 - jax.nn.relu(image2)) ** 2
        )

    optimizer = optax.adam(args.learning_rate)

    @jax.jit
    def train_step(params, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    params = variables["params"]
    opt_state = optimizer.init(params)
    first_loss = loss = None
    with tqdm(range(args.steps), desc="training", unit="step") as bar:
        for _ in bar:
            params, opt_state, loss = train_step(params, opt_state)
            first_loss = float(loss) if first_loss is None else first_loss
            bar.set_postfix(loss=f"{float(loss):.4f}")

    # variable_scope also names operations: the compiled code carries TF1-style op names
    # (the second call's name scopes are conv1_1, conv2_1; its variables are shared).
    hlo = jax.jit(model.apply).lower(variables, image1, image2).as_text(debug_info=True)
    op_names = sorted(set(re.findall(r'loc\("jit\(model\)/(image_filters/[^"]+)"', hlo)))
    print("\nop names in the compiled HLO:")
    for name in op_names:
        print("  " + name)
    print(f"\nfinal: loss {float(loss):.4f} after {args.steps} steps (from {first_loss:.4f})")


if __name__ == "__main__":
    main()
