"""RNN cells and loops against ``fixtures/tf_ops/rnn_cells``, written by real TensorFlow."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tf_ops"
if not (FIXTURES / "rnn_cells.json").exists():
    pytest.skip(f"TF fixtures not found under {FIXTURES}", allow_module_level=True)
CASES = {c["name"]: c for c in json.loads((FIXTURES / "rnn_cells.json").read_text())["cases"]}
DATA = np.load(FIXTURES / "rnn_cells.npz")


def make_cell(attrs):
    units = attrs["num_units"]
    if attrs["cell"] == "BasicLSTMCell":
        return js.rnn.BasicLSTMCell(units, forget_bias=attrs["forget_bias"])
    if attrs["cell"] == "LSTMCell":
        return js.rnn.LSTMCell(units, use_peepholes=attrs.get("use_peepholes", False),
                               num_proj=attrs.get("num_proj"), cell_clip=attrs.get("cell_clip"),
                               proj_clip=attrs.get("proj_clip"))
    return js.rnn.GRUCell(units)


def tensor(case, name):
    key = f"{case}/{name}"
    return jnp.asarray(DATA[key]) if key in DATA.files else None


@pytest.mark.parametrize("name", sorted(CASES))
def test_dynamic_rnn_reproduces_tensorflow(name):
    case = CASES[name]
    attrs = case["attrs"]
    cell = make_cell(attrs)
    inputs = tensor(name, "input")
    lengths = tensor(name, "sequence_length")
    c0, h0 = tensor(name, "initial_state_c"), tensor(name, "initial_state_h")
    lstm = attrs["cell"] != "GRUCell"
    initial = None if h0 is None else (js.rnn.LSTMStateTuple(c0, h0) if lstm else h0)

    def model(x):
        def run():
            return js.rnn.dynamic_rnn(cell, x, sequence_length=lengths, initial_state=initial,
                                      dtype=jnp.float32)
        if attrs["variable_scope"]:
            with js.variable_scope(attrs["variable_scope"]):
                return run()
        return run()

    transformed = js.transform(model)
    variables = transformed.init(jax.random.key(0), inputs)
    names = list(variables["params"])
    assert names == case["variable_names"]
    # Each bias starts at TF's own initial value (LSTM 0, GRU gates 1, candidate 0).
    for var, values in case["default_bias_init_values"].items():
        assert np.unique(np.asarray(variables["params"][var])).tolist() == values

    params = {var: tensor(name, f"var/{var}") for var in names}
    (outputs, state), _ = jax.jit(transformed.apply)({"params": params, "state": {}}, inputs)
    np.testing.assert_allclose(outputs, DATA[f"{name}/outputs"], rtol=1e-5, atol=1e-6)
    final_h = state.h if lstm else state
    np.testing.assert_allclose(final_h, DATA[f"{name}/final_state_h"], rtol=1e-5, atol=1e-6)
    if lstm:
        np.testing.assert_allclose(state.c, DATA[f"{name}/final_state_c"], rtol=1e-5, atol=1e-6)


def test_static_rnn_equals_dynamic_rnn_and_shares_one_set_of_variables():
    cell = js.rnn.BasicLSTMCell(3)
    x = jax.random.normal(jax.random.key(1), (2, 5, 4))
    lengths = jnp.array([5, 2])

    def dynamic(x):
        return js.rnn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=jnp.float32)

    def static(x):
        outs, state = js.rnn.static_rnn(cell, [x[:, t] for t in range(5)],
                                        sequence_length=lengths, dtype=jnp.float32)
        return jnp.stack(outs, axis=1), state

    variables = js.transform(dynamic).init(0, x)
    assert list(js.transform(static).init(0, x)["params"]) == list(variables["params"])
    (out_d, state_d), _ = js.transform(dynamic).apply(variables, x)
    (out_s, state_s), _ = js.transform(static).apply(variables, x)
    np.testing.assert_allclose(out_s, out_d, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(state_s.h, state_d.h, rtol=1e-6, atol=1e-6)
    assert bool((out_d[1, 2:] == 0).all())


def test_time_major_and_multi_rnn_cell_names():
    cell = js.rnn.MultiRNNCell([js.rnn.BasicLSTMCell(3), js.rnn.GRUCell(2)])
    x = jnp.ones((4, 2, 3))  # time, batch, features

    def model(x):
        return js.rnn.dynamic_rnn(cell, x, time_major=True, dtype=jnp.float32)

    m = js.transform(model)
    variables = m.init(0, x)
    assert list(variables["params"]) == [
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
        "rnn/multi_rnn_cell/cell_1/gru_cell/gates/kernel",
        "rnn/multi_rnn_cell/cell_1/gru_cell/gates/bias",
        "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/kernel",
        "rnn/multi_rnn_cell/cell_1/gru_cell/candidate/bias",
    ]
    (outputs, (lstm_state, gru_state)), _ = m.apply(variables, x)
    assert outputs.shape == (4, 2, 2) and lstm_state.c.shape == (2, 3)
    np.testing.assert_allclose(outputs[-1], gru_state, rtol=1e-6)


def test_bidirectional_rnn_reverses_within_each_length():
    fw, bw = js.rnn.BasicRNNCell(2, name="fw_cell"), js.rnn.BasicRNNCell(2, name="bw_cell")
    x = jax.random.normal(jax.random.key(2), (2, 4, 3))
    lengths = jnp.array([4, 2])

    def model(x):
        return js.rnn.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=lengths,
                                                dtype=jnp.float32)

    m = js.transform(model)
    variables = m.init(0, x)
    assert sorted(variables["params"]) == [
        "bidirectional_rnn/bw/bw_cell/bias", "bidirectional_rnn/bw/bw_cell/kernel",
        "bidirectional_rnn/fw/fw_cell/bias", "bidirectional_rnn/fw/fw_cell/kernel"]
    ((_, out_bw), (_, state_bw)), _ = m.apply(variables, x)

    # Reference: run the backward cell by hand on each example's reversed valid prefix.
    kernel = variables["params"]["bidirectional_rnn/bw/bw_cell/kernel"]
    bias = variables["params"]["bidirectional_rnn/bw/bw_cell/bias"]
    for b, length in enumerate(lengths.tolist()):
        h = jnp.zeros(2)
        expected = []
        for t in reversed(range(length)):
            h = jnp.tanh(jnp.concatenate([x[b, t], h]) @ kernel + bias)
            expected.append(h)
        np.testing.assert_allclose(out_bw[b, :length], jnp.stack(expected[::-1]), rtol=1e-5)
        np.testing.assert_allclose(state_bw[b], expected[-1], rtol=1e-5)
        assert bool((out_bw[b, length:] == 0).all())


def test_dropout_wrapper_keeps_names_and_needs_rng():
    cell = js.rnn.DropoutWrapper(js.rnn.GRUCell(3), output_keep_prob=0.5)
    x = jnp.ones((2, 6, 3))

    def model(x):
        return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]

    m = js.transform(model)
    variables = m.init(0, x)
    assert next(iter(variables["params"])) == "rnn/gru_cell/gates/kernel"
    with pytest.raises(js.MissingRngError):
        m.apply(variables, x)
    out, _ = m.apply(variables, x, rng=jax.random.key(3))
    dropped = np.asarray(out) == 0
    assert 0.2 < dropped.mean() < 0.8
    # A fresh key per time step: the dropout masks of the steps differ.
    assert len({tuple(step.ravel()) for step in np.moveaxis(dropped, 1, 0)}) > 1


def test_dynamic_rnn_compiles_once_for_any_length():
    cell = js.rnn.BasicLSTMCell(4)

    def model(x):
        return js.rnn.dynamic_rnn(cell, x, dtype=jnp.float32)[0]

    m = js.transform(model)
    short, long = jnp.ones((1, 3, 2)), jnp.ones((1, 300, 2))
    variables = m.init(0, short)
    text_short = jax.jit(m.apply).lower(variables, short).as_text()
    text_long = jax.jit(m.apply).lower(variables, long).as_text()
    # One while loop whose body does not grow with the number of steps.
    assert text_short.count("stablehlo.while") == text_long.count("stablehlo.while") == 1
    assert abs(len(text_long) - len(text_short)) < 200
