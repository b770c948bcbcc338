"""examples/model_parallel.py: TF1-partitioned variables split over 8 CPU devices.

One tiny run (40 steps). Each device must hold TF1's ``embedding/part_i`` (shapes and
rows computed here the way TF slices a variable, as ``numpy.array_split`` does), the
8-device training must equal the 1-device one up to float32 summation order, and the
classifier must learn.
"""

from __future__ import annotations

import math
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "model_parallel.py"
STEPS, DIM, HIDDEN, DEVICES = 40, 16, 32, 8
VOCAB = 64 * 17  # (pixel, grey level 0..16) pairs of the 8x8 digits
FINAL = re.compile(r"final: test loss (\S+) \(accuracy (\d+\.\d)%\) after (\d+) steps; "
                   r"8-device vs 1-device max \|Δparam\| = (\S+) \(match: (yes|no)\); "
                   r"embedding per device ([\d,]+) B = 1/(\d+) of ([\d,]+) B")
SHARD = re.compile(r"embedding shard on device (\d+): \((\d+), (\d+)\), rows (\d+):(\d+); "
                   r"TF embedding/part_(\d+): \((\d+), (\d+)\), rows (\d+):(\d+); "
                   r"same values as the 1-device init: (yes|no)")


@pytest.fixture(scope="module")
def output() -> str:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)  # the script sets the 8-device flag itself
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", str(STEPS), "--embedding-dim", str(DIM),
         "--hidden-units", str(HIDDEN), "--batch-size", "64", "--learning-rate", "2e-2"],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "8 devices" in done.stderr and "1 device" in done.stderr  # the two progress bars
    return done.stdout


def tf_pieces(shape: tuple[int, ...], count: int) -> list[tuple[int, tuple[int, ...]]]:
    """(first row, shape) of TF's ``part_0 .. part_{count-1}``: numpy.array_split's blocks."""
    blocks = np.array_split(np.empty(shape, np.float32), count, axis=0)
    starts = np.cumsum([0] + [len(block) for block in blocks[:-1]])
    return [(int(start), block.shape) for start, block in zip(starts, blocks)]


def test_each_device_holds_tf_part_i(output):
    shards = [match.groups() for match in SHARD.finditer(output)]
    assert len(shards) == DEVICES, output
    expected = tf_pieces((VOCAB, DIM), DEVICES)
    assert {int(s[0]) for s in shards} == set(range(DEVICES))  # one piece per device
    for i, (groups, (start, shape)) in enumerate(zip(shards, expected)):
        shard_shape = (int(groups[1]), int(groups[2]))
        rows = (int(groups[3]), int(groups[4]))
        part, tf_shape, tf_rows = int(groups[5]), (int(groups[6]), int(groups[7])), (
            int(groups[8]), int(groups[9]))
        assert part == i
        assert shard_shape == shape == tf_shape, groups
        assert rows == tf_rows == (start, start + shape[0]), groups
        assert groups[10] == "yes", groups  # the sharded init drew the same values


def test_summary_shows_shardings_and_per_device_bytes(output):
    def row(name):
        return next(line for line in output.splitlines() if line.startswith(name + " "))

    embedding = row("embedding")
    assert f"({VOCAB}, {DIM})" in embedding and "P('model', None)" in embedding
    assert f"{VOCAB * DIM * 4 // DEVICES / 1024:.1f} KiB" in embedding
    assert "P(None, 'model')" in row("hidden/kernel")
    assert "P('model',)" in row("hidden/bias")
    assert "P('model', None)" in row("logits/kernel")
    assert row("logits/bias").split()[4] == "-"  # no partitioner: replicated, whole on each
    assert "per device" in output


def test_eight_devices_match_one_device(output):
    final = output.strip().splitlines()[-1]
    match = FINAL.fullmatch(final)
    assert match, final
    test_loss, accuracy, steps = float(match[1]), float(match[2]), int(match[3])
    diff, verdict = float(match[4]), match[5]
    per_device, fraction, whole = (int(match[6].replace(",", "")), int(match[7]),
                                   int(match[8].replace(",", "")))
    assert steps == STEPS and verdict == "yes", final
    scale = float(re.search(r"largest \|param\| (\S+);", output)[1])
    assert 0 < scale < 10
    assert diff <= 1e-5 * scale, (diff, scale)
    assert whole == VOCAB * DIM * 4 and fraction == DEVICES and per_device * DEVICES == whole
    assert test_loss < 0.8 * math.log(10), final  # below the 2.30 of a uniform guess
    assert accuracy > 40.0, final  # 10 classes: chance is 10%
    assert "after training every variable keeps its sharding: yes" in output
    assert re.search(r"communication XLA added to the 8-device step: .*all-reduce x\d", output)
