"""Checkpoints, as TF1's ``tf.train``: a safe `Saver`, and TF1 checkpoints read without TensorFlow.

`Saver` writes safetensors files atomically and keeps TF1's ``checkpoint`` state
file; `Saver.restore` and `load_checkpoint` also read checkpoints written by
TensorFlow 1 (``.index`` + ``.data-*``), checksums verified.

Example:
  >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
  >>> variables = {"params": {"v1": jnp.zeros(3)}, "state": {}}
  >>> folder = tempfile.mkdtemp()
  >>> path = js.train.Saver().save(variables, os.path.join(folder, "model.ckpt"), global_step=5)
  >>> js.train.latest_checkpoint(folder) == path
  True
"""

from jaxscope.train.saver import (
    CheckpointError,
    CheckpointState,
    CorruptCheckpointError,
    Saver,
    get_checkpoint_state,
    latest_checkpoint,
)
from jaxscope.train.tf_checkpoint import (
    TFCheckpointChecksumError,
    TFCheckpointCorruptError,
    TFCheckpointError,
    TFCheckpointNotFoundError,
    TFCheckpointStringError,
    TFCheckpointUnsupportedError,
    is_tf_checkpoint,
    list_variables,
    load_checkpoint,
    read_checkpoint_state,
)
from jaxscope.train.warm_start import init_from_checkpoint

__all__ = [
    "CheckpointError",
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
