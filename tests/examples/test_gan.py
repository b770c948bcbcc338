"""examples/gan.py: two optimizers picked by scope train a GAN that moves toward the data."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "gan.py"


def test_gan_moves_toward_the_data(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--steps", "300", "--eval-points", "500",
         "--workdir", str(tmp_path)],
        cwd=SCRIPT.parents[1], env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "generator/" in out and "discriminator/" in out  # both scopes in the summary
    assert "Total: " in out
    final = out.strip().splitlines()[-1]
    match = re.fullmatch(
        r"final: sliced Wasserstein distance (\S+) to the data after 300 steps "
        r"\(untrained generator (\S+), a second data sample (\S+)\)", final)
    assert match, final
    trained, untrained, floor = (float(x) for x in match.groups())
    assert floor < untrained
    assert trained < 0.5 * untrained, final  # training halves the distance at least
    assert "it/s" in done.stderr or "step" in done.stderr  # the progress bar
    assert list(tmp_path.glob("gan.ckpt-300.safetensors")), list(tmp_path.iterdir())
