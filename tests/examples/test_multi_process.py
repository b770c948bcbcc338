"""examples/multi_process.py: 2 processes x 4 CPU devices vs 1 process x 8, on localhost.

The script launches both runs itself (spawned subprocesses, a loopback coordinator, gloo
collectives, a timeout that kills them); this test runs it once with a few steps and
checks what it reports: the same losses, one checkpoint written by process 0 and read
back by both processes, and the hidden variables split across the processes.
"""

from __future__ import annotations

import os
import pathlib
import re
import socket
import subprocess
import sys

import jax
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "multi_process.py"
STEPS, BATCH, HIDDEN = 20, 32, 32


def _cannot_start() -> str | None:
    """Why this platform cannot run 2 JAX processes on loopback, or None."""
    if not hasattr(jax.config, "jax_cpu_collectives_implementation"):
        return f"jax {jax.__version__} has no CPU collectives option (gloo)"
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
    except OSError as error:
        return f"cannot bind a loopback socket for the coordinator: {error}"
    return None


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> str:
    reason = _cannot_start()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("multi_process")
    env = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", str(STEPS), "--batch-size", str(BATCH),
         "--hidden-units", str(HIDDEN), "--learning-rate", "1e-2", "--timeout", "150",
         "--checkpoint-dir", str(folder)],
        cwd=REPO, capture_output=True, text=True, timeout=400, check=False, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_two_processes_match_one_process(output):
    final = output.strip().splitlines()[-1]
    match = re.fullmatch(r"final: 2 processes x 4 devices vs 1 process x 8 devices after "
                         r"(\d+) steps: max \|Δloss\| = (\S+), max \|Δvariable\| = (\S+) "
                         r"\(match: (yes|no)\)", final)
    assert match, final
    steps, loss_diff, variable_diff, verdict = match.groups()
    assert int(steps) == STEPS and verdict == "yes"
    assert float(loss_diff) <= 1e-5 and float(variable_diff) <= 1e-5
    losses = re.search(rf"loss: step 1 (\S+), step {STEPS} (\S+) \(1 process\)", output)
    assert float(losses[2]) < 0.8 * float(losses[1])  # it trained
    assert "every process read the same losses: yes" in output


def test_variables_split_across_processes_and_checkpoint_restored(output):
    for rank in (0, 1):
        line = next(x for x in output.splitlines() if x.startswith(f"process {rank}:"))
        assert f"hidden/layer1/kernel (64, {HIDDEN}) P('data', None)" in line
        assert f"holds 4 shards of (8, {HIDDEN})" in line  # 64 rows / 8 devices, 4 here
        assert line.endswith("restored checkpoint equals trained variables: yes")


def test_one_checkpoint_file(output):
    line = next(x for x in output.splitlines() if x.startswith("checkpoint "))
    assert f"model.ckpt-{STEPS}: folder holds ['checkpoint', 'model.ckpt-{STEPS}.safetensors']" \
        in line
