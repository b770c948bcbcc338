"""Transfer learning as in TF1: restore a trained CNN, freeze its conv layers, fine-tune the rest.

The base is train_cnn.py's model of the TF CIFAR-10 tutorial. Either pass a checkpoint
folder it wrote (``--checkpoint DIR``; train it with ``--digits 0-4`` for a clean
transfer) or let this script first train a short base itself on the digits that are not
the new task's. Then a new model is built from the same layer code, with the feature
layers (conv1, conv2) created by ``get_variable(..., trainable=False)`` — seed 002's
"freeze some of the layers during training by setting trainable=False". Its variables
are warm-started with ``js.train.init_from_checkpoint(ckpt, {"conv1/": "conv1/", ...})``
(TF1's ``tf.train.init_from_checkpoint``), except the head, ``softmax_linear``, which is
new. Fine-tuning on the new digits trains local3, local4 and the head; at the end the
script compares every variable with the checkpoint: the frozen ones have not moved.
Fine-tuning checkpoints go to ``WORKDIR/finetune``; a second run with the same
``--workdir`` resumes them, as train_cnn.py does.

Run:  python examples/transfer_learning.py [--steps 200] [--base-steps 300]
      python examples/train_cnn.py --digits 0-4 --workdir /tmp/base
      python examples/transfer_learning.py --checkpoint /tmp/base
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

import jaxscope as js

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/ is not a package
import train_cnn  # the model, the data, the training loop and its checkpoints)

FROZEN_SCOPES = ("conv1", "conv2")  # created with trainable=False: never trained here
WARM_STARTED_SCOPES = ("conv1", "conv2", "local3", "local4")  # taken from the checkpoint


def transfer_inference(images, num_classes: int, conv_channels: int, hidden_units: int):
    """train_cnn's model with its feature layers frozen and a new ``num_classes`` head.

    TF1 froze a layer by creating its variables with ``trainable=False``: they stay out
    of ``TRAINABLE_VARIABLES``, so ``optimizer.minimize()`` never updates them. jaxscope
    keeps that flag: a float variable made with ``trainable=False`` goes to
    ``variables["state"]`` instead of ``variables["params"]`` (only trainable floating-point
    variables are params; integer and boolean ones are always state, API decision 9).
    Training differentiates ``params`` only, so the frozen layers are inputs of the loss,
    not things ``jax.grad`` and optax can move.
    """
    reshape = train_cnn.features(images, conv_channels, trainable=False)
    return train_cnn.classifier(reshape, hidden_units, num_classes)


def build_transfer_model(num_classes: int, conv_channels: int, hidden_units: int):
    def model_fn(images):
        return transfer_inference(images, num_classes, conv_channels, hidden_units)

    return js.transform(model_fn)


def train_base(args, workdir: str) -> str:
    """A short base training on the digits the new task does not use; its last checkpoint."""
    base_digits = tuple(d for d in range(10) if d not in args.digits)
    data = train_cnn.load_digit_images(base_digits)
    print(f"no --checkpoint: training a base on digits {','.join(map(str, base_digits))} "
          f"for {args.base_steps} steps in {workdir}")
    model = train_cnn.build_model(len(base_digits), args.conv_channels, args.hidden_units)
    result = train_cnn.train(
        model, train_cnn.init_variables(model, data.train_images, args.seed), data,
        steps=args.base_steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
        save_every=args.base_steps, workdir=workdir, seed=args.seed, max_to_keep=1,
        desc="base training")
    base_accuracy = train_cnn.accuracy(model, result.variables, data.test_images,
                                       data.test_labels)
    print(f"base: test accuracy {100 * base_accuracy:.1f}% on its own digits")
    return result.checkpoint


def resolve_checkpoint(path: str) -> str:
    """A checkpoint prefix from a folder (its latest, as TF1's ``latest_checkpoint``) or prefix."""
    if os.path.isdir(path):
        latest = js.train.latest_checkpoint(path)
        if latest is None:
            sys.exit(f"error: no checkpoint in {path} (train one with examples/train_cnn.py)")
        return latest
    return path


def sizes_from_checkpoint(checkpoint: str) -> tuple[int, int]:
    """(conv channels, local3 units) of the checkpoint's model, read from its tensor shapes."""
    shapes = dict(js.train.list_variables(checkpoint))
    return shapes["conv1/weights"][-1], shapes["local3/weights"][-1]


def largest_changes(variables, checkpoint: str, names: list[str]) -> dict[str, float]:
    """max |variable - checkpoint tensor| of each of ``names``."""
    saved = js.train.load_checkpoint(checkpoint, names)
    flat = {**variables["params"], **variables["state"]}
    return {name: float(np.max(np.abs(np.asarray(flat[name]) - saved[name]))) for name in names}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint folder or prefix written by train_cnn.py "
                             "(default: train a short base first)")
    parser.add_argument("--digits", type=train_cnn.parse_digits, default=(5, 6, 7, 8, 9),
                        help="the new task's digits (default 5-9)")
    parser.add_argument("--steps", type=int, default=200,
                        help="fine-tuning steps (default 200)")
    parser.add_argument("--base-steps", type=int, default=300,
                        help="steps of the base training when no --checkpoint (default 300)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--learning-rate", type=float, default=2e-3,
                        help="Adam's step size (default 2e-3)")
    parser.add_argument("--save-every", type=int, default=100,
                        help="save a fine-tuning checkpoint every this many steps (default 100)")
    parser.add_argument("--conv-channels", type=int, default=32,
                        help="conv channels of the base trained here (default 32)")
    parser.add_argument("--hidden-units", type=int, default=128,
                        help="local3 units of the base trained here (default 128)")
    parser.add_argument("--workdir", default=None,
                        help="folder for the base and fine-tuning checkpoints "
                             "(default: a new temporary folder)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variables and batches")
    args = parser.parse_args(argv)
    for name in ("steps", "base_steps", "batch_size", "save_every", "conv_channels"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.hidden_units < 2:
        parser.error("--hidden-units must be at least 2")
    if len(args.digits) == 10 and args.checkpoint is None:
        parser.error("--digits must leave some digits for the base training (or give "
                     "--checkpoint)")
    return args


def main(argv=None):
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="transfer_learning_")
    for sub in ("base", "finetune"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    checkpoint = resolve_checkpoint(args.checkpoint or train_base(args, os.path.join(workdir,
                                                                                      "base")))
    conv_channels, hidden_units = sizes_from_checkpoint(checkpoint)
    print(f"base checkpoint: {checkpoint} (conv channels {conv_channels}, "
          f"local3 units {hidden_units})")

    data = train_cnn.load_digit_images(args.digits)
    print(f"new task: digits {','.join(map(str, data.digits))}, {len(data.train_labels)} "
          f"training and {len(data.test_labels)} test images")
    model = build_transfer_model(len(data.digits), conv_channels, hidden_units)
    variables = train_cnn.init_variables(model, data.train_images, args.seed)
    # TF1: tf.train.init_from_checkpoint(ckpt, {"conv1/": "conv1/", ...}) before the
    # session initializes; here it returns the variables with those scopes replaced.
    # softmax_linear is not in the map: the new task's head starts from its initializer.
    assignment_map = {f"{scope}/": f"{scope}/" for scope in WARM_STARTED_SCOPES}
    variables = js.train.init_from_checkpoint(checkpoint, assignment_map, variables)
    print(js.summary(variables))  # conv1/conv2: trainable "no", kept in variables["state"]
    print("frozen (in state):", ", ".join(variables["state"]))
    print("trained (in params):", ", ".join(variables["params"]))
    before = train_cnn.accuracy(model, variables, data.test_images, data.test_labels)
    print(f"test accuracy before fine-tuning (new head untrained): {100 * before:.1f}%")

    result = train_cnn.train(
        model, variables, data, steps=args.steps, batch_size=args.batch_size,
        learning_rate=args.learning_rate, save_every=args.save_every,
        workdir=os.path.join(workdir, "finetune"), seed=args.seed, max_to_keep=2,
        desc="fine-tuning")

    print("largest change of each warm-started variable since the base checkpoint:")
    warm_started = [name for name in model.specs(data.train_images[:1])
                    if name.split("/")[0] in WARM_STARTED_SCOPES]
    changes = largest_changes(result.variables, checkpoint, warm_started)
    for name, change in changes.items():
        role = "frozen" if name.split("/")[0] in FROZEN_SCOPES else "fine-tuned"
        print(f"  {name:16s} {role:10s} {change:.6f}")
    frozen_unchanged = all(change == 0.0 for name, change in changes.items()
                           if name.split("/")[0] in FROZEN_SCOPES)
    after = train_cnn.accuracy(model, result.variables, data.test_images, data.test_labels)
    print(f"final: fine-tuned test accuracy {100 * after:.1f}% after {result.global_step} steps "
          f"(frozen layers unchanged: {'yes' if frozen_unchanged else 'no'})")


if __name__ == "__main__":
    main()
