"""The ``checkpoint`` state file: TF1's text list of a folder's checkpoints.

TF1 writes it in protobuf text format::

    model_checkpoint_path: "model.ckpt-300"
    all_model_checkpoint_paths: "model.ckpt-200"
    all_model_checkpoint_paths: "model.ckpt-300"

jaxscope writes it the same way (atomically) and reads TF1's and TF2's files (unknown
fields such as timestamps are ignored). Paths are resolved against the folder.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> write_checkpoint_state(folder, "m-3", ["m-2", "m-3"])
>>> print(open(folder + "/checkpoint").read(), end="")
model_checkpoint_path: "m-3"
all_model_checkpoint_paths: "m-2"
all_model_checkpoint_paths: "m-3"
>>> get_checkpoint_state(folder).model_checkpoint_path == folder + "/m-3"
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

from jaxscope.train._atomic import atomic_write
from jaxscope.train._bounds import MAX_STATE_FILE, open_regular
from jaxscope.train.errors import CheckpointNotFoundError, CorruptCheckpointError

__all__ = [
    "STATE_FILENAME",
    "CheckpointState",
    "checkpoint_exists",
    "get_checkpoint_state",
    "latest_checkpoint",
    "write_checkpoint_state",
]

STATE_FILENAME = "checkpoint"
_SUFFIXES = (".safetensors", ".index")  # jaxscope's file, TF1's index


class CheckpointState(NamedTuple):
    """The contents of a ``checkpoint`` state file, paths resolved against its folder.

    Example:
      >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
      >>> folder = tempfile.mkdtemp()
      >>> saver = js.train.Saver()
      >>> for step in (1, 2):
      ...     _ = saver.save({"params": {"w": jnp.zeros(2)}}, os.path.join(folder, "m"), step)
      >>> state = js.train.get_checkpoint_state(folder)  # TF1: tf.train.get_checkpoint_state
      >>> os.path.basename(state.model_checkpoint_path)
      'm-2'
      >>> [os.path.basename(path) for path in state.all_model_checkpoint_paths]
      ['m-1', 'm-2']
    """

    model_checkpoint_path: str
    all_model_checkpoint_paths: list[str]


def checkpoint_exists(prefix: str) -> bool:
    """Whether a jaxscope or TF1 checkpoint (or a bare file) exists at ``prefix``."""
    return any(os.path.exists(prefix + suffix) for suffix in (*_SUFFIXES, ""))


# --------------------------------------------------------------------------- text strings

_ESCAPES = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11,
            "\\": 92, "'": 39, '"': 34, "?": 63}


def _quote(text: str) -> str:
    """A protobuf text-format string literal, as TF1 writes paths."""
    out = []
    for ch in text:
        if ch in "\"\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def _unquote(literal: str, where: str) -> str:
    """Undo `_quote` and every C escape protobuf's text format allows (octal, hex)."""
    if len(literal) < 2 or literal[0] not in "\"'" or literal[-1] != literal[0]:
        raise CorruptCheckpointError(f"{where}: expected a quoted string, got {literal!r}")
    body, out, i = literal[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise CorruptCheckpointError(f"{where}: dangling backslash in {literal!r}")
        ch = body[i]
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
            i += 1
        elif ch in "01234567":
            j = i
            while j < len(body) and j < i + 3 and body[j] in "01234567":
                j += 1
            out.append(int(body[i:j], 8) & 0xFF)
            i = j
        elif ch in "xX" and i + 1 < len(body) and body[i + 1] in "0123456789abcdefABCDEF":
            j = i + 1
            while j < len(body) and j < i + 3 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 1:j], 16))
            i = j
        else:
            raise CorruptCheckpointError(f"{where}: unknown escape \\{ch} in {literal!r}")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptCheckpointError(
            f"{where}: {literal!r} escapes bytes that are not UTF-8; checkpoint state "
            "files hold UTF-8 paths, as TensorFlow's protobuf text format requires."
        ) from None


# --------------------------------------------------------------------------- the file


def read_state_file(directory: str, filename: str = STATE_FILENAME
                    ) -> tuple[str | None, list[str]] | None:
    """``(model_checkpoint_path or None, all_model_checkpoint_paths)``; None without a file."""
    path = os.path.join(directory, filename)
    if not os.path.exists(path):  # a dangling symlink too: no state file
        return None
    with open_regular(path, "Checkpoint state file", CheckpointNotFoundError) as f:
        raw = f.read(MAX_STATE_FILE + 1)
    if len(raw) > MAX_STATE_FILE:
        raise CorruptCheckpointError(
            f"Checkpoint state file {path} is over {MAX_STATE_FILE} bytes; a state file lists "
            "a few paths. Delete or rewrite it (Saver.save writes a new one)."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorruptCheckpointError(
            f"Checkpoint state file {path} is not UTF-8 text (byte {e.start}): {e.reason}."
        ) from None

    def resolve(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(directory, p)

    latest: str | None = None
    all_paths: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        field, sep, value = line.partition(":")
        if not sep:
            raise CorruptCheckpointError(
                f"Checkpoint state file {path} line {number} does not parse: expected "
                f"'field: value', got {line!r}"
            )
        field, value = field.strip(), value.strip()
        if field == "model_checkpoint_path":
            latest = resolve(_unquote(value, f"{path}:{number} {field}"))
        elif field == "all_model_checkpoint_paths":
            all_paths.append(resolve(_unquote(value, f"{path}:{number} {field}")))
    return latest, all_paths


def write_checkpoint_state(
    directory: str, model_checkpoint_path: str, all_model_checkpoint_paths: Sequence[str]
) -> None:
    """Atomically (re)write ``directory/checkpoint``; give paths relative to it, as TF1."""
    lines = [f"model_checkpoint_path: {_quote(model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in all_model_checkpoint_paths]
    text = "\n".join(lines) + "\n"
    atomic_write(os.path.join(directory, STATE_FILENAME), lambda f: f.write(text.encode()))


def get_checkpoint_state(
    checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None
) -> CheckpointState | None:
    """Read the ``checkpoint`` state file of ``checkpoint_dir`` (None when there is none).

    Relative paths in the file are resolved against ``checkpoint_dir``; unknown fields
    (TF2's timestamps) are ignored.

    >>> import os, tempfile
    >>> import jax.numpy as jnp
    >>> from jaxscope.train import Saver, get_checkpoint_state
    >>> folder = tempfile.mkdtemp()
    >>> saver = Saver(max_to_keep=2)
    >>> for step in (1, 2, 3):
    ...     _ = saver.save({"params": {"w": jnp.zeros(2)}}, os.path.join(folder, "m"), step)
    >>> state = get_checkpoint_state(folder)
    >>> os.path.basename(state.model_checkpoint_path)
    'm-3'
    >>> [os.path.basename(p) for p in state.all_model_checkpoint_paths]
    ['m-2', 'm-3']
    >>> get_checkpoint_state(tempfile.mkdtemp()) is None
    True
    """
    folder = os.fspath(checkpoint_dir)
    filename = latest_filename or STATE_FILENAME
    found = read_state_file(folder, filename)
    if found is None:
        return None
    latest, all_paths = found
    if not latest:
        raise CorruptCheckpointError(
            f"Checkpoint state file {os.path.join(folder, filename)} has no "
            "model_checkpoint_path."
        )
    return CheckpointState(latest, all_paths)


def latest_checkpoint(
    checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None
) -> str | None:
    """The prefix of the newest checkpoint in ``checkpoint_dir``, or None (as TF1).

    The prefix has no extension: pass it to `Saver.restore` as it is.

    >>> import tempfile
    >>> latest_checkpoint(tempfile.mkdtemp()) is None
    True
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path
