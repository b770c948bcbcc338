"""Every script in examples/ starts as a newcomer would start it.

Each example has its own test in ``tests/examples/`` that runs it with tiny settings and
checks the figure it reports; here every script must answer ``--help`` and the README's
main example must show what the README promises.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
TIMEOUT_SECONDS = 180  # each aims at well under a minute on a CPU; slack for busy machines


def run(script: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    """Run one example in a fresh interpreter, from the repository root."""
    return subprocess.run(
        [sys.executable, str(script), *args], cwd=EXAMPLES_DIR.parent,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )


def test_there_are_examples():
    assert EXAMPLES, f"no examples found in {EXAMPLES_DIR}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_answers_help(script):
    done = run(script, "--help")
    assert done.returncode == 0, f"{script.name} --help failed:\n{done.stderr}"
    assert done.stdout.startswith("usage: "), done.stdout
    assert script.name in done.stdout.splitlines()[0]


def test_image_filter_example_shows_shared_variables_and_op_names():
    # The README's example: checked for what it promises to show, not just that it runs.
    done = run(EXAMPLES_DIR / "image_filter.py", "--steps", "11")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Total: 4 variables, 51,264 parameters" in out  # four variables, not eight
    for name in ("conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases"):
        assert f"image_filters/{name} " in out
    assert "Variable conv1/weights already exists, disallowed." in out
    assert "image_filters/conv1/conv_general_dilated" in out
    assert "image_filters/conv2_1/conv_general_dilated" in out
    final = out.strip().splitlines()[-1]
    match = re.fullmatch(r"final: loss (\S+) after 11 steps \(from (\S+)\)", final)
    assert match, final
    assert float(match[1]) < 0.5 * float(match[2]), final  # training halves the loss
