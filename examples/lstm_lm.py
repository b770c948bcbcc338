"""A character-level LSTM language model, built as TF1's PTB tutorial builds one, in jaxscope.

The model is TF1 code with ``js.`` for ``tf.``: an ``embedding`` from ``get_variable``
read with ``embedding_lookup``, a ``MultiRNNCell`` of ``BasicLSTMCell``\\ s run by
``dynamic_rnn`` (a lifted ``js.scan``: the cells' variables are created once and shared
by every time step), and a ``softmax`` projection. TF1's PTB code builds its training
and validation models in ``variable_scope("Model", reuse=...)`` so they share
variables; here ``js.transform`` gives one ``init`` and one ``apply``, and ``apply`` on
any batch shape (a training batch, the whole validation text, one character at a
time for sampling) reads the same variables.

Training is truncated backpropagation through time as in the PTB tutorial: the text is
cut into ``--batch-size`` parallel streams, read ``--num-steps`` characters at a time,
the LSTM state carried from one window to the next. The text is the TensorFlow
documentation shipped in ``examples/data/``; the last ``--valid-fraction`` of it is held
out. The final line reports the validation perplexity per character next to a unigram
model's (character frequencies counted on the training text).

Run:  python examples/lstm_lm.py [--steps 1000] [--layers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm import tqdm

import jaxscope as js

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DEFAULT_FILES = ("sharing_variables_guide.txt", "variables_api_reference.txt")
UNKNOWN = "\ufffd"  # stands for validation characters the training text never shows


# -- data ------------------------------------------------------------------------------------
def load_text(paths) -> str:
    parts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            parts.append(f.read())
    return "\n\n".join(parts)


class Vocabulary:
    """Characters of the training text, plus UNKNOWN for any other."""

    def __init__(self, text: str):
        self.chars = [UNKNOWN, *sorted(set(text))]
        self.ids = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.ids.get(c, 0) for c in text], np.int32)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def unigram_perplexity(train_ids: np.ndarray, valid_ids: np.ndarray, vocab_size: int) -> float:
    """Perplexity on the validation text of character frequencies counted on the training
    text (add-one smoothed, so that every character has some probability)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    log_probs = np.log(counts / counts.sum())
    return float(np.exp(-log_probs[valid_ids].mean()))


def windows(ids: np.ndarray, batch_size: int, num_steps: int):
    """PTB's reader: ``batch_size`` contiguous streams, cut in windows of ``num_steps``.

    Yields ``(inputs, targets)`` pairs of shape [batch_size, num_steps], targets shifted
    by one character; consecutive windows continue each stream, so the LSTM state of one
    window is the right initial state of the next.
    """
    stream_len = (len(ids) - 1) // batch_size
    if stream_len < num_steps:
        raise ValueError(f"{len(ids)} characters are too few for {batch_size} streams of "
                         f"{num_steps} steps; lower --batch-size or --num-steps")
    data = ids[: batch_size * stream_len + 1]
    inputs = data[:-1].reshape(batch_size, stream_len)
    targets = data[1:].reshape(batch_size, stream_len)
    for start in range(0, stream_len - num_steps + 1, num_steps):
        yield inputs[:, start:start + num_steps], targets[:, start:start + num_steps]


# -- the model: TF1 code, js. for tf. ------------------------------------------------------
def make_language_model(vocab_size: int, hidden: int, layers: int):
    """The model as a transform, and the zero state its LSTM starts a stream with."""

    def lstm_cell(keep_prob: float):
        # As the PTB tutorial: dropout on each layer's output, only when training. The
        # wrapper opens no scope, so the variables' names are the same with or without it.
        cell = js.rnn.BasicLSTMCell(hidden)
        return cell if keep_prob >= 1 else js.rnn.DropoutWrapper(cell, output_keep_prob=keep_prob)

    @js.transform
    def language_model(inputs, initial_state, keep_prob: float = 1.0):
        """Character ids [batch, time] -> logits [batch, time, vocab], final LSTM state.

        ``keep_prob`` < 1 (training) needs ``rng=`` in ``apply``, for the dropout masks.
        """
        embedding = js.get_variable("embedding", [vocab_size, hidden])
        embedded = js.nn.embedding_lookup(embedding, inputs)
        if keep_prob < 1:
            embedded = js.nn.dropout(embedded, keep_prob)
        # Variables: rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel, ... created by the
        # first time step of the scan, shared by all the others.
        cell = js.rnn.MultiRNNCell([lstm_cell(keep_prob) for _ in range(layers)])
        outputs, state = js.rnn.dynamic_rnn(cell, embedded, initial_state=initial_state)
        with js.variable_scope("softmax"):
            softmax_w = js.get_variable("softmax_w", [hidden, vocab_size])
            softmax_b = js.get_variable("softmax_b", [vocab_size],
                                        initializer=js.zeros_initializer())
        return outputs @ softmax_w + softmax_b, state

    def zero_state(batch_size: int):
        # TF1: cell.zero_state(batch_size, tf.float32); a (c, h) pair per layer.
        cell = js.rnn.MultiRNNCell([js.rnn.BasicLSTMCell(hidden) for _ in range(layers)])
        return cell.zero_state(batch_size, jnp.float32)

    return language_model, zero_state


def cross_entropy(logits, targets):
    """Mean of tf.nn.sparse_softmax_cross_entropy_with_logits: nats per character."""
    return js.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits).mean()


def make_train_step(model, optimizer, keep_prob: float):
    def loss_fn(params, inputs, targets, state, key):
        (logits, state), _ = model.apply({"params": params, "state": {}}, inputs, state,
                                         keep_prob, rng=key)
        return cross_entropy(logits, targets), state

    @jax.jit
    def train_step(params, opt_state, inputs, targets, state, key):
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, inputs, targets, state, key
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        # The final state starts the next window; gradients stop at the window's edge.
        return optax.apply_updates(params, updates), opt_state, loss, state

    return train_step


def make_evaluate(model, zero_state):
    @jax.jit
    def evaluate(params, ids):
        """Perplexity per character of one long text, read in one pass from a zero state."""
        inputs, targets = ids[None, :-1], ids[None, 1:]
        (logits, _), _ = model.apply({"params": params, "state": {}}, inputs, zero_state(1))
        return jnp.exp(cross_entropy(logits, targets))

    return evaluate


def make_sampler(model, zero_state):
    @jax.jit
    def next_char(params, char_id, state, key, temperature):
        """One step: the same variables, read by a batch of one character."""
        (logits, state), _ = model.apply({"params": params, "state": {}},
                                         char_id.reshape(1, 1), state)
        return jax.random.categorical(key, logits[0, -1] / temperature), state

    def sample(params, vocab: Vocabulary, prompt: str, length: int, temperature: float,
               key) -> str:
        state, char_id = zero_state(1), None
        for char_id in vocab.encode(prompt):  # feed the prompt; keep its last prediction
            key, step_key = jax.random.split(key)
            predicted, state = next_char(params, jnp.asarray(char_id), state, step_key,
                                         temperature)
        out = []
        for _ in range(length):
            out.append(int(predicted))
            key, step_key = jax.random.split(key)
            predicted, state = next_char(params, predicted, state, step_key, temperature)
        return prompt + vocab.decode(out)

    return sample


# -- the script ------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps (default 1000)")
    parser.add_argument("--batch-size", type=int, default=32, help="parallel text streams")
    parser.add_argument("--num-steps", type=int, default=64,
                        help="characters per window (truncated backpropagation length)")
    parser.add_argument("--hidden", type=int, default=128, help="LSTM units (and embedding size)")
    parser.add_argument("--layers", type=int, default=1,
                        help="LSTM layers stacked in the MultiRNNCell (default 1)")
    parser.add_argument("--keep-prob", type=float, default=0.8,
                        help="dropout keep probability while training (1: no dropout)")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="Adam's step size")
    parser.add_argument("--max-grad-norm", type=float, default=5.0,
                        help="clip gradients to this global norm, as the PTB tutorial does")
    parser.add_argument("--valid-fraction", type=float, default=0.1,
                        help="share of the text held out for validation (its end)")
    parser.add_argument("--data", nargs="+",
                        default=[os.path.join(DATA_DIR, name) for name in DEFAULT_FILES],
                        help="text files to train on (default: the TensorFlow docs in "
                             "examples/data)")
    parser.add_argument("--eval-every", type=int, default=200,
                        help="report validation perplexity every this many steps (0: never)")
    parser.add_argument("--sample-length", type=int, default=200,
                        help="characters to sample after training (0: none)")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="sampling temperature (default 0.8; lower repeats itself)")
    parser.add_argument("--seed", type=int, default=0, help="seed of variables and sampling")
    parser.add_argument("--workdir", default=None,
                        help="where the checkpoint goes (default: a fresh temporary folder)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "num_steps", "hidden", "layers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.keep_prob <= 1:
        parser.error("--keep-prob must be in (0, 1]")
    if not 0 < args.valid_fraction < 1:
        parser.error("--valid-fraction must be between 0 and 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="lstm_lm_")
    os.makedirs(workdir, exist_ok=True)

    text = load_text(args.data)
    split = int(len(text) * (1 - args.valid_fraction))
    train_text, valid_text = text[:split], text[split:]
    vocab = Vocabulary(train_text)
    train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text)
    unigram = unigram_perplexity(train_ids, valid_ids, len(vocab))
    print(f"text: {len(train_text):,} training and {len(valid_text):,} validation characters, "
          f"{len(vocab)} symbols; unigram validation perplexity {unigram:.2f}")

    model, zero_state = make_language_model(len(vocab), args.hidden, args.layers)
    first_inputs, _ = next(windows(train_ids, args.batch_size, args.num_steps))
    key, init_key = jax.random.split(jax.random.key(args.seed))
    variables = model.init(init_key, first_inputs, zero_state(args.batch_size))
    print(js.summary(variables))
    params = variables["params"]

    optimizer = optax.chain(optax.clip_by_global_norm(args.max_grad_norm),
                            optax.adam(args.learning_rate))
    opt_state = optimizer.init(params)
    train_step = make_train_step(model, optimizer, args.keep_prob)
    evaluate = make_evaluate(model, zero_state)
    valid = jnp.asarray(valid_ids)
    untrained = float(evaluate(params, valid))

    train_windows = list(windows(train_ids, args.batch_size, args.num_steps))
    with tqdm(range(args.steps), desc="training", unit="step") as bar:
        for step in bar:
            position = step % len(train_windows)
            if position == 0:  # the streams start over: so does the LSTM state
                state = zero_state(args.batch_size)
            inputs, targets = train_windows[position]
            key, step_key = jax.random.split(key)
            params, opt_state, loss, state = train_step(params, opt_state, inputs, targets,
                                                        state, step_key)
            if step % 50 == 0 or step == args.steps - 1:
                bar.set_postfix(train_perplexity=f"{float(jnp.exp(loss)):.2f}")
            if args.eval_every and (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
                bar.write(f"step {step + 1}: validation perplexity "
                          f"{float(evaluate(params, valid)):.2f}")

    path = js.train.Saver().save({"params": params, "state": {}},
                                 os.path.join(workdir, "lstm_lm.ckpt"), args.steps)
    print(f"\ncheckpoint: {path}")
    if args.sample_length > 0:
        sample = make_sampler(model, zero_state)
        text = sample(params, vocab, "with tf.variable_scope(", args.sample_length,
                      args.temperature, jax.random.key(args.seed))
        print(f"sample (temperature {args.temperature}):\n{text}\n")
    perplexity = float(evaluate(params, valid))
    print(f"untrained validation perplexity {untrained:.2f} ({len(vocab)} symbols)")
    print(f"final: validation perplexity {perplexity:.2f} after {args.steps} steps "
          f"(unigram baseline {unigram:.2f})")


if __name__ == "__main__":
    main()
