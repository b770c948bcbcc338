"""examples/train_cnn.py: trains, checkpoints every N steps, resumes where it stopped.

Three tiny runs: two of 15 steps in one folder (the second resumes) and one of 30 steps
in another. Resuming must continue the global step and the optimizer's state, so the two
short runs end exactly where the long one does.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

import jaxscope as js

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "train_cnn.py"
TINY = ["--batch-size", "32", "--conv-channels", "8", "--hidden-units", "32",
        "--learning-rate", "5e-3", "--save-every", "5", "--max-to-keep", "2"]
FINAL = re.compile(r"final: test accuracy (\d+\.\d)% after (\d+) steps")


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory):
    """A persistent XLA cache shared by the runs: later runs skip recompiling the same code."""
    return tmp_path_factory.mktemp("jax_cache")


def run(workdir: pathlib.Path, steps: int, cache: pathlib.Path) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", str(steps), "--workdir", str(workdir), *TINY],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "JAX_PLATFORMS": "cpu", "JAX_COMPILATION_CACHE_DIR": str(cache),
             "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def final_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def checkpoint_files(workdir: pathlib.Path) -> list[str]:
    return sorted(path.name for path in workdir.iterdir())


def test_two_resumed_runs_end_where_one_long_run_does(tmp_path, compile_cache):
    resumed, straight = tmp_path / "resumed", tmp_path / "straight"

    first = run(resumed, 15, compile_cache)
    assert "no checkpoint in" in first
    assert re.fullmatch(r"final: test accuracy \d+\.\d% after 15 steps", final_line(first))
    for step in (5, 10, 15):
        assert f"global step {step}: loss" in first
    # max_to_keep=2: model.ckpt-5 was deleted when model.ckpt-15 was written
    assert checkpoint_files(resumed) == [
        "checkpoint", "model.ckpt-10.safetensors", "model.ckpt-15.safetensors"]

    second = run(resumed, 15, compile_cache)
    assert f"resumed from {resumed / 'model.ckpt-15'} at global step 15" in second
    assert "global step 5:" not in second and "global step 20: loss" in second
    match = FINAL.fullmatch(final_line(second))
    assert match and match[2] == "30", final_line(second)
    # the first run's checkpoints were adopted and pruned too
    assert checkpoint_files(resumed) == [
        "checkpoint", "model.ckpt-25.safetensors", "model.ckpt-30.safetensors"]
    state = js.train.get_checkpoint_state(str(resumed))
    assert state.model_checkpoint_path == str(resumed / "model.ckpt-30")

    # the checkpoint holds the global step and Adam's state: its step count is the global
    # step (a restarted optimizer would have counted 15)
    saved = js.train.load_checkpoint(str(resumed / "model.ckpt-30"))
    assert int(saved["global_step"]) == 30
    assert int(saved["optimizer/0/count"]) == 30
    assert saved["optimizer/0/mu/conv1/weights"].shape == saved["conv1/weights"].shape

    # same batches, same optimizer state: exactly the uninterrupted run's figures
    long = run(straight, 30, compile_cache)
    for step in (20, 25, 30):
        line = next(x for x in long.splitlines() if x.startswith(f"global step {step}:"))
        assert line.replace(str(straight), str(resumed)) in second, line
    assert final_line(long) == final_line(second)
    assert float(match[1]) > 30.0, final_line(second)  # 10 classes: chance is 10%
