"""Read TF1 checkpoints written by TensorFlow, without TensorFlow or protobuf.

A TF1 ("V2" / tensor bundle) checkpoint named by a prefix ``P`` is the file
``P.index`` (a LevelDB-style sorted table mapping tensor names to small protobuf
records) plus the data shards ``P.data-00000-of-0000N`` holding the raw tensor
bytes. This module decodes both by hand (see ``TF_CHECKPOINT_FORMAT.md``),
verifies every CRC-32C checksum, reassembles partitioned (sliced) variables and
returns plain numpy arrays ready for ``jnp.asarray``.

Public functions:

* :func:`load_checkpoint` -- ``{name: np.ndarray}`` for every (or some) variable;
* :func:`list_variables` -- ``[(name, shape), ...]`` sorted by name, as TF;
* :func:`read_checkpoint_state` -- parse the text ``checkpoint`` file;
* :func:`is_tf_checkpoint` -- does ``prefix.index`` exist.

Errors are subclasses of ``FileNotFoundError`` (missing files), ``ValueError``
(corrupt or truncated files, checksum mismatches, unsupported data) and
``TypeError`` (string tensors, which JAX cannot hold); each names the file and,
where one is involved, the tensor.

Example (doctest skipped: it needs a checkpoint on disk)::

    >>> from jaxscope.train.tf_checkpoint import load_checkpoint, list_variables
    >>> list_variables("ckpts/model.ckpt-100")  # doctest: +SKIP
    [('global_step', ()), ('image_filters/conv1/biases', (32,)), ...]
    >>> params = load_checkpoint("ckpts")  # latest checkpoint in the directory  # doctest: +SKIP
    >>> params["image_filters/conv1/weights"].shape  # doctest: +SKIP
    (5, 5, 32, 32)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, Union

import numpy as np

from jaxscope.errors import JaxscopeError
from jaxscope.train._bounds import checked_shape, file_size, open_regular, read_exactly
from jaxscope.train._crc32c import crc32c, unmask
from jaxscope.train.errors import (
    CheckpointError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
)
from jaxscope.train.state import STATE_FILENAME, read_state_file

__all__ = [
    "TFCheckpointChecksumError",
    "TFCheckpointCorruptError",
    "TFCheckpointError",
    "TFCheckpointNotFoundError",
    "TFCheckpointStringError",
    "TFCheckpointUnsupportedError",
    "is_tf_checkpoint",
    "list_variables",
    "load_checkpoint",
    "read_checkpoint_state",
]

PathLike = Union[str, "os.PathLike[str]"]

# --------------------------------------------------------------------------- errors


class TFCheckpointError(CheckpointError):
    """Base class of the errors (``ValueError`` s) raised when reading a TF checkpoint."""


class TFCheckpointCorruptError(TFCheckpointError, CorruptCheckpointError):
    """A checkpoint file is truncated or malformed (bad magic, offsets, varints...)."""


class TFCheckpointChecksumError(TFCheckpointCorruptError):
    """A stored CRC-32C does not match the bytes read (block or tensor)."""


class TFCheckpointUnsupportedError(TFCheckpointError):
    """The checkpoint uses a feature this reader does not handle (e.g. Snappy)."""


class TFCheckpointNotFoundError(CheckpointNotFoundError):
    """A checkpoint file (``.index``, a data shard or ``checkpoint``) is missing."""


class TFCheckpointStringError(JaxscopeError, TypeError):
    """A string tensor was requested: JAX arrays cannot hold strings."""


# --------------------------------------------------------------------------- primitives

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_LEN = 48
_BLOCK_TRAILER_LEN = 5


def _varint(buf: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return ``(value, new_pos)``."""
    result = 0
    shift = 0
    while True:
        if pos >= end or shift > 63:
            raise TFCheckpointCorruptError(f"{what}: truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _proto_fields(buf: bytes, what: str) -> list[tuple[int, int, int | bytes]]:
    """Split a serialized protobuf message into ``(field_number, wire_type, value)``."""
    out: list[tuple[int, int, int | bytes]] = []
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos, end, what)
        num, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos, end, what)
        elif wire == 1:
            if pos + 8 > end:
                raise TFCheckpointCorruptError(f"{what}: truncated fixed64 field")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire == 2:
            n, pos = _varint(buf, pos, end, what)
            if pos + n > end:
                raise TFCheckpointCorruptError(f"{what}: length-delimited field overruns")
            value = bytes(buf[pos : pos + n])
            pos += n
        elif wire == 5:
            if pos + 4 > end:
                raise TFCheckpointCorruptError(f"{what}: truncated fixed32 field")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise TFCheckpointCorruptError(f"{what}: unsupported protobuf wire type {wire}")
        out.append((num, wire, value))
    return out


def _packed_varints(value: int | bytes, what: str) -> list[int]:
    if isinstance(value, int):
        return [value]
    vals, pos = [], 0
    while pos < len(value):
        v, pos = _varint(value, pos, len(value), what)
        vals.append(v)
    return vals


# --------------------------------------------------------------------------- .index table


def _read_block(data: bytes, offset: int, size: int, path: str, kind: str) -> bytes:
    end = offset + size + _BLOCK_TRAILER_LEN
    if end > len(data) - _FOOTER_LEN or offset < 0:
        raise TFCheckpointCorruptError(
            f"{path}: {kind} block (offset {offset}, size {size}) extends beyond the "
            f"table ({len(data)} bytes); the .index file is truncated or corrupt"
        )
    ctype = data[offset + size]
    stored = int.from_bytes(data[offset + size + 1 : end], "little")
    actual = crc32c(data[offset : offset + size + 1])
    if unmask(stored) != actual:
        raise TFCheckpointChecksumError(
            f"{path}: CRC-32C mismatch in {kind} block at offset {offset} "
            f"(stored {unmask(stored):#010x}, computed {actual:#010x}); the .index file is corrupt"
        )
    if ctype == 1:
        raise TFCheckpointUnsupportedError(
            f"{path}: {kind} block is Snappy-compressed; only uncompressed tables are supported "
            "(TensorFlow never compresses checkpoint indexes)"
        )
    if ctype != 0:
        raise TFCheckpointCorruptError(f"{path}: {kind} block has unknown compression type {ctype}")
    return data[offset : offset + size]


def _block_entries(block: bytes, path: str, kind: str) -> list[tuple[bytes, bytes]]:
    what = f"{path}: {kind} block"
    if len(block) < 4:
        raise TFCheckpointCorruptError(f"{what} is too short ({len(block)} bytes)")
    num_restarts = int.from_bytes(block[-4:], "little")
    limit = len(block) - 4 - 4 * num_restarts
    if num_restarts < 1 or limit < 0:
        raise TFCheckpointCorruptError(f"{what} has an invalid restart count {num_restarts}")
    entries: list[tuple[bytes, bytes]] = []
    key = b""
    pos = 0
    while pos < limit:
        shared, pos = _varint(block, pos, limit, what)
        unshared, pos = _varint(block, pos, limit, what)
        vlen, pos = _varint(block, pos, limit, what)
        if shared > len(key) or pos + unshared + vlen > limit:
            raise TFCheckpointCorruptError(f"{what}: malformed entry at offset {pos}")
        new_key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        if entries and new_key <= key:
            raise TFCheckpointCorruptError(f"{what}: keys are not strictly increasing")
        key = new_key
        entries.append((key, block[pos : pos + vlen]))
        pos += vlen
    return entries


def _read_table(path: str) -> list[tuple[bytes, bytes]]:
    """All ``(key, value)`` pairs of a LevelDB-style table file, in key order."""
    with open_regular(path, "TF checkpoint index file", TFCheckpointNotFoundError) as f:
        data = f.read()  # a regular file: its size bounds the read
    if len(data) < _FOOTER_LEN:
        raise TFCheckpointCorruptError(
            f"{path}: file is {len(data)} bytes, shorter than the 48-byte table footer; "
            "the .index file is truncated"
        )
    footer = data[-_FOOTER_LEN:]
    magic = int.from_bytes(footer[40:44], "little") | int.from_bytes(footer[44:48], "little") << 32
    if magic != _TABLE_MAGIC:
        raise TFCheckpointCorruptError(
            f"{path}: bad table magic number {magic:#018x} (expected {_TABLE_MAGIC:#018x}); "
            "not a TensorFlow checkpoint index, or truncated"
        )
    what = f"{path}: footer"
    pos = 0
    _meta_off, pos = _varint(footer, pos, 40, what)
    _meta_size, pos = _varint(footer, pos, 40, what)
    idx_off, pos = _varint(footer, pos, 40, what)
    idx_size, pos = _varint(footer, pos, 40, what)
    index = _block_entries(_read_block(data, idx_off, idx_size, path, "index"), path, "index")
    out: list[tuple[bytes, bytes]] = []
    for _sep, handle in index:
        hw = f"{path}: index block handle"
        off, p = _varint(handle, 0, len(handle), hw)
        size, p = _varint(handle, p, len(handle), hw)
        block = _read_block(data, off, size, path, "data")
        entries = _block_entries(block, path, "data")
        if out and entries and entries[0][0] <= out[-1][0]:
            raise TFCheckpointCorruptError(f"{path}: data blocks are out of key order")
        out.extend(entries)
    return out


# --------------------------------------------------------------------------- bundle protos


@dataclass
class _Entry:
    name: str
    dtype: int = 0
    shape: tuple[int, ...] = ()
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int = 0
    # per slice: list of (start, length or None for the whole dimension)
    slices: list[list[tuple[int, int | None]]] = field(default_factory=list)


def _parse_shape(buf: bytes, what: str) -> tuple[int, ...]:
    dims: list[int] = []
    for num, wire, value in _proto_fields(buf, what):
        if num == 2 and wire == 2:
            size = 0
            for dnum, dwire, dval in _proto_fields(value, what):  # type: ignore[arg-type]
                if dnum == 1 and dwire == 0:
                    size = _signed64(dval)  # type: ignore[arg-type]
            if size < 0:
                raise TFCheckpointCorruptError(
                    f"{what}: unknown dimension size {size} in a checkpoint"
                )
            dims.append(size)
        elif num == 3 and value:
            raise TFCheckpointCorruptError(f"{what}: shape of unknown rank in a checkpoint")
    return tuple(dims)


def _parse_slice(buf: bytes, what: str) -> list[tuple[int, int | None]]:
    extents: list[tuple[int, int | None]] = []
    for num, wire, value in _proto_fields(buf, what):
        if num == 1 and wire == 2:
            start, length = 0, None
            for enum_, ewire, evalue in _proto_fields(value, what):  # type: ignore[arg-type]
                if enum_ == 1 and ewire == 0:
                    start = _signed64(evalue)  # type: ignore[arg-type]
                elif enum_ == 2 and ewire == 0:
                    length = _signed64(evalue)  # type: ignore[arg-type]
            # a whole dimension has no length (and starts at 0, as TF reads it)
            extents.append((0, None) if length is None else (start, length))
    return extents


def _parse_entry(name: str, buf: bytes, path: str) -> _Entry:
    what = f"{path}: entry for tensor {name!r}"
    e = _Entry(name)
    for num, wire, value in _proto_fields(buf, what):
        if num == 1 and wire == 0:
            e.dtype = value  # type: ignore[assignment]
        elif num == 2 and wire == 2:
            e.shape = _parse_shape(value, what)  # type: ignore[arg-type]
        elif num == 3 and wire == 0:
            e.shard_id = _signed64(value)  # type: ignore[arg-type]
        elif num == 4 and wire == 0:
            e.offset = _signed64(value)  # type: ignore[arg-type]
        elif num == 5 and wire == 0:
            e.size = _signed64(value)  # type: ignore[arg-type]
        elif num == 6 and wire == 5:
            e.crc32c = value  # type: ignore[assignment]
        elif num == 7 and wire == 2:
            e.slices.append(_parse_slice(value, what))  # type: ignore[arg-type]
    return e


# --------------------------------------------------------------------------- dtypes

_DT_STRING = 7
_DT_BFLOAT16 = 14
# DataType enum -> numpy little-endian dtype string (quantized types as their ints)
_NUMPY_DTYPES: dict[int, str] = {
    1: "<f4",
    2: "<f8",
    3: "<i4",
    4: "u1",
    5: "<i2",
    6: "i1",
    8: "<c8",
    9: "<i8",
    10: "?",
    11: "i1",
    12: "u1",
    13: "<i4",
    15: "<i2",
    16: "<u2",
    17: "<u2",
    18: "<c16",
    19: "<f2",
    22: "<u4",
    23: "<u8",
}
_DTYPE_NAMES = {20: "resource", 21: "variant"}


def _numpy_dtype(entry: _Entry, path: str, big_endian: bool) -> np.dtype:
    if entry.dtype == _DT_BFLOAT16:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    code = _NUMPY_DTYPES.get(entry.dtype)
    if code is None:
        kind = _DTYPE_NAMES.get(entry.dtype, f"DataType enum {entry.dtype}")
        raise TFCheckpointUnsupportedError(
            f"{path}: tensor {entry.name!r} has unsupported dtype ({kind})"
        )
    dt = np.dtype(code)
    return dt.newbyteorder(">") if big_endian and dt.itemsize > 1 else dt


# ------------------------------------------------------------ ordered code (slice keys)


def _escape_ordered(s: bytes) -> bytes:
    out = bytearray()
    for b in s:
        if b == 0x00:
            out += b"\x00\xff"
        elif b == 0xFF:
            out += b"\xff\x00"
        else:
            out.append(b)
    return bytes(out)


def _ordered_unsigned(v: int) -> bytes:
    body = v.to_bytes((v.bit_length() + 7) // 8, "big") if v else b""
    return bytes([len(body)]) + body


def _ordered_signed(v: int) -> bytes:
    length = 1
    while not (-(1 << (7 * length - 1)) <= v < (1 << (7 * length - 1))):
        length += 1
    nbits = 8 * length
    x = v & ((1 << nbits) - 1)
    top = length + 1
    # v >= 0: L ones then a zero; v < 0: L zeros then a one
    prefix = ((1 << length) - 1) << 1 if v >= 0 else 1
    x = (x & ((1 << (nbits - top)) - 1)) | (prefix << (nbits - top))
    return x.to_bytes(length, "big")


def _slice_key(name: bytes, extents: list[tuple[int, int | None]]) -> bytes:
    key = b"\x00" + _escape_ordered(name) + b"\x00\x01" + _ordered_unsigned(len(extents))
    for start, length in extents:
        key += _ordered_signed(start) + _ordered_signed(-1 if length is None else length)
    return key


# --------------------------------------------------------------------------- the bundle


class _Bundle:
    """Parsed ``.index`` of one checkpoint plus lazy access to its data shards."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.index_path = prefix + ".index"
        self.table = dict(_read_table(self.index_path))
        header = self.table.get(b"")
        if header is None:
            raise TFCheckpointCorruptError(f"{self.index_path}: no bundle header entry (key '')")
        what = f"{self.index_path}: bundle header"
        self.num_shards = 1
        self.big_endian = False
        for num, wire, value in _proto_fields(header, what):
            if num == 1 and wire == 0:
                self.num_shards = _signed64(value)  # type: ignore[arg-type]
            elif num == 2 and wire == 0:
                self.big_endian = value == 1
            elif num == 3 and wire == 2:
                self._check_version(value, what)  # type: ignore[arg-type]
        if self.num_shards < 1:
            raise TFCheckpointCorruptError(f"{what}: invalid num_shards {self.num_shards}")
        self.entries: dict[str, _Entry] = {}
        for key, value in self.table.items():
            if not key or key[0] == 0:
                continue
            name = key.decode("utf-8", errors="surrogateescape")
            self.entries[name] = _parse_entry(name, value, self.index_path)
        self._files: dict[int, BinaryIO] = {}

    def _check_version(self, buf: bytes, what: str) -> None:
        min_consumer, bad = 0, []
        for num, _wire, value in _proto_fields(buf, what):
            if num == 2:
                min_consumer = _signed64(value)  # type: ignore[arg-type]
            elif num == 3:
                bad += _packed_varints(value, what)
        if min_consumer > 1 or 1 in bad:
            raise TFCheckpointUnsupportedError(
                f"{what}: checkpoint requires a newer reader (min_consumer {min_consumer}, "
                f"bad_consumers {bad}); this reader implements consumer version 1"
            )

    def data_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def __enter__(self) -> _Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        for f in self._files.values():
            f.close()

    def shard(self, shard: int, tensor: str) -> BinaryIO:
        """The open data shard ``shard`` (a regular file), opened once."""
        if shard not in self._files:
            if not 0 <= shard < self.num_shards:
                raise TFCheckpointCorruptError(
                    f"{self.index_path}: tensor {tensor!r} names data shard {shard}, but the "
                    f"checkpoint has {self.num_shards} shard(s)"
                )
            def missing(message: str) -> TFCheckpointNotFoundError:
                return TFCheckpointNotFoundError(f"{message} (needed for tensor {tensor!r})")

            self._files[shard] = open_regular(
                self.data_path(shard), "TF checkpoint data file", missing)
        return self._files[shard]

    def _checked(self, e: _Entry, display: str, allow_strings: bool) -> tuple[BinaryIO, np.dtype]:
        """``(shard, dtype)`` of an unsliced entry once its claims are checked against the
        bytes present: its extent lies inside the shard and its shape needs exactly its
        size (a string takes at least a byte). Nothing is read or allocated yet."""
        if e.dtype == _DT_STRING and not allow_strings:
            raise TFCheckpointStringError(
                f"tensor {display!r} in {self.index_path} is a string tensor (DT_STRING); JAX "
                "arrays cannot hold strings. Pass allow_strings=True to get it as a numpy "
                "object array of bytes, or leave it out with names=[...]"
            )
        f = self.shard(e.shard_id, display)
        path, present = self.data_path(e.shard_id), file_size(f)
        if e.offset < 0 or e.size < 0 or e.offset + e.size > present:
            raise TFCheckpointCorruptError(
                f"{path}: tensor {display!r} occupies bytes [{e.offset}, {e.offset + e.size}) "
                f"but the file has {present} bytes; the data file is truncated or the "
                "index is corrupt"
            )

        def corrupt(why: str) -> TFCheckpointCorruptError:
            return TFCheckpointCorruptError(f"{path}: tensor {display!r}: {why}")

        if e.dtype == _DT_STRING:
            checked_shape(e.shape, 1, e.size, corrupt)
            return f, np.dtype(object)
        dt = _numpy_dtype(e, self.index_path, self.big_endian)
        checked_shape(e.shape, dt.itemsize, e.size, corrupt)
        count = math.prod(e.shape)
        if e.size != count * dt.itemsize:
            raise TFCheckpointCorruptError(
                f"{path}: tensor {display!r} has {e.size} bytes, expected {count} x "
                f"{dt.itemsize} for shape {e.shape}"
            )
        return f, dt

    def read_entry(self, e: _Entry, display: str, allow_strings: bool) -> np.ndarray:
        """Read, verify and convert the bytes of one unsliced entry (a private array)."""
        return self._read_checked(e, display, *self._checked(e, display, allow_strings))

    def _read_checked(self, e: _Entry, display: str, f: BinaryIO, dt: np.dtype) -> np.ndarray:
        """`read_entry` once `_checked` has passed ``e`` (its shard and dtype)."""
        path = self.data_path(e.shard_id)
        raw = read_exactly(f, e.offset, e.size)
        if raw is None:
            raise TFCheckpointCorruptError(f"{path}: tensor {display!r} is cut short")
        if e.dtype == _DT_STRING:
            return self._read_strings(bytes(raw), e, display, path, math.prod(e.shape))
        actual = crc32c(raw)
        if actual != unmask(e.crc32c):
            raise TFCheckpointChecksumError(
                f"{path}: CRC-32C mismatch for tensor {display!r} (stored "
                f"{unmask(e.crc32c):#010x}, computed {actual:#010x}); the checkpoint data "
                "is corrupt"
            )
        if e.dtype == _DT_BFLOAT16:
            bits = np.frombuffer(raw, dtype=">u2" if self.big_endian else "<u2")
            arr = bits.astype(np.uint16).view(dt)
        else:
            arr = np.frombuffer(raw, dtype=dt)
            arr = arr.astype(dt.newbyteorder("=")) if dt.byteorder == ">" else arr
        return arr.reshape(e.shape)

    def _read_strings(
        self, raw: bytes, e: _Entry, display: str, path: str, count: int
    ) -> np.ndarray:
        what = f"{path}: string tensor {display!r}"
        lengths: list[int] = []
        pos = 0
        for _ in range(count):
            n, pos = _varint(raw, pos, len(raw), what)
            lengths.append(n)
        len_bytes = b"".join(
            n.to_bytes(4, "little") if n <= 0xFFFFFFFF else n.to_bytes(8, "little") for n in lengths
        )
        if pos + 4 + sum(lengths) != len(raw):
            raise TFCheckpointCorruptError(f"{what}: sizes do not add up to {len(raw)} bytes")
        stored_len_crc = raw[pos : pos + 4]
        if unmask(int.from_bytes(stored_len_crc, "little")) != crc32c(len_bytes):
            raise TFCheckpointChecksumError(f"{what}: CRC-32C mismatch in the element lengths")
        body = raw[pos + 4 :]
        crc = crc32c(body, crc32c(stored_len_crc, crc32c(len_bytes)))
        if crc != unmask(e.crc32c):
            raise TFCheckpointChecksumError(
                f"{what}: CRC-32C mismatch for tensor {display!r}; the checkpoint data is corrupt"
            )
        out = np.empty(count, dtype=object)
        p = 0
        for i, n in enumerate(lengths):
            out[i] = bytes(body[p : p + n])
            p += n
        return out.reshape(e.shape)

    def read(self, name: str, allow_strings: bool = False) -> np.ndarray:
        e = self.entries[name]
        if not e.slices:
            return self.read_entry(e, name, allow_strings)
        # a partitioned variable: every slice's claims are checked before the whole is made
        boxes = _tiling(name, e.shape, e.slices, self.index_path)
        name_bytes = name.encode("utf-8", errors="surrogateescape")
        pieces: list[tuple[_Entry, str, BinaryIO, tuple[slice, ...]]] = []
        dtype = None
        for extents, box in zip(e.slices, boxes):
            desc = _describe_slice(extents)
            value = self.table.get(_slice_key(name_bytes, extents))
            if value is None:
                raise TFCheckpointCorruptError(
                    f"{self.index_path}: slice [{desc}] of partitioned tensor {name!r} has no entry"
                )
            display = f"{name}[{desc}]"
            piece = _parse_entry(display, value, self.index_path)
            f, dtype = self._checked(piece, display, allow_strings)
            expected = tuple(stop - start for start, stop in box)
            if piece.dtype != e.dtype or piece.shape != expected:
                raise TFCheckpointCorruptError(
                    f"{self.index_path}: slice [{desc}] of {name!r} has shape {piece.shape} "
                    f"(dtype enum {piece.dtype}), expected {expected} (dtype enum {e.dtype}) "
                    f"inside the full shape {e.shape}"
                )
            pieces.append((piece, display, f, tuple(slice(*bounds) for bounds in box)))
        full = np.empty(e.shape, dtype=dtype)
        for piece, display, f, index in pieces:  # all pieces share the entry's dtype
            full[index] = self._read_checked(piece, display, f, dtype)
        return full


def _describe_slice(extents: list[tuple[int, int | None]]) -> str:
    return ", ".join(":" if n is None else f"{s}:{s + n}" for s, n in extents)


def _tiling(
    name: str, shape: tuple[int, ...], slices: list[list[tuple[int, int | None]]], where: str
) -> list[tuple[tuple[int, int], ...]]:
    """Each slice's ``(start, stop)`` per dimension, checked to tile ``shape`` exactly:
    same rank, inside the bounds, no overlap, no gap -- what TensorFlow requires.

    Overlaps are looked for along the dimension the slices split most, so the usual
    one-axis partitioning costs ``n log n``.
    """

    def refuse(why: str) -> TFCheckpointCorruptError:
        return TFCheckpointCorruptError(
            f"{where}: partitioned tensor {name!r} of shape {list(shape)}: {why}. Its slices "
            "must tile the shape exactly; the checkpoint is corrupt or was not written by "
            "TensorFlow"
        )

    boxes = []
    for extents in slices:
        if len(extents) != len(shape):
            raise refuse(f"slice [{_describe_slice(extents)}] has {len(extents)} dimensions")
        box = tuple((0, dim) if length is None else (start, start + length)
                    for dim, (start, length) in zip(shape, extents))
        if any(start < 0 or stop < start or stop > dim
               for dim, (start, stop) in zip(shape, box)):
            raise refuse(f"slice [{_describe_slice(extents)}] is outside its bounds")
        boxes.append(box)
    covered = sum(math.prod(stop - start for start, stop in box) for box in boxes)
    if covered != math.prod(shape):
        raise refuse(f"its slices cover {covered} of its {math.prod(shape)} elements (TF: "
                     f"Does not have sufficient slices for partitioned tensor {name})")
    if shape:
        axis = max(range(len(shape)), key=lambda d: len({box[d][0] for box in boxes}))
        active: list[tuple[tuple[int, int], ...]] = []
        for box in sorted(boxes, key=lambda b: b[axis]):
            active = [a for a in active if a[axis][1] > box[axis][0]]
            for other in active:
                if all(max(a0, b0) < min(a1, b1) for (a0, a1), (b0, b1) in zip(box, other)):
                    raise refuse("two of its slices overlap, so others leave a gap (TF: Does "
                                 f"not have sufficient slices for partitioned tensor {name})")
            active.append(box)
    return boxes


# --------------------------------------------------------------------------- public API


def read_checkpoint_state(directory: PathLike) -> tuple[str | None, list[str]]:
    """Parse the text ``checkpoint`` state file of a checkpoint directory.

    Returns ``(model_checkpoint_path, all_model_checkpoint_paths)``; relative
    paths are resolved against ``directory``; ``model_checkpoint_path`` is None
    when the file does not name one. Unknown fields are ignored.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "checkpoint").write_text(
    ...     'model_checkpoint_path: "model.ckpt-2"\\n'
    ...     'all_model_checkpoint_paths: "model.ckpt-1"\\n'
    ...     'all_model_checkpoint_paths: "model.ckpt-2"\\n')
    >>> latest, all_paths = read_checkpoint_state(d)
    >>> latest == str(d / "model.ckpt-2"), [pathlib.Path(p).name for p in all_paths]
    (True, ['model.ckpt-1', 'model.ckpt-2'])
    """
    directory = os.fspath(directory)
    found = read_state_file(directory)
    if found is None:
        path = os.path.join(directory, STATE_FILENAME)
        raise TFCheckpointNotFoundError(f"checkpoint state file not found: {path}")
    return found


def is_tf_checkpoint(prefix: PathLike) -> bool:
    """Whether ``prefix`` names a TF (V2) checkpoint, i.e. ``prefix.index`` exists.

    >>> is_tf_checkpoint("/nonexistent/model.ckpt-1")
    False
    """
    return os.path.isfile(os.fspath(prefix) + ".index")


def _resolve_prefix(prefix: PathLike) -> str:
    p = os.fspath(prefix)
    if os.path.isdir(p):  # a directory means its latest checkpoint, as in TF1
        latest, _ = read_checkpoint_state(p)
        if latest is None:
            raise TFCheckpointNotFoundError(
                f"{os.path.join(p, 'checkpoint')} names no model_checkpoint_path"
            )
        if not os.path.isfile(latest + ".index"):
            raise TFCheckpointNotFoundError(
                f"latest checkpoint {latest!r} named in {os.path.join(p, 'checkpoint')} "
                f"has no index file {latest + '.index'}"
            )
        return latest
    if not os.path.isfile(p + ".index"):
        raise TFCheckpointNotFoundError(
            f"TF checkpoint index file not found: {p + '.index'} (pass the checkpoint prefix, "
            "e.g. 'dir/model.ckpt-100', or its directory)"
        )
    return p


def list_variables(prefix: PathLike) -> list[tuple[str, tuple[int, ...]]]:
    """``[(name, shape), ...]`` of every variable in the checkpoint, sorted by name.

    Partitioned variables appear once, under their full name and full shape.
    ``prefix`` may also be a directory holding a ``checkpoint`` state file.

    >>> list_variables("ckpts/model.ckpt-5")  # doctest: +SKIP
    [('global_step', ()), ('shared/embedding', (7, 3)), ('tower0/b', (4,)), ...]
    """
    with _Bundle(_resolve_prefix(prefix)) as bundle:
        return sorted((name, e.shape) for name, e in bundle.entries.items())


def load_checkpoint(
    prefix: PathLike,
    names: Iterable[str] | None = None,
    *,
    allow_strings: bool = False,
) -> dict[str, np.ndarray]:
    """Read a TF1 checkpoint into ``{variable name: numpy array}``.

    Args:
      prefix: checkpoint prefix (``dir/model.ckpt-100``: the files are
        ``prefix.index`` and ``prefix.data-*``), or a directory, in which case the
        latest checkpoint named by its ``checkpoint`` file is read.
      names: read only these variables (default: all).
      allow_strings: return string tensors as numpy ``object`` arrays of
        ``bytes`` (as TensorFlow's reader does) instead of raising
        :class:`TFCheckpointStringError`.

    Every tensor's CRC-32C is verified. Partitioned variables are reassembled
    into one array under the variable's name. ``bfloat16`` tensors come back as
    ``ml_dtypes.bfloat16`` arrays; complex, half and unsigned types are supported.

    >>> params = load_checkpoint("ckpts/model.ckpt-100")  # doctest: +SKIP
    >>> sorted(params)[:2]  # doctest: +SKIP
    ['global_step', 'image_filters/conv1/biases']
    """
    out: dict[str, np.ndarray] = {}
    with _Bundle(_resolve_prefix(prefix)) as bundle:
        for name in sorted(bundle.entries) if names is None else list(names):
            if name not in bundle.entries:
                raise KeyError(f"tensor {name!r} not found in checkpoint {bundle.prefix!r}")
            out[name] = bundle.read(name, allow_strings=allow_strings)
    return out
