"""Write TF1 tensor-bundle checkpoints byte by byte, honest or hostile, for reader tests.

Follows ``TF_CHECKPOINT_FORMAT.md``: a LevelDB-style ``.index`` table (header under the
empty key, one ``BundleEntryProto`` per tensor, slice entries under ordered-code keys)
and ``.data-00000-of-00001`` holding the bytes. Every field can be set to a lie.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jaxscope.train._crc32c import crc32c, mask
from jaxscope.train.tf_checkpoint import _slice_key

DT_FLOAT = 1


def varint(v: int) -> bytes:
    v &= (1 << 64) - 1  # negative int64s as protobuf writes them
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def shape_proto(shape: tuple[int, ...]) -> bytes:
    return b"".join(_field(2, _field(1, d)) for d in shape)


def slice_proto(extents: list[tuple[int, int | None]]) -> bytes:
    out = b""
    for start, length in extents:
        extent = b"" if length is None else _field(1, start) + _field(2, length)
        out += _field(1, extent)
    return out


@dataclass
class Entry:
    """A ``BundleEntryProto``; ``crc`` is computed from the data unless given."""

    shape: tuple[int, ...]
    data: bytes = b""
    dtype: int = DT_FLOAT
    offset: int | None = None  # where its bytes are (default: where they are written)
    size: int | None = None
    crc: int | None = None
    slices: list[list[tuple[int, int | None]]] = field(default_factory=list)

    def proto(self, offset: int) -> bytes:
        out = _field(1, self.dtype) + _field(2, shape_proto(self.shape))
        if self.slices:
            return out + b"".join(_field(7, slice_proto(s)) for s in self.slices)
        out += _field(4, offset if self.offset is None else self.offset)
        out += _field(5, len(self.data) if self.size is None else self.size)
        crc = mask(crc32c(self.data)) if self.crc is None else self.crc
        return out + (6 << 3 | 5).to_bytes(1, "little") + crc.to_bytes(4, "little")


def block(entries: list[tuple[bytes, bytes]], interval: int) -> bytes:
    body, restarts, prev = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % interval == 0:
            restarts.append(len(body))
        else:
            while shared < min(len(key), len(prev)) and key[shared] == prev[shared]:
                shared += 1
        body += varint(shared) + varint(len(key) - shared) + varint(len(value))
        body += key[shared:] + value
        prev = key
    restarts = restarts or [0]
    for r in restarts:
        body += r.to_bytes(4, "little")
    return bytes(body + len(restarts).to_bytes(4, "little"))


def write_table(path: Path, blocks: list[list[tuple[bytes, bytes]]]) -> None:
    out = bytearray()

    def emit(contents: bytes) -> bytes:
        handle = varint(len(out)) + varint(len(contents))
        out.extend(contents + b"\x00")
        out.extend(mask(crc32c(contents + b"\x00")).to_bytes(4, "little"))
        return handle

    index = [(blk[-1][0] + b"\xff", emit(block(blk, 2))) for blk in blocks]
    meta = emit(block([], 1))
    idx = emit(block(index, 1))
    footer = (meta + idx).ljust(40, b"\x00") + bytes.fromhex("57fb808b247547db")
    path.write_bytes(bytes(out) + footer)


def write_bundle(
    prefix: Path, tensors: dict[str, Entry], slices: dict[str, dict[tuple, Entry]] | None = None
) -> str:
    """Write ``prefix.index`` and ``prefix.data-00000-of-00001``; return the prefix.

    ``slices[name][tuple(extents)]`` is the entry stored under that slice's key.
    """
    data, entries = bytearray(), {}
    pieces = [(name.encode(), entry) for name, entry in tensors.items()]
    for name, by_extents in (slices or {}).items():
        pieces += [(_slice_key(name.encode(), list(extents)), entry)
                   for extents, entry in by_extents.items()]
    for key, entry in pieces:
        entries[key] = entry.proto(len(data))
        data += entry.data
    header = _field(1, 1) + _field(3, _field(1, 1))  # num_shards 1, version {producer 1}
    rows = sorted([(b"", header), *entries.items()])
    write_table(Path(f"{prefix}.index"), [rows])
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))
    return str(prefix)


def floats(*shape: int) -> bytes:
    return np.arange(int(np.prod(shape)), dtype="<f4").tobytes()
