"""Losses collected during a trace: regularizer results and `add_loss`, returned in ``aux``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from jaxscope.frame import CollectionItem, Frame, current_frame
from jaxscope.naming import join


def record_loss(frame: Frame, name: str, value: Any) -> str:
    """Store ``value`` in ``aux.losses`` under ``name`` (made unique); return the name used."""
    unique = name
    count = frame.loss_names.get(name, 0)
    while unique in frame.losses:
        count += 1
        unique = f"{name}_{count}"
    frame.loss_names[name] = count
    frame.losses[unique] = value
    if frame.lift is not None:
        frame.lift.losses[unique] = None
    return unique


def add_loss(value: Any, name: str | None = None) -> None:
    """Add a scalar loss to ``aux.losses`` (and the ``LOSSES`` collection).

    The name defaults to ``"loss"`` under the current variable scope and is made
    unique (``loss``, ``loss_1``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> def f(x):
      ...     with js.variable_scope("head"):
      ...         js.add_loss(jnp.sum(x ** 2))
      >>> model = js.transform(f)
      >>> _, aux = model.apply(model.init(0, 2.0), 2.0)
      >>> aux.losses
      {'head/loss': Array(4., dtype=float32)}
    """
    from jaxscope.collections import GraphKeys, add_item

    frame = current_frame("js.add_loss")
    full = join(frame.current_scope.name, name or "loss")
    unique = record_loss(frame, full, jnp.asarray(value))
    add_item(frame, GraphKeys.LOSSES, CollectionItem(unique, None, frame.losses[unique]))
