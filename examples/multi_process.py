"""Several processes: one jaxscope model trained by 2 processes of 4 CPU devices each.

TF1 trained on several machines with a cluster spec, parameter servers and
``tf.train.replica_device_setter``; the chief wrote the checkpoints. JAX runs one copy of
the same program in every process (``jax.distributed``): the processes agree on one
global mesh of all their devices, and a ``jax.jit`` step over arrays sharded on that
mesh is one SPMD program whose collectives cross process boundaries. jaxscope adds
nothing to learn: the model is the same function as on one device, and the
variables' shardings come from ``model.shardings(mesh, x)`` as in
``data_parallel.py``.

This script is its own launcher. Run without ``--process-id``, it starts

* the **reference**: 1 process with 8 devices (``data_parallel.py``'s setting);
* the **distributed run**: 2 processes with 4 devices each, on localhost:
  ``jax.distributed.initialize`` with a loopback coordinator, CPU collectives through
  gloo (``jax_cpu_collectives_implementation="gloo"``);

both train the same model on the same batches, and it compares them: the losses of
every step and the final checkpoints must agree (float32 sums taken in another order:
a few ulps at most).

The model is the digits MLP of ``data_parallel.py`` with its hidden layers split over
all 8 devices (a ``partitioner=`` as scope default, TF1's way; ZeRO-3/FSDP in today's
words), so half of every hidden variable lives in each process. Each batch is split
along the same axis: each process feeds only the rows its devices hold. Saving is one
``js.train.Saver().save(...)`` in every process: the split variables are gathered,
process 0 writes ONE checkpoint (TF1's chief), and every process reads it back with
``restore(..., shardings=...)`` and checks it against what it trained.

Run:  python examples/multi_process.py [--steps 100] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np
import optax
from data_parallel import batch_indices, load_data, make_train_step
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import jaxscope as js

NUM_DEVICES = 8  # the global mesh: 1 x 8 in the reference, 2 x 4 in the distributed run
RELATIVE_TOLERANCE = 1e-5  # float32 sums in another order differ by a few ulps, not more


# --------------------------------------------------------------------------- the model


def mlp(images, hidden_units: int, num_classes: int = 10):
    """data_parallel.py's MLP; the hidden layers' variables split in NUM_DEVICES pieces."""
    with js.variable_scope("hidden", partitioner=js.fixed_size_partitioner(NUM_DEVICES)):
        hidden = js.layers.dense(images, hidden_units, activation=js.nn.relu, name="layer1")
        hidden = js.layers.dense(hidden, hidden_units, activation=js.nn.relu, name="layer2")
    return js.layers.dense(hidden, num_classes, name="logits")


# --------------------------------------------------------------------------- one process


def start_jax(args) -> None:
    """Joins the other processes (the distributed run) or does nothing (one process)."""
    if args.num_processes == 1:
        return
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=args.coordinator,
                               num_processes=args.num_processes, process_id=args.process_id,
                               initialization_timeout=int(args.timeout))


def global_batch(array: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """One global array from the rows this process's devices hold.

    ``make_array_from_callback`` asks only for this process's shards: an input pipeline
    that reads rows by index reads only its own. (Here every process has the digits.)
    """
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def worker(args) -> dict:
    """Trains, saves, restores; returns what the launcher compares."""
    start_jax(args)
    rank, processes = jax.process_index(), jax.process_count()
    train_images, _, train_labels, _ = load_data()
    mesh = jax.make_mesh((jax.device_count(),), ("data",),
                         axis_types=(jax.sharding.AxisType.Auto,))
    split = NamedSharding(mesh, P("data"))  # the batch's first axis over all devices

    model = js.transform(lambda x: mlp(x, args.hidden_units))
    sample = global_batch(train_images[:args.batch_size], split)
    shardings = model.shardings(mesh, sample)
    variables = jax.jit(model.init, out_shardings=shardings)(jax.random.key(args.seed), sample)
    optimizer = optax.adam(args.learning_rate)
    replicated = NamedSharding(mesh, P())
    # Adam's moments split as their variables, its step count replicated
    opt_shardings = optax.tree_map_params(
        optimizer, lambda _, sharding: sharding,
        jax.eval_shape(optimizer.init, variables["params"]), shardings["params"],
        transform_non_params=lambda _: replicated)
    opt_state = jax.jit(optimizer.init, out_shardings=opt_shardings)(variables["params"])
    step = jax.jit(make_train_step(model, optimizer),
                   out_shardings=(shardings["params"], opt_shardings, replicated))

    params, state, losses = variables["params"], variables["state"], []
    for i in range(args.steps):
        rows = batch_indices(args.seed, i, len(train_labels), args.batch_size)
        images = global_batch(train_images[rows], split)
        labels = global_batch(train_labels[rows], split)
        params, opt_state, loss = step(params, state, opt_state, images, labels)
        losses.append(float(loss))  # replicated: every process reads its own copy

    trained = {"params": params, "state": state}
    saver = js.train.Saver()
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    path = saver.save(trained, os.path.join(args.checkpoint_dir, "model.ckpt"),
                      global_step=args.steps)
    restored = saver.restore(path, shardings=shardings)
    restored_equal = all(
        np.array_equal(mine.data, theirs.data)
        for name, value in trained["params"].items()
        for mine, theirs in zip(value.addressable_shards,
                                restored["params"][name].addressable_shards))
    kernel = params["hidden/layer1/kernel"]
    report = {
        "process": rank, "processes": processes, "devices": jax.device_count(),
        "local_devices": jax.local_device_count(), "losses": losses, "checkpoint": path,
        "restored_equal": restored_equal,
        "kernel": [list(kernel.shape), str(kernel.sharding.spec),
                   [list(s.data.shape) for s in kernel.addressable_shards]],
    }
    if processes > 1:
        jax.distributed.shutdown()
    return report


# --------------------------------------------------------------------------- the launcher


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(args, workdir: pathlib.Path, processes: int) -> list[dict]:
    """Runs ``processes`` copies of this script (one run) and returns their reports."""
    devices = NUM_DEVICES // processes
    name = f"{processes}x{devices}"
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    common = [sys.executable, __file__, "--steps", str(args.steps), "--batch-size",
              str(args.batch_size), "--hidden-units", str(args.hidden_units),
              "--learning-rate", str(args.learning_rate), "--seed", str(args.seed),
              "--timeout", str(args.timeout), "--num-processes", str(processes),
              "--coordinator", f"127.0.0.1:{free_port()}",
              "--checkpoint-dir", str(workdir / name)]
    running = []
    for rank in range(processes):
        log = open(workdir / f"{name}.{rank}.log", "w")  # noqa: SIM115 (closed below)
        report = workdir / f"{name}.{rank}.json"
        running.append((subprocess.Popen(
            common + ["--process-id", str(rank), "--report", str(report)],
            env=env, stdout=log, stderr=subprocess.STDOUT), log, report))
    deadline = time.monotonic() + args.timeout
    try:
        for process, _, _ in running:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for process, log, _ in running:
            if process.poll() is None:
                process.kill()  # a process left waiting for a peer that died or hangs
                process.wait()
            log.close()
    failed = [(rank, p.returncode, log.name) for rank, (p, log, _) in enumerate(running)
              if p.returncode != 0]
    if failed:
        rank, code, log = failed[0]
        tail = pathlib.Path(log).read_text()[-3000:]
        sys.exit(f"error: the {name} run failed: process {rank} exited with {code} "
                 f"(timeout {args.timeout:g} s); its log {log} ends:\n{tail}")
    return [json.loads(report.read_text()) for _, _, report in running]


def compare_checkpoints(first: str, second: str) -> tuple[float, float]:
    """Largest ``|a - b|`` over the tensors of two checkpoints, and their largest ``|b|``."""
    a, b = js.train.load_checkpoint(first), js.train.load_checkpoint(second)
    if sorted(a) != sorted(b):
        sys.exit(f"error: {first} and {second} hold different variables")
    tensors = [(a[name], b[name]) for name in b]
    return (max(float(np.max(np.abs(x - y))) for x, y in tensors),
            max(float(np.max(np.abs(y))) for _, y in tensors))


def launcher(args) -> None:
    workdir = pathlib.Path(args.checkpoint_dir or tempfile.mkdtemp(prefix="multi_process-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    (single,) = launch(args, workdir, processes=1)
    print(f"reference: 1 process x {single['local_devices']} devices, {args.steps} steps "
          f"({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    reports = launch(args, workdir, processes=args.num_processes)
    print(f"distributed: {len(reports)} processes x {reports[0]['local_devices']} devices "
          f"= {reports[0]['devices']} devices on one mesh ({time.perf_counter() - started:.1f} s)")
    for report in reports:
        shape, spec, shards = report["kernel"]
        print(f"process {report['process']}: hidden/layer1/kernel {tuple(shape)} {spec}, "
              f"holds {len(shards)} shards of {tuple(shards[0])}; restored checkpoint "
              f"equals trained variables: {'yes' if report['restored_equal'] else 'no'}")

    reference = np.asarray(single["losses"])
    loss_diff = max(float(np.max(np.abs(np.asarray(r["losses"]) - reference)))
                    for r in reports)
    same_in_all = all(r["losses"] == reports[0]["losses"] for r in reports)
    checkpoint = reports[0]["checkpoint"]
    ckpt_diff, scale = compare_checkpoints(checkpoint, single["checkpoint"])
    print(f"loss: step 1 {reference[0]:.4f}, step {args.steps} {reference[-1]:.4f} "
          f"(1 process); max |Δloss| over all steps {loss_diff:.1e}; every process read "
          f"the same losses: {'yes' if same_in_all else 'no'}")
    files = sorted(os.listdir(os.path.dirname(checkpoint)))
    print(f"checkpoint {checkpoint}: folder holds {files}; max |Δ| vs the 1-process "
          f"checkpoint {ckpt_diff:.1e} (largest |value| {scale:.3f})")
    match = (same_in_all and all(r["restored_equal"] for r in reports)
             and loss_diff <= RELATIVE_TOLERANCE * max(1.0, float(np.max(reference)))
             and ckpt_diff <= RELATIVE_TOLERANCE * scale)
    print(f"final: {len(reports)} processes x {reports[0]['local_devices']} devices vs "
          f"1 process x {single['local_devices']} devices after {args.steps} steps: "
          f"max |Δloss| = {loss_diff:.1e}, max |Δvariable| = {ckpt_diff:.1e} "
          f"(match: {'yes' if match else 'no'})")
    if not match:
        sys.exit(1)


# --------------------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help=f"examples per step, a multiple of {NUM_DEVICES} (default 128)")
    parser.add_argument("--hidden-units", type=int, default=128,
                        help=f"units per hidden layer, a multiple of {NUM_DEVICES} (default 128)")
    parser.add_argument("--learning-rate", type=float, default=1e-3,
                        help="Adam's step size (default 1e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variables and batches")
    parser.add_argument("--num-processes", type=int, default=2, choices=(1, 2, 4, 8),
                        help=f"processes of the distributed run, {NUM_DEVICES} devices "
                             "among them (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds a run may take before its processes are killed")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="folder of the checkpoints and logs (default: a new temp folder)")
    worker_only = parser.add_argument_group("one process of a run (set by the launcher)")
    worker_only.add_argument("--process-id", type=int, default=None, help=argparse.SUPPRESS)
    worker_only.add_argument("--coordinator", default=None, help=argparse.SUPPRESS)
    worker_only.add_argument("--report", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "hidden_units"):
        value = getattr(args, name)
        if value < 1 or (name != "steps" and value % NUM_DEVICES):
            parser.error(f"--{name.replace('_', '-')} must be "
                         + ("at least 1" if name == "steps"
                            else f"a positive multiple of {NUM_DEVICES}"))
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.process_id is None:
        launcher(args)
        return
    report = worker(args)
    pathlib.Path(args.report).write_text(json.dumps(report))


if __name__ == "__main__":
    main()
