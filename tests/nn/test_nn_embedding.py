"""`js.nn.embedding_lookup`: one table, TF1's "mod"/"div" shards, max_norm, transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from nnlib import assert_close, check_grad, check_transforms, randn

import jaxscope.nn as nn


def tf1_lookup(shards, ids, strategy):
    """TF1's embedding_lookup, id by id, as its source computes shard and row."""
    p = len(shards)
    total = sum(s.shape[0] for s in shards)
    rows = []
    for i in np.ravel(ids):
        if strategy == "mod":
            shard, row = i % p, i // p
        else:
            per, extras = divmod(total, p)
            shard = max(i // (per + 1), (i - extras) // per)
            row = i % (per + 1) if shard < extras else (i - extras) % per
        rows.append(shards[shard][row])
    return np.stack(rows).reshape(np.shape(ids) + shards[0].shape[1:])


def shard(table, p, strategy):
    """Split a table as TF1's partitioned variables do for ``strategy``."""
    if strategy == "mod":
        return [table[i::p] for i in range(p)]
    return np.array_split(table, p)  # "div": the first vocab % p shards one row longer


def test_single_table():
    table, ids = randn(7, 3), np.array([[0, 6], [3, 3]])
    assert_close(nn.embedding_lookup(table, ids), table[ids])
    assert_close(nn.embedding_lookup([table], ids, partition_strategy="div"), table[ids])


@pytest.mark.parametrize("strategy", ["mod", "div"])
@pytest.mark.parametrize(("vocab", "p"), [(10, 3), (11, 3), (12, 4), (5, 5), (7, 2)])
def test_sharded_lookup_is_tf1(strategy, vocab, p):
    table = randn(vocab, 2, 3)
    ids = np.random.RandomState(1).randint(0, vocab, size=(4, 5))
    shards = shard(table, p, strategy)
    out = nn.embedding_lookup([jnp.asarray(s) for s in shards], ids, partition_strategy=strategy)
    assert_close(out, tf1_lookup(shards, ids, strategy))
    assert_close(out, table[ids])  # the shards of one logical table give its rows


def test_max_norm_clips_each_embedding():
    table = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], np.float32)  # norms 5, 0.5, 0
    out = nn.embedding_lookup(table, np.array([0, 1, 2]), max_norm=1.0)
    assert_close(out, [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])
    table3 = randn(4, 2, 3) * 3
    out3 = nn.embedding_lookup(table3, np.array([1, 3]), max_norm=2.0)
    norms = np.sqrt((np.asarray(out3) ** 2).sum((1, 2)))
    assert np.all(norms <= 2.0 + 1e-5)
    grad = jax.jit(jax.grad(
        lambda t: jnp.sum(nn.embedding_lookup(t, np.array([2]), max_norm=1.0))))(table)
    assert np.isfinite(np.asarray(grad)).all()


@pytest.mark.parametrize("strategy", ["mod", "div"])
def test_out_of_range_ids_give_nan_rows(strategy):
    table = randn(5, 2)
    ids = np.array([0, 5, -1, 4])
    for params in (table, shard(table, 2, strategy)):
        out = np.asarray(nn.embedding_lookup(params, ids, partition_strategy=strategy))
        assert_close(out[[0, 3]], table[[0, 4]])
        assert np.isnan(out[[1, 2]]).all()


def test_errors():
    with pytest.raises(ValueError, match="partition_strategy"):
        nn.embedding_lookup([np.ones([2, 1]), np.ones([2, 1])], np.array([0]), "range")
    with pytest.raises(ValueError, match="not a 'mod' partition"):
        nn.embedding_lookup([np.ones([1, 1]), np.ones([3, 1])], np.array([0]), "mod")
    with pytest.raises(TypeError, match="integers"):
        nn.embedding_lookup(np.ones([2, 1]), np.array([0.0]))


def test_transforms():
    ids = np.array([[1, 4], [0, 4]])
    check_transforms(lambda t: nn.embedding_lookup(t, ids, max_norm=1.5), randn(5, 3))
    check_grad(lambda a, b: nn.embedding_lookup([a, b], ids, partition_strategy="div"),
               randn(3, 2), randn(2, 2, seed=1), argnums=(0, 1))
    table = jnp.asarray(randn(5, 3))
    batched = jax.jit(jax.vmap(lambda i: nn.embedding_lookup(table, i)))(ids)
    assert_close(batched, np.asarray(table)[ids])
