"""Checkpoints, as TF1's ``tf.train``: a safe `Saver`, and TF1 checkpoints read without TensorFlow.

`Saver` writes safetensors files atomically and keeps TF1's ``checkpoint`` state
file; `Saver.restore`, `load_checkpoint`, `list_variables` and `init_from_checkpoint`
read those and checkpoints written by TensorFlow 1 (``.index`` + ``.data-*``), every
checksum verified. Every error here is a `CheckpointError`.

Example:
  >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
  >>> variables = {"params": {"v1": jnp.zeros(3)}, "state": {}}
  >>> folder = tempfile.mkdtemp()
  >>> path = js.train.Saver().save(variables, os.path.join(folder, "model.ckpt"), global_step=5)
  >>> js.train.latest_checkpoint(folder) == path
  True
"""

from jaxscope.train.errors import CheckpointError, CheckpointNotFoundError, CorruptCheckpointError
from jaxscope.train.reader import list_variables, load_checkpoint
from jaxscope.train.saver import Saver
from jaxscope.train.state import CheckpointState, get_checkpoint_state, latest_checkpoint
from jaxscope.train.tf_checkpoint import (
    TFCheckpointChecksumError,
    TFCheckpointCorruptError,
    TFCheckpointError,
    TFCheckpointNotFoundError,
    TFCheckpointStringError,
    TFCheckpointUnsupportedError,
    is_tf_checkpoint,
    read_checkpoint_state,
)
from jaxscope.train.warm_start import init_from_checkpoint

__all__ = [
    "CheckpointError",
    "CheckpointNotFoundError",
    "CheckpointState",
    "CorruptCheckpointError",
    "Saver",
    "TFCheckpointChecksumError",
    "TFCheckpointCorruptError",
    "TFCheckpointError",
    "TFCheckpointNotFoundError",
    "TFCheckpointStringError",
    "TFCheckpointUnsupportedError",
    "get_checkpoint_state",
    "init_from_checkpoint",
    "is_tf_checkpoint",
    "latest_checkpoint",
    "list_variables",
    "load_checkpoint",
    "read_checkpoint_state",
]
