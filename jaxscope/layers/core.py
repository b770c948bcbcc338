"""TF1's core ``tf.layers``: `Dense`, `Dropout`, `Flatten` and their functional forms.

Also the pieces every ``js.layers`` module shares: `ArrayLayer` (the base of the
concrete layers) and TF/Keras's argument normalization (``padding``, ``data_format``,
tuples, activations).

A functional form builds a fresh layer object per call, named as TF1 names it:
``dense(x, 5)`` opens ``variable_scope(None, default_name="dense")`` (``dense``,
``dense_1``, ... unique per variable scope) and ``dense(x, 5, name="fc")`` opens
``variable_scope("fc")`` itself, so calling it twice needs ``reuse=True``, as TF1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope import nn
from jaxscope.collections import GraphKeys, add_item
from jaxscope.frame import CollectionItem, current_frame
from jaxscope.initializers import Zeros
from jaxscope.layers.base import Layer
from jaxscope.losses import record_loss
from jaxscope.naming import join

__all__ = ["Dense", "Dropout", "Flatten", "dense", "dropout", "flatten"]

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "linear": lambda x: x,
    "relu": nn.relu,
    "relu6": nn.relu6,
    "elu": nn.elu,
    "selu": nn.selu,
    "sigmoid": nn.sigmoid,
    "tanh": nn.tanh,
    "softmax": lambda x: nn.softmax(x, axis=-1),
    "softplus": nn.softplus,
    "softsign": nn.softsign,
    "swish": nn.swish,
}


# -- argument normalization (Keras's conv_utils, which tf.layers uses) --------------------
def normalize_activation(activation: Callable | str | None) -> Callable | None:
    """A callable activation, a Keras name (``"relu"``, ``"tanh"``, ...) or None."""
    if activation is None or callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return _ACTIVATIONS[activation]
    raise ValueError(
        f"Unknown activation function: {activation!r}. Pass a callable (e.g. js.nn.relu) "
        f"or one of {sorted(_ACTIVATIONS)}."
    )


def normalize_tuple(value: int | Sequence[int], n: int, name: str) -> tuple[int, ...]:
    """``value`` as ``n`` ints: an int is repeated, a sequence must have ``n`` ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(value)
    except TypeError:
        values = ()
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers. Received: {value!r}"
        )
    return tuple(int(v) for v in values)


def normalize_padding(padding: str, allowed: Sequence[str] = ("valid", "same")) -> str:
    """``"valid"``/``"same"`` (case-insensitive) as lowercase, else TF's ValueError."""
    lowered = padding.lower() if isinstance(padding, str) else padding
    if lowered not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {', '.join(map(repr, allowed))} "
            f"(case-insensitive). Received: {padding!r}"
        )
    return lowered


def normalize_data_format(data_format: str | None) -> str:
    """``"channels_last"`` (the default) or ``"channels_first"``."""
    value = "channels_last" if data_format is None else str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            'The `data_format` argument must be one of "channels_first", "channels_last". '
            f"Received: {data_format!r}"
        )
    return value


def tf_data_format(data_format: str, n: int) -> str:
    """The ``js.nn`` layout string (``"NHWC"``, ``"NCW"``, ...) of an ``n``-D layer."""
    spatial = {1: "W", 2: "HW", 3: "DHW"}[n]
    return f"N{spatial}C" if data_format == "channels_last" else f"NC{spatial}"


def static_bool(flag: Any) -> bool | None:
    """A Python bool for ``training`` known while tracing, None for a traced one."""
    if flag is None:
        return False  # TF1's learning phase defaults to inference
    try:
        return bool(flag)
    except jax.errors.ConcretizationTypeError:
        return None


# -- the base of the concrete layers ------------------------------------------------------
class ArrayLayer(Layer):
    """A `Layer` taking one array (converted with ``jnp.asarray``).

    Subclasses also get `activity_regularization` (TF's ``activity_regularizer``).
    """

    activity_regularizer: Callable | None = None

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the layer on one array (see `Layer.__call__`); variables take its float dtype.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> layer = js.layers.Dense(2)
          >>> model = js.transform(lambda x: layer(x))
          >>> x = jnp.ones([1, 3], jnp.bfloat16)  # TF1: the first input sets the layer dtype
          >>> variables = model.init(0, x)
          >>> variables["params"]["dense/kernel"].dtype, model.apply(variables, x)[0].dtype
          (dtype(bfloat16), dtype(bfloat16))
        """
        return super().__call__(jnp.asarray(inputs), *args, **kwargs)

    def activity_regularization(self, outputs: jax.Array) -> jax.Array:
        """Record ``activity_regularizer(outputs) / batch_size`` as a loss; return outputs.

        As TF1's layers (through Keras), the loss is averaged over the batch and goes to
        ``REGULARIZATION_LOSSES``; it lands in ``aux.losses`` as
        ``<layer scope>/ActivityRegularizer``.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> from jaxscope.layers.core import ArrayLayer
          >>> class Double(ArrayLayer):
          ...     def call(self, x):  # Dense, Conv2D, ... end their call like this
          ...         return self.activity_regularization(2.0 * x)
          >>> double = Double()
          >>> double.activity_regularizer = js.regularizers.l1(1.0)
          >>> model = js.transform(lambda x: double(x))
          >>> x = jnp.ones([2, 3])  # outputs 2.0: l1 = 12, divided by the batch size 2
          >>> _, aux = model.apply(model.init(0, x), x)
          >>> {name: float(loss) for name, loss in aux.losses.items()}
          {'double/ActivityRegularizer': 6.0}
        """
        if self.activity_regularizer is None:
            return outputs
        loss = self.activity_regularizer(outputs)
        if loss is None:
            return outputs
        loss = jnp.asarray(loss)
        loss = loss / jnp.asarray(outputs.shape[0], loss.dtype)
        frame = current_frame(repr(self))
        name = record_loss(frame, join(frame.current_scope.name, "ActivityRegularizer"), loss)
        add_item(frame, GraphKeys.REGULARIZATION_LOSSES, CollectionItem(name, None, loss))
        return outputs


# -- Dense ----------------------------------------------------------------------------------
class Dense(ArrayLayer):
    """``activation(inputs @ kernel + bias)``, as TF1's ``tf.layers.Dense``.

    Variables: ``kernel`` ``[in, units]`` and ``bias`` ``[units]`` in the layer's scope
    (``dense/kernel``, ``dense_1/kernel``, ...). Inputs of rank > 2 are contracted on
    their last axis.

    Args:
      units: output size.
      activation: a callable (or a Keras name such as ``"relu"``); None is linear.
      use_bias: whether to add ``bias``.
      kernel_initializer: None uses the variable scope's initializer, else
        ``glorot_uniform`` (as ``tf.layers``; API decision 11).
      bias_initializer: zeros by default.
      kernel_regularizer, bias_regularizer: their losses land in ``aux.losses`` under the
        variable names.
      activity_regularizer: its loss of the output, divided by the batch size, lands in
        ``aux.losses`` as ``<scope>/ActivityRegularizer``.
      kernel_constraint, bias_constraint: applied after each assignment of the variable.
      trainable: False puts the variables in ``state``.
      name: the layer's (and its variable scope's) name.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> layer = js.layers.Dense(3, activation=js.nn.relu)
      >>> model = js.transform(lambda x: layer(x))
      >>> variables = model.init(0, jnp.ones([2, 4]))
      >>> {k: v.shape for k, v in variables["params"].items()}
      {'dense/kernel': (4, 3), 'dense/bias': (3,)}
    """

    def __init__(
        self,
        units: int,
        activation: Callable | str | None = None,
        use_bias: bool = True,
        kernel_initializer: Any = None,
        bias_initializer: Any = Zeros(),  # noqa: B008 - an immutable initializer, as TF's
        kernel_regularizer: Callable | None = None,
        bias_regularizer: Callable | None = None,
        activity_regularizer: Callable | None = None,
        kernel_constraint: Callable | None = None,
        bias_constraint: Callable | None = None,
        trainable: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.units = int(units)  # TF truncates 2.5 to 2
        if self.units < 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        self.activation = normalize_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.activity_regularizer = activity_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint

    def build(self, input_shape: Sequence[int]) -> None:
        if len(input_shape) < 2:
            raise ValueError(
                f"Input 0 of layer {self.name} is incompatible with the layer: expected "
                f"min_ndim=2, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}"
            )
        dtype = self.variable_dtype()
        self.add_weight("kernel", [input_shape[-1], self.units], dtype=dtype,
                        initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer,
                        constraint=self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", [self.units], dtype=dtype,
                            initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)

    def call(self, inputs: jax.Array) -> jax.Array:
        kernel = self.weight("kernel")
        if inputs.dtype != kernel.dtype:
            inputs = inputs.astype(kernel.dtype)
        if inputs.ndim == 2:
            outputs = jnp.matmul(inputs, kernel)
        else:
            outputs = jnp.tensordot(inputs, kernel, [[inputs.ndim - 1], [0]])
        if self.use_bias:
            outputs = nn.bias_add(outputs, self.weight("bias"))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return self.activity_regularization(outputs)


def dense(
    inputs: Any,
    units: int,
    activation: Callable | str | None = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = Zeros(),  # noqa: B008
    kernel_regularizer: Callable | None = None,
    bias_regularizer: Callable | None = None,
    activity_regularizer: Callable | None = None,
    kernel_constraint: Callable | None = None,
    bias_constraint: Callable | None = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: bool | None = None,
) -> jax.Array:
    """Functional `Dense` (TF1 ``tf.layers.dense``): a fresh layer, called once.

    ``name`` opens ``variable_scope(name)`` (not made unique: a second ``dense(...,
    name="fc")`` needs ``reuse=True``); without a name the scope is ``dense``,
    ``dense_1``, ... See `Dense` for the arguments.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> def f(x):
      ...     h = js.layers.dense(x, 4, activation=js.nn.relu)
      ...     return js.layers.dense(h, 2)
      >>> list(js.transform(f).init(0, jnp.ones([1, 3]))["params"])
      ['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias']
    """
    layer = Dense(
        units, activation=activation, use_bias=use_bias,
        kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
        kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
        bias_constraint=bias_constraint, trainable=trainable, name=name,
        _scope=name, _reuse=reuse,
    )
    return layer(inputs)


# -- Dropout --------------------------------------------------------------------------------
class Dropout(ArrayLayer):
    """Zeroes a fraction ``rate`` of the inputs in training, as TF1's ``tf.layers.Dropout``.

    Kept values are scaled by ``1 / (1 - rate)``. ``training`` (call argument) is False
    by default: the layer is then the identity. The mask's key comes from
    ``js.next_rng_key()``, so ``apply`` needs ``rng=``; ``seed`` is folded into it.
    A traced ``training`` selects with ``jnp.where`` (and still needs the key).

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> drop = js.layers.Dropout(0.5)
      >>> model = js.transform(lambda x, training: drop(x, training=training))
      >>> x = jnp.ones([1000])
      >>> variables = model.init(0, x, False)
      >>> bool((model.apply(variables, x, False)[0] == x).all())
      True
      >>> y, _ = model.apply(variables, x, True, rng=jax.random.key(0))
      >>> sorted(set(y.tolist()))
      [0.0, 2.0]
    """

    def __init__(self, rate: float = 0.5, noise_shape: Sequence[int | None] | None = None,
                 seed: int | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs: jax.Array, training: Any = False) -> jax.Array:
        mode = static_bool(training)
        if mode is False or (isinstance(self.rate, (int, float)) and self.rate == 0):
            return inputs
        dropped = nn.dropout(inputs, noise_shape=self.noise_shape, seed=self.seed,
                             rate=self.rate)
        return dropped if mode else jnp.where(training, dropped, inputs)


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Sequence[int | None] | None = None,
            seed: int | None = None, training: Any = False,
            name: str | None = None) -> jax.Array:
    """Functional `Dropout` (TF1 ``tf.layers.dropout``); identity unless ``training``.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.dropout(x, 0.5, training=True))
      >>> x = jnp.ones([4])
      >>> y, _ = f.apply(f.init(0, x), x, rng=jax.random.key(1))
      >>> set(y.tolist()) <= {0.0, 2.0}
      True
    """
    layer = Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)
    return layer(inputs, training=training)


# -- Flatten --------------------------------------------------------------------------------
class Flatten(ArrayLayer):
    """``[N, d1, d2, ...] -> [N, d1 * d2 * ...]``, as TF1's ``tf.layers.Flatten``.

    With ``data_format="channels_first"`` the channels are moved last first, so the
    flattened order matches a channels-last model's.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f = js.transform(lambda x: js.layers.Flatten()(x))
      >>> x = jnp.ones([2, 3, 4])
      >>> f.apply(f.init(0, x), x)[0].shape
      (2, 12)
    """

    def __init__(self, data_format: str | None = "channels_last", name: str | None = None,
                 **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: jax.Array) -> jax.Array:
        if inputs.ndim == 0:
            raise ValueError("Flatten needs an input of rank >= 1 (the batch axis), got a scalar.")
        if inputs.ndim == 1:
            return inputs[:, None]
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = jnp.moveaxis(inputs, 1, -1)
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))


def flatten(inputs: Any, name: str | None = None,
            data_format: str | None = "channels_last") -> jax.Array:
    """Functional `Flatten` (TF1 ``tf.layers.flatten``).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> f, x = js.transform(lambda x: js.layers.flatten(x)), jnp.ones([2, 2, 2])
      >>> f.apply(f.init(0, x), x)[0].shape
      (2, 4)
    """
    return Flatten(name=name, data_format=data_format)(inputs)
