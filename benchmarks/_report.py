"""Write one benchmark's section of a shared Markdown results file (``RESULTS.md``).

Each script owns the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` (markers
on lines of their own) and replaces only that; a section not yet in the file is appended.
A new file starts with a short common header. The file is locked while it is rewritten, so
two benchmarks finishing at once do not lose each other's section.
"""

from __future__ import annotations

import fcntl
import os
import re

HEADER = (
    "# jaxscope benchmark results\n"
    "\n"
    "One section per script in `benchmarks/` (`<!-- BEGIN name -->` … `<!-- END name -->`); "
    "each run of a script rewrites only its own section. `benchmarks/README.md` explains the "
    "scripts and their tables.\n"
)


def write_section(path: str, name: str, markdown: str) -> None:
    """Replace section ``name`` of the Markdown file ``path`` by ``markdown`` (or append it)."""
    if not re.fullmatch(r"[\w.\-]+", name):
        raise ValueError(f"section name must be a simple word: {name!r}")
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    found = re.compile(rf"^{re.escape(begin)}\n.*?^{re.escape(end)}$", re.M | re.S)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file is closed
        text = f.read()
        if found.search(text):
            text = found.sub(lambda _: block, text, count=1)
        else:
            if not text.strip():
                text = HEADER
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        f.seek(0)
        f.write(text)
        f.truncate()
