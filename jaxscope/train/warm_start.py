"""`init_from_checkpoint`: TF1's warm start — take some variables' values from a checkpoint."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from jaxscope.errors import did_you_mean
from jaxscope.train.reader import read_tensors, to_jax
from jaxscope.values import canonical_dtype

Variables = dict[str, dict[str, Any]]


def _pairs(assignment_map: Mapping[str, str], names: list[str]) -> dict[str, str]:
    """TF1's rules: ``{checkpoint name: variable name}`` for every entry of the map."""
    pairs: dict[str, str] = {}
    for in_ckpt, current in sorted(assignment_map.items()):
        if current in names:  # one variable
            pairs[current] = in_ckpt
            continue
        scope = current[:current.rindex("/")] if "/" in current else ""
        if not in_ckpt.endswith("/"):
            raise ValueError(
                f"Assignment map with scope only name {scope} should map to scope only "
                f"{in_ckpt}. Should be 'scope/': 'other_scope/'. (No variable is named "
                f"{current!r}.{did_you_mean(current, names)})"
            )
        for name in names:
            if scope and not name.startswith(scope + "/"):
                continue
            tensor = name[len(scope):]
            if current != "/":
                tensor = tensor[1:]
            if in_ckpt != "/":
                tensor = in_ckpt + tensor
            pairs[name] = tensor.rstrip("/")
    return pairs


def init_from_checkpoint(
    ckpt_dir_or_file: str | os.PathLike[str],
    assignment_map: Mapping[str, str],
    variables: Variables,
) -> Variables:
    """Replace variables by checkpoint tensors, mapped as ``tf.train.init_from_checkpoint``.

    ``assignment_map`` maps checkpoint names to variable names:
    ``{"old/w": "new/w"}`` for one variable, ``{"old_scope/": "new_scope/"}`` for every
    variable under a scope, ``{"/": "scope/"}`` for the checkpoint's root. The
    checkpoint may be jaxscope's or TensorFlow 1's (a directory means its latest).
    Returns new variables; the others are kept as given (call it on what ``init``
    returned).

    Example:
      >>> import os, tempfile, jax.numpy as jnp, jaxscope as js
      >>> folder = tempfile.mkdtemp()
      >>> old = {"params": {"encoder/w": jnp.ones(2)}, "state": {}}
      >>> path = js.train.Saver().save(old, os.path.join(folder, "model.ckpt"))
      >>> new = {"params": {"tower/w": jnp.zeros(2), "head/b": jnp.zeros(1)}, "state": {}}
      >>> warm = js.train.init_from_checkpoint(path, {"encoder/": "tower/"}, new)
      >>> warm["params"]["tower/w"].tolist(), warm["params"]["head/b"].tolist()
      ([1.0, 1.0], [0.0])
    """
    prefix = os.fspath(ckpt_dir_or_file)
    if not all(isinstance(variables.get(part), Mapping) for part in ("params", "state")):
        raise TypeError(
            "init_from_checkpoint warm-starts the variables init returned: {'params': {name: "
            "array}, 'state': {name: array}}; got a mapping with keys "
            f"{sorted(map(str, variables))[:5]}. For a flat {{name: array}} dict, pass "
            "{'params': flat, 'state': {}}."
        )
    where = {name: part for part in ("params", "state") for name in variables[part]}
    pairs = _pairs(assignment_map, list(where))
    tensors, _, available = read_tensors(prefix, set(pairs.values()))
    out = {part: dict(variables[part]) for part in ("params", "state")}
    for name, tensor_name in pairs.items():
        if tensor_name not in tensors:
            raise ValueError(
                f"Tensor {tensor_name} is not found in {prefix} checkpoint (for variable "
                f"{name}).{did_you_mean(tensor_name, available)}"
            )
        value, current = np.asarray(tensors[tensor_name]), out[where[name]][name]
        if tuple(value.shape) != tuple(np.shape(current)):
            raise ValueError(
                f"Shape of variable {name} ({tuple(np.shape(current))}) doesn't match with "
                f"shape of tensor {tensor_name} ({tuple(value.shape)}) from checkpoint reader."
            )
        if canonical_dtype(value.dtype) != canonical_dtype(current.dtype):
            raise ValueError(
                f"Dtype of variable {name} ({canonical_dtype(current.dtype).name}) doesn't "
                f"match tensor {tensor_name} ({value.dtype.name}) from the checkpoint."
            )
        out[where[name]][name] = to_jax(tensor_name, value)
    return {**variables, **out}
