"""jaxscope's hot paths before and after an optimization: this checkout vs a git revision.

Run from the repository root::

    python benchmarks/bench_hotpath.py                   # vs daaf866 (before issue 7's work);
                                                         # writes section `hotpath` of RESULTS.md
    python benchmarks/bench_hotpath.py --against REV     # vs another revision
    python benchmarks/bench_hotpath.py --quick           # fewer rounds, prints only

The revision's ``jaxscope/`` is exported with ``git archive`` into a temporary folder; both
versions then run the same measurement script in alternating subprocesses (several rounds,
so drift on this shared machine hits both alike), and the table reports medians of the
rounds. Measured, in process CPU time (all threads):

* un-jitted ``apply``: an empty model, one plain ``variable_scope("name")`` entered and left,
  one ``get_variable`` lookup (each from 50 of them in one model, minus the empty model);
* un-jitted ``init``: per layer of a 300-layer MLP (width 8, ``glorot_uniform`` kernel, zero
  bias, ReLU), with and without the forward pass;
* un-jitted ``apply`` of 3- and 100-layer MLPs against the same hand-written JAX function
  (ratio), as issue 7's goal 2 measures it.
"""

# The report is Markdown meant for people: it uses × and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

BEFORE = "daaf866"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The measurement, run in a subprocess against one jaxscope (PYTHONPATH picks which).
PROBE = r'''
import gc, json, sys, time
import numpy as np, jax, jax.numpy as jnp
import jaxscope as js

repeats = int(sys.argv[1])
x = jnp.ones((1, 8))
glorot, zeros = js.glorot_uniform_initializer(), js.zeros_initializer()

def cpu(f, n):
    samples = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(n):
            f()
        samples.append((time.process_time() - t0) / n)
    return float(np.median(samples))

N = 50
def scopes(x):
    for i in range(N):
        with js.variable_scope(f"layer_{i}"):
            pass
    return x
def lookups(x):
    for i in range(N):
        js.get_variable(f"layer_{i}/w", [8, 8])
    return x
def empty(x):
    return x
apply_of = {}
for name, fn in (("empty", empty), ("scopes", scopes), ("lookups", lookups)):
    model = js.transform(fn)
    variables = model.init(jax.random.key(0), x)
    apply_of[name] = (lambda m, v: lambda: m.apply(v, x))(model, variables)
    for _ in range(20):
        apply_of[name]()
t = {k: cpu(f, 200) for k, f in apply_of.items()}
out = {"empty apply": t["empty"], "scope": (t["scopes"] - t["empty"]) / N,
       "get_variable": (t["lookups"] - t["empty"]) / N}

def mlp(depth, forward=True):
    def fn(x):
        for i in range(depth):
            with js.variable_scope(f"layer_{i}"):
                w = js.get_variable("w", [8, 8], initializer=glorot)
                b = js.get_variable("b", [8], initializer=zeros)
            if forward:
                x = jax.nn.relu(x @ w + b)
        return x
    return fn

def hand_apply(params, x, depth):
    for i in range(depth):
        x = jax.nn.relu(x @ params[f"layer_{i}/w"] + params[f"layer_{i}/b"])
    return x

D = 300
for label, forward in (("init per layer", True), ("init per layer, no forward", False)):
    model = js.transform(mlp(D, forward))
    jax.block_until_ready(model.init(jax.random.key(0), x))
    gc.collect()
    out[label] = cpu(lambda: jax.block_until_ready(model.init(jax.random.key(0), x)), 1) / D

for depth in (3, 100):
    model = js.transform(mlp(depth))
    variables = model.init(jax.random.key(0), x)
    params = variables["params"]
    ours = lambda: model.apply(variables, x)[0].block_until_ready()
    hand = lambda: hand_apply(params, x, depth).block_until_ready()
    for _ in range(20):
        ours(); hand()
    n = 300 if depth == 3 else 10
    ratios = []
    for _ in range(repeats):
        a = cpu(ours, n); b = cpu(hand, n)
        ratios.append(a / b)
    out[f"eager apply {depth} layers / hand"] = float(np.median(ratios))
out["module"] = js.__file__
print(json.dumps(out))
'''

ROWS = (("empty apply", "µs"), ("scope", "µs"), ("get_variable", "µs"),
        ("init per layer", "µs"), ("init per layer, no forward", "µs"),
        ("eager apply 3 layers / hand", "×"), ("eager apply 100 layers / hand", "×"))


def export_revision(revision: str, folder: str) -> str:
    """``jaxscope/`` of ``revision`` under ``folder``; returns the folder (for PYTHONPATH)."""
    archive = subprocess.run(["git", "archive", revision, "jaxscope"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder


def probe(pythonpath: str, repeats: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": pythonpath, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    # cwd = that folder too: `python -c` puts the working directory first on sys.path
    done = subprocess.run([sys.executable, "-c", PROBE, str(repeats)], env=env,
                          cwd=pythonpath, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    module = result.pop("module")
    if not os.path.abspath(module).startswith(os.path.abspath(pythonpath) + os.sep):
        raise RuntimeError(f"measured {module}, not the jaxscope under {pythonpath}")
    return result


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    rounds, repeats = (2, 3) if args.quick else (5, 5)
    with tempfile.TemporaryDirectory(prefix="jaxscope-before-") as folder:
        before_path = export_revision(args.against, folder)
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for i in range(rounds):
            order = (("before", before_path), ("after", ROOT))
            for label, path in order if i % 2 == 0 else order[::-1]:
                runs[label].append(probe(path, repeats))
            log(f"round {i + 1}/{rounds} done")
    return {"runs": runs, "rounds": rounds, "repeats": repeats}


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    from _measure import goal_table, header_lines, table

    lines = header_lines("jaxscope hot paths, before and after", "bench_hotpath.py", args.quick,
                         res["load"], elapsed, f"before = git revision `{args.against}`",
                         "")
    lines.append(__doc__.split("\n\n", 2)[2].strip())
    lines.append("")
    lines.append(f"{res['rounds']} rounds per version (alternating), each a fresh subprocess "
                 f"taking the median of {res['repeats']} repeats; the table shows the median "
                 "over rounds and, in brackets, the range.")
    lines.append("")
    rows = []
    for key, unit in ROWS:
        before = [r[key] for r in res["runs"]["before"]]
        after = [r[key] for r in res["runs"]["after"]]
        scale = 1e6 if unit == "µs" else 1.0
        b, a = statistics.median(before) * scale, statistics.median(after) * scale
        rows.append([key + (" (µs)" if unit == "µs" else ""),
                     f"{b:.2f} [{min(before) * scale:.2f}–{max(before) * scale:.2f}]",
                     f"{a:.2f} [{min(after) * scale:.2f}–{max(after) * scale:.2f}]",
                     f"{a / b:.2f}"])
    lines.append(table(["measure", f"before ({args.against})", "after (this checkout)",
                        "after ÷ before"], rows))
    lines.append("")
    lines.append("What changed between the two (see CHANGELOG.md): `init` makes jaxscope "
                 "initializers' values with one cached compiled program per (config, shape, "
                 "dtype); a plain `variable_scope(\"name\")` enters on a straight path; "
                 "lookups check shapes without `isinstance(x, jax.Array)`; the default "
                 "initializer is cached per dtype; `apply` records no creation sites.")
    goals = [("apply hot path cheaper after than before (get_variable and scope)",
              all(statistics.median([r[k] for r in res["runs"]["after"]])
                  < statistics.median([r[k] for r in res["runs"]["before"]])
                  for k in ("get_variable", "scope")), "medians over rounds")]
    lines += ["", "## Goals", "", goal_table(goals)]
    return "\n".join(lines) + "\n", goals


def main(argv: Sequence[str] | None = None) -> None:
    from _measure import run_main

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--against", default=BEFORE)
    known, rest = extra.parse_known_args(argv)

    def measure_with(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
        args.against = known.against
        return measure(args, log)

    def report_with(args: argparse.Namespace, res: dict[str, Any], elapsed: float):
        args.against = known.against
        return report(args, res, elapsed)

    run_main("hotpath", __doc__.split("\n")[0], rest, measure_with, report_with)


if __name__ == "__main__":
    main()
