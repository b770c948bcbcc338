"""Every script in examples/ runs as a newcomer would run it, and shows its variables.

Each example is started in a fresh interpreter (`python examples/NAME.py`), must exit 0
within a generous time limit, and must print the `js.summary` table of its model.
"""

from __future__ import annotations

import functools
import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
TIMEOUT_SECONDS = 120  # each aims at well under 20 s on a CPU; slack for busy machines


@functools.cache
def run(script: pathlib.Path) -> subprocess.CompletedProcess:
    """Run one example in a fresh interpreter (once per test session)."""
    return subprocess.run(
        [sys.executable, str(script)], cwd=EXAMPLES_DIR.parent,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )


def test_there_are_examples():
    assert EXAMPLES, f"no examples found in {EXAMPLES_DIR}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_prints_the_summary(script):
    done = run(script)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    # The summary table: its header row, a rule, and the totals line.
    lines = done.stdout.splitlines()
    assert any(line.split()[:3] == ["name", "shape", "dtype"] for line in lines), done.stdout
    assert any(line and set(line) == {"-"} for line in lines), done.stdout
    assert any(line.startswith("Total: ") and " parameters " in line for line in lines), (
        done.stdout
    )


def test_image_filter_example_shows_shared_variables_and_op_names():
    # The README's example: checked for what it promises to show, not just that it runs.
    done = run(EXAMPLES_DIR / "image_filter.py")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Total: 4 variables, 51,264 parameters" in out  # four variables, not eight
    for name in ("conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases"):
        assert f"image_filters/{name} " in out
    assert "Variable conv1/weights already exists, disallowed." in out
    losses = [float(line.split()[-1]) for line in out.splitlines() if line.startswith("step ")]
    assert len(losses) >= 2 and losses[-1] < losses[0], losses
    assert "image_filters/conv1/conv_general_dilated" in out
    assert "image_filters/conv2_1/conv_general_dilated" in out
