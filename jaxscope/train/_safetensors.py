"""The safetensors file format, written atomically and read with every byte verified.

A file is an 8-byte little-endian header length, a JSON header (``{name: {"dtype",
"shape", "data_offsets"}}`` plus a ``__metadata__`` map of strings) and the tensors'
bytes back to back. jaxscope adds two checksums to the metadata: the CRC-32 of every
tensor, and the CRC-32 of the header itself, so a flipped byte anywhere is caught.
Files written by the ``safetensors`` library (no checksums) are read too.

Two ways in, each doing the least work for its job:

* `write` streams the tensors to disk while a worker thread computes their CRC-32s
  (both release the GIL); the header, whose width was reserved, is filled in last.
* `read` reads each wanted tensor straight into a fresh 64-byte-aligned buffer (JAX's
  CPU client adopts such a buffer without a copy), checking the previous tensor's CRC
  on a worker thread while the next one is read. Other tensors are not read at all.
  The buffers are private: what was verified cannot change when the file does.

The header is untrusted: every field is type-checked and every shape checked against
the bytes the file holds (`jaxscope.train._bounds`) before a buffer is allocated.

>>> import os, tempfile, numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
>>> write(path, {"w": np.arange(3, dtype=np.float32)}, {"note": "hi"})
>>> arrays, metadata, names = read(path)
>>> arrays["w"].tolist(), metadata["note"], names
([0.0, 1.0, 2.0], 'hi', ['w'])
"""

from __future__ import annotations

import json
import math
import mmap
import zlib
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxscope.train._atomic import atomic_write
from jaxscope.train._bounds import checked_shape, file_size, open_regular, read_into
from jaxscope.train.errors import CheckpointError, CheckpointNotFoundError, CorruptCheckpointError

__all__ = ["DTYPES", "read", "read_layout", "write"]

CRC_KEY = "jaxscope.crc32"
HEADER_CRC_KEY = "jaxscope.header_crc32"
MAX_HEADER = 100 * 1024 * 1024
ALIGNMENT = 64  # bytes; what XLA's CPU client needs to adopt a host buffer
_OWN_MAPPING_BYTES = 1 << 20  # buffers this big get a memory map of their own

DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "BF16": np.dtype(jnp.bfloat16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
    "C64": np.dtype(np.complex64),
    "F8_E4M3": np.dtype(jnp.float8_e4m3fn),
    "F8_E5M2": np.dtype(jnp.float8_e5m2),
}
_CODES: dict[np.dtype, str] = {dtype: code for code, dtype in DTYPES.items()}


class _Span(NamedTuple):
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int  # absolute file offsets
    end: int


class _Layout(NamedTuple):
    metadata: dict[str, str]
    spans: list[_Span]  # in file order
    names: list[str]  # in header order
    crcs: dict[str, int] | None  # None: written without checksums


def _bytes(array: np.ndarray) -> memoryview:
    return memoryview(array.reshape(-1).view(np.uint8))


def _aligned_empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialized C-order array whose data starts on an `ALIGNMENT`-byte boundary.

    Large buffers are anonymous memory maps of their own (page-aligned, freed with the
    array). numpy asks the kernel to back big arrays with huge pages; where that means
    compacting memory at the first touch of each page (transparent huge pages with
    ``defrag=madvise``, common in VMs) reading 1 GB into fresh numpy arrays measured
    4-5x slower than into ordinary pages.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes >= _OWN_MAPPING_BYTES:
        return np.frombuffer(mmap.mmap(-1, nbytes), np.uint8).view(dtype).reshape(shape)
    raw = np.empty(nbytes + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def _corrupt(path: str, why: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"Checkpoint file {path} is corrupt or truncated: {why}. Restore an older "
        "checkpoint (see `all_model_checkpoint_paths`) or save again."
    )


def _header_crc(header: Mapping[str, Any]) -> int:
    """CRC-32 of the header's canonical JSON, without the header checksum itself."""
    meta = {k: v for k, v in header["__metadata__"].items() if k != HEADER_CRC_KEY}
    canonical = {**header, "__metadata__": meta}
    return zlib.crc32(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode())


# --------------------------------------------------------------------------- writing


def write(path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> None:
    """Write ``tensors`` and ``metadata`` to ``path`` atomically, with checksums."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        if name == "__metadata__":  # the format's own header key: the file could not be read
            raise CheckpointError(
                "Cannot save a tensor named '__metadata__': safetensors reserves that name for "
                "the file's metadata. Rename the variable (or map it to another checkpoint "
                "name with Saver(var_list={'new_name': '__metadata__'}))."
            )
        array = np.asarray(value)
        if array.dtype not in _CODES and array.dtype.newbyteorder("=") in _CODES:
            array = array.astype(array.dtype.newbyteorder("="))
        if array.dtype not in _CODES:
            raise CheckpointError(
                f"Cannot save tensor {name!r}: dtype {array.dtype} has no safetensors code "
                f"(supported: {', '.join(str(d) for d in DTYPES.values())})."
            )
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))  # keeps alignment
    layout: dict[str, Any] = {}
    offset = 0
    for name in order:
        array = arrays[name]
        layout[name] = {"dtype": _CODES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes

    def header(crcs: Mapping[str, int], header_crc: int | None) -> dict[str, Any]:
        meta = {**metadata, CRC_KEY: json.dumps(dict(crcs), sort_keys=True)}
        if header_crc is not None:
            meta[HEADER_CRC_KEY] = str(header_crc)
        return {"__metadata__": meta, **layout}

    def encode(h: Mapping[str, Any]) -> bytes:
        return json.dumps(h, separators=(",", ":")).encode("utf-8")

    widest = 0xFFFFFFFF  # every CRC and the header CRC print at most this wide
    reserved = len(encode(header(dict.fromkeys(arrays, widest), widest)))
    reserved += -(8 + reserved) % ALIGNMENT  # tensor data starts aligned

    def stream(f: BinaryIO) -> None:
        f.write(reserved.to_bytes(8, "little"))
        f.seek(8 + reserved)
        with ThreadPoolExecutor(1, thread_name_prefix="jaxscope-crc") as hasher:
            jobs = {n: hasher.submit(zlib.crc32, _bytes(arrays[n])) for n in order}
            for name in order:
                f.write(_bytes(arrays[name]))
            crcs = {n: job.result() for n, job in jobs.items()}
        raw = encode(header(crcs, _header_crc(header(crcs, None))))
        f.seek(8)
        f.write(raw.ljust(reserved))  # JSON allows the trailing spaces; so does the spec

    atomic_write(path, stream)


# --------------------------------------------------------------------------- reading


def _read_layout(f: BinaryIO, path: str) -> _Layout:
    """Parse and check the header: offsets tile the data exactly, checksums are present."""

    def corrupt(why: str) -> CorruptCheckpointError:
        return _corrupt(path, why)

    size = file_size(f)
    if size < 8:
        raise corrupt(f"only {size} bytes, shorter than the 8-byte header length")
    n = int.from_bytes(f.read(8), "little")
    if n > MAX_HEADER or 8 + n > size:
        raise corrupt(f"header length {n} does not fit in the file's {size} bytes")
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise corrupt(f"the JSON header does not parse ({e})") from None
    if not isinstance(header, dict):
        raise corrupt("the JSON header is not an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise corrupt("__metadata__ is not a map of strings")
    start, body = 8 + n, size - 8 - n
    spans = [_span(name, entry, start, body, path) for name, entry in header.items()]
    spans.sort(key=lambda span: span.begin)
    position = start
    for span in spans:
        if span.begin != position:
            raise corrupt(f"tensor {span.name!r} starts at byte {span.begin - start}, "
                          f"expected {position - start}")
        position = span.end
    if position != size:
        raise corrupt(f"{size - position} bytes after the last tensor")
    if any(key.startswith("jaxscope.") for key in metadata):  # written by jaxscope
        for key in (HEADER_CRC_KEY, CRC_KEY):
            if key not in metadata:
                raise corrupt(f"the {key} entry is missing from its metadata")
    whole = {"__metadata__": metadata, **header}
    if HEADER_CRC_KEY in metadata and metadata[HEADER_CRC_KEY] != str(_header_crc(whole)):
        raise corrupt("checksum mismatch in the header")
    crcs = None
    if CRC_KEY in metadata:
        try:
            crcs = json.loads(metadata[CRC_KEY])
        except ValueError:
            raise corrupt("the checksum table does not parse") from None
        if not isinstance(crcs, dict) or not all(type(c) is int for c in crcs.values()):
            raise corrupt(f"the {CRC_KEY} entry is not a map of tensor names to checksums")
    return _Layout(metadata, spans, list(header), crcs)


def _span(name: str, entry: Any, start: int, body: int, path: str) -> _Span:
    """One header entry, every field checked: a dtype code, two integer offsets inside
    the data, a shape of non-negative integers whose bytes are exactly the offsets'."""

    def corrupt(why: str) -> CorruptCheckpointError:
        return _corrupt(path, f"tensor {name!r}: {why}")

    if not isinstance(entry, dict):
        raise corrupt(f"the header entry is {entry!r}, not an object")
    code, offsets = entry.get("dtype"), entry.get("data_offsets")
    if not isinstance(code, str) or code not in DTYPES:
        raise corrupt(f"dtype is {code!r}, not one of {', '.join(DTYPES)}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(o) is int for o in offsets)):
        raise corrupt(f"data_offsets is {offsets!r}, not two integers")
    begin, end = offsets
    if not 0 <= begin <= end <= body:
        raise corrupt(f"data_offsets {begin}..{end} are not inside the data's {body} bytes")
    dtype = DTYPES[code]
    shape = checked_shape(entry.get("shape"), dtype.itemsize, end - begin, corrupt)
    if end - begin != math.prod(shape) * dtype.itemsize:
        raise corrupt(f"data_offsets {begin}..{end} do not fit shape {list(shape)} of {code}")
    return _Span(name, dtype, shape, start + begin, start + end)


def read_layout(path: str) -> list[tuple[str, np.dtype, tuple[int, ...]]]:
    """``[(name, dtype, shape)]`` of the tensors, in header order; only the header is read."""
    with _open(path) as f:
        layout = _read_layout(f, path)
    by_name = {span.name: span for span in layout.spans}
    return [(name, by_name[name].dtype, by_name[name].shape) for name in layout.names]


def _open(path: str) -> BinaryIO:
    return open_regular(path, "Checkpoint file", CheckpointNotFoundError)


def _check(layout: _Layout, span: _Span, crc: int | None, path: str) -> None:
    if layout.crcs is not None and layout.crcs.get(span.name) != crc:
        raise _corrupt(path, f"checksum mismatch in tensor {span.name!r}")


def _in_header_order(layout: _Layout, tensors: dict[str, Any]) -> dict[str, Any]:
    """``tensors`` ordered as the header lists them (reads go in file order)."""
    return {name: tensors[name] for name in layout.names if name in tensors}


def _wanted(layout: _Layout, names: Collection[str] | None) -> list[_Span]:
    return [s for s in layout.spans if names is None or s.name in names]


def read(
    path: str,
    names: Collection[str] | None = None,
    convert: Callable[[str, np.ndarray], Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """``(tensors, metadata, all names)``: the tensors in ``names`` (all when None).

    Each tensor is read into its own aligned buffer and verified before ``convert``
    (e.g. to a device array) sees it; a restore holds the restored arrays and no copy.
    """
    tensors: dict[str, Any] = {}
    with _open(path) as f:
        layout = _read_layout(f, path)

        def finish(span: _Span, array: np.ndarray, crc: Future[int] | None) -> None:
            _check(layout, span, None if crc is None else crc.result(), path)
            tensors[span.name] = convert(span.name, array) if convert is not None else array

        with ThreadPoolExecutor(1, thread_name_prefix="jaxscope-crc") as hasher:
            previous = None
            for span in _wanted(layout, names):
                array = _aligned_empty(span.shape, span.dtype)
                view = _bytes(array)
                if not read_into(f, span.begin, view):
                    raise _corrupt(path, f"tensor {span.name!r} is cut short")
                crc = hasher.submit(zlib.crc32, view) if layout.crcs is not None else None
                if previous is not None:
                    finish(*previous)  # checked while this tensor was being read
                previous = (span, array, crc)
            if previous is not None:
                finish(*previous)
    return _in_header_order(layout, tensors), layout.metadata, layout.names

