"""examples/data_parallel.py: one model, replicated on 8 CPU devices, batch split over "data".

One tiny run (40 steps). The script trains the same steps on 1 device and on the mesh;
data parallelism must not change the result beyond float32 summation order, and the
training must learn the digits.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "data_parallel.py"
STEPS, BATCH, HIDDEN, DEVICES = 40, 32, 32, 8
FINAL = re.compile(r"final: test accuracy (\d+\.\d)% after (\d+) steps; 8-device vs 1-device "
                   r"max \|Δparam\| = (\S+) \(match: (yes|no)\)")


@pytest.fixture(scope="module")
def output() -> str:
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)  # the script sets the 8-device flag itself
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", str(STEPS), "--batch-size", str(BATCH),
         "--hidden-units", str(HIDDEN), "--learning-rate", "1e-2"],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "8 devices" in done.stderr and "1 device" in done.stderr  # the two progress bars
    return done.stdout


def per_device_shapes(line: str) -> dict[int, tuple[int, ...]]:
    """``{device id: shard shape}`` from a ``... -> per device {0: (4, 64), ...}`` line."""
    found = re.findall(r"(\d+): \(([\d, ]+)\)", line.split("per device", 1)[1])
    return {int(d): tuple(int(n) for n in shape.split(",") if n.strip()) for d, shape in found}


def line_starting(out: str, prefix: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(prefix))


def test_eight_devices_match_one_device(output):
    final = output.strip().splitlines()[-1]
    match = FINAL.fullmatch(final)
    assert match, final
    accuracy, steps, diff, verdict = float(match[1]), int(match[2]), float(match[3]), match[4]
    assert steps == STEPS and verdict == "yes", final
    # the tolerance the script used: 1e-5 x the largest parameter, re-derived here
    scale = float(re.search(r"largest \|param\| (\S+);", output)[1])
    assert 0 < scale < 10
    assert diff <= 1e-5 * scale, (diff, scale)
    # every step's loss agrees too, and the loss fell
    losses = re.search(r"loss: step 1 (\S+), step 40 (\S+) \(1 device\) vs (\S+) \(8 devices\); "
                       r"max \|Δloss\| over all steps (\S+)", output)
    assert losses, output
    first, last_single, last_sharded, loss_diff = map(float, losses.groups())
    assert abs(last_single - last_sharded) <= 1e-4 and loss_diff <= 1e-5
    assert last_single < 0.6 * first
    assert accuracy > 60.0, final  # 10 classes: chance is 10%


def test_batch_is_split_and_variables_replicated(output):
    batch = line_starting(output, "batch of images")
    assert f"({BATCH}, 64) P('data',)" in batch
    assert per_device_shapes(batch) == {d: (BATCH // DEVICES, 64) for d in range(DEVICES)}
    kernel = line_starting(output, "variable hidden1/kernel")
    assert f"(64, {HIDDEN}) P()" in kernel
    assert per_device_shapes(kernel) == {d: (64, HIDDEN) for d in range(DEVICES)}
    assert "8 CPU devices" in output


def test_xla_sums_gradients_with_an_all_reduce(output):
    count = int(re.search(r"XLA inserted (\d+) all-reduce op", output)[1])
    assert count >= 1


def test_prints_summary(output):
    assert re.search(rf"^hidden1/kernel +\(64, {HIDDEN}\) +float32", output, re.M)
    assert re.search(r"^logits/bias +\(10,\) +float32", output, re.M)
    assert "Total: 6 variables" in output
