"""TF1's convolution layers (``tf.layers.Conv2D`` and friends) and their functional forms.

Kernels keep TF's layout and names: ``kernel`` ``[*kernel_size, in, filters]``
(``[*kernel_size, filters, in]`` for the transposed convolutions), ``depthwise_kernel``
``[*kernel_size, in, depth_multiplier]`` and ``pointwise_kernel``
``[1, ..., in * depth_multiplier, filters]``, then ``bias`` ``[filters]``. The
convolutions themselves are ``js.nn``'s, so padding follows TF's arithmetic exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from jaxscope import nn
from jaxscope.initializers import Zeros
from jaxscope.layers.core import (
    ArrayLayer,
    normalize_activation,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    tf_data_format,
)

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "SeparableConv1D",
    "SeparableConv2D",
    "conv1d",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "conv3d_transpose",
    "separable_conv1d",
    "separable_conv2d",
]

IntOrTuple = int | Sequence[int]

_CONV_OPS = {1: nn.conv1d, 2: nn.conv2d, 3: nn.conv3d}
_TRANSPOSE_OPS = {2: nn.conv2d_transpose, 3: nn.conv3d_transpose}


class _Conv(ArrayLayer):
    """An ``rank``-D convolution layer: kernel, optional bias, activation.

    Subclasses say which variables `build` makes (`_kernel_shapes`) and which op
    `_convolve` runs; everything else (arguments, bias, activation, activity
    regularization) is shared.
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: IntOrTuple,
        strides: IntOrTuple = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: IntOrTuple = 1,
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
        self.rank = rank
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        allowed = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        self.padding = normalize_padding(padding, allowed)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = normalize_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.activity_regularizer = activity_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        if not all(self.kernel_size):
            raise ValueError(f"The argument `kernel_size` cannot contain 0(s). "
                             f"Received: {kernel_size!r}")
        if not all(self.strides):
            raise ValueError(f"The argument `strides` cannot contain 0(s). Received: {strides!r}")

    # -- geometry --------------------------------------------------------------------------
    @property
    def _layout(self) -> str:
        return tf_data_format(self.data_format, self.rank)

    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape: Sequence[int]) -> int:
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer {self.name} is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}"
            )
        return int(input_shape[self._channel_axis()])

    # -- variables -------------------------------------------------------------------------
    def _kernel_shapes(self, channels: int) -> dict[str, tuple[int, ...]]:
        return {"kernel": (*self.kernel_size, channels, self.filters)}

    def _kernel_arguments(self, name: str) -> dict[str, Any]:
        """Initializer, regularizer and constraint of kernel variable ``name``."""
        return dict(initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                    constraint=self.kernel_constraint)

    def build(self, input_shape: Sequence[int]) -> None:
        channels = self._input_channels(input_shape)
        dtype = self.variable_dtype()
        for name, shape in self._kernel_shapes(channels).items():
            self.add_weight(name, shape, dtype=dtype, **self._kernel_arguments(name))
        if self.use_bias:
            self.add_weight("bias", [self.filters], dtype=dtype,
                            initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer,
                            constraint=self.bias_constraint)

    # -- computation -----------------------------------------------------------------------
    def _convolve(self, inputs: jax.Array) -> jax.Array:
        padding = self.padding.upper()
        if self.padding == "causal":
            # Keras's causal padding: all of it before the sequence, then VALID.
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [(0, 0)] * inputs.ndim
            pads[1 if self.data_format == "channels_last" else 2] = (left, 0)
            inputs, padding = jnp.pad(inputs, pads), "VALID"
        kernel = self.weight("kernel")
        if self.rank == 1:
            return nn.conv1d(inputs, kernel, stride=self.strides, padding=padding,
                             data_format=self._layout, dilations=self.dilation_rate)
        return _CONV_OPS[self.rank](inputs, kernel, strides=self.strides, padding=padding,
                                    data_format=self._layout, dilations=self.dilation_rate)

    def call(self, inputs: jax.Array) -> jax.Array:
        outputs = self._convolve(inputs)
        if self.use_bias:
            outputs = nn.bias_add(outputs, self.weight("bias"), data_format=self._layout)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return self.activity_regularization(outputs)


_CONV_DOC = """{rank}-D convolution layer, as TF1's ``tf.layers.{cls}``.

    Creates ``kernel`` ``[{k}, in_channels, filters]`` and (``use_bias``) ``bias``
    ``[filters]`` at the first call; computes ``activation(conv(inputs, kernel) + bias)``.

    Args:
      filters: number of output channels.
      kernel_size: an int or a tuple of {rank} ints.
      strides: an int or a tuple of {rank} ints.
      padding: ``"valid"`` or ``"same"`` (case-insensitive){causal}.
      data_format: ``"channels_last"`` (``{last}``) or ``"channels_first"`` (``{first}``).
      dilation_rate: an int or a tuple of {rank} ints.
      activation: a callable (or a Keras name such as ``"relu"``); None is linear.
      use_bias: whether to add ``bias``.
      kernel_initializer: None uses the variable scope's initializer, else
        ``glorot_uniform`` (as ``tf.layers``; API decision 11).
      bias_initializer: zeros by default.
      kernel_regularizer, bias_regularizer: losses in ``aux.losses`` under the variable
        names.
      activity_regularizer: its loss of the output over the batch size lands in
        ``aux.losses`` as ``<scope>/ActivityRegularizer``.
      kernel_constraint, bias_constraint: applied after each assignment of the variable.
      trainable: False puts the variables in ``state``.
      name: the layer's (and its variable scope's) name.
"""


class Conv1D(_Conv):
    __doc__ = _CONV_DOC.format(rank=1, cls="Conv1D", k="kw", last="NWC", first="NCW",
                               causal=' or ``"causal"``') + """
    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> conv = js.layers.Conv1D(4, 3, padding="same")
      >>> model = js.transform(lambda x: conv(x))
      >>> x = jnp.ones([2, 10, 3])
      >>> {name: spec.shape for name, spec in model.specs(x).items()}
      {'conv1d/kernel': (3, 3, 4), 'conv1d/bias': (4,)}
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape  # shapes only
      (2, 10, 4)
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = 1,
                 padding: str = "valid", data_format: str | None = "channels_last",
                 dilation_rate: IntOrTuple = 1, activation: Callable | str | None = None,
                 use_bias: bool = True, kernel_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 kernel_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 kernel_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


class Conv2D(_Conv):
    __doc__ = _CONV_DOC.format(rank=2, cls="Conv2D", k="kh, kw", last="NHWC", first="NCHW",
                               causal="") + """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> conv = js.layers.Conv2D(8, 3, strides=2, padding="SAME", activation=js.nn.relu)
      >>> f = js.transform(lambda x: conv(x))
      >>> x = jnp.ones([1, 9, 9, 3])
      >>> variables = f.init(0, x)
      >>> {k: v.shape for k, v in variables["params"].items()}
      {'conv2d/kernel': (3, 3, 3, 8), 'conv2d/bias': (8,)}
      >>> f.apply(variables, x)[0].shape
      (1, 5, 5, 8)
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = (1, 1),
                 padding: str = "valid", data_format: str | None = "channels_last",
                 dilation_rate: IntOrTuple = (1, 1), activation: Callable | str | None = None,
                 use_bias: bool = True, kernel_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 kernel_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 kernel_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


class Conv3D(_Conv):
    __doc__ = _CONV_DOC.format(rank=3, cls="Conv3D", k="kd, kh, kw", last="NDHWC",
                               first="NCDHW", causal="") + """
    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.Conv3D(2, 2)(x))
      >>> x = jnp.ones([1, 4, 4, 4, 1])
      >>> {name: spec.shape for name, spec in model.specs(x).items()}
      {'conv3d/kernel': (2, 2, 2, 1, 2), 'conv3d/bias': (2,)}
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 3, 3, 3, 2)
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple,
                 strides: IntOrTuple = (1, 1, 1), padding: str = "valid",
                 data_format: str | None = "channels_last",
                 dilation_rate: IntOrTuple = (1, 1, 1),
                 activation: Callable | str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 kernel_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 kernel_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, trainable, name, **kwargs)


# -- transposed convolutions ---------------------------------------------------------------
def deconv_output_length(size: int, kernel: int, padding: str, stride: int) -> int:
    """The output length of a transposed convolution, as Keras infers it."""
    if padding == "valid":
        return size * stride + max(kernel - stride, 0)
    return size * stride


class _ConvTranspose(_Conv):
    """The transposed convolution (gradient of `_Conv`); kernel ``[*k, filters, in]``."""

    def __init__(self, rank: int, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple,
                 padding: str, data_format: str | None, *args: Any, **kwargs: Any):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, 1,
                         *args, **kwargs)

    def _kernel_shapes(self, channels: int) -> dict[str, tuple[int, ...]]:
        return {"kernel": (*self.kernel_size, self.filters, channels)}

    def _convolve(self, inputs: jax.Array) -> jax.Array:
        first = self.data_format == "channels_first"
        spatial = inputs.shape[2:] if first else inputs.shape[1:-1]
        sizes = [deconv_output_length(n, k, self.padding, s)
                 for n, k, s in zip(spatial, self.kernel_size, self.strides)]
        shape = ([inputs.shape[0], self.filters, *sizes] if first
                 else [inputs.shape[0], *sizes, self.filters])
        return _TRANSPOSE_OPS[self.rank](inputs, self.weight("kernel"), shape,
                                         strides=self.strides, padding=self.padding.upper(),
                                         data_format=self._layout)


_TRANSPOSE_DOC = """Transposed {rank}-D convolution layer, as TF1's ``tf.layers.{cls}``.

    Creates ``kernel`` ``[{k}, filters, in_channels]`` (output channels first, as TF)
    and ``bias`` ``[filters]``. Each spatial output size is ``size * stride``
    (``"same"``) or ``size * stride + max(kernel - stride, 0)`` (``"valid"``), as TF.
    Arguments as `Conv{rank}D` (no ``dilation_rate``, as TF1).
"""


class Conv2DTranspose(_ConvTranspose):
    __doc__ = _TRANSPOSE_DOC.format(rank=2, cls="Conv2DTranspose", k="kh, kw") + """
    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> deconv = js.layers.Conv2DTranspose(3, 3, strides=2, padding="same")
      >>> model = js.transform(lambda x: deconv(x))
      >>> x = jnp.ones([1, 4, 4, 5])
      >>> {name: spec.shape for name, spec in model.specs(x).items()}
      {'conv2d_transpose/kernel': (3, 3, 3, 5), 'conv2d_transpose/bias': (3,)}
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 8, 8, 3)
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = (1, 1),
                 padding: str = "valid", data_format: str | None = "channels_last",
                 activation: Callable | str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 kernel_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 kernel_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, trainable, name, **kwargs)


class Conv3DTranspose(_ConvTranspose):
    __doc__ = _TRANSPOSE_DOC.format(rank=3, cls="Conv3DTranspose", k="kd, kh, kw") + """
    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.Conv3DTranspose(2, 2, strides=2)(x))
      >>> x = jnp.ones([1, 2, 2, 2, 3])
      >>> model.specs(x)["conv3d_transpose/kernel"].shape
      (2, 2, 2, 2, 3)
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 4, 4, 4, 2)
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple,
                 strides: IntOrTuple = (1, 1, 1), padding: str = "valid",
                 data_format: str | None = "channels_last",
                 activation: Callable | str | None = None, use_bias: bool = True,
                 kernel_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 kernel_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 kernel_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, trainable, name, **kwargs)


# -- separable convolutions ----------------------------------------------------------------
class _SeparableConv(_Conv):
    """Depthwise then pointwise convolution: ``depthwise_kernel``, ``pointwise_kernel``."""

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: IntOrTuple,
        strides: IntOrTuple,
        padding: str,
        data_format: str | None,
        dilation_rate: IntOrTuple,
        depth_multiplier: int,
        activation: Callable | str | None,
        use_bias: bool,
        depthwise_initializer: Any,
        pointwise_initializer: Any,
        bias_initializer: Any,
        depthwise_regularizer: Callable | None,
        pointwise_regularizer: Callable | None,
        bias_regularizer: Callable | None,
        activity_regularizer: Callable | None,
        depthwise_constraint: Callable | None,
        pointwise_constraint: Callable | None,
        bias_constraint: Callable | None,
        trainable: bool,
        name: str | None,
        **kwargs: Any,
    ):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, None, bias_initializer, None,
                         bias_regularizer, activity_regularizer, None, bias_constraint,
                         trainable, name, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.depthwise_constraint = depthwise_constraint
        self.pointwise_constraint = pointwise_constraint

    def _kernel_shapes(self, channels: int) -> dict[str, tuple[int, ...]]:
        return {
            "depthwise_kernel": (*self.kernel_size, channels, self.depth_multiplier),
            "pointwise_kernel": (*(1,) * self.rank, channels * self.depth_multiplier,
                                 self.filters),
        }

    def _kernel_arguments(self, name: str) -> dict[str, Any]:
        part = name.split("_")[0]  # "depthwise" or "pointwise"
        return dict(initializer=getattr(self, f"{part}_initializer"),
                    regularizer=getattr(self, f"{part}_regularizer"),
                    constraint=getattr(self, f"{part}_constraint"))

    def _convolve(self, inputs: jax.Array) -> jax.Array:
        depthwise, pointwise = self.weight("depthwise_kernel"), self.weight("pointwise_kernel")
        strides, dilations, padding = self.strides, self.dilation_rate, self.padding.upper()
        if self.rank == 1:  # as Keras: a 2-D separable convolution of height 1
            if self.padding == "causal":
                left = dilations[0] * (self.kernel_size[0] - 1)
                pads = [(0, 0)] * 3
                pads[1 if self.data_format == "channels_last" else 2] = (left, 0)
                inputs, padding = jnp.pad(inputs, pads), "VALID"
            axis = 1 if self.data_format == "channels_last" else 2
            out = nn.separable_conv2d(
                jnp.expand_dims(inputs, axis), depthwise[None], pointwise[None],
                strides=(1, strides[0]), padding=padding, dilations=(1, dilations[0]),
                data_format=tf_data_format(self.data_format, 2))
            return jnp.squeeze(out, axis)
        return nn.separable_conv2d(inputs, depthwise, pointwise, strides=strides,
                                   padding=padding, dilations=dilations,
                                   data_format=self._layout)


_SEPARABLE_DOC = """Depthwise-separable {rank}-D convolution, as TF1's ``tf.layers.{cls}``.

    Creates ``depthwise_kernel`` ``[{k}, in, depth_multiplier]``, ``pointwise_kernel``
    ``[{ones}, in * depth_multiplier, filters]`` and ``bias`` ``[filters]``, in that
    order. ``depthwise_*``/``pointwise_*`` arguments play the ``kernel_*`` roles of
    `Conv{rank}D`.
"""


class SeparableConv1D(_SeparableConv):
    __doc__ = _SEPARABLE_DOC.format(rank=1, cls="SeparableConv1D", k="kw", ones="1") + """
    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.SeparableConv1D(4, 3)(x))
      >>> x = jnp.ones([2, 8, 3])
      >>> {name: spec.shape for name, spec in model.specs(x).items()}
      {'separable_conv1d/depthwise_kernel': (3, 3, 1),
       'separable_conv1d/pointwise_kernel': (1, 3, 4), 'separable_conv1d/bias': (4,)}
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (2, 6, 4)
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = 1,
                 padding: str = "valid", data_format: str | None = "channels_last",
                 dilation_rate: IntOrTuple = 1, depth_multiplier: int = 1,
                 activation: Callable | str | None = None, use_bias: bool = True,
                 depthwise_initializer: Any = None, pointwise_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 depthwise_regularizer: Callable | None = None,
                 pointwise_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 depthwise_constraint: Callable | None = None,
                 pointwise_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint,
                         trainable, name, **kwargs)


class SeparableConv2D(_SeparableConv):
    __doc__ = _SEPARABLE_DOC.format(rank=2, cls="SeparableConv2D", k="kh, kw",
                                    ones="1, 1") + """
    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.SeparableConv2D(5, 3, depth_multiplier=2)(x))
      >>> x = jnp.ones([1, 6, 6, 3])
      >>> {name: spec.shape for name, spec in model.specs(x).items()}
      {'separable_conv2d/depthwise_kernel': (3, 3, 3, 2),
       'separable_conv2d/pointwise_kernel': (1, 1, 6, 5), 'separable_conv2d/bias': (5,)}
    """

    def __init__(self, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = (1, 1),
                 padding: str = "valid", data_format: str | None = "channels_last",
                 dilation_rate: IntOrTuple = (1, 1), depth_multiplier: int = 1,
                 activation: Callable | str | None = None, use_bias: bool = True,
                 depthwise_initializer: Any = None, pointwise_initializer: Any = None,
                 bias_initializer: Any = Zeros(),  # noqa: B008
                 depthwise_regularizer: Callable | None = None,
                 pointwise_regularizer: Callable | None = None,
                 bias_regularizer: Callable | None = None,
                 activity_regularizer: Callable | None = None,
                 depthwise_constraint: Callable | None = None,
                 pointwise_constraint: Callable | None = None,
                 bias_constraint: Callable | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint,
                         trainable, name, **kwargs)


# -- functional forms ----------------------------------------------------------------------
def conv1d(inputs: Any, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = 1,
           padding: str = "valid", data_format: str | None = "channels_last",
           dilation_rate: IntOrTuple = 1, activation: Callable | str | None = None,
           use_bias: bool = True, kernel_initializer: Any = None,
           bias_initializer: Any = Zeros(),  # noqa: B008
           kernel_regularizer: Callable | None = None,
           bias_regularizer: Callable | None = None,
           activity_regularizer: Callable | None = None,
           kernel_constraint: Callable | None = None, bias_constraint: Callable | None = None,
           trainable: bool = True, name: str | None = None,
           reuse: bool | None = None) -> jax.Array:
    """Functional `Conv1D` (TF1 ``tf.layers.conv1d``); ``name``/``reuse`` as `dense`.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.conv1d(x, 2, 3, name="c"))
      >>> list(model.specs(jnp.ones([1, 5, 1])))
      ['c/kernel', 'c/bias']
    """
    return Conv1D(filters, kernel_size, strides, padding, data_format, dilation_rate,
                  activation, use_bias, kernel_initializer, bias_initializer,
                  kernel_regularizer, bias_regularizer, activity_regularizer,
                  kernel_constraint, bias_constraint, trainable, name,
                  _scope=name, _reuse=reuse)(inputs)


def conv2d(inputs: Any, filters: int, kernel_size: IntOrTuple, strides: IntOrTuple = (1, 1),
           padding: str = "valid", data_format: str | None = "channels_last",
           dilation_rate: IntOrTuple = (1, 1), activation: Callable | str | None = None,
           use_bias: bool = True, kernel_initializer: Any = None,
           bias_initializer: Any = Zeros(),  # noqa: B008
           kernel_regularizer: Callable | None = None,
           bias_regularizer: Callable | None = None,
           activity_regularizer: Callable | None = None,
           kernel_constraint: Callable | None = None, bias_constraint: Callable | None = None,
           trainable: bool = True, name: str | None = None,
           reuse: bool | None = None) -> jax.Array:
    """Functional `Conv2D` (TF1 ``tf.layers.conv2d``); ``name``/``reuse`` as `dense`.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> def f(x):
      ...     return js.layers.conv2d(js.layers.conv2d(x, 4, 3), 2, 1)
      >>> list(js.transform(f).specs(jnp.ones([1, 5, 5, 1])))
      ['conv2d/kernel', 'conv2d/bias', 'conv2d_1/kernel', 'conv2d_1/bias']
    """
    return Conv2D(filters, kernel_size, strides, padding, data_format, dilation_rate,
                  activation, use_bias, kernel_initializer, bias_initializer,
                  kernel_regularizer, bias_regularizer, activity_regularizer,
                  kernel_constraint, bias_constraint, trainable, name,
                  _scope=name, _reuse=reuse)(inputs)


def conv3d(inputs: Any, filters: int, kernel_size: IntOrTuple,
           strides: IntOrTuple = (1, 1, 1), padding: str = "valid",
           data_format: str | None = "channels_last", dilation_rate: IntOrTuple = (1, 1, 1),
           activation: Callable | str | None = None, use_bias: bool = True,
           kernel_initializer: Any = None, bias_initializer: Any = Zeros(),  # noqa: B008
           kernel_regularizer: Callable | None = None,
           bias_regularizer: Callable | None = None,
           activity_regularizer: Callable | None = None,
           kernel_constraint: Callable | None = None, bias_constraint: Callable | None = None,
           trainable: bool = True, name: str | None = None,
           reuse: bool | None = None) -> jax.Array:
    """Functional `Conv3D` (TF1 ``tf.layers.conv3d``); ``name``/``reuse`` as `dense`.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.conv3d(x, 2, 2, padding="same"))
      >>> x = jnp.ones([1, 3, 3, 3, 1])
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 3, 3, 3, 2)
    """
    return Conv3D(filters, kernel_size, strides, padding, data_format, dilation_rate,
                  activation, use_bias, kernel_initializer, bias_initializer,
                  kernel_regularizer, bias_regularizer, activity_regularizer,
                  kernel_constraint, bias_constraint, trainable, name,
                  _scope=name, _reuse=reuse)(inputs)


def conv2d_transpose(inputs: Any, filters: int, kernel_size: IntOrTuple,
                     strides: IntOrTuple = (1, 1), padding: str = "valid",
                     data_format: str | None = "channels_last",
                     activation: Callable | str | None = None, use_bias: bool = True,
                     kernel_initializer: Any = None,
                     bias_initializer: Any = Zeros(),  # noqa: B008
                     kernel_regularizer: Callable | None = None,
                     bias_regularizer: Callable | None = None,
                     activity_regularizer: Callable | None = None,
                     kernel_constraint: Callable | None = None,
                     bias_constraint: Callable | None = None, trainable: bool = True,
                     name: str | None = None, reuse: bool | None = None) -> jax.Array:
    """Functional `Conv2DTranspose` (TF1 ``tf.layers.conv2d_transpose``).

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.conv2d_transpose(x, 3, 3, strides=2))
      >>> x = jnp.ones([1, 4, 4, 5])  # "valid": 4 * 2 + max(3 - 2, 0) = 9
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 9, 9, 3)
    """
    return Conv2DTranspose(filters, kernel_size, strides, padding, data_format, activation,
                           use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                           bias_regularizer, activity_regularizer, kernel_constraint,
                           bias_constraint, trainable, name, _scope=name, _reuse=reuse)(inputs)


def conv3d_transpose(inputs: Any, filters: int, kernel_size: IntOrTuple,
                     strides: IntOrTuple = (1, 1, 1), padding: str = "valid",
                     data_format: str | None = "channels_last",
                     activation: Callable | str | None = None, use_bias: bool = True,
                     kernel_initializer: Any = None,
                     bias_initializer: Any = Zeros(),  # noqa: B008
                     kernel_regularizer: Callable | None = None,
                     bias_regularizer: Callable | None = None,
                     activity_regularizer: Callable | None = None,
                     kernel_constraint: Callable | None = None,
                     bias_constraint: Callable | None = None, trainable: bool = True,
                     name: str | None = None, reuse: bool | None = None) -> jax.Array:
    """Functional `Conv3DTranspose` (TF1 ``tf.layers.conv3d_transpose``).

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.conv3d_transpose(x, 1, 2, 2, padding="same"))
      >>> x = jnp.ones([1, 2, 2, 2, 3])
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 4, 4, 4, 1)
    """
    return Conv3DTranspose(filters, kernel_size, strides, padding, data_format, activation,
                           use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                           bias_regularizer, activity_regularizer, kernel_constraint,
                           bias_constraint, trainable, name, _scope=name, _reuse=reuse)(inputs)


def separable_conv1d(inputs: Any, filters: int, kernel_size: IntOrTuple,
                     strides: IntOrTuple = 1, padding: str = "valid",
                     data_format: str | None = "channels_last", dilation_rate: IntOrTuple = 1,
                     depth_multiplier: int = 1, activation: Callable | str | None = None,
                     use_bias: bool = True, depthwise_initializer: Any = None,
                     pointwise_initializer: Any = None,
                     bias_initializer: Any = Zeros(),  # noqa: B008
                     depthwise_regularizer: Callable | None = None,
                     pointwise_regularizer: Callable | None = None,
                     bias_regularizer: Callable | None = None,
                     activity_regularizer: Callable | None = None,
                     depthwise_constraint: Callable | None = None,
                     pointwise_constraint: Callable | None = None,
                     bias_constraint: Callable | None = None, trainable: bool = True,
                     name: str | None = None, reuse: bool | None = None) -> jax.Array:
    """Functional `SeparableConv1D` (TF1 ``tf.layers.separable_conv1d``).

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.separable_conv1d(x, 2, 3, padding="same"))
      >>> x = jnp.ones([1, 5, 2])
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 5, 2)
    """
    return SeparableConv1D(
        filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
        depthwise_constraint, pointwise_constraint, bias_constraint, trainable, name,
        _scope=name, _reuse=reuse)(inputs)


def separable_conv2d(inputs: Any, filters: int, kernel_size: IntOrTuple,
                     strides: IntOrTuple = (1, 1), padding: str = "valid",
                     data_format: str | None = "channels_last",
                     dilation_rate: IntOrTuple = (1, 1), depth_multiplier: int = 1,
                     activation: Callable | str | None = None, use_bias: bool = True,
                     depthwise_initializer: Any = None, pointwise_initializer: Any = None,
                     bias_initializer: Any = Zeros(),  # noqa: B008
                     depthwise_regularizer: Callable | None = None,
                     pointwise_regularizer: Callable | None = None,
                     bias_regularizer: Callable | None = None,
                     activity_regularizer: Callable | None = None,
                     depthwise_constraint: Callable | None = None,
                     pointwise_constraint: Callable | None = None,
                     bias_constraint: Callable | None = None, trainable: bool = True,
                     name: str | None = None, reuse: bool | None = None) -> jax.Array:
    """Functional `SeparableConv2D` (TF1 ``tf.layers.separable_conv2d``).

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> model = js.transform(lambda x: js.layers.separable_conv2d(x, 4, 3, padding="same"))
      >>> x = jnp.ones([1, 5, 5, 2])
      >>> jax.eval_shape(model.apply, jax.eval_shape(model.init, 0, x), x)[0].shape
      (1, 5, 5, 4)
    """
    return SeparableConv2D(
        filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
        depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
        depthwise_constraint, pointwise_constraint, bias_constraint, trainable, name,
        _scope=name, _reuse=reuse)(inputs)
