"""`transform`: a function that calls `get_variable` becomes pure ``init`` and ``apply``.

``init`` runs the function as the *create trace* and returns every variable it
made; ``apply`` runs it as the *reuse trace* over given variables and returns
the output with an `Aux` (the variables after assignments, and the losses).
Both are ordinary JAX functions: ``jax.jit``, ``jax.grad`` and ``jax.vmap``
apply to them, and ``specs`` traces abstractly with ``jax.eval_shape``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, overload

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.errors import MissingRngError
from jaxscope.frame import Frame, Mode, current_frame, push_frame
from jaxscope.naming import stable_hash
from jaxscope.spec import VariableSpec

Variables = dict[str, dict[str, jax.Array]]


class Aux(NamedTuple):
    """What ``apply`` returns beside the output: a pytree, so it passes through ``jax.jit``.

    Attributes:
      variables: the variables after the call, same structure as the input, with
        every assignment made during the call applied.
      losses: ``{name: scalar}`` of every regularization loss and `add_loss`.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> def f():
      ...     js.get_variable("w", initializer=jnp.array([3.0, 4.0]),
      ...                     regularizer=js.regularizers.l2(1.0))
      ...     js.get_variable("steps", initializer=0, trainable=False)
      ...     js.assign_add("steps", 1)
      >>> model = js.transform(f)
      >>> _, aux = model.apply(model.init(0))
      >>> float(aux.regularization_loss), int(aux.state["steps"])
      (12.5, 2)
    """

    variables: Variables
    losses: dict[str, jax.Array]

    @property
    def state(self) -> dict[str, jax.Array]:
        """``variables["state"]``: counters, moving averages and other non-trainables."""
        return self.variables["state"]

    @property
    def regularization_loss(self) -> jax.Array:
        """The sum of `losses` (``0.0`` float32 when there are none)."""
        total = jnp.zeros((), jnp.float32)
        for loss in self.losses.values():
            total = total + loss
        return total


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
      >>> out.shape, list(aux.losses)
      ((1, 2), ['w'])
      >>> int(variables["state"]["count"]), int(aux.state["count"])  # init ran net once too
      (1, 2)

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

    @functools.wraps(fn)
    def init(rng: Any, *args: Any, **kwargs: Any) -> Variables:
        return _run_init(fn, rng, args, kwargs).variables()

    @functools.wraps(fn)
    def apply(variables: Variables, *args: Any, rng: Any = None, **kwargs: Any) -> tuple[Any, Aux]:
        given = _check_variables(variables)
        params, state = dict(given["params"]), dict(given["state"])
        frame = Frame(Mode.REUSE, as_rng(rng), {"params": params, "state": state})
        with push_frame(frame):
            out = fn(*args, **kwargs)
        new = {"params": params, "state": state}
        if frame.assigned:
            new = {"params": dict(params), "state": dict(state)}
            for key in frame.assigned:
                new[frame.records[key].spec.collection][key] = frame.values[key]
        if len(given) != 2:  # keep any extra top-level entries the caller passed
            new = {**given, **new}
        return out, Aux(new, dict(frame.losses))

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

    init.__doc__ = f"Create trace of {getattr(fn, '__name__', 'fn')}: (rng, *args) -> variables."
    apply.__doc__ = (
        f"Reuse trace of {getattr(fn, '__name__', 'fn')}: (variables, *args, rng=None) -> "
        "(out, aux)."
    )
    return Transformed(init, apply, specs, shardings)


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
