"""TF1's variable store for one trace: the reuse table, creation and lookup.

`true_getter` is the last link of every custom-getter chain. It applies TF1's
reuse table against the names this trace created so far (the frame's store
starts empty in both modes). In CREATE mode (``init``) a new variable's value
comes from ``initializer(fold_in(rng, stable_hash(full_name)), shape, dtype)``;
in REUSE mode (``apply``) it is read from the given variables, whose shape and
dtype are checked. Both record the same spec, collections and regularization
loss, so a program that runs in one runs in the other.
"""

from __future__ import annotations

import functools
import inspect
import math
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

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
    current_trace_state,
    format_origin,
    in_frame_trace,
    user_origin,
)
from jaxscope.getters import Request, run_creators
from jaxscope.losses import record_loss
from jaxscope.naming import join, stable_hash, unique_name
from jaxscope.scope import NameScope
from jaxscope.spec import (
    VariableAggregation,
    VariableSpec,
    VariableSynchronization,
    validate_synchronization_aggregation_trainable,
    variable_collection,
)
from jaxscope.values import abstract_value, as_shape, as_value, canonical_dtype

FLOAT32 = np.dtype("float32")
# Deterministic initializers ignore the key, so they need no rng and no fold_in.
_KEYLESS = (initializers.Zeros, initializers.Ones, initializers.Constant, initializers.Identity)
_INVALID_INITIALIZER = (
    "The initializer passed is not valid. It should be a callable with no arguments and the "
    "shape should not be provided or an instance of `tf.keras.initializers.*' and `shape` "
    "should be fully defined."
)


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
_DEFAULT_BY_DTYPE: dict[np.dtype, Any] = {}


def _default_initializer(name: str, dtype: np.dtype) -> Any:
    """TF1's default by dtype: uniform_unit_scaling for floats (decision 1), zeros otherwise."""
    default = _DEFAULT_BY_DTYPE.get(dtype)
    if default is not None:
        return default
    if jnp.issubdtype(dtype, jnp.floating):
        default = _DEFAULT_FLOAT_INITIALIZER
    elif jnp.issubdtype(dtype, jnp.integer) or dtype == np.bool_:
        default = _DEFAULT_EXACT_INITIALIZER
    if default is not None:
        _DEFAULT_BY_DTYPE[dtype] = default
        return default
    raise ValueError(
        f"An initializer for variable {name} of {dtype.name} is required. Pass "
        "initializer=... to js.get_variable (or to the enclosing js.variable_scope)."
    )


def _rng(frame: Frame, key: str) -> Any:
    """The init rng, which variable ``key`` needs for a random initial value."""
    if frame.rng is None:
        raise errors.MissingRngError(
            f"Variable {key} needs a random initial value, but init was called with rng=None. "
            "Call model.init(jax.random.key(0), ...) (an int seed works too)."
        )
    return frame.rng


def _rng_for(frame: Frame, key: str) -> Any:
    return jax.random.fold_in(_rng(frame, key), stable_hash(key))


# jaxscope's initializers are pure functions of (key, their config, shape, dtype), so one
# compiled program per (initializer config, shape, dtype) makes a variable in one dispatch
# (eagerly a random draw is ~10 op dispatches, even `jnp.zeros` is several), and inside a
# trace JAX reuses the program's cached jaxpr instead of tracing the initializer again. The
# values are the same (tested per initializer).
_RANDOM = (initializers.RandomUniform, initializers.RandomNormal,
           initializers.UniformUnitScaling, initializers.VarianceScaling,
           initializers.Orthogonal)
_COMPILED: dict[tuple, Callable[..., jax.Array]] = {}
_SCALARS = frozenset((str, int, float, bool, type(None)))
_MAX_COMPILED = 4096


def _compiled_initializer(
    initializer: Any, shape: tuple[int, ...], dtype: np.dtype
) -> Callable[..., jax.Array] | None:
    """Compiled and cached: ``make(rng, name_hash)`` for a random initializer, ``make()``
    for a keyless one; None for initializers that are not jaxscope's."""
    keyless = isinstance(initializer, _KEYLESS)
    if not keyless and not isinstance(initializer, _RANDOM):
        return None
    config = initializer.get_config()
    if not all(type(v) in _SCALARS for v in config.values()):
        return None  # e.g. a Constant's list or array: run op by op
    # repr, not the values: 0.0 == -0.0 and 1 == 1.0 == True would share a program
    cache_key = (type(initializer), repr(config), shape, dtype)
    make = _COMPILED.get(cache_key)
    if make is None:
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        if keyless:
            def make_value() -> jax.Array:
                return initializer(None, shape, dtype)
        else:
            def make_value(rng: Any, name_hash: Any) -> jax.Array:  # type: ignore[misc]
                return initializer(jax.random.fold_in(rng, name_hash), shape, dtype)
        make_value.__name__ = make_value.__qualname__ = type(initializer).__name__
        make = _COMPILED[cache_key] = jax.jit(make_value)  # jaxprs show pjit[name=GlorotUniform]
    return make


def _run_initializer(
    frame: Frame, key: str, initializer: Any, shape: tuple[int, ...], dtype: np.dtype
) -> jax.Array:
    make = _compiled_initializer(initializer, shape, dtype)
    if make is not None and isinstance(initializer, _KEYLESS):
        value = make()
    elif make is not None:
        value = make(_rng(frame, key), np.uint32(stable_hash(key)))
    elif isinstance(initializer, _KEYLESS):
        value = initializer(None, shape, dtype)
    elif _is_tf_style(initializer):
        value = initializer(list(shape), dtype=dtype)
    else:
        value = initializer(_rng_for(frame, key), shape, dtype)
    if getattr(value, "dtype", None) != dtype or getattr(value, "weak_type", True):
        value = jnp.asarray(value, dtype=dtype)
    if value.shape != shape:
        raise ValueError(
            f"The initializer of variable {key} returned shape {value.shape}, but the variable "
            f"has shape {shape}."
        )
    return value


# -- the lookup half of apply ------------------------------------------------------------------
def lookup_given(
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
    found_shape, found_dtype = abstract_value(value)
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


def apply_regularizer(frame: Frame, key: str, regularizer: Callable, value: Any) -> bool:
    """Record ``regularizer(value)`` as variable ``key``'s loss; False if it gave None."""
    with NameScope(frame, key + "/Regularizer/"):  # TF1's op names for the loss
        loss = regularizer(value)
    if loss is None:
        return False
    name = record_loss(frame, key, loss)
    add_item(frame, GraphKeys.REGULARIZATION_LOSSES,
             CollectionItem(name + "/Regularizer", None, loss))
    return True


def _check_raw_transform(frame: Frame, key: str) -> None:
    lift = frame.lift
    if lift is not None:
        if not lift.allow_create or lift.trace_state != current_trace_state():
            raise errors.RawTransformError(_raw_transform_message(key))
        return
    if not in_frame_trace(frame):
        raise errors.RawTransformError(_raw_transform_message(key))


def _raw_transform_message(key: str) -> str:
    return (
        f"Variable {key} is being created inside a JAX transform (jax.lax.scan, jax.vmap, "
        "jax.checkpoint, jax.lax.cond, jax.jit, ...) opened inside the model during init: its "
        "initial value would be a tracer of that transform and escape it. Use the lifted "
        "form, which creates the variable once outside and shares it with every step: "
        "js.scan, js.vmap, js.remat, js.cond (for jax.lax.scan, jax.vmap, jax.checkpoint, "
        "jax.lax.cond); or create the variable before the transform and fetch it inside with "
        "reuse."
    )


def materialize(
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
    synchronization: VariableSynchronization = VariableSynchronization.AUTO,
    aggregation: VariableAggregation = VariableAggregation.NONE,
) -> Any:
    """Create (init) or look up (apply) one variable and record it in the frame."""
    collection = variable_collection(dtype, trainable)
    lift = frame.lift
    if lift is not None and key in lift.inputs:
        value = lift.inputs[key]
    elif frame.mode is Mode.CREATE:
        _check_raw_transform(frame, key)
        value = make_value()
        if lift is not None:
            lift.created[key] = value
    else:
        value = lookup_given(frame, key, shape, dtype, collection)
    frame.values[key] = value
    regularized = False
    if regularizer is not None:
        if lift is not None:
            # Inside a lifted body the value may be a tracer of the transform; the loss is
            # computed once the value is outside it (`apply_regularizer`).
            lift.regularizers.append((key, regularizer))
            regularized = True
        else:
            regularized = apply_regularizer(frame, key, regularizer, value)
    spec = VariableSpec(key, shape, dtype, trainable, tuple(collections), partitioner,
                        regularized, initializer, partitions, synchronization, aggregation)
    # init keeps TF's five creation-site frames for "Originally defined at"; apply, the hot
    # path of notebooks and training loops, keeps none: the same code raises any such error
    # in init too, with the frames (the caller, store_get or Variable, is jaxscope's: the
    # walk starts above it).
    origin = user_origin(5, skip=1) if frame.mode is Mode.CREATE else ()
    frame.records[key] = Record(spec, constraint, origin, partitions, caching_device)
    item = CollectionItem(key, key, None)
    for name in collections:
        add_item(frame, name, item)
    return value


def variable_collections(collections: Sequence[str] | None, trainable: bool) -> list[str]:
    """TF1's collections of a new variable: ``GLOBAL_VARIABLES`` unless given, plus
    ``TRAINABLE_VARIABLES`` when it is trainable."""
    out = list(collections) if collections is not None else [GraphKeys.GLOBAL_VARIABLES]
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in out:
        out.append(GraphKeys.TRAINABLE_VARIABLES)
    return out


class Creation(NamedTuple):
    """A variable about to be made, as TF1's variable creators receive it (`create`)."""

    name: str  # as requested: the full name (get_variable) or the given name (Variable)
    prefix: str  # the name scope the key is made unique in ("" for get_variable)
    make_value: Callable[[str], Any]  # the initial value, given the variable's key
    shape: tuple[int, ...]
    dtype: np.dtype
    trainable: bool
    collections: list[str]
    store_name: str | None = None  # get_variable: the store maps this name to the key
    partitioner: Any = None
    partitions: tuple[int, ...] | None = None
    initializer: Any = None
    regularizer: Callable | None = None
    constraint: Callable | None = None
    caching_device: Any = None
    validate_shape: bool = True
    use_resource: bool | None = None
    synchronization: VariableSynchronization = VariableSynchronization.AUTO
    aggregation: VariableAggregation = VariableAggregation.NONE


def create(frame: Frame, *fields: Any) -> Any:
    """Make a variable through the frame's variable creators (innermost first), whose
    last link is the default creator: name it uniquely, then `materialize` it.

    ``fields`` are a `Creation`'s, in its order (positional: this is every variable's
    path in ``apply``, and a ``Creation`` is built only when there are creators).
    Creators (``js.variable_creator_scope``) see TF1's keyword arguments (``name``,
    ``initial_value`` -- a callable --, ``trainable``, ``collections``, ``dtype``,
    ``shape``, ``constraint``, ``caching_device``, ``validate_shape``, ``use_resource``,
    ``synchronization``, ``aggregation``) and may change them.
    """
    if not frame.creators:
        return _default_create(frame, *fields)
    new = Creation(*fields)
    initial_value = functools.partial(new.make_value, new.name)
    kwargs = dict(
        initial_value=initial_value, trainable=new.trainable, collections=new.collections,
        validate_shape=new.validate_shape, caching_device=new.caching_device, name=new.name,
        dtype=new.dtype, constraint=new.constraint, use_resource=new.use_resource,
        synchronization=new.synchronization, aggregation=new.aggregation, shape=new.shape,
    )

    def default_creator(**given: Any) -> Any:
        return _default_create(frame, *_as_asked(frame, new, initial_value, given))

    return run_creators(frame.creators, default_creator, kwargs)


def _as_asked(frame: Frame, new: Creation, offered: Any, given: dict[str, Any]) -> Creation:
    """``new`` with what the creators changed in its keyword arguments (``offered`` is the
    initial value they were given)."""
    name = given.get("name", new.name)
    synchronization, aggregation, trainable = validate_synchronization_aggregation_trainable(
        given.get("synchronization"), given.get("aggregation"), given.get("trainable"),
        name or "Variable")
    make_value, shape, dtype = new.make_value, new.shape, new.dtype
    asked_dtype = given.get("dtype")
    initial_value = given.get("initial_value", offered)
    if initial_value is not offered:  # a creator gave another initial value
        value_fn = initial_value if callable(initial_value) else (lambda: initial_value)
        shape, dtype = abstract_initial_value(frame, value_fn, asked_dtype)
        make_value = lambda key: as_value(value_fn(), dtype)  # noqa: E731
    elif asked_dtype is not None and canonical_dtype(asked_dtype) != dtype:
        dtype, original = canonical_dtype(asked_dtype), make_value
        make_value = lambda key: as_value(original(key), dtype)  # noqa: E731
    collections = variable_collections(given.get("collections"), trainable)
    return new._replace(
        name=name, make_value=make_value, shape=shape, dtype=dtype, trainable=trainable,
        collections=collections, constraint=given.get("constraint"),
        caching_device=given.get("caching_device"),
        validate_shape=given.get("validate_shape", True),
        use_resource=given.get("use_resource"), synchronization=synchronization,
        aggregation=aggregation)


_MAX_BYTES = 2**63 - 1


def _default_create(
    frame: Frame, name: str | None, prefix: str, make_value: Callable[[str], Any],
    shape: tuple[int, ...], dtype: np.dtype, trainable: bool, collections: list[str],
    store_name: str | None, partitioner: Any, partitions: tuple[int, ...] | None,
    initializer: Any, regularizer: Callable | None, constraint: Callable | None,
    caching_device: Any, validate_shape: bool, use_resource: bool | None,
    synchronization: VariableSynchronization, aggregation: VariableAggregation,
) -> Any:
    """TF's default creator: the variable's key is its name made unique in the graph.

    TF1 makes a `get_variable` variable's op under the root name scope with the full
    name, so the graph's one counter (shared with name scopes and `Variable`) makes it
    unique: ``Variable("w")`` then ``get_variable("w")`` gives ``w`` and ``w_1`` (API
    decision 4), and that is the name TF1's checkpoints store.
    """
    name = name or "Variable"
    # TF: a name scope ending in "/" is absolute, taken as it is; others are made unique.
    absolute = name.endswith("/")
    key = name[:-1] if absolute else unique_name(frame.names_in_use, join(prefix, name))
    if shape and math.prod(shape) * np.dtype(dtype).itemsize > _MAX_BYTES:
        raise ValueError(  # TF's text; XLA would abort the interpreter
            f"Shape {errors.format_shape(shape)} is too large (more than 2**63 - 1 entries) "
            f"for variable {key}. (No {np.dtype(dtype).name} array can hold it: its bytes "
            "overflow a 64-bit size. Check the shape's dimensions.)"
        )
    if store_name is not None:
        frame.store[store_name] = key
    return materialize(
        frame, key, make_value=functools.partial(make_value, key), shape=shape, dtype=dtype,
        trainable=trainable, collections=collections, partitioner=partitioner,
        partitions=partitions, initializer=initializer, regularizer=regularizer,
        constraint=constraint, caching_device=caching_device,
        synchronization=synchronization, aggregation=aggregation,
    )


def abstract_initial_value(frame: Frame, value_fn: Any, dtype: Any) -> tuple[Any, Any]:
    """Shape and dtype of an initial value, computing nothing (``jax.eval_shape``).

    In a reuse trace (no ``rng`` given to apply), a callable that draws from
    `next_rng_key` gets a placeholder key: its value is not used there.
    """
    given = frame.rng
    if given is None:
        frame.rng = jax.random.key(0)
    try:
        return abstract_value(jax.eval_shape(lambda: as_value(value_fn(), dtype)))
    finally:
        frame.rng = given


def true_getter(
    request: Request,
    name: str,
    shape: Sequence[int] | int | None = None,
    dtype: Any = FLOAT32,
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

    Bound to the call's `Request` (``functools.partial(true_getter, request)``), it is
    called as ``getter(name, *args, **kwargs)``. Reuse ``False`` creates (an existing
    name is an error), ``True`` fetches (a missing name is an error), ``None`` and
    `AUTO_REUSE` fetch or create.
    """
    frame = current_frame("js.get_variable")
    implicit = request.implicit_dtype and name == request.name
    dtype = canonical_dtype(dtype if dtype is not None else FLOAT32)
    return store_get(frame, name, shape, dtype, initializer, regularizer, reuse, trainable,
                     collections, partitioner, constraint, implicit, caching_device,
                     validate_shape, use_resource, synchronization, aggregation)


def store_get(
    frame: Frame,
    name: str,
    shape: Any,
    dtype: np.dtype,
    initializer: Any,
    regularizer: Callable | None,
    reuse: Any,
    trainable: bool | None,
    collections: Sequence[str] | None,
    partitioner: Any,
    constraint: Callable | None,
    implicit_dtype: bool,
    caching_device: Any = None,
    validate_shape: bool = True,
    use_resource: bool | None = None,
    synchronization: Any = None,
    aggregation: Any = None,
) -> Any:
    """TF1's ``_VariableStore.get_variable`` for one resolved name and dtype."""
    synchronization, aggregation, trainable = validate_synchronization_aggregation_trainable(
        synchronization, aggregation, trainable, name)
    from_value = initializer is not None and not callable(initializer)
    if shape is not None and from_value:
        raise ValueError(
            f"If initializer is a constant, do not specify shape. (variable {name}: the value "
            "gives the shape; drop shape=.)"
        )
    shape = as_shape(shape)
    if partitioner is not None and shape is not None and len(shape) == 0:
        partitioner = None  # scalars ignore partitioners, as TF1
    if (shape is None or None in shape) and callable(partitioner):
        raise ValueError(
            "Shape of a new partitioned variable must be fully defined, but instead was "
            f"{errors.format_shape(shape)}. (variable {name}: a partitioner splits the shape "
            "given to get_variable; pass shape=, or open a scope with partitioner=None for "
            "a variable made from a value.)"
        )

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
        shape, dtype = abstract_value(initializer)
        recorded_init = None

        def make_value(key: str) -> Any:
            return as_value(initializer)
    elif shape is not None and None not in shape:
        recorded_init = initializer

        def make_value(key: str) -> Any:
            return _run_initializer(frame, key, initializer, shape, dtype)
    elif _needs_no_arguments(initializer):
        recorded_init = initializer
        shape, dtype = abstract_value(jax.eval_shape(lambda: as_value(initializer())))

        def make_value(key: str) -> Any:
            return as_value(initializer())
    else:
        raise ValueError(
            f"{_INVALID_INITIALIZER} (variable {name}: pass a fully defined shape=, "
            f"got {errors.format_shape(shape)}.)"
        )
    partitions = _partitions(name, shape, dtype, partitioner)
    if partitions is not None:
        frame.partitioned.add(name)
    collections = variable_collections(collections, trainable)
    return create(  # Creation's fields
        frame, name, "", make_value, shape, dtype, trainable, collections, name, partitioner,
        partitions, recorded_init, regularizer, constraint, caching_device, validate_shape,
        use_resource, synchronization, aggregation)


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
            origin = format_origin(record.origin) if record.origin else (
                "  (apply does not record creation sites: model.init on the same code "
                "raises this error with them)\n")
            raise errors.VariableExistsError(errors.exists_message(name, origin))
        what = "share"
    if shape is not None and not _compatible(shape, found.shape):
        raise errors.VariableShapeError(
            f"Trying to {what} variable {name}, but specified shape "
            f"{errors.format_shape(shape)} and found shape {errors.format_shape(found.shape)}."
        )
    if dtype != found.dtype and not (implicit_dtype and dtype == FLOAT32):
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
