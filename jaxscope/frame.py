"""The trace frame: the only mutable state of one `init`, `apply` or `specs` call.

Every call pushes one `Frame` on a `contextvars` stack and pops it when it
returns, also on error. Scopes, templates and collections are cursors into
the frame; nothing outlives it. Because the stack is a context variable, two
threads (or two nested transforms) never see each other's frame.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import enum
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import jax
from jax.extend import core as jex_core
from jax.extend import source_info_util

from jaxscope.errors import NotInTransformError
from jaxscope.naming import ScopeCounts
from jaxscope.spec import VariableSpec

if TYPE_CHECKING:
    from jaxscope.scope import VariableScope


class Mode(enum.Enum):
    """``CREATE`` runs initializers (init, specs); ``REUSE`` reads given variables (apply)."""

    CREATE = "create"
    REUSE = "reuse"


Origin = tuple[tuple[Any, int], ...]
"""Where a variable was created: ``(code object, last instruction)`` pairs, newest first."""


class Record(NamedTuple):
    """What a frame knows about one variable of this trace."""

    spec: VariableSpec
    constraint: Callable[[Any], Any] | None
    origin: Origin
    partitions: tuple[int, ...] | None
    caching_device: Any = None  # accepted and kept, as TF1; XLA places reads itself


class CollectionItem(NamedTuple):
    """One entry of a graph collection: a variable (by key) or a plain value."""

    name: str | None
    key: str | None
    value: Any


@dataclasses.dataclass(eq=False)
class Lift:
    """Bookkeeping of one lifted body (`js.scan`, `js.vmap`, ...) while JAX traces it.

    Inside a lifted body, variable values come from ``inputs`` (variables the
    body carries or that a creation run made) before anything else; values the
    body creates are collected in ``created`` to leave the transform as outputs;
    regularizers wait in ``regularizers`` until the values they need are outside
    the transform; ``assigned`` and ``losses`` list what the body changed.
    """

    inputs: dict[str, Any]
    allow_create: bool
    trace_state: Any = None
    step: Any = None  # folded into next_rng_key: a scan step or a vmap example index
    created: dict[str, Any] = dataclasses.field(default_factory=dict)
    assigned: dict[str, None] = dataclasses.field(default_factory=dict)
    losses: dict[str, None] = dataclasses.field(default_factory=dict)
    regularizers: list[tuple[str, Callable[[Any], Any]]] = dataclasses.field(
        default_factory=list)
    used_rng: bool = False
    parent: Lift | None = None


class Snapshot(NamedTuple):
    """A frame's bookkeeping at one moment, to rewind to (see `Frame.snapshot`)."""

    store: dict[str, str]
    records: dict[str, Record]
    values: dict[str, Any]
    partitioned: set[str]
    names_in_use: dict[str, int]
    scope_counts: ScopeCounts
    collection_sizes: dict[str, int]
    losses: dict[str, Any]
    loss_names: dict[str, int]
    assigned: dict[str, None]
    deferred: list[tuple[str, Callable[[Any], Any]]]
    rng_counter: int
    objects: dict[Any, Any]


@dataclasses.dataclass(eq=False)
class Frame:
    """All per-call state of one trace.

    * ``mode``, ``rng``, ``given``: what the call was asked to do (``given`` is the
      variables passed to ``apply``).
    * ``store``: TF1's variable store, get_variable names -> variable keys. It starts
      empty in both modes, so init and apply apply the same reuse checks.
    * ``records``/``values``: every variable this trace created (or, in apply, met at
      its creating call), in creation order, and its current value.
    * ``names_in_use``, ``scope_counts``, ``name_stack``, ``current_scope``: TF1's graph
      name counter, ``default_name`` counters, and the current name and variable scope.
    * ``collections``, ``losses``, ``assigned``: what flows out as collections and ``aux``;
      ``deferred``: updates that land when the trace (or lifted body) ends (`defer_assign`).
    """

    mode: Mode
    rng: Any
    given: dict[str, dict[str, Any]] | None
    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    records: dict[str, Record] = dataclasses.field(default_factory=dict)
    store: dict[str, str] = dataclasses.field(default_factory=dict)
    partitioned: set[str] = dataclasses.field(default_factory=set)
    names_in_use: dict[str, int] = dataclasses.field(default_factory=dict)
    scope_counts: ScopeCounts = dataclasses.field(default_factory=ScopeCounts)
    collections: dict[str, list[CollectionItem]] = dataclasses.field(default_factory=dict)
    losses: dict[str, Any] = dataclasses.field(default_factory=dict)
    loss_names: dict[str, int] = dataclasses.field(default_factory=dict)
    assigned: dict[str, None] = dataclasses.field(default_factory=dict)
    # Updates TF1 puts in UPDATE_OPS (batch norm's moving statistics): run when the trace
    # (or the lifted body) ends, so reads later in the same call see the old value.
    deferred: list[tuple[str, Callable[[Any], Any]]] = dataclasses.field(default_factory=list)
    # Variable creators of the enclosing `variable_creator_scope`s, outermost first.
    creators: tuple[Callable[..., Any], ...] = ()
    name_stack: str = ""
    rng_counter: int = 0
    alive: bool = True
    current_scope: VariableScope = None  # type: ignore[assignment]  # set by push_frame
    jax_name_stack: Any = None
    trace_state: Any = None
    lift: Lift | None = None
    # Per-trace state of templates and layers (scope captured, built), keyed by the object:
    # part of the frame, so that rewinding a lifted body's extra traces rewinds it too.
    objects: dict[Any, Any] = dataclasses.field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        """The bookkeeping now; `rewind` returns to it (any number of times).

        Lifted transforms trace a body more than once (a creation run, a probe,
        JAX's own retraces) and must leave the frame as one trace would.
        """
        return Snapshot(
            dict(self.store), dict(self.records), dict(self.values), set(self.partitioned),
            dict(self.names_in_use), self.scope_counts.copy(),
            {name: len(items) for name, items in self.collections.items()},
            dict(self.losses), dict(self.loss_names), dict(self.assigned), list(self.deferred),
            self.rng_counter,
            {obj: copy.copy(state) for obj, state in self.objects.items()},
        )

    def rewind(self, snap: Snapshot) -> None:
        """Return the bookkeeping to `snap` (which stays valid for another rewind)."""
        self.store = dict(snap.store)
        self.records = dict(snap.records)
        self.values = dict(snap.values)
        self.partitioned = set(snap.partitioned)
        self.names_in_use = dict(snap.names_in_use)
        self.scope_counts = snap.scope_counts.copy()
        for name in list(self.collections):
            size = snap.collection_sizes.get(name)
            if size is None:
                del self.collections[name]
            else:
                del self.collections[name][size:]
        self.losses = dict(snap.losses)
        self.loss_names = dict(snap.loss_names)
        self.assigned = dict(snap.assigned)
        self.deferred = list(snap.deferred)
        self.rng_counter = snap.rng_counter
        self.objects = {obj: copy.copy(state) for obj, state in snap.objects.items()}

    def check_alive(self, what: str) -> None:
        if not self.alive:
            from jaxscope.errors import ScopeLifetimeError

            raise ScopeLifetimeError(
                f"{what} belongs to a js.transform call that has already returned. Scopes, "
                "templates bound to a scope and collections live only inside the init/apply "
                "call that made them; create them inside your model function."
            )

    def variables(self) -> dict[str, dict[str, Any]]:
        """``{"params": ..., "state": ...}`` of the variables this trace recorded."""
        out: dict[str, dict[str, Any]] = {"params": {}, "state": {}}
        for key, record in self.records.items():
            out[record.spec.collection][key] = self.values[key]
        return out

    def updates(self) -> dict[str, dict[str, Any]]:
        """``{"params": ..., "state": ...}`` of only the variables assigned in this trace."""
        out: dict[str, dict[str, Any]] = {"params": {}, "state": {}}
        for key in self.assigned:
            out[self.records[key].spec.collection][key] = self.values[key]
        return out


_FRAMES: contextvars.ContextVar[tuple[Frame, ...]] = contextvars.ContextVar(
    "jaxscope_frames", default=()
)


def current_frame(what: str) -> Frame:
    """The innermost live frame, or a `NotInTransformError` naming ``what``."""
    frames = _FRAMES.get()
    if not frames:
        raise NotInTransformError(what)
    frame = frames[-1]
    if not frame.alive:  # a contextvars context copied inside a trace, run after it ended
        frame.check_alive(what)
    return frame


def maybe_current_frame() -> Frame | None:
    frames = _FRAMES.get()
    return frames[-1] if frames else None


class push_frame:  # noqa: N801 - used as a function: ``with push_frame(frame):``
    """Make ``frame`` current for the duration of a trace; always pop it and end its life."""

    __slots__ = ("frame", "token")

    def __init__(self, frame: Frame):
        self.frame = frame

    def __enter__(self) -> Frame:
        frame = self.frame
        frame.current_scope = _root_scope(frame)
        frame.jax_name_stack = source_info_util.current_name_stack()
        frame.trace_state = jex_core.get_opaque_trace_state()
        self.token = _FRAMES.set((*_FRAMES.get(), frame))
        return frame

    def __exit__(self, *exc: Any) -> None:
        self.frame.alive = False
        _FRAMES.reset(self.token)


def _root_scope(frame: Frame) -> VariableScope:
    from jaxscope.scope import VariableScope  # scope.py imports this module

    return VariableScope(False, name="", frame=frame)


def current_trace_state() -> Any:
    """An opaque token of the JAX trace that code runs under now."""
    return jex_core.get_opaque_trace_state()


def in_frame_trace(frame: Frame) -> bool:
    """False when code runs inside a JAX transform opened after the frame began."""
    return jex_core.get_opaque_trace_state() == frame.trace_state


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_SKIP_DIRS = (_PACKAGE_DIR, os.path.dirname(os.path.abspath(jax.__file__)), os.path.dirname(
    os.path.abspath(contextlib.__file__)))


def user_origin(limit: int = 5, depth: int = 16, skip: int = 0) -> Origin:
    """Up to ``limit`` caller frames outside jaxscope, jax and the stdlib, newest first.

    Looks at most ``depth`` frames up (the model's own frames come first; the
    callers of ``init`` behind JAX's wrappers matter least), and keeps code
    objects and instruction offsets, leaving line numbers and formatting to
    `format_origin`: every variable records its origin, only an error prints one.
    ``skip`` callers above the caller are known to be jaxscope's and not looked at.
    """
    frames = []
    f = sys._getframe(1 + skip)
    while f is not None and len(frames) < limit and depth:
        code = f.f_code
        if not code.co_filename.startswith(_SKIP_DIRS):
            frames.append((code, f.f_lasti))
        f = f.f_back
        depth -= 1
    return tuple(frames)


def format_origin(origin: Origin) -> str:
    """Format an origin like ``traceback.format_list``."""
    import linecache

    lines = []
    for code, lasti in origin:
        lineno = next(
            (line for start, end, line in code.co_lines() if start <= lasti < end and line),
            code.co_firstlineno,
        )
        lines.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}\n')
        text = linecache.getline(code.co_filename, lineno).strip()
        if text:
            lines.append(f"    {text}\n")
    return "".join(lines)


def set_name_stack(frame: Frame, name_stack: str) -> contextlib.AbstractContextManager[Any]:
    """Enter TF name scope ``name_stack`` (absolute) and mirror it on JAX's op names.

    The common case extends the current scope, which extends JAX's stack and so
    keeps whatever JAX put there; a jump (re-entering an absolute scope) sets
    JAX's stack to the frame's base plus the TF scope.
    """
    current = frame.name_stack
    if current and name_stack.startswith(current + "/"):
        jax_cm = source_info_util.extend_name_stack(name_stack[len(current) + 1:])
    elif not current and name_stack:
        jax_cm = source_info_util.extend_name_stack(name_stack)
    elif name_stack == current:
        jax_cm = contextlib.nullcontext()
    else:
        base = frame.jax_name_stack
        jax_cm = source_info_util.set_name_stack(base.extend(name_stack) if name_stack else base)
    return _NameStackContext(frame, name_stack, jax_cm)


class _NameStackContext:
    __slots__ = ("frame", "jax_cm", "name_stack", "previous")

    def __init__(self, frame: Frame, name_stack: str, jax_cm: Any):
        self.frame, self.name_stack, self.jax_cm = frame, name_stack, jax_cm

    def __enter__(self) -> str:
        self.previous = self.frame.name_stack
        self.jax_cm.__enter__()
        self.frame.name_stack = self.name_stack
        return self.name_stack

    def __exit__(self, *exc: Any) -> None:
        self.frame.name_stack = self.previous
        self.jax_cm.__exit__(*exc)
