"""Read any checkpoint by its prefix: jaxscope's safetensors files or TensorFlow 1's bundles.

A *prefix* names a checkpoint as TF1 does (``dir/model.ckpt-100``): jaxscope's file is
``prefix.safetensors``, TF1's are ``prefix.index`` and ``prefix.data-*``. A directory
always means the latest checkpoint its ``checkpoint`` state file names (TF1's rule),
even when a file ``directory.safetensors`` lies beside it.

>>> import os, tempfile, jax.numpy as jnp
>>> from jaxscope.train import Saver, list_variables, load_checkpoint
>>> folder = tempfile.mkdtemp()
>>> _ = Saver().save({"params": {"dense/kernel": jnp.ones((2, 3))}}, folder + "/model.ckpt", 9)
>>> list_variables(folder)
[('dense/kernel', (2, 3))]
>>> load_checkpoint(folder)["dense/kernel"].sum()
np.float32(6.0)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxscope.train import _safetensors, tf_checkpoint
from jaxscope.train.errors import CheckpointError, CheckpointNotFoundError, CorruptCheckpointError
from jaxscope.train.state import latest_checkpoint

__all__ = ["list_variables", "load_checkpoint", "read_tensors"]

EXTENSION = ".safetensors"
COLLECTIONS = ("params", "state")
COLLECTIONS_KEY = "jaxscope.collections"

PathLike = str | os.PathLike[str]


def _locate(path: PathLike) -> tuple[str, str]:
    """``(kind, where)``: ("safetensors", file) or ("tf1", prefix); raises when neither."""
    path = os.fspath(path)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise CheckpointNotFoundError(
                f"No checkpoint found in directory {path} (its `checkpoint` state file is "
                "missing or names no existing checkpoint)."
            )
        path = latest
    if os.path.isfile(path + EXTENSION):
        return "safetensors", path + EXTENSION
    if path.endswith(EXTENSION) and os.path.isfile(path):
        return "safetensors", path
    if tf_checkpoint.is_tf_checkpoint(path):
        return "tf1", path
    raise CheckpointNotFoundError(
        f"The passed save_path is not a valid checkpoint: {path} "
        f"(neither {path + EXTENSION} nor {path}.index exists). "
        "Pass the prefix that Saver.save or latest_checkpoint returned."
    )


def _collections(file: str, metadata: dict[str, str]) -> dict[str, str]:
    if COLLECTIONS_KEY not in metadata:
        return {}
    try:
        table = json.loads(metadata[COLLECTIONS_KEY])
    except ValueError:
        table = None
    if not isinstance(table, dict) or not set(table.values()) <= set(COLLECTIONS):
        raise CorruptCheckpointError(f"Checkpoint file {file} is corrupt: bad collection table.")
    return table


def read_tensors(
    path: PathLike,
    names: Collection[str] | None = None,
    convert: Callable[[str, np.ndarray], Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """``(tensors, collections, all names)`` of a checkpoint.

    ``tensors`` holds those in ``names`` (all when None) passed through
    ``convert(name, array)``;
    ``collections`` maps names to ``"params"``/``"state"`` (empty when the checkpoint
    does not say: TF1's). Only the tensors asked for are read.
    """
    kind, where = _locate(path)
    if kind == "safetensors":
        tensors, metadata, all_names = _safetensors.read(where, names, convert)
        return tensors, _collections(where, metadata), all_names
    if names is None:  # the index is parsed once
        loaded = tf_checkpoint.load_checkpoint(where)
        available = sorted(loaded)
    else:  # only what is asked for: a TF1 checkpoint may hold string tensors besides
        available = sorted(name for name, _ in tf_checkpoint.list_variables(where))
        loaded = tf_checkpoint.load_checkpoint(where, sorted(set(available) & set(names)))
    if convert is not None:
        loaded = {name: convert(name, value) for name, value in loaded.items()}
    return loaded, {}, available


def to_jax(name: str, array: np.ndarray) -> jax.Array:
    """Tensor ``name`` as a jax array (on CPU an aligned buffer is adopted without a copy).

    With JAX's 64-bit types off, a 64-bit tensor becomes the 32-bit type JAX stores: its
    values must fit (API decision 14) -- never a silent wrap or overflow.
    """
    dtype = np.dtype(jax.dtypes.canonicalize_dtype(array.dtype))
    if dtype == array.dtype:
        return jax.device_put(array)
    real = np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    values = array[np.isfinite(array)] if np.issubdtype(dtype, np.floating) else array
    if real and values.size:
        info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else np.finfo(dtype)
        low, high = values.min(), values.max()
        if low < info.min or high > info.max:
            raise CheckpointError(
                f"Tensor {name!r} holds {array.dtype.name} values from {low} to {high}, which "
                f"do not fit the {dtype.name} JAX stores while its 64-bit types are off. Fix: "
                "jax.config.update('jax_enable_x64', True) before restoring, or read the "
                "tensor with js.train.load_checkpoint and convert it deliberately."
            )
    return jnp.asarray(array, dtype=dtype)


def load_checkpoint(
    path: PathLike, names: Iterable[str] | None = None, *, allow_strings: bool = False
) -> dict[str, np.ndarray]:
    """``{name: numpy array}`` of a jaxscope or TF1 checkpoint (prefix, file or directory).

    Each array is a private copy of the verified bytes (checksums checked on the way):
    replacing or truncating the file afterwards cannot change it. A TF1 checkpoint is
    read as `jaxscope.train.tf_checkpoint.load_checkpoint` does (partitioned variables
    reassembled, CRC-32C verified; ``allow_strings`` returns string tensors as ``bytes``
    objects). ``names`` is a list of names (or one name). Raises ``KeyError`` for a name not held.

    Example:
      >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
      >>> folder = tempfile.mkdtemp()
      >>> variables = {"params": {"dense/kernel": jnp.ones((2, 3)), "dense/bias": jnp.zeros(3)}}
      >>> _ = js.train.Saver().save(variables, os.path.join(folder, "model.ckpt"), 1)
      >>> ckpt = js.train.load_checkpoint(folder)  # TF1: reader.get_tensor(name) is ckpt[name]
      >>> sorted(ckpt), ckpt["dense/kernel"].shape, ckpt["dense/kernel"].dtype
      (['dense/bias', 'dense/kernel'], (2, 3), dtype('float32'))
      >>> list(js.train.load_checkpoint(folder, names=["dense/bias"]))
      ['dense/bias']
    """
    if isinstance(names, (str, bytes)):  # not a list of one-letter names
        names = [names.decode() if isinstance(names, bytes) else names]
    kind, where = _locate(path)
    if kind == "tf1":
        return tf_checkpoint.load_checkpoint(where, names, allow_strings=allow_strings)
    wanted = None if names is None else list(names)
    tensors, _, _ = _safetensors.read(where, wanted)
    for name in wanted or ():
        if name not in tensors:
            raise KeyError(f"tensor {name!r} not found in checkpoint {where!r}")
    return tensors


def list_variables(path: PathLike) -> list[tuple[str, tuple[int, ...]]]:
    """``[(name, shape)]`` of every tensor in a jaxscope or TF1 checkpoint, sorted by name.

    Reads only the header (jaxscope) or the index (TF1), not the tensors.

    Example:
      >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
      >>> folder = tempfile.mkdtemp()
      >>> variables = {"params": {"dense/kernel": jnp.ones((2, 3)), "dense/bias": jnp.zeros(3)}}
      >>> path = js.train.Saver().save(variables, os.path.join(folder, "model.ckpt"), 1)
      >>> js.train.list_variables(path)  # TF1: tf.train.list_variables(path)
      [('dense/bias', (3,)), ('dense/kernel', (2, 3))]
    """
    kind, where = _locate(path)
    if kind == "tf1":
        return tf_checkpoint.list_variables(where)
    return sorted((name, shape) for name, _, shape in _safetensors.read_layout(where))
