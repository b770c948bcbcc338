"""Core overhead benchmarks: jaxscope vs hand-written JAX vs Haiku vs Flax (linen), in one run.

Run from the repository root::

    python benchmarks/bench_core.py            # full run (~3-5 min on 2 cores), writes RESULTS.md
                                               # (only its section `core`, see _report.py)
    python benchmarks/bench_core.py --quick    # smoke run (<1 min), prints only (see --out)

Three measurements (README.md beside this file explains each table):

1. ``init`` trace cost per variable: ``jax.eval_shape(model.init, rng, x)`` for MLPs of 10,
   100 and 1000 layers (each layer one weight and one bias variable).
2. Compiled cost of the jitted ``apply`` of a small CNN and a 3-layer MLP against the same
   function hand-written in JAX over a params dict: XLA flops, HLO instruction counts of the
   optimized module, and the steady-state step time ratio (interleaved calls).
3. Eager (un-jitted) ``apply`` overhead per call for a tiny MLP.

A cProfile summary of the jaxscope paths (top functions inside ``jaxscope/``) closes the report.

All libraries compute the same function: same shapes, ReLU activations, the same weight
initializer for every library (``jax.nn.initializers.normal(0.1)``) and zero biases.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import gc
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import flax
import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
from _measure import (
    PACKAGE,
    block_ratio_range,
    flops_of,
    goal_table,
    header_lines,
    hlo_stats,
    interleaved_calls,
    max_abs_diff,
    profile_stats,
    run_main,
    stats,
    table,
)
from jax import lax

import jaxscope as js

# -- the shared model pieces ------------------------------------------------------------------
# One weight initializer for every library, so that initializer tracing costs the same
# everywhere; each library's own idiomatic zeros for biases.
W_INIT = jax.nn.initializers.normal(stddev=0.1)
JS_ZEROS = js.zeros_initializer()
F32 = jnp.float32


def hk_w_init(shape: Sequence[int], dtype: Any) -> jax.Array:
    """Haiku initializers take (shape, dtype) and draw their key from the Haiku frame."""
    return W_INIT(hk.next_rng_key(), shape, dtype)


def dense(x: jax.Array, w: jax.Array, b: jax.Array, relu: bool) -> jax.Array:
    y = x @ w + b
    return jax.nn.relu(y) if relu else y


def conv(x: jax.Array, w: jax.Array, b: jax.Array, stride: int) -> jax.Array:
    y = lax.conv_general_dilated(
        x, w, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return jax.nn.relu(y + b)


# CNN: conv 3x3 (C_in -> 16, stride 1) + ReLU, conv 3x3 (16 -> 32, stride 2) + ReLU,
# flatten, dense -> 10 logits. NHWC input.
CNN_CONVS = (("conv1", 16, 1), ("conv2", 32, 2))
CNN_CLASSES = 10


# -- MLP: `widths[i]` outputs for layer i, ReLU after every layer but the last ------------------
def hand_mlp_init(rng: jax.Array, x: jax.Array, widths: Sequence[int]) -> dict[str, jax.Array]:
    """Hand-written init. It runs the forward pass too, as every library's init does."""
    params = {}
    for i, dout in enumerate(widths):
        w = W_INIT(jax.random.fold_in(rng, i), (x.shape[-1], dout), F32)
        b = jnp.zeros((dout,), F32)
        params[f"layer_{i}/w"], params[f"layer_{i}/b"] = w, b
        x = dense(x, w, b, i < len(widths) - 1)
    return params


def hand_mlp_apply(params: dict[str, jax.Array], x: jax.Array, widths: Sequence[int]) -> jax.Array:
    for i in range(len(widths)):
        x = dense(x, params[f"layer_{i}/w"], params[f"layer_{i}/b"], i < len(widths) - 1)
    return x


def js_mlp(widths: Sequence[int]) -> Callable[[jax.Array], jax.Array]:
    def mlp(x: jax.Array) -> jax.Array:
        for i, dout in enumerate(widths):
            with js.variable_scope(f"layer_{i}"):
                w = js.get_variable("w", [x.shape[-1], dout], initializer=W_INIT)
                b = js.get_variable("b", [dout], initializer=JS_ZEROS)
            x = dense(x, w, b, i < len(widths) - 1)
        return x

    return mlp


def hk_mlp_param(widths: Sequence[int]) -> Callable[[jax.Array], jax.Array]:
    def mlp(x: jax.Array) -> jax.Array:
        for i, dout in enumerate(widths):
            with hk.name_scope(f"layer_{i}"):
                w = hk.get_parameter("w", (x.shape[-1], dout), F32, init=hk_w_init)
                b = hk.get_parameter("b", (dout,), F32, init=jnp.zeros)
            x = dense(x, w, b, i < len(widths) - 1)
        return x

    return mlp


def hk_mlp_linear(widths: Sequence[int]) -> Callable[[jax.Array], jax.Array]:
    def mlp(x: jax.Array) -> jax.Array:
        for i, dout in enumerate(widths):
            x = hk.Linear(dout, w_init=hk_w_init, name=f"layer_{i}")(x)  # b_init: zeros
            if i < len(widths) - 1:
                x = jax.nn.relu(x)
        return x

    return mlp


class FlaxParamLayer(nn.Module):
    """One dense layer written with ``self.param`` (flax.linen)."""

    features: int
    relu: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        w = self.param("w", W_INIT, (x.shape[-1], self.features))
        b = self.param("b", nn.initializers.zeros, (self.features,))
        return dense(x, w, b, self.relu)


class FlaxMLPParam(nn.Module):
    widths: tuple[int, ...]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i, dout in enumerate(self.widths):
            x = FlaxParamLayer(dout, i < len(self.widths) - 1, name=f"layer_{i}")(x)
        return x


class FlaxMLPDense(nn.Module):
    widths: tuple[int, ...]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i, dout in enumerate(self.widths):
            x = nn.Dense(dout, kernel_init=W_INIT, name=f"layer_{i}")(x)  # bias_init: zeros
            if i < len(self.widths) - 1:
                x = jax.nn.relu(x)
        return x


# -- CNN -----------------------------------------------------------------------------------------
def hand_cnn_apply(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    for name, _, stride in CNN_CONVS:
        x = conv(x, params[f"{name}/w"], params[f"{name}/b"], stride)
    x = x.reshape(x.shape[0], -1)
    return dense(x, params["logits/w"], params["logits/b"], False)


def js_cnn(x: jax.Array) -> jax.Array:
    for name, cout, stride in CNN_CONVS:
        with js.variable_scope(name):
            w = js.get_variable("w", [3, 3, x.shape[-1], cout], initializer=W_INIT)
            b = js.get_variable("b", [cout], initializer=JS_ZEROS)
        x = conv(x, w, b, stride)
    x = x.reshape(x.shape[0], -1)
    with js.variable_scope("logits"):
        w = js.get_variable("w", [x.shape[-1], CNN_CLASSES], initializer=W_INIT)
        b = js.get_variable("b", [CNN_CLASSES], initializer=JS_ZEROS)
    return dense(x, w, b, False)


def hk_cnn(x: jax.Array) -> jax.Array:
    for name, cout, stride in CNN_CONVS:
        with hk.name_scope(name):
            w = hk.get_parameter("w", (3, 3, x.shape[-1], cout), F32, init=hk_w_init)
            b = hk.get_parameter("b", (cout,), F32, init=jnp.zeros)
        x = conv(x, w, b, stride)
    x = x.reshape(x.shape[0], -1)
    with hk.name_scope("logits"):
        w = hk.get_parameter("w", (x.shape[-1], CNN_CLASSES), F32, init=hk_w_init)
        b = hk.get_parameter("b", (CNN_CLASSES,), F32, init=jnp.zeros)
    return dense(x, w, b, False)


class FlaxConv(nn.Module):
    features: int
    stride: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        w = self.param("w", W_INIT, (3, 3, x.shape[-1], self.features))
        b = self.param("b", nn.initializers.zeros, (self.features,))
        return conv(x, w, b, self.stride)


class FlaxCNN(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for name, cout, stride in CNN_CONVS:
            x = FlaxConv(cout, stride, name=name)(x)
        x = x.reshape(x.shape[0], -1)
        return FlaxParamLayer(CNN_CLASSES, False, name="logits")(x)


# -- parameter layouts: one set of arrays, every library's structure ----------------------------
def nested(flat: dict[str, jax.Array], rename: dict[str, str] | None = None) -> dict:
    out: dict[str, dict[str, jax.Array]] = {}
    for key, value in flat.items():
        scope, name = key.rsplit("/", 1)
        out.setdefault(scope, {})[(rename or {}).get(name, name)] = value
    return out


FLAX_DENSE_NAMES = {"w": "kernel", "b": "bias"}


# -- measurement helpers -------------------------------------------------------------------------
def time_eval_shape(init: Callable, rng: jax.Array, x: jax.Array) -> tuple[float, float, Any]:
    """(process CPU seconds, wall seconds, result) of one abstract trace of ``init``.

    ``jax.eval_shape`` caches traces by function identity, so every measurement wraps
    ``init`` in a fresh lambda: each call is a real (cache-missing) trace.
    """
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    out = jax.eval_shape(lambda r, a: init(r, a), rng, x)
    return time.process_time() - c0, time.perf_counter() - t0, out


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f}"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


# -- 1. init trace overhead ----------------------------------------------------------------------
INIT_DEPTHS = (10, 100, 1000)
INIT_WIDTH = 8
JS = "jaxscope (get_variable)"
HAND = "hand-written JAX"
HK_P = "Haiku (hk.get_parameter)"
HK_L = "Haiku (hk.Linear)"
FX_P = "Flax linen (self.param)"
FX_D = "Flax linen (nn.Dense)"


def init_impls(depth: int) -> dict[str, Callable[[jax.Array, jax.Array], Any]]:
    widths = (INIT_WIDTH,) * depth
    return {
        HAND: lambda r, x: hand_mlp_init(r, x, widths),
        JS: js.transform(js_mlp(widths)).init,
        HK_P: hk.transform(hk_mlp_param(widths)).init,
        HK_L: hk.transform(hk_mlp_linear(widths)).init,
        FX_P: FlaxMLPParam(widths).init,
        FX_D: FlaxMLPDense(widths).init,
    }


def init_repeats(quick: bool) -> dict[int, int]:
    return {10: 6, 100: 3, 1000: 1} if quick else {10: 30, 100: 15, 1000: 7}


def bench_init(quick: bool, log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    """Round-robin repeats of every library's abstract init trace at each depth."""
    repeats = init_repeats(quick)
    rng = jax.random.key(0)
    x = jnp.ones((1, INIT_WIDTH), F32)
    results: dict[int, dict[str, Any]] = {}
    for depth in INIT_DEPTHS:
        impls = init_impls(depth)
        names = list(impls)
        if depth == INIT_DEPTHS[0]:
            for name in names:  # warm-up: JAX's own caches (shapes repeat at every depth)
                time_eval_shape(impls[name], rng, x)
        cpu: dict[str, list[float]] = {name: [] for name in names}
        wall: dict[str, list[float]] = {name: [] for name in names}
        for r in range(repeats[depth]):  # round-robin, rotating start, to spread drift evenly
            k = r % len(names)
            for name in names[k:] + names[:k]:
                c, w, out = time_eval_shape(impls[name], rng, x)
                cpu[name].append(c)
                wall[name].append(w)
                if r == 0:  # every library made the same variables
                    shapes = sorted(tuple(leaf.shape) for leaf in jax.tree.leaves(out))
                    expected = sorted([(INIT_WIDTH, INIT_WIDTH), (INIT_WIDTH,)] * depth)
                    assert shapes == expected, (name, depth, len(shapes))
        results[depth] = {
            name: {
                "cpu": stats(cpu[name]), "wall": stats(wall[name]),
                # jaxscope / this, paired within each round (same moment, same load)
                "paired": stats([a / b for a, b in zip(cpu[JS], cpu[name])]),
            }
            for name in names
        }
        log(f"  init depth {depth}: " + ", ".join(
            f"{name} {fmt_ms(results[depth][name]['cpu']['median'])} ms" for name in names
        ))
    return results


def scope_sizes(quick: bool) -> tuple[int, ...]:
    return (100, 1000, 2000) if quick else (100, 1000, 4000)


def js_scopes(n: int) -> Callable[[], None]:
    def scopes() -> None:
        for i in range(n):
            with js.variable_scope(f"layer_{i}"):
                pass

    return scopes


def hk_scopes(n: int) -> Callable[[], None]:
    def scopes() -> None:
        for i in range(n):
            with hk.name_scope(f"layer_{i}"):
                pass

    return scopes


def bench_scopes(quick: bool, log: Callable[[str], None]) -> dict[int, dict[str, Any]]:
    """``init`` of a function that only opens N sibling scopes: no variables, no JAX ops.

    Isolates the per-scope bookkeeping, which the MLP trace above hides under JAX's
    per-variable tracing cost.
    """
    out: dict[int, dict[str, Any]] = {}
    rng = jax.random.key(0)
    for n in scope_sizes(quick):
        impls = {"jaxscope (variable_scope)": js.transform(js_scopes(n)).init,
                 "Haiku (hk.name_scope)": hk.transform(hk_scopes(n)).init}
        samples: dict[str, list[float]] = {k: [] for k in impls}
        for init in impls.values():  # warm-up
            init(rng)
        for r in range(3):
            for k in list(impls)[r % 2:] + list(impls)[:r % 2]:
                gc.collect()
                c0 = time.process_time()
                impls[k](rng)
                samples[k].append(time.process_time() - c0)
        out[n] = {k: stats(v) for k, v in samples.items()}
        log(f"  scopes {n}: " + ", ".join(
            f"{k} {fmt_ms(v['median'])} ms" for k, v in out[n].items()))
    return out


# -- 2. compiled cost ----------------------------------------------------------------------------
MLP2_WIDTHS = (256, 256, 10)
MLP2_BATCH = 64
CNN_INPUT = (8, 32, 32, 3)


def compiled_case(name: str, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    rng = jax.random.key(1)
    if name == "CNN":
        x = jax.random.normal(jax.random.key(2), CNN_INPUT, F32)
        fn, hand = js_cnn, hand_cnn_apply
        hk_fn, flax_model = hk_cnn, FlaxCNN()
    else:
        x = jax.random.normal(jax.random.key(2), (MLP2_BATCH, 256), F32)
        fn = js_mlp(MLP2_WIDTHS)

        def hand(p: dict, a: jax.Array) -> jax.Array:
            return hand_mlp_apply(p, a, MLP2_WIDTHS)

        hk_fn, flax_model = hk_mlp_param(MLP2_WIDTHS), FlaxMLPParam(MLP2_WIDTHS)
    model = js.transform(fn)
    hk_model = hk.transform(hk_fn)
    variables = model.init(rng, x)
    params = variables["params"]  # the hand-written function gets the very same arrays
    hk_params = nested(params)
    flax_vars = {"params": nested(params)}

    jitted = {
        "hand": jax.jit(hand),
        "jaxscope": jax.jit(lambda v, a: model.apply(v, a)[0]),
        "haiku": jax.jit(lambda p, a: hk_model.apply(p, None, a)),
        "flax": jax.jit(lambda v, a: flax_model.apply(v, a)),
        "jaxscope full": jax.jit(model.apply),
    }
    inputs = {
        "hand": params, "jaxscope": variables, "haiku": hk_params, "flax": flax_vars,
        "jaxscope full": variables,
    }
    compiled = {k: jitted[k].lower(inputs[k], x).compile() for k in jitted}
    rows: dict[str, dict[str, Any]] = {}
    ref = jitted["hand"](params, x)
    for k in jitted:
        out = jitted[k](inputs[k], x)
        main = out[0] if isinstance(out, tuple) else out
        rows[k] = {"flops": flops_of(compiled[k]), "hlo": hlo_stats(compiled[k].as_text()),
                   "max_diff": max_abs_diff(main, ref)}

    n_calls = 300 if quick else 2000
    thunks = {k: (lambda f=jitted[k], v=inputs[k]: f(v, x)) for k in jitted}
    timing = interleaved_calls(thunks, n_calls)
    for k in jitted:
        rows[k]["time"] = timing[k]["wall"]
    log(f"  compiled {name}: " + ", ".join(
        f"{k} {fmt_us(timing[k]['wall']['median'])} us" for k in jitted
    ))
    return {"rows": rows, "n_params": len(params), "n_calls": n_calls}


# -- 3. eager apply overhead ---------------------------------------------------------------------
EAGER_WIDTHS = (8, 8, 8)


def bench_eager(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    x = jax.random.normal(jax.random.key(3), (1, 8), F32)
    model = js.transform(js_mlp(EAGER_WIDTHS))
    variables = model.init(jax.random.key(4), x)
    params = variables["params"]
    hk_param = hk.transform(hk_mlp_param(EAGER_WIDTHS))
    hk_linear = hk.transform(hk_mlp_linear(EAGER_WIDTHS))
    fx_param, fx_dense = FlaxMLPParam(EAGER_WIDTHS), FlaxMLPDense(EAGER_WIDTHS)
    hk_p = nested(params)
    fx_p = {"params": nested(params)}
    fx_d = {"params": nested(params, FLAX_DENSE_NAMES)}
    thunks = {
        HAND: lambda: hand_mlp_apply(params, x, EAGER_WIDTHS),
        JS: lambda: model.apply(variables, x)[0],
        HK_P: lambda: hk_param.apply(hk_p, None, x),
        HK_L: lambda: hk_linear.apply(hk_p, None, x),
        FX_P: lambda: fx_param.apply(fx_p, x),
        FX_D: lambda: fx_dense.apply(fx_d, x),
    }
    ref = thunks[HAND]()
    diffs = {k: max_abs_diff(f(), ref) for k, f in thunks.items()}
    n_calls = 100 if quick else 600
    timing = interleaved_calls(thunks, n_calls)
    log("  eager: " + ", ".join(
        f"{k} {fmt_us(timing[k]['cpu']['median'])} us" for k in thunks
    ))
    return {"timing": timing, "diffs": diffs, "n_calls": n_calls}


# -- profiles ------------------------------------------------------------------------------------
def _short(filename: str) -> str:
    if filename.startswith(PACKAGE):
        return "jaxscope/" + filename[len(PACKAGE):]
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    stdlib = re.search(r"lib/python3\.\d+/(.*)$", filename)
    return stdlib.group(1) if stdlib else os.path.basename(filename)


def run_profile(stmt: Callable[[], Any]) -> dict[str, Any]:
    """cProfile ``stmt`` once. Rows for every function; ``jaxscope`` marks those in jaxscope/.

    The profiler's clock is process CPU time (the machine may be shared), and the cyclic GC
    is off while profiling so that collection pauses — whose cost grows with the heap, and
    which cProfile charges to whatever function happens to run — do not blur the
    per-function attribution. The timed benchmarks above keep the GC on.
    """
    raw = profile_stats(stmt)
    rows = []
    for (filename, lineno, func), (_, ncalls, tottime, cumtime, _) in raw.items():
        rows.append({"func": f"{_short(filename)}:{lineno}({func})", "key": (func, lineno),
                     "ncalls": ncalls, "tottime": tottime, "cumtime": cumtime,
                     "jaxscope": filename.startswith(PACKAGE)})
    total = sum(r["tottime"] for r in rows)
    own = sum(r["tottime"] for r in rows if r["jaxscope"])
    return {"rows": rows, "total": total, "jaxscope_own": own}


def top(rows: list[dict[str, Any]], key: str, n: int, only_jaxscope: bool) -> list[dict]:
    picked = [r for r in rows if r["jaxscope"] or not only_jaxscope]
    return sorted(picked, key=lambda r: -r[key])[:n]


def scaling_rows(small: dict[str, Any], large: dict[str, Any], n_small: int, n_large: int,
                 n: int = 10) -> list[list[Any]]:
    """Own time per variable of the top jaxscope functions at two depths."""
    by_key = {r["func"]: r for r in small["rows"] if r["jaxscope"]}
    rows = []
    for r in top(large["rows"], "tottime", n, True):
        s = by_key.get(r["func"])
        per_small = s["tottime"] / n_small * 1e6 if s else float("nan")
        per_large = r["tottime"] / n_large * 1e6
        rows.append([f"`{r['func']}`", f"{r['ncalls'] / n_large:.2f}", f"{per_small:.1f}",
                     f"{per_large:.1f}", per_large / per_small])
    return rows


# -- report --------------------------------------------------------------------------------------
def profile_table(rows: Sequence[dict[str, Any]]) -> str:
    return table(["function", "calls", "own ms", "cumulative ms"], [
        [f"`{r['func']}`", str(r["ncalls"]), f"{r['tottime'] * 1e3:.1f}",
         f"{r['cumtime'] * 1e3:.1f}"] for r in rows
    ])


def ms_range(s: dict[str, float]) -> str:
    return f"{fmt_ms(s['median'])} [{fmt_ms(s['min'])}–{fmt_ms(s['max'])}]"


def us_iqr(s: dict[str, float]) -> str:
    return f"{fmt_us(s['median'])} ({fmt_us(s['q1'])}–{fmt_us(s['q3'])})"


def report_header(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> list[str]:
    return [
        *header_lines(
            "jaxscope core benchmarks", "bench_core.py", args.quick, res["load"], elapsed,
            f"dm-haiku {hk.__version__}, flax {flax.__version__} (**flax.linen** API: "
            "`nn.Module`, `@nn.compact`, `self.param`, `nn.Dense`; not NNX)",
            "; Python GC enabled, `gc.collect()` before each measurement series; clocks "
            "`time.process_time` (process CPU) and `time.perf_counter` (wall)"),
        "Every library computes the same function: same shapes, ReLU, weights from "
        "`jax.nn.initializers.normal(0.1)` (Haiku: the same function fed `hk.next_rng_key()`), "
        "zero biases. Parts 2 and 3 run every library on the very same weight arrays; the "
        "*max abs diff* columns compare each output with the hand-written one.",
        "",
    ]


def report_init(res: dict[str, Any], goals: list) -> list[str]:
    init = res["init"]
    names = list(init[INIT_DEPTHS[0]])
    reps = ", ".join(f"{d} layers: {init[d][names[0]]['cpu']['n']}" for d in INIT_DEPTHS)
    out = [
        "## 1. `init` trace overhead per variable",
        "",
        f"`jax.eval_shape(model.init, rng, x)` (abstract: no FLOPs, no memory) of an MLP of N "
        f"layers, width {INIT_WIDTH}, batch 1, each layer `relu(x @ w + b)` = 2 variables "
        "(weight, bias). Every measurement is a real trace (a fresh wrapper each time, so "
        "`eval_shape`'s trace cache never hits); one warm-up trace per library, then "
        f"round-robin rounds with a rotating start ({reps} rounds). Primary number: process "
        "CPU time (robust to the other processes on this shared machine); wall time beside "
        "it. *jaxscope / this* is the ratio of CPU medians, and in brackets the median of "
        "the per-round paired ratios.",
        "",
    ]
    rows = []
    for d in INIT_DEPTHS:
        nvars = 2 * d
        hand = init[d][HAND]["cpu"]["median"]
        for name in names:
            c = init[d][name]["cpu"]
            rows.append([
                str(d), name, ms_range(c), fmt_ms(init[d][name]["wall"]["median"]),
                f"{c['median'] / nvars * 1e6:.0f}",
                "—" if name == HAND else f"{(c['median'] - hand) / nvars * 1e6:+.0f}",
                "—" if name == JS else
                f"{init[d][JS]['cpu']['median'] / c['median']:.2f} "
                f"({init[d][name]['paired']['median']:.2f})",
            ])
    out += [table(["layers", "library", "CPU ms median [min–max]", "wall ms median",
                   "CPU µs / variable", "µs / variable over hand-written",
                   "jaxscope / this"], rows), ""]

    lin_rows = []
    linear_ok = {}
    for name in names:
        per = {d: init[d][name]["cpu"]["median"] / (2 * d) for d in INIT_DEPTHS}
        marginal = (init[1000][name]["cpu"]["median"] - init[100][name]["cpu"]["median"]) / 1800
        r_10, r_100 = per[1000] / per[10], per[1000] / per[100]
        linear_ok[name] = r_100 <= 1.5 and r_10 <= 1.5
        lin_rows.append([name, f"{per[10] * 1e6:.0f}", f"{per[100] * 1e6:.0f}",
                         f"{per[1000] * 1e6:.0f}", f"{marginal * 1e6:.0f}", f"{r_10:.2f}",
                         f"{r_100:.2f}", "yes" if linear_ok[name] else "NO"])
    out += [
        "Linearity (CPU time): per-variable cost at each depth; *marginal* = (t(1000) − "
        "t(100)) / 1800 variables. A library counts as linear when its per-variable cost at "
        "1000 layers is at most 1.5× that at 10 and at 100 layers (a term quadratic in the "
        "variable count would dominate as ~10× / ~100×). The hand-written row is the floor "
        "set by JAX's own tracing. A small quadratic term can hide under JAX's per-variable "
        "cost; the profile section checks jaxscope's own functions for that separately.",
        "",
        table(["library", "µs/var @10", "µs/var @100", "µs/var @1000", "marginal µs/var",
               "@1000 / @10", "@1000 / @100", "linear"], lin_rows),
        "",
    ]
    def js_over(d: int, name: str) -> float:
        return init[d][JS]["cpu"]["median"] / init[d][name]["cpu"]["median"]

    # Noise-aware verdict per comparison, from the per-round paired ratios jaxscope / other:
    # a clear win when even their upper quartile is < 1, a clear loss when the median of
    # medians is >= 1 and the lower quartile of the paired ratios is > 1, else a tie.
    wins, ties, losses = [], [], []
    for d in INIT_DEPTHS:
        for name in (HK_P, HK_L, FX_P, FX_D):
            paired = init[d][name]["paired"]
            label = (f"{name} at {d} layers ({js_over(d, name):.2f}×, paired IQR "
                     f"{paired['q1']:.2f}–{paired['q3']:.2f})")
            if js_over(d, name) < 1 and paired["q3"] < 1:
                wins.append(label)
            elif js_over(d, name) >= 1 and paired["q1"] > 1:
                losses.append(label)
            else:
                ties.append(label)
    ratios = ", ".join(
        f"{d} layers {max(js_over(d, HK_P), js_over(d, HK_L)):.2f} / "
        f"{max(js_over(d, FX_P), js_over(d, FX_D)):.2f}" for d in INIT_DEPTHS)
    verdict = False if losses else (None if ties else True)
    detail = f"largest jaxscope/Haiku and jaxscope/Flax ratio of medians: {ratios}."
    if losses:
        detail += " Clearly slower than: " + "; ".join(losses) + "."
    if ties:
        detail += " Not separable from noise: " + "; ".join(ties) + "."
    goals.append((
        "1a. init trace: jaxscope faster than Haiku and Flax (both APIs, every depth, CPU "
        "medians)", verdict, detail))
    scopes = res["scopes"]
    sizes = sorted(scopes)
    srows = []
    for lib in scopes[sizes[0]]:
        per = [scopes[n][lib]["median"] / n for n in sizes]
        srows.append([lib, *(f"{fmt_ms(scopes[n][lib]['median'])} ms / {p * 1e6:.0f} µs"
                             for n, p in zip(sizes, per)),
                      f"{per[-1] / per[1]:.2f}×"])
    js_scope_growth = (scopes[sizes[-1]]["jaxscope (variable_scope)"]["median"] / sizes[-1]) / (
        scopes[sizes[1]]["jaxscope (variable_scope)"]["median"] / sizes[1])
    out += [
        "Scope-only trace: `init` of a function that opens N sibling scopes and creates "
        "nothing (no JAX ops), CPU median of 3 after a warm-up — the per-scope bookkeeping "
        "alone, which the MLP trace above hides under JAX's ~0.5 ms per-variable tracing "
        "cost. Each cell: total / per scope.",
        "",
        table(["library", *(f"N = {n}" for n in sizes),
               f"per-scope cost N={sizes[-1]} / N={sizes[1]}"], srows),
        "",
    ]
    scaling = res["profiles"]["scaling"]
    superlinear = [f"{r[0]} ({r[4]:.1f}×)" for r in scaling if r[4] >= 2.0]
    i = names.index(JS)
    ok = linear_ok[JS] and not superlinear and js_scope_growth <= 1.5
    detail = (f"end to end: per-variable cost @1000/@10 = {lin_rows[i][5]}, @1000/@100 = "
              f"{lin_rows[i][6]} (hand-written JAX: {lin_rows[names.index(HAND)][5]}, "
              f"{lin_rows[names.index(HAND)][6]}); scope-only per-scope cost grows "
              f"{js_scope_growth:.2f}× from N={sizes[1]} to N={sizes[-1]}")
    if superlinear:
        detail += "; jaxscope functions whose own time per variable grows ≥ 2× for 10× the " \
                  "variables: " + ", ".join(superlinear)
    goals.append(("1b. init trace: jaxscope linear in the number of variables (end to end, "
                  "and its own code)", ok, detail))
    return out


def report_compiled(res: dict[str, Any], goals: list) -> list[str]:
    out = [
        "## 2. Compiled cost of jitted `apply` vs hand-written JAX",
        "",
        f"CNN: input {CNN_INPUT} NHWC; conv 3×3 →16 (stride 1, SAME) + ReLU, conv 3×3 →32 "
        "(stride 2, SAME) + ReLU, flatten, dense →10, convolutions by "
        f"`lax.conv_general_dilated`. MLP: input ({MLP2_BATCH}, 256), dense 256 → 256 → 10, "
        "ReLU between. `jaxscope` is `jax.jit(lambda v, x: model.apply(v, x)[0])`; `hand` is "
        "the same model written as a jitted function of a flat params dict, given the same "
        "arrays; `haiku` (`hk.get_parameter`) and `flax` (`self.param`) for context. "
        "`jaxscope full` is `jax.jit(model.apply)` returning the whole `(out, aux)` (`aux` "
        "holds only what the call assigned or added: nothing for these models).",
        "",
        "*flops*: `compiled.cost_analysis()['flops']`. *HLO instr.*: in `compiled.as_text()` "
        "(the optimized, scheduled module) every line inside a computation body — from an "
        "unindented header line ending in `{` (`ENTRY %main ... {`, `%fused_computation ... "
        "{`) to its closing `}` — is one instruction, `parameter` and `ROOT` lines included; "
        "module attributes, the FileNames/StackFrames tables and metadata are not counted. "
        "*entry* counts only the ENTRY computation. *same ops* compares the multiset of "
        "opcodes over all computations with `hand`'s. *step time*: wall time per call of "
        "`f(v, x)` + `block_until_ready`, all six functions of a case interleaved call by "
        "call (order alternating each round), after 20 warm-up calls; median and IQR over "
        "the calls. *time / hand* is the ratio of medians, in brackets its range over 10 "
        "consecutive blocks of calls (the drift and noise of the machine).",
        "",
    ]
    for case, data in res["compiled"].items():
        rows = []
        hand_row = data["rows"]["hand"]
        for k, r in data["rows"].items():
            t = r["time"]
            lo, hi = block_ratio_range(t, hand_row["time"])
            rows.append([
                k, f"{r['flops']:.0f}", str(r["hlo"]["total"]), str(r["hlo"]["entry"]),
                str(r["hlo"]["computations"]),
                "yes" if r["hlo"]["opcodes"] == hand_row["hlo"]["opcodes"] else "no",
                us_iqr(t),
                f"{t['median'] / hand_row['time']['median']:.3f} ({lo:.2f}–{hi:.2f})",
                f"{r['max_diff']:.1e}",
            ])
        out += [
            f"### {case} ({data['n_params']} variables, {data['n_calls']} timed calls each)",
            "",
            table(["function", "flops", "HLO instr.", "entry", "computations", "same ops",
                   "µs / step (IQR)", "time / hand (block range)", "max abs diff"], rows),
            "",
        ]
        js_row = data["rows"]["jaxscope"]
        ratio = js_row["time"]["median"] / hand_row["time"]["median"]
        same = (js_row["flops"] == hand_row["flops"]
                and js_row["hlo"]["total"] == hand_row["hlo"]["total"]
                and js_row["hlo"]["opcodes"] == hand_row["hlo"]["opcodes"])
        goals.append((f"2. {case}: identical flops and HLO instruction count", same,
                      f"flops {js_row['flops']:.0f} vs {hand_row['flops']:.0f}, instructions "
                      f"{js_row['hlo']['total']} vs {hand_row['hlo']['total']}, same opcodes: "
                      f"{js_row['hlo']['opcodes'] == hand_row['hlo']['opcodes']}"))
        lo, hi = block_ratio_range(js_row["time"], hand_row["time"])
        goals.append((f"2. {case}: step time ratio ≤ 1.02", ratio <= 1.02,
                      f"{ratio:.3f} (block range {lo:.2f}–{hi:.2f})"))
        full = data["rows"]["jaxscope full"]
        goals.append((f"2. {case}: `jax.jit(model.apply)` has hand's HLO",
                      full["hlo"]["opcodes"] == hand_row["hlo"]["opcodes"]
                      and full["hlo"]["total"] == hand_row["hlo"]["total"],
                      f"instructions {full['hlo']['total']} vs {hand_row['hlo']['total']}"))
    return out


def report_eager(res: dict[str, Any], goals: list) -> list[str]:
    eager = res["eager"]
    t = eager["timing"]
    out = [
        "## 3. Eager (un-jitted) `apply` overhead per call",
        "",
        f"MLP dense 8 → {' → '.join(str(w) for w in EAGER_WIDTHS)} on input (1, 8), ReLU "
        "between, no `jax.jit`: every op dispatches on its own, so this is each library's "
        "Python cost of `apply` on top of the same 8 op dispatches (3 matmuls, 3 adds, 2 "
        "ReLUs). Time per call including `block_until_ready`; all six interleaved call by "
        f"call, {eager['n_calls']} calls each after 20 warm-up calls. Primary: process CPU "
        "time per call (median, IQR); wall beside it. *overhead* = CPU median − hand-written "
        "CPU median.",
        "",
    ]
    rows = []
    for k, s in t.items():
        c, w = s["cpu"], s["wall"]
        rows.append([
            k, us_iqr(c), fmt_us(w["median"]),
            f"{(c['median'] - t[HAND]['cpu']['median']) * 1e6:+.1f}",
            f"{c['median'] / t[HK_P]['cpu']['median']:.2f}",
            f"{c['median'] / t[HK_L]['cpu']['median']:.2f}",
            f"{eager['diffs'][k]:.1e}",
        ])
    out += [table(["library", "CPU µs / call (IQR)", "wall µs", "overhead µs",
                   "/ Haiku get_parameter", "/ Haiku hk.Linear", "max abs diff"], rows), ""]
    lo_p, hi_p = block_ratio_range(t[JS]["cpu"], t[HK_P]["cpu"])
    lo_l, hi_l = block_ratio_range(t[JS]["cpu"], t[HK_L]["cpu"])
    wall_p = t[JS]["wall"]["median"] / t[HK_P]["wall"]["median"]
    wall_l = t[JS]["wall"]["median"] / t[HK_L]["wall"]["median"]
    out += [f"jaxscope / Haiku (CPU) over 10 consecutive blocks of calls: get_parameter "
            f"{lo_p:.2f}–{hi_p:.2f}, hk.Linear {lo_l:.2f}–{hi_l:.2f}; by wall-clock medians: "
            f"{wall_p:.2f} and {wall_l:.2f}.", ""]
    c = {k: s["cpu"]["median"] for k, s in t.items()}
    goals.append(("3. eager apply: jaxscope ≤ Haiku (both APIs, CPU medians)",
                  c[JS] <= min(c[HK_P], c[HK_L]),
                  f"{c[JS] / c[HK_P]:.2f}× get_parameter, {c[JS] / c[HK_L]:.2f}× hk.Linear "
                  f"(wall: {wall_p:.2f}×, {wall_l:.2f}×)"))
    return out


def report_profiles(res: dict[str, Any], goals: list) -> list[str]:
    prof = res["profiles"]
    missed = [g + (" (within noise)" if ok is None else "") for g, ok, _ in goals
              if ok is not True]
    out = [
        "## Profile of the jaxscope paths",
        "",
        ("Goals missed or not clearly met: " + "; ".join(missed) + "." if missed else
         "All goals met; the profiles are kept for reference.")
        + " cProfile of the jaxscope path, process-CPU clock, cyclic GC off while profiling "
        "(its overhead inflates Python-heavy code: read shares and per-call ratios, not "
        "absolute times). *own* = time in the function body, *cumulative* = including "
        "callees (JAX tracing included).",
        "",
    ]
    large = prof["init_large"]
    ns, nl = 2 * prof["depths"][0], 2 * prof["depths"][1]
    for title, p, n in ((f"init trace, {prof['depths'][1]} layers ({nl} variables)", large, nl),
                        (f"eager apply, {prof['eager_calls']} calls of the 3-layer MLP",
                         prof["eager"], prof["eager_calls"])):
        share = p["jaxscope_own"] / p["total"]
        unit = "variable" if "init" in title else "call"
        heaviest = top(p["rows"], "tottime", 3, True)
        summary = ", ".join(
            f"`{r['func']}` {r['tottime'] / p['jaxscope_own']:.0%}" for r in heaviest)
        out += [
            f"### {title}",
            "",
            f"Total profiled {p['total'] * 1e3:.0f} ms; own time in jaxscope/ functions "
            f"{p['jaxscope_own'] * 1e3:.0f} ms ({share:.0%}, {p['jaxscope_own'] / n * 1e6:.0f} "
            f"µs per {unit}); the rest is JAX, NumPy and the standard library (called from "
            f"jaxscope or from the model). Largest shares of jaxscope's own time: {summary}.",
            "",
            "Top jaxscope functions by own time:",
            "",
            profile_table(top(p["rows"], "tottime", 10, True)),
            "",
            "Top jaxscope functions by cumulative time:",
            "",
            profile_table(top(p["rows"], "cumtime", 10, True)),
            "",
            "Heaviest functions anywhere by own time:",
            "",
            profile_table(top(p["rows"], "tottime", 10, False)),
            "",
        ]
    rows = prof["scaling"]
    grow = [f"{r[0]} ({r[4]:.1f}×)" for r in rows if r[4] >= 2.0]  # NaN compares False
    rows = [[*r[:4], f"{r[4]:.1f}×"] for r in rows]
    out += [
        f"### Scaling of jaxscope's own code: {prof['depths'][0]} vs {prof['depths'][1]} "
        "layers",
        "",
        "Own time per variable of the heaviest jaxscope functions of the large trace, in a "
        f"{ns}-variable and a {nl}-variable trace. A linear function keeps its per-variable "
        f"cost (ratio ≈ 1×); a ratio near {nl // ns}× (the growth in variables) marks work "
        "that is quadratic in the number of variables or scopes. Ratios around 1.2–1.4× "
        "are common to all functions (larger heap, colder caches).",
        "",
        table(["function", "calls / variable", f"µs / var @{prof['depths'][0]}",
               f"µs / var @{prof['depths'][1]}", "ratio"], rows),
        "",
        ("Superlinear (ratio ≥ 2×): " + ", ".join(grow) + "." if grow else
         "No jaxscope function grows superlinearly (all ratios < 2×)."),
        "",
    ]
    return out


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    goals: list[tuple[str, bool | None, str]] = []
    out = report_header(args, res, elapsed)
    out += report_init(res, goals)
    out += report_compiled(res, goals)
    out += report_eager(res, goals)
    out += ["## Goals", "", goal_table(goals), ""]
    out += report_profiles(res, goals)
    return "\n".join(out), goals


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    res: dict[str, Any] = {}
    log("1. init trace overhead")
    res["init"] = bench_init(args.quick, log)
    res["scopes"] = bench_scopes(args.quick, log)
    log("2. compiled cost")
    res["compiled"] = {case: compiled_case(case, args.quick, log) for case in ("CNN", "MLP")}
    log("3. eager apply overhead")
    res["eager"] = bench_eager(args.quick, log)

    log("profiles")
    depths = (30, 300) if args.quick else (100, 1000)
    rng, x = jax.random.key(0), jnp.ones((1, INIT_WIDTH), F32)

    def trace_init(depth: int) -> Callable[[], Any]:
        init = js.transform(js_mlp((INIT_WIDTH,) * depth)).init
        return lambda: jax.eval_shape(lambda r, a: init(r, a), rng, x)

    eager_model = js.transform(js_mlp(EAGER_WIDTHS))
    xe = jnp.ones((1, 8), F32)
    eager_vars = eager_model.init(jax.random.key(0), xe)
    eager_calls = 100 if args.quick else 300

    def run_eager() -> None:
        for _ in range(eager_calls):
            jax.block_until_ready(eager_model.apply(eager_vars, xe)[0])

    run_eager()
    res["profiles"] = {
        "depths": depths, "eager_calls": eager_calls,
        "init_small": run_profile(trace_init(depths[0])),
        "init_large": run_profile(trace_init(depths[1])),
        "eager": run_profile(run_eager),
    }
    res["profiles"]["scaling"] = scaling_rows(
        res["profiles"]["init_small"], res["profiles"]["init_large"], 2 * depths[0],
        2 * depths[1])
    return res


def main(argv: Sequence[str] | None = None) -> None:
    run_main("core", __doc__.split("\n")[0], argv, measure, report, stamped=False)


if __name__ == "__main__":
    main()
