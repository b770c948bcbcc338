"""Tests of `jaxscope.partitioners`: TF's partitioner formulas, checks and slicing."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxscope as js
from jaxscope import partitioners as parts

DTYPES_JSON = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "fixtures"
    / "tf1_checkpoints"
    / "dtypes"
    / "expected.json"
)


def _partitioned_fixture_variables() -> list:
    if not DTYPES_JSON.exists():
        reason = f"TF fixture {DTYPES_JSON} not found (the shared/ checkout is absent)"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason))]
    variables = json.loads(DTYPES_JSON.read_text())["variables"]
    return [
        pytest.param(name, info, id=name)
        for name, info in variables.items()
        if "partitioner" in info
    ]


@pytest.mark.parametrize(("name", "info"), _partitioned_fixture_variables())
def test_tf_checkpoint_slices(name, info):
    expression = info["partitioner"].removeprefix("tf.compat.v1.")
    namespace = {"fixed_size_partitioner": parts.fixed_size_partitioner}
    partitioner = eval(expression, {"__builtins__": {}}, namespace)
    shape = tuple(info["shape"])
    partitions = parts.validate_partitions(name, shape, partitioner(shape, info["dtype"]))
    pieces = parts.slice_shapes(shape, partitions)
    assert [list(offset) for offset, _ in pieces] == info["partition_offsets"]
    assert [list(piece) for _, piece in pieces] == info["partition_shapes"]
    specs = [parts.slice_spec(shape, offset, piece) for offset, piece in pieces]
    assert specs == info["save_slice_spec"]
    assert len(pieces) == len(info["partition_variables"])


# --------------------------------------------------------------------------- fixed


def test_fixed_size_partitioner():
    assert parts.fixed_size_partitioner(3)((10, 4), "float32") == [3, 1]
    assert parts.fixed_size_partitioner(3)((10, 4)) == [3, 1]  # dtype is optional
    assert parts.fixed_size_partitioner(2, axis=1)((10, 4), "float32") == [1, 2]
    assert parts.fixed_size_partitioner(5)((3, 2), "float32") == [3, 1]  # capped by dim
    assert parts.fixed_size_partitioner(2, axis=-1)((3, 4), "float32") == [1, 2]
    assert parts.fixed_size_partitioner(4)(shape=(8,), dtype="int32") == [4]
    message = "Can not partition variable along axis 2 when shape is only (3, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        parts.fixed_size_partitioner(2, axis=2)((3, 4), "float32")


# --------------------------------------------------------------------------- axis size


@pytest.mark.parametrize(
    ("max_bytes", "kwargs", "shape", "dtype", "expected"),
    [
        # 16 B per row: 4 rows per 64 B shard -> ceil(10 / 4) = 3 shards.
        (64, {}, (10, 4), "float32", [3, 1]),
        (64, {"max_shards": 2}, (10, 4), "float32", [2, 1]),
        (64, {}, (10, 4), "float64", [5, 1]),  # 32 B per row -> 2 rows per shard
        (10, {}, (10, 4), "float32", [10, 1]),  # a row exceeds the limit: 1 row each
        (1 << 20, {}, (10, 4), "float32", [1, 1]),
        (64, {"axis": 1}, (4, 10), "float32", [1, 3]),
        # Strings count bytes_per_string_element per element: 3 * 16 = 48 B per row.
        (100, {}, (7, 3), "string", [4, 1]),
        (100, {"bytes_per_string_element": 4}, (7, 3), np.bytes_, [1, 1]),
        # max_shards=0 is falsy: TF then applies no cap (and raises nothing).
        (64, {"max_shards": 0}, (10, 4), "float32", [3, 1]),
    ],
)
def test_variable_axis_size_partitioner(max_bytes, kwargs, shape, dtype, expected):
    partitioner = parts.variable_axis_size_partitioner(max_bytes, **kwargs)
    assert partitioner(shape, dtype) == expected


def test_variable_axis_size_partitioner_errors():
    both = "Both max_shard_bytes and bytes_per_string_element must be positive."
    with pytest.raises(ValueError, match=re.escape(both)):
        parts.variable_axis_size_partitioner(0)
    with pytest.raises(ValueError, match=re.escape(both)):
        parts.variable_axis_size_partitioner(10, bytes_per_string_element=0)
    with pytest.raises(ValueError, match=re.escape("max_shards must be positive.")):
        parts.variable_axis_size_partitioner(10, max_shards=-1)
    partitioner = parts.variable_axis_size_partitioner(64)
    with pytest.raises(ValueError, match=re.escape("shape is not a TensorShape: 5")):
        partitioner(5, "float32")
    with pytest.raises(ValueError, match=re.escape("shape is not fully defined: (None, 4)")):
        partitioner((None, 4), "float32")
    with pytest.raises(ValueError, match=re.escape("dtype is not a DType: bogus")):
        partitioner((10, 4), "bogus")
    with pytest.raises(ValueError, match=re.escape("dtype is not a DType: None")):
        partitioner((10, 4), None)


# --------------------------------------------------------------------------- min max


@pytest.mark.parametrize(
    ("args", "shape", "dtype", "expected"),
    [
        # TF's docstring example: 4 MiB / 256 KiB = 16 partitions.
        ((16,), (1024, 1024), "float32", [16, 1]),
        ((100,), (1024, 1024), "float32", [16, 1]),
        ((4,), (1024, 1024), "float32", [4, 1]),
        ((1,), (1024, 1024), "float32", [1, 1]),  # the default max_partitions
        ((100,), (3, 1 << 20), "float32", [3, 1]),  # capped by shape[axis]
        ((100,), (10, 10), "float32", [1, 1]),  # below min_slice_size
        ((8, 1, 1000), (10, 100), "float64", [1, 8]),  # ceil(8000 / 1000) = 8
        ((100, 0, 100), (10, 10), "string", [10, 1]),  # 100 * 16 / 100 = 16, cap 10
        ((100, 0, 100, 2), (10, 10), "string", [2, 1]),
    ],
)
def test_min_max_variable_partitioner(args, shape, dtype, expected):
    assert parts.min_max_variable_partitioner(*args)(shape, dtype) == expected


def test_min_max_variable_partitioner_axis_error():
    message = "Can not partition variable along axis 2 when shape is only (3, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        parts.min_max_variable_partitioner(4, axis=2)((3, 4), "float32")


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 300), min_size=1, max_size=3).map(tuple),
    max_partitions=st.integers(1, 50),
    min_slice_size=st.integers(1, 5000),
    data=st.data(),
)
def test_min_max_formula(shape, max_partitions, min_slice_size, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    got = parts.min_max_variable_partitioner(max_partitions, axis, min_slice_size)(shape, "float32")
    wanted = math.ceil(math.prod(shape) * 4 / min_slice_size)
    expected = [1] * len(shape)
    expected[axis] = max(1, min(shape[axis], max_partitions, wanted))
    assert got == expected
    parts.validate_partitions("v", shape, got)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("shape", "partitions", "message"),
    [
        (
            (None, 4),
            [1, 1],
            "Shape of a new partitioned variable must be fully defined, but instead was (None, 4).",
        ),
        ((), [], "A partitioned Variable must have rank at least 1, shape: ()"),
        ((10, 4), 3, "Partitioner must return a sequence, but saw: 3"),
        (
            (10, 4),
            [3],
            "Partitioner returned a partition list that does not match the Variable's "
            "rank: [3] vs. (10, 4)",
        ),
        ((10, 4), [0, 1], "Partitioner returned zero partitions for some axes: [0, 1]"),
        (
            (10, 4),
            [2, 2],
            "Can only slice a variable along one dimension: shape: (10, 4), partitioning: [2, 2]",
        ),
    ],
)
def test_validate_partitions_errors(shape, partitions, message):
    with pytest.raises(ValueError) as info:
        parts.validate_partitions("scope/v", shape, partitions)
    assert str(info.value) == message
    if hasattr(info.value, "add_note"):  # Python >= 3.11
        assert any("scope/v" in note for note in info.value.__notes__)


def test_validate_partitions_returns_ints():
    assert parts.validate_partitions("v", (10, 4), (np.int64(3), 1)) == [3, 1]
    assert parts.validate_partitions("v", [5], [1]) == [1]


# --------------------------------------------------------------------------- slicing


def test_slice_shapes_by_hand():
    assert parts.slice_shapes((10, 4), [3, 1]) == [
        ((0, 0), (4, 4)),
        ((4, 0), (3, 4)),
        ((7, 0), (3, 4)),
    ]
    assert parts.slice_shapes((3,), [2]) == [((0,), (2,)), ((2,), (1,))]
    assert parts.slice_shapes((2, 7), [1, 3]) == [
        ((0, 0), (2, 3)),
        ((0, 3), (2, 2)),
        ((0, 5), (2, 2)),
    ]
    # No axis split: one piece, the whole variable.
    assert parts.slice_shapes((5, 6), [1, 1]) == [((0, 0), (5, 6))]


def test_slice_axis():
    assert parts.slice_axis([1, 1]) == (0, 1)
    assert parts.slice_axis([1, 4, 1]) == (1, 4)
    assert parts.slice_axis([3]) == (0, 3)


def test_slice_spec():
    assert parts.slice_spec((10, 4), (7, 0), (3, 4)) == "10 4 7,3:0,4"
    assert parts.slice_spec((6,), (0,), (6,)) == "6 0,6"


@settings(max_examples=100, deadline=None)
@given(
    shape=st.lists(st.integers(1, 40), min_size=1, max_size=4).map(tuple),
    data=st.data(),
)
def test_slice_shapes_tile_the_variable(shape, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    count = data.draw(st.integers(1, shape[axis]))
    partitions = [1] * len(shape)
    partitions[axis] = count
    pieces = parts.slice_shapes(shape, partitions)
    assert len(pieces) == count
    sizes = [piece[axis] for _, piece in pieces]
    assert sum(sizes) == shape[axis]
    base, excess = divmod(shape[axis], count)
    assert sizes == [base + 1] * excess + [base] * (count - excess)
    offset = 0
    for start, piece in pieces:
        assert start[axis] == offset
        assert all(start[d] == 0 for d in range(len(shape)) if d != axis)
        assert all(piece[d] == shape[d] for d in range(len(shape)) if d != axis)
        offset += piece[axis]
    # Concatenating the pieces of an array gives the array back.
    full = np.arange(math.prod(shape)).reshape(shape)
    chunks = [full[tuple(slice(o, o + n) for o, n in zip(start, piece))] for start, piece in pieces]
    np.testing.assert_array_equal(np.concatenate(chunks, axis=axis), full)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 300), min_size=1, max_size=3).map(tuple),
    max_shard_bytes=st.integers(1, 20000),
    max_shards=st.one_of(st.none(), st.integers(1, 40)),
    dtype=st.sampled_from(["float32", "float64", "int8", "string"]),
    data=st.data(),
)
def test_variable_axis_size_formula(shape, max_shard_bytes, max_shards, dtype, data):
    # TF_SEMANTICS 3.6: bytes_per_slice = num_elements / shape[axis] * elem;
    # slices_per_shard = max(1, floor(max_shard_bytes / bytes_per_slice));
    # shards = ceil(shape[axis] / slices_per_shard), then min(max_shards, shards).
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    elem = 16 if dtype == "string" else np.dtype(dtype).itemsize
    got = parts.variable_axis_size_partitioner(max_shard_bytes, axis, max_shards=max_shards)(
        shape, dtype
    )
    index = axis % len(shape)
    bytes_per_slice = math.prod(shape) / shape[index] * elem
    slices_per_shard = max(1, math.floor(max_shard_bytes / bytes_per_slice))
    shards = math.ceil(shape[index] / slices_per_shard)
    expected = [1] * len(shape)
    expected[index] = min(max_shards, shards) if max_shards else shards
    assert got == expected
    parts.validate_partitions("v", shape, got)


@pytest.mark.parametrize("initializer", [[1.0, 2.0, 3.0, 4.0], np.arange(4.0, dtype=np.float32),
                                         lambda: jnp.ones(2)], ids=["list", "numpy", "callable"])
def test_a_partitioned_variable_needs_a_shape_as_tf(initializer):
    """TF 2.21 refuses these (checked there), with or without a scope partitioner."""
    message = re.escape("Shape of a new partitioned variable must be fully defined, but "
                        "instead was <unknown>.")

    def direct():
        js.get_variable("v", initializer=initializer, partitioner=js.fixed_size_partitioner(2))

    def from_scope():
        with js.variable_scope("s", partitioner=js.fixed_size_partitioner(2)):
            js.get_variable("v", initializer=initializer)

    for fn in (direct, from_scope):
        with pytest.raises(ValueError, match=message):
            js.transform(fn).init(0)
