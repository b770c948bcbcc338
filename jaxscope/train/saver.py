"""Save and restore jaxscope variables as TF1's `tf.train.Saver` does.

A checkpoint is one safetensors file (no pickle) at ``prefix + ".safetensors"``; the
*prefix* (``"/tmp/model.ckpt-1000"``) is what `Saver.save` returns, what
`latest_checkpoint` returns and what `Saver.restore` takes, exactly as TF1 passes
checkpoint prefixes around. Beside the files, a text ``checkpoint`` state file lists
the checkpoints in TF1's format, so `get_checkpoint_state` reads TF1's folders too.

Every file is written atomically (temp file in the same folder, fsync, `os.replace`,
fsync of the folder): a crash or a kill mid-save leaves the previous checkpoint and
state file whole, and the next save removes the killed save's temp file.

>>> import os, tempfile
>>> import jax.numpy as jnp
>>> from jaxscope.train import Saver, latest_checkpoint
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

import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils

from jaxscope.errors import did_you_mean, format_shape
from jaxscope.train import _safetensors
from jaxscope.train._atomic import remove_stale_temps
from jaxscope.train.errors import CheckpointError
from jaxscope.train.reader import (
    COLLECTIONS,
    COLLECTIONS_KEY,
    EXTENSION,
    read_tensors,
    to_jax,
)
from jaxscope.train.state import STATE_FILENAME, checkpoint_exists, write_checkpoint_state

__all__ = ["Saver"]

_FORMAT_KEY = "jaxscope.format"
_VERSION_KEY = "jaxscope.version"
_STEP_KEY = "jaxscope.global_step"


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
        if max_to_keep is not None and (isinstance(max_to_keep, bool)
                                        or not isinstance(max_to_keep, int) or max_to_keep < 0):
            raise ValueError(
                f"max_to_keep must be a count >= 0, or None (0 and None keep every "
                f"checkpoint, as TF1), got {max_to_keep!r}."
            )
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
        """Take over a list of ``(prefix, timestamp)``, e.g. after a restart (as TF1).

        The Saver then counts these checkpoints towards ``max_to_keep`` (and
        ``keep_checkpoint_every_n_hours``, by their timestamps) and deletes them in turn.

        Example:
          >>> import os, tempfile, time, jax.numpy as jnp, jaxscope as js
          >>> folder = tempfile.mkdtemp()
          >>> variables = {"params": {"w": jnp.ones(2)}, "state": {}}
          >>> old = js.train.Saver().save(variables, os.path.join(folder, "m"), 1)
          >>> saver = js.train.Saver(max_to_keep=1)  # a new process
          >>> saver.set_last_checkpoints_with_time([(old, time.time())])
          >>> _ = saver.save(variables, os.path.join(folder, "m"), 2)  # deletes m-1
          >>> sorted(name for name in os.listdir(folder) if name.startswith("m-"))
          ['m-2.safetensors']
        """
        self._last = [(os.fspath(p), float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: Sequence[str]) -> None:
        """Adopt existing checkpoints, e.g. a state's ``all_model_checkpoint_paths`` (as TF1).

        Paths that name no checkpoint are dropped; the others count towards
        ``max_to_keep`` from now on.

        Example:
          >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
          >>> folder = tempfile.mkdtemp()
          >>> variables = {"params": {"w": jnp.ones(2)}, "state": {}}
          >>> first = js.train.Saver(max_to_keep=2)
          >>> for step in (1, 2):
          ...     _ = first.save(variables, os.path.join(folder, "m"), step)
          >>> saver = js.train.Saver(max_to_keep=2)  # a new process
          >>> state = js.train.get_checkpoint_state(folder)
          >>> saver.recover_last_checkpoints(state.all_model_checkpoint_paths)
          >>> _ = saver.save(variables, os.path.join(folder, "m"), 3)  # deletes m-1
          >>> sorted(name for name in os.listdir(folder) if name.startswith("m-"))
          ['m-2.safetensors', 'm-3.safetensors']
        """
        now = time.time()
        self._last = [(p, now) for p in checkpoint_paths if checkpoint_exists(p)]

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

        Under ``jax.distributed`` every process calls ``save`` with the same arguments:
        arrays sharded over several processes are gathered (a collective), process 0
        writes the one checkpoint (as TF1's chief), and every process returns once it is
        on disk. Other processes read it back with ``restore(..., shardings=...)``, so
        the folder must be one they all see (a shared filesystem, or one machine).

        Example:
          >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
          >>> variables = {"params": {"w": jnp.ones(2)}, "state": {"step": jnp.array(0)}}
          >>> folder = tempfile.mkdtemp()
          >>> saver = js.train.Saver(max_to_keep=2)  # TF1: tf.train.Saver(max_to_keep=2)
          >>> for step in (100, 200, 300):  # TF1: saver.save(sess, path, global_step=step)
          ...     path = saver.save(variables, os.path.join(folder, "model.ckpt"), step)
          >>> os.path.basename(path)
          'model.ckpt-300'
          >>> sorted(os.listdir(folder))  # the oldest checkpoint was deleted
          ['checkpoint', 'model.ckpt-200.safetensors', 'model.ckpt-300.safetensors']
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
        if os.path.isdir(prefix):  # restoring it would mean the folder's latest checkpoint
            raise CheckpointError(
                f"Cannot save to {prefix}: it is a directory, and a directory given to "
                "restore or load_checkpoint means its latest checkpoint. Save under a prefix "
                f"inside it, e.g. {os.path.join(prefix, 'model.ckpt')}."
            )
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
            tensors[ckpt_name] = _whole_on_host(value)
            collections[ckpt_name] = collection
        import jaxscope

        metadata = {
            _FORMAT_KEY: "jaxscope",
            _VERSION_KEY: str(getattr(jaxscope, "__version__", "unknown")),
            _STEP_KEY: "" if step is None else str(step),
            COLLECTIONS_KEY: json.dumps(collections, sort_keys=True),
        }
        now = time.time()
        last = [(p, t) for p, t in self._last if p != prefix] + [(prefix, now)]
        kept, doomed, next_keep_time = self._retention(last)
        if jax.process_index() == 0:  # one writer, as TF1's chief
            _safetensors.write(prefix + EXTENSION, tensors, metadata)
        # Recorded only once the file is complete: a failed save changes nothing.
        self._last, self._next_keep_time = kept, next_keep_time
        if jax.process_index() == 0:
            if write_state:
                # the state file first, then deletions: a crash in between lists no lost file
                rel = [os.path.relpath(p, folder) for p in self.last_checkpoints]
                write_checkpoint_state(folder, os.path.relpath(prefix, folder), rel)
            for path in doomed:
                for ext in (EXTENSION, ".index", ".meta"):
                    try:
                        os.remove(path + ext)
                    except FileNotFoundError:
                        pass
            # temp files of this saver's earlier saves that were killed mid-write
            ours = re.escape(os.path.basename(save_path)) + r"(?:--?\d+)?" + re.escape(EXTENSION)
            remove_stale_temps(folder, rf"{ours}|{STATE_FILENAME}", before=now)
        if jax.process_count() > 1:  # every process returns once the checkpoint is on disk
            multihost_utils.sync_global_devices(f"jaxscope.train.Saver.save {prefix}")
        return prefix

    def _retention(
        self, last: list[tuple[str, float]]
    ) -> tuple[list[tuple[str, float]], list[str], float]:
        """TF1's rule on ``last`` (oldest first): ``(kept, to delete, next keep time)``;
        the oldest beyond max_to_keep go, but one every keep_checkpoint_every_n_hours stays."""
        kept, doomed, next_keep_time = list(last), [], self._next_keep_time
        if not self._max_to_keep:
            return kept, doomed, next_keep_time
        while len(kept) > self._max_to_keep:
            path, stamp = kept.pop(0)
            if stamp > next_keep_time:
                next_keep_time += self._keep_every_s
                continue
            doomed.append(path)
        return kept, doomed, next_keep_time

    def restore(
        self,
        save_path: str | os.PathLike[str],
        variables: Mapping[str, Mapping[str, Any]] | None = None,
        shardings: Mapping[str, Any] | None = None,
    ) -> dict[str, dict[str, jax.Array]]:
        """Read a checkpoint by prefix; return new variables (the input is not changed).

        ``shardings`` places restored arrays: ``{"params": {name: sharding}, ...}`` (the
        structure of the variables) or a flat ``{name: sharding}``. An array it does not
        name takes the sharding of the variable it replaces when that one is split or
        replicated over several devices (as TF1 restored into a variable where it lived),
        else the default device. Saving gathers sharded arrays into whole tensors.

        With ``variables``: every variable in ``var_list`` (all of ``variables`` when
        var_list is None) is replaced by the checkpoint's value, after checking its shape
        and dtype; the others are kept. A var_list variable that ``variables`` lacks is
        added to the collection recorded in the checkpoint. Without ``variables``: the
        checkpoint's contents (those in var_list) as ``{"params": ..., "state": ...}``.

        A TF1 checkpoint (``prefix.index`` + ``prefix.data-*``) is read too; its floating
        tensors go to ``params`` and the others to ``state`` unless ``variables`` already
        holds them.

        Example:
          >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
          >>> saver = js.train.Saver()
          >>> trained = {"params": {"w": jnp.full(2, 5.0)}, "state": {"step": jnp.array(7)}}
          >>> path = saver.save(trained, os.path.join(tempfile.mkdtemp(), "model.ckpt"))
          >>> fresh = {"params": {"w": jnp.zeros(2)}, "state": {"step": jnp.array(0)}}
          >>> restored = saver.restore(path, fresh)  # TF1: saver.restore(sess, path)
          >>> restored["params"]["w"].tolist(), int(restored["state"]["step"])
          ([5.0, 5.0], 7)
          >>> sorted(saver.restore(path)["params"])  # without variables: all it holds
          ['w']
        """
        save_path = os.fspath(save_path)
        flat = _flatten(variables) if variables is not None else {}
        if self._names is not None:
            wanted: set[str] | None = set(self._names)
        else:
            wanted = set(flat) if variables is not None else None
        tensors, collections, all_names = read_tensors(save_path, wanted, to_jax)
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
            out[collection][var_name] = array
        # the given variables' own shardings, then the caller's, which win
        placement = {**_shardings_of(flat, mapping), **_flat_shardings(shardings or {}, out)}
        if placement:
            _place(out, placement)
        return out


def _whole_on_host(value: Any) -> np.ndarray:
    """The whole value as a numpy array, gathered from other processes when it must be.

    A sharded `jax.Array` whose shards live in several processes (``jax.distributed``)
    is gathered with a collective, so every process calls it for the same variables in
    the same order (each process runs the same ``save``). A replicated array is read
    from a local copy, without communication.
    """
    if not isinstance(value, jax.Array) or value.is_fully_addressable:
        return np.asarray(jax.device_get(value))
    if value.is_fully_replicated:
        return np.asarray(value.addressable_data(0))
    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


def _shardings_of(flat: Mapping[str, tuple[str, Any]], mapping: Mapping[str, str]
                  ) -> dict[str, Any]:
    """``{variable: sharding}`` of the given variables that live on several devices."""
    found = {}
    for var_name in mapping.values():
        current = flat.get(var_name, (None, None))[1]
        if isinstance(current, jax.Array) and len(current.sharding.device_set) > 1:
            found[var_name] = current.sharding
    return found


def _flat_shardings(shardings: Mapping[str, Any], variables: Mapping[str, Mapping[str, Any]]
                    ) -> dict[str, Any]:
    """``{name: sharding}`` from a flat mapping, or from the nested ``{"params": {...}, ...}``
    for the names in that collection of ``variables``."""
    nested = set(shardings) <= set(COLLECTIONS) and all(
        isinstance(v, Mapping) for v in shardings.values())
    if not nested:
        return {name: s for name, s in shardings.items() if s is not None}
    return {name: s for collection, table in shardings.items() for name, s in table.items()
            if s is not None and name in variables[collection]}


def _place(variables: dict[str, dict[str, Any]], shardings: Mapping[str, Any]) -> None:
    """Put each array on the sharding ``shardings`` (flat, by name) gives it, if any."""
    for collection in COLLECTIONS:
        for name, value in variables[collection].items():
            sharding = shardings.get(name)
            if sharding is None:
                continue
            if sharding.is_fully_addressable:
                variables[collection][name] = jax.device_put(value, sharding)
            else:  # a global array over several processes: each makes its own shards
                host = np.asarray(value)
                variables[collection][name] = jax.make_array_from_callback(
                    host.shape, sharding, lambda index, host=host: host[index])
