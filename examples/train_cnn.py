"""The TF CIFAR-10 tutorial's CNN, trained on scikit-learn's digits, resumable from checkpoints.

`inference` below is the tutorial's ``cifar10.py`` model (conv1, pool1, norm1, conv2,
norm2, pool2, local3, local4, softmax_linear) with ``js.`` for ``tf.``: the same scopes,
the same variable names, weight decay as a ``regularizer=`` on ``get_variable``. Its
losses come back in ``aux.losses`` instead of a ``"losses"`` collection. The data is
scikit-learn's 1,797 handwritten digits (shipped with the package, no download), 8x8
grey images upsampled to the tutorial's 24x24 crops; the channel counts and hidden sizes
are smaller than the tutorial's so the default run takes about a minute on two CPU cores.

Training saves a checkpoint every ``--save-every`` steps (``js.train.Saver``, TF1's
``model.ckpt-STEP`` files and ``checkpoint`` state file). Run the script again with the
same ``--workdir`` and it resumes from ``js.train.latest_checkpoint``: the model, the
global step and the optimizer's state (Adam's moments, saved beside the model) all
continue where they stopped, so two runs of N steps end where one run of 2N steps does.

Run:  python examples/train_cnn.py [--steps 400] [--workdir DIR]
      python examples/train_cnn.py --workdir DIR     # again: continues from DIR's checkpoint
      python examples/train_cnn.py --digits 0-4 --workdir DIR   # a base for transfer_learning.py
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import jaxscope as js

IMAGE_SIZE = 24  # cifar10_input.IMAGE_SIZE: the tutorial trains on 24x24 crops
TEST_FRACTION = 0.25
SPLIT_SEED = 0  # the train/test split is fixed, whatever --seed says
OPTIMIZER_SCOPE = "optimizer"  # checkpoint names of the optimizer's state start with this


# --------------------------------------------------------------------------- data


class Digits(NamedTuple):
    """Images ``[N, 24, 24, 1]`` (standardized) and labels ``0..len(digits)-1``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    digits: tuple[int, ...]


def load_digit_images(digits: tuple[int, ...] = tuple(range(10))) -> Digits:
    """scikit-learn's digits of the given classes, upsampled to 24x24, on a fixed split.

    Labels are positions in ``digits`` (with ``digits=(5, 6, 7, 8, 9)`` a 7 is label 2).
    """
    data = load_digits()
    keep = np.isin(data.target, digits)
    images = data.images[keep].astype(np.float32)
    scale = IMAGE_SIZE // images.shape[1]
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)[..., None]  # 8x8 -> 24x24x1
    images = per_image_standardization(images)
    labels = np.searchsorted(np.asarray(digits), data.target[keep]).astype(np.int32)
    train_images, test_images, train_labels, test_labels = train_test_split(
        images, labels, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=labels)
    return Digits(train_images, train_labels, test_images, test_labels, tuple(digits))


def per_image_standardization(images: np.ndarray) -> np.ndarray:
    """TF's ``tf.image.per_image_standardization`` (cifar10_input.py's last step), per image."""
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    adjusted_stddev = np.maximum(images.std(axis=(1, 2, 3), keepdims=True),
                                 1.0 / np.sqrt(images[0].size))
    return (images - mean) / adjusted_stddev


def batch_indices(seed: int, step: int, num_examples: int, batch_size: int) -> np.ndarray:
    """The examples of one training step: a function of (seed, step) only.

    Drawing each batch from its own step number (rather than from a generator that lives
    as long as the process) gives a resumed run the same batches as an uninterrupted one.
    """
    rng = np.random.default_rng([seed, step])
    return rng.choice(num_examples, size=min(batch_size, num_examples), replace=False)


# --------------------------------------------------------------------------- the model


def _variable_with_weight_decay(name, shape, stddev, wd, trainable=True):
    """cifar10.py's helper: a truncated-normal variable, with L2 weight decay if ``wd``.

    TF1 added ``tf.multiply(tf.nn.l2_loss(var), wd)`` to a "losses" collection by hand;
    here the same function is the variable's ``regularizer=`` and its value comes back
    in ``aux.losses`` under the variable's name.
    """
    regularizer = (lambda var: wd * js.nn.l2_loss(var)) if wd is not None else None
    return js.get_variable(name, shape,
                           initializer=js.truncated_normal_initializer(stddev=stddev),
                           regularizer=regularizer, trainable=trainable)


def features(images, conv_channels: int, trainable: bool = True):
    """conv1 -> pool1 -> norm1 -> conv2 -> norm2 -> pool2, flattened.

    ``trainable=False`` creates the variables as TF1's ``get_variable(..., trainable=False)``
    does: transfer_learning.py uses it to freeze these layers.
    """
    with js.variable_scope("conv1") as scope:
        kernel = _variable_with_weight_decay("weights", [5, 5, images.shape[-1], conv_channels],
                                             stddev=5e-2, wd=None, trainable=trainable)
        conv = js.nn.conv2d(images, kernel, [1, 1, 1, 1], padding="SAME")
        biases = js.get_variable("biases", [conv_channels],
                                 initializer=js.constant_initializer(0.0), trainable=trainable)
        conv1 = js.nn.relu(js.nn.bias_add(conv, biases), name=scope.name)
    pool1 = js.nn.max_pool(conv1, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME",
                           name="pool1")
    norm1 = js.nn.lrn(pool1, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm1")

    with js.variable_scope("conv2") as scope:
        kernel = _variable_with_weight_decay("weights", [5, 5, conv_channels, conv_channels],
                                             stddev=5e-2, wd=None, trainable=trainable)
        conv = js.nn.conv2d(norm1, kernel, [1, 1, 1, 1], padding="SAME")
        biases = js.get_variable("biases", [conv_channels],
                                 initializer=js.constant_initializer(0.1), trainable=trainable)
        conv2 = js.nn.relu(js.nn.bias_add(conv, biases), name=scope.name)
    norm2 = js.nn.lrn(conv2, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm2")
    pool2 = js.nn.max_pool(norm2, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME",
                           name="pool2")
    return jnp.reshape(pool2, [images.shape[0], -1])


def classifier(reshape, hidden_units: int, num_classes: int):
    """local3 -> local4 -> softmax_linear (logits); local4 has half local3's units, as 384/192."""
    with js.variable_scope("local3") as scope:
        dim = reshape.shape[1]
        weights = _variable_with_weight_decay("weights", [dim, hidden_units], stddev=0.04,
                                              wd=0.004)
        biases = js.get_variable("biases", [hidden_units], initializer=js.constant_initializer(0.1))
        local3 = js.nn.relu(jnp.matmul(reshape, weights) + biases, name=scope.name)

    with js.variable_scope("local4") as scope:
        weights = _variable_with_weight_decay("weights", [hidden_units, hidden_units // 2],
                                              stddev=0.04, wd=0.004)
        biases = js.get_variable("biases", [hidden_units // 2],
                                 initializer=js.constant_initializer(0.1))
        local4 = js.nn.relu(jnp.matmul(local3, weights) + biases, name=scope.name)

    with js.variable_scope("softmax_linear"):
        weights = _variable_with_weight_decay("weights", [hidden_units // 2, num_classes],
                                              stddev=1 / (hidden_units // 2), wd=None)
        biases = js.get_variable("biases", [num_classes], initializer=js.constant_initializer(0.0))
        return jnp.add(jnp.matmul(local4, weights), biases)


def inference(images, num_classes: int, conv_channels: int, hidden_units: int):
    """The tutorial's ``cifar10.inference``: images -> logits."""
    return classifier(features(images, conv_channels), hidden_units, num_classes)


def build_model(num_classes: int, conv_channels: int, hidden_units: int) -> js.Transformed:
    """``js.transform`` of `inference` with its sizes fixed: ``init`` and ``apply`` take images."""
    return js.transform(functools.partial(inference, num_classes=num_classes,
                                          conv_channels=conv_channels, hidden_units=hidden_units))


# --------------------------------------------------------------------------- training


def init_variables(model, images, seed: int) -> dict[str, dict[str, Any]]:
    """``model.init`` under ``jax.jit``: one compiled program instead of one per initializer op.

    ``jax.jit`` returns dicts with sorted keys; the abstract trace ``model.specs`` gives the
    creation order back, so summaries list the layers as the model builds them.
    """
    sample = jnp.asarray(images[:1])
    variables = jax.jit(model.init)(jax.random.key(seed), sample)
    order = model.specs(sample)
    return {part: {name: variables[part][name] for name in order if name in variables[part]}
            for part in ("params", "state")}


def loss_fn(params, state, model, images, labels):
    """Cross entropy plus weight decay (the tutorial's ``cifar10.loss``); returns both."""
    logits, aux = model.apply({"params": params, "state": state}, images)
    cross_entropy = jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits))
    # TF1: tf.add_n(tf.get_collection("losses")); jaxscope returns regularizers in aux.losses.
    weight_decay = sum(aux.losses.values(), jnp.float32(0.0))
    return cross_entropy + weight_decay, cross_entropy


def make_train_step(model, optimizer):
    """A jitted step: gradients over ``params`` only (``state`` is carried, never trained)."""

    @jax.jit
    def train_step(params, state, opt_state, images, labels):
        (_, cross_entropy), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state, model, images, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, cross_entropy

    return train_step


def accuracy(model, variables, images, labels) -> float:
    """Fraction of ``images`` whose highest logit is their label."""
    logits, _ = jax.jit(model.apply)(variables, jnp.asarray(images))
    return float(jnp.mean(jnp.argmax(logits, axis=-1) == jnp.asarray(labels)))


# --------------------------------------------------------------------------- checkpoints
# A checkpoint holds the model's variables, the global step (TF1's "global_step" variable)
# and the optimizer's state, all as named tensors in the checkpoint's "state": Adam's
# moments are "optimizer/0/mu/conv1/weights", ... (TF1's slots were "conv1/weights/Adam").


def _key_name(key) -> str:
    """One step of a pytree path as a name part: a dict key, attribute or list index."""
    for attribute in ("key", "name", "idx"):
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def optimizer_tensors(opt_state) -> dict[str, jax.Array]:
    """The optax state as ``{"optimizer/0/mu/conv1/weights": array, ...}``."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(opt_state)
    return {"/".join([OPTIMIZER_SCOPE, *map(_key_name, path)]): leaf for path, leaf in leaves}


def optimizer_state_from(tensors: dict[str, Any], like):
    """The inverse of `optimizer_tensors`: put named tensors back into a state like ``like``."""
    names = list(optimizer_tensors(like))
    return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like),
                                        [tensors[name] for name in names])


def checkpoint_variables(variables, step, opt_state) -> dict[str, dict[str, Any]]:
    """What a checkpoint holds: the model's variables, the global step, the optimizer state."""
    state = {**variables["state"], "global_step": jnp.asarray(step, jnp.int32),
             **optimizer_tensors(opt_state)}
    return {"params": variables["params"], "state": state}


def restore_or_start(saver, workdir, variables, opt_state):
    """Resume from the latest checkpoint in ``workdir`` if there is one (TF1's ``loadmodel``).

    Returns ``(variables, global_step, opt_state, restored_path_or_None)``.
    """
    path = js.train.latest_checkpoint(workdir)
    if path is None:
        return variables, 0, opt_state, None
    # Restoring into a complete template checks every name, shape and dtype, so a run with
    # other model sizes than the checkpoint's fails with a clear message instead of guessing.
    try:
        restored = saver.restore(path, checkpoint_variables(variables, 0, opt_state))
    except js.train.CheckpointError as err:
        sys.exit(f"error: {err}\nResume with the options the checkpoint was trained with "
                 "(--digits, --conv-channels, --hidden-units) or pick another --workdir.")
    state = dict(restored["state"])
    step = int(state.pop("global_step"))
    opt_tensors = {name: state.pop(name) for name in optimizer_tensors(opt_state)}
    # TF1 forgets a previous process's checkpoints; adopting them lets max_to_keep prune them.
    saver.recover_last_checkpoints(js.train.get_checkpoint_state(workdir)
                                   .all_model_checkpoint_paths)
    variables = {"params": restored["params"], "state": state}
    return variables, step, optimizer_state_from(opt_tensors, opt_state), path


class TrainResult(NamedTuple):
    """What `train` ends with."""

    variables: dict[str, dict[str, Any]]
    global_step: int
    checkpoint: str  # prefix of the last checkpoint written


def train(model, variables, data: Digits, *, steps: int, batch_size: int,
          learning_rate: float, save_every: int, workdir: str, seed: int, max_to_keep: int,
          desc: str = "training") -> TrainResult:
    """Resume from ``workdir`` or start from ``variables``; train ``steps`` more steps.

    Saves a checkpoint every ``save_every`` global steps and after the last step.
    """
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(variables["params"])
    saver = js.train.Saver(max_to_keep=max_to_keep)  # TF1: tf.train.Saver(max_to_keep=...)
    variables, start, opt_state, restored = restore_or_start(saver, workdir, variables,
                                                             opt_state)
    print(f"resumed from {restored} at global step {start}" if restored else
          f"no checkpoint in {workdir}: starting at global step 0")

    train_step = make_train_step(model, optimizer)
    params, state = variables["params"], variables["state"]
    save_path = os.path.join(workdir, "model.ckpt")
    checkpoint = restored or ""
    with tqdm(range(start + 1, start + steps + 1), desc=desc, unit="step") as bar:
        for step in bar:
            batch = batch_indices(seed, step, len(data.train_labels), batch_size)
            params, opt_state, cross_entropy = train_step(
                params, state, opt_state, data.train_images[batch], data.train_labels[batch])
            bar.set_postfix(global_step=step, loss=f"{float(cross_entropy):.4f}")
            if step % save_every == 0 or step == start + steps:
                variables = {"params": params, "state": state}
                checkpoint = saver.save(checkpoint_variables(variables, step, opt_state),
                                        save_path, global_step=step)
                tqdm.write(f"global step {step}: loss {float(cross_entropy):.4f}, "
                           f"saved {checkpoint}")
    return TrainResult({"params": params, "state": state}, start + steps, checkpoint)


# --------------------------------------------------------------------------- command line


def parse_digits(text: str) -> tuple[int, ...]:
    """``"0-4"`` -> (0, 1, 2, 3, 4); ``"1,3,5"`` -> (1, 3, 5)."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-"))
            digits = tuple(range(first, last + 1))
        else:
            digits = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected digits like 0-9 or 1,3,5, got {text!r}") from None
    if len(digits) < 2 or not set(digits) <= set(range(10)):
        raise argparse.ArgumentTypeError(f"need at least two digits among 0-9, got {text!r}")
    return digits


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400,
                        help="training steps to run now; a resumed run continues its global "
                             "step (default 400)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--learning-rate", type=float, default=2e-3,
                        help="Adam's step size (default 2e-3)")
    parser.add_argument("--save-every", type=int, default=100,
                        help="save a checkpoint every this many global steps (default 100)")
    parser.add_argument("--max-to-keep", type=int, default=3,
                        help="checkpoints to keep, as tf.train.Saver's max_to_keep (default 3)")
    parser.add_argument("--workdir", default=None,
                        help="checkpoint folder; an existing one is resumed "
                             "(default: a new temporary folder)")
    parser.add_argument("--digits", type=parse_digits, default=tuple(range(10)),
                        help="digits to classify, e.g. 0-4 or 1,3,5 (default 0-9)")
    parser.add_argument("--conv-channels", type=int, default=32,
                        help="channels of conv1 and conv2 (tutorial: 64; default 32)")
    parser.add_argument("--hidden-units", type=int, default=128,
                        help="units of local3; local4 has half (tutorial: 384; default 128)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variables and batches")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "save_every", "conv_channels"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.hidden_units < 2:
        parser.error("--hidden-units must be at least 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="train_cnn_")
    os.makedirs(workdir, exist_ok=True)
    data = load_digit_images(args.digits)
    print(f"digits {','.join(map(str, data.digits))}: {len(data.train_labels)} training and "
          f"{len(data.test_labels)} test images, {IMAGE_SIZE}x{IMAGE_SIZE}x1")
    model = build_model(len(data.digits), args.conv_channels, args.hidden_units)
    variables = init_variables(model, data.train_images, args.seed)
    print(js.summary(variables))

    result = train(model, variables, data, steps=args.steps, batch_size=args.batch_size,
                   learning_rate=args.learning_rate, save_every=args.save_every,
                   workdir=workdir, seed=args.seed, max_to_keep=args.max_to_keep)
    kept = js.train.get_checkpoint_state(workdir).all_model_checkpoint_paths
    print("checkpoints kept:", ", ".join(os.path.basename(path) for path in kept))
    test_accuracy = accuracy(model, result.variables, data.test_images, data.test_labels)
    print(f"final: test accuracy {100 * test_accuracy:.1f}% after {result.global_step} steps")


if __name__ == "__main__":
    main()
