"""`transform`: a function that calls `get_variable` becomes pure ``init`` and ``apply``.

``init`` runs the function as the *create trace* and returns every variable it
made; ``apply`` runs it as the *reuse trace* over given variables and returns
the output with an `Aux`: only what the call produced (the variables it assigned,
and the losses), never a copy of an unchanged variable; `merge` folds the
assignments back.
Both are ordinary JAX functions: ``jax.jit``, ``jax.grad`` and ``jax.vmap``
apply to them, and ``specs`` traces abstractly with ``jax.eval_shape``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, overload

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.assign import run_deferred
from jaxscope.errors import ApplyVariablesError, MissingRngError, did_you_mean
from jaxscope.frame import Frame, Mode, current_frame, push_frame
from jaxscope.naming import stable_hash
from jaxscope.spec import VariableSpec

Variables = dict[str, dict[str, jax.Array]]


class Aux(NamedTuple):
    """What ``apply`` returns beside the output: only what the call produced.

    A pytree of what the call made and nothing it was given, so ``jax.jit(model.apply)``
    writes no copy of an unchanged variable.

    Attributes:
      updates: ``{"params": {...}, "state": {...}}`` holding only the variables assigned
        during the call (moving statistics, counters), at their new values; fold them
        back with `merge`.
      losses: ``{name: scalar}`` of every regularization loss and `add_loss`.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> def f():
      ...     js.get_variable("w", initializer=jnp.array([3.0, 4.0]),
      ...                     regularizer=js.regularizers.l2(1.0))
      ...     js.get_variable("steps", initializer=0, trainable=False)
      ...     js.assign_add("steps", 1)
      >>> model = js.transform(f)
      >>> variables = model.init(0)
      >>> _, aux = model.apply(variables)
      >>> jax.tree.map(int, aux.updates)              # "w" was not assigned: not returned
      {'params': {}, 'state': {'steps': 2}}
      >>> float(aux.regularization_loss), int(js.merge(variables, aux.updates)["state"]["steps"])
      (12.5, 2)
    """

    updates: Variables
    losses: dict[str, jax.Array]

    @property
    def regularization_loss(self) -> jax.Array:
        """The sum of `losses` (``0.0`` float32 when there are none)."""
        total = jnp.zeros((), jnp.float32)
        for loss in self.losses.values():
            total = total + loss
        return total

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes Aux does not have: teach the move from the old contract.
        if name in ("variables", "state"):
            raise AttributeError(_AUX_VARIABLES_REMOVED.format(attr=name))
        raise AttributeError(f"'Aux' object has no attribute {name!r}")


_AUX_VARIABLES_REMOVED = (
    "aux.{attr} was removed: apply returns only what the call changed, in aux.updates "
    "({{'params': {{...}}, 'state': {{...}}}} with only the assigned variables). Fold them "
    "back with variables = js.merge(variables, aux.updates)."
)


def merge(variables: Mapping[str, Any], updates: Mapping[str, Mapping[str, Any]]) -> Variables:
    """``variables`` with ``updates`` (``aux.updates`` of `apply`) folded in; a new dict.

    Pure and cheap (dictionaries only), so it works inside and outside ``jax.jit``;
    neither argument is changed. Every updated name must already be in ``variables``:
    ``apply`` never creates, so a stray name means updates from another model.

    Args:
      variables: ``{"params": {...}, "state": {...}}`` as ``init`` returned them.
      updates: ``aux.updates`` of an ``apply`` over those variables.

    Returns:
      The variables after the call: each updated name replaced, order and any extra
      top-level entries kept.

    Example:
      >>> import jaxscope as js
      >>> def count():
      ...     js.get_variable("calls", initializer=0, trainable=False)
      ...     js.assign_add("calls", 1)
      >>> model = js.transform(count)
      >>> variables = model.init(0)                      # init ran count once: calls == 1
      >>> _, aux = model.apply(variables)
      >>> variables = js.merge(variables, aux.updates)   # TF1: the assign op was run
      >>> int(variables["state"]["calls"])
      2
    """
    merged = dict(variables)
    for collection, changed in updates.items():
        if not changed:
            continue
        current = variables.get(collection)
        if not isinstance(current, Mapping):
            raise ApplyVariablesError(
                f"js.merge: the updates have a {collection!r} part, but variables has no "
                f"{collection!r} dict; pass the variables that apply was called with."
            )
        missing = [name for name in changed if name not in current]
        if missing:
            raise ApplyVariablesError(
                f"js.merge: variable {missing[0]!r} in updates[{collection!r}] is not in "
                f"variables[{collection!r}].{did_you_mean(missing[0], current)} apply only "
                "assigns variables it was given: merge aux.updates into the variables that "
                "apply was called with."
            )
        merged[collection] = {**current, **changed}
    return merged


class Transformed(NamedTuple):
    """A pair of pure functions (and an abstract one) made by `transform`.

    Attributes:
      init: ``init(rng, *args, **kwargs) -> variables``, the create trace.
      apply: ``apply(variables, *args, rng=None, **kwargs) -> (out, aux)``, the reuse trace.
      specs: ``specs(*args, **kwargs) -> {name: VariableSpec}``, no FLOPs, no memory.
      shardings: ``shardings(mesh, *args, **kwargs) -> {"params": {name: NamedSharding},
        "state": {...}}``, from `specs` (an abstract trace) and the rule of
        `jaxscope.sharding.partition_spec`.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> def net(x):
      ...     count = js.get_variable("count", [], dtype="int32", trainable=False)
      ...     js.assign("count", count + 1)  # TF1: tf.assign_add(count, 1)
      ...     return x @ js.get_variable("w", [3, 2], regularizer=js.regularizers.l2(0.1))
      >>> model = js.transform(net)
      >>> x = jnp.ones([1, 3])

      ``specs``: an abstract trace (shapes only, no FLOPs), as listing ``tf.global_variables()``:

      >>> {name: spec.shape for name, spec in model.specs(x).items()}
      {'count': (), 'w': (3, 2)}

      ``init``: the create trace, as running ``tf.global_variables_initializer()``:

      >>> variables = model.init(jax.random.key(0), x)
      >>> list(variables["params"]), list(variables["state"])
      (['w'], ['count'])

      ``apply``: the reuse trace, as ``sess.run(output)``; assignments come back in ``aux``:

      >>> out, aux = model.apply(variables, x)
      >>> out.shape, list(aux.losses), list(aux.updates["state"])
      ((1, 2), ['w'], ['count'])
      >>> variables = js.merge(variables, aux.updates)  # TF1: the assign op ran
      >>> int(variables["state"]["count"])              # init ran net once too
      2

      ``shardings``: where each variable lives on a device mesh (`jaxscope.sharding`
      gives the rule: partitioned variables are split, the rest replicated), for
      ``jax.jit(model.init, out_shardings=...)``:

      >>> mesh = jax.make_mesh((1,), ("model",))
      >>> shardings = model.shardings(mesh, x)
      >>> shardings["params"]["w"].spec
      P()
      >>> variables = jax.jit(model.init, out_shardings=shardings)(jax.random.key(0), x)
      >>> variables["params"]["w"].sharding == shardings["params"]["w"]
      True
    """

    init: Callable[..., Variables]
    apply: Callable[..., tuple[Any, Aux]]
    specs: Callable[..., dict[str, VariableSpec]]
    shardings: Callable[..., dict[str, dict[str, jax.sharding.NamedSharding]]]


def as_rng(rng: Any) -> Any:
    """A JAX key from a key (new-style or raw ``PRNGKey``), an ``int`` seed, or ``None``."""
    if rng is None:
        return None
    if isinstance(rng, (int, np.integer)):
        return jax.random.key(int(rng))
    dtype = getattr(rng, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return rng
    if dtype is not None and np.shape(rng) == () and jnp.issubdtype(dtype, jnp.integer):
        return jax.random.key(rng)
    if dtype is not None and np.shape(rng) == (2,) and dtype == jnp.uint32:
        return rng
    raise TypeError(
        f"rng must be a JAX key (jax.random.key(0) or jax.random.PRNGKey(0)) or an int seed, "
        f"got {type(rng).__name__} {getattr(rng, 'shape', '')}."
    )


def _check_variables(variables: Any) -> Mapping[str, Any]:
    if (
        not isinstance(variables, Mapping)
        or not isinstance(variables.get("params"), Mapping)
        or not isinstance(variables.get("state"), Mapping)
    ):
        hint = ""
        if isinstance(variables, Mapping) and "params" not in variables:
            hint = (
                " It looks like a flat {name: array} dict: pass the whole dict that init "
                "returned, or {'params': params, 'state': state}."
            )
        raise TypeError(
            "apply expects the variables returned by init: {'params': {name: array}, "
            f"'state': {{name: array}}}}, got {type(variables).__name__}.{hint}"
        )
    return variables


def _run_init(fn: Callable, rng: Any, args: tuple, kwargs: dict) -> Frame:
    frame = Frame(Mode.CREATE, as_rng(rng), None)
    with push_frame(frame):
        fn(*args, **kwargs)
        run_deferred(frame)
    return frame


@overload
def transform(fn: Callable[..., Any], *, mesh_axis: str | None = None) -> Transformed: ...


@overload
def transform(
    fn: None = None, *, mesh_axis: str | None = None
) -> Callable[[Callable[..., Any]], Transformed]: ...


def transform(fn: Callable[..., Any] | None = None, *, mesh_axis: str | None = None) -> Any:
    """Turn ``fn`` (which calls `get_variable` in scopes) into pure ``init`` and ``apply``.

    Usable as a decorator (``@js.transform`` or ``@js.transform(mesh_axis="model")``).

    Args:
      fn: the model function.
      mesh_axis: the mesh axis that ``Transformed.shardings`` splits partitioned
        variables over (TF-style partitioners); the mesh's first axis when ``None``.

    Returns:
      A `Transformed` (or, without ``fn``, a decorator making one).

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> @js.transform
      ... def affine(x):
      ...     w = js.get_variable("w", [3, 2])
      ...     b = js.get_variable("b", [2], initializer=js.zeros_initializer)
      ...     return x @ w + b
      >>> variables = affine.init(jax.random.key(0), jnp.ones([1, 3]))
      >>> sorted(variables["params"])
      ['b', 'w']
      >>> out, aux = affine.apply(variables, jnp.ones([1, 3]))
      >>> out.shape
      (1, 2)
    """

    if fn is None:
        return functools.partial(transform, mesh_axis=mesh_axis)

    def init(rng: Any, *args: Any, **kwargs: Any) -> Variables:
        return _run_init(fn, rng, args, kwargs).variables()

    def apply(variables: Variables, *args: Any, rng: Any = None, **kwargs: Any) -> tuple[Any, Aux]:
        frame = Frame(Mode.REUSE, as_rng(rng), _check_variables(variables))
        with push_frame(frame):
            out = fn(*args, **kwargs)
            run_deferred(frame)
        return out, Aux(frame.updates(), dict(frame.losses))

    def specs(*args: Any, **kwargs: Any) -> dict[str, VariableSpec]:
        """Abstract trace: (*args) -> {name: VariableSpec}, no FLOPs, no device memory."""
        frames: list[Frame] = []

        def trace(*dynamic: Any) -> None:
            call_args, call_kwargs = rebuild(dynamic)
            frames.append(_run_init(fn, jax.random.key(0), call_args, call_kwargs))

        dynamic, rebuild = _split_arrays(args, kwargs)
        jax.eval_shape(trace, *dynamic)
        return {key: record.spec for key, record in frames[0].records.items()}

    def shardings(mesh: Any, *args: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
        """Abstract trace: (mesh, *args) -> NamedSharding of every variable, as init's output."""
        from jaxscope.sharding import variable_shardings

        return variable_shardings(specs(*args, **kwargs), mesh, mesh_axis)

    _describe(init, fn, "Create trace", "init(rng, *args, **kwargs) -> variables")
    _describe(apply, fn, "Reuse trace",
              "apply(variables, *args, rng=None, **kwargs) -> (out, aux)")
    return Transformed(init, apply, specs, shardings)


def _describe(traced: Callable, fn: Callable, what: str, signature: str) -> None:
    """Give ``traced`` the model's name and docstring, but keep its own signature.

    Not `functools.wraps`: that sets ``__wrapped__``, and ``inspect.signature`` (so
    ``jax.jit``'s ``static_argnames``, ``static_argnums`` and ``donate_argnames``) would
    then see the model's parameters instead of ``init``'s and ``apply``'s.
    """
    name = getattr(fn, "__name__", type(fn).__name__)
    traced.__name__ = name
    traced.__qualname__ = getattr(fn, "__qualname__", name)
    traced.__module__ = getattr(fn, "__module__", traced.__module__)
    doc = getattr(fn, "__doc__", None)
    doc = inspect.cleandoc(doc) if doc and doc != type(fn).__doc__ else None
    traced.__doc__ = f"{what} of {name}: {signature}." + (f"\n\n{doc}" if doc else "")


def _is_array_like(x: Any) -> bool:
    return isinstance(x, (jax.Array, np.ndarray, jax.ShapeDtypeStruct, np.generic))


def _split_arrays(args: tuple, kwargs: dict) -> tuple[list[Any], Callable]:
    """Separate array leaves (traced by eval_shape) from static ones (kept as Python values)."""
    leaves, treedef = jax.tree.flatten((args, kwargs))
    positions = [i for i, leaf in enumerate(leaves) if _is_array_like(leaf)]

    def rebuild(dynamic: tuple) -> tuple[tuple, dict]:
        merged = list(leaves)
        for i, value in zip(positions, dynamic):
            merged[i] = value
        return jax.tree.unflatten(treedef, merged)

    return [leaves[i] for i in positions], rebuild


def next_rng_key() -> jax.Array:
    """A fresh key for dropout and the like, from the ``rng`` given to init/apply.

    Example:
      >>> import jax, jaxscope as js
      >>> def noisy(x):
      ...     return x + jax.random.normal(js.next_rng_key(), x.shape)
      >>> model = js.transform(noisy)
      >>> x = jax.numpy.zeros(3)
      >>> out, _ = model.apply(model.init(0, x), x, rng=jax.random.key(1))
      >>> out.shape
      (3,)
    """
    frame = current_frame("js.next_rng_key")
    if frame.rng is None:
        raise MissingRngError(
            "js.next_rng_key() needs an rng, but none was given: call "
            "model.apply(variables, ..., rng=jax.random.key(0)) (or pass an int seed)."
        )
    base = jax.random.fold_in(frame.rng, stable_hash("jaxscope/next_rng_key"))
    key = jax.random.fold_in(base, frame.rng_counter)
    frame.rng_counter += 1
    lift = frame.lift
    while lift is not None:  # a different key for every scan step (and vmap example)
        lift.used_rng = True
        if lift.step is not None:
            key = jax.random.fold_in(key, lift.step)
        lift = lift.parent
    return key
