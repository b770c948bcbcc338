"""TF1's ``tf.layers``: layer classes and functional forms, variables named as TF1 names them.

Each layer captures a variable scope at its first call in a trace (``dense``,
``dense_1``, ... unique per variable scope, or the given ``name``) and creates its
variables there: ``dense/kernel``, ``conv2d/bias``, ``batch_normalization/moving_mean``.
A layer object keeps no arrays, so it may be built once (at module level) and used in
``init`` and ``apply`` alike; calling it again in one trace shares its variables.

A functional form (``dense(x, units, name=..., reuse=...)``) makes a new layer on each
call: with a ``name`` it opens ``variable_scope(name)``, so the same name twice needs
``reuse=True``, exactly as TF1.

``kernel_initializer=None`` means the variable scope's initializer, else
``glorot_uniform``: the default of every TF version that had ``tf.layers`` (API decision
11; a bare `get_variable` keeps the seeds' ``uniform_unit_scaling``).

Example:
  >>> import jax, jax.numpy as jnp, jaxscope as js
  >>> def net(x, training=False):
  ...     x = js.layers.conv2d(x, 4, 3, padding="same", activation=js.nn.relu)
  ...     x = js.layers.max_pooling2d(x, 2, 2)
  ...     x = js.layers.batch_normalization(x, training=training)
  ...     return js.layers.dense(js.layers.flatten(x), 10)
  >>> model = js.transform(net)
  >>> specs = model.specs(jnp.ones([2, 8, 8, 3]))  # an abstract trace: no FLOPs
  >>> [name for name, spec in specs.items() if spec.trainable]
  ['conv2d/kernel', 'conv2d/bias', 'batch_normalization/gamma', 'batch_normalization/beta',
   'dense/kernel', 'dense/bias']
  >>> [name for name, spec in specs.items() if not spec.trainable]  # in variables["state"]
  ['batch_normalization/moving_mean', 'batch_normalization/moving_variance']
"""

from jaxscope.layers.base import Layer
from jaxscope.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    SeparableConv1D,
    SeparableConv2D,
    conv1d,
    conv2d,
    conv2d_transpose,
    conv3d,
    conv3d_transpose,
    separable_conv1d,
    separable_conv2d,
)
from jaxscope.layers.core import Dense, Dropout, Flatten, dense, dropout, flatten
from jaxscope.layers.normalization import BatchNormalization, batch_normalization
from jaxscope.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
    average_pooling1d,
    average_pooling2d,
    average_pooling3d,
    max_pooling1d,
    max_pooling2d,
    max_pooling3d,
)

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "BatchNormalization",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "SeparableConv1D",
    "SeparableConv2D",
    "average_pooling1d",
    "average_pooling2d",
    "average_pooling3d",
    "batch_normalization",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "conv3d_transpose",
    "dense",
    "dropout",
    "flatten",
    "max_pooling1d",
    "max_pooling2d",
    "max_pooling3d",
    "separable_conv1d",
    "separable_conv2d",
]
