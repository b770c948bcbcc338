"""Reading TF1 checkpoints written by real TensorFlow (fixtures in shared/fixtures)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from tf1_bundle import write_table

from jaxscope.train._crc32c import crc32c, mask, unmask
from jaxscope.train.tf_checkpoint import (
    TFCheckpointChecksumError,
    TFCheckpointCorruptError,
    TFCheckpointError,
    TFCheckpointNotFoundError,
    TFCheckpointStringError,
    _ordered_signed,
    _read_table,
    _slice_key,
    is_tf_checkpoint,
    list_variables,
    load_checkpoint,
    read_checkpoint_state,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
CKPTS = FIXTURES / "tf1_checkpoints"
PREFIXES = {
    "image_filter": "model.ckpt-100",
    "dtypes": "model.ckpt-0",
    "sharded": "model.ckpt-5",
}

needs_fixtures = pytest.mark.skipif(
    not CKPTS.is_dir(), reason=f"TF checkpoint fixtures not found at {CKPTS}"
)


def prefix_of(name: str, root: Path = CKPTS) -> str:
    return str(root / name / PREFIXES[name])


def copy_ckpt(name: str, tmp_path: Path) -> str:
    dst = tmp_path / name
    shutil.copytree(CKPTS / name, dst)
    return str(dst / PREFIXES[name])


def as_comparable(a: np.ndarray) -> np.ndarray:
    if a.dtype == ml_dtypes.bfloat16:
        return a.view(np.uint16)
    if a.dtype == object:
        return a.astype("S")
    return a


# --------------------------------------------------------------------------- CRC


def test_crc32c_check_values():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    data = bytes(range(256)) * 37 + b"xyz"
    assert crc32c(data[100:], crc32c(data[:100])) == crc32c(data)
    # against a bit-at-a-time reference, every length modulo 8
    for n in range(0, 20):
        c = 0xFFFFFFFF
        for b in data[:n]:
            c ^= b
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        assert crc32c(data[:n]) == c ^ 0xFFFFFFFF


def test_crc_mask_examples():
    assert mask(0xE3069283) == 0xC78AB0E5
    assert mask(0) == 0xA282EAD8
    for c in (0, 1, 0xE3069283, 0xFFFFFFFF, 0x12345678):
        assert unmask(mask(c)) == c


def test_ordered_code_examples_from_doc():
    examples = {
        0: "80", 3: "83", 4: "84", 63: "bf", -1: "7f", -64: "40", 64: "c040",
        1000: "c3e8", -65: "3fbf", -1000: "3c18", 10**6: "ef4240",
    }  # fmt: skip
    for v, hexstr in examples.items():
        assert _ordered_signed(v).hex() == hexstr, v
    key = _slice_key(b"sliced/part", [(4, 3), (0, 4)])
    assert key == b"\x00sliced/part\x00\x01\x01\x02\x84\x83\x80\x84"


# --------------------------------------------------------------------------- values


@needs_fixtures
@pytest.mark.parametrize("name", sorted(PREFIXES))
def test_every_variable_matches_expected(name):
    expected = np.load(CKPTS / name / "expected.npz")
    got = load_checkpoint(prefix_of(name), allow_strings=True)
    names = [n for n, _ in list_variables(prefix_of(name))]
    assert sorted(got) == names
    for key, value in got.items():
        exp = expected[key]
        assert value.shape == exp.shape, key
        v = as_comparable(value)
        assert v.dtype == exp.dtype, key
        np.testing.assert_array_equal(v, exp, err_msg=key)
    if name == "image_filter":
        assert set(got) == set(expected["__variable_names__"].tolist())


@needs_fixtures
def test_dtypes_and_shapes_match_expected_json():
    meta = json.loads((CKPTS / "dtypes" / "expected.json").read_text())["variables"]
    got = load_checkpoint(prefix_of("dtypes"), allow_strings=True)
    for key, info in meta.items():
        arr = got[key]
        assert arr.shape == tuple(info["shape"]), key
        if info["dtype"] == "string":
            assert arr.dtype == object
            assert all(isinstance(x, bytes) for x in arr.ravel())
        else:
            assert arr.dtype == np.dtype(info["dtype"]), key
    assert got["dtypes/v_bfloat16"].dtype == ml_dtypes.bfloat16
    exp = np.load(CKPTS / "dtypes" / "expected.npz")
    np.testing.assert_array_equal(
        got["dtypes/v_bfloat16"].astype(np.float32), exp["dtypes/v_bfloat16__as_float32"]
    )
    assert got["dtypes/v_string"].tolist() == [b"hello", b"", b"a\x00b\xffc", b"x" * 200]


@needs_fixtures
def test_sliced_variable_reassembled_from_parts():
    exp = np.load(CKPTS / "dtypes" / "expected.npz")
    part = load_checkpoint(prefix_of("dtypes"), ["sliced/part"])["sliced/part"]
    np.testing.assert_array_equal(
        part, np.concatenate([exp[f"sliced/part/part_{k}"] for k in range(3)])
    )
    exp = np.load(CKPTS / "sharded" / "expected.npz")
    emb = load_checkpoint(prefix_of("sharded"), ["shared/embedding"])["shared/embedding"]
    np.testing.assert_array_equal(
        emb, np.concatenate([exp[f"shared/embedding/part_{k}"] for k in range(3)])
    )


@needs_fixtures
def test_list_variables():
    assert list_variables(prefix_of("image_filter")) == [
        ("image_filters/conv1/biases", (32,)),
        ("image_filters/conv1/weights", (5, 5, 32, 32)),
        ("image_filters/conv2/biases", (32,)),
        ("image_filters/conv2/weights", (5, 5, 32, 32)),
    ]
    assert list_variables(prefix_of("sharded")) == [
        ("global_step", ()),
        ("shared/embedding", (7, 3)),
        ("tower0/b", (4,)),
        ("tower0/w", (3, 4)),
        ("tower1/counts", (3,)),
        ("tower1/w", (4, 2)),
    ]
    dt = dict(list_variables(prefix_of("dtypes")))
    assert dt["sliced/part"] == (10, 4)
    assert dt["dtypes/empty"] == (0, 3)
    assert dt["dtypes/scalar"] == ()


@needs_fixtures
def test_state_file_and_directory_prefix():
    for name, pfx in PREFIXES.items():
        d = CKPTS / name
        latest, all_paths = read_checkpoint_state(d)
        assert latest == str(d / pfx)
        assert all_paths == [str(d / pfx)]
        assert is_tf_checkpoint(latest)
    got = load_checkpoint(CKPTS / "sharded")
    assert int(got["global_step"]) == 5
    assert list_variables(CKPTS / "sharded") == list_variables(prefix_of("sharded"))
    assert not is_tf_checkpoint(CKPTS / "sharded")


def test_state_file_escapes_absolute_paths_and_unknown_fields(tmp_path):
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "/abs/model.ckpt-9"\n'
        'all_model_checkpoint_paths: "a\\"b\\\\c\\101"\n'
        'all_model_checkpoint_paths: "/abs/model.ckpt-9"\n'
        "all_model_checkpoint_timestamps: 1700000000.5\n"
        "last_preserved_timestamp: 1.0\n"
    )
    latest, all_paths = read_checkpoint_state(tmp_path)
    assert latest == "/abs/model.ckpt-9"
    assert all_paths == [str(tmp_path / 'a"b\\cA'), "/abs/model.ckpt-9"]


@needs_fixtures
def test_string_tensor_refused_unless_allowed():
    with pytest.raises(TypeError, match=r"dtypes/v_string.*JAX"):
        load_checkpoint(prefix_of("dtypes"))
    with pytest.raises(TFCheckpointStringError):
        load_checkpoint(prefix_of("dtypes"), ["dtypes/v_string"])
    got = load_checkpoint(prefix_of("dtypes"), ["dtypes/v_float32", "dtypes/v_bool"])
    assert sorted(got) == ["dtypes/v_bool", "dtypes/v_float32"]
    with pytest.raises(KeyError, match="nope"):
        load_checkpoint(prefix_of("dtypes"), ["nope"])


# --------------------------------------------------------------------------- faults


def test_missing_checkpoint(tmp_path):
    assert not is_tf_checkpoint(tmp_path / "model.ckpt-1")
    with pytest.raises(FileNotFoundError, match=r"model\.ckpt-1\.index"):
        load_checkpoint(tmp_path / "model.ckpt-1")
    with pytest.raises(TFCheckpointNotFoundError, match="checkpoint"):
        load_checkpoint(tmp_path)  # directory without a state file
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-3"\n')
    with pytest.raises(FileNotFoundError, match=r"model\.ckpt-3"):
        list_variables(tmp_path)


@needs_fixtures
@pytest.mark.parametrize("keep", [0, 20, 47, 100, 263])
def test_truncated_index(tmp_path, keep):
    pfx = copy_ckpt("image_filter", tmp_path)
    index = Path(pfx + ".index")
    index.write_bytes(index.read_bytes()[:keep])
    with pytest.raises(TFCheckpointCorruptError, match=r"model\.ckpt-100\.index"):
        load_checkpoint(pfx)


@needs_fixtures
def test_bad_magic(tmp_path):
    pfx = copy_ckpt("image_filter", tmp_path)
    index = Path(pfx + ".index")
    raw = bytearray(index.read_bytes())
    raw[-1] ^= 0xFF
    index.write_bytes(bytes(raw))
    with pytest.raises(TFCheckpointCorruptError, match="magic"):
        list_variables(pfx)


@needs_fixtures
@pytest.mark.parametrize("pos", [0x10, 0x40, 0xB3, 0xC6])
def test_flipped_byte_in_index_block(tmp_path, pos):
    # 0x10/0x40: data block contents, 0xb3: its stored CRC, 0xc6: the index block
    pfx = copy_ckpt("image_filter", tmp_path)
    index = Path(pfx + ".index")
    raw = bytearray(index.read_bytes())
    raw[pos] ^= 0x01
    index.write_bytes(bytes(raw))
    with pytest.raises(TFCheckpointChecksumError, match=r"CRC-32C.*block"):
        load_checkpoint(pfx)


@needs_fixtures
def test_flipped_byte_in_data_file_names_tensor(tmp_path):
    pfx = copy_ckpt("image_filter", tmp_path)
    data = Path(pfx + ".data-00000-of-00001")
    raw = bytearray(data.read_bytes())
    raw[128 + 1000] ^= 0x10  # inside image_filters/conv1/weights (offset 128)
    data.write_bytes(bytes(raw))
    with pytest.raises(TFCheckpointChecksumError) as err:
        load_checkpoint(pfx)
    msg = str(err.value)
    assert "image_filters/conv1/weights" in msg and "data-00000-of-00001" in msg
    assert isinstance(err.value, ValueError)
    # other tensors are still readable
    got = load_checkpoint(pfx, ["image_filters/conv2/weights"])
    assert got["image_filters/conv2/weights"].shape == (5, 5, 32, 32)


@needs_fixtures
def test_flipped_byte_in_string_and_slice_pieces(tmp_path):
    pfx = copy_ckpt("dtypes", tmp_path)
    data = Path(pfx + ".data-00000-of-00001")
    raw = bytearray(data.read_bytes())
    raw[161 + 9 + 2] ^= 0x01  # inside the "hello" of dtypes/v_string (offset 161)
    data.write_bytes(bytes(raw))
    with pytest.raises(TFCheckpointChecksumError, match="dtypes/v_string"):
        load_checkpoint(pfx, allow_strings=True)


@needs_fixtures
def test_truncated_data_file(tmp_path):
    pfx = copy_ckpt("image_filter", tmp_path)
    data = Path(pfx + ".data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(TFCheckpointCorruptError, match=r"data-00000-of-00001.*truncated"):
        load_checkpoint(pfx)


@needs_fixtures
def test_missing_data_shard(tmp_path):
    pfx = copy_ckpt("sharded", tmp_path)
    Path(pfx + ".data-00001-of-00002").unlink()
    with pytest.raises(FileNotFoundError, match=r"data-00001-of-00002.*(shared/embedding|tower1)"):
        load_checkpoint(pfx)
    # tensors of shard 0 still load
    got = load_checkpoint(pfx, ["tower0/w", "global_step"])
    assert got["tower0/w"].shape == (3, 4)
    assert issubclass(TFCheckpointCorruptError, TFCheckpointError)


# --------------------------------------------------------------------------- multi-block tables


@needs_fixtures
@pytest.mark.parametrize("name", ["dtypes", "sharded"])
def test_index_with_several_data_blocks(tmp_path, name):
    pfx = copy_ckpt(name, tmp_path)
    entries = _read_table(pfx + ".index")
    blocks = [entries[i : i + 3] for i in range(0, len(entries), 3)]
    assert len(blocks) > 1
    write_table(Path(pfx + ".index"), blocks)
    assert _read_table(pfx + ".index") == entries
    got = load_checkpoint(pfx, allow_strings=True)
    want = load_checkpoint(prefix_of(name), allow_strings=True)
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_array_equal(as_comparable(got[key]), as_comparable(want[key]))
