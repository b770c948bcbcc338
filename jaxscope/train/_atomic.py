"""Atomic file writes: readers see the old file or the new one, whole, never a mix."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from typing import BinaryIO

_SUFFIX = ".tmp"
_RANDOM = "[a-z0-9_]{8}"  # what tempfile.mkstemp puts between prefix and suffix


def remove_stale_temps(folder: str, target: str, before: float) -> list[str]:
    """Remove the temp files `atomic_write` left in ``folder`` for files whose names
    match the regular expression ``target``, last written before ``before`` (a time):
    leftovers of writes that were killed. Returns the names removed.

    >>> import os, tempfile, time
    >>> folder = tempfile.mkdtemp()
    >>> for name in (".m-1.safetensors.ab12_x9z.tmp", ".other.ab12_x9z.tmp", "m-1.safetensors"):
    ...     open(os.path.join(folder, name), "w").close()
    >>> remove_stale_temps(folder, r"m-\\d+\\.safetensors", time.time() + 1)
    ['.m-1.safetensors.ab12_x9z.tmp']
    """
    pattern = re.compile(rf"\.(?:{target})\.{_RANDOM}{re.escape(_SUFFIX)}")
    removed = []
    for entry in os.scandir(folder):
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < before:
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:  # gone already, or not ours to remove
            pass
    return sorted(removed)


def fsync_dir(folder: str) -> None:
    """Make a rename inside ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a temp file beside ``path``, fsync it, rename it to ``path``.

    A crash or kill at any point leaves ``path`` as it was, or whole and new; the temp
    file is removed when ``write`` raises.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "state")
    >>> atomic_write(path, lambda f: f.write(b"step: 1\\n"))
    >>> open(path, "rb").read()
    b'step: 1\\n'
    """
    folder = os.path.dirname(os.path.abspath(path))
    prefix = "." + os.path.basename(path) + "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(folder)
