"""``js.nn``: TF1's ``tf.nn`` ops with TF's signatures, as pure functions on XLA kernels.

Every op takes TF's argument names (``input``/``value``, ``filter``/``filters``,
``strides``, ``padding``, ``data_format``, ``name``), accepts ``strides``/``ksize`` as an
int, one value per spatial dimension or TF's full list, pads ``"SAME"``/``"VALID"`` with
TF's exact arithmetic, and works under ``jax.jit``, ``jax.grad`` and ``jax.vmap``. A
``name`` opens a ``jax.named_scope``. Nothing here creates variables.

Modules by concern: `conv`, `pool`, `normalization`, `linear`, `activations`, `losses`,
`embedding`, `dropout`.

Example:
  >>> import jax.numpy as jnp, jaxscope as js
  >>> x, w = jnp.ones([2, 8, 8, 3]), jnp.ones([3, 3, 3, 4])
  >>> y = js.nn.relu(js.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME"))
  >>> js.nn.max_pool(y, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID").shape
  (2, 4, 4, 4)
"""

from jaxscope.nn.activations import (
    crelu,
    elu,
    leaky_relu,
    log_softmax,
    relu,
    relu6,
    selu,
    sigmoid,
    softmax,
    softplus,
    softsign,
    swish,
    tanh,
)
from jaxscope.nn.conv import (
    conv1d,
    conv1d_transpose,
    conv2d,
    conv2d_transpose,
    conv3d,
    conv3d_transpose,
    depthwise_conv2d,
    same_padding,
    separable_conv2d,
)
from jaxscope.nn.dropout import dropout
from jaxscope.nn.embedding import embedding_lookup
from jaxscope.nn.linear import bias_add, xw_plus_b
from jaxscope.nn.losses import (
    l2_loss,
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
    weighted_cross_entropy_with_logits,
)
from jaxscope.nn.normalization import (
    batch_normalization,
    fused_batch_norm,
    l2_normalize,
    local_response_normalization,
    lrn,
    moments,
)
from jaxscope.nn.pool import (
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)

__all__ = [
    "avg_pool",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "batch_normalization",
    "bias_add",
    "conv1d",
    "conv1d_transpose",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "conv3d_transpose",
    "crelu",
    "depthwise_conv2d",
    "dropout",
    "elu",
    "embedding_lookup",
    "fused_batch_norm",
    "l2_loss",
    "l2_normalize",
    "leaky_relu",
    "local_response_normalization",
    "log_softmax",
    "lrn",
    "max_pool",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "moments",
    "relu",
    "relu6",
    "same_padding",
    "selu",
    "separable_conv2d",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "softplus",
    "softsign",
    "sparse_softmax_cross_entropy_with_logits",
    "swish",
    "tanh",
    "weighted_cross_entropy_with_logits",
    "xw_plus_b",
]

# TF1 also spelled its RNN API under tf.nn (tf.nn.dynamic_rnn, tf.nn.rnn_cell.LSTMCell);
# they live in js.rnn, found here on first use (js.rnn builds on layers, which use js.nn).
_RNN_NAMES = ("dynamic_rnn", "bidirectional_dynamic_rnn", "static_rnn", "rnn_cell")


def __getattr__(name: str) -> object:  # PEP 562: a module attribute on first use
    if name not in _RNN_NAMES:
        raise AttributeError(f"module 'jaxscope.nn' has no attribute {name!r}")
    from jaxscope import rnn

    return rnn if name == "rnn_cell" else getattr(rnn, name)
