"""`VariableSpec`: what a trace learned about one variable, without its value."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np


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
