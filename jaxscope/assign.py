"""Assignment: `assign`, `assign_add`, `assign_sub` by variable name, as TF1's ``tf.assign``.

The new value is what later reads in the same call see, and it lands in
``aux.updates`` (in ``init``: in the returned variables). A variable's
``constraint`` is applied after each assignment. `defer_assign` is TF1's UPDATE_OPS
kind of update: it lands when the call (or lifted body) ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxscope import errors
from jaxscope.frame import Frame, current_frame
from jaxscope.naming import join
from jaxscope.values import canonical_dtype


def _resolve(frame: Frame, name: str, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(
            f"js.{what} takes the variable's name, as given to js.get_variable (e.g. "
            f"js.{what}('v', value)), got {type(name).__name__}."
        )
    full = join(frame.current_scope.name, name)
    key = frame.store.get(full)
    if key is None:
        for candidate in (full, name):
            if candidate in frame.records:
                return candidate
        raise errors.VariableMissingError(
            f"js.{what}: variable {full} does not exist in this call. Assignment resolves the "
            "name in the current variable scope like a reusing js.get_variable, so the "
            "variable must have been created (or fetched) earlier in the same call."
            + errors.did_you_mean(full, frame.records)
        )
    return key


def _write(frame: Frame, key: str, value: Any, what: str) -> jax.Array:
    record = frame.records[key]
    spec = record.spec
    if isinstance(value, (int, float, bool, complex)):
        new = jnp.asarray(value, dtype=spec.dtype)
    else:
        new = jnp.asarray(value)
        if canonical_dtype(new.dtype) != spec.dtype:
            raise TypeError(
                f"js.{what}: variable {key} has dtype {spec.dtype.name} but the value has dtype "
                f"{new.dtype.name}; cast it first (value.astype(jnp.{spec.dtype.name}))."
            )
    if new.shape != spec.shape:
        try:
            new = jnp.broadcast_to(new, spec.shape)
        except ValueError:
            raise ValueError(
                f"js.{what}: variable {key} has shape {errors.format_shape(spec.shape)} but the "
                f"value has shape {errors.format_shape(new.shape)}."
            ) from None
    if record.constraint is not None:
        new = record.constraint(new)
    frame.values[key] = new
    frame.assigned[key] = None
    if frame.lift is not None:
        frame.lift.assigned[key] = None
    return new


def defer_assign(name: str, update: Callable[[jax.Array], Any]) -> None:
    """Assign ``update(value)`` to variable ``name`` when the call ends, as TF1's UPDATE_OPS.

    TF1 runs an update op only when it is fetched, after the forward pass, so reads
    later in the same call still see the old value; batch normalization's moving
    statistics work this way (API decision 13). ``update`` gets the variable's value at
    the end of the call (after earlier updates of it), so two updates compose in
    order. Inside a lifted body (`js.scan`, ...) the update lands when the body ends,
    so the next step sees it.

    Example:
      >>> import jaxscope as js
      >>> from jaxscope.assign import defer_assign
      >>> def f():
      ...     with js.variable_scope("", reuse=js.AUTO_REUSE):
      ...         js.get_variable("v", initializer=1.0, trainable=False)
      ...         defer_assign("v", lambda old: old + 10.0)
      ...         return js.get_variable("v", initializer=1.0, trainable=False)  # still old
      >>> model = js.transform(f)
      >>> variables = model.init(0)  # init runs the update too: v == 11
      >>> out, aux = model.apply(variables)
      >>> float(out), float(aux.updates["state"]["v"])
      (11.0, 21.0)
    """
    frame = current_frame("js.defer_assign")
    frame.deferred.append((_resolve(frame, name, "defer_assign"), update))


def run_deferred(frame: Frame, since: int = 0) -> None:
    """Apply the updates `defer_assign` queued since index ``since``, in order."""
    pending = frame.deferred[since:]
    del frame.deferred[since:]
    for key, update in pending:
        _write(frame, key, update(frame.values[key]), "defer_assign")


def assign(name: str, value: Any) -> jax.Array:
    """Set variable ``name`` (resolved in the current scope) to ``value``; return it.

    Later reads in the same call see the new value; it lands in
    ``aux.updates`` (in ``init``: in the returned variables); `merge` folds it back.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("counter", initializer=0)
      ...     return js.assign("counter", 5)
      >>> model = js.transform(f)
      >>> out, aux = model.apply(model.init(0))
      >>> int(aux.updates["state"]["counter"])
      5
    """
    frame = current_frame("js.assign")
    return _write(frame, _resolve(frame, name, "assign"), value, "assign")


def assign_add(name: str, delta: Any) -> jax.Array:
    """``assign(name, value + delta)``; see `assign`.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("counter", initializer=0)
      ...     return js.assign_add("counter", 1)
      >>> int(js.transform(f).init(0)["state"]["counter"])
      1
    """
    frame = current_frame("js.assign_add")
    key = _resolve(frame, name, "assign_add")
    return _write(frame, key, frame.values[key] + delta, "assign_add")


def assign_sub(name: str, delta: Any) -> jax.Array:
    """``assign(name, value - delta)``; see `assign`.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("v2", [5], initializer=js.zeros_initializer)
      ...     return js.assign_sub("v2", 1.0)
      >>> js.transform(f).init(0)["params"]["v2"].tolist()
      [-1.0, -1.0, -1.0, -1.0, -1.0]
    """
    frame = current_frame("js.assign_sub")
    key = _resolve(frame, name, "assign_sub")
    return _write(frame, key, frame.values[key] - delta, "assign_sub")
