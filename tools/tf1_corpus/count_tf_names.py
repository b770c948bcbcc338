#!/usr/bin/env python3
"""Count the ``tf.X`` names used by a corpus of TF1-era model code.

The corpus is described by ``manifest.json`` (next to this script): a list of
``{repo, commit, path, license, code_lines}``.  The source files themselves are
never copied into this repository; they are read either

* from bare git mirrors (``git --git-dir=<mirror> show <commit>:<path>``), looked
  up under ``--mirror-root`` as ``<owner>+<name>/repo`` or ``<owner>+<name>/repo/.git``
  (the layout produced by the session's ``fetch`` tool), or
* from a directory of plain files, ``--plain-dir DIR``, laid out as
  ``DIR/<owner>/<name>/<path>`` (e.g. a ``git archive`` of each repo at the pinned
  commit).  ``--plain-dir`` is tried first when both are given.

Nothing here touches the network.

Counting rules (see README.md):

* each file is parsed with :mod:`ast`; files that do not parse under Python 3 fall
  back to a token scan (and, if even tokenizing fails, a regex) and are reported;
* a name is the *maximal* attribute chain rooted at a TensorFlow alias, e.g.
  ``tf.nn.relu(x)`` counts ``tf.nn.relu`` once (not ``tf.nn``);
  ``tf.get_variable_scope().reuse`` counts ``tf.get_variable_scope``;
* aliases: ``import tensorflow as tf`` and ``import tensorflow.compat.v1 as tf``
  both map to ``tf``; ``tf.compat.v1.X`` is normalised to ``tf.X``;
  ``import tensorflow.contrib.slim as slim`` / ``from tensorflow.contrib import slim``
  map ``slim`` to ``tf.contrib.slim``; ``import tf_slim [as slim]`` (the pip
  package that replaced ``tf.contrib.slim``) also maps to ``tf.contrib.slim``;
  ``from tensorflow.X import Y [as Z]`` maps ``Z`` to ``tf.X.Y`` (a bare use of
  ``Z`` counts as one use of ``tf.X.Y``); a module-level ``slim = tf.contrib.slim``
  style assignment defines an alias too (namespaces only: the last component must
  start lower-case, so ``FLAGS = tf.app.flags.FLAGS`` is not an alias);
* ``tf.app.flags.FLAGS.<flag>`` is cut to ``tf.app.flags.FLAGS``;
* a file that uses ``tf`` without binding it (``from .layers import *``) is taken
  to mean TensorFlow (reported as ``implicit_tf``).

Code lines are non-blank lines holding a token other than a comment, excluding
string-only expression statements (docstrings).

Usage::

    python tools/tf1_corpus/count_tf_names.py                    # recount -> counts.json
    python tools/tf1_corpus/count_tf_names.py --update-manifest  # pin HEAD commits, code_lines
    python tools/tf1_corpus/count_tf_names.py --markdown 60      # print the README table
    python tools/tf1_corpus/count_tf_names.py --scan-dir SOMEDIR # ad hoc: all *.py under a dir
"""

from __future__ import annotations

import argparse
import ast
import collections
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_MANIFEST = HERE / "manifest.json"
DEFAULT_COUNTS = HERE / "counts.json"
DEFAULT_MIRROR_ROOT = Path(os.environ.get("TF1_CORPUS_MIRRORS", "/work/.mirror"))

# Module paths that stand for "tf" itself.
_TF_ROOTS = ("tensorflow.compat.v1", "tensorflow")
# Non-"tensorflow" packages mapped onto a tf.* name.
_EXTRA_MODULES = {"tf_slim": "tf.contrib.slim"}


def canonical_module(modname: str) -> str | None:
    """``tensorflow.compat.v1.nn`` -> ``tf.nn``; non-TF modules -> None."""
    for root in _TF_ROOTS:
        if modname == root:
            return "tf"
        if modname.startswith(root + "."):
            return normalise("tf." + modname[len(root) + 1:])
    for mod, canon in _EXTRA_MODULES.items():
        if modname == mod:
            return canon
        if modname.startswith(mod + "."):
            return canon + modname[len(mod):]
    return None


def normalise(name: str) -> str:
    """``tf.compat.v1.X`` -> ``tf.X``; ``tf.app.flags.FLAGS.lr`` -> ``tf.app.flags.FLAGS``."""
    if ".FLAGS." in name:
        name = name[:name.index(".FLAGS.") + len(".FLAGS")]
    if name.startswith("tf.compat.v1."):
        return "tf." + name[len("tf.compat.v1."):]
    if name == "tf.compat.v1":
        return "tf"
    return name


# --------------------------------------------------------------------------- reading


def mirror_git_dir(repo: str, mirror_root: Path) -> Path | None:
    base = mirror_root / repo.replace("/", "+") / "repo"
    for cand in (base / ".git", base):
        if (cand / "HEAD").is_file() or (cand / "objects").is_dir():
            return cand
    return None


def git(git_dir: Path, *args: str) -> str:
    out = subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True,
                         capture_output=True)
    return out.stdout.decode("utf-8", errors="replace")


def read_source(entry: dict, mirror_root: Path, plain_dir: Path | None) -> str:
    repo, path = entry["repo"], entry["path"]
    if plain_dir is not None:
        p = plain_dir / repo / path
        if p.is_file():
            return p.read_text(encoding="utf-8", errors="replace")
    gd = mirror_git_dir(repo, mirror_root)
    if gd is None:
        raise FileNotFoundError(
            f"{repo}:{path}: no plain file under --plain-dir and no mirror under "
            f"{mirror_root} (expected {repo.replace('/', '+')}/repo)")
    rev = entry.get("commit") or "HEAD"
    return git(gd, "show", f"{rev}:{path}")


# --------------------------------------------------------------------------- analysis


def docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


_SKIP_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}


def code_lines(src: str, tree: ast.AST | None) -> int:
    try:
        lines: set[int] = set()
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type in _SKIP_TOKENS:
                continue
            lines.update(range(tok.start[0], tok.end[0] + 1))
        if tree is not None:
            lines -= docstring_lines(tree)
        return len(lines)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return sum(1 for ln in src.splitlines()
                   if ln.strip() and not ln.lstrip().startswith("#"))


def _chain(node: ast.AST) -> tuple[str, list[str]] | None:
    """``a.b.c`` -> ("a", ["b", "c"]); None if not rooted at a Name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, parts[::-1]
    return None


def _import_aliases(tree: ast.AST) -> tuple[dict[str, str], set[str]]:
    """Alias -> canonical prefix, and the subset bound by ``from X import Y``."""
    aliases: dict[str, str] = {}
    from_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    canon = canonical_module(a.name)
                    if canon:
                        aliases[a.asname] = canon
                else:
                    top = a.name.split(".")[0]
                    canon = canonical_module(top)
                    if canon:
                        aliases[top] = canon
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            canon_mod = canonical_module(node.module)
            if canon_mod is None:
                continue
            for a in node.names:
                if a.name == "*":
                    continue
                local = a.asname or a.name
                aliases[local] = normalise(f"{canon_mod}.{a.name}")
                from_names.add(local)
    return aliases, from_names


def _assignment_aliases(tree: ast.Module, aliases: dict[str, str]) -> None:
    """Module-level ``slim = tf.contrib.slim`` (also inside module-level if/try)."""
    stack = list(tree.body)
    while stack:
        st = stack.pop(0)
        if isinstance(st, (ast.If, ast.Try)):
            stack.extend(st.body)
            stack.extend(getattr(st, "orelse", []))
            for h in getattr(st, "handlers", []):
                stack.extend(h.body)
            continue
        if (isinstance(st, ast.Assign) and len(st.targets) == 1
                and isinstance(st.targets[0], ast.Name)
                and isinstance(st.value, ast.Attribute)):
            ch = _chain(st.value)
            # Namespaces only (``slim = tf.contrib.slim``), not ``FLAGS = tf.app.flags.FLAGS``.
            if ch and ch[0] in aliases and ch[1] and ch[1][-1][:1].islower():
                aliases[st.targets[0].id] = normalise(".".join([aliases[ch[0]], *ch[1]]))


def count_ast(tree: ast.Module) -> tuple[collections.Counter, bool]:
    aliases, from_names = _import_aliases(tree)
    implicit = False
    bound = {n.id for n in ast.walk(tree)
             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if "tf" not in aliases and "tf" not in bound:
        uses_tf = any(isinstance(n, ast.Name) and n.id == "tf" for n in ast.walk(tree))
        if uses_tf:
            aliases["tf"] = "tf"
            implicit = True
    _assignment_aliases(tree, aliases)

    inner: set[int] = set()  # Attribute/Name nodes that are the .value of an Attribute
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            inner.add(id(node.value))

    counts: collections.Counter = collections.Counter()
    for node in ast.walk(tree):
        if id(node) in inner:
            continue
        if isinstance(node, ast.Attribute):
            ch = _chain(node)
            if ch and ch[0] in aliases:
                counts[normalise(".".join([aliases[ch[0]], *ch[1]]))] += 1
        elif (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
              and node.id in from_names):
            counts[aliases[node.id]] += 1
    return counts, implicit


_IMPORT_AS = re.compile(r"^\s*import\s+([\w.]+)\s+as\s+(\w+)", re.M)
_FROM_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+(\w+)(?:\s+as\s+(\w+))?", re.M)


def count_tokens(src: str) -> collections.Counter:
    """Fallback for files that do not parse under Python 3 (e.g. py2 print)."""
    aliases = {"tf": "tf"}
    for mod, alias in _IMPORT_AS.findall(src):
        canon = canonical_module(mod)
        if canon:
            aliases[alias] = canon
    for mod, name, alias in _FROM_IMPORT.findall(src):
        canon = canonical_module(mod)
        if canon:
            aliases[alias or name] = normalise(f"{canon}.{name}")
    for mod in _EXTRA_MODULES:
        if re.search(rf"^\s*import\s+{re.escape(mod)}\s*$", src, re.M):
            aliases[mod] = _EXTRA_MODULES[mod]
    counts: collections.Counter = collections.Counter()
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(src).readline)
                if t.type not in _SKIP_TOKENS]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        # Last resort: regex over comment-stripped lines.
        alts = "|".join(map(re.escape, aliases))
        pat = re.compile(rf"(?<![\w.])({alts})((?:\.\w+)+)")
        for ln in src.splitlines():
            ln = ln.split("#", 1)[0]
            for root, rest in pat.findall(ln):
                counts[normalise(aliases[root] + rest)] += 1
        return counts
    i = 0
    while i < len(toks):
        t = toks[i]
        prev = toks[i - 1] if i else None
        if (t.type == tokenize.NAME and t.string in aliases
                and not (prev and prev.type == tokenize.OP and prev.string == ".")
                and i + 2 < len(toks) and toks[i + 1].string == "."
                and toks[i + 2].type == tokenize.NAME
                and not (prev and prev.string in ("import", "as"))):
            parts = [aliases[t.string]]
            j = i + 1
            while (j + 1 < len(toks) and toks[j].string == "."
                   and toks[j + 1].type == tokenize.NAME):
                parts.append(toks[j + 1].string)
                j += 2
            counts[normalise(".".join(parts))] += 1
            i = j
            continue
        i += 1
    return counts


def analyse(src: str) -> dict:
    try:
        tree = ast.parse(src)
    except SyntaxError:
        tree = None
    if tree is not None:
        counts, implicit = count_ast(tree)
        method = "ast"
    else:
        counts, implicit = count_tokens(src), False
        method = "fallback"
    return {"counts": counts, "code_lines": code_lines(src, tree), "method": method,
            "implicit_tf": implicit}


# --------------------------------------------------------------------------- driver


def aggregate(results: list[tuple[dict, dict]]) -> dict:
    uses: collections.Counter = collections.Counter()
    files: collections.Counter = collections.Counter()
    repos: dict[str, set] = collections.defaultdict(set)
    per_repo: dict[str, dict] = {}
    for entry, res in results:
        uses.update(res["counts"])
        files.update(res["counts"].keys())
        for name in res["counts"]:
            repos[name].add(entry["repo"])
        pr = per_repo.setdefault(entry["repo"], {"files": 0, "code_lines": 0, "uses": 0})
        pr["files"] += 1
        pr["code_lines"] += res["code_lines"]
        pr["uses"] += sum(res["counts"].values())
    names = [{"name": n, "uses": u, "files": files[n], "repos": len(repos[n])}
             for n, u in sorted(uses.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {
        "files": len(results),
        "code_lines": sum(r["code_lines"] for _, r in results),
        "total_uses": sum(uses.values()),
        "distinct_names": len(names),
        "fallback_parsed": [f"{e['repo']}:{e['path']}" for e, r in results
                            if r["method"] != "ast"],
        "implicit_tf": [f"{e['repo']}:{e['path']}" for e, r in results if r["implicit_tf"]],
        "per_repo": dict(sorted(per_repo.items())),
        "names": names,
    }


def cumulative_share(names: list[dict], total: int, k: int) -> float:
    return 100.0 * sum(n["uses"] for n in names[:k]) / total if total else 0.0


def markdown(counts: dict, top: int) -> str:
    total = counts["total_uses"]
    rows = ["| # | name | uses | files | repos | cum. % of uses |",
            "|---:|---|---:|---:|---:|---:|"]
    cum = 0
    for i, n in enumerate(counts["names"][:top], 1):
        cum += n["uses"]
        rows.append(f"| {i} | `{n['name']}` | {n['uses']} | {n['files']} | {n['repos']} "
                    f"| {100.0 * cum / total:.1f} |")
    rows.append("")
    for k in (60, 100, 150, 200):
        rows.append(f"- top {k} names: {cumulative_share(counts['names'], total, k):.1f}% of uses")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--out", type=Path, default=DEFAULT_COUNTS)
    ap.add_argument("--mirror-root", type=Path, default=DEFAULT_MIRROR_ROOT)
    ap.add_argument("--plain-dir", type=Path, default=None,
                    help="directory laid out as <owner>/<name>/<path>, tried before mirrors")
    ap.add_argument("--scan-dir", type=Path, default=None,
                    help="ad hoc: count every *.py under this directory (no manifest)")
    ap.add_argument("--update-manifest", action="store_true",
                    help="fill missing commits from the mirror's HEAD and rewrite code_lines")
    ap.add_argument("--markdown", type=int, metavar="N", default=0,
                    help="print a markdown table of the top N names")
    ap.add_argument("--dry-run", action="store_true", help="do not write counts.json")
    args = ap.parse_args(argv)

    if args.scan_dir is not None:
        entries = [{"repo": "local", "path": str(p.relative_to(args.scan_dir))}
                   for p in sorted(args.scan_dir.rglob("*.py"))]
        results = [(e, analyse((args.scan_dir / e["path"]).read_text(
            encoding="utf-8", errors="replace"))) for e in entries]
    else:
        entries = json.loads(args.manifest.read_text())
        results = []
        for e in entries:
            if args.update_manifest and not e.get("commit"):
                gd = mirror_git_dir(e["repo"], args.mirror_root)
                if gd is None:
                    raise SystemExit(f"no mirror for {e['repo']} under {args.mirror_root}")
                e["commit"] = git(gd, "rev-parse", "HEAD").strip()
            res = analyse(read_source(e, args.mirror_root, args.plain_dir))
            if args.update_manifest:
                e["code_lines"] = res["code_lines"]
            elif e.get("code_lines") not in (None, res["code_lines"]):
                print(f"warning: {e['repo']}:{e['path']}: code_lines {res['code_lines']} "
                      f"!= manifest {e['code_lines']}", file=sys.stderr)
            results.append((e, res))
        if args.update_manifest:
            keys = ("repo", "commit", "path", "license", "code_lines")
            entries = [{k: e.get(k) for k in keys} for e in entries]
            args.manifest.write_text(json.dumps(entries, indent=1) + "\n")

    counts = aggregate(results)
    if not args.dry_run and args.scan_dir is None:
        args.out.write_text(json.dumps(counts, indent=1) + "\n")
    for item in counts["fallback_parsed"]:
        print(f"note: not Python-3 parseable, token/regex fallback used: {item}",
              file=sys.stderr)
    for item in counts["implicit_tf"]:
        print(f"note: 'tf' used without an import binding it (taken as TensorFlow): {item}",
              file=sys.stderr)
    print(f"{counts['files']} files, {counts['code_lines']} code lines, "
          f"{counts['total_uses']} uses of {counts['distinct_names']} distinct names")
    if args.markdown:
        print(markdown(counts, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
