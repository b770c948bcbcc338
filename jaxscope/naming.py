"""TF1's naming arithmetic: graph-unique names, scope-name validity, stable hashes."""

from __future__ import annotations

import hashlib
import re
from typing import Any

# TF's patterns (ops.py), as its errors print them: a root scope must start with a letter,
# a digit or a dot. Matched whole (TF's "$" lets a trailing newline through, which TF then
# refuses as a node name).
_ROOT_PATTERN = r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$"
_NESTED_PATTERN = r"^[A-Za-z0-9_.\\/>-]*$"
_VALID_ROOT_SCOPE = re.compile(_ROOT_PATTERN[1:-1])
_VALID_NESTED_SCOPE = re.compile(_NESTED_PATTERN[1:-1])


def stable_hash(name: str) -> int:
    """A 32-bit hash of ``name`` that is the same in every Python process.

    Python's ``hash()`` is salted per process, so it cannot seed initial values.

    Example:
      >>> stable_hash("conv1/weights") == stable_hash("conv1/weights")
      True
    """
    digest = hashlib.blake2s(name.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def unique_name(names_in_use: dict[str, int], name: str) -> str:
    """TF's ``Graph.unique_name``: ``w``, ``w_1``, ``w_2``... (case-insensitive counter).

    ``names_in_use`` maps lower-cased names to use counts and is updated.

    Example:
      >>> used = {}
      >>> [unique_name(used, n) for n in ("w", "w", "W", "w_1")]
      ['w', 'w_1', 'W_2', 'w_1_1']
    """
    key = name.lower()
    i = names_in_use.get(key, 0)
    names_in_use[key] = i + 1
    if i == 0:
        return name
    base = key
    while key in names_in_use:
        key = f"{base}_{i}"
        i += 1
    names_in_use[key] = 1
    return f"{name}_{i - 1}"


def check_scope_name(name: str, at_root: bool) -> None:
    """Raise TF's ``ValueError`` (its text) for a scope or variable name TF would refuse.

    Example:
      >>> check_scope_name("a b", at_root=True)
      Traceback (most recent call last):
      ...
      ValueError: 'a b' is not a valid root scope name. A root scope name has to match ...
    """
    if at_root:
        if not _VALID_ROOT_SCOPE.fullmatch(name):
            raise ValueError(
                f"'{name}' is not a valid root scope name. A root scope name has to match the "
                f"following pattern: {_ROOT_PATTERN} (letters, digits and _ . \\ / > -, "
                "not starting with _ \\ / > -)"
            )
    elif not _VALID_NESTED_SCOPE.fullmatch(name):
        raise ValueError(
            f"'{name}' is not a valid scope name. A scope name has to match the following "
            f"pattern: {_NESTED_PATTERN} (letters, digits and _ . \\ / > -)"
        )


def check_variable_name(name: Any, full_name: str, at_root: bool, what: str) -> None:
    """TF's checks of a variable's name: a string, and ``full_name`` (the name TF makes a
    scope of) valid. Names seen valid before are not matched again (the lookup hot path)."""
    if not isinstance(name, str):
        raise TypeError(
            f"{what}: the variable's name must be a string, got {type(name).__name__} {name!r}."
        )
    seen = _VALID_ROOT_NAMES if at_root else _VALID_NESTED_NAMES
    if full_name in seen:
        return
    check_scope_name(full_name, at_root)
    if len(seen) > 100_000:
        seen.clear()
    seen.add(full_name)


_VALID_ROOT_NAMES: set[str] = set()
_VALID_NESTED_NAMES: set[str] = set()


def join(prefix: str, name: str) -> str:
    """``prefix/name``, or ``name`` at the root."""
    return f"{prefix}/{name}" if prefix else name


class ScopeCounts:
    """TF1's ``variable_scopes_count`` for ``default_name`` uniquing, in linear time.

    TF1 keeps ``{full_scope_name: entries}``; exiting a scope zeroes the counts of
    all its descendants, and a re-entered captured scope restores the whole dict
    on exit. TF does both by scanning or copying the dict, which is quadratic in
    the number of scopes; here an index of descendants and an undo journal make
    each step cost only what it changes.

    Example:
      >>> counts = ScopeCounts()
      >>> counts.open("foo"); counts.open("foo/bar")
      >>> counts["foo/bar"]
      1
      >>> counts.close_subscopes("foo")
      >>> counts["foo/bar"], counts["foo"]
      (0, 1)
    """

    __slots__ = ("_counts", "_descendants", "_journal", "_marks")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._descendants: dict[str, set[str]] = {}
        self._journal: list[tuple[str, int]] = []
        self._marks = 0  # open checkpoints; the journal is kept only while one is open

    def __getitem__(self, name: str) -> int:
        return self._counts.get(name, 0)

    def _set(self, name: str, value: int) -> None:
        if self._marks:
            self._journal.append((name, self._counts.get(name, 0)))
        self._counts[name] = value

    def open(self, name: str) -> None:
        """Count one more entry of scope ``name``."""
        count = self._counts.get(name)
        if count is None:
            parts = name.split("/")
            for i in range(1, len(parts)):
                self._descendants.setdefault("/".join(parts[:i]), set()).add(name)
            count = 0
        self._set(name, count + 1)

    def close_subscopes(self, name: str) -> None:
        """Zero the counts of every scope under ``name`` (not ``name`` itself)."""
        for key in self._descendants.get(name, ()):
            if self._counts.get(key):
                self._set(key, 0)

    def checkpoint(self) -> int:
        """Start recording changes; `restore` with the result undoes them."""
        self._marks += 1
        return len(self._journal)

    def restore(self, checkpoint: int) -> None:
        """Undo every change since `checkpoint` (TF1: restore the snapshot) and stop recording."""
        journal = self._journal
        while len(journal) > checkpoint:
            name, old = journal.pop()
            self._counts[name] = old
        self._marks -= 1

    def copy(self) -> ScopeCounts:
        """An independent copy (for lifted transforms, which rewind in any order)."""
        other = ScopeCounts()
        other._counts = dict(self._counts)
        other._descendants = {name: set(keys) for name, keys in self._descendants.items()}
        return other
