"""Init benchmark: jaxscope's `init` trace, eager `init`, eager `apply` and init's peak memory.

Run from the repository root::

    python benchmarks/bench_init.py            # full run (<6 min on 2 cores), writes RESULTS.md
                                               # (only its section `init`, see _report.py)
    python benchmarks/bench_init.py --quick    # smoke run (<1 min), prints only (see --out)

Four measurements, side by side in one process (README.md beside this file explains them):

1. ``init`` trace per variable: ``jax.eval_shape`` of ``init`` (a fresh wrapper each time) and
   ``model.specs(x)`` for MLPs of 10 to 10,000 layers (2 variables a layer), jaxscope vs
   hand-written JAX (Haiku ``hk.get_parameter`` and Flax linen ``self.param`` up to 1000
   layers); per-variable ratios and the log-log slope of time vs variables.
2. Eager (un-jitted) ``apply`` of a 100-layer and a 3-layer MLP: jaxscope vs hand vs Haiku
   vs Flax, on the same arrays, calls interleaved.
3. Eager ``init`` of 3 to 10,000 layers vs a hand-written eager init that calls the same
   initializer op by op; ``jax.jit(model.init)`` (compile + run, run alone) as the one
   compiled program alternative; eager and jitted values compared bit for bit.
4. Peak host memory of ``init`` (eager and jitted) of ~1 GiB of float32 variables, each in a
   fresh subprocess (``VmHWM`` reset through ``/proc/self/clear_refs``).

Every library draws its weights with ``js.glorot_uniform_initializer()`` (a plain ``(key,
shape, dtype)`` callable; Haiku feeds it ``hk.next_rng_key()``, Flax passes it to
``self.param``) and zeros its biases.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import flax
import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
from _measure import (
    PACKAGE,
    goal_table,
    header_lines,
    interleaved_calls,
    max_abs_diff,
    peak_rss,
    profile_stats,
    reset_peak_rss,
    rss,
    run_main,
    stats,
    table,
    timed_compile,
)

import jaxscope as js

# -- the models: relu(x @ w + b) per layer, the same initializers for every library --------------
WIDTH = 8
F32 = jnp.float32
W_INIT = js.glorot_uniform_initializer()
JS_ZEROS = js.zeros_initializer()
HAND = "hand-written JAX"
JS = "jaxscope (get_variable)"
SPECS = "jaxscope model.specs(x)"
HK = "Haiku (hk.get_parameter)"
FX = "Flax linen (self.param)"
FORWARD = "forward pass alone (hand apply)"
GIB = 1 << 30
MIB = 1 << 20


def layer(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    return jax.nn.relu(x @ w + b)


def hand_init(rng: jax.Array, x: jax.Array, depth: int) -> dict[str, jax.Array]:
    """Hand-written init: the initializer called op by op with ``fold_in(rng, i)`` keys, and
    the forward pass, as every library's init runs it."""
    params = {}
    for i in range(depth):
        w = W_INIT(jax.random.fold_in(rng, i), (x.shape[-1], x.shape[-1]), F32)
        b = jnp.zeros((x.shape[-1],), F32)
        params[f"layer_{i}/w"], params[f"layer_{i}/b"] = w, b
        x = layer(x, w, b)
    return params


def hand_apply(params: dict[str, jax.Array], x: jax.Array, depth: int) -> jax.Array:
    for i in range(depth):
        x = layer(x, params[f"layer_{i}/w"], params[f"layer_{i}/b"])
    return x


def js_mlp(depth: int) -> Callable[[jax.Array], jax.Array]:
    def mlp(x: jax.Array) -> jax.Array:
        for i in range(depth):
            with js.variable_scope(f"layer_{i}"):
                w = js.get_variable("w", [x.shape[-1], x.shape[-1]], initializer=W_INIT)
                b = js.get_variable("b", [x.shape[-1]], initializer=JS_ZEROS)
            x = layer(x, w, b)
        return x

    return mlp


def hk_w_init(shape: Sequence[int], dtype: Any) -> jax.Array:
    return W_INIT(hk.next_rng_key(), shape, dtype)


def hk_mlp(depth: int) -> Callable[[jax.Array], jax.Array]:
    def mlp(x: jax.Array) -> jax.Array:
        for i in range(depth):
            with hk.name_scope(f"layer_{i}"):
                w = hk.get_parameter("w", (x.shape[-1], x.shape[-1]), F32, init=hk_w_init)
                b = hk.get_parameter("b", (x.shape[-1],), F32, init=jnp.zeros)
            x = layer(x, w, b)
        return x

    return mlp


class FlaxLayer(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        w = self.param("w", W_INIT, (x.shape[-1], x.shape[-1]))
        b = self.param("b", nn.initializers.zeros, (x.shape[-1],))
        return layer(x, w, b)


class FlaxMLP(nn.Module):
    depth: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i in range(self.depth):
            x = FlaxLayer(name=f"layer_{i}")(x)
        return x


def nested(flat: dict[str, jax.Array]) -> dict[str, dict[str, jax.Array]]:
    """``{"layer_0/w": a}`` -> ``{"layer_0": {"w": a}}``: Haiku's and Flax's layout."""
    out: dict[str, dict[str, jax.Array]] = {}
    for key, value in flat.items():
        scope, name = key.rsplit("/", 1)
        out.setdefault(scope, {})[name] = value
    return out


def inputs(width: int = WIDTH) -> tuple[jax.Array, jax.Array]:
    return jax.random.key(0), jnp.ones((1, width), F32)


# -- 1. init trace ---------------------------------------------------------------------------------
def trace_rounds(quick: bool) -> dict[int, int]:
    return {10: 6, 100: 3, 1000: 1} if quick else {10: 20, 100: 8, 1000: 5, 10_000: 3}


SPECS_ROUNDS_10K = 1  # model.specs at 10,000 layers is timed in the first round only
CONTEXT_MAX_DEPTH = 1000  # Haiku and Flax are traced up to this depth


def trace_thunks(depth: int) -> dict[str, Callable[[], Any]]:
    """One real (cache-missing) abstract trace per call: a fresh wrapper every time."""
    rng, x = inputs()
    model = js.transform(js_mlp(depth))

    def eval_shape_of(init: Callable) -> Callable[[], Any]:
        return lambda: jax.eval_shape(lambda r, a: init(r, a), rng, x)

    thunks = {HAND: eval_shape_of(lambda r, a: hand_init(r, a, depth)),
              JS: eval_shape_of(model.init), SPECS: lambda: model.specs(x)}
    if depth <= CONTEXT_MAX_DEPTH:
        thunks[HK] = eval_shape_of(hk.transform(hk_mlp(depth)).init)
        thunks[FX] = eval_shape_of(FlaxMLP(depth).init)
    return thunks


def count_variables(name: str, out: Any) -> int:
    """Variables made by one trace: specs() gives ``{name: VariableSpec}``, init a pytree."""
    return len(out) if name == SPECS else len(jax.tree.leaves(out))


def timed(thunk: Callable[[], Any]) -> tuple[float, float, Any]:
    """(process CPU s, wall s, result) of one call, after ``gc.collect()``."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    out = thunk()
    return time.process_time() - c0, time.perf_counter() - t0, out


def bench_traces(quick: bool, log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    """Round-robin rounds (rotating start) of every library's trace at each depth."""
    for thunk in trace_thunks(10).values():  # warm-up: JAX's caches (same shapes at every depth)
        thunk()
    results = {}
    for depth, rounds in trace_rounds(quick).items():
        thunks = trace_thunks(depth)
        names = list(thunks)
        cpu: dict[str, list[float]] = {n: [] for n in names}
        wall: dict[str, list[float]] = {n: [] for n in names}
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                if name == SPECS and depth > CONTEXT_MAX_DEPTH and r >= SPECS_ROUNDS_10K:
                    continue
                c, w, out = timed(thunks[name])
                cpu[name].append(c)
                wall[name].append(w)
                if r == 0:
                    assert count_variables(name, out) == 2 * depth, (name, depth)
                del out
        results[depth] = {n: {"cpu": stats(cpu[n]), "wall": stats(wall[n]), "samples": cpu[n],
                              "paired": stats([a / b for a, b in zip(cpu[n], cpu[HAND])])}
                          for n in names}
        log(f"  trace {depth} layers: " + ", ".join(
            f"{n} {results[depth][n]['cpu']['median'] * 1e3:.0f} ms" for n in names))
    return results


# -- 2. eager apply --------------------------------------------------------------------------------
def apply_calls(quick: bool) -> dict[int, int]:
    return {100: 30, 3: 150} if quick else {100: 150, 3: 800}


def apply_thunks(depth: int) -> dict[str, Callable[[], Any]]:
    """Every library's eager ``apply`` of a ``depth``-layer MLP, all on the same arrays."""
    rng, _ = inputs()
    x = jax.random.normal(jax.random.key(3), (1, WIDTH), F32)
    model = js.transform(js_mlp(depth))
    variables = model.init(rng, x)
    params = variables["params"]  # every library runs on these very arrays
    hk_model, fx_model = hk.transform(hk_mlp(depth)), FlaxMLP(depth)
    hk_params, fx_vars = nested(params), {"params": nested(params)}
    return {
        HAND: lambda: hand_apply(params, x, depth),
        JS: lambda: model.apply(variables, x)[0],
        HK: lambda: hk_model.apply(hk_params, None, x),
        FX: lambda: fx_model.apply(fx_vars, x),
    }


def bench_eager_apply(quick: bool, log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    out = {}
    for depth, n_calls in apply_calls(quick).items():
        thunks = apply_thunks(depth)
        ref = thunks[HAND]()
        diffs = {k: max_abs_diff(f(), ref) for k, f in thunks.items()}
        timing = interleaved_calls(thunks, n_calls, warmup=10 if depth > 10 else 20)
        out[depth] = {"timing": timing, "diffs": diffs, "n_calls": n_calls}
        log(f"  eager apply {depth} layers: " + ", ".join(
            f"{k} {timing[k]['cpu']['median'] * 1e6:.0f} µs" for k in thunks))
    return out


# -- 3. eager init and jit(init) -------------------------------------------------------------------
def eager_init_calls(quick: bool) -> dict[int, tuple[int, int]]:
    """depth -> (timed calls per function, warm-up calls)."""
    if quick:
        return {3: (100, 20), 100: (5, 1), 1000: (2, 0)}
    return {3: (300, 20), 100: (20, 2), 1000: (7, 1), 10_000: (3, 0)}


def init_thunks(depth: int) -> dict[str, Callable[[], Any]]:
    """Eager inits of a ``depth``-layer MLP, and the forward pass alone for reference."""
    rng, x = inputs()
    model = js.transform(js_mlp(depth))
    params = hand_init(rng, x, depth)
    return {HAND: lambda: hand_init(rng, x, depth), JS: lambda: model.init(rng, x),
            FORWARD: lambda: hand_apply(params, x, depth)}


def bench_eager_init(quick: bool, log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    out = {}
    for depth, (n_calls, warmup) in eager_init_calls(quick).items():
        thunks = init_thunks(depth)
        timing = interleaved_calls(thunks, n_calls, warmup=warmup, blocks=min(10, n_calls))
        out[depth] = {"timing": timing, "n_calls": n_calls}
        log(f"  eager init {depth} layers: " + ", ".join(
            f"{k} {timing[k]['wall']['median'] * 1e3:.1f} ms" for k in thunks))
    return out


def jit_depths(quick: bool) -> tuple[int, ...]:
    return (3, 30) if quick else (3, 30, 100)


def values_equal(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> bool:
    """Same collections, same names, and every variable bitwise equal."""
    return all(a[c].keys() == b[c].keys() and all(
        np.array_equal(np.asarray(a[c][k]), np.asarray(b[c][k])) for k in a[c]) for c in a
    ) and a.keys() == b.keys()


def bench_jit_init(quick: bool, log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    """``jax.jit(model.init)``: lower + compile, first run, run alone; eager values == jitted."""
    out = {}
    rng, x = inputs()
    for depth in jit_depths(quick):
        model = js.transform(js_mlp(depth))
        compiled, t = timed_compile(jax.jit(model.init), rng, x)
        c0, t0 = time.process_time(), time.perf_counter()
        jitted = jax.block_until_ready(compiled(rng, x))
        t.update(first_run=time.process_time() - c0, first_run_wall=time.perf_counter() - t0)
        runs = interleaved_calls({"jit": lambda f=compiled: f(rng, x)}, 30, warmup=3)["jit"]
        eager = model.init(rng, x)
        out[depth] = {"times": t, "run": runs, "equal": values_equal(eager, jitted),
                      "n": sum(len(c) for c in eager.values())}
        log(f"  jit(init) {depth} layers: compile {t['total_wall']:.1f} s, run "
            f"{runs['wall']['median'] * 1e3:.2f} ms, eager == jit: {out[depth]['equal']}")
    return out


# -- 4. peak memory (fresh subprocess) -------------------------------------------------------------
MEM_LAYERS = 16


def mem_width(quick: bool) -> int:
    return 1024 if quick else 4096


MEM_CASES = (("jaxscope", "eager"), ("jaxscope", "jit"), ("hand", "eager"), ("hand", "jit"),
             ("draws", "eager"))


def draws_only(rng: jax.Array, x: jax.Array, depth: int) -> list[jax.Array]:
    """The kernels' draws alone, as the hand-written init makes them: JAX's own floor."""
    return [W_INIT(jax.random.fold_in(rng, i), (x.shape[-1], x.shape[-1]), F32)
            for i in range(depth)]


def mem_init_fn(impl: str, depth: int) -> Callable[[jax.Array, jax.Array], Any]:
    if impl == "jaxscope":
        return js.transform(js_mlp(depth)).init
    if impl == "draws":
        return lambda r, a: draws_only(r, a, depth)
    return lambda r, a: hand_init(r, a, depth)


def mem_child(impl: str, mode: str, width: int) -> None:
    """One ``init`` (``eager`` or ``jit``) of 16 width×width layers; JSON on stdout."""
    rng, x = inputs(width)
    big, tiny = mem_init_fn(impl, MEM_LAYERS), mem_init_fn(impl, 2)
    # imports done, backend up, one tiny init by the same path: the baseline
    jax.block_until_ready((tiny if mode == "eager" else jax.jit(tiny))(rng, inputs()[1]))
    gc.collect()
    before = rss()
    reset = reset_peak_rss()
    t0 = time.perf_counter()
    temp = None
    if mode == "eager":
        variables = jax.block_until_ready(big(rng, x))
    else:
        compiled = jax.jit(big).lower(rng, x).compile()
        variables = jax.block_until_ready(compiled(rng, x))
        temp = int(compiled.memory_analysis().temp_size_in_bytes)
    seconds = time.perf_counter() - t0
    peak = peak_rss()
    leaves = jax.tree.leaves(variables)
    print(json.dumps({"before": before, "peak": peak, "after": rss(), "reset": reset,
                      "seconds": seconds, "nbytes": sum(int(a.nbytes) for a in leaves),
                      "n": len(leaves), "xla_temp": temp}))


def run_mem_child(impl: str, mode: str, width: int) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--mem-child", impl, mode, str(width)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"memory child {impl} {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(quick: bool, log: Callable[[str], None]) -> dict[tuple[str, str], Any]:
    out = {}
    for impl, mode in MEM_CASES:
        c = out[impl, mode] = run_mem_child(impl, mode, mem_width(quick))
        log(f"  memory {impl} {mode}: peak +{(c['peak'] - c['before']) / GIB:.3f} GiB for "
            f"{c['nbytes'] / GIB:.3f} GiB of variables, {c['seconds']:.1f} s")
    return out


# -- profiles --------------------------------------------------------------------------------------
def _short(filename: str) -> str:
    if filename.startswith(PACKAGE):
        return "jaxscope/" + filename[len(PACKAGE):]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1].split("/", 1)[-1]
    return os.path.basename(filename)


def run_profile(stmt: Callable[[], Any]) -> dict[str, Any]:
    """cProfile rows of ``stmt`` (process-CPU clock, GC off); ``jaxscope`` marks our code."""
    rows = [{"func": f"{_short(file)}:{line}({func})" if file != "~" else func,
             "ncalls": ncalls, "own": own, "cum": cum, "jaxscope": file.startswith(PACKAGE)}
            for (file, line, func), (_, ncalls, own, cum, _) in profile_stats(stmt).items()]
    return {"rows": rows, "total": sum(r["own"] for r in rows),
            "jaxscope_own": sum(r["own"] for r in rows if r["jaxscope"])}


def profile_depths(quick: bool) -> dict[str, int]:
    return {"trace": 300 if quick else 1000, "apply": 100, "init": 300 if quick else 1000}


APPLY_PROFILE_CALLS = 10


def bench_profiles(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    d = profile_depths(quick)
    rng, x = inputs()
    trace_model = js.transform(js_mlp(d["trace"]))
    apply_model = js.transform(js_mlp(d["apply"]))
    variables = apply_model.init(rng, x)
    init_model = js.transform(js_mlp(d["init"]))
    init_model.init(rng, x)  # warm: the compiled draws exist

    def apply_calls_() -> None:
        for _ in range(APPLY_PROFILE_CALLS):
            jax.block_until_ready(apply_model.apply(variables, x)[0])

    apply_calls_()
    out = {
        "depths": d,
        "trace": run_profile(lambda: jax.eval_shape(lambda r, a: trace_model.init(r, a), rng, x)),
        "apply": run_profile(apply_calls_),
        "init": run_profile(lambda: jax.block_until_ready(init_model.init(rng, x))),
    }
    log("  profiles: " + ", ".join(f"{k} {v['total'] * 1e3:.0f} ms" for k, v in out.items()
                                   if k != "depths"))
    return out


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    res: dict[str, Any] = {}
    log("1. init trace per variable")
    res["trace"] = bench_traces(args.quick, log)
    log("2. eager apply")
    res["apply"] = bench_eager_apply(args.quick, log)
    log("3. eager init and jit(init)")
    res["eager_init"] = bench_eager_init(args.quick, log)
    res["jit"] = bench_jit_init(args.quick, log)
    log("4. peak memory of init (fresh subprocesses)")
    res["memory"] = bench_memory(args.quick, log)
    log("profiles")
    res["profiles"] = bench_profiles(args.quick, log)
    return res


# -- report ----------------------------------------------------------------------------------------
def mib(nbytes: float) -> str:
    return str(round(nbytes / MIB) + 0)  # no "-0"


def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1e3:.{digits}f}"


def ms_range(s: dict[str, float], digits: int = 1) -> str:
    return f"{ms(s['median'], digits)} [{ms(s['min'], digits)}–{ms(s['max'], digits)}]"


def verdict(ratio: float, best: float, target: float) -> bool | None:
    """Met when the median ``ratio`` meets ``target`` (≤); within noise when only ``best``
    (from the best rounds or blocks) does; missed otherwise."""
    if ratio <= target:
        return True
    return None if best <= target else False


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def report_header(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> list[str]:
    return [
        *header_lines(
            "jaxscope init benchmark", "bench_init.py", args.quick, res["load"], elapsed,
            f"dm-haiku {hk.__version__}, flax {flax.__version__} (**flax.linen**: "
            "`self.param`)",
            "; Python GC enabled, `gc.collect()` before each trace; clocks `time.process_time` "
            "(process CPU) and `time.perf_counter` (wall)"),
        "Model: an MLP of N layers `relu(x @ w + b)`, width 8, batch 1 (2 variables a layer), "
        "written with `js.variable_scope` + `js.get_variable` (jaxscope), as a function over a "
        "flat dict (hand-written), with `hk.name_scope` + `hk.get_parameter` (Haiku) and one "
        "`self.param` submodule per layer (Flax linen). Every library draws its weights with "
        "the same initializer object, `js.glorot_uniform_initializer()` (a plain `(key, shape, "
        "dtype)` callable: the hand-written code calls it with `fold_in(rng, i)` keys, Haiku "
        "feeds it `hk.next_rng_key()`, Flax passes it to `self.param`), and zeros its biases. "
        "jaxscope draws its own random initializers through one cached jitted program per "
        "(initializer config, shape, dtype) (in `jaxscope/store.py`); the others call the "
        "initializer as plain JAX code.",
        "",
    ]


def report_traces(res: dict[str, Any], goals: list) -> list[str]:
    tr = res["trace"]
    depths = sorted(tr)
    reps = ", ".join(f"{d:,}: {tr[d][JS]['cpu']['n']}" for d in depths)
    if depths[-1] > CONTEXT_MAX_DEPTH:
        reps += f"; `specs` at {depths[-1]:,} layers: {tr[depths[-1]][SPECS]['cpu']['n']}"
    out = [
        "## 1. `init` trace per variable",
        "",
        "`jax.eval_shape(lambda r, x: init(r, x), rng, x)` with a fresh lambda each time (so "
        "the trace cache never hits), and `model.specs(x)` (jaxscope's own abstract trace). "
        f"Haiku and Flax up to {CONTEXT_MAX_DEPTH} layers. One warm-up trace each at 10 "
        f"layers, then round-robin rounds with a rotating start (rounds per depth: {reps}). "
        "Process CPU time (wall beside). "
        "*÷ hand* = ratio of CPU medians, then the median [min–max] of the per-round paired "
        "ratios (each trace divided by the hand-written trace of the same round).",
        "",
    ]
    rows = []
    for d in depths:
        hand = tr[d][HAND]["cpu"]["median"]
        for name, r in tr[d].items():
            p = r["paired"]
            rows.append([f"{d:,}", name, ms_range(r["cpu"]), ms(r["wall"]["median"]),
                         f"{r['cpu']['median'] / (2 * d) * 1e6:.0f}",
                         "—" if name == HAND else
                         f"{r['cpu']['median'] / hand:.3f} ({p['median']:.2f} "
                         f"[{p['min']:.2f}–{p['max']:.2f}])"])
    out += [table(["layers", "library", "CPU ms median [min–max]", "wall ms", "CPU µs / variable",
                   "÷ hand (paired)"], rows), ""]
    fits = {}
    lin_rows = []
    for name in tr[depths[0]]:
        ds = [d for d in depths if name in tr[d]]
        ys = [tr[d][name]["cpu"]["median"] for d in ds]
        mins = [tr[d][name]["cpu"]["min"] for d in ds]
        fits[name] = (slope([2 * d for d in ds], ys), slope([2 * ds[-2], 2 * ds[-1]], ys[-2:]),
                      slope([2 * d for d in ds], mins))
        lin_rows.append([name, f"{ds[0]:,}–{ds[-1]:,}", f"{fits[name][0]:.3f}",
                         f"{ds[-2]:,}→{ds[-1]:,}: {fits[name][1]:.3f}", f"{fits[name][2]:.3f}"])
    out += [
        "Linearity: least-squares slope of log(CPU median) against log(variables) over the "
        "depths measured (1 = linear; fixed per-call costs pull it below 1 at small depths), "
        "the slope between the two largest depths alone (the marginal growth), and the fit "
        "over each depth's fastest trace (least disturbed by the machine's load and by "
        "garbage collections).",
        "",
        table(["library", "layers", "log-log slope (fit of medians)", "slope, last two depths",
               "fit of minimums"], lin_rows),
        "",
    ]
    for name, label in ((JS, "init"), (SPECS, "model.specs")):
        parts, ok = [], True
        best_ok = True
        for d in depths:
            ratio = tr[d][name]["cpu"]["median"] / tr[d][HAND]["cpu"]["median"]
            ok &= ratio <= 1.10
            best_ok &= tr[d][name]["paired"]["min"] <= 1.10
            parts.append(f"{d:,} layers {ratio:.3f}×")
        goals.append((f"1. {label} trace ≤ 1.10× hand-written per variable, every depth",
                      True if ok else (None if best_ok else False),
                      ", ".join(parts) + " (ratio of CPU medians)"))
    s, seg, low = fits[JS]
    goals.append(("1. init trace linear: log-log slope of time vs variables ≤ 1.05",
                  verdict(s, low, 1.05),
                  f"jaxscope {s:.3f} (last two depths {seg:.3f}; fit of minimums {low:.3f}); "
                  f"hand-written {fits[HAND][0]:.3f} ({fits[HAND][1]:.3f}; {fits[HAND][2]:.3f}); "
                  f"specs {fits[SPECS][0]:.3f}"))
    return out


def report_apply(res: dict[str, Any], goals: list) -> list[str]:
    out = [
        "## 2. Eager (un-jitted) `apply`",
        "",
        "No `jax.jit`: every op dispatches on its own. All four libraries run on the very same "
        "arrays (jaxscope's `init`, renamed for Haiku/Flax), calls interleaved one by one "
        "(order reversed every other round) after 10–20 warm-up calls; each call includes "
        "`block_until_ready`. Primary: process CPU µs per call (median, IQR); wall beside. "
        "*÷ hand* = ratio of CPU medians [range over 10 consecutive blocks of calls].",
        "",
    ]
    for depth, data in res["apply"].items():
        t = data["timing"]
        hand = t[HAND]["cpu"]
        rows = []
        for name, s in t.items():
            ratios = [a / b for a, b in zip(s["cpu"]["blocks"], hand["blocks"])]
            rows.append([name, f"{s['cpu']['median'] * 1e6:.0f} ({s['cpu']['q1'] * 1e6:.0f}–"
                         f"{s['cpu']['q3'] * 1e6:.0f})", f"{s['wall']['median'] * 1e6:.0f}",
                         f"{(s['cpu']['median'] - hand['median']) / depth * 1e6:+.1f}",
                         f"{s['cpu']['median'] / hand['median']:.3f} [{min(ratios):.2f}–"
                         f"{max(ratios):.2f}]", f"{data['diffs'][name]:.1e}"])
        out += [f"### {depth} layers ({data['n_calls']} timed calls each)", "",
                table(["library", "CPU µs / call (IQR)", "wall µs", "CPU µs / layer over hand",
                       "÷ hand [block range]", "max abs diff"], rows), ""]
        js_cpu = t[JS]["cpu"]
        ratio = js_cpu["median"] / hand["median"]
        best = min(a / b for a, b in zip(js_cpu["blocks"], hand["blocks"]))
        wall = t[JS]["wall"]["median"] / t[HAND]["wall"]["median"]
        goals.append((f"2. eager apply, {depth} layers: ≤ 1.15× hand-written (CPU)",
                      verdict(ratio, best, 1.15),
                      f"{ratio:.3f}× (best block {best:.2f}×; wall {wall:.3f}×); Haiku "
                      f"{t[HK]['cpu']['median'] / hand['median']:.2f}×, Flax "
                      f"{t[FX]['cpu']['median'] / hand['median']:.2f}×"))
    return out


def report_eager_init(res: dict[str, Any], goals: list) -> list[str]:
    ei = res["eager_init"]
    out = [
        "## 3. Eager `init` vs hand-written eager init, and `jax.jit(init)`",
        "",
        "Not jitted. *hand-written* calls the same initializer object op by op (`W_INIT("
        "fold_in(rng, i), shape)`, `jnp.zeros`) and runs the forward pass, as every init does; "
        "*forward pass alone* is the hand-written `apply` on existing weights — the floor both "
        "inits share. The three run interleaved, one call each per round (order reversed every "
        "other round), after warm-up calls (none at 10,000 layers: the shapes are the same at "
        "every depth and already compiled). Wall ms median [min–max] (the goal's clock), CPU "
        "median beside. *hand ÷ jaxscope* = speed-up of jaxscope (ratio of wall medians); "
        "*creation* = init − forward pass (medians): the cost of making the variables.",
        "",
    ]
    rows = []
    for depth, data in ei.items():
        t = data["timing"]
        fwd = t[FORWARD]["wall"]["median"]
        for name, s in t.items():
            speed = t[HAND]["wall"]["median"] / s["wall"]["median"]
            rows.append([f"{depth:,}", f"{2 * depth:,}", name, ms_range(s["wall"], 2),
                         ms(s["cpu"]["median"], 2),
                         "—" if name == FORWARD else f"{speed:.2f}×",
                         "—" if name == FORWARD else ms(s["wall"]["median"] - fwd, 2),
                         str(data["n_calls"])])
    out += [table(["layers", "variables", "function", "wall ms median [min–max]", "CPU ms",
                   "hand ÷ jaxscope (speed-up)", "creation ms (wall)", "calls"], rows), ""]
    for depth in [d for d in ei if d >= 1000]:
        t = ei[depth]["timing"]
        speed = t[HAND]["wall"]["median"] / t[JS]["wall"]["median"]
        cpu = t[HAND]["cpu"]["median"] / t[JS]["cpu"]["median"]
        fwd = t[FORWARD]["wall"]["median"]
        goals.append((f"3. eager init, {2 * depth:,} variables: ≥ 3× faster than hand-written",
                      speed >= 3.0,
                      f"{speed:.2f}× (CPU {cpu:.2f}×); jaxscope "
                      f"{ms(t[JS]['wall']['median'], 0)} ms, hand "
                      f"{ms(t[HAND]['wall']['median'], 0)} ms, forward pass alone "
                      f"{ms(fwd, 0)} ms"))
    tiny = min(ei)
    t = ei[tiny]["timing"]
    ratio = t[JS]["wall"]["median"] / t[HAND]["wall"]["median"]
    best = min(a / b for a, b in zip(t[JS]["wall"]["blocks"], t[HAND]["wall"]["blocks"]))
    goals.append((f"3. eager init never slower than hand-written for a tiny model ({tiny} "
                  "layers)", verdict(ratio, best, 1.0),
                  f"jaxscope ÷ hand {ratio:.3f} (wall; best block {best:.2f}; CPU "
                  f"{t[JS]['cpu']['median'] / t[HAND]['cpu']['median']:.3f})"))
    out += report_jit(res, goals)
    return out


def report_jit(res: dict[str, Any], goals: list) -> list[str]:
    jt, ei = res["jit"], res["eager_init"]
    rows = []
    for depth, data in jt.items():
        t = data["times"]
        eager = ei[depth]["timing"][JS]["wall"]["median"] if depth in ei else None
        rows.append([str(depth), f"{t['lower_wall']:.2f}", f"{t['compile_wall']:.2f}",
                     ms(t["first_run_wall"], 2),
                     f"{t['total_wall'] + t['first_run_wall']:.2f}",
                     f"{data['run']['wall']['median'] * 1e3:.3f}",
                     "—" if eager is None else ms(eager, 2),
                     "yes" if data["equal"] else "**NO**"])
    depths = sorted(jt)
    compile_s = [jt[d]["times"]["compile_wall"] for d in depths]
    steps = [f"{a}→{b}: {slope([a, b], [ta, tb]):.2f}" for a, b, ta, tb in
             zip(depths, depths[1:], compile_s, compile_s[1:])]
    grow = slope(depths[-2:], compile_s[-2:])
    base = jt[depths[-1]]["times"]["compile_wall"]
    extra = {d: base * (d / depths[-1]) ** grow for d in (1000, 10_000)}
    out = [
        "### `jax.jit(model.init)`: the one compiled program",
        "",
        "A fresh `jax.jit(model.init)` per depth: `lower` (trace + StableHLO) and `compile` "
        "(XLA) wall seconds (`timed_compile`), the first call, their sum (what a first "
        "`jax.jit(init)(rng, x)` costs), and the median wall time of 30 further calls. "
        "*eager == jit*: jaxscope's eager `init` and the jitted one give the same names and "
        "bitwise-equal values (`np.array_equal` per variable).",
        "",
        table(["layers", "lower s", "compile s", "first run ms", "compile + run s",
               "run alone ms", "eager init ms (table above)", "eager == jit"], rows),
        "",
        "XLA's compile time of the unrolled program grows as depth^k, k between successive "
        f"depths: {', '.join(steps)}. Extrapolated at the last exponent (not measured; an "
        "underestimate if the exponent keeps rising with depth): "
        f"~{extra[1000]:.0f} s at 1,000 layers and ~{extra[10_000]:.0f} s at 10,000 — so "
        "`jax.jit(init)` is no alternative to eager init for deep unrolled models; it pays off "
        "only for a small model that is initialized many times.",
        "",
    ]
    equal = all(d["equal"] for d in jt.values())
    goals.append(("3. jaxscope eager init values == its jitted init values (bitwise)", equal,
                  ", ".join(f"{d} layers: {'equal' if v['equal'] else 'DIFFERENT'} "
                            f"({v['n']} variables)" for d, v in jt.items())))
    return out


def mem_label(impl: str, mode: str) -> str:
    if impl == "draws":
        return "the kernels' draws alone (`W_INIT(fold_in(rng, i), shape)`)"
    fn = "model.init" if impl == "jaxscope" else "hand_init"
    return f"{impl}: `{fn}`" if mode == "eager" else f"{impl}: `jax.jit({fn})`"


def report_memory(args: argparse.Namespace, res: dict[str, Any], goals: list) -> list[str]:
    mem = res["memory"]
    width = mem_width(args.quick)
    rows = []
    for (impl, mode), c in mem.items():
        inc, kept, n = c["peak"] - c["before"], c["after"] - c["before"], c["nbytes"]
        rows.append([mem_label(impl, mode), f"{n / GIB:.3f}", f"{inc / GIB:.3f}",
                     f"{inc / n:.3f}", f"{kept / GIB:.3f}", mib(kept - n),
                     mib(c["peak"] - c["after"]),
                     "—" if c["xla_temp"] is None else f"{c['xla_temp'] / GIB:.3f}",
                     f"{c['seconds']:.1f}"])
    for mode in ("eager", "jit"):
        c, h = mem["jaxscope", mode], mem["hand", mode]
        inc, hand_inc = c["peak"] - c["before"], h["peak"] - h["before"]
        goals.append((f"6. peak memory of {'eager' if mode == 'eager' else 'jitted'} init ≤ "
                      "1.1× the variables (no second copy)", inc <= 1.1 * c["nbytes"],
                      f"+{inc / GIB:.3f} GiB for {c['nbytes'] / GIB:.3f} GiB of variables "
                      f"({inc / c['nbytes']:.3f}×); hand-written {mode} init: "
                      f"+{hand_inc / GIB:.3f} GiB ({hand_inc / h['nbytes']:.3f}×)"))
    reset = all(c["reset"] for c in mem.values())
    return [
        "## 4. Peak host memory of `init`",
        "",
        f"An MLP of {MEM_LAYERS} layers of {width}×{width} float32 kernels (+ biases), input "
        f"(1, {width}), initialized once in a fresh Python subprocess per row: jaxscope's "
        "`model.init`, and for reference the hand-written init of section 3, eager and under "
        "`jax.jit` (`lower` + `compile` + call, all measured), and the 16 kernels' eager "
        "draws alone (no biases, no forward pass: JAX's floor). Baseline: the child's RSS after "
        "its imports and one warm-up init of a tiny 2-layer model by the same path, then "
        "`gc.collect()`. Peak: `VmHWM` "
        + ("reset just before `init` through `/proc/self/clear_refs` (5)" if reset else
           "(could not be reset: an upper bound)")
        + " and read after `block_until_ready`; it counts XLA's compilations (of the draws, "
        "or of the whole program) too. GiB = 2³⁰ bytes.",
        "",
        table(["init", "variables GiB", "peak − baseline GiB", "÷ variables",
               "kept: RSS after − baseline GiB", "kept − variables MiB",
               "transient: peak − RSS after MiB", "XLA temp buffer GiB", "seconds"], rows),
        "",
        "*kept − variables*: memory still held once `init` has returned besides the variables "
        "(compiled executables, allocator caches); *transient*: what was freed again before "
        "`init` returned. *XLA temp buffer*: the jitted program's scratch allocation "
        "(`compiled.memory_analysis().temp_size_in_bytes`), live during the call beside the "
        "outputs.",
        "",
    ]


def report_profiles(res: dict[str, Any]) -> list[str]:
    prof = res["profiles"]
    d = prof["depths"]
    out = [
        "## Where the time goes (cProfile)",
        "",
        "cProfile on a process-CPU clock, cyclic GC off while profiling; its overhead inflates "
        "Python-heavy code, so read shares, not absolute times. *own* = time in the function "
        "body, *cumulative* = with callees. Top 10 jaxscope functions by own time, and the 5 "
        "heaviest functions anywhere.",
        "",
    ]
    cases = (("trace", f"init trace (`eval_shape`), {d['trace']:,} layers", 2 * d["trace"],
              "variable"),
             ("apply", f"eager apply, {d['apply']} layers × {APPLY_PROFILE_CALLS} calls",
              2 * d["apply"] * APPLY_PROFILE_CALLS, "variable read"),
             ("init", f"eager init, {d['init']:,} layers", 2 * d["init"], "variable"))
    for key, title, n, unit in cases:
        p = prof[key]
        out += [
            f"### {title}",
            "",
            f"Total {p['total'] * 1e3:.0f} ms; own time in jaxscope/ "
            f"{p['jaxscope_own'] * 1e3:.0f} ms ({p['jaxscope_own'] / p['total']:.0%}, "
            f"{p['jaxscope_own'] / n * 1e6:.0f} profiled µs per {unit}); the rest is JAX, "
            "NumPy and Python (called from jaxscope or from the model).",
            "",
            profile_table(sorted((r for r in p["rows"] if r["jaxscope"]),
                                 key=lambda r: -r["own"])[:10]),
            "",
            "Heaviest anywhere (own time):",
            "",
            profile_table(sorted(p["rows"], key=lambda r: -r["own"])[:5]),
            "",
        ]
    return out


def top_shares(p: dict[str, Any], n: int = 3) -> str:
    """The ``n`` jaxscope functions with most own time, as shares of jaxscope's own time."""
    rows = sorted((r for r in p["rows"] if r["jaxscope"]), key=lambda r: -r["own"])[:n]
    return ", ".join(f"`{r['func'].removeprefix('jaxscope/')}` {r['own'] / p['jaxscope_own']:.0%}"
                     for r in rows)


def cum_share(p: dict[str, Any], func: str) -> float:
    """Cumulative time of jaxscope function ``func`` as a share of the profile's total."""
    cum = max((r["cum"] for r in p["rows"] if r["jaxscope"] and r["func"].endswith(
        f"({func})")), default=0.0)
    return cum / p["total"]


def findings(res: dict[str, Any]) -> list[str]:
    """What the numbers say, computed from this run."""
    prof = res["profiles"]
    out = ["## Findings", ""]
    tr = res["trace"]
    deep = max(tr)
    out.append(
        f"* **init trace**: at {deep:,} layers jaxscope's trace costs "
        f"{tr[deep][JS]['cpu']['median'] / (2 * deep) * 1e6:.0f} µs per variable vs "
        f"{tr[deep][HAND]['cpu']['median'] / (2 * deep) * 1e6:.0f} µs hand-written. Tracing "
        "is JAX's own work: jaxscope's own functions are "
        f"{prof['trace']['jaxscope_own'] / prof['trace']['total']:.0%} of the profiled trace "
        f"(largest: {top_shares(prof['trace'])}). jaxscope's cached jitted draw is one "
        "`pjit` equation whose jaxpr JAX reuses, where the hand-written and Haiku/Flax "
        "traces trace the initializer's ops for every variable.")
    for depth, data in res["apply"].items():
        t = data["timing"]
        extra = (t[JS]["cpu"]["median"] - t[HAND]["cpu"]["median"]) / (2 * depth)
        out.append(
            f"* **eager apply, {depth} layers**: jaxscope adds {extra * 1e6:.1f} µs CPU per "
            f"variable read over the hand-written dict lookups; the hand-written call costs "
            f"{t[HAND]['cpu']['median'] / depth * 1e6:.0f} µs per layer (3 op dispatches), so "
            f"≤ 1.15× allows {0.15 * t[HAND]['cpu']['median'] / (2 * depth) * 1e6:.1f} µs per "
            "variable.")
    p = prof["apply"]
    out.append(
        f"  In the profile ({prof['depths']['apply']} layers) jaxscope's own functions are "
        f"{p['jaxscope_own'] / p['total']:.0%} of the time; `get_variable` with its callees "
        f"{cum_share(p, 'get_variable'):.0%}; largest own shares: {top_shares(p)}.")
    ei = res["eager_init"]
    for depth in [d for d in ei if d >= 1000]:
        t = ei[depth]["timing"]
        hand, js_, fwd = (t[k]["wall"]["median"] for k in (HAND, JS, FORWARD))
        n = 2 * depth
        budget = hand / 3 - fwd
        need = (f"3× needs ≤ {budget / n * 1e6:.0f} µs" if budget > 0 else
                "3× is out of reach here: the forward pass alone takes more than a third of "
                "the hand-written init")
        out.append(
            f"* **eager init, {n:,} variables**: jaxscope {ms(js_, 0)} ms vs hand "
            f"{ms(hand, 0)} ms = {hand / js_:.2f}×. Both run the same eager forward pass "
            f"({ms(fwd, 0)} ms), so even free variable creation would give at most "
            f"{hand / fwd:.1f}×. Creation costs {(js_ - fwd) / n * 1e6:.0f} µs per variable "
            f"in jaxscope vs {(hand - fwd) / n * 1e6:.0f} µs hand-written; {need}.")
    p = prof["init"]
    out.append(
        f"  In the eager-init profile ({prof['depths']['init']:,} layers) "
        f"`_run_initializer` (the cached draw's dispatch, `jnp.asarray`) is "
        f"{cum_share(p, '_run_initializer'):.0%} of the time and `get_variable` with callees "
        f"{cum_share(p, 'get_variable'):.0%}; the remainder is mostly the forward pass's op "
        "dispatches. "
        f"Largest jaxscope own shares: {top_shares(p)}.")
    jt = res["jit"]
    d = max(jt)
    out.append(
        f"* **`jax.jit(init)`**: at {d} layers compile + first run takes "
        f"{jt[d]['times']['total_wall'] + jt[d]['times']['first_run_wall']:.1f} s, then "
        f"{jt[d]['run']['wall']['median'] * 1e3:.2f} ms a call; the eager init values are "
        + ("bitwise equal to the jitted ones at every depth compared." if all(
            v["equal"] for v in jt.values()) else "NOT equal to the jitted ones."))
    for (impl, mode), c in res["memory"].items():
        if impl != "jaxscope":
            continue
        h = res["memory"]["hand", mode]
        temp = "" if c["xla_temp"] is None else (
            f"; the compiled program's temp buffer is {c['xla_temp'] / GIB:.3f} GiB (hand-"
            f"written: {h['xla_temp'] / GIB:.3f} GiB)")
        out.append(
            f"* **memory, {mode} init**: peak +{(c['peak'] - c['before']) / GIB:.3f} GiB for "
            f"{c['nbytes'] / GIB:.3f} GiB of variables (hand-written {mode} init: "
            f"+{(h['peak'] - h['before']) / GIB:.3f} GiB); "
            f"{mib(c['after'] - c['before'] - c['nbytes'])} MiB besides the variables "
            f"stays after `init` returns and {mib(c['peak'] - c['after'])} MiB was "
            f"transient{temp}.")
    d = res["memory"]["draws", "eager"]
    c = res["memory"]["jaxscope", "eager"]
    over = (c["peak"] - c["before"]) - (d["peak"] - d["before"])
    out.append(
        f"  The kernels' eager draws alone (plain JAX, no jaxscope) peak at "
        f"+{(d['peak'] - d['before']) / GIB:.3f} GiB for {d['nbytes'] / GIB:.3f} GiB; "
        f"jaxscope's eager init peaks {mib(over)} MiB above that (its biases are "
        f"{mib(c['nbytes'] - d['nbytes'])} MiB). Under `jit`, the excess is XLA's temp "
        "buffer, which the hand-written program needs alike.")
    return [*out, ""]


def profile_table(rows: Sequence[dict[str, Any]]) -> str:
    return table(["function", "calls", "own ms", "cumulative ms"], [
        [f"`{r['func']}`", str(r["ncalls"]), ms(r["own"]), ms(r["cum"])] for r in rows])


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    goals: list[tuple[str, bool | None, str]] = []
    out = report_header(args, res, elapsed)
    out += report_traces(res, goals)
    out += report_apply(res, goals)
    out += report_eager_init(res, goals)
    out += report_memory(args, res, goals)
    out += ["## Goals", "", "*within noise*: the median misses the target but the best round "
            "or block of calls (for the slope: the fit of each depth's fastest trace) meets it.",
            "", goal_table(goals), ""]
    out += findings(res)
    out += report_profiles(res)
    return "\n".join(out), goals


def main(argv: Sequence[str] | None = None) -> None:
    run_main("init", __doc__.split("\n")[0], argv, measure, report)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--mem-child":
        mem_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
