"""Tests of jaxscope.train.reader: any checkpoint (jaxscope's or TF1's) read by prefix."""

from __future__ import annotations

import os
import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import jaxscope as js
from jaxscope.train import (
    CheckpointError,
    CheckpointNotFoundError,
    CorruptCheckpointError,
    TFCheckpointChecksumError,
    TFCheckpointCorruptError,
    TFCheckpointNotFoundError,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[3] / "shared" / "fixtures"
IMAGE_FILTER = FIXTURES / "tf1_checkpoints" / "image_filter"


def model_variables():
    return {
        "params": {
            "conv/kernel": jnp.arange(24, dtype=jnp.float32).reshape(2, 3, 4) / 8,
            "conv/bias": jnp.array([0.5, -1.0], jnp.bfloat16),
        },
        "state": {"global_step": jnp.array(42, jnp.int32), "flag": jnp.array([True, False])},
    }


def flat(variables):
    return {name: value for part in variables.values() for name, value in part.items()}


@pytest.fixture
def saved(tmp_path):
    return js.train.Saver().save(model_variables(), str(tmp_path / "model.ckpt"), 42)


def test_load_checkpoint_reads_jaxscope_files(saved):
    want = flat(model_variables())
    for where in (saved, saved + ".safetensors", os.path.dirname(saved)):
        got = js.train.load_checkpoint(where)
        assert sorted(got) == sorted(want)
        for name, value in want.items():
            assert got[name].dtype == value.dtype and got[name].shape == value.shape
            np.testing.assert_array_equal(got[name], np.asarray(value), err_msg=name)
            assert got[name].flags.writeable, name  # private: not a view of the file
    kernel = js.train.load_checkpoint(saved, ["conv/kernel"])
    assert list(kernel) == ["conv/kernel"]


def test_list_variables_of_a_jaxscope_checkpoint(saved):
    assert js.train.list_variables(saved) == [
        ("conv/bias", (2,)), ("conv/kernel", (2, 3, 4)), ("flag", (2,)), ("global_step", ()),
    ]
    assert js.train.list_variables(os.path.dirname(saved)) == js.train.list_variables(saved)


def test_missing_names_and_checkpoints(saved, tmp_path):
    with pytest.raises(KeyError, match="conv/kernal"):
        js.train.load_checkpoint(saved, ["conv/kernal"])
    empty = tmp_path / "empty"
    empty.mkdir()
    for call in (js.train.load_checkpoint, js.train.list_variables):
        with pytest.raises(CheckpointNotFoundError, match="No checkpoint found in directory"):
            call(empty)
        with pytest.raises(FileNotFoundError, match=r"model\.ckpt-7\.safetensors"):
            call(str(tmp_path / "model.ckpt-7"))


def test_load_checkpoint_verifies_checksums(saved):
    file = saved + ".safetensors"
    data = bytearray(pathlib.Path(file).read_bytes())
    data[-1] ^= 0xFF  # the last tensor's last byte
    with open(file, "wb") as f:
        f.write(data)
    last = js.train.list_variables(saved)  # the header is intact
    assert len(last) == 4
    with pytest.raises(CorruptCheckpointError, match="checksum mismatch in tensor"):
        js.train.load_checkpoint(saved)


def test_restore_reads_only_what_var_list_names(saved):
    """A damaged tensor outside var_list does not stop a partial restore; a full one fails."""
    file = saved + ".safetensors"
    names = [name for name, _, _ in js.train._safetensors.read_layout(file)]
    first = names[0]  # the largest itemsize comes first: conv/kernel
    n = int.from_bytes(pathlib.Path(file).read_bytes()[:8], "little")
    data = bytearray(pathlib.Path(file).read_bytes())
    data[8 + n] ^= 0x01  # first byte of the first tensor
    with open(file, "wb") as f:
        f.write(data)
    others = [name for name in names if name != first]
    restored = js.train.Saver(others).restore(saved)
    assert sorted(flat(restored)) == sorted(others)
    with pytest.raises(CorruptCheckpointError, match=f"checksum mismatch in tensor '{first}'"):
        js.train.Saver().restore(saved)


def test_tensor_data_starts_aligned(saved):
    """Data starts on a 64-byte boundary, and the largest items come first."""
    file = saved + ".safetensors"
    n = int.from_bytes(pathlib.Path(file).read_bytes()[:8], "little")
    assert (8 + n) % 64 == 0
    dtypes = [dtype for _, dtype, _ in js.train._safetensors.read_layout(file)]
    assert [d.itemsize for d in dtypes] == sorted((d.itemsize for d in dtypes), reverse=True)


def test_errors_share_one_hierarchy():
    assert issubclass(TFCheckpointCorruptError, CorruptCheckpointError)
    assert issubclass(TFCheckpointChecksumError, CheckpointError)
    assert issubclass(TFCheckpointNotFoundError, CheckpointNotFoundError)
    assert issubclass(CheckpointNotFoundError, FileNotFoundError)
    assert issubclass(CorruptCheckpointError, ValueError)


@pytest.mark.skipif(not IMAGE_FILTER.is_dir(), reason="TF checkpoint fixtures not present")
def test_one_entry_point_for_tf1_checkpoints():
    prefix = str(IMAGE_FILTER / "model.ckpt-100")
    listed = js.train.list_variables(IMAGE_FILTER)
    assert listed == js.train.tf_checkpoint.list_variables(prefix)
    loaded = js.train.load_checkpoint(prefix)
    assert sorted(loaded) == [name for name, _ in listed]
    assert {name: v.shape for name, v in loaded.items()} == dict(listed)
