"""Run every benchmark script, one after another: ``python -m benchmarks [--quick] [--only NAME]``.

Each ``benchmarks/bench_*.py`` runs in its own process (they set different XLA flags and
must not share JAX's caches), from the repository root, with the options given here. A
full run rewrites each script's section of ``benchmarks/RESULTS.md``; ``--quick`` runs
each script's short pass and prints the reports only (``--out FILE`` writes them to FILE).
The exit status is non-zero when a script failed; the others still run.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
SCRIPTS = sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each script's short pass")
    parser.add_argument("--out", default=None, help="Markdown file for the reports "
                        "(default: benchmarks/RESULTS.md for a full run, nowhere for --quick)")
    parser.add_argument("--only", action="append", choices=SCRIPTS, metavar="NAME",
                        help=f"run only these scripts (repeatable): {', '.join(SCRIPTS)}")
    args = parser.parse_args(argv)
    options = (["--quick"] if args.quick else []) + (["--out", args.out] if args.out else [])
    failed = []
    for name in args.only or SCRIPTS:
        started = time.perf_counter()
        print(f"== bench_{name}.py {' '.join(options)}", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py"), *options],
                              cwd=HERE.parent, check=False)
        seconds = time.perf_counter() - started
        status = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        print(f"== bench_{name}.py: {status} in {seconds:.0f} s", file=sys.stderr, flush=True)
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
