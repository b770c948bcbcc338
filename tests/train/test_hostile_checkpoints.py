"""Damaged, crafted and swapped checkpoint files: a clear error, quickly, in bounded memory.

TF1 bundles are written byte by byte by `tf1_bundle` (checked against TensorFlow 2.21:
it reads the honest one, refuses the gapped one with "Does not have sufficient slices",
and reads the negative-start one as uninitialized memory -- we refuse it).
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from tf1_bundle import Entry, floats, write_bundle

import jaxscope as js
from jaxscope.train import CheckpointError, CorruptCheckpointError, TFCheckpointCorruptError
from jaxscope.train._safetensors import CRC_KEY, HEADER_CRC_KEY, _header_crc

ROWS = (0, None)  # a whole dimension


def partitioned(tmp_path: Path, shape, pieces) -> str:
    """A TF1 checkpoint holding ``v`` of ``shape`` as the given ``{extents: shape}``."""
    full = Entry(shape, slices=[list(extents) for extents in pieces])
    stored = {extents: Entry(piece, floats(*piece)) for extents, piece in pieces.items()}
    return write_bundle(tmp_path / "model.ckpt", {"v": full}, {"v": stored})


# --------------------------------------------------------------------------- TF1 slices


def test_honest_partitioned_tensor_is_reassembled(tmp_path):
    prefix = partitioned(tmp_path, (4, 3), {((0, 2), ROWS): (2, 3), ((2, 2), ROWS): (2, 3)})
    got = js.train.load_checkpoint(prefix)["v"]
    np.testing.assert_array_equal(got, np.tile(np.arange(6, dtype=np.float32).reshape(2, 3),
                                               (2, 1)))


@pytest.mark.parametrize("pieces, why", [
    ({((0, 2), ROWS): (2, 3), ((3, 1), ROWS): (1, 3)}, "cover 9 of its 12 elements"),
    ({((0, 2), ROWS): (2, 3), ((-2, 2), ROWS): (2, 3)}, r"slice \[-2:0, :\] is outside"),
    ({((0, 2), ROWS): (2, 3), ((1, 2), ROWS): (2, 3)}, "overlap"),
    ({((0, 2), ROWS): (2, 3), ((2, 3), ROWS): (3, 3)}, r"slice \[2:5, :\] is outside"),
    ({((0, 4),): (4,)}, "has 1 dimensions"),
])
def test_slices_must_tile_the_shape_exactly(tmp_path, pieces, why):
    prefix = partitioned(tmp_path, (4, 3), pieces)
    with pytest.raises(TFCheckpointCorruptError, match=f"tensor 'v' of shape.*{why}"):
        js.train.load_checkpoint(prefix)
    assert js.train.list_variables(prefix) == [("v", (4, 3))]  # listing needs no data


def test_overlap_is_found_along_any_axis(tmp_path):
    cols = {((0, 2), (0, 2)): (2, 2), ((2, 2), (0, 2)): (2, 2), ((0, 4), (1, 1)): (4, 1)}
    with pytest.raises(TFCheckpointCorruptError, match="overlap|cover"):
        js.train.load_checkpoint(partitioned(tmp_path, (4, 3), cols))


def test_a_huge_claimed_shape_allocates_nothing(tmp_path):
    """180 bytes claiming 10**9 floats: refused before any buffer is made."""
    prefix = partitioned(tmp_path, (10**9,), {((0, 2),): (2,)})
    tracemalloc.start()
    try:
        with pytest.raises(TFCheckpointCorruptError, match="cover 2 of its 1000000000"):
            js.train.load_checkpoint(prefix)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


@pytest.mark.parametrize("shape, why", [
    ((10**9,), "needs 4000000000 bytes, but its data in the file is 8 bytes"),
    ((2**40, 2**40), "too large for any array"),
    ((0, 2**62), "too large for any array"),
])
def test_unsliced_shapes_are_checked_against_the_bytes(tmp_path, shape, why):
    prefix = write_bundle(tmp_path / "m", {"v": Entry(shape, floats(2))})
    with pytest.raises(TFCheckpointCorruptError, match=why):
        js.train.load_checkpoint(prefix)


@pytest.mark.parametrize("which", ["data", "state"])
def test_endless_streams_are_not_read(tmp_path, which):
    prefix = write_bundle(tmp_path / "m", {"v": Entry((2,), floats(2))})
    target = Path(prefix + ".data-00000-of-00001") if which == "data" else tmp_path / "checkpoint"
    target.unlink(missing_ok=True)
    target.symlink_to("/dev/zero")
    where = prefix if which == "data" else tmp_path
    with pytest.raises(CorruptCheckpointError, match=f"{target}.*not a regular file"):
        js.train.load_checkpoint(where)


def test_state_file_size_and_encoding(tmp_path):
    state = tmp_path / "checkpoint"
    state.write_bytes(b'model_checkpoint_path: "m\xff"\n')
    with pytest.raises(CorruptCheckpointError, match=f"{state}.*not UTF-8"):
        js.train.latest_checkpoint(tmp_path)
    state.write_bytes(b'model_checkpoint_path: "m\\377"\n')  # escaped bytes, also not UTF-8
    with pytest.raises(CorruptCheckpointError, match=f"{state}:1 model_checkpoint_path"):
        js.train.latest_checkpoint(tmp_path)
    state.write_bytes(b"# " + b"x" * (17 * 2**20))
    with pytest.raises(CorruptCheckpointError, match="is over 16777216 bytes"):
        js.train.latest_checkpoint(tmp_path)


# --------------------------------------------------------------------------- safetensors


def raw_safetensors(path: Path, entries: dict, data: bytes, metadata=None) -> Path:
    header = {**entries, **({"__metadata__": metadata} if metadata is not None else {})}
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    return path


GOOD = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize("entry, field", [
    ({**GOOD, "shape": "11"}, "not a list of dimensions"),
    ({**GOOD, "shape": [2.5]}, "dimension 0 is 2.5"),
    ({**GOOD, "shape": [True, 2]}, "dimension 0 is True"),
    ({**GOOD, "shape": [float("inf")]}, "dimension 0 is inf"),
    ({**GOOD, "data_offsets": [0, float("inf")]}, "data_offsets is"),
    ({**GOOD, "data_offsets": [0, True]}, "data_offsets is"),
    ({**GOOD, "dtype": ["F32"]}, "dtype is"),
    ({**GOOD, "shape": [0, 2**62]}, "too large for any array"),
    ({**GOOD, "shape": [2**70]}, "too large for any array"),
    ({**GOOD, "shape": [3]}, "needs 12 bytes, but its data in the file is 8 bytes"),
    ("F32", "not an object"),
])
def test_safetensors_header_fields_are_type_checked(tmp_path, entry, field):
    path = raw_safetensors(tmp_path / "m.safetensors", {"w": entry}, floats(2))
    with pytest.raises(CorruptCheckpointError, match=f"{path}.*tensor 'w'.*{field}"):
        js.train.load_checkpoint(path)
    with pytest.raises(CorruptCheckpointError, match=str(path)):
        js.train.list_variables(path)


def test_safetensors_checksum_table_must_be_a_map(tmp_path):
    metadata = {CRC_KEY: "[]"}
    header = {"__metadata__": metadata, "w": GOOD}
    metadata[HEADER_CRC_KEY] = str(_header_crc(header))
    path = raw_safetensors(tmp_path / "m.safetensors", {"w": GOOD}, floats(2), metadata)
    with pytest.raises(CorruptCheckpointError, match="jaxscope.crc32 entry is not a map"):
        js.train.load_checkpoint(path)


def test_library_written_files_still_read(tmp_path):
    path = raw_safetensors(tmp_path / "m.safetensors", {"w": GOOD}, floats(2))
    assert js.train.load_checkpoint(path)["w"].tolist() == [0.0, 1.0]


# --------------------------------------------------------------------------- what a read returns


def test_loaded_arrays_survive_the_file_changing(tmp_path):
    saver = js.train.Saver()
    prefix = saver.save({"params": {"w": jnp.arange(4.0)}}, str(tmp_path / "m"))
    file = Path(prefix + ".safetensors")
    loaded = js.train.load_checkpoint(prefix)
    saver.save({"params": {"w": jnp.full(4, 9.0)}}, str(tmp_path / "m"))  # replaced by rename
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    loaded = js.train.load_checkpoint(prefix)
    with open(file, "r+b") as f:  # truncated in place: a mapping would SIGBUS
        f.truncate(0)
    assert loaded["w"].tolist() == [9.0] * 4


def test_tf1_arrays_are_private_too(tmp_path):
    prefix = write_bundle(tmp_path / "m", {"v": Entry((2,), floats(2))})
    loaded = js.train.load_checkpoint(prefix)
    Path(prefix + ".data-00000-of-00001").write_bytes(b"\0" * 8)
    assert loaded["v"].tolist() == [0.0, 1.0]


# --------------------------------------------------------------------------- what a directory means


def test_a_directory_means_its_latest_checkpoint_everywhere(tmp_path):
    saver = js.train.Saver()
    sibling = {"params": {"w": jnp.zeros(2)}, "state": {}}
    inside = {"params": {"w": jnp.ones(2)}, "state": {}}
    saver.save(sibling, str(tmp_path / "exp"))  # exp.safetensors, beside the folder
    (tmp_path / "exp").mkdir()
    saver.save(inside, str(tmp_path / "exp" / "model.ckpt"), 3)
    exp = str(tmp_path / "exp")
    assert js.train.load_checkpoint(exp)["w"].tolist() == [1.0, 1.0]
    assert saver.restore(exp)["params"]["w"].tolist() == [1.0, 1.0]
    warm = js.train.init_from_checkpoint(exp, {"w": "w"}, sibling)
    assert warm["params"]["w"].tolist() == [1.0, 1.0]
    assert js.train.load_checkpoint(exp + ".safetensors")["w"].tolist() == [0.0, 0.0]
    with pytest.raises(CheckpointError, match="it is a directory.*exp/model.ckpt"):
        saver.save(sibling, exp)


# --------------------------------------------------------------------------- killed saves


def test_a_save_removes_its_own_stale_temp_files(tmp_path):
    old = time.time() - 3600
    ours = [".m-1.safetensors.ab3d_f9k.tmp", ".m.safetensors.zz00aa11.tmp",
            ".checkpoint.q1w2e3r4.tmp"]
    others = [".n-1.safetensors.ab3d_f9k.tmp", "m-1.safetensors.tmp", ".m-1.safetensors.x.tmp"]
    for name in ours + others:
        (tmp_path / name).write_bytes(b"partial")
        os.utime(tmp_path / name, (old, old))
    fresh = tmp_path / ".m-2.safetensors.newer000.tmp"  # a save still under way elsewhere
    fresh.write_bytes(b"partial")
    future = time.time() + 3600
    os.utime(fresh, (future, future))
    js.train.Saver().save({"params": {"w": jnp.zeros(1)}}, str(tmp_path / "m"), 5)
    left = set(os.listdir(tmp_path))
    assert not left & set(ours)
    assert set(others) | {fresh.name, "m-5.safetensors", "checkpoint"} == left
