"""Serving a jaxscope model: jax.export a compiled predict function, serve it from a fresh process.

A TF1 user ships a trained model as a SavedModel or a frozen GraphDef and serves it
without the Python code that built it. The JAX equivalent is ``jax.export``: it lowers
a jitted function to StableHLO, ``Exported.serialize()`` turns that into bytes, and any
process with JAX can ``jax.export.deserialize`` and call it, with no model code at all.

This example trains a small classifier (an MLP written with ``js.layers.dense`` on
scikit-learn's 8x8 digits), exports ``predict(images) -> (probabilities, classes)``
with a symbolic batch size, writes the artifact to ``--workdir``, then starts a fresh
Python process (this script with ``--serve``) that imports only JAX and NumPy (imports
of jaxscope are blocked there), loads the artifact, serves batches of test images and
times each one. Back in the first process, the served outputs are checked against
``apply`` run in-process.

Why the variables are closed over, not passed as arguments: the exported function
captures the trained variables as constants, so the artifact is one self-contained file
(the "frozen graph" of TF1) and the server needs no checkpoint and no knowledge of the
variables' names or structure. The cost: new weights mean a new export, and the
weights live inside the artifact. For large models, or to swap weights without
re-exporting, export ``lambda variables, images: ...`` instead and ship a checkpoint
beside it (the server then needs the variables' pytree structure, a dict of names).

Run:  python examples/inference.py [--steps 300] [--batches 200] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import export
from tqdm import tqdm

ARTIFACT = "digits_classifier.jax_export"
CLASSES = 10


# -- training side: jaxscope, optax and scikit-learn ---------------------------------------
def train_classifier(args):
    """Train the MLP on digits; return (jitted in-process predict, test images, test labels)."""
    # Imported here rather than at the top: the serving process (serve() below) runs this
    # file too and must not need them.
    import optax
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import jaxscope as js

    @js.transform
    def classifier(images):
        # TF1: tf.layers.dense under a variable scope -> "classifier/hidden/kernel", ...
        with js.variable_scope("classifier"):
            hidden = js.layers.dense(images, args.hidden, activation=js.nn.relu, name="hidden")
            return js.layers.dense(hidden, CLASSES, name="logits")

    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)  # 8x8 pixels in [0, 16] -> [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.3, random_state=args.seed, stratify=digits.target)

    variables = classifier.init(jax.random.key(args.seed), x_train[:1])
    print(js.summary(variables))
    optimizer = optax.adam(args.learning_rate)

    def loss_fn(params, x, y):
        logits, _ = classifier.apply({"params": params, "state": {}}, x)
        return jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    @jax.jit
    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    params = variables["params"]
    opt_state = optimizer.init(params)
    rng = np.random.default_rng(args.seed)
    with tqdm(range(args.steps), desc="training", unit="step") as bar:
        for step in bar:
            batch = rng.integers(0, len(x_train), size=args.train_batch_size)
            params, opt_state, loss = train_step(params, opt_state, x_train[batch], y_train[batch])
            if step % 10 == 0:
                bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)
    variables = {"params": params, "state": variables["state"]}

    # The function to serve: trained variables closed over (see the module docstring).
    def predict(images):
        logits, _ = classifier.apply(variables, images)
        return jax.nn.softmax(logits), jnp.argmax(logits, axis=-1).astype(jnp.int32)

    accuracy = float(np.mean(np.asarray(jax.jit(predict)(x_test)[1]) == y_test))
    print(f"test accuracy after {args.steps} steps: {100 * accuracy:.1f}%")
    return predict, x_test, y_test


def export_predict(predict, path: str) -> export.Exported:
    """jax.export predict for any batch size ("batch" is symbolic) and write it to path."""
    (batch,) = export.symbolic_shape("batch")
    spec = jax.ShapeDtypeStruct((batch, 64), jnp.float32)
    # platforms defaults to this machine's; e.g. platforms=("cpu", "cuda") exports both.
    exported = export.export(jax.jit(predict))(spec)
    with open(path, "wb") as f:
        f.write(exported.serialize())
    print(f"\nexported predict to {path} ({os.path.getsize(path) / 1024:.1f} KiB): "
          f"{exported.in_avals} -> {exported.out_avals}, platforms {exported.platforms}")
    return exported


def make_requests(x_test, y_test, batches: int, batch_size: int, seed: int):
    """`batches` batches of test images (drawn with replacement), and their labels."""
    pick = np.random.default_rng(seed + 1).integers(0, len(x_test), size=(batches, batch_size))
    return x_test[pick], y_test[pick]


def run_server(artifact: str, requests: str, responses: str, warmup: int) -> None:
    """Serve in a fresh interpreter: this script with --serve; relay what it prints."""
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--serve", artifact,
         "--requests", requests, "--responses", responses, "--warmup", str(warmup)],
        stdout=subprocess.PIPE, text=True, check=False)  # stderr (its progress bar) passes through
    for line in proc.stdout.splitlines():
        print("  server | " + line)
    if proc.returncode != 0:
        sys.exit(f"the server failed with exit code {proc.returncode}")


# -- serving side: JAX and NumPy only ------------------------------------------------------
def serve(args) -> None:
    """Load the exported artifact and serve the request batches, timing each one."""
    sys.modules["jaxscope"] = None  # from here on `import jaxscope` raises ImportError
    with open(args.serve, "rb") as f:
        exported = export.deserialize(bytearray(f.read()))
    print(f"loaded {os.path.basename(args.serve)}: {exported.in_avals} -> {exported.out_avals}")
    predict = jax.jit(exported.call)  # compiled for each concrete batch size it sees

    images = np.load(args.requests)["images"]
    for _ in range(args.warmup):  # compile, and settle caches, before timing
        jax.block_until_ready(predict(images[0]))

    probabilities, classes, latencies_ms = [], [], []
    for batch in tqdm(images, desc="serving", unit="batch"):
        start = time.perf_counter()
        probs, cls = jax.block_until_ready(predict(batch))
        latencies_ms.append(1e3 * (time.perf_counter() - start))
        probabilities.append(np.asarray(probs))
        classes.append(np.asarray(cls))
    np.savez(args.responses, probabilities=np.stack(probabilities), classes=np.stack(classes),
             latencies_ms=np.asarray(latencies_ms))

    # The batch dimension is symbolic: a batch of one goes through the same artifact.
    one_probs, one_class = predict(images[0][:1])
    same = bool(one_class[0] == classes[0][0]
                and np.allclose(one_probs[0], probabilities[0][0], rtol=1e-5, atol=1e-6))
    print(f"a batch of 1 through the same artifact agrees with batch 0's first row: "
          f"{'yes' if same else 'no'}")
    median, p90 = np.percentile(latencies_ms, [50, 90])
    print(f"served {len(images)} batches of {images.shape[1]} after {args.warmup} warm-up "
          f"calls: median {median:.3f} ms, p90 {p90:.3f} ms")
    loaded = [name for name in ("jaxscope", "optax", "sklearn") if sys.modules.get(name)]
    print(f"training modules loaded by the server: {', '.join(loaded) or 'none'}")


# -- the whole story -----------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units (default 128)")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="Adam's step size")
    parser.add_argument("--train-batch-size", type=int, default=64, help="training batch size")
    parser.add_argument("--batches", type=int, default=200, help="batches to serve (default 200)")
    parser.add_argument("--batch-size", type=int, default=32, help="served batch size (default 32)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls before serving")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, init and batches")
    parser.add_argument("--workdir", default=None,
                        help="where the artifact goes (default: a new temporary folder)")
    serving = parser.add_argument_group("serving (used by the server process)")
    serving.add_argument("--serve", metavar="ARTIFACT", help="serve this exported artifact")
    serving.add_argument("--requests", help=".npz with the batches to serve (key 'images')")
    serving.add_argument("--responses", help=".npz the server writes its outputs to")
    args = parser.parse_args(argv)
    if args.serve and not (args.requests and args.responses):
        parser.error("--serve needs --requests and --responses")
    for name in ("steps", "batches", "batch_size", "warmup"):
        if getattr(args, name) < (0 if name == "warmup" else 1):
            parser.error(f"--{name.replace('_', '-')} is too small")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.serve:
        serve(args)
        return
    workdir = args.workdir or tempfile.mkdtemp(prefix="inference_")
    os.makedirs(workdir, exist_ok=True)

    predict, x_test, y_test = train_classifier(args)
    artifact = os.path.join(workdir, ARTIFACT)
    export_predict(predict, artifact)

    images, labels = make_requests(x_test, y_test, args.batches, args.batch_size, args.seed)
    requests = os.path.join(workdir, "requests.npz")
    responses = os.path.join(workdir, "responses.npz")
    np.savez(requests, images=images)  # the labels stay here: the server never sees them
    print(f"\nstarting a fresh process to serve {args.batches} batches of {args.batch_size}:")
    run_server(artifact, requests, responses, args.warmup)

    # The served outputs against apply, jit-compiled in this process on the same batches.
    served = np.load(responses)
    in_process = jax.jit(predict)
    expected = [jax.device_get(in_process(batch)) for batch in images]
    expected_probs = np.stack([probs for probs, _ in expected])
    expected_classes = np.stack([cls for _, cls in expected])
    diff = float(np.max(np.abs(served["probabilities"] - expected_probs)))
    match = bool(np.array_equal(served["classes"], expected_classes)
                 and np.allclose(served["probabilities"], expected_probs, rtol=1e-6, atol=1e-7))
    print(f"served vs in-process apply: max |probability difference| {diff:.1e}, "
          f"same classes: {'yes' if np.array_equal(served['classes'], expected_classes) else 'no'}")
    print(f"served predictions are right for {100 * np.mean(served['classes'] == labels):.1f}% "
          "of the requests")

    median, p90 = np.percentile(served["latencies_ms"], [50, 90])
    print(f"\nfinal: served {args.batches} batches of {args.batch_size}, median latency "
          f"{median:.3f} ms (p90 {p90:.3f} ms); outputs match apply: {'yes' if match else 'no'}")
    return None if match else 1


if __name__ == "__main__":
    sys.exit(main())
