"""``embedding_lookup``: TF1's gather over one table or a list of sharded tables."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from jaxscope.nn._common import clip_by_norm, op_scope

__all__ = ["embedding_lookup"]


def embedding_lookup(
    params: ArrayLike | Sequence[ArrayLike],
    ids: ArrayLike,
    partition_strategy: str = "mod",
    name: str | None = None,
    validate_indices: bool = True,
    max_norm: float | None = None,
) -> jax.Array:
    """Rows of ``params`` for ``ids`` (TF1 ``tf.nn.embedding_lookup``).

    Args:
      params: a table ``[vocab, ...]``, or a list of shards of one. With shards, id ``i``
        lives in shard ``i % p`` at row ``i // p`` (``"mod"``), or in contiguous blocks with
        the first ``vocab % p`` shards one row longer (``"div"``), as TF1.
      ids: integer ids of any shape.
      partition_strategy: ``"mod"`` or ``"div"``; only matters for several shards.
      name: optional ``jax.named_scope`` for the op.
      validate_indices: accepted and ignored, as in TF. Ids outside ``[0, vocab)`` give
        NaN rows for float tables (TF on CPU raises, which compiled code cannot).
      max_norm: if given, each looked-up embedding with a larger L2 norm is scaled down
        to it (TF's ``clip_by_norm`` over the embedding axes).

    Returns:
      ``ids.shape + params.shape[1:]``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> shards = [jnp.array([[0.0], [2.0]]), jnp.array([[1.0], [3.0]])]  # "mod" of 0..3
      >>> js.nn.embedding_lookup(shards, jnp.array([3, 0, 1])).ravel().tolist()
      [3.0, 0.0, 1.0]
    """
    ids = jnp.asarray(ids)
    if not jnp.issubdtype(ids.dtype, jnp.integer):
        raise TypeError(f"embedding_lookup: ids must be integers, got dtype {ids.dtype}.")
    shards = [jnp.asarray(p) for p in params] if isinstance(params, (list, tuple)) else [
        jnp.asarray(params)
    ]
    if not shards:
        raise ValueError("embedding_lookup: need at least one params tensor.")
    with op_scope(name):
        sizes = [s.shape[0] for s in shards]
        # TF refuses ids outside [0, vocab); a compiled gather cannot, so they become fill rows.
        ids = jnp.where(ids < 0, sum(sizes), ids)
        if len(shards) == 1:
            rows = jnp.take(shards[0], ids, axis=0, mode="fill")
        else:
            order = jnp.asarray(_shard_order(sizes, partition_strategy))
            positions = jnp.take(order, ids, mode="fill", fill_value=sum(sizes))
            rows = jnp.take(jnp.concatenate(shards, axis=0), positions, axis=0, mode="fill")
        if max_norm is None:
            return rows
        return clip_by_norm(rows, max_norm, tuple(range(ids.ndim, rows.ndim)))


def _shard_order(sizes: list[int], strategy: str) -> np.ndarray:
    """For each id, its row in the concatenated shards, by TF1's partition strategies."""
    p, total = len(sizes), sum(sizes)
    ids = np.arange(total)
    if strategy == "mod":
        shard, row = ids % p, ids // p
    elif strategy == "div":
        per_shard, extras = divmod(total, p)
        shard = np.maximum(ids // (per_shard + 1), (ids - extras) // max(per_shard, 1))
        row = np.where(shard < extras, ids % (per_shard + 1), (ids - extras) % max(per_shard, 1))
    else:
        raise ValueError(
            f'embedding_lookup: partition_strategy must be "mod" or "div", got {strategy!r}.'
        )
    sizes_arr = np.asarray(sizes)
    if np.any(shard >= p) or np.any(row >= sizes_arr[np.minimum(shard, p - 1)]):
        raise ValueError(
            f"embedding_lookup: shard sizes {sizes} are not a {strategy!r} partition of "
            f"{total} ids."
        )
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return (offsets[shard] + row).astype(np.int32)

