"""Compiled-module and compile-time benchmark: jaxscope vs the same models hand-written in JAX.

Run from the repository root::

    python benchmarks/bench_compile.py            # full run (<5 min on 2 cores), writes
                                                  # RESULTS.md (only its section `compile`)
    python benchmarks/bench_compile.py --quick    # smoke run (<1 min), prints only (see --out)

Four models, each written with jaxscope and by hand over a flat params dict:

* **MLP**: 256 → 256 → 256 → 10, ReLU (``bench_core.py``'s ``js_mlp`` / ``hand_mlp_apply``);
* **CNN**: the TF CIFAR-10 tutorial's ``inference`` and ``loss_fn`` (imported through
  ``bench_cnn.py`` from ``tests/design/test_cifar10_cnn.py``) against ``bench_cnn.py``'s
  ``hand_inference`` with TF1's cross-entropy written out (the function ``js.nn`` computes);
* **LSTM LM**: ``get_variable("embedding")`` + gather → ``js.rnn.dynamic_rnn`` with
  ``js.rnn.BasicLSTMCell`` → softmax projection, against ``bench_rnn.py``'s ``hand_lstm``
  (``lax.scan``) with the same embedding and projection;
* **template + getter**: a siamese model whose shared tower is a ``js.make_template`` called on
  two inputs, all under a ``custom_getter`` that casts float32 variables to bfloat16, against
  the tower written as a function of the params (cast with ``astype``) called twice.

For the jitted forward (``apply``) and a jitted training step (``value_and_grad`` + SGD):
XLA flops, optimized-HLO instruction counts and opcode histograms (normalized HLO diffs where
they differ, and compiled-only variants that find the cause), and the time of
``jit(f).lower()`` (trace + StableHLO) and ``.compile()`` (XLA), JAX's caches cleared before
each, jaxscope and hand-written interleaved over many rounds. README.md beside this file
explains the tables.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import difflib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import bench_cnn
import jax
import jax.numpy as jnp
import numpy as np
from _measure import (
    PACKAGE,
    count_diff,
    flops_of,
    goal_table,
    header_lines,
    hlo_stats,
    max_abs_diff,
    normalized_hlo,
    profile_stats,
    run_main,
    stats,
    table,
    timed_compile,
)
from bench_cnn import count_primitives
from bench_core import JS_ZEROS, MLP2_BATCH, MLP2_WIDTHS, W_INIT, hand_mlp_apply, js_mlp
from bench_rnn import BIAS, KERNEL, hand_lstm

import jaxscope as js

F32, BF16 = jnp.float32, jnp.bfloat16
LR = bench_cnn.LR
KINDS = ("forward", "training step")
IMPLS = ("jaxscope", "hand")


# -- the loss head shared by the models (plain JAX on both sides) -------------------------------
def xent(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean sparse softmax cross-entropy as one writes it in JAX: ``-log_softmax[label]``."""
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[..., None], axis=-1))


def js_apply(model: js.Transformed) -> Callable[[dict[str, jax.Array], Any], Any]:
    """``model.apply`` over a params dict (no state), returning only the output."""
    def forward(params: dict[str, jax.Array], x: Any) -> Any:
        return model.apply({"params": params, "state": {}}, *x)[0]
    return forward


def head_loss(forward: Callable[[dict[str, jax.Array], Any], jax.Array]
              ) -> Callable[[dict[str, jax.Array], Any, jax.Array], jax.Array]:
    def loss(params: dict[str, jax.Array], x: Any, y: jax.Array) -> jax.Array:
        return xent(forward(params, x), y)
    return loss


# -- 1. MLP (bench_core.py) ----------------------------------------------------------------------
MLP_MODEL = js.transform(js_mlp(MLP2_WIDTHS))


def hand_mlp(params: dict[str, jax.Array], x: tuple[jax.Array]) -> jax.Array:
    return hand_mlp_apply(params, x[0], MLP2_WIDTHS)


# -- 2. CNN (bench_cnn.py: the tutorial's code, hand-written twin) -------------------------------
def js_cnn_loss(params: dict[str, jax.Array], x: tuple[jax.Array], y: jax.Array) -> jax.Array:
    """The tutorial's ``loss_fn``: ``js.nn`` sparse cross-entropy + ``aux.regularization_loss``."""
    return bench_cnn.js_loss(params, x[0], y)


def tf1_xent(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """TF1's sparse cross-entropy written out (as ``js.nn`` computes it): the class clipped
    into range for the gather, NaN where the label is outside ``[0, classes)``."""
    classes = logits.shape[-1]
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(log_probs, jnp.clip(labels, 0, classes - 1)[..., None],
                                 axis=-1)[..., 0]
    return jnp.where((labels >= 0) & (labels < classes), -picked, jnp.nan)


def hand_cnn_loss(params: dict[str, jax.Array], x: tuple[jax.Array], y: jax.Array) -> jax.Array:
    """The tutorial's loss hand-written: TF1's cross-entropy (same function as ``js.nn``'s),
    plus the weight decay."""
    logits = bench_cnn.hand_inference(params, x[0])
    return jnp.mean(tf1_xent(logits, y)) + bench_cnn.hand_decay(params)


def hand_cnn_decay_first_loss(params: dict[str, jax.Array], x: tuple[jax.Array], y: jax.Array
                              ) -> jax.Array:
    """`hand_cnn_loss` with the decay computed before the forward pass (variant)."""
    decay = bench_cnn.hand_decay(params)
    return jnp.mean(tf1_xent(bench_cnn.hand_inference(params, x[0]), y)) + decay


def hand_cnn_idiomatic_loss(params: dict[str, jax.Array], x: tuple[jax.Array], y: jax.Array
                            ) -> jax.Array:
    """``bench_cnn.py``'s baseline: ``-take_along_axis(log_softmax)``, no range check."""
    return bench_cnn.hand_loss(params, x[0], y)


# -- 3. LSTM language model ----------------------------------------------------------------------
LM_VOCAB, LM_EMBED, LM_UNITS, LM_BATCH, LM_STEPS = 1000, 64, 128, 16, 32
EMBED_INIT = js.random_uniform_initializer(-0.1, 0.1)


def js_lm(ids: jax.Array) -> jax.Array:
    """Embedding → ``dynamic_rnn(BasicLSTMCell)`` → softmax projection: ``[B, T, vocab]``."""
    embedding = js.get_variable("embedding", [LM_VOCAB, LM_EMBED], initializer=EMBED_INIT)
    inputs = jnp.take(embedding, ids, axis=0)
    outputs, _ = js.rnn.dynamic_rnn(js.rnn.BasicLSTMCell(LM_UNITS), inputs, dtype=F32)
    with js.variable_scope("softmax"):
        w = js.get_variable("w", [LM_UNITS, LM_VOCAB])
        b = js.get_variable("b", [LM_VOCAB], initializer=JS_ZEROS)
    return outputs @ w + b


def js_lm_embedding_lookup(ids: jax.Array) -> jax.Array:
    """`js_lm` with TF1's ``js.nn.embedding_lookup`` for the gather (variant, compiled only)."""
    embedding = js.get_variable("embedding", [LM_VOCAB, LM_EMBED], initializer=EMBED_INIT)
    inputs = js.nn.embedding_lookup(embedding, ids)
    outputs, _ = js.rnn.dynamic_rnn(js.rnn.BasicLSTMCell(LM_UNITS), inputs, dtype=F32)
    with js.variable_scope("softmax"):
        w = js.get_variable("w", [LM_UNITS, LM_VOCAB])
        b = js.get_variable("b", [LM_VOCAB], initializer=JS_ZEROS)
    return outputs @ w + b


LM_MODEL = js.transform(js_lm)
LM_LOOKUP_MODEL = js.transform(js_lm_embedding_lookup)


def hand_lm(params: dict[str, jax.Array], x: tuple[jax.Array]) -> jax.Array:
    inputs = jnp.take(params["embedding"], x[0], axis=0)
    outputs = hand_lstm({"kernel": params[KERNEL], "bias": params[BIAS]}, inputs)
    return outputs @ params["softmax/w"] + params["softmax/b"]


# -- 4. make_template + custom_getter: a siamese model in bfloat16 -------------------------------
TOWER_WIDTHS, PAIR_INPUT, PAIR_BATCH, PAIR_CLASSES = (256, 256), 128, 64, 10


def to_bfloat16(getter: Callable[..., jax.Array], *args: Any, **kwargs: Any) -> jax.Array:
    """A custom getter: the variable is stored in float32 and used in bfloat16."""
    return getter(*args, **kwargs).astype(BF16)


def tower(x: jax.Array) -> jax.Array:
    for i, units in enumerate(TOWER_WIDTHS):
        with js.variable_scope(f"layer_{i}"):
            w = js.get_variable("w", [x.shape[-1], units], initializer=W_INIT)
            b = js.get_variable("b", [units], initializer=JS_ZEROS)
        x = jax.nn.relu(x @ w + b)
    return x


TOWER = js.make_template("tower", tower)  # TF1: tf.make_template; shared by both inputs


def js_siamese(a: jax.Array, b: jax.Array) -> jax.Array:
    with js.variable_scope("siamese", custom_getter=to_bfloat16):
        both = jnp.concatenate([TOWER(a.astype(BF16)), TOWER(b.astype(BF16))], axis=-1)
        with js.variable_scope("head"):
            w = js.get_variable("w", [both.shape[-1], PAIR_CLASSES], initializer=W_INIT)
            bias = js.get_variable("b", [PAIR_CLASSES], initializer=JS_ZEROS)
        return (both @ w + bias).astype(F32)


SIAMESE_MODEL = js.transform(js_siamese)


def hand_tower(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    for i in range(len(TOWER_WIDTHS)):
        w = params[f"siamese/tower/layer_{i}/w"].astype(BF16)
        b = params[f"siamese/tower/layer_{i}/b"].astype(BF16)
        x = jax.nn.relu(x @ w + b)
    return x


def hand_siamese(params: dict[str, jax.Array], x: tuple[jax.Array, jax.Array]) -> jax.Array:
    a, b = x
    both = jnp.concatenate([hand_tower(params, a.astype(BF16)),
                            hand_tower(params, b.astype(BF16))], axis=-1)
    w, bias = params["siamese/head/w"].astype(BF16), params["siamese/head/b"].astype(BF16)
    return (both @ w + bias).astype(F32)


# -- the cases -----------------------------------------------------------------------------------
@dataclass
class Variant:
    """Another version of a model, compiled only (not timed), to show where a difference
    comes from: its module is compared with that of ``against`` (``jaxscope`` or ``hand``)."""

    label: str
    against: str
    kinds: tuple[str, ...]
    forward: Callable[..., Any]
    loss: Callable[..., Any]


@dataclass
class Model:
    """One model: its jaxscope and hand-written forward and loss, weights and data.

    Forwards are ``(params, x) -> out`` and losses ``(params, x, y) -> scalar``, where ``x``
    is a tuple of the model's inputs; both implementations use the same flat params dict.
    """

    name: str
    forward: dict[str, Callable[..., Any]]
    loss: dict[str, Callable[..., Any]]
    data: Callable[[], tuple[dict[str, jax.Array], tuple[jax.Array, ...], jax.Array]]
    variants: tuple[Variant, ...] = ()


def random_weights(model: js.Transformed, *inputs: Any) -> dict[str, jax.Array]:
    """Weights of ``model``'s shapes (from an abstract ``init``) drawn with NumPy: N(0, 1) /
    sqrt(fan-in) for matrices and kernels, 0.1·N(0, 1) for vectors (no bias is zero).

    Drawn outside JAX so that making them compiles nothing: the timing below starts warm only
    on what the measured functions share.
    """
    specs = jax.eval_shape(model.init, jax.random.key(0), *inputs)["params"]
    rng = np.random.default_rng(0)
    weights = {}
    for name, spec in specs.items():
        scale = 0.1 if len(spec.shape) == 1 else 1 / np.sqrt(np.prod(spec.shape[:-1]))
        weights[name] = jnp.asarray(scale * rng.standard_normal(spec.shape), spec.dtype)
    return weights


def normal(seed: int, shape: tuple[int, ...]) -> jax.Array:
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), F32)


def labels(seed: int, shape: tuple[int, ...], classes: int) -> jax.Array:
    return jnp.asarray(np.random.default_rng(seed).integers(0, classes, shape), jnp.int32)


def mlp_data() -> tuple[dict[str, jax.Array], tuple[jax.Array], jax.Array]:
    x = normal(1, (MLP2_BATCH, 256))
    return random_weights(MLP_MODEL, x), (x,), labels(2, (MLP2_BATCH,), MLP2_WIDTHS[-1])


def cnn_data() -> tuple[dict[str, jax.Array], tuple[jax.Array], jax.Array]:
    x = normal(1, (bench_cnn.BATCH, bench_cnn.IMAGE, bench_cnn.IMAGE, bench_cnn.CHANNELS))
    y = labels(2, (bench_cnn.BATCH,), bench_cnn.CLASSES)
    return random_weights(bench_cnn.JS_MODEL, x), (x,), y


def lm_data() -> tuple[dict[str, jax.Array], tuple[jax.Array], jax.Array]:
    ids = labels(1, (LM_BATCH, LM_STEPS + 1), LM_VOCAB)
    inputs, targets = ids[:, :-1], ids[:, 1:]  # next-word prediction
    return random_weights(LM_MODEL, inputs), (inputs,), targets


def siamese_data() -> tuple[dict[str, jax.Array], tuple[jax.Array, jax.Array], jax.Array]:
    a, b = normal(1, (PAIR_BATCH, PAIR_INPUT)), normal(2, (PAIR_BATCH, PAIR_INPUT))
    params = random_weights(SIAMESE_MODEL, a, b)
    assert all(v.dtype == F32 for v in params.values()), "stored in float32"
    return params, (a, b), labels(3, (PAIR_BATCH,), PAIR_CLASSES)


def cnn_hand_forward(params: dict[str, jax.Array], x: tuple[jax.Array]) -> jax.Array:
    return bench_cnn.hand_inference(params, x[0])


MODELS = (
    Model("MLP",
          {"jaxscope": js_apply(MLP_MODEL), "hand": hand_mlp},
          {"jaxscope": head_loss(js_apply(MLP_MODEL)), "hand": head_loss(hand_mlp)},
          mlp_data),
    Model("CNN",
          {"jaxscope": lambda p, x: bench_cnn.FORWARD["jaxscope"](p, x[0]),
           "hand": cnn_hand_forward},
          {"jaxscope": js_cnn_loss, "hand": hand_cnn_loss},
          cnn_data,
          (Variant("hand-written, the weight decay computed before the forward pass (where "
                   "`get_variable` runs the regularizer)", "jaxscope", ("training step",),
                   cnn_hand_forward, hand_cnn_decay_first_loss),
           Variant("hand-written, JAX-idiomatic cross-entropy `-take_along_axis(log_softmax)` "
                   "(`bench_cnn.py`'s baseline: no NaN for labels outside [0, 10))", "hand",
                   ("training step",), cnn_hand_forward, hand_cnn_idiomatic_loss))),
    Model("LSTM LM",
          {"jaxscope": js_apply(LM_MODEL), "hand": hand_lm},
          {"jaxscope": head_loss(js_apply(LM_MODEL)), "hand": head_loss(hand_lm)},
          lm_data,
          (Variant("jaxscope with TF1's `js.nn.embedding_lookup` for the gather", "hand", KINDS,
                   js_apply(LM_LOOKUP_MODEL), head_loss(js_apply(LM_LOOKUP_MODEL))),)),
    Model("template + getter",
          {"jaxscope": js_apply(SIAMESE_MODEL), "hand": hand_siamese},
          {"jaxscope": head_loss(js_apply(SIAMESE_MODEL)), "hand": head_loss(hand_siamese)},
          siamese_data),
)


def sgd_step(loss: Callable[..., jax.Array]) -> Callable[..., tuple[Any, jax.Array]]:
    def step(params: Any, x: Any, y: jax.Array) -> tuple[Any, jax.Array]:
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - LR * g, params, grads), value
    return step


def measured_fn(forward: Callable[..., Any], loss: Callable[..., Any], kind: str
                ) -> Callable[..., Any]:
    """A fresh function ``(params, x, y)`` (new identity: no trace-cache hits)."""
    if kind == "forward":
        return lambda p, x, y: forward(p, x)
    return sgd_step(loss)


# -- 1. compiled modules -------------------------------------------------------------------------
def compile_once(fn: Callable[..., Any], params: Any, x: Any, y: Any) -> dict[str, Any]:
    """Compile ``fn`` once: flops, HLO statistics, normalized HLO text and its result."""
    compiled = jax.jit(fn).lower(params, x, y).compile()
    text = compiled.as_text()
    return {"flops": flops_of(compiled), "hlo": hlo_stats(text), "norm": normalized_hlo(text),
            "out": compiled(params, x, y),
            "jaxpr": count_primitives(jax.make_jaxpr(fn)(params, x, y))}


def result_diff(kind: str, out: Any, ref: Any) -> dict[str, float]:
    """Forward: max abs difference of the outputs; training step: of the loss and of the
    updated parameters."""
    if kind == "forward":
        return {"out": max_abs_diff(out.astype(F32), ref.astype(F32))}
    (new, value), (new_ref, value_ref) = out, ref
    return {"loss": abs(float(value) - float(value_ref)),
            "params": max(max_abs_diff(new[k], new_ref[k]) for k in new_ref)}


def compare(case: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """How a compiled module differs from the reference module ``ref``."""
    diff = list(difflib.unified_diff(ref["norm"], case["norm"], lineterm="", n=0))
    return {"same_flops": case["flops"] == ref["flops"],
            "same_count": case["hlo"]["total"] == ref["hlo"]["total"],
            "same_ops": case["hlo"]["opcodes"] == ref["hlo"]["opcodes"],
            "identical": case["norm"] == ref["norm"],
            "ops_diff": count_diff(case["hlo"]["opcodes"], ref["hlo"]["opcodes"]),
            "text_diff": [line for line in diff if not line.startswith(("---", "+++"))]}


def bench_modules(model: Model, weights: tuple[Any, Any, Any], with_variants: bool
                  ) -> dict[str, Any]:
    """Compile the jaxscope and hand-written functions of ``model`` once each, and its
    variants if ``with_variants``."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        cases = {impl: compile_once(measured_fn(model.forward[impl], model.loss[impl], kind),
                                    *weights) for impl in IMPLS}
        rows = {impl: {k: cases[impl][k] for k in ("flops", "hlo", "jaxpr")} for impl in IMPLS}
        rows["jaxscope"].update(compare(cases["jaxscope"], cases["hand"]))
        rows["jaxscope"]["diff"] = result_diff(kind, cases["jaxscope"]["out"],
                                               cases["hand"]["out"])
        variants = []
        for variant in model.variants if with_variants else ():
            if kind not in variant.kinds:
                continue
            case = compile_once(measured_fn(variant.forward, variant.loss, kind), *weights)
            variants.append({"label": variant.label, "against": variant.against,
                             "flops": case["flops"], "hlo": case["hlo"],
                             "flops_ref": cases[variant.against]["flops"],
                             **compare(case, cases[variant.against])})
        out[kind] = {"rows": rows, "variants": variants}
    return out


# -- jaxscope's Python in the lowering ------------------------------------------------------------
def jaxscope_python(fn: Callable[..., Any], weights: tuple[Any, Any, Any]) -> dict[str, Any]:
    """cProfile (process-CPU clock, GC off) of one lowering of ``fn`` after
    ``jax.clear_caches()``: the total, and the own time of the functions in ``jaxscope/``."""
    jax.clear_caches()
    raw = profile_stats(lambda: jax.jit(fn).lower(*weights))
    own = {f"{path[len(PACKAGE):]}:{line}({func})": tottime
           for (path, line, func), (_, _, tottime, _, _) in raw.items()
           if path.startswith(PACKAGE)}
    return {"total": sum(entry[2] for entry in raw.values()), "own": sum(own.values()),
            "functions": own}


def bench_python(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(model.name, kind): jaxscope_python(
        measured_fn(model.forward["jaxscope"], model.loss["jaxscope"], kind), data[model.name])
        for model in MODELS for kind in KINDS}


# -- 2. compile time -----------------------------------------------------------------------------
TIME_FIELDS = ("lower", "compile", "total", "total_wall")


def time_compile(fn: Callable[..., Any], weights: tuple[Any, Any, Any]) -> dict[str, float]:
    """``jax.jit(fn).lower(...)`` and ``.compile()`` timed with JAX's caches cleared first."""
    jax.clear_caches()
    _, times = timed_compile(jax.jit(fn), *weights)
    return times


def bench_times(data: dict[str, Any], rounds: int, budget: float, log: Callable[[str], None]
                ) -> dict[str, Any]:
    """Up to ``rounds`` rounds over every (model, kind), stopping early when another round
    would end after ``budget`` seconds (at least one round). Within a case jaxscope and
    hand-written run back to back, their order alternating; the case order rotates from
    round to round."""
    cases = [(model, kind) for model in MODELS for kind in KINDS]
    samples: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    start = time.perf_counter()
    done = 0
    while done < rounds:
        k = done % len(cases)
        for i, (model, kind) in enumerate(cases[k:] + cases[:k]):
            for impl in IMPLS if (done + i) % 2 == 0 else IMPLS[::-1]:
                fn = measured_fn(model.forward[impl], model.loss[impl], kind)
                samples.setdefault((model.name, kind, impl), []).append(
                    time_compile(fn, data[model.name]))
        done += 1
        elapsed = time.perf_counter() - start
        log(f"  round {done}/{rounds} ({elapsed:.0f} s): jaxscope / hand, total CPU: " + ", ".join(
            f"{m.name} {'fwd' if kind == KINDS[0] else 'step'} {last_ratio(samples, m, kind):.2f}"
            for m, kind in cases))
        if elapsed * (done + 1) / done > budget:
            break
    out: dict[str, Any] = {"rounds": done, "seconds": time.perf_counter() - start}
    for model, kind in cases:
        runs = {impl: samples[(model.name, kind, impl)] for impl in IMPLS}
        out[(model.name, kind)] = summarize_times(runs["jaxscope"], runs["hand"])
    out["all"] = summarize_times(
        *(summed([samples[(m.name, kind, impl)] for m, kind in cases]) for impl in IMPLS))
    return out


def last_ratio(samples: dict[tuple[str, str, str], list[dict[str, float]]], model: Model,
               kind: str) -> float:
    js_run, hand_run = (samples[(model.name, kind, impl)][-1] for impl in IMPLS)
    return js_run["total"] / hand_run["total"]


def summed(per_case: list[list[dict[str, float]]]) -> list[dict[str, float]]:
    """Per round, every field summed over the cases."""
    return [{f: sum(case[r][f] for case in per_case) for f in TIME_FIELDS}
            for r in range(len(per_case[0]))]


def summarize_times(js_runs: list[dict[str, float]], hand_runs: list[dict[str, float]]
                    ) -> dict[str, Any]:
    """Statistics of each field, of the paired (same-round) ratios and of the differences."""
    out: dict[str, Any] = {"n": len(js_runs)}
    for f in TIME_FIELDS:
        js_s, hand_s = [s[f] for s in js_runs], [s[f] for s in hand_runs]
        out[f] = {"jaxscope": stats(js_s), "hand": stats(hand_s),
                  "ratio": stats([a / b for a, b in zip(js_s, hand_s)]),
                  "extra": stats([a - b for a, b in zip(js_s, hand_s)])}
    return out


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    res: dict[str, Any] = {"quick": args.quick}
    data = {model.name: model.data() for model in MODELS}
    res["sizes"] = {model.name: (len(data[model.name][0]),
                                 sum(v.size for v in data[model.name][0].values()))
                    for model in MODELS}
    log("1. compiled modules (also the warm-up of the timing)")
    res["modules"] = {}
    for model in MODELS:
        res["modules"][model.name] = bench_modules(model, data[model.name], not args.quick)
        log(f"  {model.name}: " + ", ".join(
            f"{kind} same ops {res['modules'][model.name][kind]['rows']['jaxscope']['same_ops']}"
            for kind in KINDS))
    log("2. cProfile of jaxscope's lowerings")
    res["python"] = bench_python(data)
    rounds, budget = (3, 15.0) if args.quick else (15, 210.0)
    log(f"3. compile time: up to {rounds} rounds, stopping at a budget of {budget:.0f} s")
    res["times"] = bench_times(data, rounds, budget, log)
    res["max_rounds"], res["budget"] = rounds, budget
    return res


# -- report --------------------------------------------------------------------------------------
def report_header(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> list[str]:
    sizes = res["sizes"]

    def size(name: str) -> str:
        return f"{sizes[name][0]} variables, {sizes[name][1]:,} parameters"

    return [
        *header_lines(
            "jaxscope compiled modules and compile time vs hand-written JAX", "bench_compile.py",
            args.quick, res["load"], elapsed,
            "models from `bench_core.py`, `bench_cnn.py`, `bench_rnn.py`",
            "; no persistent compilation cache (`jax_compilation_cache_dir` = "
            f"{jax.config.jax_compilation_cache_dir}); `jax.clear_caches()` before every timed "
            "lowering; clocks `time.process_time` (process CPU) and `time.perf_counter` (wall)"),
        "Four models, each written with jaxscope and by hand over a flat params dict with the "
        "same names (so both jitted functions take the same pytree), run on the same weights "
        "(drawn with NumPy; every bias non-zero):",
        "",
        f"* **MLP** ({size('MLP')}): batch {MLP2_BATCH}, 256 → "
        f"{' → '.join(map(str, MLP2_WIDTHS))}, ReLU — `bench_core.py`'s `js_mlp` "
        "(`variable_scope` + `get_variable` per layer) vs its `hand_mlp_apply`;",
        f"* **CNN** ({size('CNN')}): the TF CIFAR-10 tutorial's model, batch {bench_cnn.BATCH} "
        f"of {bench_cnn.IMAGE}×{bench_cnn.IMAGE}×{bench_cnn.CHANNELS} — the tutorial's "
        "`inference` and `loss_fn` (`js.nn` ops, weight decay as a `regularizer=`, "
        "`js.nn.sparse_softmax_cross_entropy_with_logits` + `aux.regularization_loss`) from "
        "`tests/design/test_cifar10_cnn.py`, vs `bench_cnn.py`'s `hand_inference` with TF1's "
        "cross-entropy written out (the class clipped for the gather, NaN for a label outside "
        "[0, 10): the same function as `js.nn`'s) plus the decay after the forward pass;",
        f"* **LSTM LM** ({size('LSTM LM')}): batch {LM_BATCH}, {LM_STEPS} steps, vocabulary "
        f"{LM_VOCAB}, embedding {LM_EMBED}, {LM_UNITS} units — `get_variable('embedding')` + "
        "`jnp.take` → `js.rnn.dynamic_rnn(js.rnn.BasicLSTMCell)` → `softmax/w`, `softmax/b` "
        "projection, vs `bench_rnn.py`'s `hand_lstm` (`lax.scan`) between the same gather and "
        "projection;",
        f"* **template + getter** ({size('template + getter')}): batch {PAIR_BATCH}, two "
        f"inputs of {PAIR_INPUT} — a tower (2 dense layers of "
        f"{' and '.join(map(str, TOWER_WIDTHS))}, ReLU) made with `js.make_template('tower', "
        "...)` and applied to both inputs (the second call reuses `siamese/tower/...`), the "
        "two outputs concatenated into a dense head of 10; everything under "
        "`variable_scope('siamese', custom_getter=...)` whose getter returns each float32 "
        "variable cast to bfloat16, inputs cast to bfloat16 and logits back to float32. By "
        "hand: a tower function over the params dict, called twice, casting each weight with "
        "`astype(bfloat16)` where it is read.",
        "",
        "Two functions per model, each `jax.jit`-ed with the arguments `(params, inputs, "
        "labels)`: *forward* returns `model.apply(...)[0]` (the hand-written function's "
        "output); *training step* is `jax.value_and_grad(loss)` then plain SGD "
        f"`p − {LR}·g` over the params dict, returning `(new params, loss)`. The loss is "
        "the mean sparse softmax cross-entropy as one writes it in JAX "
        "(`-take_along_axis(log_softmax)`), the same code on both sides, except for the CNN "
        "(the tutorial's own `loss_fn`, see above).",
        "",
    ]


def yes_no(flag: bool) -> str:
    return "yes" if flag else "**no**"


def fmt_diff(kind: str, diff: dict[str, float]) -> str:
    if kind == "forward":
        return f"{diff['out']:.1e}"
    return f"{diff['loss']:.1e} / {diff['params']:.1e}"


def report_modules(res: dict[str, Any], goals: list) -> list[str]:
    out = [
        "## 1. Compiled modules",
        "",
        "From `jax.jit(f).lower(params, inputs, labels).compile()`: *flops* "
        "`cost_analysis()['flops']` (XLA counts a `while` body once); *HLO instr.*: "
        "instructions of the optimized module (`compiled.as_text()`, every line inside a "
        "computation body, `parameter` and `ROOT` included; `_measure.hlo_stats`); *entry*: "
        "the ENTRY computation alone; *computations*: their number (fusions, loop bodies...); "
        "*same opcodes*: the same histogram of opcodes over all computations (a `Counter`); "
        "*identical*: the module text equals hand's once metadata and parameter names are "
        "dropped and names renumbered in order of appearance (`_measure.normalized_hlo`) — "
        "then both run the same instructions on the same shapes in the same order. "
        "*max abs diff*: jaxscope's result vs hand's — forward: the outputs; training step: "
        "the loss / the updated parameters.",
        "",
    ]
    rows = []
    for model in MODELS:
        for kind in KINDS:
            r = res["modules"][model.name][kind]["rows"]
            j, h = r["jaxscope"], r["hand"]
            rows.append([
                model.name, kind,
                f"{j['flops']:.0f}" + ("" if j["same_flops"] else f" vs {h['flops']:.0f}"),
                f"{j['hlo']['total']} / {h['hlo']['total']}",
                f"{j['hlo']['entry']} / {h['hlo']['entry']}",
                f"{j['hlo']['computations']} / {h['hlo']['computations']}",
                yes_no(j["same_ops"]), yes_no(j["identical"]), fmt_diff(kind, j["diff"])])
            ok = j["same_flops"] and j["same_count"] and j["same_ops"]
            goals.append((
                f"{model.name}, {kind}: same flops, HLO instruction count and opcode "
                "histogram as hand-written", ok,
                f"flops {j['flops']:.0f} vs {h['flops']:.0f}; {j['hlo']['total']} vs "
                f"{h['hlo']['total']} instructions; opcodes jaxscope − hand: {j['ops_diff']}; "
                f"module text identical: {'yes' if j['identical'] else 'no'}; max abs diff of "
                f"the results {fmt_diff(kind, j['diff'])}"))
    out += [table(["model", "function", "flops (jaxscope; vs hand if not equal)",
                   "HLO instr. jaxscope / hand", "entry", "computations", "same opcodes",
                   "identical", "max abs diff"], rows), ""]
    out += report_jaxprs(res)
    out += report_variants(res)
    out += report_differences(res)
    return out


def report_jaxprs(res: dict[str, Any]) -> list[str]:
    rows = []
    for model in MODELS:
        for kind in KINDS:
            r = res["modules"][model.name][kind]["rows"]
            j, h = r["jaxscope"]["jaxpr"], r["hand"]["jaxpr"]
            rows.append([model.name, kind, f"{sum(j.values())} / {sum(h.values())}",
                         count_diff(j, h)])
    return [
        "### The traced programs XLA starts from",
        "",
        "Equations of `jax.make_jaxpr` of each function (nested jaxprs — `pjit`, `scan` "
        "bodies, `custom_jvp` — included; `bench_cnn.count_primitives`). Where jaxscope's "
        "jaxpr is larger and its optimized module the same, XLA removed the extra equations "
        "(dead code such as regularizers computed in a forward pass that returns only the "
        "output, reshapes that become the same broadcast, duplicate casts merged by CSE); "
        "they cost only lowering and compile time.",
        "",
        table(["model", "function", "jaxpr equations jaxscope / hand",
               "primitives jaxscope − hand"], rows),
        "",
    ]


def report_variants(res: dict[str, Any]) -> list[str]:
    rows = []
    for model in MODELS:
        for kind in KINDS:
            for v in res["modules"][model.name][kind]["variants"]:
                rows.append([model.name, kind, v["label"], v["against"],
                             f"{v['flops'] - v['flops_ref']:+.0f}".replace("-", "−"),
                             str(v["hlo"]["total"]), yes_no(v["same_ops"]),
                             yes_no(v["identical"]), v["ops_diff"]])
    if not rows:
        return []
    return [
        "### Variants (compiled only)",
        "",
        "Each changes one thing in one of the two functions above, to show what a "
        "difference comes from or what a nearby way of writing the model would cost; its "
        "module is compared with jaxscope's or hand's (*against*).",
        "",
        table(["model", "function", "variant", "against", "flops − against", "HLO instr.",
               "same opcodes", "identical", "opcodes variant − against"], rows),
        "",
    ]


DIFF_LINES = 24


def text_diff_block(lines: list[str]) -> list[str]:
    shown = lines[:DIFF_LINES]
    more = len(lines) - len(shown)
    return ["```diff", *shown, *([f"... {more} more lines"] if more else []), "```"]


def report_differences(res: dict[str, Any]) -> list[str]:
    """Opcode and normalized-HLO diffs of every module that is not identical to its reference:
    jaxscope's against hand's, and the variants compared with hand's."""
    out = ["### Where the modules differ", ""]
    for model in MODELS:
        for kind in KINDS:
            data = res["modules"][model.name][kind]
            j = data["rows"]["jaxscope"]
            if not j["identical"]:
                out += [f"* **{model.name}, {kind}: jaxscope vs hand-written** — opcodes "
                        f"jaxscope − hand: {j['ops_diff']}; "
                        + ("same opcode histogram, so the modules differ only in the order of "
                           "instructions or of operands. " if j["same_ops"] else "")
                        + explain(data["variants"])
                        + f"Normalized HLO, `-` hand, `+` jaxscope ({len(j['text_diff'])} "
                        "lines of unified diff without context):",
                        "", *text_diff_block(j["text_diff"]), ""]
            for v in data["variants"]:
                if v["against"] == "hand" and not v["identical"]:
                    out += [f"* **{model.name}, {kind}: {v['label']} vs hand-written** — "
                            f"opcodes variant − hand: {v['ops_diff']}. Normalized HLO, `-` "
                            "hand, `+` the variant:", "", *text_diff_block(v["text_diff"]), ""]
    if not any(res["modules"][m.name][k]["rows"]["jaxscope"]["identical"] is False
               for m in MODELS for k in KINDS):
        out += ["Every jaxscope module is identical to the hand-written one.", ""]
    return out


def explain(variants: list[dict[str, Any]]) -> str:
    """The variant of the hand-written function that compiles to jaxscope's module, if any."""
    same = [v["label"] for v in variants if v["against"] == "jaxscope" and v["identical"]]
    if not same:
        return ""
    return (f"The variant *{same[0]}* compiles to exactly jaxscope's module, so that change "
            "accounts for the whole difference. ")


def fmt_ratio(s: dict[str, float]) -> str:
    return f"{s['median']:.3f} ({s['q1']:.2f}–{s['q3']:.2f})"


def ms(s: dict[str, float]) -> str:
    return f"{s['median'] * 1e3:.0f}"


def ms_signed(s: dict[str, float]) -> str:
    return f"{s['median'] * 1e3:+.1f}".replace("-", "−")


def time_row(label: list[str], t: dict[str, Any], python: str) -> list[str]:
    return [*label, python,
            f"{ms(t['lower']['jaxscope'])} / {ms(t['lower']['hand'])}",
            ms_signed(t["lower"]["extra"]), fmt_ratio(t["lower"]["ratio"]),
            f"{ms(t['compile']['jaxscope'])} / {ms(t['compile']['hand'])}",
            fmt_ratio(t["compile"]["ratio"]),
            f"{ms(t['total']['jaxscope'])} / {ms(t['total']['hand'])}",
            ms_signed(t["total"]["extra"]), fmt_ratio(t["total"]["ratio"]),
            fmt_ratio(t["total_wall"]["ratio"])]


def time_goal(name: str, t: dict[str, Any], same_ops: bool) -> tuple[str, bool | None, str]:
    """Met if the median paired ratio of the totals is ≤ 1.02. Above it, *within noise* if
    the lower quartile is ≤ 1.02, or if jaxscope's extra lowering time (the part its Python
    can add) is ≤ 2% of hand's total while XLA gets programs that it optimizes into modules
    with the same opcodes (then the XLA compile difference is the machine's noise)."""
    r = t["total"]["ratio"]
    lower_share = t["lower"]["extra"]["median"] / t["total"]["hand"]["median"]
    min_ratio = t["total"]["jaxscope"]["min"] / t["total"]["hand"]["min"]
    noise = r["q1"] <= 1.02 or (lower_share <= 0.02 and same_ops)
    verdict = True if r["median"] <= 1.02 else (None if noise else False)
    return (f"{name}: compile time (lower + compile, process CPU) jaxscope / hand ≤ 1.02",
            verdict, f"paired ratio {fmt_ratio(r)} over {t['n']} rounds, ratio of the "
            f"fastest runs {min_ratio:.3f}; lowering {ms_signed(t['lower']['extra'])} ms "
            f"({signed_pct(lower_share)} of hand's total; ratio "
            f"{fmt_ratio(t['lower']['ratio'])}), XLA compile "
            f"{ms_signed(t['compile']['extra'])} ms ({fmt_ratio(t['compile']['ratio'])}); "
            f"wall {fmt_ratio(t['total_wall']['ratio'])}")


def report_times(res: dict[str, Any], goals: list) -> list[str]:
    times = res["times"]
    py = res["python"]
    same_ops = {(m.name, kind): res["modules"][m.name][kind]["rows"]["jaxscope"]["same_ops"]
                for m in MODELS for kind in KINDS}
    rows = [time_row([model.name, kind], times[(model.name, kind)],
                     f"{py[(model.name, kind)]['own'] * 1e3:.1f} / "
                     f"{py[(model.name, kind)]['total'] * 1e3:.0f}")
            for model in MODELS for kind in KINDS]
    py_own, py_total = (sum(p[f] for p in py.values()) * 1e3 for f in ("own", "total"))
    rows.append(time_row(["**all eight**", "summed per round"], times["all"],
                         f"{py_own:.1f} / {py_total:.0f}"))
    for model in MODELS:
        for kind in KINDS:
            goals.append(time_goal(f"{model.name}, {kind}", times[(model.name, kind)],
                                   same_ops[(model.name, kind)]))
    goals.append(time_goal("all eight functions, summed per round", times["all"],
                           all(same_ops.values())))
    lower_share = times["all"]["lower"]["extra"]["median"] / times["all"]["total"]["hand"][
        "median"]
    stopped = (f"; stopped by the time budget of {res['budget']:.0f} s" if times["rounds"]
               < res["max_rounds"] else "")
    return [
        "## 2. Compile time",
        "",
        f"{times['rounds']} rounds (of at most {res['max_rounds']}{stopped}; "
        f"{times['seconds']:.0f} s). In each round every function is lowered and compiled "
        "once per implementation, jaxscope and hand-written back to back (which goes first "
        "alternates), the order of the eight functions rotating from round to round. Before "
        "each measurement `jax.clear_caches()` empties JAX's in-memory caches (traces, "
        "lowerings, compiled executables, and the jitted helpers inside `jax.numpy`) and "
        "each measurement jits a fresh Python function, so nothing is reused from an earlier "
        "round; the compilations of part 1 served as warm-up (imports, first-use costs). "
        "*lower*: `jax.jit(f).lower(params, inputs, labels)` — tracing (where jaxscope's "
        "Python runs) and lowering to StableHLO; *XLA compile*: `.compile()`; *total*: both. "
        "Times are process-CPU medians in ms (the machine is shared: CPU time does not count "
        "waiting for a core); *extra*: median over rounds of jaxscope − hand in the same round; "
        "*ratio*: median (IQR) over rounds of jaxscope / hand in the same round; *wall*: the "
        "same for wall-clock totals. *jaxscope's own Python*: a cProfile of one lowering of "
        "the jaxscope function (process-CPU clock, GC off, after `jax.clear_caches()`): the "
        "own time of all functions in `jaxscope/`, beside the whole profiled lowering "
        "(cProfile slows Python-heavy code, so read it as an upper bound and a share).",
        "",
        table(["model", "function", "jaxscope's own Python / lowering ms (cProfile)",
               "lower ms jaxscope / hand", "lower extra ms",
               "lower ratio (IQR)", "XLA compile ms jaxscope / hand", "compile ratio (IQR)",
               "total ms jaxscope / hand", "total extra ms", "total ratio (IQR)",
               "wall total ratio (IQR)"], rows),
        "",
        f"jaxscope − hand, summed over the eight functions per round (median over rounds): "
        f"lowering {ms_signed(times['all']['lower']['extra'])} ms "
        f"({signed_pct(lower_share)} of hand's total lower + compile time), XLA compile "
        f"{ms_signed(times['all']['compile']['extra'])} ms; jaxscope's own Python in the "
        f"eight lowerings (cProfile) {py_own:.1f} ms. The spread of the XLA compile ratios "
        "(IQR above) is the noise of the shared machine: XLA compiles jaxscope's larger "
        "jaxprs into the same optimized modules (part 1), and the extra equations are few "
        "and cheap. Goals: the median paired ratio of the totals ≤ 1.02; above it, *within "
        "noise* when its lower quartile is ≤ 1.02, or when jaxscope's extra lowering time "
        "(the only part its Python adds) is ≤ 2% of hand's total and the optimized modules "
        "have the same opcodes.",
        "",
        "jaxscope functions with the most own time in the eight profiled lowerings (summed; "
        "ms): " + ", ".join(f"`{name}` {t * 1e3:.1f}" for name, t in top_functions(py, 6))
        + ".",
        "",
    ]


def top_functions(py: dict[tuple[str, str], dict[str, Any]], n: int) -> list[tuple[str, float]]:
    summed: dict[str, float] = {}
    for case in py.values():
        for name, t in case["functions"].items():
            summed[name] = summed.get(name, 0.0) + t
    return sorted(summed.items(), key=lambda kv: -kv[1])[:n]


def signed_pct(x: float) -> str:
    return f"{x:+.1%}".replace("-", "−")


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    goals: list[tuple[str, bool | None, str]] = []
    out = report_header(args, res, elapsed)
    out += report_modules(res, goals)
    out += report_times(res, goals)
    out += ["## Goals", "", goal_table(goals), ""]
    return "\n".join(out), goals


def main(argv: Sequence[str] | None = None) -> None:
    run_main("compile", __doc__.split("\n")[0], argv, measure, report,
             quick_help="no variants, at most 3 timing rounds within 15 s (<1 min); prints the "
             "report, writes only with --out")


if __name__ == "__main__":
    main()
