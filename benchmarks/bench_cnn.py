"""CIFAR-10 CNN benchmark: the TF tutorial's model in jaxscope vs hand-written JAX vs Flax (linen).

Run from the repository root::

    python benchmarks/bench_cnn.py            # full run (<4 min on 2 cores), writes RESULTS.md
                                              # (only its section `cnn`, see _report.py)
    python benchmarks/bench_cnn.py --quick    # smoke run (<1 min), prints only (see --out)

The TF CIFAR-10 tutorial's ``inference()`` (conv1 5x5x3x64 -> max_pool 3/2 SAME -> lrn ->
conv2 5x5x64x64 -> lrn -> max_pool -> local3 384 -> local4 192 -> softmax_linear 10, weight
decay 0.004 on local3/local4) on 24x24x3 images (the tutorial's crop), four ways:

* jaxscope, the tutorial's code: ``inference`` of ``tests/design/test_cifar10_cnn.py``
  (``js.variable_scope`` + ``js.get_variable`` + ``js.nn``), imported from that file;
* jaxscope, the same model with ``js.layers`` (``conv2d``, ``max_pooling2d``, ``dense``);
* the same model written by hand with ``jax.lax`` / ``jax.numpy`` over a params dict;
* Flax linen: ``nn.Conv`` / ``nn.Dense`` / ``nn.max_pool`` and the same LRN formula.

Measured, for the jitted forward (logits) and a full jitted SGD training step (mean sparse
softmax cross-entropy + weight decay, ``jax.value_and_grad``, ``p - lr * g``): XLA flops and
HLO instruction counts, whether the optimized modules are identical to the hand-written one,
steady-state step time (interleaved call by call) and the outputs, losses and gradients on
the very same weights. A closing section finds where jaxscope's module differs from the
hand-written one (jaxpr and HLO, with hand-written variants that isolate each cause).
README.md beside this file explains the tables.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import importlib.util
import os
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.extend.core
import jax.numpy as jnp
from _measure import (
    block_ratio_range,
    count_diff,
    flops_of,
    fmt_iqr,
    goal_table,
    header_lines,
    hlo_stats,
    interleaved_calls,
    max_abs_diff,
    normalized_hlo,
    run_main,
    signed,
    table,
    timed_compile,
)
from jax import lax

import jaxscope as js

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL_PATH = os.path.join(ROOT, "tests", "design", "test_cifar10_cnn.py")


def _load_tutorial() -> Any:
    """The design test module (its ``inference``, ``model`` and ``loss_fn``), by file path."""
    spec = importlib.util.spec_from_file_location("cifar10_tutorial_design_test", TUTORIAL_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TUTORIAL = _load_tutorial()

F32 = jnp.float32
IMAGE, CHANNELS, CLASSES = 24, 3, 10
BATCH, QUICK_BATCH = 32, 8
LR = 0.1
WEIGHT_DECAY = 0.004
LRN_RADIUS, LRN_BIAS, LRN_ALPHA, LRN_BETA = 4, 1.0, 0.001 / 9.0, 0.75
LAYERS = ("conv1", "conv2", "local3", "local4", "softmax_linear")
DECAYED = ("local3", "local4")
IMPLS = ("hand", "jaxscope", "layers", "flax")
PRIMARY = "jaxscope"
LABELS = {
    "hand": "hand-written `lax`/`jnp`",
    "jaxscope": "jaxscope `get_variable` + `js.nn` (tutorial code)",
    "layers": "jaxscope `js.layers`",
    "flax": "Flax linen `nn.Conv`/`nn.Dense`",
}
KINDS = ("forward", "training step")


# -- shared pieces of the hand-written and Flax models ------------------------------------------
def lrn(x: jax.Array) -> jax.Array:
    """TF's ``local_response_normalization`` (the tutorial's arguments), written out:
    ``x / (bias + alpha · Σ_{c−r..c+r} x²) ** beta``, the window clipped at the channel ends."""
    squares = lax.reduce_window(jnp.square(x), 0.0, lax.add, (1, 1, 1, 2 * LRN_RADIUS + 1),
                                (1, 1, 1, 1), ((0, 0), (0, 0), (0, 0), (LRN_RADIUS, LRN_RADIUS)))
    return x * (LRN_BIAS + LRN_ALPHA * squares) ** -LRN_BETA


def max_pool(x: jax.Array) -> jax.Array:
    """3x3 max pooling, stride 2, SAME (lax's SAME puts the odd padding pixel last, as TF)."""
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")


def xent(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Per-example sparse softmax cross-entropy as one writes it in JAX: ``-log_softmax[label]``."""
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(log_probs, labels[:, None], axis=-1)[:, 0]


def xent_tf1(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """The formula of ``js.nn.sparse_softmax_cross_entropy_with_logits`` (TF1's function),
    written out: ``-Σ one_hot(label) · log_softmax``, NaN for a label outside [0, classes)."""
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.sum(jax.nn.one_hot(labels, CLASSES, dtype=log_probs.dtype) * log_probs, -1)
    return jnp.where((labels >= 0) & (labels < CLASSES), -picked, jnp.nan)


def l2(w: jax.Array) -> jax.Array:
    """``tf.nn.l2_loss``: ``sum(w²) / 2``."""
    return jnp.sum(jnp.square(w)) / 2


# -- the four models ----------------------------------------------------------------------------
def conv(x: jax.Array, w: jax.Array) -> jax.Array:
    return lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


def hand_inference(p: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    """The tutorial's ``inference`` over a flat params dict with the tutorial's names."""
    h = jax.nn.relu(conv(x, p["conv1/weights"]) + p["conv1/biases"])
    h = lrn(max_pool(h))
    h = jax.nn.relu(conv(h, p["conv2/weights"]) + p["conv2/biases"])
    h = max_pool(lrn(h))
    h = h.reshape(x.shape[0], -1)
    h = jax.nn.relu(h @ p["local3/weights"] + p["local3/biases"])
    h = jax.nn.relu(h @ p["local4/weights"] + p["local4/biases"])
    return h @ p["softmax_linear/weights"] + p["softmax_linear/biases"]


def hand_decay(p: dict[str, jax.Array]) -> jax.Array:
    return WEIGHT_DECAY * l2(p["local3/weights"]) + WEIGHT_DECAY * l2(p["local4/weights"])


def hand_loss(p: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean(xent(hand_inference(p, x), y)) + hand_decay(p)


def hand_loss_tf1_xent(p: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    """Diagnostic variant: `hand_loss` with jaxscope's (TF1's) cross-entropy formula."""
    return jnp.mean(xent_tf1(hand_inference(p, x), y)) + hand_decay(p)


def hand_loss_tf1(p: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    """Diagnostic variant: TF1's cross-entropy formula, and the weight decay computed *before*
    the forward pass, where ``get_variable`` runs the regularizer (summed from 0.0 like
    ``aux.regularization_loss``)."""
    decay = jnp.zeros((), F32) + WEIGHT_DECAY * l2(p["local3/weights"]) \
        + WEIGHT_DECAY * l2(p["local4/weights"])
    return jnp.mean(xent_tf1(hand_inference(p, x), y)) + decay


JS_MODEL = TUTORIAL.model  # js.transform(inference) of the design test


def js_loss(params: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    """The design test's ``loss_fn``: mean sparse xent (``js.nn``) + ``aux.regularization_loss``."""
    return TUTORIAL.loss_fn(params, {}, x, y)[0]


def _decay(w: jax.Array) -> jax.Array:
    return WEIGHT_DECAY * js.nn.l2_loss(w)


def layers_inference(images: jax.Array) -> jax.Array:
    """The tutorial's model with ``js.layers`` (variables ``<layer>/kernel``, ``<layer>/bias``)."""
    tn = js.truncated_normal_initializer
    h = js.layers.conv2d(images, 64, 5, padding="same", activation=js.nn.relu,
                         kernel_initializer=tn(stddev=5e-2), name="conv1")
    h = js.layers.max_pooling2d(h, 3, 2, padding="same", name="pool1")
    h = js.nn.lrn(h, LRN_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA, name="norm1")
    h = js.layers.conv2d(h, 64, 5, padding="same", activation=js.nn.relu,
                         kernel_initializer=tn(stddev=5e-2),
                         bias_initializer=js.constant_initializer(0.1), name="conv2")
    h = js.nn.lrn(h, LRN_RADIUS, bias=LRN_BIAS, alpha=LRN_ALPHA, beta=LRN_BETA, name="norm2")
    h = js.layers.max_pooling2d(h, 3, 2, padding="same", name="pool2")
    h = jnp.reshape(h, [images.shape[0], -1])
    for name, units in (("local3", 384), ("local4", 192)):
        h = js.layers.dense(h, units, activation=js.nn.relu, kernel_initializer=tn(stddev=0.04),
                            bias_initializer=js.constant_initializer(0.1),
                            kernel_regularizer=_decay, name=name)
    return js.layers.dense(h, CLASSES, kernel_initializer=tn(stddev=1 / 192.0),
                           name="softmax_linear")


LAYERS_MODEL = js.transform(layers_inference)


def layers_loss(params: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    logits, aux = LAYERS_MODEL.apply({"params": params, "state": {}}, x)
    return jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)) \
        + aux.regularization_loss


class FlaxCNN(nn.Module):
    """The tutorial's model in Flax linen; pooling and LRN as in the hand-written model."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = nn.relu(nn.Conv(64, (5, 5), padding="SAME", name="conv1")(x))
        h = lrn(nn.max_pool(h, (3, 3), (2, 2), "SAME"))
        h = nn.relu(nn.Conv(64, (5, 5), padding="SAME", name="conv2")(h))
        h = nn.max_pool(lrn(h), (3, 3), (2, 2), "SAME")
        h = h.reshape(x.shape[0], -1)
        h = nn.relu(nn.Dense(384, name="local3")(h))
        h = nn.relu(nn.Dense(192, name="local4")(h))
        return nn.Dense(CLASSES, name="softmax_linear")(h)


FLAX_MODEL = FlaxCNN()


def flax_loss(v: dict[str, Any], x: jax.Array, y: jax.Array) -> jax.Array:
    cross_entropy = jnp.mean(xent(FLAX_MODEL.apply(v, x), y))
    p = v["params"]
    return cross_entropy + (WEIGHT_DECAY * l2(p["local3"]["kernel"])
                            + WEIGHT_DECAY * l2(p["local4"]["kernel"]))


FORWARD: dict[str, Callable[[Any, jax.Array], jax.Array]] = {
    "hand": hand_inference,
    "jaxscope": lambda p, x: JS_MODEL.apply({"params": p, "state": {}}, x)[0],
    "layers": lambda p, x: LAYERS_MODEL.apply({"params": p, "state": {}}, x)[0],
    "flax": lambda v, x: FLAX_MODEL.apply(v, x),
}
LOSS: dict[str, Callable[[Any, jax.Array, jax.Array], jax.Array]] = {
    "hand": hand_loss, "jaxscope": js_loss, "layers": layers_loss, "flax": flax_loss,
    "hand_tf1_xent": hand_loss_tf1_xent, "hand_tf1": hand_loss_tf1,
}
# Diagnostic hand-written variants (train step compiled, not timed) and their weights' layout.
VARIANTS = ("hand_tf1_xent", "hand_tf1")
VARIANT_LABELS = {
    "hand": "hand-written (the baseline): `-take_along_axis(log_softmax)`, decay after the "
            "forward",
    "hand_tf1_xent": "variant 1: the baseline with jaxscope's (TF1's) cross-entropy formula, "
                     "`-Σ one_hot · log_softmax`, NaN for labels outside [0, 10)",
    "hand_tf1": "variant 2: variant 1 with the weight decay computed before the forward pass "
                "(where `get_variable` runs the regularizer), summed from 0.0",
}


def sgd_step(loss: Callable[[Any, jax.Array, jax.Array], jax.Array]
             ) -> Callable[[Any, jax.Array, jax.Array], tuple[Any, jax.Array]]:
    def step(params: Any, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array]:
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - LR * g, params, grads), value
    return step


def make_fn(impl: str, kind: str) -> Callable[..., Any]:
    """The function measured (not jitted): forward ``(params, x)``, step ``(params, x, y)``."""
    if kind == "forward":
        fwd = FORWARD[impl]
        return lambda p, x, y: fwd(p, x)
    return sgd_step(LOSS[impl])


# -- weights in each library's layout ----------------------------------------------------------
def layout_of(impl: str) -> str:
    return "hand" if impl.startswith("hand") else impl


def to_impl(impl: str, tf: dict[str, jax.Array]) -> Any:
    """The tutorial-named flat dict ``tf`` (``conv1/weights``...) in ``impl``'s layout."""
    impl = layout_of(impl)
    if impl in ("hand", "jaxscope"):
        return dict(tf)
    renamed = {k.replace("/weights", "/kernel").replace("/biases", "/bias"): v
               for k, v in tf.items()}
    if impl == "layers":
        return renamed
    nested: dict[str, dict[str, jax.Array]] = {}
    for key, value in renamed.items():
        layer, name = key.split("/")
        nested.setdefault(layer, {})[name] = value
    return {"params": nested}


def to_tf(impl: str, tree: Any) -> dict[str, jax.Array]:
    """Inverse of `to_impl` (used for gradients and updated parameters)."""
    impl = layout_of(impl)
    if impl in ("hand", "jaxscope"):
        return dict(tree)
    flat = tree if impl == "layers" else {f"{layer}/{name}": v for layer, d in
                                          tree["params"].items() for name, v in d.items()}
    return {k.replace("/kernel", "/weights").replace("/bias", "/biases"): v
            for k, v in flat.items()}


def make_data(batch: int) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
    """The tutorial's initial weights (jaxscope's ``init``: truncated normal, constant biases)
    with 0.01·N(0, 1) added to every bias so that no bias is zero; standardized images
    (N(0, 1), as after ``per_image_standardization``); random labels."""
    x = jax.random.normal(jax.random.key(0), (batch, IMAGE, IMAGE, CHANNELS), F32)
    y = jax.random.randint(jax.random.key(1), (batch,), 0, CLASSES, jnp.int32)
    variables = JS_MODEL.init(jax.random.key(2), x)
    assert not variables["state"], "the tutorial model has no state"
    params = dict(variables["params"])
    for i, name in enumerate(k for k in params if k.endswith("/biases")):
        noise = 0.01 * jax.random.normal(jax.random.key(100 + i), params[name].shape, F32)
        params[name] = params[name] + noise
    layers_shapes = {k: v.shape for k, v in LAYERS_MODEL.init(jax.random.key(2), x)["params"]
                     .items()}
    assert layers_shapes == {k: v.shape for k, v in to_impl("layers", params).items()}
    flax_shapes = jax.tree.map(lambda a: a.shape, FLAX_MODEL.init(jax.random.key(2), x))
    assert flax_shapes == jax.tree.map(lambda a: a.shape, to_impl("flax", params))
    return params, x, y


# -- measurement helpers -----------------------------------------------------------------------
def count_primitives(closed: Any) -> Counter[str]:
    """Primitive counts of a jaxpr, nested jaxprs (``jit``, ``custom_jvp``...) included."""
    counts: Counter[str] = Counter()

    def walk(jaxpr: Any) -> None:
        for eqn in jaxpr.eqns:
            counts[eqn.primitive.name] += 1
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub)

    walk(closed.jaxpr)
    return counts


def compile_case(impl: str, kind: str, weights: Any, x: jax.Array, y: jax.Array
                 ) -> dict[str, Any]:
    """Lower and compile ``impl``'s jitted function once: times, flops, HLO, jaxpr."""
    compiled, times = timed_compile(jax.jit(make_fn(impl, kind)), weights, x, y)
    text = compiled.as_text()
    return {"fn": compiled, **times,
            "flops": flops_of(compiled), "hlo": hlo_stats(text), "norm": normalized_hlo(text),
            "jaxpr": count_primitives(jax.make_jaxpr(make_fn(impl, kind))(weights, x, y))}


# -- 1. compiled modules and steady state --------------------------------------------------------
def bench(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    batch = QUICK_BATCH if quick else BATCH
    params, x, y = make_data(batch)
    weights = {impl: to_impl(impl, params) for impl in (*IMPLS, *VARIANTS)}
    out: dict[str, Any] = {"batch": batch}
    for kind in KINDS:
        impls = IMPLS if kind == "forward" else (*IMPLS, *VARIANTS)
        compile_case("hand", kind, weights["hand"], x, y)  # warm-up: JAX's one-time costs
        cases = {impl: compile_case(impl, kind, weights[impl], x, y) for impl in impls}
        log(f"  {kind}: compiled " + ", ".join(
            f"{impl} {(c['lower'] + c['compile']) * 1e3:.0f} ms" for impl, c in cases.items()))
        hand_norm = cases["hand"]["norm"]
        results = {impl: cases[impl]["fn"](weights[impl], x, y) for impl in IMPLS}
        rows: dict[str, dict[str, Any]] = {}
        for impl, c in cases.items():
            row = {k: c[k] for k in ("lower", "compile", "flops", "hlo", "jaxpr")}
            row["identical"] = c["norm"] == hand_norm
            row["identical_js"] = c["norm"] == cases[PRIMARY]["norm"]
            row["lines_vs_js"] = sum(  # lines of normalized HLO text not in jaxscope's module
                (Counter(c["norm"]) - Counter(cases[PRIMARY]["norm"])).values())
            rows[impl] = row
        grads = {} if kind == "forward" else {
            impl: to_tf(impl, jax.jit(jax.grad(LOSS[impl]))(weights[impl], x, y))
            for impl in IMPLS}
        for impl in IMPLS:
            row = rows[impl]
            if kind == "forward":
                ref = results["hand"]
                row["out_diff"] = max_abs_diff(results[impl], ref)
                row["out_rel"] = row["out_diff"] / float(jnp.max(jnp.abs(ref)))
                continue
            new, value = results[impl]
            new_hand, value_hand = results["hand"]
            row["loss"] = float(value)
            row["loss_diff"] = abs(float(value) - float(value_hand))
            g, g_hand = grads[impl], grads["hand"]
            row["grad_diff"] = max(max_abs_diff(g[k], g_hand[k]) for k in g_hand)
            row["grad_rel"] = row["grad_diff"] / max(float(jnp.max(jnp.abs(v)))
                                                     for v in g_hand.values())
            new_tf, new_hand_tf = to_tf(impl, new), to_tf("hand", new_hand)
            row["param_diff"] = max(max_abs_diff(new_tf[k], new_hand_tf[k]) for k in new_hand_tf)
        n_calls = (20 if quick else 400) if kind == "forward" else (10 if quick else 250)
        thunks = {impl: (lambda f=cases[impl]["fn"], w=weights[impl]: f(w, x, y))
                  for impl in IMPLS}
        timing = interleaved_calls(thunks, n_calls, warmup=3 if quick else 10, rotate=True)
        for impl in IMPLS:
            rows[impl].update(timing[impl])
        out[kind] = {"rows": rows, "n_calls": n_calls}
        log(f"  {kind}: " + ", ".join(
            f"{impl} {timing[impl]['wall']['median'] * 1e3:.2f} ms" for impl in IMPLS))
    return out


# -- report -------------------------------------------------------------------------------------
def report_header(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> list[str]:
    return [
        *header_lines(
            "jaxscope CNN benchmark (TF CIFAR-10 tutorial model)", "bench_cnn.py", args.quick,
            res["load"], elapsed, f"flax {flax.__version__} (**flax.linen**)",
            "; no persistent compilation cache (`jax_compilation_cache_dir` = "
            f"{jax.config.jax_compilation_cache_dir}); clocks `time.process_time` (process "
            "CPU) and `time.perf_counter` (wall)"),
        "The model: the TF CIFAR-10 tutorial's `inference()` — conv1 5×5×3×64 + bias, ReLU → "
        "max_pool 3×3 stride 2 SAME → LRN (depth_radius 4, bias 1, alpha 0.001/9, beta 0.75) "
        "→ conv2 5×5×64×64 + bias, ReLU → LRN → max_pool → local3 2304→384 ReLU → local4 "
        "384→192 ReLU → softmax_linear 192→10 — on "
        f"{IMAGE}×{IMAGE}×{CHANNELS} images (the tutorial's crop), batch {res['batch']}, "
        "float32, NHWC. Loss: mean sparse softmax cross-entropy + weight decay "
        f"{WEIGHT_DECAY}·l2_loss(W) on local3 and local4. Four implementations, all run on "
        "the very same weights:",
        "",
        "* **jaxscope (primary)**: the tutorial's code as written in "
        "`tests/design/test_cifar10_cnn.py` — `inference` with `js.variable_scope` + "
        "`js.get_variable` + `js.nn.conv2d` / `bias_add` / `relu` / `max_pool` / `lrn`, the "
        "weight decay a `regularizer=` on `get_variable` — imported from that file, with its "
        "`loss_fn` (`js.nn.sparse_softmax_cross_entropy_with_logits` + "
        "`aux.regularization_loss`); jitted `model.apply`;",
        "* **jaxscope `js.layers`**: the same model with `js.layers.conv2d` / "
        "`max_pooling2d` / `dense` (`kernel_regularizer=` for the decay) and `js.nn.lrn`, "
        "same loss ops;",
        "* **hand-written** (the baseline): `lax.conv_general_dilated`, `lax.reduce_window` "
        "for max pooling and for LRN's windowed sum of squares (the same formula as "
        "`js.nn.lrn`), `@` and `+ b` over a flat params dict with the tutorial's names; "
        "cross-entropy `-take_along_axis(log_softmax(logits), labels)` — how one writes it in "
        "JAX — and the decay added after the forward pass;",
        "* **Flax linen**: `nn.Conv(64, (5, 5), padding='SAME')`, `nn.Dense`, "
        "`nn.max_pool(..., 'SAME')`, the hand-written LRN function and loss.",
        "",
        "Weights: jaxscope `init` of the tutorial model (truncated normal, constant biases), "
        "with 0.01·N(0, 1) added to every bias so that no bias is zero, mapped to each "
        "library's names and nesting; images N(0, 1) (as after the tutorial's "
        "`per_image_standardization`), random labels. The training step is "
        f"`jit(value_and_grad(loss))` then plain SGD `p − {LR}·g` over the whole pytree, "
        "returning `(new params, loss)`, without buffer donation (the same for all).",
        "",
    ]


def report_steady(res: dict[str, Any], goals: list) -> list[str]:
    out = [
        "## 1. Compiled modules and steady-state step time",
        "",
        "*forward*: `jit(lambda params, x: logits)`; *training step*: the jitted SGD step "
        "above. *flops*: `compiled.cost_analysis()['flops']`; *HLO instr.*: instructions of "
        "the optimized module (`compiled.as_text()`, every line inside a computation body, "
        "`parameter` and `ROOT` included, counted as in `bench_core.py`); *entry*: the ENTRY "
        "computation alone; *same ops*: same multiset of opcodes as hand's; *identical*: the "
        "optimized module's text equals hand's once metadata and parameter names are dropped "
        "and instruction names renumbered in order of appearance — then both run exactly the "
        "same instructions on the same shapes. *lower + compile*: process-CPU ms of one "
        "`jit(f).lower(...)` and one `.compile()` (a single sample, after a warm-up "
        "compilation of the hand-written function; indicative). *Step time*: "
        "wall time per call + `block_until_ready`, the four functions interleaved call by "
        "call after warm-up calls (order reversed every other round, its start rotated every "
        "two rounds, so that each function takes every position); median (IQR); CPU = process "
        "CPU time per call (XLA's CPU backend runs convolutions on several threads, so it can "
        "exceed wall). *time / hand*: ratio of wall medians, in brackets its range over 10 "
        "consecutive blocks of calls (the drift and noise of the shared machine). *paired "
        "ratio*: median (IQR) over rounds of each call's wall time divided by hand's call in "
        "the same round, seconds apart (insensitive to slow drift). *Equality*: "
        "forward — max abs difference of the logits from hand's (relative: divided by hand's "
        "largest |logit|); training step — the loss, the gradients (`jit(grad(loss))`, mapped "
        "to the tutorial's names; relative: divided by hand's largest |gradient|) and the "
        "updated parameters returned by the timed step.",
        "",
    ]
    for kind in KINDS:
        data = res["steady"][kind]
        rows_d = data["rows"]
        hand = rows_d["hand"]
        rows = []
        for impl in IMPLS:
            r = rows_d[impl]
            lo, hi = block_ratio_range(r["wall"], hand["wall"])
            if kind == "forward":
                eq = f"{r['out_diff']:.1e} ({r['out_rel']:.0e})"
            else:
                eq = (f"{r['loss_diff']:.1e} / {r['grad_diff']:.1e} ({r['grad_rel']:.0e}) / "
                      f"{r['param_diff']:.1e}")
            rows.append([
                LABELS[impl], f"{r['flops']:.0f}", signed(r["flops"] - hand["flops"]),
                str(r["hlo"]["total"]), str(r["hlo"]["entry"]), str(r["hlo"]["computations"]),
                "yes" if r["hlo"]["opcodes"] == hand["hlo"]["opcodes"] else "no",
                "yes" if r["identical"] else "no",
                f"{r['lower'] * 1e3:.0f} + {r['compile'] * 1e3:.0f}",
                fmt_iqr(r["wall"]), f"{r['cpu']['median'] * 1e3:.2f}",
                f"{r['wall']['median'] / hand['wall']['median']:.3f} ({lo:.2f}–{hi:.2f})",
                "—" if impl == "hand" else (f"{r['paired']['median']:.3f} "
                                            f"({r['paired']['q1']:.2f}–{r['paired']['q3']:.2f})"),
                eq,
            ])
        eq_head = ("max abs diff of logits (relative)" if kind == "forward" else
                   "max abs diff: loss / grads (relative) / updated params")
        out += [f"### {kind} ({data['n_calls']} timed calls each)", "",
                table(["implementation", "flops", "flops − hand", "HLO instr.", "entry",
                       "computations", "same ops", "identical", "lower + compile ms",
                       "wall ms / call (IQR)", "CPU ms / call", "time / hand (block range)",
                       "paired ratio (IQR)", eq_head], rows), ""]
        goals.extend(kind_goals(kind, rows_d))
    return out


def kind_goals(kind: str, rows_d: dict[str, dict[str, Any]]) -> list[tuple[str, Any, str]]:
    hand, js_row, lay = rows_d["hand"], rows_d[PRIMARY], rows_d["layers"]
    goals: list[tuple[str, Any, str]] = []
    if kind == "forward":
        same = js_row["out_diff"] <= 1e-6
        detail = (f"max abs diff of logits {js_row['out_diff']:.1e} (js.layers "
                  f"{lay['out_diff']:.1e})")
        what = "logits"
    else:
        worst = max(js_row["loss_diff"], js_row["grad_diff"], js_row["param_diff"])
        same = worst <= 1e-6
        detail = (f"loss {js_row['loss_diff']:.1e}, gradients {js_row['grad_diff']:.1e}, updated "
                  f"params {js_row['param_diff']:.1e} (js.layers: loss {lay['loss_diff']:.1e}, "
                  f"gradients {lay['grad_diff']:.1e})")
        what = "loss and gradients"
    goals.append((f"{kind}: jaxscope gives the same {what} as hand-written "
                  "(max abs diff ≤ 1e-6)", same, detail))
    detail = (f"flops {js_row['flops']:.0f} vs {hand['flops']:.0f} "
              f"({signed(js_row['flops'] - hand['flops'])}; js.layers "
              f"{signed(lay['flops'] - hand['flops'])}); HLO instructions {js_row['hlo']['total']} "
              f"vs {hand['hlo']['total']}; optimized module identical to hand's: "
              f"{yes_no(js_row['identical'])} (js.layers: {yes_no(lay['identical'])}, Flax: "
              f"{yes_no(rows_d['flax']['identical'])})")
    if "hand_tf1" in rows_d and not js_row["identical"] and rows_d["hand_tf1"]["identical_js"]:
        detail += ("; hand-written with the formulas of jaxscope's code, the module is "
                   "identical to jaxscope's: the difference is `js.nn`'s cross-entropy formula"
                   + (" (all of the flops)" if rows_d["hand_tf1_xent"]["flops"] == js_row["flops"]
                      else "") + " and the operand order of two additions (see the last "
                   "section)")
    goals.append((f"{kind}: same flops as hand-written", js_row["flops"] == hand["flops"],
                  detail))
    ratio = js_row["wall"]["median"] / hand["wall"]["median"]
    lo, hi = block_ratio_range(js_row["wall"], hand["wall"])
    lay_ratio = lay["wall"]["median"] / hand["wall"]["median"]
    flax_ratio = rows_d["flax"]["wall"]["median"] / hand["wall"]["median"]
    # Over 1.02 by the medians: within noise if the modules are identical (then a gap cannot
    # come from jaxscope) or if the per-block ratios go down to 1.0; a miss otherwise.
    verdict = True if ratio <= 1.02 else (None if js_row["identical"] or lo <= 1.0 else False)
    detail = (f"{ratio:.3f} (block range {lo:.2f}–{hi:.2f}; paired ratio "
              f"{js_row['paired']['median']:.3f}; CPU "
              f"{js_row['cpu']['median'] / hand['cpu']['median']:.3f}; js.layers "
              f"{lay_ratio:.3f}; Flax {flax_ratio:.3f})")
    if js_row["identical"]:
        detail += "; the compiled modules are identical, so any gap is noise"
    goals.append((f"{kind}: step time jaxscope / hand-written ≤ 1.02", verdict, detail))
    return goals


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


# Causes of the jaxpr differences between jaxscope and a hand-written function computing the
# same formulas, as read in jaxscope/nn/linear.py and jaxscope/variables.py of the code
# measured: (primitives, cause), per kind. A differing primitive not covered is reported as
# unexplained.
MACHINERY_CAUSES = {
    "forward": [
        ({"reshape", "broadcast_in_dim"},
         "`js.nn.bias_add` reshapes the bias to `[1, 1, 1, C]` before adding (+2 reshape), "
         "where hand's `h + b` broadcasts it (broadcast_in_dim); XLA makes both the same "
         "broadcast"),
        ({"square", "reduce_sum", "div", "mul"},
         "`model.apply` runs the weight-decay regularizers (`0.004 · l2_loss(W)` for local3 "
         "and local4: square, reduce_sum, div, mul) when `get_variable` is called, also in a "
         "function that returns only the logits; XLA drops them as dead code"),
    ],
    "training step": [
        ({"reshape", "broadcast_in_dim", "reduce_sum"},
         "`js.nn.bias_add`'s reshape of the conv biases to `[1, 1, 1, C]` (forward) and its "
         "transpose, another reshape (backward), where hand's `h + b` broadcasts "
         "(broadcast_in_dim) and transposes to a reduce_sum over the unit dimensions; XLA "
         "turns both into the same broadcast and reduction"),
    ],
}


def explain(kind: str, a: Counter[str], b: Counter[str]) -> str:
    diff = {k for k in a | b if a[k] != b[k]}
    causes = [text for prims, text in MACHINERY_CAUSES[kind] if diff & prims]
    covered = set().union(*(prims for prims, _ in MACHINERY_CAUSES[kind]))
    unexplained = sorted(diff - covered)
    text = "; ".join(causes)
    if unexplained:
        text += ("; " if text else "") + "unexplained: " + ", ".join(unexplained)
    return text


def report_findings(res: dict[str, Any], goals: list) -> list[str]:
    steady = res["steady"]
    missed = [g for g, ok, _ in goals if ok is not True]
    fwd, step = steady["forward"]["rows"], steady["training step"]["rows"]
    out = [
        "## Where jaxscope differs from the hand-written model",
        "",
        ("Goals missed or within noise: " + "; ".join(missed) + "." if missed else
         "All goals met; the analysis is kept for reference."),
        "",
    ]
    # jaxprs.
    j = {impl: r["jaxpr"] for impl, r in fwd.items()}
    line = (f"* **jaxpr, forward** (`jax.make_jaxpr`, nested jaxprs counted): hand "
            f"{sum(j['hand'].values())} equations, jaxscope {sum(j[PRIMARY].values())}, "
            f"js.layers {sum(j['layers'].values())}, Flax {sum(j['flax'].values())}; jaxscope − "
            f"hand: {count_diff(j[PRIMARY], j['hand'])}")
    why = explain("forward", j[PRIMARY], j["hand"])
    line += f" — {why}." if why else "."
    line += (" After XLA's optimizations the forward modules are **identical**." if
             fwd[PRIMARY]["identical"] else " After XLA's optimizations the forward modules "
             "**differ** (opcodes jaxscope − hand: " + count_diff(
                 fwd[PRIMARY]["hlo"]["opcodes"], fwd["hand"]["hlo"]["opcodes"]) + ").")
    out.append(line)
    j = {impl: r["jaxpr"] for impl, r in step.items()}
    line = (f"* **jaxpr, training step**: hand {sum(j['hand'].values())} equations, jaxscope "
            f"{sum(j[PRIMARY].values())}, js.layers {sum(j['layers'].values())}, Flax "
            f"{sum(j['flax'].values())}; jaxscope − hand: {count_diff(j[PRIMARY], j['hand'])}. "
            "It splits into three parts, measured with the hand-written variants below: "
            f"(a) the cross-entropy formula, {count_diff(j['hand_tf1_xent'], j['hand'])} — "
            "hand's `take_along_axis` is a gather in the forward pass and a scatter-add in the "
            "backward, `js.nn.sparse_softmax_cross_entropy_with_logits` (TF1's function) "
            "builds a one-hot (iota, eq, convert), multiplies and sums, and puts NaN where a "
            "label is outside [0, 10) (ge, lt, and, select_n); (b) the decay computed before "
            f"the forward pass and summed from 0.0 (`aux.regularization_loss`): "
            f"{count_diff(j['hand_tf1'], j['hand_tf1_xent'])}; (c) the rest, jaxscope − "
            f"hand with the same formulas and order: {count_diff(j[PRIMARY], j['hand_tf1'])}")
    why = explain("training step", j[PRIMARY], j["hand_tf1"])
    line += f" — {why}." if why else "."
    if step[PRIMARY]["identical"]:
        line += " After XLA's optimizations the modules are **identical**."
    else:
        line += (" After XLA's optimizations jaxscope's module **differs** from hand's "
                 "(opcodes jaxscope − hand: " + count_diff(step[PRIMARY]["hlo"]["opcodes"],
                                                           step["hand"]["hlo"]["opcodes"])
                 + ")" + (", but not from the variant with the same formulas (c): "
                          "nothing of it comes from jaxscope's variable handling."
                          if step["hand_tf1"]["identical_js"] else
                          ", and also from the variant with the same formulas.")
                 )
    out.append(line)
    # The chain of hand-written variants.
    hand = step["hand"]
    chain = []
    for impl in ("hand", *VARIANTS, PRIMARY, "layers"):
        r = step[impl]
        label = VARIANT_LABELS[impl] if impl in VARIANT_LABELS else LABELS[impl]
        chain.append([label, f"{r['flops']:.0f}", signed(r["flops"] - hand["flops"]),
                      str(r["hlo"]["total"]),
                      "—" if impl == PRIMARY else yes_no(r["identical_js"]),
                      "—" if impl == PRIMARY else yes_no(
                          r["hlo"]["opcodes"] == step[PRIMARY]["hlo"]["opcodes"])])
    gap = step[PRIMARY]["flops"] - hand["flops"]
    batch = res["batch"]
    out += [
        "* **training step, hand-written variants** (compiled only, not timed): the baseline "
        "changed one step at a time towards what jaxscope's code computes; *identical to "
        "jaxscope's module* after the same normalization as above.",
        "",
        table(["training step", "flops", "flops − hand", "HLO instr.",
               "identical to jaxscope's module", "same ops as jaxscope's"], chain),
        "",
    ]
    if step["hand_tf1"]["identical_js"]:
        xent_gap = step["hand_tf1_xent"]["flops"] - hand["flops"]
        out.append(
            f"* **the flops gap** ({signed(gap)}, {signed(gap / batch)} per example, "
            f"{gap / hand['flops']:.1e} of the step) comes "
            + ("entirely" if xent_gap == gap else f"to {signed(xent_gap)}")
            + " from the cross-entropy formula: the first variant changes nothing else. It is "
            "the cost of TF1's semantics in `js.nn` (a one-hot product, and NaN for any label "
            "outside [0, 10) — `take_along_axis` gathers, gives NaN for a label ≥ 10 but wraps "
            "a negative one around to the last class), "
            "not of variable scoping: jaxscope's forward module is identical to hand's, and "
            "once the hand-written step uses the same formulas and order its module is "
            "identical to jaxscope's. Against Flax or hand-written code with the *same* loss "
            "op, jaxscope's training step costs nothing extra.")
    else:
        out.append(f"* **the flops gap** ({signed(gap)}): the hand-written variant with "
                   "jaxscope's formulas is *not* identical to jaxscope's module, so part of "
                   "the difference is jaxscope's own; compare the opcodes above.")
    out.append(
        "* **decay order**: `get_variable` runs the regularizer when the variable is fetched, "
        "so jaxscope computes `0.004·l2_loss(W)` before `W` is used in the forward pass; in "
        "the backward pass the two cotangents of `W` (decay, matmul) are then summed in the "
        "other order — `add(decay, matmul)` instead of `add(matmul, decay)`; this is what "
        f"makes variant 1's module differ from jaxscope's ({step['hand_tf1_xent']['lines_vs_js']} "
        "lines of normalized HLO text not in jaxscope's, same opcodes) while variant 2's is "
        "identical. The results are bitwise the same (floating-point addition is "
        "commutative); only the instruction text differs.")
    ft = step["flax"]["wall"]["median"] / hand["wall"]["median"]
    ff = fwd["flax"]["wall"]["median"] / fwd["hand"]["wall"]["median"]
    if step["flax"]["identical"] and fwd["flax"]["identical"]:
        out.append(
            f"* **noise floor of the timing**: Flax's optimized modules are identical to hand's "
            f"(forward and training step), and so are jaxscope's forward modules: their time / "
            f"hand ratios (Flax {ff:.3f} forward, {ft:.3f} training step; jaxscope forward "
            f"{fwd[PRIMARY]['wall']['median'] / fwd['hand']['wall']['median']:.3f}) measure "
            "only the noise of the method on this machine.")
    out.append("")
    return out


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    goals: list[tuple[str, bool | None, str]] = []
    out = report_header(args, res, elapsed)
    out += report_steady(res, goals)
    findings = report_findings(res, goals)
    out += ["## Goals", "", goal_table(goals), "", *findings]
    return "\n".join(out), goals


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    res: dict[str, Any] = {"quick": args.quick}
    log("compiled modules and steady-state step time")
    res["steady"] = bench(args.quick, log)
    res["batch"] = res["steady"]["batch"]
    return res


def main(argv: Sequence[str] | None = None) -> None:
    run_main("cnn", __doc__.split("\n")[0], argv, measure, report,
             quick_help="batch 8, few repeats (<1 min); prints the report, writes only "
             "with --out")


if __name__ == "__main__":
    main()
