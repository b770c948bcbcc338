"""Measurement and report machinery shared by ``bench_core.py``, ``bench_rnn.py`` and
``bench_cnn.py``: interleaved timing loops, median/IQR statistics, optimized-HLO instruction
counting and normalization, cProfile runs, the machine/version lines of each report's header,
the goals table and the command-line / write-out glue of ``main``.
"""

# The report is Markdown meant for people: it uses ×, – and − on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import hashlib
import os
import platform
import pstats
import re
import resource
import shlex
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jaxlib
import numpy as np
from _report import write_section

import jaxscope as js

PACKAGE = os.path.dirname(os.path.abspath(js.__file__)) + os.sep
"""jaxscope's package directory, with a trailing separator."""

Goal = tuple[str, "bool | None", str]


# -- statistics ----------------------------------------------------------------------------------
def stats(samples: Sequence[float]) -> dict[str, float]:
    q = np.percentile(samples, [25, 50, 75])
    return {"median": float(q[1]), "q1": float(q[0]), "q3": float(q[2]),
            "min": float(min(samples)), "max": float(max(samples)), "n": len(samples)}


def block_ratio_range(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float]:
    ratios = [x / y for x, y in zip(a["blocks"], b["blocks"])]
    return min(ratios), max(ratios)


# -- process memory (Linux /proc; getrusage elsewhere) --------------------------------------------
def rss() -> int:
    """The process's resident set size now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss() -> bool:
    """Restart the high-water mark `peak_rss` reports (False where the kernel can't)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """The RSS high-water mark since the process started or `reset_peak_rss`, in bytes."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- timing --------------------------------------------------------------------------------------
def interleaved_calls(
    fns: dict[str, Callable[[], Any]], n_calls: int, warmup: int = 20, blocks: int = 10,
    rotate: bool = False,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-call wall and process-CPU time (s) of each thunk, calls interleaved one by one.

    Each sample is one call followed by ``jax.block_until_ready`` on its result. The order
    alternates (forward, reversed) every round so neither function always goes first. Samples
    are also split into ``blocks`` consecutive blocks in time; per-block medians give the
    spread of the ratios. Returns ``{name: {"wall": stats, "cpu": stats}}``.

    With ``rotate`` the starting function also rotates every two rounds, so every function
    takes every position, and each entry also has ``paired``: the per-round ratio of that
    function's wall time to the first function's (the same round, seconds apart), robust to
    slow drift.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            jax.block_until_ready(fns[name]())
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    clock, cpu_clock = time.perf_counter, time.process_time
    for i in range(n_calls):
        order = names
        if rotate:
            k = (i // 2) % len(names)
            order = names[k:] + names[:k]
        for name in order if i % 2 == 0 else reversed(order):
            fn = fns[name]
            c0, t0 = cpu_clock(), clock()
            jax.block_until_ready(fn())
            t1, c1 = clock(), cpu_clock()
            wall[name].append(t1 - t0)
            cpu[name].append(c1 - c0)
    size = max(1, n_calls // blocks)

    def summary(s: list[float]) -> dict[str, Any]:
        block_medians = [statistics.median(s[j:j + size]) for j in range(0, n_calls, size)]
        return {**stats(s), "blocks": block_medians}

    out: dict[str, dict[str, dict[str, Any]]] = {
        name: {"wall": summary(wall[name]), "cpu": summary(cpu[name])} for name in names}
    if rotate:
        base = wall[names[0]]
        for name in names:
            out[name]["paired"] = stats([a / b for a, b in zip(wall[name], base)])
    return out


def timed_compile(fn: Any, *args: Any) -> tuple[Any, dict[str, float]]:
    """``fn.lower(*args).compile()`` after ``gc.collect()``: the compiled function and the
    process-CPU and wall seconds of ``lower`` (trace + StableHLO), ``compile`` (XLA) and both
    (``total``; walls ``lower_wall``, ``compile_wall``, ``total_wall``)."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    lowered = fn.lower(*args)
    c1, t1 = time.process_time(), time.perf_counter()
    compiled = lowered.compile()
    c2, t2 = time.process_time(), time.perf_counter()
    return compiled, {"lower": c1 - c0, "compile": c2 - c1, "total": c2 - c0,
                      "lower_wall": t1 - t0, "compile_wall": t2 - t1, "total_wall": t2 - t0}


def profile_stats(stmt: Callable[[], Any]) -> dict[tuple, tuple]:
    """cProfile ``stmt`` once; pstats' raw ``{(file, line, func): (cc, ncalls, tottime,
    cumtime, callers)}``.

    The profiler's clock is process CPU time (the machine may be shared), and the cyclic GC
    is off while profiling so that collection pauses — whose cost grows with the heap, and
    which cProfile charges to whatever function happens to run — do not blur the
    per-function attribution.
    """
    profiler = cProfile.Profile(time.process_time)
    gc.collect()
    gc.disable()
    try:
        profiler.enable()
        stmt()
        profiler.disable()
    finally:
        gc.enable()
    return pstats.Stats(profiler).stats  # type: ignore[attr-defined]


# -- compiled modules ----------------------------------------------------------------------------
_NAME = re.compile(r"%[\w.\-]+")
_METADATA = re.compile(r",?\s*metadata=\{[^}]*\}")
_HEADER = re.compile(r"^(ENTRY\s+)?%?[\w.\-]+\s.*\{\s*$")
_PARAM_NAME = re.compile(r"[\w.\-]+: ")


def _is_header(line: str) -> bool:
    """Whether ``line`` opens a computation of an optimized HLO module's text."""
    return not line.startswith(" ") and bool(_HEADER.match(line)) and "->" in line


def hlo_stats(text: str) -> dict[str, Any]:
    """Count instructions of an optimized HLO module's text (``compiled.as_text()``).

    A computation starts with an unindented header line ending in ``{`` (``%fused_computation
    (...) -> ... {`` or ``ENTRY %main (...) -> ... {``) and ends with a line ``}``. Every
    non-empty line between them is one instruction (``%name = type opcode(...)``, including
    ``parameter`` and ``ROOT`` lines). Module attributes, FileNames/StackFrames tables and
    metadata are not counted.
    """
    total = entry = computations = 0
    opcodes: Counter[str] = Counter()
    entry_ops: Counter[str] = Counter()
    inside = is_entry = False
    for line in text.splitlines():
        if not inside:
            if _is_header(line):
                inside, is_entry = True, line.startswith("ENTRY")
                computations += 1
            continue
        stripped = line.strip()
        if stripped == "}":
            inside = False
            continue
        if not stripped or " = " not in stripped:
            continue
        rhs = stripped.split(" = ", 1)[1]
        match = re.search(r"\s([a-z][a-z0-9\-]*)\(", " " + rhs)
        opcode = match.group(1) if match else "?"
        total += 1
        opcodes[opcode] += 1
        if is_entry:
            entry += 1
            entry_ops[opcode] += 1
    return {"total": total, "entry": entry, "computations": computations,
            "opcodes": opcodes, "entry_opcodes": entry_ops}


def normalized_hlo(text: str) -> list[str]:
    """An optimized HLO module's computations; metadata and parameter names dropped, names
    of computations and instructions numbered in order of appearance.

    Two modules with equal normalized text run the same instructions on the same shapes.
    """
    names: dict[str, str] = {}
    lines, inside = [], False
    for line in text.splitlines():
        if not inside:
            if _is_header(line):
                inside = True
                line = _PARAM_NAME.sub("", line)  # `(p__kernel__.1: f32[...], ...)`
            else:
                continue
        elif line.strip() == "}":
            inside = False
        line = _METADATA.sub("", line)
        lines.append(_NAME.sub(lambda m: names.setdefault(m.group(0), f"%v{len(names)}"), line))
    return lines


def flops_of(compiled: Any) -> float:
    cost = compiled.cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0]
    return float(cost.get("flops", float("nan")))


def max_abs_diff(a: Any, b: Any) -> float:
    return float(jnp.max(jnp.abs(jnp.asarray(a) - jnp.asarray(b))))


# -- formatting ----------------------------------------------------------------------------------
def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_iqr(s: dict[str, float], scale: float = 1e3, digits: int = 2) -> str:
    return (f"{s['median'] * scale:.{digits}f} ({s['q1'] * scale:.{digits}f}–"
            f"{s['q3'] * scale:.{digits}f})")


def signed(value: float) -> str:
    return f"{round(value):+d}".replace("-", "−")


def count_diff(a: Counter[str], b: Counter[str]) -> str:
    """``a`` − ``b`` as ``+2 reshape, −1 gather``; ``none`` when equal."""
    parts = [f"{n:+d} {k}".replace("-", "−", 1) for k, n in sorted((k, a[k] - b[k])
                                                                   for k in a | b) if n]
    return ", ".join(parts) if parts else "none"


def goal_table(goals: Sequence[Goal]) -> str:
    return table(["goal", "met", "detail"], [
        [g, {True: "yes", False: "**NO**", None: "within noise"}[ok], d] for g, ok, d in goals])


# -- report header -------------------------------------------------------------------------------
def source_digest() -> str:
    digest = hashlib.sha256()
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()[:12]


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def header_lines(title: str, script: str, quick: bool, load: tuple[float, float],
                 elapsed: float, libraries: str, settings: str) -> list[str]:
    """A report's title, its provenance line and the machine/version bullet list.

    ``libraries`` stands between jaxlib's and jaxscope's versions (``flax 0.10 (...)``);
    ``settings`` follows the XLA_FLAGS value (``; no persistent compilation cache``...).
    """
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "QUICK mode: few repeats, indicative only" if quick else "full run"
    return [
        f"# {title}",
        "",
        f"Generated by `benchmarks/{script}` ({mode}); `benchmarks/README.md` explains "
        "the tables.",
        "",
        f"* date: {now}",
        f"* command: `{shlex.join([sys.executable, *sys.argv])}` (from the repository root)",
        f"* machine: {cpu_name()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()} {platform.release()}; JAX backend `{jax.default_backend()}`",
        f"* load average (1 min) at start / end: {load[0]:.1f} / {load[1]:.1f} — the machine "
        "is shared; wall-clock numbers include time the process waited for a CPU",
        f"* Python {platform.python_version()}, jax {jax.__version__}, jaxlib "
        f"{jaxlib.__version__}, {libraries}, jaxscope {js.__version__}, numpy {np.__version__}",
        f"* XLA_FLAGS=`{os.environ.get('XLA_FLAGS', '')}`{settings}",
        f"* jaxscope source digest (sha256 of jaxscope/*.py, sorted): {source_digest()} — the "
        "package is edited in parallel; this identifies the code measured",
        f"* total benchmark time: {elapsed:.0f} s",
        "",
    ]


# -- command line --------------------------------------------------------------------------------
def parse_args(description: str, section: str, argv: Sequence[str] | None,
               quick_help: str = "few repeats (<1 min); prints the report, writes only with "
               "--out") -> tuple[argparse.Namespace, str | None]:
    """The options ``--quick`` and ``--out`` and the path the report goes to (or None)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", default=None,
                        help=f"Markdown file whose section '{section}' receives the report "
                        "(default: benchmarks/RESULTS.md for a full run, nowhere for --quick; "
                        "'-' for nowhere); other sections of the file are kept")
    args = parser.parse_args(argv)
    out_path = args.out
    if out_path is None and not args.quick:
        out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
    if out_path == "-":
        out_path = None
    return args, out_path


def stderr_log(start: float | None = None) -> Callable[[str], None]:
    """A logger to stderr; lines are stamped with the seconds since ``start`` if given."""
    def log(msg: str) -> None:
        if start is not None:
            msg = f"[{time.perf_counter() - start:5.1f} s] {msg}"
        print(msg, file=sys.stderr, flush=True)
    return log


def finish(text: str, goals: Sequence[Goal], out_path: str | None, section: str,
           elapsed: float, log: Callable[[str], None]) -> None:
    """Print the report, write it as section ``section`` of ``out_path`` (if any), log."""
    print(text)
    if out_path:
        write_section(out_path, section, text)
        log(f"wrote section '{section}' of {out_path}")
    log(f"done in {elapsed:.0f} s; goals met: {sum(ok is True for _, ok, _ in goals)}/{len(goals)}")


def run_main(section: str, description: str, argv: Sequence[str] | None,
             measure: Callable[[argparse.Namespace, Callable[[str], None]], dict[str, Any]],
             report: Callable[[argparse.Namespace, dict[str, Any], float],
                              tuple[str, Sequence[Goal]]],
             stamped: bool = True, **parse_kw: Any) -> None:
    """A benchmark's ``main``: parse the command line, ``measure(args, log)`` between two
    readings of the load average (``res["load"]``), ``report(args, res, elapsed)``, then
    print and write the report (``finish``)."""
    args, out_path = parse_args(description, section, argv, **parse_kw)
    start = time.perf_counter()
    log = stderr_log(start if stamped else None)
    load0 = os.getloadavg()[0]
    res = measure(args, log)
    res["load"] = (load0, os.getloadavg()[0])
    elapsed = time.perf_counter() - start
    text, goals = report(args, res, elapsed)
    finish(text, goals, out_path, section, elapsed, log)
