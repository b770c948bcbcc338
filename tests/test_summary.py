"""Tests for `jaxscope.summary`: rows, totals, text and HTML rendering, input kinds."""

from __future__ import annotations

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxscope.spec import VariableSpec
from jaxscope.summary import Summary, SummaryRow, SummaryTotals, summary

# Hand-derived numbers for the two-conv model below:
#   conv1/weights, conv2/weights: 5 * 5 * 32 * 32 = 25 * 1024 = 25,600 elements each
#   conv1/biases, conv2/biases:   32 elements each
#   counter (int32 scalar):       1 element
#   trainable:      2 * (25,600 + 32)  = 51,264 elements, * 4 bytes = 205,056 bytes
#   non-trainable:  1 element, 4 bytes
#   total:          51,265 elements, 205,060 bytes = 200.254 KiB -> "200.3 KiB"
TRAINABLE_SIZE = 51_264
TOTAL_SIZE = 51_265
TOTAL_BYTES = 205_060
FOOTER = "Total: 5 variables, 51,265 parameters (200.3 KiB); trainable 51,264, non-trainable 1"
# Not alphabetical within a scope (biases < weights), so a sorted table would fail.
NAMES = ["conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases", "counter"]


def conv_variables() -> dict:
    # "state" first on purpose: params rows must still come first.
    return {
        "state": {"counter": jnp.zeros((), jnp.int32)},
        "params": {
            "conv1/weights": np.zeros((5, 5, 32, 32), np.float32),
            "conv1/biases": np.zeros((32,), np.float32),
            "conv2/weights": jnp.zeros((5, 5, 32, 32), jnp.float32),
            "conv2/biases": jnp.zeros((32,), jnp.float32),
        },
    }


def column_start(line: str, text: str) -> int:
    index = line.find(text)
    assert index >= 0, (text, line)
    return index


def test_totals_of_variables_dict():
    s = summary(conv_variables())
    assert isinstance(s, Summary)
    assert len(s) == 5
    assert s.total_size == TOTAL_SIZE
    assert s.total_bytes == TOTAL_BYTES
    assert s.trainable_size == TRAINABLE_SIZE
    assert s.non_trainable_size == 1
    assert s.totals == SummaryTotals(
        variables=5,
        size=TOTAL_SIZE,
        nbytes=TOTAL_BYTES,
        trainable_size=TRAINABLE_SIZE,
        trainable_nbytes=205_056,
    )


def test_rows_are_params_then_state_in_dict_order():
    s = summary(conv_variables())
    assert [row.name for row in s.rows] == NAMES
    assert all(isinstance(row, SummaryRow) for row in s.rows)
    assert s.rows[0] == SummaryRow(
        "conv1/weights", (5, 5, 32, 32), np.dtype("float32"), 25_600, True, ("params",)
    )
    assert s.rows[1].shape == (32,)
    assert s.rows[4] == SummaryRow("counter", (), np.dtype("int32"), 1, False, ("state",))
    assert s.rows[4].nbytes == 4


def test_text_table_has_names_aligned_header_and_footer():
    text = str(summary(conv_variables()))
    lines = text.splitlines()
    header, rule, *body, bottom_rule, footer = lines
    assert header.split() == ["name", "shape", "dtype", "size", "trainable", "collections"]
    assert set(rule) == {"-"} and bottom_rule == rule
    assert len(rule) >= len(header)
    assert [line.split()[0] for line in body] == NAMES
    assert footer == FOOTER

    weights = body[0]
    # Left-aligned columns start under their header; size is right-aligned under it.
    assert column_start(weights, "(5, 5, 32, 32)") == column_start(header, "shape")
    assert column_start(weights, "float32") == column_start(header, "dtype")
    assert column_start(weights, "yes") == column_start(header, "trainable")
    assert column_start(weights, "params") == column_start(header, "collections")
    size_end = column_start(header, "size") + len("size")
    assert weights[: size_end].endswith(" 25,600")
    assert body[1][: size_end].endswith(" 32")
    assert body[4][: size_end].endswith(" 1")
    # A scalar prints as ().
    assert column_start(body[4], "()") == column_start(header, "shape")
    assert all(len(line) <= 100 for line in lines)
    assert all(line == line.rstrip() for line in lines)


def test_repr_is_the_table():
    s = summary(conv_variables())
    assert repr(s) == str(s)
    assert repr(s).endswith(FOOTER)


def test_html_escapes_names_and_has_tfoot():
    s = summary({"params": {"<b>bold</b>/w": np.zeros((2, 3), np.float32)}, "state": {}})
    page = s._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    assert "<b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;/w" in page
    assert page.count("<tfoot>") == 1
    tfoot = page[page.index("<tfoot>"): page.index("</tfoot>")]
    # 2 * 3 = 6 float32 elements = 24 bytes.
    assert "Total: 1 variable, 6 parameters (24 B); trainable 6, non-trainable 0" in tfoot
    assert "<th>collections</th>" in page


def test_html_has_one_body_row_per_variable():
    page = summary(conv_variables())._repr_html_()
    tbody = page[page.index("<tbody>"): page.index("</tbody>")]
    assert tbody.count("<tr>") == 5
    assert tbody.index("conv1/weights") < tbody.index("conv1/biases") < tbody.index("counter")
    assert "(5, 5, 32, 32)" in tbody and "25,600" in tbody
    assert FOOTER in page


def test_specs_dict_uses_spec_flags_and_collections():
    f32, i32 = np.dtype("float32"), np.dtype("int32")
    specs = {
        "dense/kernel": VariableSpec(
            "dense/kernel", (3, 4), f32, True,
            ("variables", "trainable_variables"), None, True, None,
        ),
        "dense/bias": VariableSpec(
            "dense/bias", (4,), f32, True, ("variables", "trainable_variables"), None, False, None
        ),
        # trainable=True as given, though an int lives in "state": summary reports the flag.
        "step": VariableSpec("step", (), i32, True, ("variables",), None, False, None),
        "frozen": VariableSpec("frozen", (2, 2), f32, False, ("variables",), None, False, None),
    }
    s = summary(specs)
    assert [row.name for row in s.rows] == ["dense/kernel", "dense/bias", "step", "frozen"]
    assert s.rows[0].collections == ("variables", "trainable_variables")
    assert [row.trainable for row in s.rows] == [True, True, True, False]
    # 12 + 4 + 1 + 4 = 21 elements; trainable 12 + 4 + 1 = 17; bytes 21 * 4 = 84.
    assert (s.total_size, s.trainable_size, s.total_bytes) == (21, 17, 84)
    assert "variables, trainable_variables" in str(s)


def test_flat_dict_trainable_if_floating_point():
    flat = {
        "w": np.ones((2, 5), np.float32),
        "half": jnp.ones((3,), jnp.bfloat16),
        "count": np.int32(7),
        "mask": np.ones((4,), bool),
    }
    s = summary(flat)
    assert [(r.name, r.trainable, r.collections) for r in s.rows] == [
        ("w", True, ("params",)),
        ("half", True, ("params",)),
        ("count", False, ("state",)),
        ("mask", False, ("state",)),
    ]
    # Elements 10 + 3 + 1 + 4 = 18; bytes 10*4 + 3*2 + 1*4 + 4*1 = 54; trainable 13.
    assert (s.total_size, s.total_bytes, s.trainable_size) == (18, 54, 13)
    assert str(s).splitlines()[-1] == (
        "Total: 4 variables, 18 parameters (54 B); trainable 13, non-trainable 5"
    )


def test_shape_dtype_structs_need_no_memory():
    # A comprehension, not jax.tree.map, which would sort the keys.
    abstract = {
        collection: {name: jax.ShapeDtypeStruct(x.shape, x.dtype) for name, x in tree.items()}
        for collection, tree in conv_variables().items()
    }
    s = summary(abstract)
    assert [row.name for row in s.rows] == NAMES
    assert (s.total_size, s.total_bytes, s.trainable_size) == (
        TOTAL_SIZE, TOTAL_BYTES, TRAINABLE_SIZE,
    )
    assert str(s).endswith(FOOTER)
    # One huge abstract kernel: 65,536 * 16,384 * 2 bytes (bfloat16) = 2 GiB.
    big = summary({"params": {"k": jax.ShapeDtypeStruct((65_536, 16_384), jnp.bfloat16)}})
    assert big.total_size == 1_073_741_824
    assert "(2.0 GiB)" in str(big)


@pytest.mark.parametrize(
    "bad",
    [
        [np.zeros(3)],
        None,
        np.zeros(3),
        {"w": "not an array"},
        {"params": {"w": [1.0, 2.0]}, "state": {}},
        {"w": np.zeros(3), "v": VariableSpec("v", (), np.float32, True, (), None, False, None)},
    ],
    ids=["list", "none", "array", "str-value", "list-leaf", "mixed"],
)
def test_other_inputs_raise_type_error(bad):
    with pytest.raises(TypeError, match="summary\\(\\) accepts the variables dict"):
        summary(bad)


def test_long_collection_lists_are_cut_to_fit():
    many = tuple(f"collection_number_{i}" for i in range(10))
    spec = VariableSpec("scope/w", (3,), np.dtype("float32"), True, many, None, False, None)
    s = summary({"scope/w": spec})
    lines = str(s).splitlines()
    assert all(len(line) <= 100 for line in lines)
    assert lines[2].endswith(", …")
    assert "collection_number_0" in lines[2]
    assert "collection_number_9" not in lines[2]
    # The row keeps them all; HTML shows them all.
    assert s.rows[0].collections == many
    assert "collection_number_9" in s._repr_html_()


def test_empty_variables():
    s = summary({"params": {}, "state": {}})
    assert len(s) == 0 and s.total_size == 0 and s.total_bytes == 0
    assert str(s).splitlines()[-1] == (
        "Total: 0 variables, 0 parameters (0 B); trainable 0, non-trainable 0"
    )
    assert "<tfoot>" in s._repr_html_()


def test_by_scope_subtotals():
    s = summary(conv_variables())
    scopes = s.by_scope()
    assert list(scopes) == ["conv1", "conv2", ""]
    # conv1: 25,600 + 32 = 25,632 elements, * 4 = 102,528 bytes, all trainable.
    assert scopes["conv1"] == SummaryTotals(2, 25_632, 102_528, 25_632, 102_528)
    assert scopes[""] == SummaryTotals(1, 1, 4, 0, 0)
    nested = summary({"a/b/w": np.zeros(3), "a/c/w": np.zeros(2), "a/v": np.zeros(7)})
    assert {k: t.size for k, t in nested.by_scope(depth=2).items()} == {
        "a/b": 3, "a/c": 2, "a": 7,
    }
    with pytest.raises(ValueError, match="depth"):
        s.by_scope(depth=0)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 6), max_size=4),
            st.sampled_from(["float32", "float16", "int32", "int8"]),
        ),
        max_size=8,
    )
)
def test_totals_match_numpy(entries):
    flat = {
        f"layer{i}/v": jax.ShapeDtypeStruct(tuple(shape), np.dtype(dtype))
        for i, (shape, dtype) in enumerate(entries)
    }
    s = summary(flat)
    arrays = [np.zeros(tuple(shape), dtype) for shape, dtype in entries]
    assert s.total_size == sum(a.size for a in arrays)
    assert s.total_bytes == sum(a.nbytes for a in arrays)
    assert s.trainable_size == sum(a.size for a in arrays if a.dtype.kind == "f")
    assert all(len(line) <= 100 for line in str(s).splitlines())


def test_docstring_examples_run():
    module = importlib.import_module("jaxscope.summary")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 2
    assert result.failed == 0


def test_sharded_values_add_sharding_and_per_device_columns():
    import jax
    from jax.sharding import AbstractMesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = AbstractMesh((8,), ("model",))

    def abstract(shape, spec):
        return jax.ShapeDtypeStruct(shape, np.float32, sharding=NamedSharding(mesh, spec))

    variables = {
        "params": {"emb": abstract((64, 16), P("model", None)), "b": abstract((16,), P())},
        "state": {},
    }
    table = summary(variables)
    assert str(table) == "\n".join([
        "name  shape     dtype     size  sharding          per device  trainable  collections",
        "-" * 84,
        "emb   (64, 16)  float32  1,024  P('model', None)       512 B  yes        params",
        "b     (16,)     float32     16  -                       64 B  yes        params",
        "-" * 84,
        "Total: 2 variables, 1,040 parameters (4.1 KiB); trainable 1,040, non-trainable 0; "
        "per device 576 B",
    ])
    assert table.device_bytes == 576
    assert [row.shard_nbytes for row in table.rows] == [512, None]
