"""Data parallelism on one machine: a jaxscope classifier trained over 8 CPU devices.

TF1 did data parallelism by hand: one "tower" of the model per GPU, variables shared
between the towers through ``variable_scope(..., reuse=True)`` and kept on the CPU, the
batch split with ``tf.split``, and the towers' gradients averaged before one
``apply_gradients`` (the CIFAR-10 tutorial's ``cifar10_multi_gpu_train.py``). With
jaxscope the model is written once, for one batch; what makes it data parallel is where
the arrays live:

* a device mesh with one axis, ``("data",)``, of 8 devices;
* the variables replicated (``model.shardings(mesh, x)`` answers ``PartitionSpec()`` for
  every variable without a ``partitioner=``), so every device holds the whole model;
* each batch split along ``"data"`` (``NamedSharding(mesh, P("data"))``): each device
  gets batch_size / 8 examples;
* one ``jax.jit`` train step with those ``in_shardings``/``out_shardings``. XLA compiles
  the per-device program and inserts the all-reduce that sums the gradients over the
  devices (the towers' gradient averaging of TF1, done for you).

So the 8-device run computes the same function as a 1-device run: the script trains the
same model from the same variables on the same batches both ways and reports how far the
final parameters are apart (float32 sums taken in another order: about 1e-7).

The 8 devices are this machine's CPU split in 8 by XLA's flag
``--xla_force_host_platform_device_count=8``. XLA reads it once, when JAX starts its CPU
backend, so the script sets ``XLA_FLAGS`` (``os.environ.setdefault``: a value you set
yourself wins) BEFORE ``import jax``. On a machine with 8 GPUs or TPU cores the same
code runs unchanged without the flag.

Run:  python examples/data_parallel.py [--steps 300] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import os
import sys

# Must come before `import jax`: XLA reads the flag when JAX initializes its CPU backend.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import jaxscope as js

NUM_DEVICES = 8
RELATIVE_TOLERANCE = 1e-5  # float32 sums in another order differ by a few ulps, not more


# --------------------------------------------------------------------------- data


def load_data(seed: int = 0):
    """scikit-learn's 8x8 digits as 64 pixels in [0, 1]; a fixed 75/25 split."""
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int32)
    return train_test_split(images, labels, test_size=0.25, random_state=seed, stratify=labels)


def batch_indices(seed: int, step: int, num_examples: int, batch_size: int) -> np.ndarray:
    """The examples of one step, a function of (seed, step): both runs see the same batches."""
    return np.random.default_rng([seed, step]).choice(num_examples, batch_size, replace=False)


# --------------------------------------------------------------------------- the model


def mlp(images, hidden_units: int, num_classes: int = 10):
    """TF1's ``tf.layers.dense`` MLP, with ``js.`` for ``tf.``: nothing here knows about devices."""
    hidden = js.layers.dense(images, hidden_units, activation=js.nn.relu, name="hidden1")
    hidden = js.layers.dense(hidden, hidden_units, activation=js.nn.relu, name="hidden2")
    return js.layers.dense(hidden, num_classes, name="logits")


def make_train_step(model, optimizer):
    """One optax step on a batch: cross entropy, gradients of ``params``, the update."""

    def loss_fn(params, state, images, labels):
        logits, _ = model.apply({"params": params, "state": state}, images)
        return jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                       logits=logits))

    def train_step(params, state, opt_state, images, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, state, images, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step


# --------------------------------------------------------------------------- training


def train(step_fn, params, state, opt_state, data, *, steps, batch_size, seed, put_batch, desc):
    """Runs ``steps`` steps; returns the final params and the loss of every step."""
    train_images, train_labels = data
    losses = []
    with tqdm(range(steps), desc=desc, unit="step") as bar:
        for step in bar:
            batch = batch_indices(seed, step, len(train_labels), batch_size)
            images, labels = put_batch(train_images[batch]), put_batch(train_labels[batch])
            params, opt_state, loss = step_fn(params, state, opt_state, images, labels)
            # Reading the loss waits for the step. Besides feeding the progress bar, this
            # keeps one step in flight: with several queued, XLA's in-process CPU all-reduce
            # can deadlock (JAX 0.10.2; "Expected 8 threads to join the rendezvous").
            losses.append(float(loss))
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    return params, np.asarray(losses)


def describe_shards(label: str, array: jax.Array) -> str:
    """One line: the array's sharding and the shape each device holds."""
    shards = sorted(array.addressable_shards, key=lambda shard: shard.device.id)
    shapes = ", ".join(f"{shard.device.id}: {tuple(shard.data.shape)}" for shard in shards)
    return f"{label} {tuple(array.shape)} {array.sharding.spec} -> per device {{{shapes}}}"


def max_difference(a: dict, b: dict) -> tuple[float, float]:
    """Largest ``|a - b|`` over all arrays, and the largest ``|b|`` (the scale it compares to)."""
    diff = max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in b)
    scale = max(float(np.max(np.abs(np.asarray(b[k])))) for k in b)
    return diff, scale


def accuracy(model, variables, images, labels) -> float:
    logits, _ = jax.jit(model.apply)(variables, jnp.asarray(images))
    return float(np.mean(np.argmax(np.asarray(logits), axis=-1) == labels))


# --------------------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help=f"examples per step, a multiple of {NUM_DEVICES}: each device "
                             f"gets 1/{NUM_DEVICES} of them (default 128)")
    parser.add_argument("--hidden-units", type=int, default=128,
                        help="units of each of the two hidden layers (default 128)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="Adam's step size (default 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variables and batches")
    args = parser.parse_args(argv)
    for name in ("steps", "hidden_units"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.batch_size < NUM_DEVICES or args.batch_size % NUM_DEVICES:
        parser.error(f"--batch-size must be a positive multiple of {NUM_DEVICES}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if jax.device_count() < NUM_DEVICES:
        sys.exit(f"error: {jax.device_count()} device(s), {NUM_DEVICES} needed; XLA_FLAGS is "
                 f"{os.environ.get('XLA_FLAGS')!r} (unset it, or add "
                 f"--xla_force_host_platform_device_count={NUM_DEVICES})")
    train_images, test_images, train_labels, test_labels = load_data()
    num_examples = len(train_labels)
    if args.batch_size > num_examples:
        sys.exit(f"error: --batch-size {args.batch_size} exceeds the {num_examples} examples")
    print(f"digits: {num_examples} training, {len(test_labels)} test images of 64 pixels; "
          f"{jax.device_count()} {jax.devices()[0].platform.upper()} devices")

    model = js.transform(lambda x: mlp(x, args.hidden_units))
    sample = jnp.asarray(train_images[:args.batch_size])
    optimizer = optax.adam(args.learning_rate)
    train_step = make_train_step(model, optimizer)

    # Auto axes: the model code carries no sharding annotations; XLA propagates the
    # shardings of the inputs (replicated variables, split batch) through it.
    mesh = jax.make_mesh((NUM_DEVICES,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
    shardings = model.shardings(mesh, sample)  # no partitioner=: every variable P()
    replicated = NamedSharding(mesh, P())
    split_batch = NamedSharding(mesh, P("data"))  # axis 0 of images and labels over "data"

    # The 8-device run: variables created replicated, the batch split, one jitted step.
    variables = jax.jit(model.init, out_shardings=shardings)(jax.random.key(args.seed), sample)
    print(js.summary(variables))
    opt_state = jax.jit(optimizer.init, out_shardings=replicated)(variables["params"])
    sharded_step = jax.jit(
        train_step,
        in_shardings=(shardings["params"], shardings["state"], replicated, split_batch,
                      split_batch),
        out_shardings=(shardings["params"], replicated, replicated),
    )
    one_batch = jax.device_put(train_images[:args.batch_size], split_batch)
    print(describe_shards("batch of images", one_batch))
    print(describe_shards("variable hidden1/kernel", variables["params"]["hidden1/kernel"]))
    compiled = sharded_step.lower(variables["params"], variables["state"], opt_state,
                                  one_batch, jax.device_put(train_labels[:args.batch_size],
                                                            split_batch)).compile()
    all_reduces = compiled.as_text().count("all-reduce(")
    print(f"XLA inserted {all_reduces} all-reduce op(s) in the 8-device step (the gradient "
          "sum TF1's towers did by hand)")

    common = dict(data=(train_images, train_labels), steps=args.steps,
                  batch_size=args.batch_size, seed=args.seed)
    sharded_params, sharded_losses = train(
        compiled, variables["params"], variables["state"], opt_state,
        put_batch=lambda x: jax.device_put(x, split_batch), desc=f"{NUM_DEVICES} devices",
        **common)

    # The 1-device run: the same code under a plain jax.jit, everything on device 0.
    single = jax.jit(model.init)(jax.random.key(args.seed), sample)
    single_params, single_losses = train(
        jax.jit(train_step), single["params"], single["state"],
        optimizer.init(single["params"]), put_batch=jnp.asarray, desc="1 device", **common)

    diff, scale = max_difference(sharded_params, single_params)
    loss_diff = float(np.max(np.abs(sharded_losses - single_losses)))
    match = diff <= RELATIVE_TOLERANCE * scale and loss_diff <= RELATIVE_TOLERANCE * max(
        1.0, float(np.max(np.abs(single_losses))))
    print(f"loss: step 1 {single_losses[0]:.4f}, step {args.steps} {single_losses[-1]:.4f} "
          f"(1 device) vs {sharded_losses[-1]:.4f} ({NUM_DEVICES} devices); "
          f"max |Δloss| over all steps {loss_diff:.1e}")
    print(f"largest |param| {scale:.3f}; tolerance {RELATIVE_TOLERANCE:g} x that "
          f"= {RELATIVE_TOLERANCE * scale:.1e}")
    test_accuracy = accuracy(model, {"params": sharded_params, "state": variables["state"]},
                             test_images, test_labels)
    print(f"final: test accuracy {100 * test_accuracy:.1f}% after {args.steps} steps; "
          f"{NUM_DEVICES}-device vs 1-device max |Δparam| = {diff:.1e} "
          f"(match: {'yes' if match else 'no'})")


if __name__ == "__main__":
    main()
