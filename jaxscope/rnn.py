"""TF1 RNN cells and loops (``tf.nn.rnn_cell``, ``tf.nn.dynamic_rnn``) with TF1's variable names.

Cells are `Layer`\\ s: the first call in a trace creates ``<scope>/<cell name>/kernel``
and friends, later calls share them. `dynamic_rnn` runs the cell with `js.scan`
(compile time does not grow with the sequence), zeroes outputs and freezes the
state past each example's ``sequence_length``, as TF1 does.

Example:
  >>> import jax.numpy as jnp, jaxscope as js
  >>> cell = js.rnn.BasicLSTMCell(8)  # TF1: tf.nn.rnn_cell.BasicLSTMCell(8)
  >>> def model(x):
  ...     outputs, state = js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)
  ...     return outputs.shape, state.h.shape
  >>> model = js.transform(model)
  >>> x = jnp.ones([2, 5, 3])  # [batch, time, features]
  >>> variables = model.init(0, x)
  >>> list(variables["params"]), model.apply(variables, x)[0]
  (['rnn/basic_lstm_cell/kernel', 'rnn/basic_lstm_cell/bias'], ((2, 5, 8), (2, 8)))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxscope.initializers import Constant, Zeros
from jaxscope.layers.base import Layer
from jaxscope.lift import scan
from jaxscope.scope import VariableScope, variable_scope
from jaxscope.transform import next_rng_key


class LSTMStateTuple(NamedTuple):
    """An LSTM state: the cell ``c`` and the output ``h`` (TF1's tuple order).

    Example:
      >>> import jaxscope as js
      >>> state = js.rnn.BasicLSTMCell(4).zero_state(2)  # an LSTMStateTuple of zeros
      >>> state.c.shape, state.h.shape
      ((2, 4), (2, 4))
      >>> js.rnn.LSTMCell(4, num_proj=3).state_size
      LSTMStateTuple(c=4, h=3)
    """

    c: jax.Array
    h: jax.Array


def _concat(inputs: jax.Array, state: jax.Array) -> jax.Array:
    return jnp.concatenate([inputs, state], axis=-1)


class RNNCell(Layer):
    """Base of RNN cells: ``cell(inputs, state) -> (output, new_state)``.

    A subclass gives `state_size` and `output_size`, creates its variables in `build`
    and computes one step in ``call(inputs, state)``, as TF1's ``tf.nn.rnn_cell.RNNCell``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> class Accumulator(js.rnn.RNNCell):  # state += inputs @ w
      ...     state_size = output_size = 2
      ...     def build(self, input_shape):
      ...         self.add_weight("w", [input_shape[-1], 2], initializer=js.ones_initializer())
      ...     def call(self, inputs, state):
      ...         new_state = state + inputs @ self.weight("w")
      ...         return new_state, new_state
      >>> cell = Accumulator()
      >>> model = js.transform(lambda x: js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[1])
      >>> x = jnp.ones([1, 3, 1])  # 3 steps of input 1.0
      >>> model.apply(model.init(0, x), x)[0].tolist()
      [[3.0, 3.0]]
    """

    @property
    def state_size(self) -> Any:
        """The state's size per example: an int, or a (nested) tuple of them."""
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        """The output's size per example."""
        raise NotImplementedError

    def zero_state(self, batch_size: int, dtype: Any = jnp.float32) -> Any:
        """Zeros shaped like the state, for ``batch_size`` examples.

        Example:
          >>> import jax, jaxscope as js
          >>> js.rnn.GRUCell(4).zero_state(2).shape  # TF1: cell.zero_state(2, tf.float32)
          (2, 4)
          >>> cell = js.rnn.MultiRNNCell([js.rnn.BasicLSTMCell(3), js.rnn.GRUCell(2)])
          >>> [x.shape for x in jax.tree.leaves(cell.zero_state(5))]  # ((c, h), h)
          [(5, 3), (5, 3), (5, 2)]
        """
        return jax.tree.map(lambda size: jnp.zeros((batch_size, size), dtype),
                            self.state_size)

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        """One step: ``(output, new_state)``; the first call creates the cell's variables.

        Called in a scope, the cell's variables go under it (`dynamic_rnn` opens
        ``rnn``); later calls in the same trace share them.

        Example:
          >>> import jax.numpy as jnp, jaxscope as js
          >>> cell = js.rnn.BasicRNNCell(3)
          >>> def two_steps(x):
          ...     with js.variable_scope("rnn"):
          ...         output, state = cell(x, cell.zero_state(1))  # TF1: the same call
          ...         output, state = cell(x, state)  # shares rnn/basic_rnn_cell/kernel
          ...     return output.shape
          >>> model = js.transform(two_steps)
          >>> x = jnp.ones([1, 2])
          >>> variables = model.init(0, x)
          >>> list(variables["params"]), model.apply(variables, x)[0]
          (['rnn/basic_rnn_cell/kernel', 'rnn/basic_rnn_cell/bias'], (1, 3))
        """
        return super().__call__(inputs, state, scope=scope)


class BasicRNNCell(RNNCell):
    """``output = new_state = activation(concat([x, h]) @ kernel + bias)``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.BasicRNNCell(3)
      >>> def step(x):
      ...     with js.variable_scope("rnn"):
      ...         return cell(x, cell.zero_state(1))
      >>> list(js.transform(step).init(0, jnp.ones([1, 2]))["params"])
      ['rnn/basic_rnn_cell/kernel', 'rnn/basic_rnn_cell/bias']
    """

    def __init__(self, num_units: int, activation: Callable | None = None, reuse: Any = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype, _reuse=reuse)
        self._num_units = num_units
        self._activation = activation or jnp.tanh

    @property
    def state_size(self) -> int:
        """``num_units``."""
        return self._num_units

    @property
    def output_size(self) -> int:
        """``num_units``."""
        return self._num_units

    def build(self, input_shape: Any) -> None:
        depth = input_shape[-1]
        self.add_weight("kernel", [depth + self._num_units, self._num_units])
        self.add_weight("bias", [self._num_units], initializer=Zeros())

    def call(self, inputs: jax.Array, state: jax.Array) -> tuple[jax.Array, jax.Array]:
        out = self._activation(_concat(inputs, state) @ self.weight("kernel")
                               + self.weight("bias"))
        return out, out


class BasicLSTMCell(RNNCell):
    """TF1's basic LSTM: gates ``i, j, f, o`` from one kernel; ``forget_bias`` added to ``f``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.BasicLSTMCell(5)
      >>> def model(x):
      ...     return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]
      >>> variables = js.transform(model).init(0, jnp.ones([3, 7, 4]))
      >>> {k: v.shape for k, v in variables["params"].items()}
      {'rnn/basic_lstm_cell/kernel': (9, 20), 'rnn/basic_lstm_cell/bias': (20,)}
    """

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation: Callable | None = None, reuse: Any = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype, _reuse=reuse)
        if not state_is_tuple:
            raise ValueError("state_is_tuple=False (concatenated LSTM states) is deprecated in "
                             "TF1 and not supported; the state is an LSTMStateTuple(c, h).")
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._activation = activation or jnp.tanh

    @property
    def state_size(self) -> LSTMStateTuple:
        """``LSTMStateTuple(c=num_units, h=num_units)``."""
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self) -> int:
        """``num_units``."""
        return self._num_units

    def build(self, input_shape: Any) -> None:
        depth = input_shape[-1]
        self.add_weight("kernel", [depth + self._num_units, 4 * self._num_units])
        self.add_weight("bias", [4 * self._num_units], initializer=Zeros())

    def call(self, inputs: jax.Array, state: LSTMStateTuple) -> tuple[jax.Array, LSTMStateTuple]:
        c, h = state
        gates = _concat(inputs, h) @ self.weight("kernel") + self.weight("bias")
        i, j, f, o = jnp.split(gates, 4, axis=-1)
        new_c = c * jax.nn.sigmoid(f + self._forget_bias) + jax.nn.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * jax.nn.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


class LSTMCell(RNNCell):
    """TF1's full LSTM: optional peepholes, cell clipping and an output projection.

    Variables: ``kernel``, ``bias``, and ``w_f_diag``/``w_i_diag``/``w_o_diag``
    with ``use_peepholes``, ``projection/kernel`` with ``num_proj``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.LSTMCell(5, use_peepholes=True, num_proj=3)
      >>> def model(x):
      ...     return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]
      >>> list(js.transform(model).init(0, jnp.ones([3, 7, 4]))["params"])[2:]
      ['rnn/lstm_cell/w_f_diag', 'rnn/lstm_cell/w_i_diag', 'rnn/lstm_cell/w_o_diag', \
'rnn/lstm_cell/projection/kernel']
    """

    def __init__(self, num_units: int, use_peepholes: bool = False,
                 cell_clip: float | None = None, initializer: Any = None,
                 num_proj: int | None = None, proj_clip: float | None = None,
                 forget_bias: float = 1.0, state_is_tuple: bool = True,
                 activation: Callable | None = None, reuse: Any = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype, _reuse=reuse)
        if not state_is_tuple:
            raise ValueError("state_is_tuple=False is not supported; the state is an "
                             "LSTMStateTuple(c, h).")
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._activation = activation or jnp.tanh

    @property
    def state_size(self) -> LSTMStateTuple:
        """``LSTMStateTuple(c=num_units, h=num_proj or num_units)``."""
        return LSTMStateTuple(self._num_units, self._num_proj or self._num_units)

    @property
    def output_size(self) -> int:
        """``num_proj`` if given, else ``num_units``."""
        return self._num_proj or self._num_units

    def build(self, input_shape: Any) -> None:
        depth = input_shape[-1]
        h_depth = self._num_proj or self._num_units
        self.add_weight("kernel", [depth + h_depth, 4 * self._num_units],
                        initializer=self._initializer)
        self.add_weight("bias", [4 * self._num_units], initializer=Zeros())
        if self._use_peepholes:
            for name in ("w_f_diag", "w_i_diag", "w_o_diag"):
                self.add_weight(name, [self._num_units], initializer=self._initializer)
        if self._num_proj is not None:
            self.add_weight("projection/kernel", [self._num_units, self._num_proj],
                            initializer=self._initializer)

    def call(self, inputs: jax.Array, state: LSTMStateTuple) -> tuple[jax.Array, LSTMStateTuple]:
        c_prev, m_prev = state
        gates = _concat(inputs, m_prev) @ self.weight("kernel") + self.weight("bias")
        i, j, f, o = jnp.split(gates, 4, axis=-1)
        sigmoid, act = jax.nn.sigmoid, self._activation
        if self._use_peepholes:
            w_f, w_i, w_o = (self.weight(n) for n in ("w_f_diag", "w_i_diag", "w_o_diag"))
            c = (sigmoid(f + self._forget_bias + w_f * c_prev) * c_prev
                 + sigmoid(i + w_i * c_prev) * act(j))
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = jnp.clip(c, -self._cell_clip, self._cell_clip)
        m = sigmoid(o + w_o * c) * act(c) if self._use_peepholes else sigmoid(o) * act(c)
        if self._num_proj is not None:
            m = m @ self.weight("projection/kernel")
            if self._proj_clip is not None:
                m = jnp.clip(m, -self._proj_clip, self._proj_clip)
        return m, LSTMStateTuple(c, m)


class GRUCell(RNNCell):
    """TF1's GRU: ``gates`` (r, u) then ``candidate`` acting on ``concat([x, r * h])``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.GRUCell(5)
      >>> def model(x):
      ...     return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]
      >>> variables = js.transform(model).init(0, jnp.ones([3, 7, 4]))
      >>> variables["params"]["rnn/gru_cell/gates/bias"][0].item()
      1.0
    """

    def __init__(self, num_units: int, activation: Callable | None = None, reuse: Any = None,
                 kernel_initializer: Any = None, bias_initializer: Any = None,
                 name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype, _reuse=reuse)
        self._num_units = num_units
        self._activation = activation or jnp.tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self) -> int:
        """``num_units``."""
        return self._num_units

    @property
    def output_size(self) -> int:
        """``num_units``."""
        return self._num_units

    def build(self, input_shape: Any) -> None:
        depth, units = input_shape[-1], self._num_units
        self.add_weight("gates/kernel", [depth + units, 2 * units],
                        initializer=self._kernel_initializer)
        self.add_weight("gates/bias", [2 * units],
                        initializer=self._bias_initializer or Constant(1.0))
        self.add_weight("candidate/kernel", [depth + units, units],
                        initializer=self._kernel_initializer)
        self.add_weight("candidate/bias", [units], initializer=self._bias_initializer or Zeros())

    def call(self, inputs: jax.Array, state: jax.Array) -> tuple[jax.Array, jax.Array]:
        gates = jax.nn.sigmoid(_concat(inputs, state) @ self.weight("gates/kernel")
                               + self.weight("gates/bias"))
        r, u = jnp.split(gates, 2, axis=-1)
        candidate = self._activation(_concat(inputs, r * state) @ self.weight("candidate/kernel")
                                     + self.weight("candidate/bias"))
        new_h = u * state + (1 - u) * candidate
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Cells stacked in layers: ``multi_rnn_cell/cell_0/...``, ``cell_1/...``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.MultiRNNCell([js.rnn.GRUCell(4), js.rnn.GRUCell(4)])
      >>> def model(x):
      ...     return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]
      >>> list(js.transform(model).init(0, jnp.ones([2, 3, 4]))["params"])[0]
      'rnn/multi_rnn_cell/cell_0/gru_cell/gates/kernel'
    """

    def __init__(self, cells: Sequence[RNNCell], state_is_tuple: bool = True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not state_is_tuple:
            raise ValueError("state_is_tuple=False is not supported.")
        self._cells = list(cells)

    @property
    def state_size(self) -> tuple[Any, ...]:
        """A tuple of the cells' state sizes, bottom cell first."""
        return tuple(cell.state_size for cell in self._cells)

    @property
    def output_size(self) -> int:
        """The top cell's output size."""
        return self._cells[-1].output_size

    def zero_state(self, batch_size: int, dtype: Any = jnp.float32) -> tuple[Any, ...]:
        """A tuple of the cells' zero states, bottom cell first."""
        return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)

    def call(self, inputs: jax.Array, state: tuple[Any, ...]) -> tuple[jax.Array, tuple]:
        new_states = []
        for i, (cell, cell_state) in enumerate(zip(self._cells, state)):
            with variable_scope(f"cell_{i}"):
                inputs, new_state = cell(inputs, cell_state)
            new_states.append(new_state)
        return inputs, tuple(new_states)


class DropoutWrapper(RNNCell):
    """Dropout on a cell's inputs, outputs and state (keep probabilities, as TF1).

    A wrapper opens no scope: the wrapped cell's variables keep their names.
    Keys come from `js.next_rng_key` (give ``rng=`` to ``apply``); keep
    probabilities of 1 skip dropout entirely.

    Example:
      >>> import jax, jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.DropoutWrapper(js.rnn.GRUCell(4), output_keep_prob=0.5)
      >>> def model(x):
      ...     return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]
      >>> model = js.transform(model)
      >>> x = jnp.ones([2, 6, 3])
      >>> variables = model.init(jax.random.key(0), x)  # init's rng also feeds dropout
      >>> list(variables["params"])[0]  # the wrapped cell's own name
      'rnn/gru_cell/gates/kernel'
      >>> outputs, _ = model.apply(variables, x, rng=jax.random.key(1))  # dropout keys
      >>> outputs.shape, bool((outputs == 0).any())  # about half the outputs dropped
      ((2, 6, 4), True)
    """

    def __init__(self, cell: RNNCell, input_keep_prob: float = 1.0,
                 output_keep_prob: float = 1.0, state_keep_prob: float = 1.0,
                 seed: int | None = None):
        super().__init__()
        for name, prob in (("input", input_keep_prob), ("output", output_keep_prob),
                           ("state", state_keep_prob)):
            if not 0.0 < prob <= 1.0:
                raise ValueError(f"Parameter {name}_keep_prob must be between 0 and 1: {prob}")
        self._cell = cell
        self._keep = (input_keep_prob, output_keep_prob, state_keep_prob)
        self._seed = seed

    @property
    def state_size(self) -> Any:
        """The wrapped cell's state size."""
        return self._cell.state_size

    @property
    def output_size(self) -> int:
        """The wrapped cell's output size."""
        return self._cell.output_size

    def zero_state(self, batch_size: int, dtype: Any = jnp.float32) -> Any:
        """The wrapped cell's zero state."""
        return self._cell.zero_state(batch_size, dtype)

    def _dropout(self, x: Any, keep: float) -> Any:
        if keep >= 1.0:
            return x

        def drop(leaf: jax.Array) -> jax.Array:
            key = next_rng_key()
            if self._seed is not None:
                key = jax.random.fold_in(key, self._seed)
            mask = jax.random.bernoulli(key, keep, leaf.shape)
            return jnp.where(mask, leaf / keep, jnp.zeros_like(leaf))

        return jax.tree.map(drop, x)

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> tuple[Any, Any]:
        """One step of the wrapped cell, with dropout on its inputs, output and new state."""
        inputs = self._dropout(inputs, self._keep[0])
        output, new_state = self._cell(inputs, state, scope=scope)
        return self._dropout(output, self._keep[1]), self._dropout(new_state, self._keep[2])


# -- loops ---------------------------------------------------------------------------------------
def _batch_size(inputs: Any, time_major: bool) -> int:
    return int(jax.tree.leaves(inputs)[0].shape[1 if time_major else 0])


def _initial_state(cell: RNNCell, inputs: Any, initial_state: Any, dtype: Any,
                   time_major: bool) -> Any:
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    return cell.zero_state(_batch_size(inputs, time_major), dtype)


def _mask_past_length(step: jax.Array, lengths: jax.Array | None, new: Any, old: Any,
                      output: jax.Array) -> tuple[Any, jax.Array]:
    """TF1's copy-through: past its length an example keeps its state and outputs zeros."""
    if lengths is None:
        return new, output
    alive = step < lengths

    def pick(a: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.where(alive.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)

    return jax.tree.map(pick, new, old), pick(output, jnp.zeros_like(output))


def dynamic_rnn(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    swap_memory: bool = False,
    time_major: bool = False,
    scope: str | VariableScope | None = None,
) -> tuple[Any, Any]:
    """Run ``cell`` over the time axis with `js.scan`, as ``tf.nn.dynamic_rnn``.

    Returns ``(outputs, final_state)``; ``outputs`` are batch-major unless
    ``time_major``. Variables live under ``scope`` (default ``"rnn"``).
    ``parallel_iterations`` and ``swap_memory`` are accepted for TF1 parity.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.BasicRNNCell(2)
      >>> def model(x, lengths):
      ...     return js.rnn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=jnp.float32)
      >>> m = js.transform(model)
      >>> x, lengths = jnp.ones([2, 4, 3]), jnp.array([4, 1])
      >>> (outputs, state), _ = m.apply(m.init(0, x, lengths), x, lengths)
      >>> outputs.shape, bool((outputs[1, 1:] == 0).all())
      ((2, 4, 2), True)
    """
    del parallel_iterations, swap_memory
    with variable_scope(scope or "rnn"):
        state = _initial_state(cell, inputs, initial_state, dtype, time_major)
        if not time_major:
            inputs = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), inputs)
        lengths = None if sequence_length is None else jnp.asarray(sequence_length)
        # The step index is needed only to mask past each example's length.
        steps = None if lengths is None else jnp.arange(jax.tree.leaves(inputs)[0].shape[0])

        def step(carry: Any, x_and_t: Any) -> tuple[Any, Any]:
            x, t = x_and_t
            output, new_state = cell(x, carry)
            return _mask_past_length(t, lengths, new_state, carry, output)

        final_state, outputs = scan(step, state, (inputs, steps))
    if not time_major:
        outputs = jax.tree.map(lambda y: jnp.swapaxes(y, 0, 1), outputs)
    return outputs, final_state


def static_rnn(
    cell: RNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: str | VariableScope | None = None,
) -> tuple[list[Any], Any]:
    """Unroll ``cell`` over a Python list of time steps, as ``tf.nn.static_rnn``.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> cell = js.rnn.GRUCell(2)
      >>> def model(xs):
      ...     return js.rnn.static_rnn(cell, xs, dtype=jnp.float32)[0]
      >>> xs = [jnp.ones([1, 3])] * 4
      >>> list(js.transform(model).init(0, xs)["params"])[0]
      'rnn/gru_cell/gates/kernel'
    """
    if not inputs:
        raise ValueError("inputs must not be empty")
    with variable_scope(scope or "rnn") as varscope:
        state = initial_state
        if state is None:
            if dtype is None:
                raise ValueError("If no initial_state is provided, dtype must be specified")
            state = cell.zero_state(int(jax.tree.leaves(inputs[0])[0].shape[0]), dtype)
        lengths = None if sequence_length is None else jnp.asarray(sequence_length)
        outputs = []
        for t, x in enumerate(inputs):
            if t > 0:
                varscope.reuse_variables()
            output, new_state = cell(x, state)
            state, output = _mask_past_length(jnp.asarray(t), lengths, new_state, state, output)
            outputs.append(output)
    return outputs, state


def _reverse(inputs: Any, lengths: jax.Array | None, time_axis: int) -> Any:
    """Reverse the time axis, only the first ``length`` steps of each example (as TF1)."""
    if lengths is None:
        return jax.tree.map(lambda x: jnp.flip(x, axis=time_axis), inputs)
    batch_axis = 1 - time_axis

    def reverse(x: jax.Array) -> jax.Array:
        steps = x.shape[time_axis]
        t = jnp.arange(steps)
        per_example = jnp.where(t[None, :] < lengths[:, None],
                                lengths[:, None] - 1 - t[None, :], t[None, :])
        index = per_example if batch_axis == 0 else per_example.T
        index = index.reshape(index.shape + (1,) * (x.ndim - 2))
        return jnp.take_along_axis(x, index, axis=time_axis)

    return jax.tree.map(reverse, inputs)


def bidirectional_dynamic_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    parallel_iterations: int | None = None,
    swap_memory: bool = False,
    time_major: bool = False,
    scope: str | VariableScope | None = None,
) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """Forward and backward `dynamic_rnn` under ``bidirectional_rnn/fw`` and ``.../bw``.

    Returns ``((outputs_fw, outputs_bw), (state_fw, state_bw))``; the backward
    outputs are re-reversed so both are aligned with the inputs.

    Example:
      >>> import jax.numpy as jnp, jaxscope as js
      >>> fw, bw = js.rnn.GRUCell(2), js.rnn.GRUCell(2)
      >>> def model(x):
      ...     return js.rnn.bidirectional_dynamic_rnn(fw, bw, x, dtype=jnp.float32)[0]
      >>> sorted(js.transform(model).init(0, jnp.ones([1, 3, 2]))["params"])[0]
      'bidirectional_rnn/bw/gru_cell/candidate/bias'
    """
    del parallel_iterations, swap_memory
    lengths = None if sequence_length is None else jnp.asarray(sequence_length)
    time_axis = 0 if time_major else 1
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = dynamic_rnn(cell_fw, inputs, lengths, initial_state_fw, dtype,
                                           time_major=time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse(inputs, lengths, time_axis)
            out_bw, state_bw = dynamic_rnn(cell_bw, reversed_inputs, lengths, initial_state_bw,
                                           dtype, time_major=time_major, scope=bw_scope)
    out_bw = _reverse(out_bw, lengths, time_axis)
    return (out_fw, out_bw), (state_fw, state_bw)


__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "DropoutWrapper",
    "GRUCell",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "RNNCell",
    "bidirectional_dynamic_rnn",
    "dynamic_rnn",
    "static_rnn",
]
