"""What a checkpoint file may claim: every reader checks through here before it allocates.

A checkpoint is untrusted input. Its files must be regular files (never a device, FIFO
or ``/dev/zero`` behind a symlink), reads take at most the bytes a file holds, and a
claimed shape must be whole non-negative numbers whose bytes numpy can address and the
file actually holds -- checked in Python integers, before any buffer exists.

>>> checked_shape([2, 3], 4, 24, ValueError)
(2, 3)
>>> checked_shape([2.5], 4, 24, ValueError)
Traceback (most recent call last):
ValueError: dimension 0 is 2.5, not a non-negative integer
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable
from typing import Any, BinaryIO

from jaxscope.train.errors import CorruptCheckpointError

MAX_BYTES = 2**63 - 1  # numpy addresses at most this many bytes (npy_intp)
MAX_STATE_FILE = 16 * 1024 * 1024  # a `checkpoint` state file is text: a few KB


def open_regular(path: str, what: str, missing: Callable[[str], Exception]) -> BinaryIO:
    """``path`` opened for binary reading, after checking it is a regular file.

    ``missing(message)`` is the error raised when it does not exist; anything that is
    not a regular file (a directory, device, FIFO, socket) is refused before it is read.
    """
    try:
        mode = os.stat(path).st_mode  # follows symlinks: judge what would be read
    except FileNotFoundError:
        raise missing(f"{what} not found: {path}") from None
    if not stat.S_ISREG(mode):
        raise CorruptCheckpointError(
            f"{what} {path} is not a regular file ({_kind(mode)}); a checkpoint is read only "
            "from regular files."
        )
    return open(path, "rb", buffering=0)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def file_size(f: BinaryIO) -> int:
    return os.fstat(f.fileno()).st_size


def read_into(f: BinaryIO, offset: int, view: memoryview) -> bool:
    """Fill ``view`` with the bytes at ``offset``; False when the file ends first."""
    done = 0
    while done < len(view):
        got = os.preadv(f.fileno(), [view[done:]], offset + done)
        if not got:
            return False
        done += got
    return True


def read_exactly(f: BinaryIO, offset: int, size: int) -> bytearray | None:
    """``size`` bytes at ``offset`` (a fresh, writable buffer), or None when cut short."""
    buffer = bytearray(size)
    return buffer if read_into(f, offset, memoryview(buffer)) else None


def checked_shape(
    dims: Any, itemsize: int, available: int, error: Callable[[str], Exception]
) -> tuple[int, ...]:
    """``dims`` as a shape, or ``error(why)``: a list of non-negative integers (not bools,
    floats or strings) whose array numpy can address and whose bytes, ``count *
    itemsize``, fit in the ``available`` bytes the file holds."""
    if not isinstance(dims, (list, tuple)):
        raise error(f"the shape is {dims!r}, not a list of dimensions")
    for axis, dim in enumerate(dims):
        if type(dim) is not int or dim < 0:
            raise error(f"dimension {axis} is {dim!r}, not a non-negative integer")
    addressed = math.prod(max(dim, 1) for dim in dims) * max(itemsize, 1)
    if addressed > MAX_BYTES:
        raise error(f"the shape {list(dims)} is too large for any array")
    nbytes = math.prod(dims) * itemsize
    if nbytes > available:
        raise error(f"the shape {list(dims)} needs {nbytes} bytes, but its data in the file "
                    f"is {available} bytes")
    return tuple(dims)
