"""TF1's naming arithmetic: graph-unique names, scope-name validity, stable hashes."""

from __future__ import annotations

import hashlib
import re

# TF1.15's patterns (ops.py): a root scope must start with a letter, digit or dot.
_VALID_ROOT_SCOPE = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/]*$")
_VALID_NESTED_SCOPE = re.compile(r"^[A-Za-z0-9_.\-/]*$")


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
    """Raise TF1's ``ValueError`` for a scope name TF would refuse."""
    pattern = _VALID_ROOT_SCOPE if at_root else _VALID_NESTED_SCOPE
    if not pattern.match(name):
        rule = "start with a letter, digit or '.' and then " if at_root else ""
        raise ValueError(
            f"'{name}' is not a valid scope name. A scope name must {rule}use only "
            "letters, digits and the characters _ . - /"
        )


def join(prefix: str, name: str) -> str:
    """``prefix/name``, or ``name`` at the root."""
    return f"{prefix}/{name}" if prefix else name
