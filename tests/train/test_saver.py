"""Tests of jaxscope.train.saver: TF1 Saver semantics on safetensors files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxscope.train import (
    CheckpointError,
    CheckpointState,
    CorruptCheckpointError,
    Saver,
    get_checkpoint_state,
    latest_checkpoint,
)

FIXTURES = os.path.normpath(os.environ.get("JAXSCOPE_FIXTURES", "/work/shared/fixtures"))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def all_dtypes() -> dict[str, jax.Array]:
    return {
        "f32": jnp.arange(6, dtype=jnp.float32).reshape(2, 3) / 7,
        "f16": jnp.array([1.5, -2.25, 65504.0], dtype=jnp.float16),
        "bf16": jnp.array([[1.0, -3.5], [1e30, 0.0078125]], dtype=jnp.bfloat16),
        "i8": jnp.array([-128, 0, 127], dtype=jnp.int8),
        "i16": jnp.array([-32768, 32767], dtype=jnp.int16),
        "i32": jnp.array([[-(2**31), 2**31 - 1]], dtype=jnp.int32),
        "u8": jnp.array([0, 255, 7], dtype=jnp.uint8),
        "bool": jnp.array([True, False, True]),
        "c64": jnp.array([1 + 2j, -3.5j], dtype=jnp.complex64),
        "scalar_f": jnp.float32(3.25),
        "scalar_i": jnp.int32(-9),
        "empty": jnp.zeros((0, 4), jnp.float32),
        "empty_i": jnp.zeros((3, 0), jnp.int8),
    }


def split(values: dict[str, jax.Array]) -> dict[str, dict[str, jax.Array]]:
    out: dict[str, dict[str, jax.Array]] = {"params": {}, "state": {}}
    for name, value in values.items():
        floating = jnp.issubdtype(value.dtype, jnp.inexact)
        out["params" if floating else "state"][name] = value
    return out


def assert_same(a: dict, b: dict) -> None:
    assert set(a) == {"params", "state"} == set(b)
    for collection in ("params", "state"):
        assert sorted(a[collection]) == sorted(b[collection]), collection
        for name, x in a[collection].items():
            y = b[collection][name]
            assert isinstance(y, jax.Array), name
            assert x.dtype == y.dtype, name
            assert x.shape == y.shape, name
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=name)


# --------------------------------------------------------------------------- round trips


def test_round_trip_every_dtype(tmp_path):
    variables = split(all_dtypes())
    saver = Saver()
    path = saver.save(variables, str(tmp_path / "model.ckpt"))
    assert path == str(tmp_path / "model.ckpt")
    assert os.path.exists(path + ".safetensors")
    assert_same(variables, saver.restore(path))
    # restoring into given variables gives the same, as a new dict
    zeros = jax.tree.map(jnp.zeros_like, variables)
    restored = saver.restore(path, zeros)
    assert_same(variables, restored)
    assert restored is not zeros and restored["params"] is not zeros["params"]
    np.testing.assert_array_equal(np.asarray(zeros["params"]["f32"]), 0)


def test_file_is_standard_safetensors_with_metadata(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    values = {k: v for k, v in all_dtypes().items() if k not in ("bf16",)}
    variables = split(values)
    path = Saver().save(variables, str(tmp_path / "m"), global_step=12)
    loaded = safetensors_numpy.load_file(path + ".safetensors")
    assert sorted(loaded) == sorted(values)
    for name, value in values.items():
        np.testing.assert_array_equal(loaded[name], np.asarray(value))
        assert loaded[name].dtype == np.asarray(value).dtype
    with safe_open(path + ".safetensors", framework="np") as f:
        meta = f.metadata()
    import jaxscope

    assert meta["jaxscope.version"] == jaxscope.__version__
    assert meta["jaxscope.global_step"] == "12"
    collections = json.loads(meta["jaxscope.collections"])
    assert collections["f32"] == "params" and collections["i8"] == "state"


def test_reads_files_written_by_safetensors_library(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    tensors = {"w": np.ones((2, 2), np.float32), "n": np.array([3], np.int32)}
    safetensors_numpy.save_file(tensors, str(tmp_path / "ext.safetensors"))
    restored = Saver().restore(str(tmp_path / "ext"))
    assert sorted(restored["params"]) == ["w"] and sorted(restored["state"]) == ["n"]


def test_collections_come_from_metadata_not_dtype(tmp_path):
    # a float variable in "state" (a moving average) stays in state
    variables = {"params": {"w": jnp.ones(2)}, "state": {"bn/moving_mean": jnp.zeros(2)}}
    path = Saver().save(variables, str(tmp_path / "m"))
    assert_same(variables, Saver().restore(path))


# --------------------------------------------------------------------------- var_list


def make_vars():
    return {
        "params": {"v1": jnp.zeros(3) + 1, "v2": jnp.zeros(5) - 1, "s/w": jnp.ones((2, 2))},
        "state": {"global_step": jnp.array(5, jnp.int32)},
    }


def test_var_list_list(tmp_path):
    path = Saver(["v2", "global_step"]).save(make_vars(), str(tmp_path / "m"))
    restored = Saver().restore(path)
    assert list(restored["params"]) == ["v2"] and list(restored["state"]) == ["global_step"]
    # restoring with a list into full variables replaces only those
    fresh = jax.tree.map(jnp.zeros_like, make_vars())
    out = Saver(["v2"]).restore(path, fresh)
    np.testing.assert_array_equal(out["params"]["v2"], -np.ones(5))
    np.testing.assert_array_equal(out["params"]["v1"], np.zeros(3))
    assert int(out["state"]["global_step"]) == 0


def test_var_list_dict_renames(tmp_path):
    saver = Saver({"old/weights": "s/w", "counter": "global_step"})
    path = saver.save(make_vars(), str(tmp_path / "m"))
    raw = Saver().restore(path)
    assert list(raw["params"]) == ["old/weights"] and list(raw["state"]) == ["counter"]
    # the same saver maps the checkpoint names back to the variable names
    back = saver.restore(path)
    assert list(back["params"]) == ["s/w"] and list(back["state"]) == ["global_step"]
    # restore under a new name into a model whose variable is called differently
    into = {"params": {"new/w": jnp.zeros((2, 2))}, "state": {}}
    out = Saver({"old/weights": "new/w"}).restore(path, into)
    np.testing.assert_array_equal(out["params"]["new/w"], np.ones((2, 2)))
    assert out["state"] == {}


def test_var_list_tf_suffix_is_stripped(tmp_path):
    path = Saver(["v1:0"]).save(make_vars(), str(tmp_path / "m"))
    assert list(Saver().restore(path)["params"]) == ["v1"]


def test_var_list_added_variable_goes_to_its_collection(tmp_path):
    path = Saver().save(make_vars(), str(tmp_path / "m"))
    out = Saver(["v1", "global_step"]).restore(path, {"params": {}, "state": {}})
    assert list(out["params"]) == ["v1"] and list(out["state"]) == ["global_step"]


def test_save_missing_variable_names_close_ones(tmp_path):
    with pytest.raises(CheckpointError, match=r"'v3'.*Did you mean 'v[12]' or 'v[12]'"):
        Saver(["v3"]).save(make_vars(), str(tmp_path / "m"))


def test_restore_missing_key_names_close_ones(tmp_path):
    path = Saver(["v1"]).save(make_vars(), str(tmp_path / "m"))
    with pytest.raises(CheckpointError, match=r"Key 'v2' not found in checkpoint .*mean 'v1'"):
        Saver(["v2"]).restore(path)
    # Saver() restoring into variables the checkpoint lacks (TF1 fails too)
    with pytest.raises(CheckpointError, match="not found"):
        Saver().restore(path, make_vars())


def test_bad_var_list():
    with pytest.raises(TypeError, match="string"):
        Saver("v1")  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="twice"):
        Saver(["a", "a"])
    with pytest.raises(CheckpointError, match="two names"):
        Saver({"a": "v", "b": "v"})


def test_bad_variables_structure(tmp_path):
    with pytest.raises(CheckpointError, match="params"):
        Saver().save({"v1": jnp.ones(2)}, str(tmp_path / "m"))
    with pytest.raises(CheckpointError, match="both"):
        both = {"params": {"a": jnp.ones(1)}, "state": {"a": jnp.ones(1)}}
        Saver().save(both, str(tmp_path / "m"))


# --------------------------------------------------------------------------- mismatches


def test_shape_mismatch(tmp_path):
    path = Saver().save(make_vars(), str(tmp_path / "m"))
    wrong = make_vars()
    wrong["params"]["v1"] = jnp.zeros(4)
    with pytest.raises(CheckpointError, match=r"'v1'.*shape is \(3,\).*variable's is \(4,\)"):
        Saver().restore(path, wrong)


def test_dtype_mismatch(tmp_path):
    path = Saver().save(make_vars(), str(tmp_path / "m"))
    wrong = make_vars()
    wrong["params"]["v2"] = jnp.zeros(5, jnp.bfloat16)
    with pytest.raises(CheckpointError, match=r"'v2'.*dtype is float32.*variable's is bfloat16"):
        Saver().restore(path, wrong)
    wrong = make_vars()
    wrong["state"]["global_step"] = jnp.array(0.0)
    with pytest.raises(CheckpointError, match=r"global_step.*int32.*float32"):
        Saver().restore(path, wrong)


def test_restore_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a valid checkpoint: .*nothere"):
        Saver().restore(str(tmp_path / "nothere"))


# --------------------------------------------------------------------------- seed 002 flows


def test_seed_002_save_all_restore_all(tmp_path):
    # v1 = zeros[3] incremented, v2 = zeros[5] decremented, then saver.save
    variables = {"params": {"v1": jnp.zeros(3) + 1, "v2": jnp.zeros(5) - 1}, "state": {}}
    saver = Saver()
    save_path = saver.save(variables, str(tmp_path / "model.ckpt"))
    assert save_path == str(tmp_path / "model.ckpt")
    # restore into freshly built variables (values irrelevant)
    fresh = {"params": {"v1": jnp.full(3, 9.0), "v2": jnp.full(5, 9.0)}, "state": {}}
    restored = Saver().restore(str(tmp_path / "model.ckpt"), fresh)
    assert restored["params"]["v1"].tolist() == [1.0, 1.0, 1.0]
    assert restored["params"]["v2"].tolist() == [-1.0] * 5


def test_seed_002_save_subset(tmp_path):
    variables = {"params": {"v1": jnp.zeros(3), "v2": jnp.zeros(5) - 1}, "state": {}}
    Saver().save(variables, str(tmp_path / "model.ckpt"))
    # Saver({"v2": v2}): restores only v2; v1 keeps its own initial value
    fresh = {"params": {"v1": jnp.full(3, 7.0), "v2": jnp.zeros(5)}, "state": {}}
    restored = Saver({"v2": "v2"}).restore(str(tmp_path / "model.ckpt"), fresh)
    assert restored["params"]["v1"].tolist() == [7.0] * 3
    assert restored["params"]["v2"].tolist() == [-1.0] * 5
    # and saving only v2 writes only v2
    path = Saver({"v2": "v2"}).save(variables, str(tmp_path / "only_v2"))
    assert list(Saver().restore(path)["params"]) == ["v2"]


def test_seed_002_save_every_n_steps_restore_latest(tmp_path):
    checkpoint_dir = tmp_path / "checkpoint"
    checkpoint_dir.mkdir()

    def loadmodel(saver, variables):
        ckpt = get_checkpoint_state(str(checkpoint_dir))
        if ckpt and ckpt.model_checkpoint_path:
            name = os.path.basename(ckpt.model_checkpoint_path)
            return True, saver.restore(os.path.join(str(checkpoint_dir), name), variables)
        return False, variables

    saver = Saver()
    variables = {"params": {"w": jnp.zeros(2)}, "state": {"step": jnp.array(0)}}
    loaded, variables = loadmodel(saver, variables)
    assert not loaded
    for i in range(10000):
        variables = {"params": {"w": jnp.full(2, float(i))}, "state": {"step": jnp.array(i)}}
        if i % 1000 == 0:
            saver.save(variables, os.path.join(str(checkpoint_dir), "model"), global_step=i)
    assert saver.last_checkpoints == [
        os.path.join(str(checkpoint_dir), f"model-{s}") for s in (5000, 6000, 7000, 8000, 9000)
    ]
    assert latest_checkpoint(str(checkpoint_dir)) == os.path.join(str(checkpoint_dir), "model-9000")
    fresh = {"params": {"w": jnp.zeros(2)}, "state": {"step": jnp.array(0)}}
    loaded, restored = loadmodel(Saver(), fresh)
    assert loaded
    assert restored["params"]["w"].tolist() == [9000.0, 9000.0]
    assert int(restored["state"]["step"]) == 9000


# --------------------------------------------------------------------------- state file


def test_state_file_exact_text_and_pruning(tmp_path):
    saver = Saver(max_to_keep=3)
    variables = {"params": {"w": jnp.ones(2)}, "state": {}}
    for step in (0, 1000, 2000, 3000, 4000):
        path = saver.save(variables, str(tmp_path / "model.ckpt"), global_step=step)
        assert path == str(tmp_path / f"model.ckpt-{step}")
    text = (tmp_path / "checkpoint").read_text()
    assert text == (
        'model_checkpoint_path: "model.ckpt-4000"\n'
        'all_model_checkpoint_paths: "model.ckpt-2000"\n'
        'all_model_checkpoint_paths: "model.ckpt-3000"\n'
        'all_model_checkpoint_paths: "model.ckpt-4000"\n'
    )
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "checkpoint",
        "model.ckpt-2000.safetensors",
        "model.ckpt-3000.safetensors",
        "model.ckpt-4000.safetensors",
    ]
    assert saver.last_checkpoints == [str(tmp_path / f"model.ckpt-{s}") for s in (2000, 3000, 4000)]


def test_state_file_single_save_and_resave(tmp_path):
    saver = Saver()
    variables = {"params": {"w": jnp.ones(2)}, "state": {}}
    saver.save(variables, str(tmp_path / "model.ckpt"))
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt"\nall_model_checkpoint_paths: "model.ckpt"\n'
    )
    saver.save(variables, str(tmp_path / "b"))
    saver.save(variables, str(tmp_path / "model.ckpt"))  # re-saving moves it to the end
    assert saver.last_checkpoints == [str(tmp_path / "b"), str(tmp_path / "model.ckpt")]


def test_max_to_keep_none_keeps_all(tmp_path):
    for keep in (None, 0):
        saver = Saver(max_to_keep=keep)
        for step in range(8):
            saver.save({"params": {"w": jnp.ones(1)}}, str(tmp_path / f"k{keep}"), step)
        assert len(list(tmp_path.glob(f"k{keep}-*.safetensors"))) == 8


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    saver = Saver(max_to_keep=2, keep_checkpoint_every_n_hours=1.0)
    for step in range(8):  # one save every 20 minutes
        clock[0] += 1200.0
        saver.save({"params": {"w": jnp.ones(1)}}, str(tmp_path / "m"), global_step=step)
    kept = sorted(int(p.name.split("-")[1].split(".")[0]) for p in tmp_path.glob("m-*.safetensors"))
    # TF1: a checkpoint older than max_to_keep survives when it is past the next hour mark
    # (first mark: creation + 1h = 4600; steps save at 2200, 3400, ... ; step 2 at 4600
    # is not past it, step 3 at 5800 is; next mark 8200: step 5 at 8200 not, step 6 would be)
    assert kept == [3, 6, 7]
    assert saver.last_checkpoints == [str(tmp_path / "m-6"), str(tmp_path / "m-7")]


def test_get_checkpoint_state_and_latest(tmp_path):
    assert get_checkpoint_state(str(tmp_path)) is None
    assert latest_checkpoint(str(tmp_path)) is None
    saver = Saver()
    for step in (1, 2):
        saver.save({"params": {"w": jnp.ones(1)}}, str(tmp_path / "model.ckpt"), step)
    state = get_checkpoint_state(str(tmp_path))
    assert isinstance(state, CheckpointState)
    assert state.model_checkpoint_path == str(tmp_path / "model.ckpt-2")
    assert state.all_model_checkpoint_paths == [
        str(tmp_path / "model.ckpt-1"),
        str(tmp_path / "model.ckpt-2"),
    ]
    assert latest_checkpoint(tmp_path) == str(tmp_path / "model.ckpt-2")
    # a state file pointing at a deleted checkpoint gives None, as TF1
    os.remove(str(tmp_path / "model.ckpt-2.safetensors"))
    assert latest_checkpoint(str(tmp_path)) is None


def test_get_checkpoint_state_tf_format_and_absolute_paths(tmp_path):
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "/abs/model.ckpt-7"\n'
        'all_model_checkpoint_paths: "rel/model.ckpt-6"\n'
        'all_model_checkpoint_paths: "/abs/model.ckpt-7"\n'
        "all_model_checkpoint_timestamps: 1700000000.5\n"
        "last_preserved_timestamp: 1699999999.0\n"
    )
    state = get_checkpoint_state(str(tmp_path))
    assert state == CheckpointState(
        "/abs/model.ckpt-7", [str(tmp_path / "rel" / "model.ckpt-6"), "/abs/model.ckpt-7"]
    )


def test_state_file_quoting_round_trip(tmp_path):
    saver = Saver()
    name = 'we"ird\\na me'
    saver.save({"params": {"w": jnp.ones(1)}}, str(tmp_path / name))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / name)


def test_corrupt_state_file(tmp_path):
    (tmp_path / "checkpoint").write_text("garbage without colon\n")
    with pytest.raises(CorruptCheckpointError, match="checkpoint"):
        get_checkpoint_state(str(tmp_path))
    (tmp_path / "checkpoint").write_text("all_model_checkpoint_paths: \"a\"\n")
    with pytest.raises(CorruptCheckpointError, match="no model_checkpoint_path"):
        get_checkpoint_state(str(tmp_path))


# --------------------------------------------------------------------------- errors


def test_missing_folder_error(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(CheckpointError, match=r"Parent directory of .*no/such/model.ckpt doesn't"):
        Saver().save(make_vars(), str(missing / "model.ckpt"))
    assert not (tmp_path / "no").exists()


def test_truncated_file(tmp_path):
    path = Saver().save(make_vars(), str(tmp_path / "m"))
    file = path + ".safetensors"
    data = (tmp_path / "m.safetensors").read_bytes()
    for cut in (0, 5, 8, 40, len(data) // 2, len(data) - 1):
        with open(file, "wb") as f:
            f.write(data[:cut])
        with pytest.raises(CorruptCheckpointError, match=f"{file} is corrupt or truncated"):
            Saver().restore(path)


def test_flipped_bytes(tmp_path):
    path = Saver().save(make_vars(), str(tmp_path / "m"))
    file = path + ".safetensors"
    data = bytearray((tmp_path / "m.safetensors").read_bytes())
    rng = random.Random(0)
    positions = [0, 3, 8, 9, len(data) - 1, len(data) - 20] + rng.sample(range(len(data)), 40)
    for pos in positions:
        damaged = bytearray(data)
        damaged[pos] ^= 0x5A
        with open(file, "wb") as f:
            f.write(damaged)
        with pytest.raises(CorruptCheckpointError) as info:
            Saver().restore(path)
        assert file in str(info.value)
    # every byte of the header is covered by the header checksum
    n = int.from_bytes(data[:8], "little")
    for pos in range(8, 8 + n):
        damaged = bytearray(data)
        damaged[pos] ^= 0x5A
        with open(file, "wb") as f:
            f.write(damaged)
        with pytest.raises(CorruptCheckpointError, match=f"{file} is corrupt"):
            Saver().restore(path)
    # every byte of tensor data is covered by the checksum
    for pos in range(8 + n, len(data)):
        damaged = bytearray(data)
        damaged[pos] ^= 1
        with open(file, "wb") as f:
            f.write(damaged)
        with pytest.raises(CorruptCheckpointError, match="checksum"):
            Saver().restore(path)


def test_unsupported_dtype(tmp_path):
    with pytest.raises(CheckpointError, match="'s'.*dtype"):
        Saver().save({"params": {}, "state": {"s": np.array(["x"])}}, str(tmp_path / "m"))
    assert not list(tmp_path.iterdir())  # no temp file left behind


# --------------------------------------------------------------------------- TF1 checkpoints


def test_restore_tf1_checkpoint_via_reader(tmp_path, monkeypatch):
    from jaxscope.train import tf_checkpoint

    seen = []
    held = {
        "conv1/weights": np.ones((2, 2), np.float32),
        "global_step": np.array(100, np.int64),
        "bn/moving_mean": np.zeros(2, np.float32),
    }

    def load_checkpoint(prefix, names=None):
        seen.append(prefix)
        return {name: held[name] for name in (held if names is None else names)}

    monkeypatch.setattr(tf_checkpoint, "load_checkpoint", load_checkpoint)
    monkeypatch.setattr(tf_checkpoint, "list_variables",
                        lambda prefix: sorted((k, v.shape) for k, v in held.items()))
    prefix = str(tmp_path / "model.ckpt-100")
    open(prefix + ".index", "wb").close()
    out = Saver().restore(prefix)
    assert seen == [prefix]
    assert sorted(out["params"]) == ["bn/moving_mean", "conv1/weights"]
    step = out["state"]["global_step"]
    assert step.dtype == jnp.int32 and int(step) == 100
    # variables say where a tensor goes; int64 in the file fits an int32 variable (no x64)
    given = {
        "params": {"conv1/weights": jnp.zeros((2, 2))},
        "state": {"bn/moving_mean": jnp.ones(2), "global_step": jnp.array(0)},
    }
    out = Saver().restore(prefix, given)
    assert sorted(out["state"]) == ["bn/moving_mean", "global_step"]
    np.testing.assert_array_equal(out["state"]["bn/moving_mean"], np.zeros(2))


def test_restore_real_tf1_fixture():
    tf_checkpoint = pytest.importorskip("jaxscope.train.tf_checkpoint")
    folder = os.path.join(FIXTURES, "tf1_checkpoints", "image_filter")
    if not os.path.isdir(folder):
        pytest.skip("TF fixtures not present")
    assert tf_checkpoint is not None
    prefix = latest_checkpoint(folder)
    assert prefix == os.path.join(folder, "model.ckpt-100")
    expected = np.load(os.path.join(folder, "expected.npz"))
    out = Saver().restore(prefix)
    names = [str(n) for n in expected["__variable_names__"]]
    for name in names:
        collection = "params" if expected[name].dtype.kind == "f" else "state"
        np.testing.assert_array_equal(np.asarray(out[collection][name]), expected[name])


# --------------------------------------------------------------------------- atomicity

CHILD = textwrap.dedent(
    """
    import os, sys
    import jax.numpy as jnp
    from jaxscope.train import Saver
    folder, mode = sys.argv[1], sys.argv[2]
    saver = Saver()
    good = {"params": {"w": jnp.full((4,), 1.0)}, "state": {"step": jnp.array(1)}}
    saver.save(good, os.path.join(folder, "model.ckpt"), global_step=1)
    real_replace = os.replace
    def dying_replace(src, dst):
        if mode == "data" or (mode == "state" and dst.endswith("checkpoint")):
            os._exit(17)
        return real_replace(src, dst)
    os.replace = dying_replace
    bad = {"params": {"w": jnp.full((4,), 2.0)}, "state": {"step": jnp.array(2)}}
    saver.save(bad, os.path.join(folder, "model.ckpt"), global_step=2)
    os._exit(0)
    """
)


def run_child(code: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("JAX_PLATFORMS", "cpu")
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("mode", ["data", "state"])
def test_killed_before_rename_keeps_previous_checkpoint(tmp_path, mode):
    proc = run_child(CHILD, str(tmp_path), mode)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 17, err
    state_text = (tmp_path / "checkpoint").read_text()
    assert state_text == (
        'model_checkpoint_path: "model.ckpt-1"\nall_model_checkpoint_paths: "model.ckpt-1"\n'
    )
    prefix = latest_checkpoint(str(tmp_path))
    assert prefix == str(tmp_path / "model.ckpt-1")
    out = Saver().restore(prefix)
    assert out["params"]["w"].tolist() == [1.0] * 4 and int(out["state"]["step"]) == 1
    # mode "data": the new file never appeared; mode "state": it is whole but not listed
    new = tmp_path / "model.ckpt-2.safetensors"
    assert new.exists() == (mode == "state")
    if mode == "state":
        assert Saver().restore(str(tmp_path / "model.ckpt-2"))["params"]["w"].tolist() == [2.0] * 4


KILL_CHILD = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from jaxscope.train import Saver
    folder = sys.argv[1]
    saver = Saver(max_to_keep=2)
    step = 0
    while True:
        step += 1
        big = np.full((2_000_000,), float(step), np.float32)
        saver.save({"params": {"big": big}, "state": {"step": np.array(step, np.int32)}},
                   os.path.join(folder, "model.ckpt"), global_step=step)
        print(step, flush=True)
    """
)


def test_sigkill_mid_save_keeps_a_restorable_checkpoint(tmp_path):
    rng = random.Random(1234)
    for trial in range(3):
        folder = tmp_path / f"t{trial}"
        folder.mkdir()
        proc = run_child(KILL_CHILD, str(folder))
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == "1", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        prefix = latest_checkpoint(str(folder))
        assert prefix is not None
        out = Saver().restore(prefix)
        step = int(out["state"]["step"])
        assert prefix.endswith(f"-{step}")
        big = np.asarray(out["params"]["big"])
        assert big.shape == (2_000_000,) and (big == step).all()
        state = get_checkpoint_state(str(folder))
        assert state is not None
        for path in state.all_model_checkpoint_paths:
            Saver().restore(path)  # every listed checkpoint is still whole


def test_restore_subset_of_real_tf1_checkpoint_with_strings():
    pytest.importorskip("jaxscope.train.tf_checkpoint")
    folder = os.path.join(FIXTURES, "tf1_checkpoints", "dtypes")
    if not os.path.isdir(folder):
        pytest.skip("TF fixtures not present")
    prefix = latest_checkpoint(folder)
    assert prefix is not None
    # the checkpoint holds a string tensor too; asking only for numbers reads only those
    out = Saver(["dtypes/v_float32", "dtypes/v_bfloat16"]).restore(prefix)
    assert out["params"]["dtypes/v_float32"].shape == (2, 3)
    assert out["params"]["dtypes/v_bfloat16"].dtype == jnp.bfloat16
    with pytest.raises(CheckpointError, match=r"Key 'dtypes/v_float33' not found.*v_float32"):
        Saver(["dtypes/v_float33"]).restore(prefix)


SHARDED_SCRIPT = r"""
import os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import jaxscope as js
mesh = Mesh(np.array(jax.devices()), ("x",))
rows = NamedSharding(mesh, P("x"))
w = jax.device_put(jnp.arange(8.0).reshape(4, 2), rows)
assert len(w.sharding.device_set) == 2
path = js.train.Saver().save({"params": {"w": w}, "state": {}}, sys.argv[1])
restored = js.train.Saver().restore(path, shardings={"params": {"w": rows}})
assert restored["params"]["w"].sharding == rows
np.testing.assert_array_equal(restored["params"]["w"], np.arange(8.0).reshape(4, 2))
flat = js.train.Saver().restore(path, shardings={"w": NamedSharding(mesh, P(None, "x"))})
assert flat["params"]["w"].sharding.spec == P(None, "x")
# restoring into given variables keeps their sharding; a single-device one stays as it was
given = {"params": {"w": jax.device_put(jnp.zeros((4, 2)), NamedSharding(mesh, P(None, "x")))},
         "state": {}}
into = js.train.Saver().restore(path, given)
assert into["params"]["w"].sharding == given["params"]["w"].sharding
np.testing.assert_array_equal(into["params"]["w"], np.arange(8.0).reshape(4, 2))
assert len(js.train.Saver().restore(path, {"params": {"w": jnp.zeros((4, 2))}, "state": {}})
           ["params"]["w"].sharding.device_set) == 1
override = js.train.Saver().restore(path, given, shardings={"w": rows})
assert override["params"]["w"].sharding == rows  # shardings= wins
print("ok")
"""


def test_sharded_arrays_are_gathered_on_save_and_placed_on_restore(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", SHARDED_SCRIPT, str(tmp_path / "model.ckpt")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_failed_save_changes_nothing(tmp_path, monkeypatch):
    """max_to_keep=2: saves 1 and 2 succeed, 3 fails (disk full), 4 succeeds. Checkpoint 2
    is kept, only 1 is deleted, and nothing lists 3 (issue: a failed save was recorded)."""
    from jaxscope.train import _safetensors

    variables = {"params": {"w": jnp.ones(2)}, "state": {}}
    saver = Saver(max_to_keep=2)
    prefix = str(tmp_path / "model")
    saver.save(variables, prefix, 1)
    saver.save(variables, prefix, 2)
    real_write = _safetensors.write

    def disk_full(path, tensors, metadata):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(_safetensors, "write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        saver.save(variables, prefix, 3)
    assert saver.last_checkpoints == [f"{prefix}-1", f"{prefix}-2"]
    monkeypatch.setattr(_safetensors, "write", real_write)
    saver.save(variables, prefix, 4)
    assert saver.last_checkpoints == [f"{prefix}-2", f"{prefix}-4"]
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint", "model-2.safetensors", "model-4.safetensors"]
    state = get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == f"{prefix}-4"
    assert list(state.all_model_checkpoint_paths) == [f"{prefix}-2", f"{prefix}-4"]


@pytest.mark.parametrize("max_to_keep", [-1, 2.5, "3", True])
def test_max_to_keep_must_be_a_count(max_to_keep):
    with pytest.raises(ValueError, match="max_to_keep must be a count >= 0, or None"):
        Saver(max_to_keep=max_to_keep)


@pytest.mark.parametrize("value", [3_000_000_000, 2**40 + 5, -(2**31) - 1])
def test_a_64_bit_integer_that_does_not_fit_is_an_error_not_a_wrap(tmp_path, value):
    """With JAX's 64-bit types off, int64 is stored as int32: a value that does not fit
    used to come back wrapped (3_000_000_000 -> -1294967296)."""
    import jaxscope as js
    from jaxscope.train import _safetensors

    prefix = str(tmp_path / "model")
    metadata = {"format": "jaxscope", "jaxscope_collections": '{"big": "state", "ok": "state"}'}
    _safetensors.write(prefix + ".safetensors",
                       {"big": np.array([value, 1], np.int64), "ok": np.array([7], np.int64)},
                       metadata)
    with pytest.raises(CheckpointError, match=r"Tensor 'big' holds int64 values from .*, which "
                                              r"do not fit the int32 .*jax_enable_x64"):
        Saver().restore(prefix)
    with pytest.raises(CheckpointError, match="Tensor 'big' holds int64 values"):
        js.train.init_from_checkpoint(
            prefix, {"big": "big"}, {"params": {}, "state": {"big": jnp.zeros(2, jnp.int32)}})
    # Values that fit restore exactly; the raw reader shows the true values.
    restored = Saver(["ok"]).restore(prefix)
    assert restored["state"]["ok"].tolist() == [7] and restored["state"]["ok"].dtype == jnp.int32
    assert js.train.load_checkpoint(prefix)["big"].tolist() == [value, 1]


def test_the_reserved_name_metadata_is_refused_when_saving(tmp_path):
    variables = {"params": {"__metadata__": jnp.ones(2)}, "state": {}}
    with pytest.raises(CheckpointError, match="Cannot save a tensor named '__metadata__'"):
        Saver().save(variables, str(tmp_path / "m"))
    assert os.listdir(tmp_path) == []  # nothing written
    path = Saver({"renamed": "__metadata__"}).save(variables, str(tmp_path / "m"))
    assert Saver({"renamed": "__metadata__"}).restore(path, variables)["params"][
        "__metadata__"].tolist() == [1.0, 1.0]


def test_load_checkpoint_takes_one_name_as_a_string(tmp_path):
    import jaxscope as js

    variables = {"params": {"dense/bias": jnp.ones(2), "dense/kernel": jnp.ones([2, 2])},
                 "state": {}}
    path = Saver().save(variables, str(tmp_path / "m"))
    assert list(js.train.load_checkpoint(path, names="dense/bias")) == ["dense/bias"]


def test_init_from_checkpoint_explains_a_flat_dict(tmp_path):
    import jaxscope as js

    variables = {"params": {"w": jnp.ones(2)}, "state": {}}
    path = Saver().save(variables, str(tmp_path / "m"))
    with pytest.raises(TypeError, match=r"pass \{'params': flat, 'state': \{\}\}"):
        js.train.init_from_checkpoint(path, {"w": "w"}, {"w": jnp.zeros(2)})
