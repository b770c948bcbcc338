"""Errors of jaxscope's own checkpoints (TF1 checkpoints raise `TFCheckpointError`s)."""

from __future__ import annotations

from jaxscope.errors import JaxscopeError


class CheckpointError(JaxscopeError, ValueError):
    """A checkpoint cannot be saved or restored (missing folder, name, shape or dtype)."""


class CorruptCheckpointError(CheckpointError):
    """A checkpoint or state file is truncated or damaged."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint at the given prefix or in the given directory."""
