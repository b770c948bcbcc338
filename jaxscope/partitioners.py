"""TF1's variable partitioners and the slicing rules behind partitioned variables.

A partitioner is a callable ``partitioner(shape, dtype) -> list[int]`` giving the number
of pieces per axis (at most one entry above 1), exactly as
``tf.compat.v1.fixed_size_partitioner`` and friends compute it. jaxscope keeps a
partitioned variable as ONE logical array (its partitioning becomes a sharding), but
the piece sizes and offsets are TF's, so checkpoints read and write the same slices:
`slice_shapes` lists them and `slice_spec` spells one as TF's save-slice string.

Pure Python: nothing here needs JAX.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Partitioner",
    "fixed_size_partitioner",
    "min_max_variable_partitioner",
    "slice_axis",
    "slice_shapes",
    "slice_spec",
    "validate_partitions",
    "variable_axis_size_partitioner",
]

Partitioner = Callable[..., list[int]]


def _shape_tuple(shape: Any) -> tuple[Any, ...]:
    """A shape as a tuple (``None`` for unknown dims); TensorShape-likes allowed."""
    as_list = getattr(shape, "as_list", None)
    if as_list is not None:
        shape = as_list()
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise ValueError(f"shape is not a TensorShape: {shape}")
    return tuple(None if d is None else int(d) for d in shape)


def _fully_defined(shape: Any) -> tuple[int, ...]:
    dims = _shape_tuple(shape)
    if any(d is None for d in dims):
        raise ValueError(f"shape is not fully defined: {dims}")
    return dims


def _element_size(dtype: Any, bytes_per_string_element: int) -> int:
    """Bytes per element; strings count ``bytes_per_string_element`` as in TF."""
    if dtype is None:
        raise ValueError(f"dtype is not a DType: {dtype}")
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if name == "string":  # TF's name for its string dtype
        return bytes_per_string_element
    try:
        np_dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
    except TypeError:
        raise ValueError(f"dtype is not a DType: {dtype}") from None
    if np_dtype.kind in "OSU":  # object, bytes, str
        return bytes_per_string_element
    return np_dtype.itemsize


def _check_axis(axis: int, dims: tuple[int, ...]) -> int:
    if not -len(dims) <= axis < len(dims):
        raise ValueError(f"Can not partition variable along axis {axis} when shape is only {dims}")
    return axis % len(dims)


def fixed_size_partitioner(num_shards: int, axis: int = 0) -> Partitioner:
    """``num_shards`` pieces along ``axis`` (fewer if the axis is shorter).

    Args:
      num_shards: number of pieces wanted.
      axis: the axis to split.

    Returns:
      A partitioner ``(shape, dtype=None) -> list[int]``.

    Example:
      >>> fixed_size_partitioner(3)((10, 4))
      [3, 1]
    """

    def partitioner(shape: Any, dtype: Any = None) -> list[int]:
        dims = _fully_defined(shape)
        index = _check_axis(axis, dims)
        partitions = [1] * len(dims)
        partitions[index] = min(num_shards, dims[index])
        return partitions

    return partitioner


def variable_axis_size_partitioner(
    max_shard_bytes: int,
    axis: int = 0,
    bytes_per_string_element: int = 16,
    max_shards: int | None = None,
) -> Partitioner:
    """As many pieces along ``axis`` as keep each under ``max_shard_bytes``.

    Each piece holds ``max(1, floor(max_shard_bytes / bytes_per_slice))`` slices of the
    axis, so a single slice larger than the limit still makes a piece; ``max_shards``
    (when truthy) caps the count and takes precedence.

    Args:
      max_shard_bytes: target upper bound of a piece's size in bytes.
      axis: the axis to split.
      bytes_per_string_element: assumed size of one string element.
      max_shards: optional cap on the number of pieces.

    Returns:
      A partitioner ``(shape, dtype) -> list[int]``.

    Example:
      >>> variable_axis_size_partitioner(64)((10, 4), "float32")  # 16 B per row
      [3, 1]
    """
    if max_shard_bytes < 1 or bytes_per_string_element < 1:
        raise ValueError("Both max_shard_bytes and bytes_per_string_element must be positive.")
    if max_shards and max_shards < 1:
        raise ValueError("max_shards must be positive.")

    def partitioner(shape: Any, dtype: Any) -> list[int]:
        dims = _fully_defined(shape)
        element_size = _element_size(dtype, bytes_per_string_element)
        index = _check_axis(axis, dims)
        partitions = [1] * len(dims)
        if dims[index] == 0:
            return partitions  # nothing to split (TF divides by zero here)
        bytes_per_slice = math.prod(dims) / dims[index] * element_size
        slices_per_shard = max(1, math.floor(max_shard_bytes / bytes_per_slice))
        shards = math.ceil(dims[index] / slices_per_shard)
        if max_shards:
            shards = min(max_shards, shards)
        partitions[index] = shards
        return partitions

    return partitioner


def min_max_variable_partitioner(
    max_partitions: int = 1,
    axis: int = 0,
    min_slice_size: int = 256 << 10,
    bytes_per_string_element: int = 16,
) -> Partitioner:
    """Pieces of at least ``min_slice_size`` bytes, at most ``max_partitions`` of them.

    ``count = max(1, min(shape[axis], max_partitions, ceil(total_bytes / min_slice_size)))``.

    Args:
      max_partitions: upper bound on the number of pieces.
      axis: the axis to split.
      min_slice_size: minimum bytes per piece.
      bytes_per_string_element: assumed size of one string element.

    Returns:
      A partitioner ``(shape, dtype) -> list[int]``.

    Example:
      >>> min_max_variable_partitioner(16)((1024, 1024), "float32")  # 4 MiB / 256 KiB
      [16, 1]
    """

    def partitioner(shape: Any, dtype: Any) -> list[int]:
        dims = _fully_defined(shape)
        if axis >= len(dims) or axis < -len(dims):
            raise ValueError(
                f"Can not partition variable along axis {axis} when shape is only {dims}"
            )
        index = axis % len(dims)
        total_bytes = math.prod(dims) * _element_size(dtype, bytes_per_string_element)
        wanted = math.ceil(total_bytes / min_slice_size)
        partitions = [1] * len(dims)
        partitions[index] = max(1, min(dims[index], max_partitions, wanted))
        return partitions

    return partitioner


def validate_partitions(name: str, shape: Any, partitions: Any) -> list[int]:
    """Checks a partitioner's answer as TF's ``_call_partitioner`` does.

    The messages are TF's; on Python >= 3.11 the variable's ``name`` is attached as an
    exception note.

    Args:
      name: the variable's full name (for the note).
      shape: the variable's full shape.
      partitions: what the partitioner returned.

    Returns:
      ``partitions`` as a list of ints.

    Raises:
      ValueError: unknown or scalar shape, not a sequence, wrong length, an entry
        below 1, or more than one axis split.

    Example:
      >>> validate_partitions("v", (10, 4), (3, 1))
      [3, 1]
    """
    try:
        return _validate(shape, partitions)
    except ValueError as err:
        if hasattr(err, "add_note"):  # Python >= 3.11
            err.add_note(f"(partitioning variable {name!r})")
        raise


def _validate(shape: Any, partitions: Any) -> list[int]:
    dims = _shape_tuple(shape)
    if any(d is None for d in dims):
        raise ValueError(
            f"Shape of a new partitioned variable must be fully defined, but instead was {dims}."
        )
    if len(dims) < 1:
        raise ValueError(f"A partitioned Variable must have rank at least 1, shape: {dims}")
    if isinstance(partitions, (str, bytes)) or not isinstance(partitions, Sequence):
        raise ValueError(f"Partitioner must return a sequence, but saw: {partitions}")
    if len(partitions) != len(dims):
        raise ValueError(
            "Partitioner returned a partition list that does not match the Variable's "
            f"rank: {partitions} vs. {dims}"
        )
    if any(p < 1 for p in partitions):
        raise ValueError(f"Partitioner returned zero partitions for some axes: {partitions}")
    if sum(p > 1 for p in partitions) > 1:
        raise ValueError(
            "Can only slice a variable along one dimension: "
            f"shape: {dims}, partitioning: {partitions}"
        )
    return [int(p) for p in partitions]


def slice_axis(partitions: Sequence[int]) -> tuple[int, int]:
    """``(axis, count)``: the first axis split in more than one piece, else ``(0, 1)``.

    Example:
      >>> slice_axis([1, 4, 1])
      (1, 4)
    """
    for axis, count in enumerate(partitions):
        if count > 1:
            return axis, int(count)
    return 0, 1


def slice_shapes(
    shape: Sequence[int], partitions: Sequence[int]
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """TF's ``_iter_slices``: ``(offset, piece_shape)`` of every piece, in order.

    Pieces get ``dim // n`` entries of the split axis, the first ``dim % n`` one more.

    Args:
      shape: the variable's full shape.
      partitions: one count per axis (as a partitioner returns).

    Returns:
      A list of ``(offset, piece_shape)`` tuples.

    Example:
      >>> slice_shapes((10, 4), [3, 1])
      [((0, 0), (4, 4)), ((4, 0), (3, 4)), ((7, 0), (3, 4))]
    """
    full = [int(d) for d in shape]
    axis, count = slice_axis(partitions)
    base, excess = divmod(full[axis], count)
    offset = [0] * len(full)
    pieces = []
    for i in range(count):
        piece = list(full)
        piece[axis] = base + (1 if i < excess else 0)
        pieces.append((tuple(offset), tuple(piece)))
        offset[axis] += piece[axis]
    return pieces


def slice_spec(full_shape: Sequence[int], offset: Sequence[int], piece_shape: Sequence[int]) -> str:
    """TF's save-slice spec of one piece: ``"10 4 4,3:0,4"`` (full shape, then start,length).

    Example:
      >>> slice_spec((10, 4), (4, 0), (3, 4))
      '10 4 4,3:0,4'
    """
    dims = " ".join(str(int(d)) for d in full_shape)
    extents = ":".join(f"{int(o)},{int(n)}" for o, n in zip(offset, piece_shape))
    return f"{dims} {extents}"
