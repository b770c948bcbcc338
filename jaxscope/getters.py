"""The interceptor chains around a variable: custom getters (every read) and creators.

TF1 wraps two kinds of user functions around its variable store:

* a **custom getter** ``getter(next_getter, name, *args, **kwargs)`` runs on every
  `get_variable` (creation and reuse). Scopes compose theirs innermost-first
  (`compose_getters`); the last link is the store's true getter, bound to the one
  immutable `Request` of the call, so nothing about the call travels through the frame.
* a **variable creator** ``creator(next_creator, **kwargs)`` runs when a variable is
  made (`get_variable` creating, `Variable`); ``variable_creator_scope`` stacks them
  and the innermost runs first (`run_creators`).

Layers and RNN cells read their variables through `get_variable` too (see
`jaxscope.layers.Layer.weight`), so a getter applies to every read of every variable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from jaxscope.frame import Frame, current_frame


class Request(NamedTuple):
    """What one `get_variable` call asked for, beside the getter's keyword arguments.

    Attributes:
      name: the full name the call resolved (a getter may pass another one on).
      implicit_dtype: no dtype was given anywhere, so sharing accepts the stored one
        (API decision 3) -- for ``name`` only.
    """

    name: str
    implicit_dtype: bool


def check_getter(custom_getter: Any) -> None:
    """Refuse a custom getter that cannot be called, with TF's text and the fix."""
    if custom_getter is not None and not callable(custom_getter):
        raise ValueError(
            f"Passed a custom_getter which is not callable: {custom_getter!r}. A custom getter "
            "is a function `getter(next_getter, name, *args, **kwargs)` that usually ends by "
            "calling `next_getter(name, *args, **kwargs)`."
        )


def compose_getters(new: Callable | None, old: Callable | None) -> Callable | None:
    """Wrap ``new`` around ``old``: the innermost scope's getter runs first, as TF1."""
    if old is None:
        return new
    if new is None:
        return old

    def composed(getter: Callable, *args: Any, **kwargs: Any) -> Any:
        return new(functools.partial(old, getter), *args, **kwargs)

    return composed


def run_creators(creators: tuple[Callable, ...], default: Callable[..., Any],
                 kwargs: dict[str, Any]) -> Any:
    """Call ``creators`` (outermost first in the tuple) around ``default``, innermost first.

    Each creator is ``creator(next_creator, **kwargs)`` and may change the keyword
    arguments before passing them on, as TF1's ``variable_creator_scope``.
    """
    creator = default
    for outer in creators:
        creator = functools.partial(_call_creator, outer, creator)
    return creator(**kwargs)


def _call_creator(creator: Callable, next_creator: Callable, **kwargs: Any) -> Any:
    return creator(next_creator, **kwargs)


class variable_creator_scope:  # noqa: N801 - TF's name
    """Intercept every variable creation in the block, as TF1's ``tf.variable_creator_scope``.

    ``creator(next_creator, **kwargs)`` runs when `get_variable` creates a variable and
    for every `Variable`, in ``init`` and ``apply`` alike (so names agree). It sees TF1's
    keyword arguments -- ``name``, ``initial_value`` (a callable), ``trainable``,
    ``collections``, ``dtype``, ``shape``, ``constraint``, ``caching_device``,
    ``validate_shape``, ``use_resource``, ``synchronization``, ``aggregation`` -- may
    change them, and returns ``next_creator(**kwargs)``. Nested scopes run innermost
    first. Leaving scopes out of order raises TF's ``RuntimeError``.

    Example:
      >>> import jaxscope as js
      >>> def frozen(next_creator, **kwargs):  # TF1: the same function
      ...     kwargs["trainable"] = False
      ...     return next_creator(**kwargs)
      >>> def model():
      ...     with js.variable_creator_scope(frozen):
      ...         js.get_variable("w", [2])
      >>> variables = js.transform(model).init(0)
      >>> list(variables["params"]), list(variables["state"])
      ([], ['w'])
    """

    def __init__(self, variable_creator: Callable[..., Any]):
        if not callable(variable_creator):
            raise TypeError(
                f"variable_creator_scope takes a callable creator(next_creator, **kwargs), got "
                f"{type(variable_creator).__name__}: {variable_creator!r}."
            )
        self._creator = variable_creator

    def __enter__(self) -> None:
        frame: Frame = current_frame("js.variable_creator_scope")
        self._frame, self._old = frame, frame.creators
        self._new = frame.creators = (*frame.creators, self._creator)

    def __exit__(self, *exc: Any) -> None:
        if self._frame.creators is not self._new:
            raise RuntimeError("Exiting variable_creator_scope without proper nesting.")
        self._frame.creators = self._old
