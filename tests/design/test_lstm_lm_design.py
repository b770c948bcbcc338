"""A character-level LSTM language model, as TF1's PTB tutorial builds one, in jaxscope.

``embedding`` from ``get_variable`` and ``embedding_lookup``, a two-layer
``MultiRNNCell`` of ``BasicLSTMCell`` run by ``dynamic_rnn`` (a lifted scan: the
cells' variables are created once and shared by every step), and a ``softmax``
projection; trained a few steps with optax, perplexity goes down.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxscope as js

TEXT = (
    "Variable scope mechanism in TensorFlow consists of two main functions: get_variable "
    "creates or returns a variable with a given name, and variable_scope manages "
    "namespaces for names passed to get_variable. "
) * 4
VOCAB = sorted(set(TEXT))
IDS = np.array([VOCAB.index(c) for c in TEXT], np.int32)
BATCH, STEPS, HIDDEN = 4, 20, 32

cell = js.rnn.MultiRNNCell([js.rnn.BasicLSTMCell(HIDDEN), js.rnn.BasicLSTMCell(HIDDEN)])


@js.transform
def language_model(inputs):
    embedding = js.get_variable("embedding", [len(VOCAB), HIDDEN])
    embedded = js.nn.embedding_lookup(embedding, inputs)
    outputs, _ = js.rnn.dynamic_rnn(cell, embedded, dtype=jnp.float32)
    with js.variable_scope("softmax"):
        w = js.get_variable("softmax_w", [HIDDEN, len(VOCAB)])
        b = js.get_variable("softmax_b", [len(VOCAB)], initializer=js.zeros_initializer)
    return outputs @ w + b


def batch(offset):
    starts = offset + np.arange(BATCH) * 37
    windows = np.stack([IDS[s:s + STEPS + 1] for s in starts])
    return jnp.asarray(windows[:, :-1]), jnp.asarray(windows[:, 1:])


def loss_fn(params, inputs, targets):
    logits, _ = language_model.apply({"params": params, "state": {}}, inputs)
    return jnp.mean(js.nn.sparse_softmax_cross_entropy_with_logits(labels=targets,
                                                                   logits=logits))


def test_variables_are_named_as_tf1():
    inputs, _ = batch(0)
    variables = language_model.init(jax.random.key(0), inputs)
    assert list(variables["params"]) == [
        "embedding",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
        "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias",
        "softmax/softmax_w",
        "softmax/softmax_b",
    ]
    kernel = variables["params"]["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel"]
    assert kernel.shape == (2 * HIDDEN, 4 * HIDDEN)


def test_perplexity_goes_down():
    inputs, _ = batch(0)
    params = language_model.init(jax.random.key(0), inputs)["params"]
    optimizer = optax.adam(2e-2)
    opt_state = optimizer.init(params)

    @jax.jit
    def step(params, opt_state, inputs, targets):
        loss, grads = jax.value_and_grad(loss_fn)(params, inputs, targets)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    perplexities = []
    for i in range(40):
        params, opt_state, loss = step(params, opt_state, *batch(i * 3))
        perplexities.append(float(jnp.exp(loss)))
    assert perplexities[0] > len(VOCAB) * 0.5  # starts near uniform guessing
    assert perplexities[-1] < 0.6 * perplexities[0]
