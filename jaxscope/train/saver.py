"""Save and restore jaxscope variables as TF1's `tf.train.Saver` does.

A checkpoint is one safetensors file (no pickle) at ``prefix + ".safetensors"``; the
*prefix* (``"/tmp/model.ckpt-1000"``) is what `Saver.save` returns, what
`latest_checkpoint` returns and what `Saver.restore` takes, exactly as TF1 passes
checkpoint prefixes around. Beside the files, a text ``checkpoint`` state file lists
the checkpoints in TF1's format, so `get_checkpoint_state` reads TF1's folders too.

Every file is written atomically (temp file in the same folder, fsync, `os.replace`,
fsync of the folder): a crash or a kill mid-save leaves the previous checkpoint and
state file whole.

>>> import os, tempfile
>>> import jax.numpy as jnp
>>> from jaxscope.train.saver import Saver, latest_checkpoint
>>> variables = {"params": {"v1": jnp.ones(3)}, "state": {"step": jnp.array(7)}}
>>> folder = tempfile.mkdtemp()
>>> saver = Saver()
>>> path = saver.save(variables, os.path.join(folder, "model.ckpt"), global_step=7)
>>> os.path.basename(path)
'model.ckpt-7'
>>> latest_checkpoint(folder) == path
True
>>> restored = saver.restore(path)
>>> restored["params"]["v1"].tolist(), int(restored["state"]["step"])
([1.0, 1.0, 1.0], 7)
"""

from __future__ import annotations

import importlib
import json
import math
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.errors import did_you_mean, format_shape

__all__ = [
    "CheckpointError",
    "CheckpointState",
    "CorruptCheckpointError",
    "Saver",
    "get_checkpoint_state",
    "latest_checkpoint",
]

EXTENSION = ".safetensors"
STATE_FILENAME = "checkpoint"
COLLECTIONS = ("params", "state")

_META_FORMAT = "jaxscope.format"
_META_VERSION = "jaxscope.version"
_META_STEP = "jaxscope.global_step"
_META_COLLECTIONS = "jaxscope.collections"
_META_CRC = "jaxscope.crc32"
_META_HEADER_CRC = "jaxscope.header_crc32"
_MAX_HEADER = 100 * 1024 * 1024
_ALL_NAMES = "__jaxscope_all_names__"  # in-memory only: read_tensors' list of every tensor


class CheckpointError(ValueError):
    """A checkpoint cannot be saved or restored (missing folder, name, shape or dtype)."""


class CorruptCheckpointError(CheckpointError):
    """A checkpoint or state file is truncated or damaged."""


class CheckpointState(NamedTuple):
    """The contents of a ``checkpoint`` state file, paths resolved against its folder."""

    model_checkpoint_path: str
    all_model_checkpoint_paths: list[str]


# --------------------------------------------------------------------------- dtypes

_DTYPES: dict[str, np.dtype] = {
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
_CODES: dict[np.dtype, str] = {dtype: code for code, dtype in _DTYPES.items()}


def _dtype_code(name: str, dtype: np.dtype) -> str:
    code = _CODES.get(dtype.newbyteorder("="))
    if code is None:
        raise CheckpointError(
            f"Cannot save tensor {name!r}: dtype {dtype} has no safetensors code "
            f"(supported: {', '.join(str(d) for d in _DTYPES.values())})."
        )
    return code


# --------------------------------------------------------------------------- atomic files


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _atomic_write(path: str, chunks: Iterable[bytes | memoryview]) -> None:
    """Write ``chunks`` to ``path`` so that readers see the old file or the new one, whole."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


# --------------------------------------------------------------------------- safetensors


def _write_safetensors(
    path: str, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]
) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, value in tensors.items():
        array = np.asarray(value)
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
    crc = {}
    header: dict[str, Any] = {}
    offset = 0
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n))
    for name in order:
        array = arrays[name]
        size = array.nbytes
        header[name] = {
            "dtype": _dtype_code(name, array.dtype),
            "shape": list(array.shape),
            "data_offsets": [offset, offset + size],
        }
        crc[name] = zlib.crc32(array.reshape(-1).view(np.uint8)) if size else 0
        offset += size
    meta = dict(metadata)
    meta[_META_CRC] = json.dumps(crc, sort_keys=True)
    header = {"__metadata__": meta, **header}
    meta[_META_HEADER_CRC] = str(_header_crc(header))
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    chunks: list[bytes | memoryview] = [len(raw).to_bytes(8, "little"), raw]
    chunks += [memoryview(arrays[n].reshape(-1).view(np.uint8)) for n in order if arrays[n].size]
    _atomic_write(path, chunks)


def _header_crc(header: Mapping[str, Any]) -> int:
    """CRC-32 of the header's canonical JSON, without the header checksum itself."""
    meta = {k: v for k, v in header["__metadata__"].items() if k != _META_HEADER_CRC}
    canonical = {**header, "__metadata__": meta}
    return zlib.crc32(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode())


def _read_safetensors(
    path: str, convert: Callable[[np.ndarray], Any] | None = None,
    keep: set[str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read and verify a safetensors file; any damage raises `CorruptCheckpointError`.

    Tensors are read one at a time into their own buffer, checked, and passed through
    ``convert`` (e.g. to a device array) before the next is read, so a restore holds the
    restored arrays plus one tensor, never the whole file twice. Every tensor is
    verified; only those in ``keep`` (all when None) are returned. The returned
    metadata lists all tensor names under a private key.
    """

    def corrupt(why: str) -> CorruptCheckpointError:
        return CorruptCheckpointError(
            f"Checkpoint file {path} is corrupt or truncated: {why}. "
            "Restore an older checkpoint (see `all_model_checkpoint_paths`) or save again."
        )

    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise corrupt(f"only {size} bytes, shorter than the 8-byte header length")
        n = int.from_bytes(f.read(8), "little")
        if n > _MAX_HEADER or 8 + n > size:
            raise corrupt(f"header length {n} does not fit in the file's {size} bytes")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise corrupt(f"the JSON header does not parse ({e})") from None
        if not isinstance(header, dict):
            raise corrupt("the JSON header is not an object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(
                isinstance(v, str) for v in metadata.values()):
            raise corrupt("__metadata__ is not a map of strings")
        body_size = size - 8 - n
        spans: list[tuple[int, int, str, np.dtype, tuple[int, ...]]] = []
        for name, entry in header.items():
            try:
                dtype = _DTYPES[entry["dtype"]]
                shape = tuple(int(d) for d in entry["shape"])
                begin, end = (int(o) for o in entry["data_offsets"])
            except (KeyError, TypeError, ValueError):
                raise corrupt(f"bad header entry for tensor {name!r}: {entry!r}") from None
            if any(d < 0 for d in shape) or end - begin != math.prod(shape) * dtype.itemsize:
                raise corrupt(f"tensor {name!r}: offsets {begin}..{end} do not fit shape {shape}")
            if begin < 0 or end > body_size:
                raise corrupt(
                    f"tensor {name!r} ends at byte {end}, past the data's {body_size} bytes")
            spans.append((begin, end, name, dtype, shape))
        spans.sort(key=lambda span: span[0])
        position = 0
        for begin, end, name, _, _ in spans:
            if begin != position:
                raise corrupt(f"tensor {name!r} starts at byte {begin}, expected {position}")
            position = end
        if position != body_size:
            raise corrupt(f"{body_size - position} bytes after the last tensor")
        if _META_FORMAT in metadata or _META_COLLECTIONS in metadata:  # written by jaxscope
            for key in (_META_HEADER_CRC, _META_CRC):
                if key not in metadata:
                    raise corrupt(f"the {key} entry is missing from its metadata")
        if _META_HEADER_CRC in metadata:
            whole = {"__metadata__": metadata, **header}
            if metadata[_META_HEADER_CRC] != str(_header_crc(whole)):
                raise corrupt("checksum mismatch in the header")
        crc = None
        if _META_CRC in metadata:
            try:
                crc = json.loads(metadata[_META_CRC])
            except ValueError:
                raise corrupt("the checksum table does not parse") from None
        tensors: dict[str, Any] = {}
        for begin, end, name, dtype, shape in spans:  # in file order: one sequential read
            array = np.empty(shape, dtype)
            raw = array.reshape(-1).view(np.uint8)
            if f.readinto(memoryview(raw)) != end - begin:
                raise corrupt(f"tensor {name!r} is cut short")
            if crc is not None:
                actual = zlib.crc32(raw) if array.size else 0
                if crc.get(name) != actual:
                    raise corrupt(f"checksum mismatch in tensor {name!r}")
            if keep is None or name in keep:
                tensors[name] = convert(array) if convert is not None else array
    metadata = {**metadata, _ALL_NAMES: list(header)}
    return {name: tensors[name] for name in header if name in tensors}, metadata


# --------------------------------------------------------------------------- state file


def _quote(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\"\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def _unquote(text: str, where: str) -> str:
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"'":
        raise CorruptCheckpointError(f"Checkpoint state file {where} has a bad string: {text}")
    body = text[1:-1].encode("utf-8")
    try:
        return body.decode("unicode_escape").encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise CorruptCheckpointError(
            f"Checkpoint state file {where} has a bad string: {text}"
        ) from None


def _state_text(model_checkpoint_path: str, all_paths: Sequence[str]) -> str:
    lines = [f"model_checkpoint_path: {_quote(model_checkpoint_path)}"]
    lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in all_paths]
    return "\n".join(lines) + "\n"


def _checkpoint_exists(prefix: str) -> bool:
    return any(os.path.exists(prefix + ext) for ext in (EXTENSION, ".index", ""))


def get_checkpoint_state(
    checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None
) -> CheckpointState | None:
    """Read the ``checkpoint`` state file of ``checkpoint_dir`` (None when there is none).

    Relative paths in the file are resolved against ``checkpoint_dir``; unknown fields
    (TF2's timestamps) are ignored.

    >>> import os, tempfile
    >>> import jax.numpy as jnp
    >>> from jaxscope.train.saver import Saver, get_checkpoint_state
    >>> folder = tempfile.mkdtemp()
    >>> saver = Saver(max_to_keep=2)
    >>> for step in (1, 2, 3):
    ...     _ = saver.save({"params": {"w": jnp.zeros(2)}}, os.path.join(folder, "m"), step)
    >>> state = get_checkpoint_state(folder)
    >>> os.path.basename(state.model_checkpoint_path)
    'm-3'
    >>> [os.path.basename(p) for p in state.all_model_checkpoint_paths]
    ['m-2', 'm-3']
    >>> get_checkpoint_state(tempfile.mkdtemp()) is None
    True
    """
    folder = os.fspath(checkpoint_dir)
    path = os.path.join(folder, latest_filename or STATE_FILENAME)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise CorruptCheckpointError(f"Checkpoint state file {path} is not text.") from None
    model = None
    all_paths: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise CorruptCheckpointError(
                f"Checkpoint state file {path} line {number} does not parse: {line!r}"
            )
        key, value = key.strip(), value.strip()
        if key == "model_checkpoint_path":
            model = _unquote(value, path)
        elif key == "all_model_checkpoint_paths":
            all_paths.append(_unquote(value, path))
    if not model:
        raise CorruptCheckpointError(
            f"Checkpoint state file {path} has no model_checkpoint_path."
        )

    def resolve(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(folder, p)

    return CheckpointState(resolve(model), [resolve(p) for p in all_paths])


def latest_checkpoint(
    checkpoint_dir: str | os.PathLike[str], latest_filename: str | None = None
) -> str | None:
    """The prefix of the newest checkpoint in ``checkpoint_dir``, or None (as TF1).

    The prefix has no extension: pass it to `Saver.restore` as it is.

    >>> import tempfile
    >>> from jaxscope.train.saver import latest_checkpoint
    >>> latest_checkpoint(tempfile.mkdtemp()) is None
    True
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not _checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


# --------------------------------------------------------------------------- Saver


def _flatten(variables: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """``{name: (collection, value)}`` of jaxscope's ``{"params": ..., "state": ...}``."""
    if not isinstance(variables, Mapping) or not set(variables) <= set(COLLECTIONS):
        keys = list(variables) if isinstance(variables, Mapping) else type(variables).__name__
        raise CheckpointError(
            'Expected jaxscope variables {"params": {...}, "state": {...}} '
            f"(what model.init returns), got {keys}."
        )
    flat: dict[str, tuple[str, Any]] = {}
    for collection in COLLECTIONS:
        for name, value in (variables.get(collection) or {}).items():
            if name in flat:
                raise CheckpointError(
                    f"Variable {name!r} is in both 'params' and 'state'; names must be unique."
                )
            flat[name] = (collection, value)
    return flat


def _strip(name: str) -> str:
    return name[:-2] if name.endswith(":0") else name


def _is_float(dtype: np.dtype) -> bool:
    return bool(jnp.issubdtype(dtype, jnp.floating))


class Saver:
    """Saves and restores variables, as TF1's ``tf.train.Saver``.

    Args:
      var_list: None saves every variable; a list of variable names saves those under
        their own names; a dict ``{checkpoint_name: variable_name}`` saves and restores
        under other names (TF1's ``Saver({"v2": v2})``).
      max_to_keep: how many recent checkpoints to keep; older files are deleted
        (None or 0 keeps all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours
        of training, as TF1.

    >>> import os, tempfile
    >>> import jax.numpy as jnp
    >>> from jaxscope.train.saver import Saver
    >>> variables = {"params": {"v1": jnp.zeros(3), "v2": jnp.zeros(5) - 1}, "state": {}}
    >>> path = Saver({"v2": "v2"}).save(variables, os.path.join(tempfile.mkdtemp(), "m"))
    >>> fresh = {"params": {"v1": jnp.ones(3), "v2": jnp.ones(5)}, "state": {}}
    >>> restored = Saver({"v2": "v2"}).restore(path, fresh)
    >>> restored["params"]["v1"].tolist(), restored["params"]["v2"].tolist()
    ([1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, -1.0, -1.0])
    """

    def __init__(
        self,
        var_list: Sequence[str] | Mapping[str, str] | None = None,
        max_to_keep: int | None = 5,
        keep_checkpoint_every_n_hours: float = 10000.0,
    ) -> None:
        self._names: dict[str, str] | None
        if var_list is None:
            self._names = None
        elif isinstance(var_list, Mapping):
            self._names = {_strip(str(k)): _strip(str(v)) for k, v in var_list.items()}
        elif isinstance(var_list, str):
            raise TypeError(
                f"var_list must be a list or dict of names, not the string {var_list!r}."
            )
        else:
            self._names = {}
            for name in var_list:
                name = _strip(str(name))
                if name in self._names:
                    raise CheckpointError(f"Variable {name!r} appears twice in var_list.")
                self._names[name] = name
        if self._names is not None:
            targets = list(self._names.values())
            dup = sorted({t for t in targets if targets.count(t) > 1})
            if dup:
                raise CheckpointError(f"var_list saves variable(s) {dup} under two names.")
        self._max_to_keep = max_to_keep
        self._keep_every_s = keep_checkpoint_every_n_hours * 3600.0
        self._next_keep_time = time.time() + self._keep_every_s
        self._last: list[tuple[str, float]] = []

    @property
    def last_checkpoints(self) -> list[str]:
        """Prefixes of the checkpoints this Saver keeps, oldest first (as TF1)."""
        return [p for p, _ in self._last]

    def set_last_checkpoints_with_time(
        self, last_checkpoints_with_time: Sequence[tuple[str, float]]
    ) -> None:
        """Take over a list of ``(prefix, timestamp)``, e.g. after a restart (as TF1)."""
        self._last = [(os.fspath(p), float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: Sequence[str]) -> None:
        """Adopt existing checkpoints, e.g. a state's ``all_model_checkpoint_paths`` (as TF1)."""
        now = time.time()
        self._last = [(p, now) for p in checkpoint_paths if _checkpoint_exists(p)]

    def _mapping(self, available: Iterable[str]) -> dict[str, str]:
        if self._names is None:
            return {name: name for name in available}
        return dict(self._names)

    def save(
        self,
        variables: Mapping[str, Mapping[str, Any]],
        save_path: str | os.PathLike[str],
        global_step: int | Any | None = None,
        write_state: bool = True,
    ) -> str:
        """Write a checkpoint and return its prefix (``save_path`` or ``save_path-step``).

        The tensors go to ``prefix + ".safetensors"`` under their checkpoint names; its
        metadata records the jaxscope version, the global step and each tensor's
        collection. Then the ``checkpoint`` state file beside it is rewritten, and
        checkpoints beyond ``max_to_keep`` are deleted.
        """
        save_path = os.fspath(save_path)
        folder = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(folder):
            raise CheckpointError(
                f"Parent directory of {save_path} doesn't exist, can't save. "
                f"Create {folder} first (os.makedirs)."
            )
        step: int | None = None
        if global_step is not None:
            step = int(np.asarray(global_step))
            prefix = f"{save_path}-{step}"
        else:
            prefix = save_path
        flat = _flatten(variables)
        tensors: dict[str, np.ndarray] = {}
        collections: dict[str, str] = {}
        for ckpt_name, var_name in self._mapping(flat).items():
            if var_name not in flat:
                raise CheckpointError(
                    f"Cannot save {ckpt_name!r}: variable {var_name!r} is not in the variables "
                    f"given to save.{did_you_mean(var_name, flat)}"
                )
            collection, value = flat[var_name]
            tensors[ckpt_name] = np.asarray(jax.device_get(value))
            collections[ckpt_name] = collection
        import jaxscope

        metadata = {
            _META_FORMAT: "jaxscope",
            _META_VERSION: str(getattr(jaxscope, "__version__", "unknown")),
            _META_STEP: "" if step is None else str(step),
            _META_COLLECTIONS: json.dumps(collections, sort_keys=True),
        }
        _write_safetensors(prefix + EXTENSION, tensors, metadata)
        now = time.time()
        self._last = [(p, t) for p, t in self._last if p != prefix] + [(prefix, now)]
        doomed = self._drop_old()
        if write_state:
            # the state file first, then deletions: a crash in between lists no lost file
            rel = [os.path.relpath(p, folder) for p in self.last_checkpoints]
            text = _state_text(os.path.relpath(prefix, folder), rel)
            _atomic_write(os.path.join(folder, STATE_FILENAME), [text.encode("utf-8")])
        for path in doomed:
            for ext in (EXTENSION, ".index", ".meta"):
                try:
                    os.remove(path + ext)
                except FileNotFoundError:
                    pass
        return prefix

    def _drop_old(self) -> list[str]:
        """Forget checkpoints beyond max_to_keep; return those to delete (as TF1)."""
        doomed: list[str] = []
        if not self._max_to_keep:
            return doomed
        while len(self._last) > self._max_to_keep:
            path, stamp = self._last.pop(0)
            if stamp > self._next_keep_time:
                self._next_keep_time += self._keep_every_s
                continue
            doomed.append(path)
        return doomed

    def restore(
        self,
        save_path: str | os.PathLike[str],
        variables: Mapping[str, Mapping[str, Any]] | None = None,
        shardings: Mapping[str, Any] | None = None,
    ) -> dict[str, dict[str, jax.Array]]:
        """Read a checkpoint by prefix; return new variables (the input is not changed).

        ``shardings`` places restored arrays: ``{"params": {name: sharding}, ...}`` (the
        structure of the variables) or a flat ``{name: sharding}``; arrays it does not
        name go to the default device. Saving gathers sharded arrays into whole tensors.

        With ``variables``: every variable in ``var_list`` (all of ``variables`` when
        var_list is None) is replaced by the checkpoint's value, after checking its shape
        and dtype; the others are kept. A var_list variable that ``variables`` lacks is
        added to the collection recorded in the checkpoint. Without ``variables``: the
        checkpoint's contents (those in var_list) as ``{"params": ..., "state": ...}``.

        A TF1 checkpoint (``prefix.index`` + ``prefix.data-*``) is read too; its floating
        tensors go to ``params`` and the others to ``state`` unless ``variables`` already
        holds them.
        """
        save_path = os.fspath(save_path)
        flat = _flatten(variables) if variables is not None else {}
        if self._names is not None:
            wanted: set[str] | None = set(self._names)
        else:
            wanted = set(flat) if variables is not None else None
        tensors, collections, all_names = read_tensors(save_path, wanted, _to_device)
        if self._names is not None:
            mapping = dict(self._names)
        elif variables is not None:
            mapping = {name: name for name in flat}
        else:
            mapping = {name: name for name in tensors}
        out: dict[str, dict[str, Any]] = {c: {} for c in COLLECTIONS}
        if variables is not None:
            for collection in COLLECTIONS:
                out[collection] = dict(variables.get(collection) or {})
        for ckpt_name, var_name in mapping.items():
            if ckpt_name not in tensors:
                raise CheckpointError(
                    f"Key {ckpt_name!r} not found in checkpoint {save_path} "
                    f"(restoring variable {var_name!r}).{did_you_mean(ckpt_name, all_names)}"
                )
            array = tensors[ckpt_name]
            if var_name in flat:
                collection, current = flat[var_name]
                have_shape = tuple(np.shape(current))
                have_dtype = np.dtype(jax.dtypes.canonicalize_dtype(jnp.result_type(current)))
                ckpt_dtype = np.dtype(jax.dtypes.canonicalize_dtype(array.dtype))
                if tuple(array.shape) != have_shape:
                    raise CheckpointError(
                        f"Cannot restore {var_name!r} from {ckpt_name!r} in {save_path}: "
                        f"the checkpoint's shape is {format_shape(array.shape)}, the "
                        f"variable's is {format_shape(have_shape)}."
                    )
                if ckpt_dtype != have_dtype:
                    raise CheckpointError(
                        f"Cannot restore {var_name!r} from {ckpt_name!r} in {save_path}: "
                        f"the checkpoint's dtype is {array.dtype}, the variable's is "
                        f"{have_dtype}."
                    )
            else:
                collection = collections.get(ckpt_name) or (
                    "params" if _is_float(array.dtype) else "state"
                )
            value = jnp.asarray(array, dtype=jax.dtypes.canonicalize_dtype(array.dtype))
            out[collection][var_name] = value
        if shardings:
            _place(out, shardings)
        return out


def _to_device(array: np.ndarray) -> jax.Array:
    return jnp.asarray(array, dtype=jax.dtypes.canonicalize_dtype(array.dtype))


def _place(variables: dict[str, dict[str, Any]], shardings: Mapping[str, Any]) -> None:
    """Put each restored array on the sharding named for it (nested or flat mapping)."""
    nested = set(shardings) <= set(COLLECTIONS) and all(
        isinstance(v, Mapping) for v in shardings.values())
    for collection in COLLECTIONS:
        table = shardings.get(collection, {}) if nested else shardings
        for name, value in variables[collection].items():
            sharding = table.get(name)
            if sharding is not None:
                variables[collection][name] = jax.device_put(value, sharding)


def read_tensors(
    save_path: str, names: set[str] | None = None,
    convert: Callable[[np.ndarray], Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Tensors (those in ``names``, or all), their collections (empty when unknown) and
    the names of all tensors in the checkpoint at a prefix."""
    if os.path.exists(save_path + EXTENSION):
        file = save_path + EXTENSION
    elif save_path.endswith(EXTENSION) and os.path.exists(save_path):
        file = save_path
    elif os.path.exists(save_path + ".index"):
        tf_checkpoint = importlib.import_module("jaxscope.train.tf_checkpoint")
        list_variables = getattr(tf_checkpoint, "list_variables", None)
        if names is not None and list_variables is not None:
            # read only what is asked for (a checkpoint may hold string tensors besides)
            available = {name for name, _ in list_variables(save_path)}
            loaded = tf_checkpoint.load_checkpoint(save_path, names=sorted(available & names))
        else:
            loaded = tf_checkpoint.load_checkpoint(save_path)
            available = set(loaded)
        return {k: np.asarray(v) for k, v in loaded.items()}, {}, sorted(available)
    else:
        raise CheckpointError(
            f"The passed save_path is not a valid checkpoint: {save_path} "
            f"(neither {save_path + EXTENSION} nor {save_path}.index exists). "
            "Pass the prefix that Saver.save or latest_checkpoint returned."
        )
    tensors, metadata = _read_safetensors(file, convert, names)
    collections: dict[str, str] = {}
    if _META_COLLECTIONS in metadata:
        try:
            collections = json.loads(metadata[_META_COLLECTIONS])
        except ValueError:
            raise CorruptCheckpointError(
                f"Checkpoint file {file} is corrupt: its collection table does not parse."
            ) from None
        if not isinstance(collections, dict) or not set(collections.values()) <= set(COLLECTIONS):
            raise CorruptCheckpointError(
                f"Checkpoint file {file} is corrupt: bad collection table."
            )
    return tensors, collections, list(metadata.get(_ALL_NAMES, tensors))
