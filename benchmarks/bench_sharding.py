"""Sharding benchmark: TF1-partitioned variables created split; data-parallel step, 8 vs 1.

Run from the repository root::

    python benchmarks/bench_sharding.py          # full run, 1 GB model (<4 min), writes
                                                 # RESULTS.md (only its section `sharding`)
    python benchmarks/bench_sharding.py --quick  # smoke run, 64 MB model, prints only (see --out)

1. **Creating a model bigger than one device's share.** 32 float32 variables of T bytes in
   all (1 GiB; ``--quick``: 64 MiB), every one partitioned by ``js.fixed_size_partitioner(8)``
   (a ``variable_scope`` default), on a mesh ``("model",)`` of 8 devices: each device's share
   is T/8. Compared: ``jax.jit(model.init, out_shardings=model.shardings(mesh))`` (every
   variable created split) with ``jax.jit(model.init)`` on one device (the whole model on
   device 0, then ``jax.device_put(variables, shardings)``). Measured: XLA's per-device
   ``memory_analysis()`` of both programs, and the peak RSS increase of a fresh subprocess per
   method (``VmHWM`` reset through ``/proc/self/clear_refs``). Checked: both ways give the same
   values on every device, and device ``i`` holds exactly TF's piece ``part_i``.
2. **Data-parallel training step.** A 3-layer MLP, one SGD step on a batch split over a mesh
   ``("data",)`` of 8 devices (variables replicated, as ``examples/data_parallel.py``) vs the
   same step under a plain ``jax.jit`` on 1 device: time per step (interleaved, median/IQR),
   per-device flops, the all-reduce ops XLA inserted, and the loss of both.

The 8 devices are XLA's host platform split in 8 (``--xla_force_host_platform_device_count=8``,
set below before JAX starts, unless ``XLA_FLAGS`` is already set). README.md beside this file
explains the tables.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import os

# Must come before `import jax` (also through _measure): XLA reads it when the CPU backend starts.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import argparse
import collections
import functools
import gc
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from _measure import (
    block_ratio_range,
    flops_of,
    fmt_iqr,
    goal_table,
    header_lines,
    interleaved_calls,
    peak_rss,
    reset_peak_rss,
    rss,
    run_main,
    table,
)
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import jaxscope as js
from jaxscope.partitioners import slice_shapes

NUM_DEVICES = 8
N_VARIABLES = 32
COLUMNS = 1024
MB = 1e6
LOSS_RTOL = 1e-5
METHODS = {
    "sharded": "created split: `jit(init, out_shardings=shardings)`",
    "whole_then_split": "created whole on device 0, then `jax.device_put(variables, shardings)`",
    "whole": "created whole on device 0 only (reference, not split)",
    "plain": "plain JAX, created split: `jax.random.uniform` of the same shapes (reference)",
}
MEMORY_FIELDS = ("argument_size_in_bytes", "output_size_in_bytes", "temp_size_in_bytes",
                 "peak_memory_in_bytes")


# -- part 1: the big partitioned model -----------------------------------------------------------
def big_model(rows: int) -> None:
    """32 variables ``[rows, 1024]``, all partitioned in 8 by the scope's default partitioner."""
    with js.variable_scope("big", partitioner=js.fixed_size_partitioner(NUM_DEVICES)):
        for i in range(N_VARIABLES):
            js.get_variable(f"w{i:02d}", [rows, COLUMNS])


def rows_for(total: int) -> int:
    rows = total // (N_VARIABLES * COLUMNS * 4)
    return rows - rows % NUM_DEVICES


def model_mesh() -> jax.sharding.Mesh:
    return jax.make_mesh((NUM_DEVICES,), ("model",), axis_types=(jax.sharding.AxisType.Auto,))


def plain_random(key: jax.Array, rows: int) -> list[jax.Array]:
    """The same shapes drawn with ``jax.random.uniform`` alone: JAX's own floor."""
    keys = jax.random.split(key, N_VARIABLES)
    return [jax.random.uniform(keys[i], (rows, COLUMNS)) for i in range(N_VARIABLES)]


PROGRAMS = ("sharded", "whole", "plain", "plain_whole")
NEEDS = {"sharded": ("sharded",), "whole_then_split": ("whole",), "whole": ("whole",),
         "plain": ("plain",)}  # the compiled programs each creation method runs


def init_programs(rows: int, which: tuple[str, ...] = PROGRAMS) -> dict[str, Any]:
    """The transformed model, its shardings, and the compiled programs (``which``) that
    create it."""
    model = js.transform(lambda: big_model(rows))
    mesh = model_mesh()
    shardings = model.shardings(mesh)
    key = jax.random.key(0)
    plain = functools.partial(plain_random, rows=rows)
    plain_split = [NamedSharding(mesh, P("model", None))] * N_VARIABLES
    jitted = {
        "sharded": jax.jit(model.init, out_shardings=shardings),
        "whole": jax.jit(model.init),
        "plain": jax.jit(plain, out_shardings=plain_split),
        "plain_whole": jax.jit(plain),
    }
    compiled = {name: jitted[name].lower(key).compile() for name in which}
    return {"model": model, "shardings": shardings, **compiled}


def memory_stats(compiled: Any) -> dict[str, int | None]:
    analysis = compiled.memory_analysis()
    return {f: getattr(analysis, f, None) for f in MEMORY_FIELDS}


def create(method: str, programs: dict[str, Any]) -> Any:
    """Every variable of the model, created by ``method``; returns what stays alive."""
    key = jax.random.key(0)
    if method in ("sharded", "plain"):
        return jax.block_until_ready(programs[method](key))
    variables = jax.block_until_ready(programs["whole"](key))
    if method == "whole":
        return variables
    return variables, jax.block_until_ready(jax.device_put(variables, programs["shardings"]))


def checksum(variables: Any) -> float:
    """float64 sum of every element, shard by shard (zero-copy views on CPU)."""
    return float(sum(np.asarray(shard.data).sum(dtype=np.float64)
                     for leaf in jax.tree.leaves(variables) for shard in leaf.addressable_shards))


def child(method: str, total: int) -> None:
    """Create the model once by ``method`` in this fresh process; print memory/time as JSON."""
    programs = init_programs(rows_for(total), NEEDS[method])
    jax.block_until_ready(jnp.zeros(8) + 1)
    gc.collect()
    before = rss()
    reset = reset_peak_rss()
    t0 = time.perf_counter()
    out = create(method, programs)
    seconds = time.perf_counter() - t0
    peak = peak_rss()
    created = out[1] if method == "whole_then_split" else out
    check = None if method == "plain" else checksum(created)  # other values: no check
    print(json.dumps({"seconds": seconds, "increase": peak - before, "peak_reset": reset,
                      "retained": rss() - before, "check": check}))


def run_child(method: str, total: int) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", method, str(total)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"child {method} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def tf_piece_index(spec: Any, position: int) -> tuple[slice, ...]:
    """The rows/columns of TF's ``part_{position}`` of a partitioned variable."""
    offset, shape = slice_shapes(spec.shape, spec.partitions)[position]
    return tuple(slice(o, o + n) for o, n in zip(offset, shape))


def normalized(index: tuple[slice, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(*s.indices(d)[:2]) for s, d in zip(index, shape))


def verify(programs: dict[str, Any]) -> dict[str, Any]:
    """Split creation vs whole-then-``device_put``, variable by variable and device by device."""
    specs = programs["model"].specs()
    shardings = programs["shardings"]
    devices = list(model_mesh().devices.flat)
    key = jax.random.key(0)
    sharded = jax.block_until_ready(programs["sharded"](key))["params"]
    full = jax.block_until_ready(programs["whole"](key))["params"]
    equal = pieces = pieces_ok = 0
    device0 = 0
    for name, array in sharded.items():
        reference = np.asarray(full[name])  # zero-copy view of device 0's buffer
        moved = jax.device_put(full[name], shardings["params"][name])
        moved_by_device = {s.device: s.data for s in moved.addressable_shards}
        same = np.array_equal(np.asarray(array), reference)
        for shard in array.addressable_shards:
            position = devices.index(shard.device)
            expected = tf_piece_index(specs[name], position)
            data = np.asarray(shard.data)
            pieces += 1
            pieces_ok += (normalized(shard.index, array.shape) == expected
                          and np.array_equal(data, reference[expected]))
            same = same and np.array_equal(data, np.asarray(moved_by_device[shard.device]))
            if shard.device == devices[0]:
                device0 += data.nbytes
        equal += same
        del moved, moved_by_device
    return {"variables": len(sharded), "equal": equal, "pieces": pieces, "pieces_ok": pieces_ok,
            "device0_bytes": device0, "check": checksum(sharded),
            "spec": str(shardings["params"][next(iter(sharded))].spec)}


def measure_creation(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    total = (64 if args.quick else 1024) << 20
    rounds = 1 if args.quick else 2
    rows = rows_for(total)
    log(f"part 1: {N_VARIABLES} variables [{rows}, {COLUMNS}] float32, "
        f"{N_VARIABLES * rows * COLUMNS * 4 / MB:.0f} MB; compiling the init programs")
    programs = init_programs(rows)
    res: dict[str, Any] = {"rows": rows, "nbytes": N_VARIABLES * rows * COLUMNS * 4,
                           "rounds": rounds, "memory": {
                               name: memory_stats(programs[name])
                               for name in ("sharded", "whole", "plain", "plain_whole")}}
    children: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    order = list(METHODS)
    for r in range(rounds):
        for method in order if r % 2 == 0 else reversed(order):
            log(f"round {r + 1}/{rounds}: creating the model '{method}' in a fresh subprocess")
            children[method].append(run_child(method, total))
    res["children"] = children
    log("verifying: split creation vs whole + device_put, every device's shard vs TF's part_i")
    res["verify"] = verify(programs)
    res["partitionable"] = bool(jax.config.jax_threefry_partitionable)
    return res


# -- part 2: data-parallel training step ---------------------------------------------------------
def mlp(x: jax.Array, width: int) -> jax.Array:
    hidden = js.layers.dense(x, width, activation=js.nn.relu, name="hidden1")
    hidden = js.layers.dense(hidden, width, activation=js.nn.relu, name="hidden2")
    return js.layers.dense(hidden, 10, name="logits")


def make_step(model: Any, learning_rate: float = 0.1) -> Callable[..., Any]:
    """One SGD step: mean cross-entropy, its gradient w.r.t. ``params``, ``p - lr * g``."""

    def loss_fn(params, state, x, labels):
        logits, _ = model.apply({"params": params, "state": state}, x)
        return jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                       logits=logits))

    def step(params, state, x, labels):
        loss, grads = jax.value_and_grad(loss_fn)(params, state, x, labels)
        return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads), loss

    return step


def collectives(text: str) -> dict[str, int]:
    """Collective ops of an optimized HLO module (async ``-start`` forms counted once)."""
    ops = re.findall(r"\b(all-reduce|all-gather|reduce-scatter|all-to-all|collective-permute)"
                     r"(?:-start)?\(", text)
    return dict(collections.Counter(ops))


def measure_data_parallel(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    batch, width = (64, 128) if args.quick else (256, 512)
    n_calls, warmup = (30, 5) if args.quick else (150, 10)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width), dtype=np.float32)
    labels = rng.integers(0, 10, batch).astype(np.int32)
    model = js.transform(lambda inputs: mlp(inputs, width))
    step = make_step(model)
    mesh = jax.make_mesh((NUM_DEVICES,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
    shardings = model.shardings(mesh, x)  # no partitioner=: every variable replicated
    replicated, split_batch = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    key = jax.random.key(0)
    log(f"part 2: MLP {width}-{width}-{width}-10, batch {batch}; compiling the steps")
    v8 = jax.jit(model.init, out_shardings=shardings)(key, x)
    v1 = jax.jit(model.init)(key, x)
    x8, y8 = jax.device_put(x, split_batch), jax.device_put(labels, split_batch)
    x1, y1 = jnp.asarray(x), jnp.asarray(labels)
    share = batch // NUM_DEVICES
    xs, ys = jnp.asarray(x[:share]), jnp.asarray(labels[:share])
    step8 = jax.jit(step, in_shardings=(shardings["params"], shardings["state"], split_batch,
                                        split_batch),
                    out_shardings=(shardings["params"], replicated)).lower(
        v8["params"], v8["state"], x8, y8).compile()
    step1 = jax.jit(step).lower(v1["params"], v1["state"], x1, y1).compile()
    step_share = jax.jit(step).lower(v1["params"], v1["state"], xs, ys).compile()
    # Each call's result is waited for (interleaved_calls blocks on it): with several steps
    # queued, XLA's in-process CPU collectives can deadlock (JAX 0.10).
    new8, loss8 = jax.block_until_ready(step8(v8["params"], v8["state"], x8, y8))
    new1, loss1 = jax.block_until_ready(step1(v1["params"], v1["state"], x1, y1))
    param_diff = max(float(np.max(np.abs(np.asarray(new8[k]) - np.asarray(new1[k]))))
                     for k in new1)
    fns = {
        "1 device": lambda: step1(v1["params"], v1["state"], x1, y1),
        f"{NUM_DEVICES} devices": lambda: step8(v8["params"], v8["state"], x8, y8),
        f"1 device, batch {share}": lambda: step_share(v1["params"], v1["state"], xs, ys),
    }
    log(f"timing: {n_calls} interleaved calls of each step (after {warmup} warm-up calls)")
    times = interleaved_calls(fns, n_calls, warmup=warmup, rotate=True)
    compiled = dict(zip(fns, (step1, step8, step_share)))
    return {
        "batch": batch, "width": width, "share": share, "n_calls": n_calls,
        "names": list(fns), "times": times,
        "flops": {name: flops_of(c) for name, c in compiled.items()},
        "collectives": {name: collectives(c.as_text()) for name, c in compiled.items()},
        "loss": (float(loss1), float(loss8)), "param_diff": param_diff,
        "variables": sum(int(a.size) for a in jax.tree.leaves(v1["params"])),
    }


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    if jax.device_count() < NUM_DEVICES:
        sys.exit(f"error: {jax.device_count()} device(s), {NUM_DEVICES} needed; XLA_FLAGS is "
                 f"{os.environ.get('XLA_FLAGS')!r} (unset it, or add "
                 f"--xla_force_host_platform_device_count={NUM_DEVICES})")
    return {"creation": measure_creation(args, log), "dp": measure_data_parallel(args, log)}


# -- report --------------------------------------------------------------------------------------
def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / MB:.1f}"


MEMORY_ROWS = {
    "sharded": f"split init, per device (each of {NUM_DEVICES})",
    "whole": "whole init, on one device",
    "plain": "plain `jax.random.uniform`, split, per device (reference)",
    "plain_whole": "plain `jax.random.uniform`, whole, one device (reference)",
}


def memory_plan(res: dict[str, Any]) -> list[str]:
    n, mem = res["nbytes"], res["memory"]
    rows = [[label, *(mb(mem[name][f]) for f in MEMORY_FIELDS),
             f"{mem[name]['output_size_in_bytes'] / n:.3f}",
             f"{mem[name]['temp_size_in_bytes'] / mem[name]['output_size_in_bytes']:.2f}"]
            for name, label in MEMORY_ROWS.items()]
    ratio = mem["sharded"]["output_size_in_bytes"] / mem["whole"]["output_size_in_bytes"]
    return [
        "### XLA's memory plan (`compiled.memory_analysis()`), MB per device",
        "",
        table(["program", "argument", "output", "temp", "peak (XLA)", "output ÷ T",
               "temp ÷ output"], rows),
        "",
        "*split init* = `jax.jit(model.init, out_shardings=model.shardings(mesh))`: the SPMD "
        "program each device runs; *whole init* = `jax.jit(model.init)`, what a naive \"create "
        "it all, then `device_put`\" needs on the one device that creates it. The *plain* rows "
        "draw the same shapes with `jax.random.uniform` (keys from `jax.random.split`) and "
        "nothing else: JAX's own cost of making that many random numbers. *temp* is the "
        "scratch buffer XLA allocates for each run: JAX's threefry random bits are computed in "
        "a `while` loop whose state holds uint32 arrays of the output's shape, so temp is of "
        "the order of the output for plain JAX too. *peak (XLA)* is XLA's own figure; here it "
        "is the output plus a few hundred bytes, i.e. it leaves the temp buffer out.",
        "",
        f"Per-device output of the split init ÷ the whole init's: **{ratio:.4f}** "
        f"(1/{NUM_DEVICES} = {1 / NUM_DEVICES:.4f}).",
        "",
    ]


def peak_rss_report(res: dict[str, Any]) -> tuple[list[str], dict[str, float]]:
    n = res["nbytes"]
    reference = res["verify"]["check"]
    rows = []
    increase: dict[str, float] = {}
    for method, label in METHODS.items():
        cs = res["children"][method]
        increase[method] = max(c["increase"] for c in cs)
        if method == "plain":
            same = "(other values)"
        else:
            same = "yes" if all(abs(c["check"] - reference) <= 1e-9 * max(1.0, abs(reference))
                                for c in cs) else "**NO**"
        rounds = ", ".join(f"{c['increase'] / MB:.0f}" for c in cs)
        rows.append([label, f"{increase[method] / MB:.0f}", f"{increase[method] / n:.2f}", rounds,
                     f"{max(c['retained'] for c in cs) / MB:.0f}",
                     f"{np.median([c['seconds'] for c in cs]):.2f}", same])
    reset = all(c["peak_reset"] for cs in res["children"].values() for c in cs)
    return [
        "### Peak process memory (RSS) while creating the model",
        "",
        table(["method", "peak RSS increase MB (worst round)", "÷ T", "each round, MB",
               "RSS retained MB",
               "time s (median)", "same values (checksum)"], rows),
        "",
        f"One fresh subprocess per method and round ({res['rounds']} round(s), order reversed "
        "every other round); the method's program is compiled before the baseline, so the "
        "figures are the creation alone. Peak = `VmHWM` " +
        ("reset through `/proc/self/clear_refs` just before creating" if reset else
         "(`ru_maxrss`; could not be reset: an upper bound)") +
        ", minus the RSS just before. **On CPU the 8 devices share the host's memory**, so "
        "RSS is the total over all devices, temp buffers included; it cannot show one "
        "device's peak (that is the `memory_analysis` table). What it shows: "
        "whole-then-split holds the whole model on device 0 *and* its split copy — on real "
        f"accelerators device 0 would need the whole T, {NUM_DEVICES}× its share, plus the "
        "whole init's temp, before anything is split — while the split creation holds the "
        "finished variables plus the devices' temp buffers (their sum is at most "
        f"{NUM_DEVICES}× the per-device temp; less when the devices' programs do not run "
        "at the same time). *same values*: each child's float64 checksum of what it created "
        "equals the in-process one below.",
        "",
    ], increase


def values(res: dict[str, Any]) -> list[str]:
    v, n = res["verify"], res["nbytes"]
    return [
        "### Values",
        "",
        f"In process: {v['equal']}/{v['variables']} variables identical (`np.array_equal` "
        "of the split-created array with the whole-created one, and on every device of its "
        "shard with the shard `jax.device_put` made from the whole array); "
        f"{v['pieces_ok']}/{v['pieces']} device shards are exactly TF's piece `part_i` "
        "(device i along `\"model\"` holds rows i·n/8 … (i+1)·n/8, the offsets of "
        "`jaxscope.partitioners.slice_shapes`, and the same values). Device 0 holds "
        f"{v['device0_bytes'] / MB:.1f} MB = {v['device0_bytes'] / n:.4f} T.",
        "",
    ]


def report_creation(res: dict[str, Any], goals: list) -> list[str]:
    n = res["nbytes"]
    share = n / NUM_DEVICES
    spec = res["verify"]["spec"]
    out = [
        "## 1. Creating a model bigger than one device's share",
        "",
        f"The model: {N_VARIABLES} float32 variables `big/w00 … big/w{N_VARIABLES - 1}` of "
        f"shape [{res['rows']}, {COLUMNS}], T = {n / MB:.0f} MB in all, created inside "
        f"`js.variable_scope(\"big\", partitioner=js.fixed_size_partitioner({NUM_DEVICES}))` "
        "(TF1 would make `part_0 … part_7` of each) with TF1's default initializer; the mesh "
        f"`(\"model\",)` of {NUM_DEVICES} CPU devices, so each variable is `{spec}` and one "
        f"device's share is T/{NUM_DEVICES} = {share / MB:.0f} MB: the model is "
        f"{NUM_DEVICES}× a share.",
        "",
        *memory_plan(res),
    ]
    rss_lines, increase = peak_rss_report(res)
    out += [*rss_lines, *values(res)]
    v = res["verify"]
    out_bytes = res["memory"]["sharded"]["output_size_in_bytes"]
    goals.append(
        (f"init creates every variable split: per-device output bytes = T/{NUM_DEVICES} (±1%)",
         abs(out_bytes / share - 1) <= 0.01 and v["pieces_ok"] == v["pieces"]
         and v["equal"] == v["variables"],
         f"XLA output per device {out_bytes / MB:.2f} MB vs T/{NUM_DEVICES} = "
         f"{share / MB:.2f} MB; {v['pieces_ok']}/{v['pieces']} shards = TF part_i; "
         f"{v['equal']}/{v['variables']} variables identical"))
    goals.append(("peak RSS of sharded creation ≤ 1.1×T", increase["sharded"] <= 1.1 * n,
                  f"{increase['sharded'] / MB:.0f} MB = {increase['sharded'] / n:.2f}×T; "
                  f"whole then split {increase['whole_then_split'] / n:.2f}×T; plain "
                  f"`jax.random`, split: {increase['plain'] / n:.2f}×T"))
    res["increase"] = increase
    return out


def fmt_collectives(ops: dict[str, int]) -> str:
    return ", ".join(f"{op} ×{k}" for op, k in sorted(ops.items())) or "none"


def report_data_parallel(res: dict[str, Any], goals: list) -> list[str]:
    names, times = res["names"], res["times"]
    base = names[0]
    flops1 = res["flops"][base]
    rows = []
    for name in names:
        t = times[name]
        lo, hi = block_ratio_range(t["wall"], times[base]["wall"])
        rows.append([
            name, f"{res['flops'][name] / 1e6:.1f}", f"{res['flops'][name] / flops1:.3f}",
            fmt_collectives(res["collectives"][name]), fmt_iqr(t["wall"]),
            fmt_iqr(t["cpu"]),
            f"{t['wall']['median'] / times[base]['wall']['median']:.2f} ({lo:.2f}–{hi:.2f})",
            f"{t['paired']['median']:.2f} ({t['paired']['q1']:.2f}–{t['paired']['q3']:.2f})"])
    loss1, loss8 = res["loss"]
    w, b = res["width"], res["batch"]
    out = [
        "## 2. Data-parallel training step: 8 devices vs 1",
        "",
        f"The model: `js.layers.dense` MLP {w} → {w} → {w} → 10 (ReLU; {res['variables']:,} "
        f"parameters), batch {b} of random inputs, one SGD step (mean sparse softmax "
        "cross-entropy, `jax.value_and_grad`, `p − 0.1·g`, returns the new params and the "
        f"loss). *{NUM_DEVICES} devices*: mesh `(\"data\",)`, variables replicated "
        "(`model.shardings(mesh, x)`), batch split (`P(\"data\")`, "
        f"{res['share']} examples per device), `jax.jit` with those in/out shardings, as "
        f"`examples/data_parallel.py`. *1 device*: plain `jax.jit`. *1 device, batch "
        f"{res['share']}*: one device's share of the work, alone, for reference.",
        "",
        table(["step", "MFLOP per device", "÷ 1 device", "collectives", "wall ms median (IQR)",
               "CPU ms median (IQR)", "wall ÷ 1 device (block range)",
               "paired ratio median (IQR)"], rows),
        "",
        "*MFLOP per device*: `compiled.cost_analysis()['flops']` of the program one device "
        "runs. *collectives*: ops in the optimized module (`compiled.as_text()`). Time: "
        f"{res['n_calls']} calls of each step, interleaved call by call (order reversed "
        "every other round and its start rotated) with `block_until_ready` after each — "
        "which also keeps JAX 0.10's in-process CPU all-reduce from deadlocking on queued "
        "steps; *CPU* = process CPU time per call, all threads; *block range*: the ratio "
        "of medians over 10 consecutive blocks of calls; *paired ratio*: each call ÷ the "
        "1-device call of the same round.",
        "",
        f"Loss of the first step: {loss1:.7f} (1 device) vs {loss8:.7f} ({NUM_DEVICES} "
        f"devices), relative difference {abs(loss8 - loss1) / abs(loss1):.1e}; updated "
        f"parameters max |Δ| {res['param_diff']:.1e}.",
        "",
    ]
    goals.append((f"{NUM_DEVICES}-device step computes the same loss as 1 device "
                  f"(rtol {LOSS_RTOL:g})", abs(loss8 - loss1) <= LOSS_RTOL * abs(loss1),
                  f"{loss8:.7f} vs {loss1:.7f}"))
    return out


def creation_findings(c: dict[str, Any]) -> str:
    n, mem, inc = c["nbytes"], c["memory"], c["increase"]
    share = n / NUM_DEVICES
    split_need = mem["sharded"]["output_size_in_bytes"] + mem["sharded"]["temp_size_in_bytes"]
    whole_need = mem["whole"]["output_size_in_bytes"] + mem["whole"]["temp_size_in_bytes"]
    bound = n + NUM_DEVICES * mem["sharded"]["temp_size_in_bytes"]
    how = ("JAX's partitionable threefry (`jax_threefry_partitionable` on): every device "
           "draws only its own rows of each variable" if c["partitionable"] else
           "`jax_threefry_partitionable` is off: the devices may each draw more than their rows")
    return (
        f"* Split creation: each device's program outputs only its share — "
        f"{mem['sharded']['output_size_in_bytes'] / MB:.1f} MB vs "
        f"{mem['whole']['output_size_in_bytes'] / MB:.1f} MB for the whole model on one device "
        f"— with {how}, and the values are bit-identical to creating the whole model and "
        f"splitting it. Output + temp per device: {split_need / MB:.1f} MB = "
        f"{split_need / share:.2f}× a share, vs {whole_need / MB:.1f} MB = "
        f"{whole_need / share:.2f}× a share on the device that creates the whole model. "
        f"In RSS (all devices together): {inc['sharded'] / n:.2f}×T split vs "
        f"{inc['whole_then_split'] / n:.2f}×T whole-then-split (whole alone "
        f"{inc['whole'] / n:.2f}×T). What the split creation needs beyond T is the random-bit "
        "temp buffers: plain `jax.random.uniform` of the same shapes, split the same way, "
        f"takes {inc['plain'] / n:.2f}×T ({mem['plain']['temp_size_in_bytes'] / MB:.1f} MB "
        f"temp per device vs jaxscope's {mem['sharded']['temp_size_in_bytes'] / MB:.1f} MB), "
        "so on this backend the ≤ 1.1×T goal is out of reach of `jax.random`'s threefry "
        "itself, whatever library calls it; what measures jaxscope is the split row against "
        f"the plain row: the same XLA plan per device. In RSS the split jaxscope creation "
        f"peaked at {inc['sharded'] / MB:.0f} MB and the plain one at {inc['plain'] / MB:.0f} "
        f"MB; the variables plus every device's temp buffer at once come to T + "
        f"{NUM_DEVICES} × temp = {bound / MB:.0f} MB. Unsplit, jaxscope's init plans more "
        f"temp than plain JAX ({mem['whole']['temp_size_in_bytes'] / MB:.1f} vs "
        f"{mem['plain_whole']['temp_size_in_bytes'] / MB:.1f} MB).")


def data_parallel_findings(dp: dict[str, Any], load: tuple[float, float]) -> str:
    t = dp["times"]
    base, multi, share = dp["names"]
    wall = {k: t[k]["wall"]["median"] for k in dp["names"]}
    cpu = {k: t[k]["cpu"]["median"] for k in dp["names"]}
    reduces = dp["collectives"][multi].get("all-reduce", 0)
    cores = os.cpu_count() or 1
    shares = NUM_DEVICES * cpu[share]
    return (
        f"* The data-parallel step on {NUM_DEVICES} devices took "
        f"{cpu[multi] / cpu[base]:.2f}× the CPU time of the 1-device step "
        f"({cpu[multi] * 1e3:.2f} vs {cpu[base] * 1e3:.2f} ms) and "
        f"{wall[multi] / wall[base]:.2f}× its wall time (load average {load[0]:.1f} – "
        f"{load[1]:.1f} on {cores} cores: wall includes waiting for a CPU, CPU time is the "
        f"steadier measure). The {NUM_DEVICES} \"devices\" are threads of this one process "
        f"on {cores} cores, so their programs cannot run all at once and the total work bounds "
        "the step: data parallelism cannot speed it up on this machine, it can only add work. "
        f"What the measurement shows is that added work: the {NUM_DEVICES} per-device "
        f"programs, each on 1/{NUM_DEVICES} of the batch "
        f"({dp['flops'][multi] / dp['flops'][base]:.3f}× the 1-device flops per device), cost "
        f"{NUM_DEVICES} × {cpu[share] * 1e3:.2f} ms = {shares * 1e3:.1f} ms of CPU when run "
        f"alone (the *{share}* row: per-call overhead and small matmuls make 8 small steps "
        "dearer than one big one), and "
        f"the rest, {(cpu[multi] - shares) * 1e3:.1f} ms, is the SPMD machinery — launching "
        f"{NUM_DEVICES} programs and the {reduces} all-reduce op(s) that sum the gradients, at "
        f"which all {NUM_DEVICES} threads must meet. With {NUM_DEVICES} real devices running "
        f"in parallel a step would take about one share ({wall[share] * 1e3:.2f} ms wall here) "
        "plus the all-reduce.")


def findings(res: dict[str, Any]) -> list[str]:
    return ["### Findings", "", creation_findings(res["creation"]),
            data_parallel_findings(res["dp"], res["load"])]


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    out = header_lines(
        "jaxscope sharding benchmark", "bench_sharding.py", args.quick, res["load"], elapsed,
        f"{jax.device_count()} {jax.default_backend().upper()} devices",
        "; clocks `time.perf_counter` (wall) and `time.process_time` (process CPU)")
    goals: list[tuple[str, bool | None, str]] = []
    out += report_creation(res["creation"], goals)
    out += report_data_parallel(res["dp"], goals)
    out += ["## Goals", "", goal_table(goals), "", *findings(res), ""]
    return "\n".join(out), goals


def main(argv: list[str] | None = None) -> None:
    run_main("sharding", __doc__.split("\n")[0], argv, measure, report,
             quick_help="64 MB model, fewer step timings; prints the report, writes only "
             "with --out")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
