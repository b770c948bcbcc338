"""From TF1 partitioning to JAX sharding: one `PartitionSpec` per variable on a mesh.

TF1's ``partitioner=`` cut a variable into ``n`` pieces ``name/part_0 .. part_{n-1}``
placed on parameter servers. jaxscope keeps the variable as ONE logical array and lays
it out over a device mesh instead. The rule (`partition_spec`):

* **Unpartitioned** (no partitioner, a scalar, or a partitioner that answers one piece
  on every axis): replicated, ``PartitionSpec()``.
* **A TF-style partitioner** that cuts axis ``a`` into ``n`` pieces: axis ``a`` goes to
  the mesh axis ``mesh_axis`` (the mesh's first axis when not named; name one with
  ``js.transform(fn, mesh_axis="model")``). ``n`` must EQUAL that mesh axis's size
  and divide ``shape[a]``; then device ``i`` along the mesh axis holds exactly TF's
  piece ``name/part_i`` (TF's first ``shape[a] % n`` pieces are one row longer, a
  layout JAX's equal blocks cannot hold). Any other count is an error naming the
  variable, its partitions, the mesh axis, its size and the fix.
  Why not map other counts (split a piece over several devices, or group pieces)?
  The partitioner's count is the memory plan the TF1 model was written for, and the
  one-piece-per-device invariant keeps per-device contents equal to TF's ``part_i``;
  silently choosing another split would change both. Set the count from the mesh
  (``js.fixed_size_partitioner(mesh.shape["model"])``) or pass a `PartitionSpec`.
* **A `jax.sharding.PartitionSpec`** given as ``partitioner=`` (directly or as a
  scope default) is used as is: it may not have more entries than the variable has
  axes, every mesh axis it names must exist in the mesh, and each sharded dimension
  must divide by the product of its mesh axis sizes.

Use it as ``jax.jit(model.init, out_shardings=model.shardings(mesh, x))``: every
variable is created already split (each device draws only its own shard), and
``jax.jit(step, in_shardings=..., out_shardings=...)`` keeps it so. Build the mesh with
``Auto`` axes (``jax.make_mesh(..., axis_types=(jax.sharding.AxisType.Auto,))`` or
``jax.sharding.Mesh``): TF1-style model code carries no sharding annotations, and XLA's
SPMD partitioner then propagates the variables' shardings through it (``Explicit`` axes
would ask each sharded matmul for an ``out_sharding``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
from jax.sharding import NamedSharding, PartitionSpec

from jaxscope.partitioners import slice_axis
from jaxscope.spec import VariableSpec

__all__ = ["partition_spec", "variable_shardings"]


def _mesh_axes(mesh: Any) -> dict[str, int]:
    return {str(name): int(size) for name, size in mesh.shape.items()}


def _resolve_mesh_axis(mesh: Any, mesh_axis: str | None) -> str:
    axes = _mesh_axes(mesh)
    if not axes:
        raise ValueError("The mesh has no axes; a partitioned variable needs one to shard over.")
    if mesh_axis is None:
        return next(iter(axes))
    if mesh_axis not in axes:
        raise ValueError(
            f"mesh_axis={mesh_axis!r} is not an axis of the mesh, whose axes are "
            f"{list(axes)}; pass one of them to js.transform(fn, mesh_axis=...)."
        )
    return mesh_axis


def partition_spec(spec: VariableSpec, mesh: Any, mesh_axis: str | None = None) -> PartitionSpec:
    """The `PartitionSpec` of one variable on ``mesh`` (the rule in this module's docstring).

    Args:
      spec: the variable's `VariableSpec` (from ``model.specs(...)``).
      mesh: a `jax.sharding.Mesh` (or `AbstractMesh`).
      mesh_axis: the mesh axis that partitioned variables are split over; the mesh's
        first axis when ``None``.

    Returns:
      ``PartitionSpec()`` for an unpartitioned variable, else the sharded spec.

    Raises:
      ValueError: a partition count other than the mesh axis size, a dimension the
        mesh cannot split evenly, or a `PartitionSpec` that does not fit the variable
        or the mesh; the message names the variable.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> def net():
      ...     js.get_variable("emb", [16, 4], partitioner=js.fixed_size_partitioner(8))
      ...     js.get_variable("bias", [4])
      ...     js.get_variable("odd", [16, 4], partitioner=js.fixed_size_partitioner(4))
      >>> specs = js.transform(net).specs()
      >>> mesh = jax.sharding.AbstractMesh((8,), ("model",))
      >>> js.partition_spec(specs["emb"], mesh), js.partition_spec(specs["bias"], mesh)
      (P('model', None), P())
      >>> js.partition_spec(specs["odd"], mesh)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: Variable 'odd' (shape (16, 4)) is partitioned [4, 1] ...
    """
    partitioner = spec.partitioner
    if isinstance(partitioner, PartitionSpec):
        return _checked_partition_spec(spec, partitioner, mesh)
    partitions = spec.partitions
    if partitions is None:
        return PartitionSpec()
    axis, count = slice_axis(partitions)
    if count == 1:
        return PartitionSpec()
    name = _resolve_mesh_axis(mesh, mesh_axis)
    size = _mesh_axes(mesh)[name]
    where = (
        f"Variable {spec.name!r} (shape {tuple(spec.shape)}) is partitioned {list(partitions)} "
        f"({count} pieces on axis {axis})"
    )
    if count != size:
        raise ValueError(
            f"{where}, but mesh axis {name!r} has {size} devices: jaxscope puts one TF piece "
            f"per device, so the count must equal the mesh axis size. Fix: use "
            f"js.fixed_size_partitioner({size}, axis={axis}), pass a PartitionSpec as "
            "partitioner=, or name a mesh axis of size "
            f"{count} with js.transform(fn, mesh_axis=...)."
        )
    if spec.shape[axis] % size:
        raise ValueError(
            f"{where}, but {spec.shape[axis]} rows do not split evenly over the {size} devices "
            f"of mesh axis {name!r} (TF's pieces would be unequal; JAX shards are equal "
            "blocks). Fix: make that dimension a multiple of the mesh axis size, or partition "
            "another axis."
        )
    entries: list[Any] = [None] * len(spec.shape)
    entries[axis] = name
    return PartitionSpec(*entries)


def _checked_partition_spec(spec: VariableSpec, given: PartitionSpec, mesh: Any) -> PartitionSpec:
    axes = _mesh_axes(mesh)
    where = f"Variable {spec.name!r} (shape {tuple(spec.shape)}) has partitioner={given}"
    if len(given) > len(spec.shape):
        raise ValueError(
            f"{where}: {len(given)} entries for a rank-{len(spec.shape)} variable. Fix: give "
            "at most one entry per axis (None for an axis that is not sharded)."
        )
    for dim, entry in zip(spec.shape, given):
        if entry is None or entry is PartitionSpec.UNCONSTRAINED:
            continue
        names = (entry,) if isinstance(entry, str) else tuple(entry)
        unknown = [n for n in names if n not in axes]
        if unknown:
            raise ValueError(
                f"{where}, but the mesh has no axis {unknown[0]!r}; its axes are "
                f"{list(axes)}."
            )
        ways = math.prod(axes[n] for n in names)
        if dim % ways:
            raise ValueError(
                f"{where}, but dimension {dim} does not split evenly into {ways} shards over "
                f"mesh axes {list(names)}."
            )
    return given


def variable_shardings(
    specs: Mapping[str, VariableSpec], mesh: Any, mesh_axis: str | None = None
) -> dict[str, dict[str, NamedSharding]]:
    """The `NamedSharding` of every variable, shaped like ``variables`` (params and state).

    ``model.shardings(mesh, *args)`` is this applied to ``model.specs(*args)``.

    Args:
      specs: ``{name: VariableSpec}`` from ``model.specs(...)``.
      mesh: a concrete `jax.sharding.Mesh`.
      mesh_axis: as in `partition_spec`.

    Returns:
      ``{"params": {name: NamedSharding}, "state": {name: NamedSharding}}``.

    Example:
      >>> import jax, jaxscope as js
      >>> def net():
      ...     js.get_variable("w", [4, 2])
      ...     js.get_variable("step", [], dtype="int32", trainable=False)
      >>> mesh = jax.make_mesh((1,), ("model",))
      >>> shardings = js.variable_shardings(js.transform(net).specs(), mesh)
      >>> shardings["params"]["w"].spec, shardings["state"]["step"].spec
      (P(), P())
    """
    out: dict[str, dict[str, NamedSharding]] = {"params": {}, "state": {}}
    for key, spec in specs.items():
        out[spec.collection][key] = NamedSharding(mesh, partition_spec(spec, mesh, mesh_axis))
    return out


def describe_sharding(sharding: Any) -> str:
    """How a summary shows an array's sharding (its `PartitionSpec` when it has one)."""
    spec = getattr(sharding, "spec", None)
    if isinstance(spec, PartitionSpec):
        return str(spec)
    return type(sharding).__name__


def is_sharded(sharding: Any) -> bool:
    """Whether an array with this sharding is split (not whole on every device holding it)."""
    if sharding is None or isinstance(sharding, jax.sharding.SingleDeviceSharding):
        return False
    return not sharding.is_fully_replicated
