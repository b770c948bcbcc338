"""Small helpers every ``js.nn`` op uses: op name scopes and TF's renamed-argument rules."""

from __future__ import annotations

import contextlib
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

T = TypeVar("T")

_HALF = (jnp.float16, jnp.bfloat16)


def op_scope(name: str | None) -> contextlib.AbstractContextManager:
    """``jax.named_scope(name)`` when the caller named the op, else nothing."""
    return jax.named_scope(name) if name else contextlib.nullcontext()


def renamed(new_name: str, new_value: T | None, old_name: str, old_value: T | None) -> T | None:
    """TF's ``deprecated_argument_lookup``: one value from an argument and its old alias."""
    if new_value is not None and old_value is not None:
        raise ValueError(f"Cannot specify both '{old_name}' and '{new_name}'.")
    return new_value if new_value is not None else old_value


def required(value: T | None, name: str, op: str) -> T:
    """``value``, or a TypeError saying that ``op`` needs ``name``."""
    if value is None:
        raise TypeError(f"{op}() missing required argument '{name}'.")
    return value


def upcast_half(x: jax.Array) -> jax.Array:
    """float16/bfloat16 as float32 (TF computes statistics of half floats in float32)."""
    return x.astype(jnp.float32) if x.dtype in _HALF else x


def check_rank(x: Any, ranks: int | tuple[int, ...], op: str, what: str) -> None:
    """A ValueError unless ``x.ndim`` is one of ``ranks``."""
    ranks = (ranks,) if isinstance(ranks, int) else ranks
    if x.ndim not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"{op}: {what} must be rank {expected}, but is rank {x.ndim} "
            f"(shape {tuple(x.shape)})."
        )


def clip_by_norm(t: jax.Array, clip_norm: Any, axes: tuple[int, ...] | None) -> jax.Array:
    """TF's ``clip_by_norm``: ``t * clip_norm / max(norm(t, axes), clip_norm)``, safe at 0."""
    l2sum = jnp.sum(t * t, axes, keepdims=True)
    positive = l2sum > 0
    l2norm = jnp.where(positive, jnp.sqrt(jnp.where(positive, l2sum, 1)), l2sum)
    return t * clip_norm / jnp.maximum(l2norm, clip_norm)
