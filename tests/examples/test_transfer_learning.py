"""examples/transfer_learning.py: frozen layers stay as restored, the rest learns the new task."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "transfer_learning.py"
TINY = ["--base-steps", "40", "--steps", "30", "--batch-size", "32", "--conv-channels", "8",
        "--hidden-units", "32", "--learning-rate", "5e-3", "--save-every", "10"]


def test_fine_tuning_trains_the_head_and_leaves_frozen_layers_alone(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--workdir", str(tmp_path), *TINY],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "training a base on digits 0,1,2,3,4 for 40 steps" in out
    assert f"base checkpoint: {tmp_path / 'base' / 'model.ckpt-40'}" in out

    # trainable=False puts the conv layers in state; the rest (and the new head) in params
    assert "frozen (in state): conv1/weights, conv1/biases, conv2/weights, conv2/biases" in out
    assert "trained (in params): local3/weights, local3/biases, local4/weights, " in out
    assert re.search(r"conv1/weights +\(5, 5, 1, 8\) +float32 +200 +no +state", out)

    # frozen: exactly the checkpoint's values; fine-tuned: moved
    changes = dict(re.findall(r"^  (\S+) +(?:frozen|fine-tuned) +(\S+)$", out, re.MULTILINE))
    assert set(changes) == {f"{layer}/{name}" for layer in ("conv1", "conv2", "local3", "local4")
                            for name in ("weights", "biases")}
    assert all(float(changes[f"conv{i}/{n}"]) == 0.0 for i in (1, 2)
               for n in ("weights", "biases"))
    assert float(changes["local3/weights"]) > 0.0 and float(changes["local4/weights"]) > 0.0

    final = out.strip().splitlines()[-1]
    match = re.fullmatch(r"final: fine-tuned test accuracy (\d+\.\d)% after 30 steps "
                         r"\(frozen layers unchanged: yes\)", final)
    assert match, final
    assert float(match[1]) > 40.0, final  # 5 classes: chance is 20%
    assert (tmp_path / "finetune" / "model.ckpt-30.safetensors").exists()
