"""Runs examples/inference.py: export, serve from a fresh process, compare with apply."""

from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "examples", "inference.py")
FINAL = re.compile(
    r"^final: served (\d+) batches of (\d+), median latency (\S+) ms \(p90 (\S+) ms\); "
    r"outputs match apply: (yes|no)$")


def test_served_outputs_match_apply(tmp_path):
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--steps", "30", "--hidden", "16", "--batches", "6",
         "--batch-size", "4", "--warmup", "1", "--workdir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"}, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    match = FINAL.match(proc.stdout.strip().splitlines()[-1])
    assert match, proc.stdout[-3000:]
    batches, batch_size, median, p90, same = match.groups()
    assert (int(batches), int(batch_size), same) == (6, 4, "yes")
    # Latencies are real measurements: positive, and the 90th percentile not below the median.
    assert 0.0 < float(median) <= float(p90)
    # The fresh process served the artifact without jaxscope (its imports were blocked) and
    # its symbolic batch dimension took a batch of 1 too.
    assert "server | training modules loaded by the server: none" in proc.stdout
    assert "server | a batch of 1 through the same artifact agrees" in proc.stdout
    assert "agrees with batch 0's first row: yes" in proc.stdout
    assert "same classes: yes" in proc.stdout
    assert "serving" in proc.stderr and "training" in proc.stderr  # the progress bars
    artifact = tmp_path / "digits_classifier.jax_export"
    assert artifact.stat().st_size > 0
