"""The code blocks of README.md and docs/*.md run, and the migration table names real things.

Convention for the Markdown files:

* a block fenced ```` ```python ```` (info string exactly ``python``) is jaxscope code and
  is executed;
* the blocks of one file run in order in one shared namespace, like a doctest session;
  each file starts from a fresh namespace, with the repository root as working directory
  (snippets refer to ``examples/data/...`` as a reader at the root would);
* TF1 code is fenced ```` ```python tf1 ```` (GitHub still highlights it as Python) and is
  not run, nor is any other language (``bash``, ``text``, ...).

A failing block is reported with its file and line, and the traceback points into the
Markdown file itself (each block is compiled with its own line numbers).

`test_migration_table_names_resolve` checks that every ``js.<name>`` in the tables of
docs/migration.md is a real attribute of jaxscope. When the project's seed documents
are present (``../shared/seeds``, beside the repository), every TF1 name they (and
``TF_SEMANTICS.md``) use must appear in the tables of docs/migration.md.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path
from typing import NamedTuple

import pytest

import jaxscope as js

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MIGRATION = DOCS / "migration.md"
SHARED = REPO.parent / "shared"
MARKDOWN_FILES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]

# An opening or closing fence: up to 3 spaces of indent, 3+ backticks or tildes, info string.
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


class Block(NamedTuple):
    """A fenced code block: its info string, the line of its first code line, its code."""

    info: str
    line: int
    code: str


def code_blocks(text: str, where: str = "<markdown>") -> list[Block]:
    """Every fenced block of a Markdown text, in order (CommonMark fence rules)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = _FENCE.match(lines[i])
            if (closing is not None and closing["fence"][0] == fence[0]
                    and len(closing["fence"]) >= len(fence) and not closing["info"].strip()):
                break
            body.append(_strip_indent(lines[i], indent))
            i += 1
        else:
            raise AssertionError(f"{where}:{start}: code block opened here is never closed")
        blocks.append(Block(opening["info"].strip(), start + 1, "\n".join(body) + "\n"))
        i += 1
    return blocks


def _strip_indent(line: str, indent: int) -> str:
    """Remove up to ``indent`` leading spaces (a fence indented N spaces indents its body)."""
    removable = len(line) - len(line.lstrip(" "))
    return line[min(indent, removable):]


def runnable(blocks: list[Block]) -> list[Block]:
    """The blocks the convention runs: info string exactly ``python``."""
    return [block for block in blocks if block.info == "python"]


def run_blocks(path: Path, blocks: list[Block]) -> None:
    """Execute ``blocks`` in order in one fresh namespace; fail naming the block's line."""
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for block in blocks:
        # Pad with newlines so the compiled code's line numbers are the Markdown file's.
        source = "\n" * (block.line - 1) + block.code
        try:
            exec(compile(source, str(path), "exec"), namespace)
        except Exception as error:
            trace = "".join(traceback.format_exception(error)[-12:])
            where = f"{shown(path)}: the ```python block opened at line {block.line - 1}"
            pytest.fail(f"{where} failed:\n{trace}", pytrace=False)


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_markdown_python_blocks_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    blocks = runnable(code_blocks(path.read_text(encoding="utf-8"), str(path)))
    if path.parent == DOCS:
        assert blocks, f"{shown(path)} has no ```python block to run"
    run_blocks(path, blocks)


def test_code_blocks_follow_the_convention() -> None:
    text = "\n".join([
        "```python", "a = 1", "```",
        "```python tf1", "tf.get_variable('v')", "```",
        "  ```python", "  b = a", "  ```",
        "````python", "```", "````",
        "```bash", "ls", "```",
    ])
    blocks = code_blocks(text)
    assert [b.info for b in blocks] == ["python", "python tf1", "python", "python", "bash"]
    assert [(b.line, b.code) for b in runnable(blocks)] == [
        (2, "a = 1\n"), (8, "b = a\n"), (11, "```\n")]
    with pytest.raises(AssertionError, match="never closed"):
        code_blocks("```python\nx = 1\n")


def test_docs_exist() -> None:
    assert (DOCS / "migration.md").is_file()
    assert (DOCS / "guide.md").is_file()


# -- the migration table -----------------------------------------------------------------------
_JS_NAME = re.compile(r"(?<![\w.])js((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def migration_table_rows() -> list[str]:
    """The table rows of docs/migration.md (its name tables; code blocks hold no tables)."""
    lines = MIGRATION.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.lstrip().startswith("|")]


def migration_table_names() -> list[str]:
    """Every ``js.<dotted name>`` in a table row of docs/migration.md, in order, once."""
    names: dict[str, None] = {}
    for line in migration_table_rows():
        for match in _JS_NAME.finditer(line):
            names["js" + match.group(1)] = None
    return list(names)


def resolve(dotted: str) -> object:
    """The object ``js.a.b.c`` names; raises AttributeError naming the missing part."""
    obj: object = js
    walked = "js"
    for part in dotted.split(".")[1:]:
        if not hasattr(obj, part):
            raise AttributeError(f"{dotted}: {walked} has no attribute {part!r}")
        obj = getattr(obj, part)
        walked += "." + part
    return obj


def test_migration_table_names_resolve() -> None:
    names = migration_table_names()
    assert len(names) > 150, f"only {len(names)} js names found in the migration tables"
    missing = []
    for name in names:
        try:
            resolve(name)
        except AttributeError as error:
            missing.append(str(error))
    assert not missing, "docs/migration.md names what jaxscope lacks:\n" + "\n".join(missing)


def test_resolve_rejects_a_name_jaxscope_lacks() -> None:
    with pytest.raises(AttributeError, match="js.train has no attribute 'Session'"):
        resolve("js.train.Session")
    assert resolve("js.VariableScope.reuse_variables") is js.VariableScope.reuse_variables


# -- every TF1 name of the seeds is in the migration page ---------------------------------------
_TF_NAME = re.compile(r"\btf\.[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_GRAPH_KEY = re.compile(r"\bGraphKeys\.[A-Z_]+")
# Misspellings in the seed documents themselves, and the name each one means.
SEED_TYPOS = {
    "tf.Varaible": "tf.Variable",
    "tf.Variables": "tf.Variable",
    "tf.get_varaible": "tf.get_variable",
    "tf.get_variables": "tf.get_variable",
    "tf.getvariable": "tf.get_variable",
    "tf.getvarialbe": "tf.get_variable",
    "tf.varialbe_scope": "tf.variable_scope",
}


def tf1_names(text: str) -> set[str]:
    """``tf.*`` and ``GraphKeys.*`` names used in a text, typos mapped to what they mean."""
    names = {SEED_TYPOS.get(name, name) for name in _TF_NAME.findall(text)}
    return names | set(_GRAPH_KEY.findall(text))


def is_covered(name: str, table: str) -> bool:
    """Whether ``table`` names ``name``: itself, or (a member) its class and ``.member``."""
    if re.search(re.escape(name) + r"(?![\w])", table):
        return True
    head, _, attribute = name.rpartition(".")
    return bool(head) and head in table and f"`.{attribute}" in table


def test_tf1_names_finds_names_and_maps_typos() -> None:
    text = "use tf.get_varaible and tf.train.Saver; tf.GraphKeys.GLOBAL_VARIABLES."
    assert tf1_names(text) == {"tf.get_variable", "tf.train.Saver",
                               "tf.GraphKeys.GLOBAL_VARIABLES", "GraphKeys.GLOBAL_VARIABLES"}
    assert is_covered("tf.VariableScope.set_dtype", "| `tf.VariableScope` | ... `.set_dtype` |")
    assert not is_covered("tf.nn.conv", "| `tf.nn.conv2d` |")


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(),
                    reason="the seed documents (../shared/seeds) are not checked out")
def test_every_tf1_name_of_the_seeds_is_in_the_migration_page() -> None:
    sources = sorted((SHARED / "seeds").glob("*.txt"))
    semantics = SHARED / "TF_SEMANTICS.md"
    if semantics.is_file():
        sources.append(semantics)
    table = "\n".join(migration_table_rows())  # Part 1 only: Part 2 quotes the seeds' code
    names: set[str] = set()
    for source in sources:
        names |= tf1_names(source.read_text(encoding="utf-8"))
    assert len(names) > 40, sorted(names)
    missing = sorted(name for name in names if not is_covered(name, table))
    assert not missing, f"TF1 names of the seeds missing from docs/migration.md's tables: {missing}"
