"""How far the corpus is from running on jaxscope after renaming ``tf.`` to ``js.``.

For every code line of every corpus file, the ``tf.`` names it uses (the counter's
parsing: aliases, ``from tensorflow import ...``) are looked up under ``jaxscope``:
``tf.nn.relu`` must resolve as ``js.nn.relu``, ``tf.reduce_sum`` as ``js.reduce_sum``.
A line whose names all resolve needs no change beyond the rename. The others are
counted in two groups:

* **excluded** -- the issue's exclusions, graph-and-session infrastructure with no
  counterpart in a functional program: placeholders, sessions, summaries, logging,
  optimizers and schedules (optax's job), estimators, flags, queues and readers;
* **to change** -- everything else: the port distance.

It is an upper bound on lines to edit for names (a line with a missing name is counted
once) and a lower bound overall (argument meanings are not checked here; the ported
models and `tests/test_ops.py` check those). Run with the corpus mirrors present::

    python tools/tf1_corpus/port_distance.py [--missing 40]
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import count_tf_names as counter

import jaxscope as js

EXCLUDED_PREFIXES = (
    "tf.placeholder", "tf.Session", "tf.InteractiveSession", "tf.get_default_session",
    "tf.summary.", "tf.histogram_summary", "tf.scalar_summary", "tf.image_summary",
    "tf.merge_summary", "tf.merge_all_summaries", "tf.logging.", "tf.app.", "tf.flags.",
    "tf.gfile.", "tf.io.gfile.", "tf.train.", "tf.estimator.", "tf.contrib.learn.",
    "tf.contrib.tpu.", "tf.metrics.", "tf.global_variables_initializer",
    "tf.initialize_all_variables", "tf.local_variables_initializer", "tf.tables_initializer",
    "tf.RunOptions", "tf.RunMetadata", "tf.FIFOQueue", "tf.WholeFileReader", "tf.data.",
    "tf.get_default_graph", "tf.Graph", "tf.reset_default_graph", "tf.ConfigProto",
    "tf.GPUOptions", "tf.device", "tf.container", "tf.python.", "tf.executing_eagerly",
    "tf.contrib.slim.learning.", "tf.compat.v2.summary.", "tf.profiler.", "tf.saved_model.",
)


def resolves(name: str) -> bool:
    obj = js
    for part in name.split(".")[1:]:
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def excluded(name: str) -> bool:
    return any(name == p.rstrip(".") or name.startswith(p) for p in EXCLUDED_PREFIXES)


def names_by_line(tree: ast.Module) -> dict[int, set[str]]:
    """``{line: {tf names used on it}}`` with the counter's alias resolution."""
    aliases, from_names = counter._import_aliases(tree)
    if "tf" not in aliases:
        aliases["tf"] = "tf"
    counter._assignment_aliases(tree, aliases)
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    lines: dict[int, set[str]] = collections.defaultdict(set)
    for node in ast.walk(tree):
        if id(node) in inner:
            continue
        name = None
        if isinstance(node, ast.Attribute):
            chain = counter._chain(node)
            if chain and chain[0] in aliases:
                name = counter.normalise(".".join([aliases[chain[0]], *chain[1]]))
        elif (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
              and node.id in from_names):
            name = aliases[node.id]
        if name and name.startswith("tf."):
            lines[node.lineno].add(name)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--missing", type=int, default=40, help="list the N most used misses")
    args = ap.parse_args()
    entries = json.loads(counter.DEFAULT_MANIFEST.read_text())
    total = change = skip = 0
    missing: collections.Counter = collections.Counter()
    per_repo: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for entry in entries:
        src = counter.read_source(entry, counter.DEFAULT_MIRROR_ROOT, None)
        tree = ast.parse(src)
        lines = counter.code_lines(src, tree)
        total += lines
        per_repo[entry["repo"]][0] += lines
        for names in names_by_line(tree).values():
            bad = {n for n in names if not resolves(n)}
            if not bad:
                continue
            if all(excluded(n) for n in bad):
                skip += 1
                continue
            change += 1
            per_repo[entry["repo"]][1] += 1
            missing.update(n for n in bad if not excluded(n))
    print(f"{len(entries)} files, {total} code lines: {change} to change "
          f"({100 * change / total:.1f} %), {skip} excluded infrastructure lines "
          f"({100 * skip / total:.1f} %)\n")
    print("| repo | code lines | to change | % |\n|---|---:|---:|---:|")
    for repo, (lines, bad) in sorted(per_repo.items()):
        print(f"| {repo} | {lines} | {bad} | {100 * bad / lines:.1f} |")
    print("\nmost used names still missing (uses): "
          + ", ".join(f"`{n}` {k}" for n, k in missing.most_common(args.missing)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
