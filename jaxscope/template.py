"""`make_template`: a function that creates its variables on the first call and shares them after.

TF1's rules (TF_SEMANTICS.md section 5): the scope is made at the first call
(``name_`` made unique relative to the call site) or at construction with
``create_scope_now_``; later calls re-enter the captured scope with
``reuse=True`` wherever they happen; a later call that creates a trainable
variable is an error.

A template object may be built once at module level and used by many traces:
its per-trace state (captured scope, first-call flag) is kept per frame, so
each ``init``/``apply`` starts afresh and nothing survives a trace.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any

from jaxscope.collections import GraphKeys, ScopedVariables
from jaxscope.frame import Frame, current_frame, maybe_current_frame
from jaxscope.scope import VariableScope, pure_variable_scope, unique_variable_scope
from jaxscope.scope import variable_scope as _variable_scope


class _TraceState:
    __slots__ = ("first_call", "variable_scope", "variables_created")

    def __init__(self, scope: VariableScope | None = None):
        self.variable_scope = scope
        self.first_call = True
        self.variables_created = False


class Template(ScopedVariables):
    """A function wrapped so that it shares variables between calls; made by `make_template`.

    Its properties (``variable_scope``, ``trainable_variables``, ...) describe the
    current trace, so read them inside the transformed function.

    Example:
      >>> import jaxscope as js
      >>> import jax.numpy as jnp
      >>> dense = js.make_template("dense", lambda x: x @ js.get_variable("w", [2, 2]))
      >>> def f(x):
      ...     dense(x), dense(x)
      ...     return dense.variable_scope.name, len(dense.trainable_variables)
      >>> x = jnp.ones([1, 2])
      >>> js.transform(f).apply(js.transform(f).init(0, x), x)[0]
      ('dense', 1)
    """

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        create_scope_now: bool = False,
        unique_name: str | None = None,
        custom_getter: Callable | None = None,
    ):
        if name is None:
            raise ValueError("name cannot be None.")
        self._func = func
        self._name = name
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._stacktrace = traceback.format_stack()[:-2]
        self._create_scope_now = create_scope_now
        if create_scope_now:
            frame = maybe_current_frame()
            if frame is None:
                raise ValueError(
                    f"make_template({name!r}, create_scope_now_=True) opens its scope at "
                    "construction, so it must be built inside a function transformed with "
                    "js.transform. Build it inside your model function, or use "
                    "create_scope_now_=False (the scope is then made at the first call)."
                )
            with pure_variable_scope(
                unique_name or unique_variable_scope(name),
                custom_getter=custom_getter,
                reset_dtype=True,
            ) as scope:
                frame.objects[self] = _TraceState(scope)

    def __repr__(self) -> str:
        return f"<Template {self._name!r} of {getattr(self._func, '__name__', self._func)!r}>"

    def _state(self, frame: Frame) -> _TraceState:
        state = frame.objects.get(self)
        if state is None:
            if self._create_scope_now:
                raise ValueError(
                    f"Template {self._name!r} was built with create_scope_now_=True in another "
                    "js.transform call; its scope belongs to that call. Build the template "
                    "inside the model function."
                )
            state = frame.objects[self] = _TraceState()
        return state

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function: the first call creates its variables, later calls share them.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> def linear(x):
          ...     return x @ js.get_variable("w", [2, 3])
          >>> def model(x):
          ...     shared = js.make_template("linear", linear)  # TF1: tf.make_template
          ...     first, second = shared(x), shared(x + 1.0)  # the second call reuses linear/w
          ...     return first.shape, second.shape
          >>> x = jnp.ones([4, 2])
          >>> model_fn = js.transform(model)
          >>> variables = model_fn.init(0, x)
          >>> list(variables["params"]), model_fn.apply(variables, x)[0]
          (['linear/w'], ((4, 3), (4, 3)))
        """
        frame = current_frame(f"Template {self._name!r}")
        state = self._state(frame)
        if state.variable_scope is not None:
            reuse = None if state.first_call else True
            with _variable_scope(state.variable_scope, reuse=reuse):
                return self._call_func(frame, state, args, kwargs)
        with _variable_scope(
            self._unique_name, self._name, custom_getter=self._custom_getter
        ) as scope:
            state.variable_scope = scope
            return self._call_func(frame, state, args, kwargs)

    def _call_func(self, frame: Frame, state: _TraceState, args: tuple, kwargs: dict) -> Any:
        try:
            if state.variables_created:
                trainable = frame.collections.get(GraphKeys.TRAINABLE_VARIABLES, [])
                trainable_at_start = len(trainable)
                result = self._func(*args, **kwargs)
                trainable = frame.collections.get(GraphKeys.TRAINABLE_VARIABLES, [])
                if len(trainable) != trainable_at_start:
                    new = [item.name for item in trainable[trainable_at_start:]]
                    raise ValueError(
                        "Trainable variable created when calling a template after the first "
                        "time, perhaps you used tf.Variable when you meant tf.get_variable: "
                        f"{new}"
                    )
                return result
            state.first_call = False
            try:
                result = self._func(*args, **kwargs)
            except BaseException:
                state.first_call = True
                raise
            state.variables_created = True
            return result
        except Exception as exc:
            trace = "".join(_skip_common_stack_elements(self._stacktrace, traceback.format_stack()))
            exc.add_note(f"\noriginally defined at:\n{trace}")
            raise

    # -- properties, as TF1's graph Template ---------------------------------------------------
    @property
    def name(self) -> str:
        """The name the template was made with (its scope may be ``name_1``, ...)."""
        return self._name

    @property
    def func(self) -> Callable[..., Any]:
        """The wrapped function (with `make_template`'s ``kwargs`` bound)."""
        return self._func

    @property
    def variable_scope(self) -> VariableScope | None:
        """The captured scope in the current trace (``None`` before the first call)."""
        frame = maybe_current_frame()
        state = frame.objects.get(self) if frame is not None else None
        return state.variable_scope if state is not None else None

    @property
    def variable_scope_name(self) -> str | None:
        """The captured scope's name ending in ``/`` (``None`` before the first call)."""
        scope = self.variable_scope
        if scope is None:
            return None
        name = scope.name
        return name if not name or name.endswith("/") else name + "/"

    def _captured_prefix(self, frame: Frame) -> str | None:
        state = frame.objects.get(self)
        if state is None or not state.variables_created:
            return None
        return self.variable_scope_name or ""


def _skip_common_stack_elements(stacktrace: list[str], base_case: list[str]) -> list[str]:
    """The construction-site frames that the current call stack does not share."""
    for i, (trace, base) in enumerate(zip(stacktrace, base_case)):
        if trace != base:
            return stacktrace[i:]
    return stacktrace[-1:]


def make_template(
    name_: str,
    func_: Callable[..., Any],
    create_scope_now_: bool = False,
    unique_name_: str | None = None,
    custom_getter_: Callable | None = None,
    **kwargs: Any,
) -> Template:
    """Wrap ``func_`` so that it creates variables on the first call and reuses them after.

    ``kwargs`` are bound to ``func_``. Two templates of one name get scopes
    ``name`` and ``name_1``; ``unique_name_`` is used verbatim.

    Example:
      >>> import jaxscope as js
      >>> def my_op(x, scalar_name):
      ...     var1 = js.get_variable(scalar_name, shape=[],
      ...                            initializer=js.constant_initializer(1))
      ...     return x * var1
      >>> def model(x):
      ...     scale_by_y = js.make_template("scale_by_y", my_op, scalar_name="y")
      ...     return scale_by_y(x) + scale_by_y(x)
      >>> list(js.transform(model).init(0, 2.0)["params"])
      ['scale_by_y/y']
    """
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(name_, func_, create_scope_now=create_scope_now_, unique_name=unique_name_,
                    custom_getter=custom_getter_)
