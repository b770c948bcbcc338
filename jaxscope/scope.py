"""Variable scopes and name scopes, with TF1's exact naming and reuse rules.

A `VariableScope` is a cursor into the current trace frame: it carries a name
prefix, a reuse flag and defaults for `get_variable`, and never owns data.
`variable_scope` follows ``tf.compat.v1.variable_scope`` step by step (see
TF_SEMANTICS.md sections 1 and 2): string scopes are never uniquified,
``default_name`` scopes are, captured scopes jump to their own name, reuse is
inherited and cannot be switched off inside a reusing scope.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxscope.frame import Frame, current_frame, set_name_stack
from jaxscope.getters import check_getter, compose_getters
from jaxscope.naming import check_scope_name, join, unique_name


class _ReuseMode(enum.Enum):
    """``reuse=js.AUTO_REUSE``: create a variable when missing, return it when it exists.

    Example:
      >>> import jaxscope as js
      >>> def layer_weight():
      ...     with js.variable_scope("weight", reuse=js.AUTO_REUSE):
      ...         return js.get_variable("w", [2, 2])
      >>> def f():
      ...     return layer_weight() is layer_weight()
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      True
    """

    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE

_FLOAT32 = np.dtype("float32")


def _as_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    import jax.numpy as jnp

    return np.dtype(jnp.dtype(dtype))


class VariableScope:
    """The defaults `get_variable` sees: name prefix, reuse flag, initializer, ...

    Obtain it from ``with js.variable_scope(...) as scope`` or
    `get_variable_scope`; re-enter it with ``js.variable_scope(scope)`` to jump
    back to its name from anywhere in the same trace.

    Example:
      >>> import jax, jaxscope as js
      >>> def f():
      ...     with js.variable_scope("foo") as scope:
      ...         v = js.get_variable("v", [1])
      ...         scope.reuse_variables()
      ...         assert js.get_variable("v", [1]) is v
      ...     return scope.name
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      'foo'
    """

    def __init__(
        self,
        reuse: bool | _ReuseMode | None,
        name: str = "",
        initializer: Any = None,
        regularizer: Callable | None = None,
        caching_device: Any = None,
        partitioner: Any = None,
        custom_getter: Callable | None = None,
        name_scope: str = "",
        dtype: Any = None,
        use_resource: bool | None = None,
        constraint: Callable | None = None,
        *,
        frame: Frame | None = None,
    ):
        self._frame = frame if frame is not None else current_frame("js.VariableScope")
        self._name = name
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = _as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    def __repr__(self) -> str:
        return f"<VariableScope name={self._name!r} reuse={self._reuse!r}>"

    # -- read-only views ------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The full name of the scope, e.g. ``"encoder/layer1"`` (``""`` at the top)."""
        return self._name

    @property
    def original_name_scope(self) -> str:
        """The name scope opened with the scope, ending in ``/`` (``"foo_1/"`` on re-entry)."""
        return self._name_scope

    @property
    def reuse(self) -> bool | _ReuseMode | None:
        """The reuse flag: ``True``, ``False`` or `AUTO_REUSE`, inherited by sub-scopes."""
        return self._reuse

    @property
    def initializer(self) -> Any:
        """The default initializer of `get_variable` in this scope (``None``: the default)."""
        return self._initializer

    @property
    def regularizer(self) -> Callable | None:
        """The default regularizer of `get_variable` in this scope, or ``None``."""
        return self._regularizer

    @property
    def caching_device(self) -> Any:
        """The default ``caching_device`` (TF1 placement; recorded only, JAX places arrays)."""
        return self._caching_device

    @property
    def partitioner(self) -> Any:
        """The default partitioner of `get_variable` in this scope, or ``None``."""
        return self._partitioner

    @property
    def custom_getter(self) -> Callable | None:
        """The custom getter wrapped around `get_variable` in this scope, or ``None``."""
        return self._custom_getter

    @property
    def dtype(self) -> np.dtype:
        """The default dtype of `get_variable` in this scope (``float32`` unless set)."""
        return self._dtype if self._dtype is not None else _FLOAT32

    @property
    def use_resource(self) -> bool | None:
        """TF1's ``use_resource`` flag (recorded only: every jaxscope variable is an array)."""
        return self._use_resource

    @property
    def constraint(self) -> Callable | None:
        """The default ``constraint`` (always ``None``: TF1 does not inherit constraints)."""
        return self._constraint

    # -- setters, as TF1 -----------------------------------------------------------------
    def _check(self) -> None:
        self._frame.check_alive(f"VariableScope {self._name!r}")

    def reuse_variables(self) -> None:
        """Reuse variables in this scope from now on (there is no way back).

        Example:
          >>> import jaxscope as js
          >>> def tower():
          ...     with js.variable_scope("tower") as scope:
          ...         first = js.get_variable("w", [2])
          ...         scope.reuse_variables()  # TF1: tf.get_variable_scope().reuse_variables()
          ...         return first is js.get_variable("w", [2]), scope.reuse
          >>> model = js.transform(tower)
          >>> model.apply(model.init(0))[0]  # no "Variable tower/w already exists"
          (True, True)
        """
        self._check()
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        """Set the default initializer for variables created from now on in this scope.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_initializer(js.ones_initializer())  # TF1: the same call
          ...         return js.get_variable("v", [2])
          >>> js.transform(f).init(0)["params"]["foo/v"].tolist()
          [1.0, 1.0]
        """
        self._check()
        self._initializer = initializer

    def set_regularizer(self, regularizer: Callable | None) -> None:
        """Set the default regularizer for variables created from now on in this scope.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_regularizer(js.regularizers.l2(1.0))
          ...         js.get_variable("w", initializer=jnp.array([3.0, 4.0]))
          >>> model = js.transform(f)
          >>> _, aux = model.apply(model.init(0))
          >>> {name: float(loss) for name, loss in aux.losses.items()}  # (9 + 16) / 2
          {'foo/w': 12.5}
        """
        self._check()
        self._regularizer = regularizer

    def set_partitioner(self, partitioner: Any) -> None:
        """Set the default partitioner for variables created from now on in this scope.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_partitioner(js.fixed_size_partitioner(2))
          ...         js.get_variable("w", [4, 3])
          >>> spec = js.transform(f).specs()["foo/w"]  # one logical array, in 2 pieces
          >>> spec.shape, spec.partitioner(spec.shape, spec.dtype)
          ((4, 3), [2, 1])
        """
        self._check()
        self._partitioner = partitioner

    def set_custom_getter(self, custom_getter: Callable | None) -> None:
        """Set the custom getter wrapped around `get_variable` from now on in this scope.

        Example:
          >>> import jaxscope as js
          >>> def doubled(getter, name, *args, **kwargs):
          ...     return getter(name, *args, **kwargs) * 2
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_custom_getter(doubled)
          ...         return js.get_variable("w", [2], initializer=js.ones_initializer())
          >>> model = js.transform(f)
          >>> model.apply(model.init(0))[0].tolist()
          [2.0, 2.0]
        """
        self._check()
        check_getter(custom_getter)
        self._custom_getter = custom_getter

    def set_caching_device(self, caching_device: Any) -> None:
        """Set the default ``caching_device`` (TF1 placement: recorded, with no effect in JAX).

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_caching_device("/cpu:0")
          ...         return scope.caching_device
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          '/cpu:0'
        """
        self._check()
        self._caching_device = caching_device

    def set_dtype(self, dtype: Any) -> None:
        """Set the default dtype for variables created from now on in this scope.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_dtype("float16")
          ...         return js.get_variable("w", [2]).dtype
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          dtype('float16')
        """
        self._check()
        self._dtype = _as_dtype(dtype)

    def set_use_resource(self, use_resource: bool | None) -> None:
        """Set TF1's ``use_resource`` flag (recorded only: every jaxscope variable is an array).

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("foo") as scope:
          ...         scope.set_use_resource(True)
          ...         return scope.use_resource
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          True
        """
        self._check()
        self._use_resource = use_resource

    # -- collections under this scope --------------------------------------------------------
    def get_collection(self, key: str) -> list[Any]:
        """Items of collection ``key`` whose names start with ``name + "/"``.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("enc") as scope:
          ...         js.get_variable("w", [2])
          ...     js.get_variable("other", [5])
          ...     return [v.shape for v in scope.get_collection(js.GraphKeys.GLOBAL_VARIABLES)]
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          [(2,)]
        """
        from jaxscope.collections import get_collection

        self._check()
        return get_collection(key, scope=self._name + "/" if self._name else None)

    def trainable_variables(self) -> list[Any]:
        """Trainable variables created under this scope so far, in creation order.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("enc") as scope:
          ...         js.get_variable("w", [2])
          ...         js.get_variable("count", [], trainable=False)
          ...     js.get_variable("other", [5])
          ...     return [v.shape for v in scope.trainable_variables()]
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          [(2,)]
        """
        from jaxscope.collections import GraphKeys

        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def global_variables(self) -> list[Any]:
        """Global variables (trainable or not) created under this scope so far.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("enc") as scope:
          ...         js.get_variable("w", [2])
          ...         js.get_variable("count", [], trainable=False)
          ...     js.get_variable("other", [5])
          ...     return [v.shape for v in scope.global_variables()]
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          [(2,), ()]
        """
        from jaxscope.collections import GraphKeys

        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def local_variables(self) -> list[Any]:
        """Local variables (`get_local_variable`) created under this scope so far.

        Example:
          >>> import jaxscope as js
          >>> def f():
          ...     with js.variable_scope("metrics") as scope:
          ...         js.get_local_variable("total", [3])
          ...     return [v.shape for v in scope.local_variables()]
          >>> js.transform(f).apply(js.transform(f).init(0))[0]
          [(3,)]
        """
        from jaxscope.collections import GraphKeys

        return self.get_collection(GraphKeys.LOCAL_VARIABLES)


def get_variable_scope() -> VariableScope:
    """The current `VariableScope` (the live object: setters last until it is exited).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     with js.variable_scope("foo"):
      ...         return js.get_variable_scope().name
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      'foo'
    """
    return current_frame("js.get_variable_scope").current_scope


# -- name scopes -------------------------------------------------------------------------------
class NameScope:
    """TF1 graph ``name_scope``: uniquified op-name prefix, mirrored on JAX's name stack."""

    __slots__ = ("_context", "_frame", "_name")

    def __init__(self, frame: Frame, name: str | None):
        self._frame = frame
        self._name = name
        self._context: Any = None

    def __enter__(self) -> str:
        frame, name = self._frame, self._name
        if name:
            check_scope_name(name, at_root=not frame.name_stack)
        if not name:  # None and "" both reset to the root name scope
            new_stack, returned = "", ""
        elif name.endswith("/"):  # a trailing "/" re-enters an absolute scope verbatim
            new_stack, returned = name[:-1], name
        else:
            new_stack = unique_name(frame.names_in_use, join(frame.name_stack, name))
            returned = new_stack + "/"
        self._context = set_name_stack(frame, new_stack)
        self._context.__enter__()
        return returned

    def __exit__(self, *exc: Any) -> None:
        self._context.__exit__(*exc)


class name_scope:  # noqa: N801 - TF1 name
    """Name operations (never variables): ``with js.name_scope("bar")`` as ``tf.name_scope``.

    Opens a JAX named scope too, so compiled HLO carries ``foo/bar/add``. Names
    are made unique (``bar``, ``bar_1``); a name ending in ``/`` re-enters that
    absolute scope; ``None`` or ``""`` returns to the root.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     with js.name_scope("bar") as a, js.name_scope("bar") as b:
      ...         pass
      ...     with js.name_scope("bar") as c:
      ...         return a, b, c
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      ('bar/', 'bar/bar/', 'bar_1/')
    """

    def __init__(self, name: str | None, default_name: str | None = None, values: Any = None):
        self._name = default_name if name is None else name
        self._inner: NameScope | None = None

    def __enter__(self) -> str:
        frame = current_frame("js.name_scope")
        self._inner = NameScope(frame, self._name)
        return self._inner.__enter__()

    def __exit__(self, *exc: Any) -> None:
        assert self._inner is not None
        self._inner.__exit__(*exc)


def current_name_scope() -> str:
    """The current name scope (``"foo/bar"``, ``""`` at the root), as ``tf.get_name_scope``.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     for _ in range(2):
      ...         with js.variable_scope("vs"):
      ...             name = js.current_name_scope()
      ...     return name
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      'vs_1'
    """
    return current_frame("js.current_name_scope").name_stack


# -- variable scopes ---------------------------------------------------------------------------
def _unique_variable_scope(frame: Frame, prefix: str) -> str:
    """TF's ``_get_unique_variable_scope``: exact-key counts, ``prefix_1``, ``prefix_2``."""
    name = join(frame.current_scope.name, prefix)
    counts = frame.scope_counts
    if counts[name] == 0:
        return prefix
    idx = 1
    while counts[f"{name}_{idx}"] > 0:
        idx += 1
    return f"{prefix}_{idx}"


def _sub_scope(
    parent: VariableScope, name: str, reuse: Any, name_scope: str, constraint: Callable | None
) -> VariableScope:
    """A sub-scope of ``parent``: it inherits every default but its name, name scope and
    constraint, and reuse unless ``reuse`` is set (copied field by field: the hot path of
    every layer's scope)."""
    scope = object.__new__(VariableScope)
    scope.__dict__.update(parent.__dict__)
    scope._reuse = reuse or parent._reuse
    scope._name = name
    scope._name_scope = name_scope
    scope._constraint = constraint
    return scope


class _PureVariableScope:
    """TF's ``_pure_variable_scope``: the variable-scope half, no name scope."""

    def __init__(
        self,
        frame: Frame,
        name_or_scope: str | VariableScope,
        reuse: Any = None,
        initializer: Any = None,
        regularizer: Any = None,
        caching_device: Any = None,
        partitioner: Any = None,
        custom_getter: Any = None,
        old_name_scope: str | None = None,
        dtype: Any = None,
        constraint: Any = None,
        reset_dtype: bool = False,
        use_resource: bool | None = None,
    ):
        self._frame = frame
        self._use_resource = use_resource
        self._name_or_scope = name_or_scope
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._old_name_scope = old_name_scope
        self._dtype = dtype
        self._constraint = constraint
        self._reset_dtype = reset_dtype

    def _override(self, scope: VariableScope, parent_getter: Callable | None) -> VariableScope:
        if self._initializer is not None:
            scope._initializer = self._initializer
        if self._regularizer is not None:
            scope._regularizer = self._regularizer
        if self._caching_device is not None:
            scope._caching_device = self._caching_device
        if self._partitioner is not None:
            scope._partitioner = self._partitioner
        if self._custom_getter is not None:
            scope._custom_getter = compose_getters(self._custom_getter, parent_getter)
        if self._reset_dtype:
            scope._dtype = None
        if self._dtype is not None:
            scope._dtype = _as_dtype(self._dtype)
        if self._use_resource is not None:
            scope._use_resource = self._use_resource
        return scope

    def __enter__(self) -> VariableScope:
        frame = self._frame
        self._old = old = frame.current_scope
        captured = self._name_or_scope
        if isinstance(captured, VariableScope):
            self._new_name = captured.name
            frame.scope_counts.open(self._new_name)
            # Counts changed inside a re-entered scope are discarded on exit.
            self._checkpoint = frame.scope_counts.checkpoint()
            scope = VariableScope(
                captured.reuse if not self._reuse else self._reuse,
                name=self._new_name,
                initializer=captured.initializer,
                regularizer=captured.regularizer,
                caching_device=captured.caching_device,
                partitioner=captured.partitioner,
                custom_getter=captured.custom_getter,
                name_scope=captured.original_name_scope,
                dtype=captured._dtype,
                use_resource=captured.use_resource,
                constraint=self._constraint,
                frame=frame,
            )
            self._override(scope, captured.custom_getter)
        else:
            self._new_name = join(old.name, captured) if old.name else captured
            scope = _sub_scope(
                old, self._new_name, self._reuse,
                captured if self._old_name_scope is None else self._old_name_scope,
                self._constraint,
            )
            self._override(scope, old._custom_getter)
            frame.scope_counts.open(self._new_name)
        frame.current_scope = scope
        self._entered = scope
        return scope

    def __exit__(self, *exc: Any) -> None:
        frame = self._frame
        if frame.current_scope is not self._entered:
            raise RuntimeError("Improper nesting of variable_scope.")
        if isinstance(self._name_or_scope, VariableScope):
            frame.scope_counts.restore(self._checkpoint)
        else:
            # Default-name counters of sub-scopes restart each time this scope is re-entered.
            frame.scope_counts.close_subscopes(self._new_name)
        frame.current_scope = self._old


def _normalize_reuse(reuse: Any) -> Any:
    if reuse is False:  # TF1: a scope cannot switch reuse off; False means inherit.
        return None
    if not (reuse is True or reuse is None or reuse is AUTO_REUSE):
        raise ValueError(
            f"The reuse parameter must be True or False or None. Got {reuse!r}; use "
            "reuse=True, reuse=js.AUTO_REUSE, or leave it None to inherit."
        )
    return reuse


class variable_scope:  # noqa: N801 - TF1 name
    """Open a variable scope, as ``tf.compat.v1.variable_scope``; yields a `VariableScope`.

    Nesting joins names with ``/``; ``default_name`` is made unique; a captured
    `VariableScope` jumps to its own name wherever it is opened; ``reuse`` is
    ``None`` (inherit), ``True``, ``False`` (= inherit) or `AUTO_REUSE`. The
    initializer, regularizer, partitioner, custom getter, caching device,
    dtype and ``use_resource`` (accepted and recorded, as every jaxscope variable is
    an array) are defaults inherited by sub-scopes; ``constraint`` is not.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     with js.variable_scope("foo"):
      ...         with js.variable_scope("bar"):
      ...             js.get_variable("v", [1])
      >>> list(js.transform(f).init(0)["params"])
      ['foo/bar/v']
    """

    def __init__(
        self,
        name_or_scope: str | VariableScope | None,
        default_name: str | None = None,
        values: Any = None,
        initializer: Any = None,
        regularizer: Callable | None = None,
        caching_device: Any = None,
        partitioner: Any = None,
        custom_getter: Callable | None = None,
        reuse: bool | _ReuseMode | None = None,
        dtype: Any = None,
        auxiliary_name_scope: bool = True,
        constraint: Callable | None = None,
        use_resource: bool | None = None,
    ):
        if default_name is None and name_or_scope is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if name_or_scope is not None and not isinstance(name_or_scope, (str, VariableScope)):
            raise TypeError(
                "VariableScope: name_or_scope must be a string or VariableScope. "
                f"Got {type(name_or_scope).__name__}: {name_or_scope!r}."
            )
        if not isinstance(auxiliary_name_scope, bool):
            raise TypeError(
                "The auxiliary_name_scope must be `True` or `False`, while get "
                f"{auxiliary_name_scope}"
            )
        check_getter(custom_getter)
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._reuse = _normalize_reuse(reuse)
        # The common case (a layer's `variable_scope("name")`, maybe with reuse) takes a
        # straight path on entry; it does what the general path does for it.
        self._plain = (
            type(name_or_scope) is str and name_or_scope and name_or_scope[-1] != "/"
            and auxiliary_name_scope and initializer is None and regularizer is None
            and caching_device is None and partitioner is None and custom_getter is None
            and dtype is None and constraint is None and use_resource is None
        )
        self._kwargs = None if self._plain else dict(
            initializer=initializer,
            regularizer=regularizer,
            caching_device=caching_device,
            partitioner=partitioner,
            custom_getter=custom_getter,
            dtype=dtype,
            constraint=constraint,
            use_resource=use_resource,
        )
        self._auxiliary_name_scope = auxiliary_name_scope
        self._name_context: Any = None
        self._pure: _PureVariableScope | None = None

    def __enter__(self) -> VariableScope:
        frame = current_frame("js.variable_scope")
        if self._plain:
            return self._enter_plain(frame)
        scope = self._name_or_scope
        if isinstance(scope, VariableScope) and scope._frame is not frame:
            scope._frame.check_alive(f"VariableScope {scope.name!r}")
            raise _foreign_scope_error(scope)
        name_context: Any = None
        if not self._auxiliary_name_scope:
            # Re-enter the current name scope as it is.
            current = frame.name_stack
            name_context = NameScope(frame, current + "/" if current else "")
        try:
            if scope is not None:
                ns_name = scope if isinstance(scope, str) else scope.name.split("/")[-1]
                old_name_scope = None
                if ns_name or name_context is not None:
                    name_context = name_context or NameScope(frame, ns_name)
                    entered_name = name_context.__enter__()
                    self._name_context = name_context
                    old_name_scope = (
                        entered_name if isinstance(scope, str) else scope.original_name_scope
                    )
                self._pure = _PureVariableScope(
                    frame, scope, reuse=self._reuse, old_name_scope=old_name_scope,
                    **self._kwargs,
                )
            else:
                if self._reuse:
                    raise ValueError("reuse=True cannot be used without a name_or_scope")
                name_context = name_context or NameScope(frame, self._default_name)
                entered_name = name_context.__enter__()
                self._name_context = name_context
                unique = _unique_variable_scope(frame, self._default_name)  # type: ignore[arg-type]
                self._pure = _PureVariableScope(
                    frame, unique, old_name_scope=entered_name, **self._kwargs
                )
            return self._pure.__enter__()
        except BaseException:
            if self._name_context is not None:
                self._name_context.__exit__(None, None, None)
                self._name_context = None
            raise

    def _enter_plain(self, frame: Frame) -> VariableScope:
        """`__enter__` of ``variable_scope("name")`` (and ``reuse=``), nothing else given:
        the name scope ``name`` (uniquified), then a sub-scope inheriting every default."""
        name: str = self._name_or_scope  # type: ignore[assignment]
        check_scope_name(name, at_root=not frame.name_stack)
        name_stack = unique_name(frame.names_in_use, join(frame.name_stack, name))
        name_context = set_name_stack(frame, name_stack)
        name_context.__enter__()
        self._name_context = name_context
        old = frame.current_scope
        new_name = join(old._name, name)
        scope = _sub_scope(old, new_name, self._reuse, name_stack + "/", None)
        frame.scope_counts.open(new_name)
        frame.current_scope = scope
        pure = object.__new__(_PureVariableScope)  # what its __exit__ reads
        pure._frame, pure._name_or_scope, pure._old = frame, name, old
        pure._new_name, pure._entered = new_name, scope
        self._pure = pure
        return scope

    def __exit__(self, *exc: Any) -> None:
        try:
            assert self._pure is not None
            self._pure.__exit__(*exc)
        finally:
            name_context, self._name_context = self._name_context, None
            if name_context is not None:
                name_context.__exit__(*exc)


def _foreign_scope_error(scope: VariableScope) -> Exception:
    from jaxscope.errors import ScopeLifetimeError

    return ScopeLifetimeError(
        f"VariableScope {scope.name!r} was captured in another js.transform call. A captured "
        "scope can be re-entered only inside the init/apply call that created it."
    )


def variable_op_scope(
    values: Any, name_or_scope: str | VariableScope | None, default_name: str | None = None,
    **kwargs: Any,
) -> variable_scope:
    """Deprecated TF1 alias: ``variable_scope(name_or_scope, default_name, values, ...)``.

    Example:
      >>> import jaxscope as js, warnings
      >>> def f():
      ...     with warnings.catch_warnings():
      ...         warnings.simplefilter("ignore")
      ...         with js.variable_op_scope([], None, "MyOp") as scope:
      ...             return scope.name
      >>> js.transform(f).apply(js.transform(f).init(0))[0]
      'MyOp'
    """
    warnings.warn(
        "js.variable_op_scope(values, name, default_name) is deprecated, use "
        "js.variable_scope(name, default_name, values)",
        DeprecationWarning,
        stacklevel=2,
    )
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)


def pure_variable_scope(
    name_or_scope: str | VariableScope, reuse: Any = None, **kwargs: Any
) -> _PureVariableScope:
    """The variable-scope half of `variable_scope` (no name scope), for templates."""
    return _PureVariableScope(current_frame("js.make_template"), name_or_scope, reuse, **kwargs)


def unique_variable_scope(prefix: str) -> str:
    """``prefix`` made unique among sibling scopes of the current scope."""
    return _unique_variable_scope(current_frame("js.make_template"), prefix)
