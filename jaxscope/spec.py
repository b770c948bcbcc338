"""`VariableSpec`: what a trace learned about one variable, without its value."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np


class VariableSynchronization(enum.Enum):
    """TF's ``tf.VariableSynchronization``: when a distributed variable is synchronized.

    Accepted, validated and recorded in `VariableSpec` as TF1 does; under JAX a
    variable is one array and its sharding says where it lives, so nothing else
    depends on it. ``ON_READ`` makes a variable non-trainable, as TF1.

    Example:
      >>> import jaxscope as js
      >>> def f():
      ...     js.get_variable("count", [], synchronization=js.VariableSynchronization.ON_READ,
      ...                     aggregation=js.VariableAggregation.SUM)
      >>> spec = js.transform(f).specs()["count"]
      >>> spec.trainable, spec.synchronization.name, spec.aggregation.name
      (False, 'ON_READ', 'SUM')
    """

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """TF's ``tf.compat.v1.VariableAggregation``: how replicas' updates are combined.

    Accepted, validated and recorded as `VariableSynchronization` is.

    Example:
      >>> import jaxscope as js
      >>> js.VariableAggregation(2), js.VariableAggregation.ONLY_FIRST_TOWER.name
      (<VariableAggregation.MEAN: 2>, 'ONLY_FIRST_REPLICA')
    """

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3
    ONLY_FIRST_TOWER = 3  # TF1's older name, an alias


def validate_synchronization_aggregation_trainable(
    synchronization: Any, aggregation: Any, trainable: bool | None, name: str
) -> tuple[VariableSynchronization, VariableAggregation, bool]:
    """TF's defaults and checks: ``(synchronization, aggregation, trainable)``.

    ``None`` means ``AUTO`` and ``NONE``; a member or its number is accepted, anything
    else raises TF's ``ValueError``; ``ON_READ`` variables cannot be trainable.
    """
    if synchronization is None and aggregation is None:  # the hot path: nothing given
        return _AUTO, _NONE, True if trainable is None else bool(trainable)
    aggregation = _member(VariableAggregation, aggregation, "aggregation", name)
    synchronization = _member(VariableSynchronization, synchronization, "synchronization", name)
    if synchronization is VariableSynchronization.ON_READ:
        if trainable:
            raise ValueError(
                "Synchronization value can be set to VariableSynchronization.ON_READ only for "
                "non-trainable variables. You have specified trainable=True and "
                f"synchronization=VariableSynchronization.ON_READ. (variable {name}: pass "
                "trainable=False, or another synchronization.)"
            )
        trainable = False
    return synchronization, aggregation, True if trainable is None else bool(trainable)


_AUTO, _NONE = VariableSynchronization.AUTO, VariableAggregation.NONE


def _member(kind: type[enum.Enum], given: Any, what: str, name: str) -> Any:
    """``given`` (a member, its number, or None for the first) as a member of ``kind``."""
    try:
        return kind(0 if given is None else getattr(given, "value", given))
    except ValueError:
        raise ValueError(f"Invalid variable {what} mode: {given} for variable: {name}") from None


class VariableSpec(NamedTuple):
    """The abstract description of one variable, as `Transformed.specs` reports it.

    Attributes:
      name: full TF-style name without ``:0`` (``"conv1/weights"``).
      shape: tuple of ints.
      dtype: a NumPy dtype (``np.dtype("float32")``).
      trainable: the ``trainable`` flag as given (an int variable may be
        ``trainable=True`` yet lives in ``state``; see `collection`).
      collections: tuple of collection keys the variable was added to.
      partitioner: the partitioner in effect (``None`` if unpartitioned).
      regularized: whether a regularizer produced a loss for it.
      initializer: the initializer used (``None`` for value initializers).
      partitions: what a TF-style partitioner answered (pieces per axis, e.g.
        ``(4, 1)``); ``None`` when unpartitioned or when ``partitioner`` is a
        `jax.sharding.PartitionSpec` (see `jaxscope.sharding` for the mesh layout).
      synchronization, aggregation: TF's distribution properties as given (recorded only).

    Example:
      >>> spec = VariableSpec("w", (2, 3), np.dtype("float32"), True,
      ...                     ("variables", "trainable_variables"), None, False, None)
      >>> spec.size, spec.collection
      (6, 'params')
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    trainable: bool
    collections: tuple[str, ...]
    partitioner: Callable[..., Any] | Any | None
    regularized: bool
    initializer: Any
    partitions: tuple[int, ...] | None = None
    synchronization: VariableSynchronization = VariableSynchronization.AUTO
    aggregation: VariableAggregation = VariableAggregation.NONE

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Bytes the value takes in memory."""
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def collection(self) -> str:
        """``"params"`` or ``"state"``: where the value lives in ``variables``."""
        return variable_collection(self.dtype, self.trainable)


@functools.cache
def variable_collection(dtype: Any, trainable: bool) -> str:
    """Where a variable lives: trainable floating-point values in ``params``.

    Integer and boolean variables always live in ``state`` (JAX cannot
    differentiate them), whatever their ``trainable`` flag says.
    """
    if not trainable:
        return "state"
    inexact = _INEXACT.get(dtype)
    if inexact is None:  # jnp.issubdtype is slow for the lookup hot path: once per dtype
        inexact = _INEXACT[dtype] = bool(jnp.issubdtype(dtype, jnp.inexact))
    return "params" if inexact else "state"


_INEXACT: dict[Any, bool] = {}
