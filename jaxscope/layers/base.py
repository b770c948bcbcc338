"""`Layer`: TF1's ``tf.layers.Layer`` — variables in a scope captured at the first call.

A layer object may be built once (at module level, say) and called in many
traces. As TF1, its first call in a trace captures a variable scope —
``variable_scope(None, default_name=<snake_case class name or name>)``, so
unnamed layers are ``dense``, ``dense_1``, ... unique per variable scope — and
creates its variables there (`build`); later calls in the same trace re-enter
that scope with ``reuse=True``. The captured scope and the built flag are kept
per trace (per frame), so every ``init`` and ``apply`` starts afresh.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope import errors
from jaxscope.collections import ScopedVariables
from jaxscope.frame import Frame, current_frame, current_trace_state, maybe_current_frame
from jaxscope.initializers import GlorotUniform
from jaxscope.scope import VariableScope, name_scope, variable_scope
from jaxscope.variables import get_variable


def to_snake_case(name: str) -> str:
    """``BasicLSTMCell`` -> ``basic_lstm_cell``, as TF1 names layers.

    Example:
      >>> to_snake_case("BasicLSTMCell"), to_snake_case("Conv2DTranspose")
      ('basic_lstm_cell', 'conv2d_transpose')
    """
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


_GLOROT_UNIFORM = GlorotUniform()

# The dtype of the first input of the layer call running now: TF1 layers (and RNN cells)
# without a dtype create their variables in the dtype of their first input. Set only for
# the length of one call, so one layer object may serve float32 and bfloat16 models.
_INPUT_DTYPE: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "jaxscope_layer_input_dtype", default=None)


def _layer_default_initializer(dtype: Any) -> Any:
    """``glorot_uniform`` for floating-point weights (API decision 11); None (get_variable's
    default by dtype) for the rest."""
    try:
        floating = _FLOATING[dtype]
    except (KeyError, TypeError):  # once per dtype spelling: issubdtype is slow (hot path)
        floating = dtype is None or bool(jnp.issubdtype(np.dtype(jnp.dtype(dtype)),
                                                        jnp.floating))
        try:
            _FLOATING[dtype] = floating
        except TypeError:
            pass
    return _GLOROT_UNIFORM if floating else None


_FLOATING: dict[Any, bool] = {}


class _Read(NamedTuple):
    """One variable of a layer as its `add_weight` (or last re-read) got it in this trace."""

    arguments: dict[str, Any]  # add_weight's arguments to get_variable, to read it again
    key: str | None  # the stored variable, None if a custom getter renamed it
    stored: Any  # the stored value the read was made from
    value: Any  # what the getter chain returned for it
    trace_state: Any  # the JAX trace the read happened in


class _LayerTrace:
    __slots__ = ("built", "reads", "scope")

    def __init__(self) -> None:
        self.scope: VariableScope | None = None
        self.built = False
        self.reads: dict[str, _Read] = {}

    def __copy__(self) -> _LayerTrace:
        # A frame snapshot (lifted bodies rewind) copies this: the reads must not be shared.
        other = _LayerTrace()
        other.scope, other.built, other.reads = self.scope, self.built, dict(self.reads)
        return other


class Layer(ScopedVariables):
    """Base class of TF1-style layers and RNN cells.

    Subclasses implement `build` (create variables with `add_weight`) and
    `call`. Calling the layer runs both in the layer's variable scope.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> class Scale(Layer):
      ...     def build(self, input_shape):
      ...         self.add_weight("s", [], initializer=js.ones_initializer)
      ...     def call(self, x):
      ...         return x * self.weight("s")
      >>> scale = Scale()
      >>> def model(x):
      ...     return scale(x) + scale(x)
      >>> list(js.transform(model).init(0, 1.0)["params"])
      ['scale/s']
    """

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        _scope: str | VariableScope | None = None,
        _reuse: bool | None = None,
    ):
        self.trainable = trainable
        self._name = name
        self._base_name = name or to_snake_case(type(self).__name__)
        self.dtype = dtype
        self._scope_arg = _scope
        self._reuse = _reuse

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._base_name!r}>"

    @property
    def name(self) -> str:
        """The ``name`` given, else the snake_case class name (its scope may be ``dense_1``)."""
        return self._base_name

    # -- to implement ----------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the variables (with `add_weight`) for inputs of ``input_shape``.

        Called once per trace, by the first call, inside the layer's variable scope;
        ``input_shape`` is the shape of the first argument (a pytree of shapes).

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> class Affine(js.layers.Layer):
          ...     def build(self, input_shape):  # TF1: the same hook of tf.layers.Layer
          ...         self.add_weight("w", [input_shape[-1], 2])
          ...     def call(self, x):
          ...         return x @ self.weight("w")
          >>> js.transform(lambda x: Affine()(x)).specs(jnp.ones([1, 5]))["affine/w"].shape
          (5, 2)
        """

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The layer's computation; calling the layer runs it in the layer's scope after `build`.

        Extra arguments of the layer call (``training=...``) are passed through.

        Example:
          >>> import jaxscope as js
          >>> class Scale(js.layers.Layer):
          ...     def build(self, input_shape):
          ...         self.add_weight("s", [], initializer=js.constant_initializer(3.0))
          ...     def call(self, x, offset=0.0):  # reads its variables with self.weight
          ...         return x * self.weight("s") + offset
          >>> model = js.transform(lambda x: Scale()(x, offset=1.0))
          >>> float(model.apply(model.init(0, 2.0), 2.0)[0])
          7.0
        """
        raise NotImplementedError

    # -- variables ---------------------------------------------------------------------------
    def add_weight(
        self,
        name: str,
        shape: Sequence[int] | None = None,
        dtype: Any = None,
        initializer: Any = None,
        regularizer: Callable | None = None,
        trainable: bool = True,
        constraint: Callable | None = None,
        partitioner: Any = None,
    ) -> jax.Array:
        """``get_variable`` in the layer's scope; trainable only if the layer is.

        Call it from `build`; TF1's ``add_variable`` is the same method. Without an
        initializer here or on the scope, a floating-point weight starts from
        ``glorot_uniform``, the default of every TF version that had ``tf.layers``
        (a bare `get_variable` keeps ``uniform_unit_scaling``). What the scope's custom
        getters return is what `weight` gives `call`.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> class Counting(js.layers.Layer):
          ...     def build(self, input_shape):
          ...         self.add_weight("w", [2])  # trainable: in variables["params"]
          ...         self.add_weight("count", [], dtype="int32", trainable=False)  # "state"
          ...     def call(self, x):
          ...         return x * self.weight("w")
          >>> variables = js.transform(lambda x: Counting()(x)).init(0, jnp.ones(2))
          >>> list(variables["params"]), list(variables["state"])
          (['counting/w'], ['counting/count'])
        """
        frame = current_frame(repr(self))
        scope = frame.current_scope
        dtype = dtype if dtype is not None else self.variable_dtype()
        if initializer is None and scope.initializer is None:
            initializer = _layer_default_initializer(dtype if dtype is not None else scope.dtype)
        arguments = dict(shape=shape, dtype=dtype, initializer=initializer,
                         regularizer=regularizer, trainable=trainable and self.trainable,
                         constraint=constraint, partitioner=partitioner)
        value = get_variable(name, **arguments)
        trace = frame.objects.get(self)
        if trace is not None:
            full = f"{scope.name}/{name}" if scope.name else name
            key = frame.store.get(full)
            stored = frame.values[key] if key is not None else None
            trace.reads[name] = _Read(arguments, key, stored, value, current_trace_state())
        return value

    add_variable = add_weight

    def variable_dtype(self) -> Any:
        """The layer's ``dtype``, else its input's if floating, else None (scope default).

        What `add_weight` uses when given no ``dtype``: TF1 sets a layer's dtype from
        its first input.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> class Scale(js.layers.Layer):
          ...     def build(self, input_shape):
          ...         self.add_weight("s", [])  # dtype: self.variable_dtype()
          ...     def call(self, x):
          ...         return x * self.weight("s")
          >>> model = js.transform(lambda x: Scale()(x))
          >>> model.init(0, jnp.ones(2, jnp.float16))["params"]["scale/s"].dtype
          dtype('float16')
        """
        if self.dtype is not None:
            return self.dtype
        dtype = _INPUT_DTYPE.get()
        return dtype if dtype is not None and jnp.issubdtype(dtype, jnp.floating) else None

    def weight(self, name: str) -> jax.Array:
        """The current value of this layer's variable ``name`` (inside `call`).

        Layers keep no arrays on ``self`` (values belong to one trace): `call`
        reads its variables through this, by the name given to `add_weight`. It is
        what the scope's custom getters returned for the variable (as TF1's
        ``self.kernel``); after a `js.assign` of the variable, or inside another JAX
        trace (a lifted body), the variable is read again through the getters.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> class Bias(js.layers.Layer):
          ...     def build(self, input_shape):
          ...         self.add_weight("b", [input_shape[-1]], initializer=js.ones_initializer())
          ...     def call(self, x):
          ...         return x + self.weight("b")  # TF1 kept self.b; here it is looked up
          >>> model = js.transform(lambda x: Bias()(x))
          >>> x = jnp.zeros(2)
          >>> model.apply(model.init(0, x), x)[0].tolist()
          [1.0, 1.0]
        """
        frame = current_frame(repr(self))
        trace = frame.objects.get(self)
        if trace is None or trace.scope is None:
            raise ValueError(f"{self!r} has no variables in this trace yet: call it first.")
        read = trace.reads.get(name)
        if read is None:
            full = f"{trace.scope.name}/{name}" if trace.scope.name else name
            raise ValueError(
                f"{self!r} has no variable {name!r} (looked for {full}); its build() "
                "creates variables with add_weight(name, ...)."
                + errors.did_you_mean(name, trace.reads)
            )
        if (read.key is not None and frame.values.get(read.key) is read.stored
                and read.trace_state == current_trace_state()):
            return read.value
        with variable_scope(trace.scope, reuse=True, auxiliary_name_scope=False):
            value = get_variable(name, **read.arguments)
        stored = frame.values[read.key] if read.key is not None else None
        trace.reads[name] = read._replace(stored=stored, value=value,
                                          trace_state=current_trace_state())
        return value

    # -- calling -------------------------------------------------------------------------------
    def _trace(self, frame: Frame) -> _LayerTrace:
        trace = frame.objects.get(self)
        if trace is None:
            trace = frame.objects[self] = _LayerTrace()
        return trace

    def _capture_scope(self, trace: _LayerTrace, scope: Any) -> None:
        requested = scope if scope is not None else self._scope_arg
        if requested is not None:
            with variable_scope(requested) as captured:
                trace.scope = captured
        elif self._reuse:
            with variable_scope(self._base_name) as captured:
                trace.scope = captured
        else:
            with variable_scope(None, default_name=self._base_name) as captured:
                trace.scope = captured

    def __call__(self, inputs: Any, *args: Any, scope: Any = None, **kwargs: Any) -> Any:
        """Run the layer: the first call in a trace builds its variables, later calls share them.

        ``scope`` (first call only) names the variable scope to capture instead of the
        layer's own unique one. ``layer.apply(...)`` is the same, as TF1.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> layer = js.layers.Dense(4, name="fc")  # TF1: tf.layers.Dense(4, name="fc")
          >>> def model(a, b):
          ...     return layer(a) + layer(b)  # the second call shares fc/kernel and fc/bias
          >>> x = jnp.ones([2, 3])
          >>> sorted(js.transform(model).init(0, x, x)["params"])
          ['fc/bias', 'fc/kernel']
        """
        frame = current_frame(repr(self))
        trace = self._trace(frame)
        if trace.scope is None:
            self._capture_scope(trace, scope)
        assert trace.scope is not None
        reuse = True if trace.built else self._reuse
        first = jax.tree.leaves(inputs)
        token = _INPUT_DTYPE.set(getattr(first[0], "dtype", None) if first else None)
        try:
            with variable_scope(trace.scope, reuse=reuse, auxiliary_name_scope=False):
                with name_scope(trace.scope.original_name_scope or None):
                    if not trace.built:
                        self.build(jax.tree.map(lambda x: getattr(x, "shape", None), inputs))
                        trace.built = True
                    return self.call(inputs, *args, **kwargs)
        finally:
            _INPUT_DTYPE.reset(token)

    apply = __call__

    # -- introspection (per trace, as Template) ----------------------------------------------
    @property
    def variable_scope(self) -> VariableScope | None:
        """The scope captured in the current trace (``None`` before the first call)."""
        frame = maybe_current_frame()
        trace = frame.objects.get(self) if frame is not None else None
        return trace.scope if trace is not None else None

    def _captured_prefix(self, frame: Frame) -> str | None:
        trace = frame.objects.get(self)
        if trace is None or trace.scope is None:
            return None
        return trace.scope.name + "/"
