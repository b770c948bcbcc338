"""TF1's ``tf.layers.BatchNormalization`` and ``batch_normalization``.

``gamma``/``beta`` are trainable (``params``); ``moving_mean``/``moving_variance`` are
not (``state``). With ``training=True`` the layer normalizes with the batch statistics
(biased variance) and updates the moving averages with TF's
``moving -= (moving - batch) * (1 - momentum)`` as TF1's UPDATE_OPS do: the update lands
when the call ends, so later reads in the same ``apply`` (a sampler sharing the layer
with ``training=False``) see the statistics as they were, and the new values come back
in ``aux.updates["state"]``. Two training calls of one layer compose their updates in
order.

As TF1, a 4-D input normalized over axis 1 or 3 (5-D: 1 or 4) goes through the fused
kernel (`js.nn.fused_batch_norm`), whose batch variance -- the one fed to the moving
average -- is the *unbiased* one (``n / (n - 1)``); other inputs use `js.nn.moments`
and feed the biased variance. The output is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope import nn
from jaxscope.assign import defer_assign
from jaxscope.collections import GraphKeys, add_to_collection
from jaxscope.frame import Mode, current_frame
from jaxscope.initializers import Ones, Zeros
from jaxscope.layers.core import ArrayLayer, static_bool
from jaxscope.scope import get_variable_scope

__all__ = ["BatchNormalization", "batch_normalization"]

_FUSED_FORMATS = {(4, 1): "NCHW", (4, 3): "NHWC", (5, 1): "NCDHW", (5, 4): "NDHWC"}
_HALF = (jnp.float16, jnp.bfloat16)


class _Geometry(NamedTuple):
    """How a batch norm layer sees an input of a given shape."""

    axes: tuple[int, ...]  # the normalized (feature) axes, non-negative
    param_shape: tuple[int, ...]  # shape of gamma, beta and the moving statistics
    fused_format: str | None  # data_format of the fused kernel, None when not fused


class BatchNormalization(ArrayLayer):
    """Batch normalization, as TF1's ``tf.layers.BatchNormalization``.

    Variables, in creation order: ``gamma`` (if ``scale``), ``beta`` (if ``center``),
    ``moving_mean`` and ``moving_variance`` (non-trainable, in ``state``).

    ``call(inputs, training=False)``: ``training`` is a Python bool, or a traced
    boolean (both branches are then computed and selected with ``jnp.where``). In
    training the moving statistics are updated by assignment (`js.assign`) and the new
    values are added to the ``UPDATE_OPS`` collection; in ``init`` (the create trace)
    no assignment is made, so ``init`` returns the initializers' values, as TF1's
    initializer op does.

    Args:
      axis: the feature axis (or a list of axes); the others are reduced.
      momentum: of the moving averages.
      epsilon: added to the variance.
      center: create and add ``beta``.
      scale: create and multiply by ``gamma``.
      beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: zeros, ones, zeros, ones by default.
      beta_regularizer, gamma_regularizer: losses in ``aux.losses``.
      beta_constraint, gamma_constraint: applied after each assignment.
      renorm, renorm_clipping, renorm_momentum, virtual_batch_size, adjustment: TF's
        arguments; only their defaults are supported (others raise
        ``NotImplementedError``).
      fused: None or True use the fused kernel where TF1 does (see the module doc);
        False never does.
      trainable: False puts ``gamma``/``beta`` in ``state`` too.
      name: the layer's name.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> bn = js.layers.BatchNormalization()
      >>> model = js.transform(lambda x, training: bn(x, training=training))
      >>> x = jnp.arange(8.0).reshape(4, 2)
      >>> variables = model.init(0, x, True)
      >>> sorted(variables["params"]), sorted(variables["state"])
      (['batch_normalization/beta', 'batch_normalization/gamma'],
       ['batch_normalization/moving_mean', 'batch_normalization/moving_variance'])
      >>> y, aux = model.apply(variables, x, True)
      >>> [round(m, 4) for m in aux.updates["state"]["batch_normalization/moving_mean"].tolist()]
      [0.03, 0.04]
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = Zeros(),  # noqa: B008 - immutable initializers, as TF's
        gamma_initializer: Any = Ones(),  # noqa: B008
        moving_mean_initializer: Any = Zeros(),  # noqa: B008
        moving_variance_initializer: Any = Ones(),  # noqa: B008
        beta_regularizer: Callable | None = None,
        gamma_regularizer: Callable | None = None,
        beta_constraint: Callable | None = None,
        gamma_constraint: Callable | None = None,
        renorm: bool = False,
        renorm_clipping: Any = None,
        renorm_momentum: float = 0.99,
        fused: bool | None = None,
        trainable: bool = True,
        virtual_batch_size: int | None = None,
        adjustment: Callable | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(trainable=trainable, name=name, **kwargs)
        unsupported = {"renorm": renorm, "virtual_batch_size": virtual_batch_size,
                       "adjustment": adjustment, "renorm_clipping": renorm_clipping}
        for arg, value in unsupported.items():
            if value not in (None, False):
                raise NotImplementedError(
                    f"BatchNormalization({arg}={value!r}) is not supported by jaxscope; only "
                    f"the default {arg}={'False' if arg == 'renorm' else 'None'} is."
                )
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.renorm_momentum = renorm_momentum
        self.fused = fused

    # -- geometry --------------------------------------------------------------------------
    def _geometry(self, shape: Sequence[int]) -> _Geometry:
        rank = len(shape)
        if not rank:
            raise ValueError("Input has undefined rank.")
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        axes = [a + rank if a < 0 else a for a in axes]
        for a in axes:
            if not 0 <= a < rank:
                raise ValueError(
                    f"Invalid axis. Expected 0 <= axis < inputs.rank (with inputs.rank={rank}). "
                    f"Received: layer.axis={self.axis}"
                )
        if len(axes) != len(set(axes)):
            raise ValueError(f"Duplicate axis: {self.axis}")
        if len(axes) == 1:
            param_shape = (int(shape[axes[0]]),)
        else:
            param_shape = tuple(int(shape[i]) if i in axes else 1 for i in range(rank))
        fused_format = None
        if self.fused is not False and len(axes) == 1:
            fused_format = _FUSED_FORMATS.get((rank, axes[0]))
        return _Geometry(tuple(axes), param_shape, fused_format)

    def _param_dtype(self) -> Any:
        dtype = self.variable_dtype()
        return jnp.float32 if dtype is not None and jnp.dtype(dtype) in _HALF else dtype

    # -- variables -------------------------------------------------------------------------
    def build(self, input_shape: Sequence[int]) -> None:
        shape = self._geometry(input_shape).param_shape
        dtype = self._param_dtype()
        if self.scale:
            self.add_weight("gamma", shape, dtype=dtype, initializer=self.gamma_initializer,
                            regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint)
        if self.center:
            self.add_weight("beta", shape, dtype=dtype, initializer=self.beta_initializer,
                            regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint)
        # As TF1, the moving statistics are never partitioned.
        scope = get_variable_scope()
        partitioner = scope.partitioner
        scope.set_partitioner(None)
        try:
            self.add_weight("moving_mean", shape, dtype=dtype,
                            initializer=self.moving_mean_initializer, trainable=False)
            self.add_weight("moving_variance", shape, dtype=dtype,
                            initializer=self.moving_variance_initializer, trainable=False)
        finally:
            scope.set_partitioner(partitioner)

    # -- computation -----------------------------------------------------------------------
    def call(self, inputs: jax.Array, training: Any = False) -> jax.Array:
        geometry = self._geometry(inputs.shape)
        if geometry.fused_format is not None and inputs.dtype != jnp.float64:
            return self._fused(inputs, training, geometry)
        return self._unfused(inputs, training, geometry)

    def _gamma_beta(self, geometry: _Geometry, dtype: Any) -> tuple[jax.Array, jax.Array]:
        gamma = (self.weight("gamma") if self.scale
                 else jnp.ones(geometry.param_shape, dtype))
        beta = (self.weight("beta") if self.center
                else jnp.zeros(geometry.param_shape, dtype))
        return gamma, beta

    def _fused(self, inputs: jax.Array, training: Any, geometry: _Geometry) -> jax.Array:
        moving_mean, moving_variance = self.weight("moving_mean"), self.weight("moving_variance")
        gamma, beta = self._gamma_beta(geometry, moving_mean.dtype)
        fmt, mode = geometry.fused_format, static_bool(training)

        def inference() -> jax.Array:
            return nn.fused_batch_norm(inputs, gamma, beta, moving_mean, moving_variance,
                                       self.epsilon, fmt, is_training=False)[0]

        if mode is False:
            return inference()
        outputs, mean, unbiased_variance = nn.fused_batch_norm(
            inputs, gamma, beta, epsilon=self.epsilon, data_format=fmt, is_training=True)
        if mode is None:
            outputs = jnp.where(training, outputs, inference())
        # TF's fused path converts momentum to a float32 tensor before taking 1 - momentum.
        decay = np.float32(1.0) - np.float32(self.momentum)
        self._update_moving("moving_mean", mean, decay, training, mode)
        self._update_moving("moving_variance", unbiased_variance, decay, training, mode)
        return outputs

    def _unfused(self, inputs: jax.Array, training: Any, geometry: _Geometry) -> jax.Array:
        x = inputs.astype(jnp.float32) if inputs.dtype in _HALF else inputs
        moving_mean, moving_variance = self.weight("moving_mean"), self.weight("moving_variance")
        gamma, beta = self._gamma_beta(geometry, moving_mean.dtype)
        mode = static_bool(training)
        if mode is False:
            mean, variance = moving_mean, moving_variance
        else:
            reduction = [i for i in range(x.ndim) if i not in geometry.axes]
            mean, variance = nn.moments(x, reduction, keepdims=len(geometry.axes) > 1)
            decay = np.float32(1.0 - self.momentum)
            self._update_moving("moving_mean", mean, decay, training, mode)
            self._update_moving("moving_variance", variance, decay, training, mode)
            if mode is None:
                mean = jnp.where(training, mean, moving_mean)
                variance = jnp.where(training, variance, moving_variance)
        broadcast = [1] * x.ndim
        for a in geometry.axes:
            broadcast[a] = x.shape[a]

        def per_feature(v: jax.Array) -> jax.Array:
            return jnp.reshape(v, broadcast).astype(x.dtype)

        outputs = nn.batch_normalization(x, per_feature(mean), per_feature(variance),
                                         per_feature(beta), per_feature(gamma), self.epsilon)
        return outputs.astype(inputs.dtype)

    def _update_moving(self, name: str, batch_value: jax.Array, decay: np.float32,
                       training: Any, mode: bool | None) -> None:
        """Queue TF's moving-average update of variable ``name`` as an UPDATE_OPS update:
        it lands when the call ends (not in ``init``), so later reads see the old value."""
        moving = self.weight(name)

        def update(old: jax.Array) -> jax.Array:
            new = old - (old - batch_value.astype(old.dtype)) * decay.astype(old.dtype)
            return jnp.where(training, new, old) if mode is None else new

        add_to_collection(GraphKeys.UPDATE_OPS, update(moving))
        if current_frame(repr(self)).mode is not Mode.CREATE:
            defer_assign(name, update)


def batch_normalization(
    inputs: Any,
    axis: int | Sequence[int] = -1,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    center: bool = True,
    scale: bool = True,
    beta_initializer: Any = Zeros(),  # noqa: B008
    gamma_initializer: Any = Ones(),  # noqa: B008
    moving_mean_initializer: Any = Zeros(),  # noqa: B008
    moving_variance_initializer: Any = Ones(),  # noqa: B008
    beta_regularizer: Callable | None = None,
    gamma_regularizer: Callable | None = None,
    beta_constraint: Callable | None = None,
    gamma_constraint: Callable | None = None,
    training: Any = False,
    trainable: bool = True,
    name: str | None = None,
    reuse: bool | None = None,
    renorm: bool = False,
    renorm_clipping: Any = None,
    renorm_momentum: float = 0.99,
    fused: bool | None = None,
    virtual_batch_size: int | None = None,
    adjustment: Callable | None = None,
) -> jax.Array:
    """Functional `BatchNormalization` (TF1 ``tf.layers.batch_normalization``).

    ``name``/``reuse`` as `dense`: the training and inference graphs of TF1 code share
    the layer with ``reuse=True`` (or by calling under a reusing scope).

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> def f(x):
      ...     y = js.layers.batch_normalization(x, training=True, name="bn")
      ...     return js.layers.batch_normalization(x, training=False, name="bn", reuse=True)
      >>> model = js.transform(f)
      >>> x = jnp.ones([2, 3])
      >>> variables = model.init(0, x)
      >>> sorted(variables["state"])
      ['bn/moving_mean', 'bn/moving_variance']
    """
    layer = BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
        moving_mean_initializer=moving_mean_initializer,
        moving_variance_initializer=moving_variance_initializer,
        beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
        renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
        trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
        name=name, _scope=name, _reuse=reuse,
    )
    return layer(inputs, training=training)
