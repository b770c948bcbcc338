"""`summary`: a table of a model's variables for a terminal or a notebook.

`summary` accepts what `Transformed.init` returns (``{"params": ..., "state": ...}``),
what `Transformed.specs` returns (``{full_name: VariableSpec}``), or a flat
``{full_name: array}`` dict, and lists every variable with its shape, dtype, size,
trainability and collections, followed by totals. ``print`` it in a terminal; in
Jupyter the last expression of a cell renders as an HTML table.

When any variable is sharded (an array split over devices, or a spec with a
partitioner), two more columns appear: ``sharding`` (the array's `PartitionSpec`, or
for a spec its TF partitions or `PartitionSpec`) and ``per device`` (the bytes one
device holds: the largest shard; for a TF-partitioned spec, TF's largest piece, since
`jaxscope.sharding` puts one piece per device), and the footer gives the per-device
total. Tables without sharding look as before.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from jaxscope.spec import VariableSpec, variable_collection

__all__ = ["Summary", "SummaryRow", "SummaryTotals", "summary"]

# A terminal table should fit this many columns; only the collections column gives way
# (names are what users copy, so they are never cut).
_WIDTH = 100
_MIN_COLLECTIONS_WIDTH = 16
_GAP = "  "
_ELLIPSIS = "…"
_HEADER = ("name", "shape", "dtype", "size", "trainable", "collections")
_SHARDED_HEADER = (
    "name", "shape", "dtype", "size", "sharding", "per device", "trainable", "collections"
)
_RIGHT_ALIGNED = frozenset({"size", "per device"})

_ACCEPTED = (
    "summary() accepts the variables dict that init returns "
    '({"params": {name: array}, "state": {name: array}}), the specs dict that specs() '
    "returns ({name: VariableSpec}), or a flat {name: array} dict whose values have "
    "`shape` and `dtype` (jax.Array, numpy array, jax.ShapeDtypeStruct)"
)


class SummaryRow(NamedTuple):
    """One variable of a `Summary`.

    Attributes:
      name: full name (``"conv1/weights"``).
      shape: tuple of ints (``()`` for a scalar).
      dtype: a NumPy dtype (or JAX's extended dtype, e.g. for PRNG keys).
      size: number of elements.
      trainable: whether the variable is trained (in ``params``, or the spec's flag).
      collections: collection keys (``("params",)`` or ``("state",)`` for arrays).
      sharding: how the value is split over devices (``"P('model', None)"``,
        ``"partitions [8, 1]"``), ``None`` when it is not split.
      shard_nbytes: bytes of its largest shard when split (``None`` when not split,
        or when unknown: a spec's `PartitionSpec` without a mesh).
    """

    name: str
    shape: tuple[int, ...]
    dtype: Any
    size: int
    trainable: bool
    collections: tuple[str, ...]
    sharding: str | None = None
    shard_nbytes: int | None = None

    @property
    def nbytes(self) -> int:
        """Bytes the value takes in memory."""
        return self.size * _itemsize(self.dtype)

    @property
    def device_nbytes(self) -> int | None:
        """Bytes one device holds: `shard_nbytes` when split, else `nbytes` (``None``: unknown)."""
        return self.nbytes if self.sharding is None else self.shard_nbytes


class SummaryTotals(NamedTuple):
    """Totals over some rows of a `Summary`.

    Attributes:
      variables: number of variables.
      size: number of elements (parameters) in all of them.
      nbytes: bytes all of them take.
      trainable_size: elements in trainable variables.
      trainable_nbytes: bytes of trainable variables.
    """

    variables: int
    size: int
    nbytes: int
    trainable_size: int
    trainable_nbytes: int

    @property
    def non_trainable_size(self) -> int:
        """Elements in non-trainable variables."""
        return self.size - self.trainable_size

    @property
    def non_trainable_nbytes(self) -> int:
        """Bytes of non-trainable variables."""
        return self.nbytes - self.trainable_nbytes

    @classmethod
    def of(cls, rows: list[SummaryRow]) -> SummaryTotals:
        """Adds up ``rows``."""
        trainable = [row for row in rows if row.trainable]
        return cls(
            variables=len(rows),
            size=sum(row.size for row in rows),
            nbytes=sum(row.nbytes for row in rows),
            trainable_size=sum(row.size for row in trainable),
            trainable_nbytes=sum(row.nbytes for row in trainable),
        )


class Summary:
    """A table of variables with totals; prints as text and renders as HTML.

    Build one with `summary`. ``rows`` are `SummaryRow` in input order.
    """

    def __init__(self, rows: list[SummaryRow]) -> None:
        self.rows: list[SummaryRow] = list(rows)
        self.totals: SummaryTotals = SummaryTotals.of(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def sharded(self) -> bool:
        """Whether any variable is split over devices (the table then shows how)."""
        return any(row.sharding is not None for row in self.rows)

    @property
    def device_bytes(self) -> int | None:
        """Bytes one device holds of all variables (``None`` if some share is unknown)."""
        shares = [row.device_nbytes for row in self.rows]
        return None if None in shares else sum(shares)

    @property
    def total_size(self) -> int:
        """Number of elements in all variables."""
        return self.totals.size

    @property
    def total_bytes(self) -> int:
        """Bytes all variables take."""
        return self.totals.nbytes

    @property
    def trainable_size(self) -> int:
        """Number of elements in trainable variables."""
        return self.totals.trainable_size

    @property
    def non_trainable_size(self) -> int:
        """Number of elements in non-trainable variables."""
        return self.totals.non_trainable_size

    def by_scope(self, depth: int = 1) -> dict[str, SummaryTotals]:
        """Subtotals per scope, keyed by the first ``depth`` scope names.

        A variable's scope is its name without the last component, so
        ``"conv1/weights"`` counts under ``"conv1"`` and a top-level ``"counter"``
        under ``""``. Keys are in order of first appearance.

        Args:
          depth: how many leading scope names make a key (at least 1).

        Returns:
          ``{scope: SummaryTotals}``.

        Example:
          >>> s = summary({"a/b/w": np.zeros(3), "a/c/w": np.zeros(2), "v": np.zeros(1)})
          >>> {scope: t.size for scope, t in s.by_scope().items()}
          {'a': 5, '': 1}
        """
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise ValueError(f"by_scope(depth=...) needs an int >= 1, got {depth!r}")
        groups: dict[str, list[SummaryRow]] = {}
        for row in self.rows:
            scope = "/".join(row.name.split("/")[:-1][:depth])
            groups.setdefault(scope, []).append(row)
        return {scope: SummaryTotals.of(rows) for scope, rows in groups.items()}

    def __str__(self) -> str:
        return _render_text(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return _render_html(self)


def summary(variables_or_specs: Mapping[str, Any]) -> Summary:
    """Lists the variables of a model with their shapes, sizes and totals.

    Args:
      variables_or_specs: the ``{"params": {...}, "state": {...}}`` dict from
        ``init`` (values may be arrays or ``jax.ShapeDtypeStruct``), the
        ``{name: VariableSpec}`` dict from ``specs``, or a flat ``{name: array}``
        dict (floating-point entries count as trainable).

    Returns:
      A `Summary`: ``print`` it, or let Jupyter render it as HTML.

    Raises:
      TypeError: for any other input.

    Example:
      >>> import numpy as np
      >>> variables = {"params": {"dense/kernel": np.zeros((3, 2), np.float32)},
      ...              "state": {"step": np.int32(0)}}
      >>> print(summary(variables))
      name          shape   dtype    size  trainable  collections
      -----------------------------------------------------------
      dense/kernel  (3, 2)  float32     6  yes        params
      step          ()      int32       1  no         state
      -----------------------------------------------------------
      Total: 2 variables, 7 parameters (28 B); trainable 6, non-trainable 1
    """
    if not isinstance(variables_or_specs, Mapping):
        raise TypeError(f"{_ACCEPTED}; got {type(variables_or_specs).__name__}.")
    if _is_variables_dict(variables_or_specs):
        return Summary(_rows_from_variables(variables_or_specs))
    values = list(variables_or_specs.values())
    if values and all(isinstance(value, VariableSpec) for value in values):
        return Summary(_rows_from_specs(variables_or_specs))
    return Summary(_rows_from_flat(variables_or_specs))


def _is_variables_dict(tree: Mapping[str, Any]) -> bool:
    # Only "params"/"state" keys holding dicts: a flat dict's values are arrays, never
    # dicts, so this cannot mistake one for the other.
    return (
        len(tree) > 0
        and set(tree) <= {"params", "state"}
        and all(isinstance(value, Mapping) for value in tree.values())
    )


def _rows_from_variables(variables: Mapping[str, Mapping[str, Any]]) -> list[SummaryRow]:
    rows = []
    for collection in ("params", "state"):
        for name, value in variables.get(collection, {}).items():
            shape, dtype = _shape_and_dtype(value, f'["{collection}"]["{name}"]')
            row = _row(name, shape, dtype, collection == "params", (collection,))
            rows.append(_with_array_sharding(row, value))
    return rows


def _with_array_sharding(row: SummaryRow, value: Any) -> SummaryRow:
    """``row`` with the sharding of ``value`` (a jax.Array or ShapeDtypeStruct), if split."""
    sharding = getattr(value, "sharding", None)
    if sharding is None or not hasattr(sharding, "is_fully_replicated"):
        return row
    from jaxscope.sharding import describe_sharding, is_sharded

    if not is_sharded(sharding):
        return row
    shard_size = int(np.prod(sharding.shard_shape(row.shape), dtype=np.int64))
    return row._replace(
        sharding=describe_sharding(sharding), shard_nbytes=shard_size * _itemsize(row.dtype)
    )


def _with_spec_sharding(row: SummaryRow, spec: VariableSpec) -> SummaryRow:
    """``row`` with a spec's partitioning: TF partitions (one piece per device) or a spec."""
    from jax.sharding import PartitionSpec

    from jaxscope.partitioners import slice_shapes

    if isinstance(spec.partitioner, PartitionSpec):
        if all(entry is None for entry in spec.partitioner):
            return row
        return row._replace(sharding=str(spec.partitioner))  # per device: needs a mesh
    if spec.partitions is None or max(spec.partitions) == 1:
        return row
    piece = slice_shapes(row.shape, spec.partitions)[0][1]  # TF's first piece is the largest
    shard_size = int(np.prod(piece, dtype=np.int64))
    return row._replace(
        sharding=f"partitions {list(spec.partitions)}",
        shard_nbytes=shard_size * _itemsize(row.dtype),
    )


def _rows_from_specs(specs: Mapping[str, VariableSpec]) -> list[SummaryRow]:
    return [
        _with_spec_sharding(
            _row(name, spec.shape, spec.dtype, bool(spec.trainable), tuple(spec.collections)),
            spec,
        )
        for name, spec in specs.items()
    ]


def _rows_from_flat(flat: Mapping[str, Any]) -> list[SummaryRow]:
    rows = []
    for name, value in flat.items():
        if isinstance(value, VariableSpec):
            raise TypeError(
                f"{_ACCEPTED}; got a dict mixing VariableSpec values (at {name!r}) with "
                "arrays."
            )
        shape, dtype = _shape_and_dtype(value, f"[{name!r}]")
        collection = variable_collection(dtype, True)
        rows.append(_row(name, shape, dtype, collection == "params", (collection,)))
    return rows


def _shape_and_dtype(value: Any, where: str) -> tuple[tuple[int, ...], Any]:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return tuple(value.shape), value.dtype
    if isinstance(value, (bool, int, float, complex)):
        import jax  # Python scalars take the dtype JAX would give them.

        return (), jax.dtypes.canonicalize_dtype(np.result_type(value))
    raise TypeError(f"{_ACCEPTED}; got {type(value).__name__} at {where}.")


def _row(
    name: Any, shape: Any, dtype: Any, trainable: bool, collections: tuple[str, ...]
) -> SummaryRow:
    shape = tuple(int(dim) for dim in shape)
    size = int(np.prod(shape, dtype=np.int64))
    return SummaryRow(str(name), shape, _as_dtype(dtype), size, trainable, collections)


def _as_dtype(dtype: Any) -> Any:
    # JAX's extended dtypes (PRNG keys) are not NumPy dtypes; keep them as they are.
    try:
        return np.dtype(dtype)
    except TypeError:
        return dtype


def _itemsize(dtype: Any) -> int:
    return int(getattr(dtype, "itemsize", 0))


# Formatting.


def _format_count(n: int) -> str:
    return f"{n:,}"


def _format_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            break
    return f"{value:.1f} {unit}"


def _format_shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _footer(table: Summary) -> tuple[str, str]:
    totals = table.totals
    noun = "variable" if totals.variables == 1 else "variables"
    first = (
        f"Total: {_format_count(totals.variables)} {noun}, "
        f"{_format_count(totals.size)} parameters ({_format_bytes(totals.nbytes)})"
    )
    second = (
        f"trainable {_format_count(totals.trainable_size)}, "
        f"non-trainable {_format_count(totals.non_trainable_size)}"
    )
    if table.sharded and table.device_bytes is not None:
        second += f"; per device {_format_bytes(table.device_bytes)}"
    return first, second


def _header(table: Summary) -> tuple[str, ...]:
    return _SHARDED_HEADER if table.sharded else _HEADER


def _cells(row: SummaryRow, sharded: bool = False) -> tuple[str, ...]:
    head = (row.name, _format_shape(row.shape), str(row.dtype), _format_count(row.size))
    tail = ("yes" if row.trainable else "no", ", ".join(row.collections))
    if not sharded:
        return head + tail
    share = row.device_nbytes
    sharding = (row.sharding or "-", "?" if share is None else _format_bytes(share))
    return head + sharding + tail


def _fit(items: tuple[str, ...], width: int) -> str:
    """Joins ``items`` with commas, cutting whole items first, into ``width`` characters."""
    text = ", ".join(items)
    if len(text) <= width:
        return text
    for keep in range(len(items) - 1, 0, -1):
        text = ", ".join(items[:keep]) + ", " + _ELLIPSIS
        if len(text) <= width:
            return text
    return text[: width - 1] + _ELLIPSIS if width > 1 else _ELLIPSIS


def _render_text(table: Summary) -> str:
    header = _header(table)
    cells = [_cells(row, table.sharded) for row in table.rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(header)]
    # The collections column takes what the others leave of _WIDTH, within limits.
    fixed = sum(widths[:-1]) + len(_GAP) * (len(widths) - 1)
    widths[-1] = min(widths[-1], max(_WIDTH - fixed, _MIN_COLLECTIONS_WIDTH, len(header[-1])))
    cells = [c[:-1] + (_fit(row.collections, widths[-1]),) for c, row in zip(cells, table.rows)]

    def line(values: tuple[str, ...]) -> str:
        padded = (
            value.rjust(width) if column in _RIGHT_ALIGNED else value.ljust(width)
            for value, width, column in zip(values, widths, header)
        )
        return _GAP.join(padded).rstrip()

    rule = "-" * (sum(widths) + len(_GAP) * (len(widths) - 1))
    first, second = _footer(table)
    footer = [f"{first}; {second}"]
    if len(footer[0]) > _WIDTH:
        footer = [first + ";", "       " + second]
    return "\n".join([line(header), rule, *map(line, cells), rule, *footer])


def _render_html(table: Summary) -> str:
    esc = html.escape
    right = ' style="text-align: right"'

    def cell(tag: str, header: str, text: str) -> str:
        align = right if header in _RIGHT_ALIGNED else ""
        return f"<{tag}{align}>{esc(text)}</{tag}>"

    header = _header(table)
    head = "".join(cell("th", h, h) for h in header)
    body = "".join(
        "<tr>"
        + "".join(cell("td", h, c) for h, c in zip(header, _cells(row, table.sharded)))
        + "</tr>"
        for row in table.rows
    )
    first, second = _footer(table)
    foot = f'<tr><td colspan="{len(header)}">{esc(first)}; {esc(second)}</td></tr>'
    return (
        '<table class="jaxscope-summary">'
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody>"
        f"<tfoot>{foot}</tfoot>"
        "</table>"
    )
