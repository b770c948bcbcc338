"""``jax.jit(model.apply)`` against the same model written by hand, in Flax and in Haiku.

Run from the repository root::

    python benchmarks/bench_apply.py            # full run (~3 min on 2 cores), writes
                                                # section `apply` of RESULTS.md
    python benchmarks/bench_apply.py --quick    # short pass, prints only

Three cases, each jitted and called with the same arrays:

* an 8-layer 2048×2048 MLP (128 MB of float32 variables) at batch 1;
* the TF CIFAR-10 tutorial's CNN (``bench_cnn.py``'s models) at batch 1 and 128;
* a training step of an MLP with batch normalization after each hidden layer and a frozen
  (``trainable=False``) input projection: gradients, loss and the new moving statistics.

For each: the bytes XLA writes per call (``memory_analysis().output_size_in_bytes`` of the
compiled function) and the time per call, interleaved call by call, as the median of the
per-round ratios to the first row: the hand-written function with the same outputs (the
tutorial CNN's ``apply`` also returns its two weight-decay terms, as TF1 computes them in
the forward pass). "returning the variables" is a jitted
function that also returns its variables, as ``apply`` did before it returned only
``aux.updates``. ``docs/performance.md`` says what the numbers mean.
"""

# The report is Markdown meant for people: it uses × on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
from _measure import (
    Goal,
    goal_table,
    header_lines,
    interleaved_calls,
    max_abs_diff,
    run_main,
    table,
)
from bench_cnn import FLAX_MODEL, JS_MODEL, hand_inference, make_data, to_impl

import jaxscope as js

F32 = jnp.float32
MLP_LAYERS, MLP_WIDTH = 8, 2048
BN_WIDTH, BN_BATCH, BN_LAYERS, CLASSES = 512, 256, 3, 10
MOMENTUM, EPSILON = 0.99, 1e-3
TIME_GOAL = 1.02


# -- the 128 MB MLP ------------------------------------------------------------------------------
def js_mlp(x: jax.Array) -> jax.Array:
    for i in range(MLP_LAYERS):
        with js.variable_scope(f"layer{i}"):
            w = js.get_variable("w", [x.shape[-1], MLP_WIDTH])
            b = js.get_variable("b", [MLP_WIDTH], initializer=js.zeros_initializer())
            x = jnp.tanh(x @ w + b)
    return x


def hand_mlp(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    for i in range(MLP_LAYERS):
        x = jnp.tanh(x @ params[f"layer{i}/w"] + params[f"layer{i}/b"])
    return x


class FlaxMLP(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for i in range(MLP_LAYERS):
            x = jnp.tanh(nn.Dense(MLP_WIDTH, name=f"layer{i}")(x))
        return x


def hk_mlp(x: jax.Array) -> jax.Array:
    for i in range(MLP_LAYERS):
        x = jnp.tanh(hk.Linear(MLP_WIDTH, name=f"layer{i}")(x))
    return x


def mlp_case() -> dict[str, tuple[Callable, tuple]]:
    """``{row: (jitted function, arguments)}``; every row computes on the same arrays."""
    x = jax.random.normal(jax.random.key(0), (1, MLP_WIDTH), F32)
    model = js.transform(js_mlp)
    variables = model.init(jax.random.key(1), x)
    params = variables["params"]
    nested = {f"layer{i}": {"kernel": params[f"layer{i}/w"], "bias": params[f"layer{i}/b"]}
              for i in range(MLP_LAYERS)}
    hk_params = {f"layer{i}": {"w": params[f"layer{i}/w"], "b": params[f"layer{i}/b"]}
                 for i in range(MLP_LAYERS)}
    return {
        "hand-written": (jax.jit(hand_mlp), (params, x)),
        "jaxscope `jax.jit(model.apply)`": (jax.jit(model.apply), (variables, x)),
        "Flax `jax.jit(model.apply)`": (jax.jit(FlaxMLP().apply), ({"params": nested}, x)),
        "Haiku `jax.jit(model.apply)`": (jax.jit(hk.transform(hk_mlp).apply),
                                         (hk_params, None, x)),
        "hand-written returning the variables": (
            jax.jit(lambda v, a: (hand_mlp(v["params"], a), v)), (variables, x)),
    }


# -- the TF tutorial CNN -------------------------------------------------------------------------
def cnn_case(batch: int) -> dict[str, tuple[Callable, tuple]]:
    params, x, _ = make_data(batch)
    variables = {"params": params, "state": {}}

    def hand_with_losses(p: dict[str, jax.Array], a: jax.Array) -> tuple[jax.Array, dict]:
        """The logits and the two weight-decay terms, as the tutorial model's apply gives."""
        decay = {name: 0.004 * jnp.sum(p[name] ** 2) / 2
                 for name in ("local3/weights", "local4/weights")}
        return hand_inference(p, a), decay

    return {
        "hand-written (logits and weight-decay terms)": (jax.jit(hand_with_losses), (params, x)),
        "jaxscope `jax.jit(model.apply)`": (jax.jit(JS_MODEL.apply), (variables, x)),
        "hand-written, logits only": (jax.jit(hand_inference), (params, x)),
        "Flax `jax.jit(model.apply)`, logits only": (jax.jit(FLAX_MODEL.apply),
                                                     (to_impl("flax", params), x)),
        "hand-written returning the variables": (
            jax.jit(lambda v, a: (hand_inference(v["params"], a), v)), (variables, x)),
    }


# -- a training step with batch normalization -----------------------------------------------------
def xent(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], 1))


def js_bn_net(x: jax.Array, training: bool) -> jax.Array:
    frozen = js.get_variable("frozen/kernel", [x.shape[-1], BN_WIDTH], trainable=False)
    h = x @ frozen
    for i in range(BN_LAYERS):
        h = js.layers.dense(h, BN_WIDTH, use_bias=False, name=f"dense{i}")
        h = js.layers.batch_normalization(h, momentum=MOMENTUM, epsilon=EPSILON,
                                          training=training, name=f"bn{i}")
        h = jax.nn.relu(h)
    return js.layers.dense(h, CLASSES, name="logits")


BN_MODEL = js.transform(js_bn_net)


def js_bn_step(variables: dict, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array, dict]:
    def loss_fn(params: dict) -> tuple[jax.Array, dict]:
        logits, aux = BN_MODEL.apply({"params": params, "state": variables["state"]}, x, True)
        return xent(logits, y), aux.updates["state"]

    (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(variables["params"])
    return grads, loss, new_stats


def hand_bn_forward(params: dict, state: dict, x: jax.Array) -> tuple[jax.Array, dict]:
    """TF1's batch normalization in training, written out: batch statistics (biased
    variance), ``moving -= (moving - batch) * (1 - momentum)``."""
    h = x @ state["frozen/kernel"]
    new_stats = {}
    for i in range(BN_LAYERS):
        h = h @ params[f"dense{i}/kernel"]
        mean, var = jnp.mean(h, 0), jnp.var(h, 0)
        h = (h - mean) * jax.lax.rsqrt(var + EPSILON) * params[f"bn{i}/gamma"] \
            + params[f"bn{i}/beta"]
        h = jax.nn.relu(h)
        for stat, batch in (("moving_mean", mean), ("moving_variance", var)):
            moving = state[f"bn{i}/{stat}"]
            new_stats[f"bn{i}/{stat}"] = moving - (moving - batch) * (1 - MOMENTUM)
    return h @ params["logits/kernel"] + params["logits/bias"], new_stats


def hand_bn_step(variables: dict, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array, dict]:
    def loss_fn(params: dict) -> tuple[jax.Array, dict]:
        logits, new_stats = hand_bn_forward(params, variables["state"], x)
        return xent(logits, y), new_stats

    (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(variables["params"])
    return grads, loss, new_stats


class FlaxBNNet(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        frozen = self.variable("frozen", "kernel", jnp.zeros, (x.shape[-1], BN_WIDTH)).value
        h = x @ frozen
        for i in range(BN_LAYERS):
            h = nn.Dense(BN_WIDTH, use_bias=False, name=f"dense{i}")(h)
            h = nn.BatchNorm(use_running_average=False, momentum=MOMENTUM, epsilon=EPSILON,
                             name=f"bn{i}")(h)
            h = jax.nn.relu(h)
        return nn.Dense(CLASSES, name="logits")(h)


def flax_bn_step(variables: dict, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array, dict]:
    def loss_fn(params: dict) -> tuple[jax.Array, dict]:
        logits, mutated = FlaxBNNet().apply({**variables, "params": params}, x,
                                            mutable=["batch_stats"])
        return xent(logits, y), mutated["batch_stats"]

    (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(variables["params"])
    return grads, loss, new_stats


def flax_layout(variables: dict) -> dict:
    """jaxscope's flat variables as FlaxBNNet's collections (the same arrays)."""
    p, s = variables["params"], variables["state"]
    params: dict[str, dict] = {"logits": {"kernel": p["logits/kernel"], "bias": p["logits/bias"]}}
    stats: dict[str, dict] = {}
    for i in range(BN_LAYERS):
        params[f"dense{i}"] = {"kernel": p[f"dense{i}/kernel"]}
        params[f"bn{i}"] = {"scale": p[f"bn{i}/gamma"], "bias": p[f"bn{i}/beta"]}
        stats[f"bn{i}"] = {"mean": s[f"bn{i}/moving_mean"], "var": s[f"bn{i}/moving_variance"]}
    return {"params": params, "batch_stats": stats, "frozen": {"kernel": s["frozen/kernel"]}}


def bn_case() -> dict[str, tuple[Callable, tuple]]:
    x = jax.random.normal(jax.random.key(0), (BN_BATCH, BN_WIDTH), F32)
    y = jax.random.randint(jax.random.key(1), (BN_BATCH,), 0, CLASSES)
    variables = BN_MODEL.init(jax.random.key(2), x, True)

    def old_contract_step(v: dict, a: jax.Array, b: jax.Array) -> tuple:
        """What the step wrote when apply returned every variable."""
        def loss_fn(params: dict) -> tuple[jax.Array, dict]:
            logits, aux = BN_MODEL.apply({"params": params, "state": v["state"]}, a, True)
            return xent(logits, b), js.merge({"params": params, "state": v["state"]},
                                             aux.updates)
        (loss, everything), grads = jax.value_and_grad(loss_fn, has_aux=True)(v["params"])
        return grads, loss, everything

    return {
        "hand-written": (jax.jit(hand_bn_step), (variables, x, y)),
        "jaxscope `aux.updates`": (jax.jit(js_bn_step), (variables, x, y)),
        "Flax `mutable=['batch_stats']`": (jax.jit(flax_bn_step), (flax_layout(variables), x, y)),
        "jaxscope returning the variables": (jax.jit(old_contract_step), (variables, x, y)),
    }


# -- measurement ---------------------------------------------------------------------------------
def output_bytes(fn: Any, args: tuple) -> int:
    return fn.lower(*args).compile().memory_analysis().output_size_in_bytes


def measure_case(rows: dict[str, tuple[Callable, tuple]], n_calls: int,
                 log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    names = list(rows)
    reference = jax.tree.leaves(rows[names[0]][0](*rows[names[0]][1]))[0]
    out: dict[str, dict[str, Any]] = {}
    for name, (fn, args) in rows.items():
        first = jax.tree.leaves(fn(*args))
        out[name] = {"bytes": output_bytes(fn, args),
                     "diff": max_abs_diff(first[0], reference) if first else float("nan")}
    thunks = {name: functools.partial(fn, *args) for name, (fn, args) in rows.items()}
    timing = interleaved_calls(thunks, n_calls, warmup=5, rotate=True)
    for name in names:
        out[name]["wall"] = timing[name]["wall"]
        out[name]["paired"] = timing[name]["paired"]
    log("  " + ", ".join(f"{n}: {out[n]['wall']['median'] * 1e3:.2f} ms" for n in names))
    return out


CASES: dict[str, Callable[[], dict[str, tuple[Callable, tuple]]]] = {
    "MLP 8×2048×2048 (128 MB), batch 1": mlp_case,
    "TF tutorial CNN, batch 1": lambda: cnn_case(1),
    "TF tutorial CNN, batch 128": lambda: cnn_case(128),
    "training step, batch norm, batch 256": bn_case,
}
CALLS = {"MLP 8×2048×2048 (128 MB), batch 1": 200, "TF tutorial CNN, batch 1": 400,
         "TF tutorial CNN, batch 128": 60, "training step, batch norm, batch 256": 300}


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    results = {}
    for case, make in CASES.items():
        log(case)
        n_calls = max(10, CALLS[case] // 10) if args.quick else CALLS[case]
        results[case] = {"rows": measure_case(make(), n_calls, log), "n_calls": n_calls}
    return {"cases": results}


# -- report --------------------------------------------------------------------------------------
def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    lines = header_lines(
        "`jax.jit(model.apply)`: bytes written and time per call", "bench_apply.py",
        args.quick, res["load"], elapsed,
        f"flax {__import__('flax').__version__}, dm-haiku {hk.__version__}", "")
    goals: list[Goal] = []
    for case, data in res["cases"].items():
        rows = data["rows"]
        ref_name = next(iter(rows))  # the hand-written function with the same outputs
        ref = rows[ref_name]
        lines += [f"## {case}", "", f"{data['n_calls']} interleaved calls each.", "",
                  table(["function", "output bytes per call", "× reference bytes",
                         "ms per call, median (IQR)", "time ÷ reference (paired median)",
                         "max |Δ| first output"],
                        [[name, f"{r['bytes']:,}", f"{r['bytes'] / ref['bytes']:.3f}",
                          f"{r['wall']['median'] * 1e3:.3f} ({r['wall']['q1'] * 1e3:.3f}–"
                          f"{r['wall']['q3'] * 1e3:.3f})",
                          f"{r['paired']['median']:.3f}", f"{r['diff']:.1e}"]
                         for name, r in rows.items()]), ""]
        js_row = next(r for n, r in rows.items() if n.startswith("jaxscope"))
        goals.append((f"{case}: bytes written = {ref_name}'s", js_row["bytes"] == ref["bytes"],
                      f"{js_row['bytes']:,} vs {ref['bytes']:,}"))
        ratio = js_row["paired"]["median"]
        goals.append((f"{case}: time ≤ {TIME_GOAL}× {ref_name}", ratio <= TIME_GOAL,
                      f"{ratio:.3f}× (paired median)"))
    lines += ["## Goals", "", goal_table(goals), ""]
    return "\n".join(lines), goals


def main(argv: list[str] | None = None) -> None:
    run_main("apply", __doc__.splitlines()[0], argv, measure, report)


if __name__ == "__main__":
    main()
