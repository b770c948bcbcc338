"""`get_variable`, `get_local_variable` and `Variable`: how user code asks for a variable.

``get_variable`` resolves the full name and the effective arguments from the
scope chain and runs the custom-getter chain (innermost scope first) whose
last link is the store's `true_getter`; ``Variable`` always makes a new,
uniquely named variable. Both end in the store (`jaxscope.store`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from jaxscope.collections import GraphKeys
from jaxscope.frame import Mode, current_frame
from jaxscope.getters import Request, check_getter
from jaxscope.naming import check_variable_name
from jaxscope.scope import NameScope
from jaxscope.spec import (
    VariableAggregation,
    VariableSynchronization,
    validate_synchronization_aggregation_trainable,
)
from jaxscope.store import (
    abstract_initial_value,
    create,
    store_get,
    true_getter,
    variable_collections,
)
from jaxscope.values import as_value, canonical_dtype, value_dtype


def get_variable(
    name: str,
    shape: Sequence[int] | int | None = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Callable[[jax.Array], jax.Array | None] | None = None,
    trainable: bool | None = None,
    collections: Sequence[str] | None = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: bool = True,
    custom_getter: Callable | None = None,
    constraint: Callable[[jax.Array], jax.Array] | None = None,
    use_resource: bool | None = None,
    synchronization: VariableSynchronization | int | None = None,
    aggregation: VariableAggregation | int | None = None,
) -> jax.Array:
    """Get an existing variable or create a new one, as ``tf.compat.v1.get_variable``.

    The name is prefixed with the current variable scope; the scope's reuse
    flag decides between creating and sharing; ``None`` arguments take the
    scope's defaults. In ``init`` a new variable gets its initial value from
    ``initializer(key, shape, dtype)``; in ``apply`` it is read from the given
    variables.

    Example:
      >>> import jax, jaxscope as js
      >>> def f():
      ...     with js.variable_scope("foo"):
      ...         v = js.get_variable("v", [1])
      ...     with js.variable_scope("foo", reuse=True):
      ...         assert js.get_variable("v", [1]) is v
      >>> sorted(js.transform(f).init(jax.random.key(0))["params"])
      ['foo/v']
    """
    frame = current_frame("js.get_variable")
    scope = frame.current_scope
    if regularizer is None:
        regularizer = scope._regularizer
    if caching_device is None:
        caching_device = scope._caching_device
    if partitioner is None:
        partitioner = scope._partitioner
    if custom_getter is None:
        custom_getter = scope._custom_getter
    full_name = f"{scope._name}/{name}" if scope._name else name
    check_variable_name(name, full_name, True, "js.get_variable")
    if dtype is not None and initializer is not None and not callable(initializer):
        init_dtype, requested = value_dtype(initializer), canonical_dtype(dtype)
        if init_dtype != requested:
            raise ValueError(
                f"Initializer type '{init_dtype.name}' and explicit dtype '{requested.name}' "
                f"don't match. (variable {full_name}: a value initializer keeps its own dtype; "
                f"pass a value of dtype {requested.name}, or drop dtype=.)"
            )
    if initializer is None:
        initializer = scope._initializer
    if constraint is None:
        constraint = scope._constraint
    # Decision 3: with no dtype given anywhere, sharing accepts the stored dtype.
    implicit_dtype = dtype is None and scope._dtype is None
    dtype = canonical_dtype(scope.dtype if dtype is None else dtype)
    if synchronization is None and aggregation is None:
        trainable = True if trainable is None else trainable
    else:  # TF's checks; an ON_READ variable is not trainable
        synchronization, aggregation, trainable = (
            validate_synchronization_aggregation_trainable(
                synchronization, aggregation, trainable, full_name))
    if use_resource is None:
        use_resource = scope._use_resource
    if custom_getter is None:
        return store_get(frame, full_name, shape, dtype, initializer, regularizer, scope._reuse,
                         trainable, collections, partitioner, constraint, implicit_dtype,
                         caching_device, validate_shape, use_resource, synchronization,
                         aggregation)
    check_getter(custom_getter)
    getter = functools.partial(true_getter, Request(full_name, implicit_dtype))
    kwargs = dict(
        shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        reuse=scope._reuse, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=use_resource, synchronization=synchronization, aggregation=aggregation,
    )
    if _accepts_constraint(custom_getter):
        kwargs["constraint"] = constraint
    # As TF1, getters run at the root name scope: ops they make are named from there.
    with NameScope(frame, None):
        return custom_getter(getter=getter, name=full_name, **kwargs)


def _accepts_constraint(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return "constraint" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def get_local_variable(
    name: str,
    shape: Sequence[int] | int | None = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Callable | None = None,
    trainable: bool = False,
    collections: Sequence[str] | None = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: bool = True,
    custom_getter: Callable | None = None,
    constraint: Callable | None = None,
    use_resource: bool | None = None,
    synchronization: VariableSynchronization | int | None = None,
    aggregation: VariableAggregation | int | None = None,
) -> jax.Array:
    """`get_variable` for a non-trainable variable in ``LOCAL_VARIABLES`` (lives in ``state``).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_local_variable("count", [], dtype="int32")
      >>> js.transform(f).init(0)["state"]
      {'count': Array(0, dtype=int32)}
    """
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(
        name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        trainable=False, collections=collections, caching_device=caching_device,
        partitioner=partitioner, validate_shape=validate_shape, custom_getter=custom_getter,
        constraint=constraint, use_resource=use_resource, synchronization=synchronization,
        aggregation=aggregation,
    )


# -- Variable ------------------------------------------------------------------------------------
def Variable(  # noqa: N802 - TF's name
    initial_value: Any,
    trainable: bool = True,
    name: str | None = None,
    dtype: Any = None,
    collections: Sequence[str] | None = None,
    validate_shape: bool = True,
    caching_device: Any = None,
    constraint: Callable | None = None,
    use_resource: bool | None = None,
    synchronization: VariableSynchronization | int | None = None,
    aggregation: VariableAggregation | int | None = None,
) -> jax.Array:
    """Always make a new variable, uniquely named in the current name scope, as ``tf.Variable``.

    ``Variable("w")`` twice gives ``w`` and ``w_1``; it follows ``name_scope``
    (not the variable scope) and cannot be fetched by `get_variable`. It is
    created in ``init`` and looked up by the same name in ``apply``.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.Variable(10, name="name1")
      ...     js.Variable(10, name="name1")
      >>> list(js.transform(f).init(0)["state"])
      ['name1', 'name1_1']
    """
    frame = current_frame("js.Variable")
    if not isinstance(trainable, (bool, np.bool_)):
        raise TypeError(
            f"Variable's second argument is `trainable` (a bool), got {trainable!r}. In TF1 "
            "`tf.Variable(2, tf.int16)` silently passed the dtype as trainable; write "
            "`js.Variable(2, dtype=jnp.int16)`."
        )
    if name is not None:  # TF checks it as a name scope opened in the current one
        absolute = not frame.name_stack or (isinstance(name, str) and name.endswith("/"))
        check_variable_name(name, name, absolute, "js.Variable")
    synchronization, aggregation, trainable = validate_synchronization_aggregation_trainable(
        synchronization, aggregation, bool(trainable), name or "Variable")
    value_fn = initial_value if callable(initial_value) else (lambda: initial_value)
    if frame.mode is Mode.CREATE:
        value = as_value(value_fn(), dtype)
        shape, var_dtype = tuple(value.shape), canonical_dtype(value.dtype)

        def make_value(key: str) -> Any:
            return value
    else:  # apply reads the value; only its shape and dtype are needed
        shape, var_dtype = abstract_initial_value(frame, value_fn, dtype)

        def make_value(key: str) -> Any:
            return as_value(value_fn(), dtype)
    collections = variable_collections(collections, trainable)
    return create(  # Creation's fields
        frame, name, frame.name_stack, make_value, shape, var_dtype, trainable, collections,
        None, None, None, None, None, constraint, caching_device, validate_shape, use_resource,
        synchronization, aggregation)
