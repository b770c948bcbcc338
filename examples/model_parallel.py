"""Model parallelism on one machine: TF1-partitioned variables split over 8 CPU devices.

In TF1 a variable too big for one device got a ``partitioner=``:
``tf.get_variable("embedding", [V, D], partitioner=tf.fixed_size_partitioner(8))``
made 8 variables ``embedding/part_0 .. part_7`` that ``tf.train.replica_device_setter``
spread over parameter servers, and ``tf.nn.embedding_lookup`` gathered rows from them.
jaxscope takes the same ``partitioner=`` and keeps ONE logical array; on a mesh
``("model",)`` of 8 devices ``model.shardings(mesh, x)`` turns the partitioning into a
sharding, so device ``i`` holds exactly TF's ``part_i`` (the rule is in
``jaxscope/sharding.py``):

* ``embedding [1088, D]``, ``fixed_size_partitioner(8)``: rows split, 136 per device;
* ``hidden/kernel [D, H]``, ``fixed_size_partitioner(8, axis=1)``: columns split, each
  device computes H/8 of the hidden units (its ``hidden/bias`` piece too);
* ``logits/kernel [H, 10]``, ``fixed_size_partitioner(8)``: rows split, each device
  multiplies its own H/8 hidden units and XLA sums the partial logits;
* ``logits/bias``: no partitioner, replicated.

``jax.jit(model.init, out_shardings=model.shardings(mesh, x))`` creates the variables
already split (each device draws only its own piece), and a ``jax.jit`` train step with
the same shardings keeps them split; XLA adds the communication. The task is real but
small: scikit-learn's 8x8 digits read as a "bag of words" whose words are (pixel,
intensity) pairs, 64 x 17 = 1,088 of them, embedded, averaged and classified. The script
trains the same steps on 1 device and on the 8-device mesh and reports how far apart the
final parameters are (float32 sums taken in another order: about 1e-6).

The 8 devices are this machine's CPU split in 8 by XLA's flag
``--xla_force_host_platform_device_count=8``, which XLA reads when JAX starts its CPU
backend: the script sets ``XLA_FLAGS`` (``os.environ.setdefault``: a value you set
yourself wins) BEFORE ``import jax``.

Run:  python examples/model_parallel.py [--steps 200] [--embedding-dim 128]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
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
from jaxscope.partitioners import slice_shapes

NUM_SHARDS = 8  # TF1's partition count = the size of the mesh axis "model"
PIXELS, INTENSITIES = 64, 17  # 8x8 images, grey levels 0..16
VOCAB = PIXELS * INTENSITIES  # 1,088 words, 136 per device
RELATIVE_TOLERANCE = 1e-5  # float32 sums in another order differ by a few ulps, not more


# --------------------------------------------------------------------------- data


def load_data(seed: int = 0):
    """Digits as 64 word ids each (word = pixel * 17 + intensity); a fixed 75/25 split."""
    digits = load_digits()
    tokens = (np.arange(PIXELS) * INTENSITIES + digits.data.astype(np.int64)).astype(np.int32)
    labels = digits.target.astype(np.int32)
    return train_test_split(tokens, labels, test_size=0.25, random_state=seed, stratify=labels)


def batch_indices(seed: int, step: int, num_examples: int, batch_size: int) -> np.ndarray:
    """The examples of one step, a function of (seed, step): both runs see the same batches."""
    return np.random.default_rng([seed, step]).choice(num_examples, batch_size, replace=False)


# --------------------------------------------------------------------------- the model


def bag_of_words_classifier(tokens, embedding_dim: int, hidden_units: int, num_classes: int = 10):
    """Embed the words, average them, one hidden layer, logits. TF1 code with ``js.``."""
    # TF1: tf.get_variable(..., partitioner=tf.fixed_size_partitioner(8)) -> part_0..part_7.
    embedding = js.get_variable(
        "embedding", [VOCAB, embedding_dim],
        initializer=js.random_normal_initializer(stddev=0.1),
        partitioner=js.fixed_size_partitioner(NUM_SHARDS))
    bag = jnp.mean(js.nn.embedding_lookup(embedding, tokens), axis=1)  # [batch, D]
    with js.variable_scope("hidden"):
        # Split on the output axis: device i owns hidden units i*H/8 .. (i+1)*H/8.
        kernel = js.get_variable("kernel", [embedding_dim, hidden_units],
                                 partitioner=js.fixed_size_partitioner(NUM_SHARDS, axis=1))
        bias = js.get_variable("bias", [hidden_units], initializer=js.zeros_initializer,
                               partitioner=js.fixed_size_partitioner(NUM_SHARDS))
        hidden = js.nn.relu(bag @ kernel + bias)
    with js.variable_scope("logits"):
        # Split on the input axis, matching the hidden units each device already holds.
        kernel = js.get_variable("kernel", [hidden_units, num_classes],
                                 partitioner=js.fixed_size_partitioner(NUM_SHARDS))
        bias = js.get_variable("bias", [num_classes], initializer=js.zeros_initializer)
        return hidden @ kernel + bias


def cross_entropy(model, params, state, tokens, labels):
    logits, _ = model.apply({"params": params, "state": state}, tokens)
    losses = js.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return jnp.mean(losses), logits


def make_train_step(model, optimizer):
    """One optax step on a batch: cross entropy, gradients of ``params``, the update."""

    def train_step(params, state, opt_state, tokens, labels):
        (loss, _), grads = jax.value_and_grad(cross_entropy, argnums=1, has_aux=True)(
            model, params, state, tokens, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step


# --------------------------------------------------------------------------- training


def train(step_fn, params, state, opt_state, data, *, steps, batch_size, seed, desc):
    """Runs ``steps`` steps; returns the final params and optimizer state, and every loss."""
    train_tokens, train_labels = data
    losses = []
    with tqdm(range(steps), desc=desc, unit="step") as bar:
        for step in bar:
            batch = batch_indices(seed, step, len(train_labels), batch_size)
            params, opt_state, loss = step_fn(params, state, opt_state,
                                              train_tokens[batch], train_labels[batch])
            # Reading the loss waits for the step. Besides feeding the progress bar, this
            # keeps one step in flight: with several queued, XLA's in-process CPU
            # collectives can deadlock (JAX 0.10.2; "Expected 8 threads to join the
            # rendezvous").
            losses.append(float(loss))
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    return params, np.asarray(losses)


def optimizer_shardings(optimizer, params, param_shardings, replicated):
    """Adam's moments are split like the params they belong to; its step count is replicated."""
    shapes = jax.eval_shape(optimizer.init, params)
    return optax.tree_map_params(optimizer, lambda _, sharding: sharding, shapes,
                                 param_shardings, transform_non_params=lambda _: replicated)


def collectives(compiled) -> str:
    """The communication XLA put in a compiled program, e.g. ``all-reduce x2, all-gather x1``."""
    ops = re.findall(r"\b(all-reduce|all-gather|reduce-scatter|all-to-all|collective-permute)"
                     r"(?:-start)?\(", compiled.as_text())
    counts = collections.Counter(ops)
    return ", ".join(f"{op} x{n}" for op, n in sorted(counts.items())) or "none"


def print_embedding_pieces(table: jax.Array, unsharded: np.ndarray, mesh) -> None:
    """Device i along "model" holds TF's ``embedding/part_i``: same shape, same rows."""
    pieces = slice_shapes(table.shape, [NUM_SHARDS, 1])  # TF's (offset, shape) of part_i
    shards = {shard.device: shard for shard in table.addressable_shards}
    for i, (device, (offset, piece)) in enumerate(zip(mesh.devices.flat, pieces)):
        shard = shards[device]
        rows = shard.index[0]
        same = np.array_equal(np.asarray(shard.data), unsharded[offset[0]:offset[0] + piece[0]])
        print(f"embedding shard on device {device.id}: {tuple(shard.data.shape)}, rows "
              f"{rows.start}:{rows.stop}; TF embedding/part_{i}: {piece}, rows "
              f"{offset[0]}:{offset[0] + piece[0]}; same values as the 1-device init: "
              f"{'yes' if same else 'no'}")


def max_difference(a: dict, b: dict) -> tuple[float, float]:
    """Largest ``|a - b|`` over all arrays, and the largest ``|b|`` (the scale it compares to)."""
    diff = max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in b)
    scale = max(float(np.max(np.abs(np.asarray(b[k])))) for k in b)
    return diff, scale


# --------------------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps (default 200)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help="examples per step (default 128)")
    parser.add_argument("--embedding-dim", type=int, default=128,
                        help="size of a word's embedding, D (default 128)")
    parser.add_argument("--hidden-units", type=int, default=256,
                        help=f"hidden units H, a multiple of {NUM_SHARDS} (default 256)")
    parser.add_argument("--learning-rate", type=float, default=3e-3,
                        help="Adam's step size (default 3e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variables and batches")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "embedding_dim"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.hidden_units < NUM_SHARDS or args.hidden_units % NUM_SHARDS:
        parser.error(f"--hidden-units must be a positive multiple of {NUM_SHARDS}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if jax.device_count() < NUM_SHARDS:
        sys.exit(f"error: {jax.device_count()} device(s), {NUM_SHARDS} needed; XLA_FLAGS is "
                 f"{os.environ.get('XLA_FLAGS')!r} (unset it, or add "
                 f"--xla_force_host_platform_device_count={NUM_SHARDS})")
    train_tokens, test_tokens, train_labels, test_labels = load_data()
    if args.batch_size > len(train_labels):
        sys.exit(f"error: --batch-size {args.batch_size} exceeds the {len(train_labels)} "
                 "examples")
    print(f"digits as bags of {PIXELS} words from a vocabulary of {VOCAB}: "
          f"{len(train_labels)} training, {len(test_labels)} test examples; "
          f"{jax.device_count()} {jax.devices()[0].platform.upper()} devices")

    model = js.transform(lambda tokens: bag_of_words_classifier(
        tokens, args.embedding_dim, args.hidden_units))
    sample = jnp.asarray(train_tokens[:args.batch_size])
    optimizer = optax.adam(args.learning_rate)
    train_step = make_train_step(model, optimizer)

    # Auto axes: the model code carries no sharding annotations; XLA propagates the
    # variables' shardings through it.
    mesh = jax.make_mesh((NUM_SHARDS,), ("model",), axis_types=(jax.sharding.AxisType.Auto,))
    shardings = model.shardings(mesh, sample)
    replicated = NamedSharding(mesh, P())  # the batch: whole on every device

    # Variables created already split: each device runs the initializers of its piece only.
    rng = jax.random.key(args.seed)
    variables = jax.jit(model.init, out_shardings=shardings)(rng, sample)
    print(js.summary(variables))
    single = jax.jit(model.init)(rng, sample)  # the 1-device run starts from the same values
    print_embedding_pieces(variables["params"]["embedding"],
                           np.asarray(single["params"]["embedding"]), mesh)

    opt_shardings = optimizer_shardings(optimizer, variables["params"], shardings["params"],
                                        replicated)
    opt_state = jax.jit(optimizer.init, out_shardings=opt_shardings)(variables["params"])
    sharded_step = jax.jit(
        train_step,
        in_shardings=(shardings["params"], shardings["state"], opt_shardings, replicated,
                      replicated),
        out_shardings=(shardings["params"], opt_shardings, replicated),
    ).lower(variables["params"], variables["state"], opt_state, train_tokens[:args.batch_size],
            train_labels[:args.batch_size]).compile()
    print(f"communication XLA added to the 8-device step: {collectives(sharded_step)}")

    common = dict(data=(train_tokens, train_labels), steps=args.steps,
                  batch_size=args.batch_size, seed=args.seed)
    sharded_params, sharded_losses = train(
        sharded_step, variables["params"], variables["state"], opt_state,
        desc=f"{NUM_SHARDS} devices", **common)
    still_split = all(sharded_params[name].sharding == sharding
                      for name, sharding in shardings["params"].items())
    print(f"after training every variable keeps its sharding: {'yes' if still_split else 'no'}")

    single_params, single_losses = train(
        jax.jit(train_step), single["params"], single["state"], optimizer.init(single["params"]),
        desc="1 device", **common)

    diff, scale = max_difference(sharded_params, single_params)
    loss_diff = float(np.max(np.abs(sharded_losses - single_losses)))
    match = diff <= RELATIVE_TOLERANCE * scale and loss_diff <= RELATIVE_TOLERANCE * max(
        1.0, float(np.max(np.abs(single_losses))))
    print(f"training loss: step 1 {single_losses[0]:.4f}, step {args.steps} "
          f"{single_losses[-1]:.4f} (1 device) vs {sharded_losses[-1]:.4f} ({NUM_SHARDS} "
          f"devices); max |Δloss| over all steps {loss_diff:.1e}")
    print(f"largest |param| {scale:.3f}; tolerance {RELATIVE_TOLERANCE:g} x that "
          f"= {RELATIVE_TOLERANCE * scale:.1e}")

    test_loss, test_logits = jax.jit(cross_entropy, static_argnums=0)(
        model, sharded_params, variables["state"], test_tokens, test_labels)
    test_accuracy = float(np.mean(np.argmax(np.asarray(test_logits), axis=-1) == test_labels))
    table = sharded_params["embedding"]
    per_device = table.addressable_shards[0].data.nbytes
    print(f"final: test loss {float(test_loss):.4f} (accuracy {100 * test_accuracy:.1f}%) "
          f"after {args.steps} steps; {NUM_SHARDS}-device vs 1-device max |Δparam| = "
          f"{diff:.1e} (match: {'yes' if match else 'no'}); embedding per device "
          f"{per_device:,} B = 1/{table.nbytes // per_device} of {table.nbytes:,} B")


if __name__ == "__main__":
    main()
