"""TF1's generic ops under ``js.``, with TF1's signatures: port model code by renaming.

Grouped as TensorFlow groups them -- `array` (shapes, joining, slicing, gathering),
`math` (element-wise, reductions, ``matmul``, clipping), `random`, `dtypes`, `control`
-- and re-exported at the top level as TF1 had them under ``tf.``: ``tf.concat(values,
axis)`` is ``js.concat(values, axis)``. They are thin wrappers over ``jax.numpy`` and
``jax.lax`` that compile to the same programs. Which ops are here was chosen by counting
the ``tf.`` names of a corpus of real TF1 model code (``tools/tf1_corpus``).

>>> import jax.numpy as jnp, jaxscope as js
>>> logits = jnp.array([[2.0, 1.0, 0.1]])
>>> labels = js.one_hot([0], depth=3)
>>> loss = js.reduce_mean(-js.reduce_sum(labels * js.nn.log_softmax(logits), axis=1))
>>> f"{float(loss):.4f}"
'0.4170'
"""

from jaxscope.ops import array, control, dtypes, math, random
from jaxscope.ops.array import *  # noqa: F403 - each module's __all__ is the list
from jaxscope.ops.control import *  # noqa: F403
from jaxscope.ops.dtypes import *  # noqa: F403
from jaxscope.ops.math import *  # noqa: F403
from jaxscope.ops.random import *  # noqa: F403

__all__ = [*array.__all__, *control.__all__, *dtypes.__all__, *math.__all__,
           *random.__all__]
