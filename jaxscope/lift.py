"""Lifted transforms: `scan`, `vmap`, `remat`, `cond`, `while_loop`, `fori_loop` whose
bodies may call `get_variable`.

A raw JAX transform traces its body into a function of its own: a variable
created there would be a tracer that escapes, and an assignment or a loss made
there would be lost. The lifted forms run the body inside a `Lift` of the
frame, which makes every variable the body uses an input from outside, and
every value the body changes an output:

* variables the body *creates* are made outside the loop once (`scan`, `cond`,
  `while_loop`: a creation run of one step during ``init``, as Haiku does) or leave the
  transform as unbatched outputs (`vmap`, `remat`), and are shared by every step;
* variables the body *assigns* are carried through the loop (`scan`) or leave
  as outputs, and land in ``aux.updates``;
* losses the body adds leave as outputs, summed over scan steps and averaged
  over vmapped examples; regularizers run once, outside, on the created value.

The body's names and scopes are recorded once, as TF1's ``while_loop`` builds
its body once.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxscope import errors
from jaxscope.assign import run_deferred
from jaxscope.collections import GraphKeys
from jaxscope.frame import Frame, Lift, Mode, Snapshot, current_frame, current_trace_state
from jaxscope.store import apply_regularizer, lookup_given


@contextlib.contextmanager
def _lifted(
    frame: Frame, inputs: dict[str, Any], allow_create: bool, step: Any = None
) -> Iterator[Lift]:
    """Run the enclosed body as a lifted body of ``frame``."""
    parent = frame.lift
    merged = {**parent.inputs, **inputs} if parent is not None else dict(inputs)
    # Only a body whose every enclosing body may create can create: inside a loop body the
    # variables all exist already (its creation run made them, outside).
    allow_create = allow_create and (parent is None or parent.allow_create)
    lift = Lift(merged, allow_create, current_trace_state(), step, parent=parent)
    for key, value in inputs.items():
        if key in frame.records:  # already recorded: reads start from the carried value
            frame.values[key] = value
    frame.lift = lift
    pending = len(frame.deferred)
    try:
        yield lift
        run_deferred(frame, pending)  # the body's UPDATE_OPS land as it ends
    finally:
        frame.lift = parent


class _Effects:
    """What one traced body changed: outputs of the lifted transform."""

    def __init__(self, frame: Frame, lift: Lift):
        self.lift = lift
        self.created = dict(lift.created)
        self.assigned = {key: frame.values[key] for key in lift.assigned}
        self.losses = {name: frame.losses[name] for name in lift.losses}

    def outputs(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.created, self.assigned, self.losses


def _creation_value(frame: Frame, lift: Lift, created: dict[str, Any], key: str) -> Any:
    if key in created:
        return created[key]
    if key in lift.inputs:
        return lift.inputs[key]
    assert frame.given is not None
    return frame.given[frame.records[key].spec.collection][key]


def _finish(
    frame: Frame,
    lift: Lift,
    created: dict[str, Any],
    assigned: dict[str, Any],
    losses: dict[str, Any],
) -> None:
    """Land a lifted body's outputs in the frame (or in the enclosing lifted body)."""
    frame.values.update(created)
    for key, value in assigned.items():
        frame.values[key] = value
        frame.assigned[key] = None
    for name, value in losses.items():
        frame.losses[name] = value
        for i, item in enumerate(frame.collections.get(GraphKeys.LOSSES, [])):
            if item.name == name:
                frame.collections[GraphKeys.LOSSES][i] = item._replace(value=value)
    parent = frame.lift
    if parent is not None:  # nested: the enclosing body passes everything on
        parent.created.update(created)
        parent.assigned.update(dict.fromkeys(assigned))
        parent.losses.update(dict.fromkeys(losses))
        parent.regularizers.extend(lift.regularizers)
        return
    for key, regularizer in lift.regularizers:
        value = _creation_value(frame, lift, created, key)
        if not apply_regularizer(frame, key, regularizer, value):
            record = frame.records[key]
            frame.records[key] = record._replace(spec=record.spec._replace(regularized=False))


def _value_before(frame: Frame, creation: dict[str, Any], specs: dict[str, Any], key: str) -> Any:
    """A carried variable's value before the transform: made by the creation run, already
    in the frame, or (in apply, first used inside the body) read from the given variables."""
    if key in creation:
        return creation[key]
    if key in frame.records:
        return frame.values[key]
    spec = specs[key]
    return lookup_given(frame, key, spec.shape, spec.dtype, spec.collection)


@contextlib.contextmanager
def _snapshot(frame: Frame) -> Iterator[Snapshot]:
    """The frame's bookkeeping before a lifted transform, restored if the body raises."""
    snap = frame.snapshot()
    try:
        yield snap
    except BaseException:
        frame.rewind(snap)
        raise


# -- scan ----------------------------------------------------------------------------------------
def _scan_length(xs: Any, length: int | None) -> int:
    leaves = jax.tree.leaves(xs)
    if length is not None:
        return int(length)
    if not leaves:
        raise ValueError("js.scan needs xs with a leading axis, or length=, to know how many "
                         "steps to run.")
    return int(leaves[0].shape[0])


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int | bool = 1,
) -> tuple[Any, Any]:
    """``jax.lax.scan`` whose body may create, read and assign variables.

    Variables the body creates are created once and shared by every step;
    variables it assigns are carried from step to step and land in
    ``aux.updates``; losses it adds are summed over the steps;
    `next_rng_key` gives each step its own key.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> def cumulative(xs):
      ...     def step(total, x):
      ...         w = js.get_variable("w", [], initializer=js.constant_initializer(2.0))
      ...         return total + w * x, total
      ...     return js.scan(step, 0.0, xs)[0]
      >>> model = js.transform(cumulative)
      >>> xs = jnp.arange(4.0)
      >>> variables = model.init(0, xs)
      >>> list(variables["params"]), float(model.apply(variables, xs)[0])
      (['w'], 12.0)
    """
    frame = current_frame("js.scan")
    n = _scan_length(xs, length)
    first = n - 1 if reverse else 0
    x_first = jax.tree.map(lambda x: x[first], xs)
    with _snapshot(frame) as snap:
        creation: dict[str, Any] = {}
        if frame.mode is Mode.CREATE and n > 0:
            # A creation run: one real step outside the loop makes the body's variables
            # (its output is discarded; under jit XLA removes it).
            with _lifted(frame, {}, allow_create=True) as lift:
                f(init, x_first)
            creation = dict(lift.created)
            carried, loss_names = list(lift.assigned), list(lift.losses)
            specs = {key: frame.records[key].spec for key in lift.created}
            used_rng = lift.used_rng
        else:
            carried, loss_names, specs, used_rng = _probe_scan(frame, f, init, x_first)
        frame.rewind(snap)

        carry0 = {key: _value_before(frame, creation, specs, key) for key in carried}
        traced: list[_Effects] = []

        def body(carry: Any, x_and_step: Any) -> Any:
            user_carry, var_carry = carry
            x, step = x_and_step  # the step index only when the body draws rng keys
            frame.rewind(snap)  # JAX may trace the body more than once
            with _lifted(frame, {**creation, **var_carry}, allow_create=False, step=step) as lf:
                new_carry, y = f(user_carry, x)
            effects = _Effects(frame, lf)
            traced.append(effects)
            new_vars = {key: effects.assigned.get(key, frame.values[key]) for key in carried}
            return (new_carry, new_vars), (y, {name: effects.losses[name] for name in loss_names})

        steps = jnp.arange(n) if used_rng else None
        (carry, final_vars), (ys, step_losses) = jax.lax.scan(
            body, (init, carry0), (xs, steps), length=n, reverse=reverse, unroll=unroll
        )
        lift = traced[-1].lift
        losses = {name: jnp.sum(value, axis=0) for name, value in step_losses.items()}
        _finish(frame, lift, creation, final_vars, losses)
    return carry, ys


def _probe_scan(
    frame: Frame, f: Callable, init: Any, x_first: Any
) -> tuple[list[str], list[str], dict[str, Any], bool]:
    """An abstract trace of one step: what it assigns, what losses it adds, if it uses rng."""
    found: dict[str, Any] = {}

    def one_step(carry: Any, x: Any) -> None:
        with _lifted(frame, {}, allow_create=False) as lift:
            f(carry, x)
        found["carried"] = list(lift.assigned)
        found["losses"] = list(lift.losses)
        found["specs"] = {key: record.spec for key, record in frame.records.items()}
        found["used_rng"] = lift.used_rng

    jax.eval_shape(one_step, init, x_first)
    return found["carried"], found["losses"], found["specs"], found["used_rng"]


# -- while_loop and fori_loop -------------------------------------------------------------------
def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any],
               init_val: Any) -> Any:
    """``jax.lax.while_loop`` whose body may create, read and assign variables.

    As `scan`: variables are created once (a creation run of the body during
    ``init``), assignments are carried from iteration to iteration, losses are
    summed over the iterations. ``cond_fun`` may read variables.

    Example:
      >>> import jaxscope as js
      >>> def doubling(x):
      ...     def body(v):
      ...         return v * js.get_variable("k", [], initializer=js.constant_initializer(2.0))
      ...     return js.while_loop(lambda v: v < 100.0, body, x)
      >>> m = js.transform(doubling)
      >>> float(m.apply(m.init(0, 3.0), 3.0)[0])
      192.0
    """
    frame = current_frame("js.while_loop")

    def recorded_step(value: Any, _: Any = None) -> tuple[Any, None]:
        # Every trace of the body also traces cond_fun (its result unused), so that the
        # variables cond_fun reads are recorded with the body's, in one order.
        cond_fun(value)
        return body_fun(value), None

    with _snapshot(frame) as snap:
        creation: dict[str, Any] = {}
        if frame.mode is Mode.CREATE:
            with _lifted(frame, {}, allow_create=True) as lift:
                recorded_step(init_val)
            creation = dict(lift.created)
            carried, loss_names, used_rng = list(lift.assigned), list(lift.losses), lift.used_rng
            specs = {key: frame.records[key].spec for key in lift.created}
        else:
            carried, loss_names, specs, used_rng = _probe_scan(frame, recorded_step, init_val,
                                                               None)
        frame.rewind(snap)
        carry0 = {key: _value_before(frame, creation, specs, key) for key in carried}
        traced: list[_Effects] = []

        def cond(state: Any) -> Any:
            value, var_carry, _, _ = state
            with _snapshot(frame) as before_cond:
                with _lifted(frame, {**creation, **var_carry}, allow_create=False):
                    keep_going = cond_fun(value)
                frame.rewind(before_cond)  # cond_fun only reads: it leaves no trace
            return keep_going

        def body(state: Any) -> Any:
            value, var_carry, totals, iteration = state
            frame.rewind(snap)
            step = iteration if used_rng else None
            with _lifted(frame, {**creation, **var_carry}, allow_create=False, step=step) as lf:
                new_value, _ = recorded_step(value)
            effects = _Effects(frame, lf)
            traced.append(effects)
            new_vars = {key: effects.assigned.get(key, frame.values[key]) for key in carried}
            new_totals = {name: totals[name] + effects.losses[name] for name in loss_names}
            return new_value, new_vars, new_totals, iteration + 1

        zeros = _zero_losses(frame, recorded_step, init_val, loss_names, creation, carry0)
        value, final_vars, totals, _ = jax.lax.while_loop(
            cond, body, (init_val, carry0, zeros, jnp.zeros((), jnp.int32)))
        _finish(frame, traced[-1].lift, creation, final_vars, totals)
    return value


def _zero_losses(frame: Frame, f: Callable, init: Any, loss_names: list[str],
                 creation: dict[str, Any], carry0: dict[str, Any]) -> dict[str, Any]:
    """Zeros shaped as each loss the body adds (the start of the running totals)."""
    if not loss_names:
        return {}
    found: dict[str, Any] = {}

    def one(value: Any) -> None:
        with _lifted(frame, {**creation, **carry0}, allow_create=False):
            f(value, None)
        found.update({name: frame.losses[name] for name in loss_names})

    snap = frame.snapshot()
    shapes = jax.eval_shape(lambda v: (one(v), found)[1], init)
    frame.rewind(snap)
    return {name: jnp.zeros(s.shape, s.dtype) for name, s in shapes.items()}


def fori_loop(lower: int, upper: int, body_fun: Callable[[Any, Any], Any],
              init_val: Any) -> Any:
    """``jax.lax.fori_loop`` whose body may use variables (a `scan` over the indices).

    Example:
      >>> import jaxscope as js
      >>> def model(x):
      ...     def body(i, v):
      ...         return v + i * js.get_variable("w", [], initializer=js.ones_initializer)
      ...     return js.fori_loop(0, 4, body, x)
      >>> m = js.transform(model)
      >>> float(m.apply(m.init(0, 0.0), 0.0)[0])
      6.0
    """
    try:
        lower, upper = int(lower), int(upper)
    except (TypeError, jax.errors.ConcretizationTypeError):
        def cond(state: Any) -> Any:
            return state[0] < upper

        def body(state: Any) -> Any:
            i, value = state
            return i + 1, body_fun(i, value)

        return while_loop(cond, body, (jnp.asarray(lower), init_val))[1]
    indices = jnp.arange(lower, upper)
    return scan(lambda value, i: (body_fun(i, value), None), init_val, indices)[0]


# -- vmap and remat: created values leave as outputs -----------------------------------------------
def _run_body(frame: Frame, snap: Snapshot, fn: Callable, args: Sequence[Any],
              traced: list[_Effects], step: Any = None) -> Any:
    frame.rewind(snap)
    with _lifted(frame, {}, allow_create=frame.mode is Mode.CREATE, step=step) as lift:
        out = fn(*args)
    effects = _Effects(frame, lift)
    traced.append(effects)
    return out, *effects.outputs()


def vmap(
    fn: Callable[..., Any],
    in_axes: Any = 0,
    out_axes: Any = 0,
    axis_name: Any = None,
    axis_size: int | None = None,
    split_rng: bool = False,
) -> Callable[..., Any]:
    """``jax.vmap`` whose function may create and read variables, shared across examples.

    Variables are not mapped: every example sees the same ones. Assigned values
    must be the same for every example; losses are averaged over the examples.
    With ``split_rng=True``, `next_rng_key` differs per example.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> def model(xs):
      ...     scale = lambda x: x * js.get_variable("s", [], initializer=js.ones_initializer)
      ...     return js.vmap(scale)(xs)
      >>> m = js.transform(model)
      >>> xs = jnp.arange(3.0)
      >>> m.apply(m.init(0, xs), xs)[0].tolist()
      [0.0, 1.0, 2.0]
    """
    name = axis_name if axis_name is not None else object()

    @functools.wraps(fn)
    def mapped(*args: Any) -> Any:
        frame = current_frame("js.vmap")
        traced: list[_Effects] = []
        with _snapshot(frame) as snap:

            def body(*a: Any) -> Any:
                step = jax.lax.axis_index(name) if split_rng else None
                return _run_body(frame, snap, fn, a, traced, step)

            try:
                out, created, assigned, losses = jax.vmap(
                    body, in_axes=in_axes, out_axes=(out_axes, None, None, 0),
                    axis_name=name, axis_size=axis_size,
                )(*args)
            except ValueError as err:
                if "out_axes" not in str(err) or not traced:
                    raise
                effects = traced[-1]
                raise errors.RawTransformError(
                    "js.vmap: a variable created or assigned inside the mapped function "
                    "depends on the mapped inputs, but variables are shared by every example "
                    f"(created: {sorted(effects.created)}, assigned: {sorted(effects.assigned)})."
                    " Create them from shapes and initializers only, and reduce over the "
                    "examples before assigning."
                ) from err
            _finish(frame, traced[-1].lift, created, assigned,
                    {key: jnp.mean(value, axis=0) for key, value in losses.items()})
        return out

    return mapped


def remat(
    fn: Callable[..., Any],
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
    static_argnums: int | tuple[int, ...] = (),
) -> Callable[..., Any]:
    """``jax.checkpoint`` (rematerialization) whose function may create and read variables.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> def model(x):
      ...     layer = js.remat(lambda x: jnp.tanh(x @ js.get_variable("w", [2, 2])))
      ...     return jnp.sum(layer(x))
      >>> m = js.transform(model)
      >>> x = jnp.ones((1, 2))
      >>> variables = m.init(0, x)
      >>> grads = jax.grad(lambda p: m.apply({"params": p, "state": {}}, x)[0])(
      ...     variables["params"])
      >>> grads["w"].shape
      (2, 2)
    """

    @functools.wraps(fn)
    def rematerialized(*args: Any) -> Any:
        frame = current_frame("js.remat")
        traced: list[_Effects] = []
        with _snapshot(frame) as snap:
            checkpointed = jax.checkpoint(
                lambda *a: _run_body(frame, snap, fn, a, traced),
                prevent_cse=prevent_cse, policy=policy, static_argnums=static_argnums,
            )
            out, created, assigned, losses = checkpointed(*args)
            _finish(frame, traced[-1].lift, created, assigned, losses)
        return out

    return rematerialized


# -- cond ----------------------------------------------------------------------------------------
def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any],
         *operands: Any) -> Any:
    """``jax.lax.cond`` whose branches may create, read and assign variables.

    As TF1's ``tf.cond`` builds both branches, the variables of both branches
    exist (in ``init`` both are created, true branch first); assignments and
    losses of the branch taken land in ``aux``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> def model(x):
      ...     def big(x):
      ...         return x * js.get_variable("a", [], initializer=js.constant_initializer(10.))
      ...     def small(x):
      ...         return x * js.get_variable("b", [], initializer=js.constant_initializer(.1))
      ...     return js.cond(x > 1, big, small, x)
      >>> m = js.transform(model)
      >>> variables = m.init(0, 2.0)
      >>> sorted(variables["params"]), float(m.apply(variables, 2.0)[0])
      (['a', 'b'], 20.0)
    """
    frame = current_frame("js.cond")
    branches = (true_fun, false_fun)
    with _snapshot(frame) as snap:
        creation: dict[str, Any] = {}
        if frame.mode is Mode.CREATE:  # a creation run of both branches, outside
            with _lifted(frame, {}, allow_create=True) as lift:
                for branch in branches:
                    branch(*operands)
            creation = dict(lift.created)
            frame.rewind(snap)
        carried, loss_names, specs = _probe_cond(frame, snap, branches, creation, operands)
        frame.rewind(snap)

        before = {key: _value_before(frame, creation, specs, key) for key in carried}
        after: dict[int, Snapshot] = {}
        effects: dict[int, _Effects] = {}

        def branch_fn(index: int) -> Callable[..., Any]:
            def run(*ops: Any) -> Any:
                # Branches are recorded one after the other, true first, as TF1 builds them,
                # whatever order lax.cond traces them in.
                frame.rewind(snap if index == 0 else after[0])
                with _lifted(frame, {**creation, **before}, allow_create=False) as lift:
                    out = branches[index](*ops)
                after[index] = frame.snapshot()
                effects[index] = done = _Effects(frame, lift)
                new_vars = {key: done.assigned.get(key, before[key]) for key in carried}
                losses = {name: done.losses.get(name, jnp.zeros((), jnp.float32))
                          for name in loss_names}
                return out, new_vars, losses
            return run

        jax.make_jaxpr(branch_fn(0))(*operands)  # the true branch's names come first
        out, final_vars, losses = jax.lax.cond(pred, branch_fn(0), branch_fn(1), *operands)
        frame.rewind(after[1])
        merged = Lift({**creation, **before}, False, parent=frame.lift)
        for index in (0, 1):
            merged.regularizers.extend(effects[index].lift.regularizers)
        _finish(frame, merged, creation, final_vars, losses)
    return out


def _probe_cond(
    frame: Frame, snap: Snapshot, branches: tuple[Callable, ...], creation: dict[str, Any],
    operands: tuple[Any, ...],
) -> tuple[list[str], list[str], dict[str, Any]]:
    """An abstract trace of both branches: the variables they assign, the losses they add."""
    carried: dict[str, None] = {}
    losses: dict[str, None] = {}
    specs: dict[str, Any] = {}

    def both(*ops: Any) -> None:
        frame.rewind(snap)
        for branch in branches:
            with _lifted(frame, creation, allow_create=False) as lift:
                branch(*ops)
            carried.update(lift.assigned)
            losses.update(lift.losses)
        specs.update({key: record.spec for key, record in frame.records.items()})

    jax.eval_shape(both, *operands)
    return list(carried), list(losses), specs
