"""Runs examples/tf1_port.py: TensorFlow's checkpoint restored, outputs compared with TF's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "examples", "tf1_port.py")
DATA = os.path.join(REPO, "examples", "data", "tf1_image_filter")
FIXTURE_ATOL = 2e-3  # the TF fixtures README's absolute tolerance for image_filter outputs
FINAL = re.compile(
    r"^final: max \|jaxscope - TensorFlow\| = (\S+) over (\d+) outputs \(matches: (yes|no)\)$")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, SCRIPT, *args], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"}, timeout=180)


def final_line(proc: subprocess.CompletedProcess) -> re.Match:
    match = FINAL.match(proc.stdout.strip().splitlines()[-1])
    assert match, proc.stdout[-2000:] + proc.stderr[-2000:]
    return match


def test_port_matches_tensorflow(tmp_path):
    proc = run("--workdir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    match = final_line(proc)
    assert match.group(3) == "yes"
    assert 0.0 <= float(match.group(1)) < FIXTURE_ATOL
    assert int(match.group(2)) == 2 * 2 * 16 * 16 * 32  # both calls, all of TF's outputs
    assert "model names == checkpoint names: yes" in proc.stdout
    assert "restored values == TensorFlow's saved values (bitwise): yes" in proc.stdout
    assert "comparing with TensorFlow" in proc.stderr  # the progress bar
    # The port was saved as a jaxscope checkpoint in the workdir, at TF's global step.
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "model.ckpt-100.safetensors"]


def test_a_wrong_output_is_caught(tmp_path):
    # The same checkpoint, with one of TensorFlow's outputs off by 1.0: no match, exit 1.
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    expected = dict(np.load(data / "expected.npz"))
    expected["output_reuse"][1, 7, 9, 3] += 1.0
    np.savez(data / "expected.npz", **expected)
    proc = run("--checkpoint", str(data), "--workdir", str(tmp_path / "work"))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    match = final_line(proc)
    assert match.group(3) == "no"
    assert float(match.group(1)) > 0.99
