"""`get_variable`, `Variable` and assignment: the one path every variable takes.

``get_variable`` resolves the full name and the effective arguments from the
scope chain, runs the custom-getter chain (innermost scope first) whose last
link is `true_getter`, which applies TF1's reuse table against the names this
trace created so far. In CREATE mode (``init``) it draws the initial value from
``fold_in(rng, stable_hash(full_name))``; in REUSE mode (``apply``) it reads the
given variables and checks their shape and dtype. Both record the same spec,
collections and regularization loss, so a program that runs in one runs in the
other.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope import errors, initializers
from jaxscope.collections import GraphKeys, add_item
from jaxscope.frame import (
    CollectionItem,
    Frame,
    Mode,
    Record,
    current_frame,
    format_origin,
    in_frame_trace,
    user_origin,
)
from jaxscope.losses import record_loss
from jaxscope.naming import join, stable_hash, unique_name
from jaxscope.scope import _check_getter, _NameScope
from jaxscope.spec import VariableSpec, variable_collection

_FLOAT32 = np.dtype("float32")
# Deterministic initializers ignore the key, so they need no rng and no fold_in.
_KEYLESS = (initializers.Zeros, initializers.Ones, initializers.Constant, initializers.Identity)
_INVALID_INITIALIZER = (
    "The initializer passed is not valid. It should be a callable with no arguments and the "
    "shape should not be provided or an instance of `tf.keras.initializers.*' and `shape` "
    "should be fully defined."
)


# -- small conversions -----------------------------------------------------------------------
def canonical_dtype(dtype: Any) -> np.dtype:
    """A NumPy dtype as JAX will store it (``"int32"``, ``jnp.float32``, ``np.float64``...)."""
    try:
        return _CANONICAL[dtype]
    except (KeyError, TypeError):
        pass
    original = np.dtype(jnp.dtype(dtype))
    canonical = np.dtype(jax.dtypes.canonicalize_dtype(original))
    # jax_enable_x64 can change at any time, so 64-bit dtypes are never cached.
    if original == canonical and original not in _X64_DEPENDENT:
        try:
            _CANONICAL[dtype] = canonical
        except TypeError:
            pass
    return canonical


_CANONICAL: dict[Any, np.dtype] = {}
_X64_DEPENDENT = frozenset(np.dtype(t) for t in ("float64", "int64", "uint64", "complex128"))


def as_shape(shape: Any) -> tuple[int | None, ...] | None:
    """TF's ``as_shape``: ``None`` (unknown), an int ``n`` (``(n,)``) or a sequence."""
    if shape is None:
        return None
    if type(shape) is tuple and all(type(d) is int for d in shape):
        return shape
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise TypeError(
            f"shape must be a list or tuple of ints (or None for unknown dims), got {shape!r}"
        ) from None


def value_dtype(value: Any) -> np.dtype:
    """The dtype a value initializer gives its variable (Python int -> int32, float -> float32)."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        dtype = np.asarray(value).dtype
    if np.dtype(dtype).kind in "OUSV" and np.dtype(dtype) != jnp.dtype("bfloat16"):
        raise TypeError(
            f"Cannot make a JAX variable from {value!r}: JAX has no string or object arrays. "
            "Use a numeric or boolean value."
        )
    return canonical_dtype(dtype)


def as_value(value: Any, dtype: Any = None) -> jax.Array:
    """``value`` as a JAX array of its own dtype (or ``dtype``), never weakly typed."""
    target = value_dtype(value) if dtype is None else canonical_dtype(dtype)
    return jnp.asarray(value, dtype=target)


def _abstract_value(value: Any) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(value, (jax.Array, np.ndarray, jax.ShapeDtypeStruct)) or hasattr(value, "aval"):
        return tuple(value.shape), canonical_dtype(value.dtype)
    return tuple(np.shape(value)), value_dtype(value)


def _needs_no_arguments(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not inspect.Parameter.empty
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


def _is_tf_style(initializer: Callable) -> bool:
    """True for TF-style ``init(shape, dtype=None, partition_info=None)`` callables."""
    if isinstance(initializer, initializers.Initializer):
        return False
    try:
        return _TF_STYLE[initializer]
    except (KeyError, TypeError):
        pass
    tf_style = _signature_starts_with_shape(initializer)
    try:
        _TF_STYLE[initializer] = tf_style
    except TypeError:  # neither hashable nor weakly referenceable: just don't cache
        pass
    return tf_style


_TF_STYLE: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _signature_starts_with_shape(initializer: Callable) -> bool:
    try:
        params = [
            p for p in inspect.signature(initializer).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0].name == "shape"


# Initializers are immutable configurations, so one default instance serves every variable.
_DEFAULT_FLOAT_INITIALIZER = initializers.UniformUnitScaling()
_DEFAULT_EXACT_INITIALIZER = initializers.Zeros()


def _default_initializer(name: str, dtype: np.dtype) -> Any:
    """TF1's default by dtype: uniform_unit_scaling for floats (decision 1), zeros otherwise."""
    if jnp.issubdtype(dtype, jnp.floating):
        return _DEFAULT_FLOAT_INITIALIZER
    if jnp.issubdtype(dtype, jnp.integer) or dtype == np.bool_:
        return _DEFAULT_EXACT_INITIALIZER
    raise ValueError(
        f"An initializer for variable {name} of {dtype.name} is required. Pass "
        "initializer=... to js.get_variable (or to the enclosing js.variable_scope)."
    )


def variable_key(frame: Frame, name: str) -> str:
    """The key of a new `get_variable` variable: its name, made unique as TF1's tensor name.

    TF1 creates the variable's op under the root name scope with the full name,
    so the graph's one counter (shared with name scopes and `Variable`) makes it
    unique: ``Variable("w")`` then ``get_variable("w")`` gives ``w`` and ``w_1``
    (API.md decision 4), and that is the name TF1's checkpoints store.
    """
    return unique_name(frame.names_in_use, name)


def _rng_for(frame: Frame, key: str) -> Any:
    if frame.rng is None:
        raise errors.MissingRngError(
            f"Variable {key} needs a random initial value, but init was called with rng=None. "
            "Call model.init(jax.random.key(0), ...) (an int seed works too)."
        )
    return jax.random.fold_in(frame.rng, stable_hash(key))


def _run_initializer(
    frame: Frame, key: str, initializer: Any, shape: tuple[int, ...], dtype: np.dtype
) -> jax.Array:
    if isinstance(initializer, _KEYLESS):
        value = initializer(None, shape, dtype)
    elif _is_tf_style(initializer):
        value = initializer(list(shape), dtype=dtype)
    else:
        value = initializer(_rng_for(frame, key), shape, dtype)
    value = jnp.asarray(value, dtype=dtype)
    if value.shape != shape:
        raise ValueError(
            f"The initializer of variable {key} returned shape {value.shape}, but the variable "
            f"has shape {shape}."
        )
    return value


# -- the lookup half of apply ------------------------------------------------------------------
def _lookup_given(
    frame: Frame, key: str, shape: tuple[int, ...], dtype: np.dtype, collection: str
) -> Any:
    """Read variable ``key`` from the variables given to ``apply`` and check it."""
    assert frame.given is not None
    part = frame.given[collection]
    if key not in part:
        other = "state" if collection == "params" else "params"
        where = ""
        if key in frame.given[other]:
            where = (
                f" It is in variables[{other!r}] instead: the code asks for a "
                f"{'trainable float' if collection == 'params' else 'non-trainable or integer'}"
                " variable. Were these variables made by init of the same code?"
            )
        names = list(frame.given["params"]) + list(frame.given["state"])
        raise errors.ApplyVariablesError(
            f"apply: variable {key!r} ({errors.format_shape(shape)}, {dtype.name}) is missing "
            f"from variables[{collection!r}].{where}{errors.did_you_mean(key, names)} "
            "Variables come from model.init on the same code: re-run init after changing "
            "the model, or restore them from a checkpoint that has this name."
        )
    value = part[key]
    found_shape, found_dtype = tuple(np.shape(value)), canonical_dtype(value.dtype)
    if found_shape != shape:
        raise errors.ApplyVariablesError(
            f"apply: variable {key!r} has shape {errors.format_shape(found_shape)} in "
            f"variables[{collection!r}], but the code asks for shape "
            f"{errors.format_shape(shape)}. Re-run init, or fix the shape passed to "
            "js.get_variable."
        )
    if found_dtype != dtype:
        raise errors.ApplyVariablesError(
            f"apply: variable {key!r} has dtype {found_dtype.name} in variables[{collection!r}], "
            f"but the code asks for dtype {dtype.name}. Cast the value (e.g. "
            f"x.astype(jnp.{dtype.name})) or fix the dtype passed to js.get_variable."
        )
    return value


def _check_raw_transform(frame: Frame, key: str) -> None:
    if frame.mode is Mode.CREATE and not in_frame_trace(frame):
        raise errors.RawTransformError(
            f"Variable {key} is being created inside a JAX transform (jax.lax.scan, jax.vmap, "
            "jax.jit, jax.checkpoint, jax.lax.cond, ...) that was opened inside the model "
            "during init. Its initial value would be a tracer of that transform and escape it. "
            "Create the variable before the transform (e.g. call js.get_variable once outside "
            "the loop body) and let the body fetch it with reuse; jaxscope's lifted transforms "
            "do this for you where available."
        )


def _materialize(
    frame: Frame,
    key: str,
    *,
    make_value: Callable[[], Any],
    shape: tuple[int, ...],
    dtype: np.dtype,
    trainable: bool,
    collections: Sequence[str],
    partitioner: Any,
    partitions: tuple[int, ...] | None,
    initializer: Any,
    regularizer: Callable | None,
    constraint: Callable | None,
    caching_device: Any = None,
) -> Any:
    """Create (init) or look up (apply) one variable and record it in the frame."""
    _check_raw_transform(frame, key)
    collection = variable_collection(dtype, trainable)
    if frame.mode is Mode.CREATE:
        value = make_value()
    else:
        value = _lookup_given(frame, key, shape, dtype, collection)
    frame.values[key] = value
    regularized = False
    if regularizer is not None:
        with _NameScope(frame, key + "/Regularizer/"):  # TF1's op names for the loss
            loss = regularizer(value)
        if loss is not None:
            regularized = True
            name = record_loss(frame, key, loss)
            add_item(frame, GraphKeys.REGULARIZATION_LOSSES,
                     CollectionItem(name + "/Regularizer", None, loss))
    spec = VariableSpec(key, shape, dtype, trainable, tuple(collections), partitioner,
                        regularized, initializer)
    # init keeps TF's five creation-site frames for "Originally defined at"; apply, the hot
    # path of notebooks and training loops, keeps the nearest one (the same program has
    # already raised any such error in init).
    origin = user_origin(5 if frame.mode is Mode.CREATE else 1)
    frame.records[key] = Record(spec, constraint, origin, partitions, caching_device)
    for name in collections:
        add_item(frame, name, CollectionItem(key, key, None))
    return value


# -- get_variable --------------------------------------------------------------------------------
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
    trainable = True if trainable is None else trainable
    if custom_getter is None:
        return _store_get(frame, full_name, shape, dtype, initializer, regularizer, scope._reuse,
                          trainable, collections, partitioner, constraint, implicit_dtype,
                          caching_device)
    _check_getter(custom_getter)
    kwargs = dict(
        shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
        reuse=scope._reuse, trainable=trainable, collections=collections,
        caching_device=caching_device, partitioner=partitioner, validate_shape=validate_shape,
        use_resource=None, synchronization=None, aggregation=None,
    )
    if _accepts_constraint(custom_getter):
        kwargs["constraint"] = constraint
    if implicit_dtype:
        frame.implicit_dtype_names.append(full_name)
    try:
        # As TF1, getters run at the root name scope: ops they make are named from there.
        with _NameScope(frame, None):
            return custom_getter(getter=true_getter, name=full_name, **kwargs)
    finally:
        if implicit_dtype:
            frame.implicit_dtype_names.pop()


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
        constraint=constraint,
    )


def true_getter(
    name: str,
    shape: Sequence[int] | int | None = None,
    dtype: Any = _FLOAT32,
    initializer: Any = None,
    regularizer: Callable | None = None,
    reuse: Any = None,
    trainable: bool | None = None,
    collections: Sequence[str] | None = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: bool = True,
    use_resource: bool | None = None,
    constraint: Callable | None = None,
    synchronization: Any = None,
    aggregation: Any = None,
) -> jax.Array:
    """The last link of every custom-getter chain: TF1's variable store for one name.

    Reuse ``False`` creates (an existing name is an error), ``True`` fetches (a
    missing name is an error), ``None`` and `AUTO_REUSE` fetch or create.
    """
    frame = current_frame("js.get_variable")
    implicit = bool(frame.implicit_dtype_names) and frame.implicit_dtype_names[-1] == name
    dtype = canonical_dtype(dtype if dtype is not None else _FLOAT32)
    trainable = True if trainable is None else bool(trainable)
    return _store_get(frame, name, shape, dtype, initializer, regularizer, reuse, trainable,
                      collections, partitioner, constraint, implicit, caching_device)


def _store_get(
    frame: Frame,
    name: str,
    shape: Any,
    dtype: np.dtype,
    initializer: Any,
    regularizer: Callable | None,
    reuse: Any,
    trainable: bool,
    collections: Sequence[str] | None,
    partitioner: Any,
    constraint: Callable | None,
    implicit_dtype: bool,
    caching_device: Any = None,
) -> Any:
    """TF1's ``_VariableStore.get_variable`` for one resolved name and dtype."""
    from_value = initializer is not None and not callable(initializer)
    if shape is not None and from_value:
        raise ValueError(
            f"If initializer is a constant, do not specify shape. (variable {name}: the value "
            "gives the shape; drop shape=.)"
        )
    shape = as_shape(shape)
    if partitioner is not None and shape is not None and len(shape) == 0:
        partitioner = None  # scalars ignore partitioners, as TF1

    key = frame.store.get(name)
    if key is not None:
        return _reuse_existing(frame, name, key, shape, dtype, reuse, partitioner,
                               implicit_dtype)
    if reuse is True:
        if partitioner is not None:
            raise errors.VariableMissingError(
                f"PartitionedVariable {name} does not exist, or was not created with "
                "tf.get_variable(). Did you mean to set reuse=False or reuse=tf.AUTO_REUSE in "
                "VarScope?"
            )
        raise errors.VariableMissingError(errors.missing_message(name, frame.store))

    # -- create --------------------------------------------------------------------------
    if initializer is None:
        initializer = _default_initializer(name, dtype)
    elif isinstance(initializer, type):
        initializer = initializer()
    if from_value:
        shape, dtype = _abstract_value(initializer)
        recorded_init = None

        def make_value() -> Any:
            return as_value(initializer)
    elif shape is not None and None not in shape:
        recorded_init = initializer

        def make_value() -> Any:
            return _run_initializer(frame, key, initializer, shape, dtype)
    elif _needs_no_arguments(initializer):
        recorded_init = initializer
        shape, dtype = _abstract_value(jax.eval_shape(lambda: as_value(initializer())))

        def make_value() -> Any:
            return as_value(initializer())
    else:
        raise ValueError(
            f"{_INVALID_INITIALIZER} (variable {name}: pass a fully defined shape=, "
            f"got {errors.format_shape(shape)}.)"
        )
    partitions = _partitions(name, shape, dtype, partitioner)
    key = variable_key(frame, name)
    frame.store[name] = key
    if partitions is not None:
        frame.partitioned.add(name)
    collections = list(collections) if collections is not None else [GraphKeys.GLOBAL_VARIABLES]
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
        collections.append(GraphKeys.TRAINABLE_VARIABLES)
    return _materialize(
        frame, key, make_value=make_value, shape=shape, dtype=dtype, trainable=trainable,
        collections=collections, partitioner=partitioner, partitions=partitions,
        initializer=recorded_init, regularizer=regularizer, constraint=constraint,
        caching_device=caching_device,
    )


def _partitions(
    name: str, shape: tuple[int, ...], dtype: np.dtype, partitioner: Any
) -> tuple[int, ...] | None:
    if partitioner is None:
        return None
    if isinstance(partitioner, jax.sharding.PartitionSpec):
        return None
    if not callable(partitioner):
        raise ValueError(
            f"Partitioner must be callable, but received: {partitioner!r} (variable {name})"
        )
    from jaxscope.partitioners import validate_partitions

    return tuple(validate_partitions(name, shape, partitioner(shape=shape, dtype=dtype)))


def _reuse_existing(
    frame: Frame,
    name: str,
    key: str,
    shape: tuple[int | None, ...] | None,
    dtype: np.dtype,
    reuse: Any,
    partitioner: Any,
    implicit_dtype: bool,
) -> Any:
    record = frame.records[key]
    found = record.spec
    partitioned = name in frame.partitioned
    if partitioner is not None and not isinstance(partitioner, jax.sharding.PartitionSpec):
        if not partitioned:
            raise ValueError(
                f"A partitioner was provided, but an unpartitioned version of the variable was "
                f"found: {name}.  Perhaps a variable of the same name was already created "
                "without partitioning?"
            )
        if reuse is False:
            raise errors.VariableExistsError(
                f"Partitioned variable with name {name} already exists. Did you mean to set "
                "reuse=True or reuse=tf.AUTO_REUSE in VarScope?"
            )
        what = "reuse partitioned"
    else:
        if partitioned and reuse is not True:
            raise ValueError(
                f"No partitioner was provided, but a partitioned version of the variable was "
                f"found: {name}/part_0. Perhaps a variable of the same name was already created "
                "with partitioning?"
            )
        if reuse is False:
            origin = format_origin(record.origin)
            raise errors.VariableExistsError(errors.exists_message(name, origin))
        what = "share"
    if shape is not None and not _compatible(shape, found.shape):
        raise errors.VariableShapeError(
            f"Trying to {what} variable {name}, but specified shape "
            f"{errors.format_shape(shape)} and found shape {errors.format_shape(found.shape)}."
        )
    if dtype != found.dtype and not (implicit_dtype and dtype == _FLOAT32):
        raise errors.VariableDtypeError(
            f"Trying to {what} variable {name}, but specified dtype {dtype.name} and found "
            f"dtype {found.dtype.name}."
        )
    if what == "reuse partitioned" and record.partitions is not None:
        requested = _partitions(name, found.shape, found.dtype, partitioner)
        if requested != record.partitions:
            raise ValueError(
                f"Trying to reuse partitioned variable {name}, but specified partitions "
                f"{list(requested or [])} and found partitions {list(record.partitions)}."
            )
    return frame.values[key]


def _compatible(requested: tuple[int | None, ...], found: tuple[int, ...]) -> bool:
    return len(requested) == len(found) and all(
        r is None or r == f for r, f in zip(requested, found)
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
    key = unique_name(frame.names_in_use, join(frame.name_stack, name or "Variable"))
    value_fn = initial_value if callable(initial_value) else (lambda: initial_value)
    if frame.mode is Mode.CREATE:
        value = as_value(value_fn(), dtype)
        shape, var_dtype = tuple(value.shape), canonical_dtype(value.dtype)
    else:
        value = None
        shape, var_dtype = _abstract_value(jax.eval_shape(lambda: as_value(value_fn(), dtype)))
    collections = list(collections) if collections is not None else [GraphKeys.GLOBAL_VARIABLES]
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
        collections.append(GraphKeys.TRAINABLE_VARIABLES)
    return _materialize(
        frame, key, make_value=lambda: value, shape=shape, dtype=var_dtype,
        trainable=bool(trainable), collections=collections, partitioner=None, partitions=None,
        initializer=None, regularizer=None, constraint=constraint, caching_device=caching_device,
    )


# -- assignment ----------------------------------------------------------------------------------
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
    return new


def assign(name: str, value: Any) -> jax.Array:
    """Set variable ``name`` (resolved in the current scope) to ``value``; return it.

    Later reads in the same call see the new value; it lands in
    ``aux.variables`` (in ``init``: in the returned variables).

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("counter", initializer=0)
      ...     return js.assign("counter", 5)
      >>> model = js.transform(f)
      >>> out, aux = model.apply(model.init(0))
      >>> int(aux.state["counter"])
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
