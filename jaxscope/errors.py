"""Errors that teach: each says what went wrong, where, and the fix.

The first sentence of the reuse errors is TF1's text verbatim, so code and
tests that match on TF's messages keep working; jaxscope adds its own lines
after it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class JaxscopeError(Exception):
    """Base of every error jaxscope raises on purpose.

    Each subclass also subclasses the builtin TF raises for the same mistake
    (``ValueError``, ``RuntimeError``...), so ``except ValueError`` keeps working.

    Example:
      >>> import jaxscope as js
      >>> try:
      ...     js.get_variable("w", [1])  # outside js.transform
      ... except js.JaxscopeError as error:
      ...     print(type(error).__name__, isinstance(error, RuntimeError))
      NotInTransformError True
    """


class NotInTransformError(JaxscopeError, RuntimeError):
    """A scope-dependent function was called outside `js.transform`."""

    def __init__(self, what: str):
        super().__init__(
            f"{what} must be called inside a function transformed with js.transform. "
            "Wrap the function that builds your model: `model = js.transform(fn)`, then "
            "`variables = model.init(rng, *args)` and `out, aux = model.apply(variables, *args)`."
        )


class VariableExistsError(JaxscopeError, ValueError):
    """`get_variable` would create a variable that this trace already created."""


class VariableMissingError(JaxscopeError, ValueError):
    """`get_variable` in a reusing scope asked for a variable that was never created."""


class VariableShapeError(JaxscopeError, ValueError):
    """A shared variable was requested with another shape."""


class VariableDtypeError(JaxscopeError, ValueError):
    """A shared variable was requested with another dtype."""


class ApplyVariablesError(JaxscopeError, ValueError):
    """`apply` (or `merge`) was given variables that do not match what the code asks for."""


class MissingRngError(JaxscopeError, ValueError):
    """`next_rng_key` or a random initializer needs an rng that was not given."""


class RawTransformError(JaxscopeError, ValueError):
    """A variable was created inside a raw JAX transform during `init`."""


class ScopeLifetimeError(JaxscopeError, RuntimeError):
    """A `VariableScope` was used outside the trace that made it."""


def close_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The existing names closest to ``name``, best first (case differences count least)."""
    by_lower: dict[str, list[str]] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), []).append(candidate)
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.5)
    return [original for lower in close for original in by_lower[lower]][:n]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'a' or 'b'?`` for the closest names, or ``""``."""
    close = close_names(name, candidates)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


def format_shape(shape: Sequence[int | None] | None) -> str:
    """Print a shape as TF1's TensorShape does: ``(2,)``, ``(3, 4)``, ``()``, ``(?, 3)``."""
    if shape is None:
        return "<unknown>"
    dims = ["?" if d is None else str(d) for d in shape]
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "(" + ", ".join(dims) + ")"


def exists_message(name: str, origin: str) -> str:
    """TF1's "already exists" text; ``origin`` is the formatted creation site."""
    return (
        f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
        f"reuse=tf.AUTO_REUSE in VarScope? Originally defined at:\n\n{origin}\n"
        "In jaxscope: open the scope with `js.variable_scope(..., reuse=True)` (or "
        "`reuse=js.AUTO_REUSE`), or call `js.get_variable_scope().reuse_variables()` "
        "before fetching it again."
    )


def missing_message(name: str, candidates: Iterable[str]) -> str:
    return (
        f"Variable {name} does not exist, or was not created with tf.get_variable(). "
        "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?\n"
        f"In jaxscope: this scope reuses (reuse=True), so `{name}` must have been created "
        "earlier in the same call with js.get_variable; use reuse=js.AUTO_REUSE to create "
        "it when missing." + did_you_mean(name, candidates)
    )
