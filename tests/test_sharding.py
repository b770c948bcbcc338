"""Partitioners become shardings: the rule of `jaxscope.sharding` and `Transformed.shardings`.

The rule is checked in this process on abstract meshes (no devices needed). What needs
real devices (``jax.jit(init, out_shardings=...)``, where each shard lives, a sharded
train step) runs once in a fresh interpreter with 8 host CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=8``); it prints its findings as JSON
and the tests below check them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from jax.sharding import AbstractMesh
from jax.sharding import PartitionSpec as P

import jaxscope as js

MESH8 = AbstractMesh((8,), ("model",))
MESH_2x4 = AbstractMesh((2, 4), ("data", "model"))


def _specs(fn, *args):
    return js.transform(fn).specs(*args)


def _one(shape, partitioner, dtype="float32"):
    def fn():
        js.get_variable("v", shape, dtype=dtype, partitioner=partitioner)

    return _specs(fn)["v"]


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("shape", "partitioner", "expected"),
    [
        ((64, 16), js.fixed_size_partitioner(8), P("model", None)),
        ((16, 64), js.fixed_size_partitioner(8, axis=1), P(None, "model")),
        # 16 * 4 B per row, 128 B per piece -> 2 rows per piece -> 16 / 2 = 8 pieces.
        ((16, 16), js.variable_axis_size_partitioner(128), P("model", None)),
        # 32 * 4 * 4 B = 512 B, at least 64 B per piece -> 8 pieces (max 8).
        ((32, 4), js.min_max_variable_partitioner(8, min_slice_size=64), P("model", None)),
        ((8,), js.fixed_size_partitioner(8), P("model")),
        # one piece: replicated
        ((64, 16), js.fixed_size_partitioner(1), P()),
        ((64, 16), js.min_max_variable_partitioner(8), P()),  # 4 KiB < 256 KiB
        ((64, 16), None, P()),
    ],
)
def test_tf_partitions_map_to_the_first_mesh_axis(shape, partitioner, expected):
    assert js.partition_spec(_one(shape, partitioner), MESH8) == expected


def test_specs_record_the_partitions():
    assert _one((64, 16), js.fixed_size_partitioner(8)).partitions == (8, 1)
    assert _one((64, 16), None).partitions is None
    assert _one((64, 16), P("model")).partitions is None  # a PartitionSpec is not TF slicing


def test_named_mesh_axis_and_decorator_form():
    def body():
        js.get_variable("w", [8, 3], partitioner=js.fixed_size_partitioner(4))
        js.get_variable("b", [3])

    net = js.transform(mesh_axis="model")(body)  # also usable as @js.transform(mesh_axis=...)
    shardings = net.shardings(MESH_2x4)
    assert shardings["params"]["w"].spec == P("model", None)
    assert shardings["params"]["b"].spec == P()
    # Without a name the first axis ("data", 2 devices) is used, and 4 pieces do not fit it.
    plain = js.transform(body)
    with pytest.raises(ValueError, match="mesh axis 'data' has 2 devices"):
        plain.shardings(MESH_2x4)


def test_count_other_than_mesh_axis_size_is_rejected_with_the_fix():
    spec = _one((64, 16), js.fixed_size_partitioner(4))
    with pytest.raises(ValueError) as info:
        js.partition_spec(spec, MESH8)
    message = str(info.value)
    assert message == (
        "Variable 'v' (shape (64, 16)) is partitioned [4, 1] (4 pieces on axis 0), but mesh "
        "axis 'model' has 8 devices: jaxscope puts one TF piece per device, so the count must "
        "equal the mesh axis size. Fix: use js.fixed_size_partitioner(8, axis=0), pass a "
        "PartitionSpec as partitioner=, or name a mesh axis of size 4 with "
        "js.transform(fn, mesh_axis=...)."
    )
    # a multiple of the mesh axis size is rejected too (one piece per device)
    with pytest.raises(ValueError, match=re.escape("is partitioned [16, 1]")):
        js.partition_spec(_one((64, 16), js.fixed_size_partitioner(16)), MESH8)


def test_uneven_pieces_are_rejected():
    # TF cuts 12 rows into 8 pieces of 2, 2, 2, 2, 1, 1, 1, 1: JAX blocks are equal.
    spec = _one((12, 4), js.fixed_size_partitioner(8))
    with pytest.raises(ValueError, match=r"12 rows do not split evenly over the 8 devices"):
        js.partition_spec(spec, MESH8)


def test_unknown_mesh_axis_is_rejected():
    spec = _one((64, 16), js.fixed_size_partitioner(8))
    message = "mesh_axis='rows' is not an axis of the mesh, whose axes are ['model']"
    with pytest.raises(ValueError, match=re.escape(message)):
        js.partition_spec(spec, MESH8, mesh_axis="rows")


def test_partition_spec_partitioner_is_used_as_is():
    assert js.partition_spec(_one((16, 64), P(None, "model")), MESH8) == P(None, "model")
    assert js.partition_spec(_one((16, 64), P(("data", "model"))), MESH_2x4) == P(
        ("data", "model")
    )
    assert js.partition_spec(_one((16, 64), P()), MESH8) == P()


@pytest.mark.parametrize(
    ("shape", "given", "message"),
    [
        ((16, 64), P(None, "rows"), "the mesh has no axis 'rows'; its axes are ['model']"),
        ((16,), P(None, "model"), "2 entries for a rank-1 variable"),
        ((16, 12), P(None, "model"), "dimension 12 does not split evenly into 8 shards"),
    ],
)
def test_partition_spec_partitioner_errors(shape, given, message):
    spec = _one(shape, given)
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        js.partition_spec(spec, MESH8)
    assert "Variable 'v'" in str(info.value)


def test_scope_default_partitioners_are_inherited():
    def net():
        with js.variable_scope("tower", partitioner=js.fixed_size_partitioner(8)) as tower:
            js.get_variable("a", [16, 2])
            js.get_variable("steps", [], dtype="int32", trainable=False)  # scalars: ignored
            with js.variable_scope("inner"):
                js.get_variable("b", [8, 2])
        with js.variable_scope(tower):  # re-entered captured scope keeps its default
            js.get_variable("c", [24])
        with js.variable_scope("cols", partitioner=P(None, "model")):
            js.get_variable("d", [3, 16])
            js.get_variable("e", [], trainable=False)

    shardings = js.transform(net).shardings(MESH8)
    specs = {name: s.spec for tree in shardings.values() for name, s in tree.items()}
    assert specs == {
        "tower/a": P("model", None),
        "tower/steps": P(),
        "tower/inner/b": P("model", None),
        "tower/c": P("model"),
        "cols/d": P(None, "model"),
        "cols/e": P(),
    }
    assert list(shardings["state"]) == ["tower/steps", "cols/e"]


def test_summary_of_specs_shows_partitions_and_per_device_bytes():
    def net():
        js.get_variable("emb", [64, 16], partitioner=js.fixed_size_partitioner(8))
        js.get_variable("cols", [4, 16], partitioner=P(None, "model"))
        js.get_variable("bias", [16])

    table = js.summary(_specs(net))
    assert table.sharded
    rows = {row.name: row for row in table.rows}
    assert rows["emb"].sharding == "partitions [8, 1]"
    assert rows["emb"].device_nbytes == 64 * 16 * 4 // 8
    assert rows["cols"].sharding == "P(None, 'model')"
    assert rows["cols"].device_nbytes is None  # needs a mesh
    assert rows["bias"].sharding is None and rows["bias"].device_nbytes == 64
    text = str(table).splitlines()
    assert text[0].split() == [
        "name", "shape", "dtype", "size", "sharding", "per", "device", "trainable", "collections"
    ]
    assert "partitions [8, 1]" in text[2] and "512 B" in text[2]
    assert table.device_bytes is None and "per device" not in text[-1]
    assert "<th>sharding</th>" in table._repr_html_()


def test_summary_without_sharding_keeps_its_columns():
    table = js.summary(_specs(lambda: js.get_variable("w", [3, 2])))
    assert not table.sharded
    assert str(table).splitlines()[0].split() == [
        "name", "shape", "dtype", "size", "trainable", "collections"
    ]


# --------------------------------------------------------------------------- 8 devices

DEVICES_SCRIPT = r'''
import json, os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ["JAX_PLATFORMS"] = "cpu"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
import jaxscope as js
from jaxscope.partitioners import slice_shapes

results = {"devices": jax.device_count()}


def net(x):
    # TF1: tf.variable_scope("embed", partitioner=tf.fixed_size_partitioner(8))
    with js.variable_scope("embed", partitioner=js.fixed_size_partitioner(8)):
        table = js.get_variable("table", [4096, 64])  # 1 MiB, 128 KiB per device
        with js.variable_scope("inner"):
            proj = js.get_variable("proj", [64, 16])  # inherited partitioner
        count = js.get_variable("count", [], dtype="int32", trainable=False,
                                initializer=js.zeros_initializer)
        js.assign("count", count + 1)  # TF1: tf.assign_add(count, 1)
    kernel = js.get_variable("dense/kernel", [16, 32], partitioner=P(None, "model"))
    bias = js.get_variable("dense/bias", [32], initializer=js.zeros_initializer)
    out_w = js.get_variable(
        "out/w", [32, 4], partitioner=js.min_max_variable_partitioner(8, min_slice_size=64),
        regularizer=js.regularizers.l2(1e-3))
    h = jnp.tanh(x @ table @ proj)
    h = jnp.tanh(h @ kernel + bias)
    return h @ out_w


model = js.transform(net)
# Auto axes: XLA's SPMD partitioner propagates the variables' shardings through the
# model's ops (TF1-style code carries no sharding annotations of its own).
AUTO = jax.sharding.AxisType.Auto
mesh = jax.make_mesh((8,), ("model",), axis_types=(AUTO,))
rng = jax.random.key(0)
x = jax.random.normal(jax.random.key(1), (16, 4096)) / 64.0
y = jax.random.normal(jax.random.key(2), (16, 4))

shardings = model.shardings(mesh, x)
results["specs"] = {f"{c}/{n}": str(s.spec) for c, t in shardings.items() for n, s in t.items()}

init = jax.jit(model.init, out_shardings=shardings)
compiled = init.lower(rng, x).compile()
memory = compiled.memory_analysis()
results["memory"] = None if memory is None else {
    "output": int(memory.output_size_in_bytes), "temp": int(memory.temp_size_in_bytes)}
variables = init(rng, x)
whole = model.init(rng, x)  # unsharded, one device

results["leaves"] = {}
for collection, tree in variables.items():
    for name, value in tree.items():
        expected = shardings[collection][name]
        results["leaves"][f"{collection}/{name}"] = {
            "sharding_ok": value.sharding == expected,
            "devices": len(value.sharding.device_set),
            "shard_shapes": sorted({tuple(s.data.shape) for s in value.addressable_shards}),
            "num_shards": len(value.addressable_shards),
            "equal_to_unsharded": bool(np.array_equal(value, whole[collection][name])),
        }

# device i along the mesh axis holds exactly TF's piece embed/table/part_i
table = variables["params"]["embed/table"]
pieces = slice_shapes(table.shape, [8, 1])
by_row = sorted(table.addressable_shards, key=lambda s: s.index[0].start)
full = np.asarray(whole["params"]["embed/table"])
results["tf_pieces_on_devices"] = all(
    np.array_equal(np.asarray(s.data), full[o[0]:o[0] + p[0]])
    for s, (o, p) in zip(by_row, pieces)
) and [s.device for s in by_row] == list(mesh.devices.flat)
results["per_device_expected"] = sum(
    int(np.prod(s.shard_shape(v.shape))) * v.dtype.itemsize
    for c, t in variables.items() for s, v in ((shardings[c][n], t[n]) for n in t))


def loss_fn(params, state, x, y):
    out, aux = model.apply({"params": params, "state": state}, x)
    return jnp.mean((out - y) ** 2) + aux.regularization_loss, aux.updates["state"]


def sgd_step(variables, x, y):
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (loss, state), grads = grad_fn(variables["params"], variables["state"], x, y)
    params = jax.tree.map(lambda p, g: p - 0.5 * g, variables["params"], grads)
    return js.merge({"params": params, "state": variables["state"]}, {"state": state}), loss


replicated = NamedSharding(mesh, P())
sharded_step = jax.jit(sgd_step, in_shardings=(shardings, replicated, replicated),
                       out_shardings=(shardings, replicated))
plain_step = jax.jit(sgd_step)
sharded, plain = variables, whole
results["losses_sharded"], results["losses_plain"] = [], []
for _ in range(4):
    sharded, loss_s = sharded_step(sharded, x, y)
    plain, loss_p = plain_step(plain, x, y)
    results["losses_sharded"].append(float(loss_s))
    results["losses_plain"].append(float(loss_p))
results["after_step_sharding_ok"] = all(
    sharded[c][n].sharding == shardings[c][n] for c in sharded for n in sharded[c])
results["max_param_diff"] = max(
    float(np.max(np.abs(np.asarray(sharded["params"][n]) - np.asarray(plain["params"][n]))))
    for n in plain["params"])
results["count_after"] = int(sharded["state"]["embed/count"])

table_text = str(js.summary(variables))
results["summary"] = table_text

# a 2-D mesh: batch over "data", partitioned variables over the named "model" axis
mesh2 = jax.make_mesh((2, 4), ("data", "model"), axis_types=(AUTO, AUTO))
model2 = js.transform(mesh_axis="model")(
    lambda x: x @ js.get_variable("w", [8, 4], partitioner=js.fixed_size_partitioner(4)))
x2 = jnp.ones((6, 8))
s2 = model2.shardings(mesh2, x2)
v2 = jax.jit(model2.init, out_shardings=s2)(rng, x2)["params"]["w"]
results["mesh2"] = {
    "spec": str(v2.sharding.spec),
    "shard_shapes": sorted({tuple(s.data.shape) for s in v2.addressable_shards}),
    "distinct_indices": len({str(s.index) for s in v2.addressable_shards}),
}
print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def on_8_devices():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    result = subprocess.run(
        [sys.executable, "-c", DEVICES_SCRIPT], capture_output=True, text=True, timeout=240,
        env=env, cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


EXPECTED_SPECS = {
    "params/embed/table": "P('model', None)",
    "params/embed/inner/proj": "P('model', None)",
    "params/dense/kernel": "P(None, 'model')",
    "params/dense/bias": "P()",
    "params/out/w": "P('model', None)",
    "state/embed/count": "P()",
}
SHARD_SHAPES = {
    "params/embed/table": [[512, 64]],
    "params/embed/inner/proj": [[8, 16]],
    "params/dense/kernel": [[16, 4]],
    "params/dense/bias": [[32]],
    "params/out/w": [[4, 4]],
    "state/embed/count": [[]],
}


def test_shardings_of_init_outputs(on_8_devices):
    assert on_8_devices["devices"] == 8
    assert on_8_devices["specs"] == EXPECTED_SPECS
    for name, leaf in on_8_devices["leaves"].items():
        assert leaf["sharding_ok"], name
        assert leaf["devices"] == 8 and leaf["num_shards"] == 8, name
        assert leaf["shard_shapes"] == SHARD_SHAPES[name], name
        # the sharded init draws the same values as the unsharded one
        assert leaf["equal_to_unsharded"], name


def test_each_device_holds_tf_piece_i(on_8_devices):
    assert on_8_devices["tf_pieces_on_devices"]


def test_sharded_init_never_builds_a_whole_variable(on_8_devices):
    memory = on_8_devices["memory"]
    if memory is None:
        pytest.skip("this backend reports no memory analysis")
    # Per device, the outputs are the shards (table: 4096 * 64 * 4 B / 8 = 128 KiB) ...
    # (plus XLA's table of 8-byte pointers to the output buffers).
    expected = on_8_devices["per_device_expected"]
    assert expected <= memory["output"] <= expected + 8 * len(on_8_devices["leaves"])
    # ... and the temporaries stay below the 1 MiB the whole table would take.
    assert memory["temp"] < 4096 * 64 * 4


def test_sharded_sgd_step_equals_the_unsharded_one(on_8_devices):
    sharded, plain = on_8_devices["losses_sharded"], on_8_devices["losses_plain"]
    np.testing.assert_allclose(sharded, plain, rtol=1e-5)
    assert plain[-1] < plain[0]  # the steps do train
    assert on_8_devices["max_param_diff"] < 1e-5
    assert on_8_devices["after_step_sharding_ok"]
    assert on_8_devices["count_after"] == 1 + 4  # init's call, then one per step


def test_summary_of_sharded_arrays(on_8_devices):
    lines = on_8_devices["summary"].splitlines()
    assert lines[0].split()[4:6] == ["sharding", "per"]
    table = next(line for line in lines if line.startswith("embed/table "))
    assert "P('model', None)" in table and "128.0 KiB" in table
    bias = next(line for line in lines if line.startswith("dense/bias "))
    assert bias.split()[4] == "-" and "128 B" in bias  # replicated: whole on each device
    assert "per device" in lines[-1] or "per device" in lines[-2]


def test_named_mesh_axis_on_a_2d_mesh(on_8_devices):
    assert on_8_devices["mesh2"] == {
        "spec": "P('model', None)",
        "shard_shapes": [[2, 4]],
        "distinct_indices": 4,  # replicated over "data", split over "model"
    }


def test_shardings_is_abstract():
    # No FLOPs: shardings of a huge model come from jax.eval_shape, nothing is allocated.
    def huge():
        js.get_variable("w", [1 << 20, 1 << 12], partitioner=js.fixed_size_partitioner(8))

    mesh = jax.make_mesh((1,), ("model",))
    with pytest.raises(ValueError, match="mesh axis 'model' has 1 devices"):
        js.transform(huge).shardings(mesh)
    shardings = js.transform(lambda: js.get_variable("w", [1 << 20, 1 << 12])).shardings(mesh)
    assert shardings["params"]["w"].spec == P()
