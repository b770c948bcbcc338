"""Inference benchmark: a fresh process's first batch, cold vs warm (persistent cache, jax.export).

Run from the repository root::

    python benchmarks/bench_inference.py           # full run (<4 min on 2 cores), writes
                                                   # RESULTS.md (only its section `inference`)
    python benchmarks/bench_inference.py --quick   # smoke run (<1 min), prints only (see --out)

The TF CIFAR-10 tutorial's CNN (``model`` of ``tests/design/test_cifar10_cnn.py``, the model
of ``bench_cnn.py``) serves one small batch in a fresh Python process:

* **jit, cold**: ``jax.jit(model.apply)`` with no persistent compilation cache: the process
  imports jaxscope, traces ``apply``, lowers it and XLA compiles it;
* **jit, warm**: the same with JAX's persistent compilation cache on
  (``jax_compilation_cache_dir``, minimum compile time 0 s, minimum entry size 0 bytes), in
  a cache folder that one earlier process filled: trace and lowering still happen, XLA's
  compilation is replaced by loading the executable from the cache;
* **export, cold / warm**: a ``jax.export`` of ``apply``'s logits, serialized once by this
  process; the child imports only JAX and NumPy (``import jaxscope`` is blocked there),
  deserializes it and calls ``jax.jit(exported.call)``, without and with a filled cache; and,
  warm, with ``jax.jit(exported.call).lower(...).compile()`` run at load time, before the
  first batch (the usual "compile at startup" of a server);
* **AOT executable** (a reference, not ``jax.export``): the compiled executable itself,
  serialized by ``jax.experimental.serialize_executable`` and loaded by the child: no trace,
  no lowering, no compilation, no cache; tied to this machine, backend and jax version.

The variables are *arguments* of the exported function, not closed over: every path reads
the same weights from the same ``.npz`` file, and the artifact holds no weights.

Each child reports, against the parent's clock reading just before it was spawned: when the
imports were done, the backend up, the model ready (jaxscope imported and the model built, or
the artifact deserialized), the inputs on the device and the first result ready; the first
call's own time; its compile events (``jax.monitoring`` listeners: trace, lowering, XLA
compile or cache load, cache hits and misses); and the steady-state time per batch. Its
outputs are compared with ``apply`` jit-compiled in this process. Baselines: ``python -c
pass`` and a child that only imports JAX and starts the backend. Modes are interleaved,
round by round, in a rotating order. README.md beside this file explains the tables.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

# Only JAX and NumPy at the top: a child running this file for the export path must not
# import jaxscope. The parent's jaxscope-dependent pieces (the tutorial model, `_measure`,
# which imports jaxscope) are imported inside the functions that need them.
import jax
import numpy as np
from jax import export
from jax.experimental import serialize_executable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL_PATH = os.path.join(ROOT, "tests", "design", "test_cifar10_cnn.py")
BATCH, IMAGE, CHANNELS = 8, 24, 3
INPUTS, ARTIFACT, EXECUTABLE = "inputs.npz", "cifar10_logits.jax_export", "cifar10_logits.aot"
WARMUP_CALLS = 3
GOAL_RATIO = 1.5
CACHES = ("jit", "export")
# run: (child mode, persistent cache folder or None, extra child flags). "fill" runs are the
# first process of each cache folder (once, before the rounds); the others run every round.
FILLS = {"jit fill": ("jit", "jit", ()), "export fill": ("export", "export", ())}
RUNS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "startup": ("startup", None, ()),
    "jit cold": ("jit", None, ()),
    "jit warm": ("jit", "jit", ()),
    "export cold": ("export", None, ()),
    "export warm": ("export", "export", ()),
    "export at load": ("export", "export", ("--compile-at-load",)),
    "aot": ("aot", None, ()),
}
SERVED = ("jit cold", "jit fill", "jit warm", "export cold", "export fill", "export warm",
          "export at load", "aot")
LABELS = {
    "python": "`python -c pass` (spawn → exit)",
    "startup": "startup: `import jax` + backend",
    "jit cold": "(a) `jax.jit(model.apply)`, no cache",
    "jit fill": "(b′) `jax.jit(model.apply)`, empty cache (fills it)",
    "jit warm": "(b) `jax.jit(model.apply)`, warm cache",
    "export cold": "(c) `jax.export`, no cache",
    "export fill": "(c′) `jax.export`, empty cache (fills it)",
    "export warm": "(c) `jax.export`, warm cache",
    "export at load": "(c″) `jax.export`, warm cache, `lower().compile()` at load",
    "aot": "(d) AOT executable (`serialize_executable`)",
}
TRACE = "/jax/core/compile/jaxpr_trace_duration"
LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
COMPILE = "/jax/core/compile/backend_compile_duration"
RETRIEVE = "/jax/compilation_cache/cache_retrieval_time_sec"
HITS, MISSES = "/jax/compilation_cache/cache_hits", "/jax/compilation_cache/cache_misses"


# -- the model and its inputs (parent, and the jit child) ----------------------------------------
def load_tutorial() -> Any:
    """The CIFAR-10 design test module (imports jaxscope and optax), loaded by file path."""
    spec = importlib.util.spec_from_file_location("cifar10_tutorial_design_test", TUTORIAL_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_inputs(path: str, variables: dict[str, dict[str, Any]], images: Any) -> None:
    """Variables and images into one ``.npz``: ``params/<name>``, ``state/<name>``, ``images``."""
    flat = {f"{kind}/{name}": np.asarray(value)
            for kind, d in variables.items() for name, value in d.items()}
    np.savez(path, images=np.asarray(images), **flat)


def load_inputs(path: str) -> tuple[dict[str, dict[str, jax.Array]], jax.Array]:
    """``save_inputs``' file back as jaxscope variables and images, on the default device."""
    variables: dict[str, dict[str, Any]] = {"params": {}, "state": {}}
    with np.load(path) as z:
        images = z["images"]
        for key in z.files:
            if key != "images":
                kind, name = key.split("/", 1)
                variables[kind][name] = z[key]
    return jax.block_until_ready(jax.device_put((variables, images)))


# -- the child: one fresh process, one first batch -----------------------------------------------
class CompileEvents:
    """Counts and total seconds of JAX's events, through ``jax.monitoring`` listeners."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        jax.monitoring.register_event_listener(self._event)
        jax.monitoring.register_event_duration_secs_listener(self._duration)

    def _event(self, event: str, **_: Any) -> None:
        self.counts[event] = self.counts.get(event, 0) + 1

    def _duration(self, event: str, duration: float, **_: Any) -> None:
        self._event(event)
        self.seconds[event] = self.seconds.get(event, 0.0) + duration

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {"counts": dict(self.counts), "seconds": dict(self.seconds)}

    def since(self, before: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The events after the ``before`` snapshot."""
        now = self.snapshot()
        return {part: {k: v - before[part].get(k, 0) for k, v in now[part].items()
                       if v != before[part].get(k, 0)} for part in now}


def enable_cache(folder: str) -> None:
    """JAX's persistent compilation cache in ``folder``, for programs of any compile time/size."""
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def block_jaxscope() -> None:
    sys.modules["jaxscope"] = None  # type: ignore[assignment]  # `import jaxscope` now fails


def jit_apply(opts: argparse.Namespace) -> Callable[..., Any]:
    """``jax.jit(model.apply)`` of the tutorial model; returns ``(logits, aux)``."""
    return jax.jit(load_tutorial().model.apply)


def exported_apply(opts: argparse.Namespace) -> Callable[..., Any]:
    """The serialized ``jax.export``, deserialized and jitted; with ``--compile-at-load`` also
    lowered and compiled (or loaded from the cache) for its input shapes, before any batch."""
    block_jaxscope()
    with open(os.path.join(opts.workdir, ARTIFACT), "rb") as f:
        exported = export.deserialize(bytearray(f.read()))
    fn = jax.jit(exported.call)
    if not opts.compile_at_load:
        return fn
    specs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in exported.in_avals]
    args, kwargs = jax.tree.unflatten(exported.in_tree, specs)
    return fn.lower(*args, **kwargs).compile()


def aot_apply(opts: argparse.Namespace) -> Callable[..., Any]:
    """The compiled executable, deserialized by ``jax.experimental.serialize_executable``."""
    block_jaxscope()
    with open(os.path.join(opts.workdir, EXECUTABLE), "rb") as f:
        payload, in_tree, out_tree = pickle.load(f)
    return serialize_executable.deserialize_and_load(payload, in_tree, out_tree)


LOADERS = {"jit": jit_apply, "export": exported_apply, "aot": aot_apply}


def steady_state(fn: Callable[..., Any], args: tuple, calls: int) -> list[float]:
    """Wall seconds of ``calls`` calls (each to ``block_until_ready``) after a short warm-up."""
    for _ in range(WARMUP_CALLS):
        jax.block_until_ready(fn(*args))
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return times


def scipy_lapack_seconds() -> float:
    """Seconds to import ``scipy.linalg.cython_lapack``, what jaxlib's LAPACK setup imports."""
    t0 = time.perf_counter()
    importlib.import_module("scipy.linalg.cython_lapack")
    return time.perf_counter() - t0


def parse_child(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    for name in ("--mode", "--workdir", "--out", "--cache"):
        parser.add_argument(name)
    parser.add_argument("--spawn", type=float)
    parser.add_argument("--calls", type=int)
    parser.add_argument("--compile-at-load", action="store_true")
    return parser.parse_args(argv)


def child(argv: Sequence[str]) -> None:
    """Serve one batch in this fresh process; print its timeline and events as JSON.

    ``marks`` are seconds since ``--spawn``, the parent's ``time.time()`` just before it
    started this process (the wall clock both processes share).
    """
    imported = time.time()
    opts = parse_child(argv)
    marks = {"imports": imported - opts.spawn}
    events = CompileEvents()
    if opts.cache:
        enable_cache(opts.cache)
    jax.devices()
    marks["backend"] = time.time() - opts.spawn
    result: dict[str, Any] = {"marks": marks}
    if opts.mode == "startup":
        result["scipy_lapack"] = scipy_lapack_seconds()
    else:
        fn = LOADERS[opts.mode](opts)
        marks["model"] = time.time() - opts.spawn
        args = load_inputs(os.path.join(opts.workdir, INPUTS))
        marks["data"] = time.time() - opts.spawn
        result["load_events"] = before = events.snapshot()
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        result["first_call"] = time.perf_counter() - t0
        marks["first"] = time.time() - opts.spawn
        result["first_events"] = events.since(before)
        np.save(opts.out, np.asarray(out[0] if opts.mode == "jit" else out))
        result["steady"] = steady_state(fn, args, opts.calls)
    result["events"] = events.snapshot()
    result["jaxscope_loaded"] = sys.modules.get("jaxscope") is not None
    print(json.dumps(result))


# -- the parent: artifacts, children, comparisons ------------------------------------------------
def child_env() -> dict[str, str]:
    """This environment without JAX's cache settings: each child sets its own."""
    return {k: v for k, v in os.environ.items() if not (k.startswith("JAX_") and "CACHE" in k)}


def run_python_pass() -> dict[str, Any]:
    """Wall seconds from spawn to exit of ``python -c pass``: the interpreter alone."""
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=child_env())
    return {"marks": {"exit": time.time() - t0}}


def run_child(run: tuple[str, str | None, tuple[str, ...]], workdir: str, calls: int,
              reference: np.ndarray) -> dict[str, Any]:
    """One child for ``run`` (a value of ``RUNS``); its JSON, with its logits compared."""
    mode, cache, flags = run
    out = os.path.join(workdir, "out.npy")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--mode", mode,
           "--workdir", workdir, "--out", out, "--calls", str(calls), *flags]
    if cache:
        cmd += ["--cache", os.path.join(workdir, f"cache-{cache}")]
    spawn = time.time()
    done = subprocess.run([*cmd, "--spawn", repr(spawn)], capture_output=True, text=True,
                          check=False, env=child_env(), cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"child {mode} failed:\n{done.stderr[-3000:]}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    if mode != "startup":
        served = np.load(out)
        res["equal"] = bool(np.array_equal(served, reference))
        res["max_diff"] = float(np.max(np.abs(served - reference)))
        os.remove(out)
    return res


def cache_entries(folder: str) -> tuple[int, int]:
    """(entries, bytes) of the persistent cache in ``folder`` (files ``<key>-cache``)."""
    if not os.path.isdir(folder):
        return 0, 0
    files = [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith("-cache")]
    return len(files), sum(os.path.getsize(f) for f in files)


def prepare(workdir: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Variables and images to ``inputs.npz``; the in-process reference logits; the exported
    artifact and the AOT executable of ``logits`` (variables as arguments)."""
    model = load_tutorial().model
    images = jax.random.normal(jax.random.key(0), (BATCH, IMAGE, IMAGE, CHANNELS), np.float32)
    variables = model.init(jax.random.key(2), images)
    save_inputs(os.path.join(workdir, INPUTS), variables, images)
    reference = np.asarray(jax.jit(model.apply)(variables, images)[0])

    def logits(variables: Any, images: Any) -> Any:
        return model.apply(variables, images)[0]

    t0 = time.perf_counter()
    blob = export.export(jax.jit(logits))(variables, images).serialize()
    export_s = time.perf_counter() - t0
    with open(os.path.join(workdir, ARTIFACT), "wb") as f:
        f.write(blob)
    compiled = jax.jit(logits).lower(variables, images).compile()
    with open(os.path.join(workdir, EXECUTABLE), "wb") as f:
        pickle.dump(serialize_executable.serialize(compiled), f)
    n_params = sum(int(np.size(v)) for v in variables["params"].values())
    log(f"model: {n_params} parameters; artifact {len(blob)} bytes, exported in {export_s:.2f} s")
    return {"reference": reference, "n_params": n_params, "n_variables": len(variables["params"]),
            "artifact_bytes": len(blob), "export_s": export_s,
            "executable_bytes": os.path.getsize(os.path.join(workdir, EXECUTABLE))}


def measure(args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    rounds = 2 if args.quick else 6
    calls = 20 if args.quick else 50
    workdir = tempfile.mkdtemp(prefix="bench_inference_")
    res: dict[str, Any] = {"rounds": rounds, "calls": calls}
    try:
        res.update(prepare(workdir, log))
        reference = res.pop("reference")
        for name, run in FILLS.items():
            log(f"{name}: the first process with an empty persistent cache")
            res[name] = run_child(run, workdir, calls, reference)
        folders = {c: os.path.join(workdir, f"cache-{c}") for c in CACHES}
        res["entries_filled"] = {c: cache_entries(folders[c]) for c in CACHES}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ("python", *RUNS)}
        order = list(runs)
        for r in range(rounds):
            rotated = order[r % len(order):] + order[:r % len(order)]
            log(f"round {r + 1}/{rounds}: {', '.join(rotated)}")
            for name in rotated:
                runs[name].append(run_python_pass() if name == "python" else
                                  run_child(RUNS[name], workdir, calls, reference))
        res["runs"] = runs
        res["entries_end"] = {c: cache_entries(folders[c]) for c in CACHES}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        log(f"deleted {workdir}")
    return res


# -- report --------------------------------------------------------------------------------------
def med(values: Sequence[float]) -> float:
    return float(np.median(values))


def fmt_range(values: Sequence[float], scale: float = 1e3, digits: int = 0) -> str:
    """Median (min–max) of ``values`` times ``scale``; the value alone if there is one."""
    m = f"{med(values) * scale:.{digits}f}"
    if len(values) == 1:
        return m
    return f"{m} ({min(values) * scale:.{digits}f}–{max(values) * scale:.{digits}f})"


def samples(res: dict[str, Any], run: str) -> list[dict[str, Any]]:
    """The children of ``run``: one per round, or the single cache-filling one."""
    return res["runs"][run] if run in res["runs"] else [res[run]]


def seconds(cs: list[dict[str, Any]], part: str, event: str) -> list[float]:
    return [c[part]["seconds"].get(event, 0.0) for c in cs]


def counts(cs: list[dict[str, Any]], part: str, event: str) -> str:
    """The distinct counts of ``event`` over the processes, e.g. ``1`` or ``0/1``."""
    return "/".join(str(n) for n in sorted({c[part]["counts"].get(event, 0) for c in cs}))


def first_and_steady(res: dict[str, Any], run: str) -> tuple[list[float], list[float]]:
    """Per process of ``run``: the first call's seconds and its median steady-state call."""
    cs = samples(res, run)
    return [c["first_call"] for c in cs], [med(c["steady"]) for c in cs]


def timeline_rows(res: dict[str, Any]) -> list[list[str]]:
    rows = [[LABELS["python"], "", "", "", "", "",
             fmt_range([c["marks"]["exit"] for c in res["runs"]["python"]])]]
    marks = [c["marks"] for c in res["runs"]["startup"]]
    rows.append([LABELS["startup"], fmt_range([m["imports"] for m in marks]),
                 fmt_range([m["backend"] for m in marks]), "", "", "", ""])
    for run in SERVED:
        cs = samples(res, run)
        marks = [c["marks"] for c in cs]
        rows.append([LABELS[run], fmt_range([m["imports"] for m in marks]),
                     fmt_range([m["backend"] for m in marks]),
                     fmt_range([m["model"] - m["backend"] for m in marks]),
                     fmt_range([m["data"] - m["model"] for m in marks]),
                     fmt_range([c["first_call"] for c in cs], digits=1),
                     "**" + fmt_range([m["first"] for m in marks]) + "**"])
    return rows


def call_rows(res: dict[str, Any]) -> list[list[str]]:
    rows = []
    for run in SERVED:
        cs = samples(res, run)
        first, steady = first_and_steady(res, run)
        parts = [seconds(cs, "first_events", e) for e in (TRACE, LOWER, COMPILE)]
        other = [f - sum(p) for f, *p in zip(first, *parts)]
        rows.append([LABELS[run], fmt_range(first, digits=1),
                     *(fmt_range(p, digits=1) for p in parts),
                     fmt_range(seconds(cs, "first_events", RETRIEVE), digits=1),
                     fmt_range(other, digits=1),
                     " / ".join(counts(cs, "first_events", e) for e in (COMPILE, HITS, MISSES)),
                     " / ".join(counts(cs, "load_events", e) for e in (COMPILE, HITS, MISSES)),
                     fmt_range(steady, digits=2),
                     fmt_range([f / s for f, s in zip(first, steady)], scale=1, digits=1)])
    return rows


def equality_rows(res: dict[str, Any]) -> list[list[str]]:
    rows = []
    for run in SERVED:
        cs = samples(res, run)
        rows.append([LABELS[run], f"{sum(c['equal'] for c in cs)}/{len(cs)}",
                     f"{max(c['max_diff'] for c in cs):.1e}",
                     "yes" if any(c["jaxscope_loaded"] for c in cs) else "no"])
    return rows


def no_recompile_goal(res: dict[str, Any]) -> tuple[str, bool, str]:
    """Every warm process hit the cache for each of its compilations and missed none, and the
    cache folders got no new entry after the filling process."""
    parts, ok = [], True
    for run in ("jit warm", "export warm", "export at load"):
        cs = samples(res, run)
        good = sum(c["events"]["counts"].get(HITS, 0) == c["events"]["counts"].get(COMPILE, 0)
                   >= 1 and not c["events"]["counts"].get(MISSES, 0) for c in cs)
        ok &= good == len(cs)
        parts.append(f"{run}: {good}/{len(cs)} processes")
    added = {c: res["entries_end"][c][0] - res["entries_filled"][c][0] for c in CACHES}
    ok &= not any(added.values())
    return ("a second process's first batch runs without recompiling (every XLA compilation "
            "of a warm process is a cache hit, no miss)", ok,
            ", ".join(parts) + "; cache entries added after the filling process: "
            + ", ".join(f"{c} {n}" for c, n in added.items()))


def gap_cause(res: dict[str, Any], run: str) -> str:
    """Where a warm first call's time above the steady-state call goes."""
    cs = samples(res, run)
    trace_lower = med([t + lo for t, lo in zip(seconds(cs, "first_events", TRACE),
                                              seconds(cs, "first_events", LOWER))])
    load = med(seconds(cs, "first_events", COMPILE))
    scipy = med([c["scipy_lapack"] for c in res["runs"]["startup"]])
    if run == "jit warm":
        return (f"trace + lowering of jaxscope's `apply` {trace_lower * 1e3:.1f} ms and the "
                f"cache key + executable load {load * 1e3:.1f} ms, which a cache hit does not "
                "skip")
    if run == "export warm":
        return (f"lowering of the exported call {trace_lower * 1e3:.1f} ms, mostly jaxlib's "
                "one-time LAPACK registration for exported CPU code, which imports "
                f"`scipy.linalg` ({scipy * 1e3:.0f} ms alone); cache key + executable load "
                f"{load * 1e3:.1f} ms")
    at_load = med([m["model"] - m["backend"] for m in (c["marks"] for c in cs)])
    return (f"no trace, lowering or compilation left in the call (they moved to load time: "
            f"{at_load * 1e3:.0f} ms); the first execution of a fresh executable is slower "
            "than the steady state (buffers, thread pool and caches are cold)")


def warm_goals(res: dict[str, Any]) -> list[tuple[str, bool, str]]:
    goals = []
    for run in ("jit warm", "export warm", "export at load"):
        first, steady = map(med, first_and_steady(res, run))
        ok = first <= GOAL_RATIO * steady
        detail = (f"first call {first * 1e3:.1f} ms = {first / steady:.1f}× the steady-state "
                  f"{steady * 1e3:.2f} ms")
        if not ok:
            detail += "; the gap: " + gap_cause(res, run)
        goals.append((f"{LABELS[run]}: first call ≤ {GOAL_RATIO}× steady-state batch time",
                      ok, detail))
    return goals


def findings(res: dict[str, Any]) -> list[str]:
    def first(run: str) -> float:
        return med([c["first_call"] for c in samples(res, run)])

    def total(run: str) -> float:
        return med([c["marks"]["first"] for c in samples(res, run)])

    startup = med([c["marks"]["backend"] for c in res["runs"]["startup"]])
    scipy = med([c["scipy_lapack"] for c in res["runs"]["startup"]])
    aot_first, aot_steady = map(med, first_and_steady(res, "aot"))
    return [
        "### Findings",
        "",
        f"* The persistent cache cuts the jit path's first call from {first('jit cold') * 1e3:.0f}"
        f" to {first('jit warm') * 1e3:.0f} ms (spawn → first result {total('jit cold'):.2f} → "
        f"{total('jit warm'):.2f} s), the export path's from {first('export cold') * 1e3:.0f} to "
        f"{first('export warm') * 1e3:.0f} ms ({total('export cold'):.2f} → "
        f"{total('export warm'):.2f} s).",
        f"* Either way the first batch of a fresh process is dominated by starting Python and "
        f"importing JAX: {startup:.2f} s to a live backend (*startup* row).",
        f"* `jax.export` on CPU: the first lowering of an exported call in a process runs "
        "jaxlib's LAPACK registration (`_ensure_backends_initialized` → `initialize_lapack`), "
        f"which imports `scipy.linalg` — {scipy * 1e3:.0f} ms measured alone in the startup "
        "child — whether or not the model uses linear algebra. It makes the export path's "
        "first call slower than the warm jit path's, although it traces only a thin wrapper "
        "and skips importing jaxscope. Compiling at load (c″) moves it, the lowering and "
        "the cache load out of the first call but not out of the first result's time.",
        f"* The floor: a first call with nothing left but execution (c″, and the AOT "
        f"executable (d): {aot_first * 1e3:.1f} ms vs {aot_steady * 1e3:.2f} ms steady) is "
        "still above the steady state: a fresh executable's first run is slower. The AOT "
        "executable needs neither lowering nor scipy (spawn → first result "
        f"{total('aot'):.2f} s, vs {total('export at load'):.2f} s for (c″)), but "
        "`jax.experimental.serialize_executable` is experimental and its payload only loads "
        "on the same backend, jaxlib and machine.",
        f"* Cache entries: the jit folder holds {res['entries_filled']['jit'][0]} (`apply`, "
        "plus the small programs that the tutorial module's import-time `jnp` constants "
        f"compile; *compiles before the first call*), the export folder "
        f"{res['entries_filled']['export'][0]}. The key is the lowered module plus compile "
        "options, backend and versions, so a jit-filled cache does not serve the export path.",
    ]


def report(args: argparse.Namespace, res: dict[str, Any], elapsed: float) -> tuple[str, list]:
    from _measure import goal_table, header_lines, table

    out = header_lines(
        "jaxscope inference benchmark: a fresh process's first batch", "bench_inference.py",
        args.quick, res["load"], elapsed,
        f"jax.export calling convention ≤ v{export.maximum_supported_calling_convention_version}",
        "; JAX_*CACHE* variables removed from the children's environment")
    out += [
        "The model: the TF CIFAR-10 tutorial's CNN (`model` of "
        f"`tests/design/test_cifar10_cnn.py`, {res['n_variables']} variables, "
        f"{res['n_params']:,} parameters), one batch of {BATCH} images "
        f"{IMAGE}×{IMAGE}×{CHANNELS}, float32, CPU. Every run is a fresh Python process "
        "running this script as a child; the variables and images come from one `.npz`. "
        f"{res['rounds']} rounds, every run once per round, order rotated; *fill* rows are "
        "the single first process of each cache folder, before the rounds. The export: "
        "`jax.export` of `lambda variables, images: model.apply(variables, images)[0]` "
        "(variables are arguments, not closed over), "
        f"{res['artifact_bytes'] / 1024:.1f} KiB serialized, exported and serialized in "
        f"{res['export_s'] * 1e3:.0f} ms; the AOT executable of the same function: "
        f"{res['executable_bytes'] / 1024:.0f} KiB. The export and AOT children block "
        "`import jaxscope`. Persistent cache: `jax_compilation_cache_dir` = one fresh folder "
        "for the jit runs, one for the export runs; "
        "`jax_persistent_cache_min_compile_time_secs=0`, "
        "`jax_persistent_cache_min_entry_size_bytes=0`. Times: median (min–max) over the "
        "rounds, ms.",
        "",
        "## Timeline of a fresh process (ms since spawn)",
        "",
        table(["run", "imports done", "backend up", "+ model ready", "+ data on device",
               "first call", "**first result**"], timeline_rows(res)),
        "",
        "*imports done*: the child's first statement, after the interpreter started and "
        "imported NumPy and JAX; *backend up*: after `jax.devices()`; *+ model ready*: "
        "importing jaxscope and the tutorial module (which also imports optax) and "
        "`jax.jit(model.apply)`; or reading and deserializing the artifact and "
        "`jax.jit(exported.call)` (c″: and its `lower(...).compile()`); or loading the AOT "
        "executable; *+ data on device*: `np.load` + `jax.device_put`; *first call*: the call "
        "to `block_until_ready`; *first result*: spawn → first result ready.",
        "",
        "## The first call and the steady state (ms)",
        "",
        table(["run", "first call", "trace", "lower", "compile or cache load",
               "of which cache read", "other", "compiles / hits / misses",
               "before the first call", f"steady-state per batch (median of {res['calls']})",
               "first ÷ steady"], call_rows(res)),
        "",
        "From `jax.monitoring` listeners in the child, during the first call: *trace* "
        "(`jaxpr_trace_duration`), *lower* to StableHLO (`jaxpr_to_mlir_module_duration`), "
        "*compile or cache load* (`backend_compile_duration`: XLA's compilation, or on a "
        "cache hit the key, the read and the executable's deserialization), *of which cache "
        "read* (`cache_retrieval_time_sec`); *other* = first call − trace − lower − compile: "
        "dispatch, the run itself, Python. *compiles / hits / misses*: counts of "
        "`backend_compile_duration`, `cache_hits` and `cache_misses` events during the first "
        "call, and *before the first call* (while loading); the distinct values over the "
        f"processes. *Steady-state*: wall time per call after {WARMUP_CALLS} warm-up calls, "
        "median over the calls of each process, then median (min–max) over the processes; "
        "*first ÷ steady* per process. The jit path returns `(logits, aux)` (aux holds "
        "the two weight-decay losses), the others the logits only.",
        "",
        "## Outputs and cache",
        "",
        table(["run", "logits == in-process `jax.jit(model.apply)`'s (array_equal)",
               "max abs diff", "jaxscope imported by the child"], equality_rows(res)),
        "",
        "Persistent cache folders after the filling process: " + "; ".join(
            f"{c} {n} entries, {size / 1024:.0f} KiB"
            for c, (n, size) in res["entries_filled"].items())
        + "; at the end: " + "; ".join(
            f"{c} {n} entries" for c, (n, _) in res["entries_end"].items()) + ".",
        "",
    ]
    goals = [no_recompile_goal(res), *warm_goals(res)]
    equal = all(c["equal"] for run in SERVED for c in samples(res, run))
    goals.append(("every path's logits equal in-process `apply`'s (array_equal)", equal,
                  "every process" if equal else "see the table above"))
    out += ["## Goals", "", goal_table(goals), "", *findings(res), ""]
    return "\n".join(out), goals


def main(argv: Sequence[str] | None = None) -> None:
    from _measure import run_main

    run_main("inference", __doc__.split("\n")[0], argv, measure, report,
             quick_help="2 rounds, 20 steady-state calls per process; prints the report, "
             "writes only with --out")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        main()
