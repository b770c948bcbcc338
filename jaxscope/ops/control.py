"""TF1's graph-ordering helpers, for code that uses them: in JAX they order nothing.

A TF1 graph ran only the ops a fetch needed, so code forced updates to happen with
``tf.control_dependencies`` and ``tf.group``. JAX runs a function's ops in data order and
keeps every effect a function returns, so these exist to let such code run unchanged:
`control_dependencies` is a context that does nothing, `group` and `no_op` return None.
Batch-norm updates (TF1's ``UPDATE_OPS``) come back in ``aux.updates`` instead.

>>> import jax.numpy as jnp, jaxscope as js
>>> x = jnp.ones(2)
>>> with js.control_dependencies([x]):    # orders nothing: JAX follows the data
...     y = js.identity(x * 2)
>>> y.tolist()
[2.0, 2.0]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["control_dependencies", "group", "no_op"]


@contextlib.contextmanager
def control_dependencies(control_inputs: Any) -> Iterator[None]:
    """A context that orders nothing (JAX follows data dependencies; see the module).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> x = jnp.ones(2)
      >>> with js.control_dependencies([x]):  # TF1: runs x's op first; here a no-op
      ...     y = x + 1
      >>> y.tolist()
      [2.0, 2.0]
    """
    yield


def group(*inputs: Any, name: str | None = None) -> None:
    """TF's ``tf.group``: nothing to group in JAX; returns None.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> print(js.group(jnp.ones(2), jnp.zeros(2)))
      None
    """
    return None


def no_op(name: str | None = None) -> None:
    """TF's ``tf.no_op``: does nothing; returns None.

    Example:
      >>> import jaxscope as js
      >>> print(js.no_op())
      None
    """
    return None
