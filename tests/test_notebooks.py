"""The notebooks in ``notebooks/`` run from a fresh kernel and show what they promise.

Each notebook is executed again with nbclient, from its own folder (as Jupyter runs it),
in a kernel of this interpreter: a ``python3`` kernelspec written to a temporary
``JUPYTER_PATH`` runs ``sys.executable``, so the kernel sees the same environment as
the tests, whatever kernelspecs the machine has. Any cell error fails the test. Then the
figures each notebook reports are checked: the TF1 error texts, the training run's final
accuracy, the ported model's distance from TensorFlow's own outputs.

The saved notebooks are checked too: executed, with outputs, and without errors.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import nbformat
import pytest
from nbclient import NotebookClient

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
TF1_CHECKPOINT_DIR = REPO / "examples" / "data" / "tf1_image_filter"
CELL_TIMEOUT_SECONDS = 120
# The TF fixture's tolerance for the image filter's outputs (fixtures README).
RTOL, ATOL = 1e-5, 2e-3


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A ``python3`` kernelspec running this interpreter, headless (CPU JAX, Agg backend)."""
    jupyter_dir = tmp_path_factory.mktemp("jupyter")
    spec_dir = jupyter_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (jaxscope tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as patch:
        # JUPYTER_PATH comes first in the kernelspec search, before user and system dirs.
        patch.setenv("JUPYTER_PATH", str(jupyter_dir))
        patch.setenv("JAX_PLATFORMS", "cpu")
        patch.setenv("MPLBACKEND", "Agg")  # notebooks still say `%matplotlib inline`
        yield "python3"


def execute(name: str, kernel_name: str) -> nbformat.NotebookNode:
    """Runs notebook ``name`` top to bottom from its folder; raises on any cell error."""
    nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_SECONDS, kernel_name=kernel_name,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]


def text(nb: nbformat.NotebookNode, stream: str | None = None) -> str:
    """Printed text (of one stream, or all streams and plain-text results)."""
    parts = []
    for output in outputs(nb):
        if output.output_type == "stream":
            if stream is None or output.name == stream:
                parts.append(output.text)
        elif stream is None and "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def rich(nb: nbformat.NotebookNode, mime: str) -> list[str]:
    """Every rich output of type ``mime`` (``text/html``, ``image/png``)."""
    return [output.data[mime] for output in outputs(nb) if mime in output.get("data", {})]


def files_under(folder: pathlib.Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_the_three_notebooks_are_there():
    assert [path.stem for path in NOTEBOOKS] == [
        "01_sharing_variables", "02_training_loop", "03_from_tf1"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_saved_notebook_is_executed_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells
    counts = [cell.execution_count for cell in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), "saved notebook not run top to bottom"
    assert not [o for o in outputs(nb) if o.output_type == "error"]
    assert rich(nb, "text/html"), "js.summary should be saved as an HTML table"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_sharing_variables_notebook(kernel):
    nb = execute("01_sharing_variables", kernel)
    out = text(nb)
    # tf.Variable-style code called twice: eight variables.
    assert "'conv2_biases_1'" in out
    # The guide's refusal to share by accident, and reuse=True without the variable.
    assert "Variable conv1/weights already exists, disallowed. Did you mean to set " in out
    assert "Variable layer1/w already exists, disallowed." in out
    assert "Variable layer1/w does not exist, or was not created with tf.get_variable()" in out
    # reuse_variables(): four shared variables, in an HTML summary.
    tables = [html for html in rich(nb, "text/html") if "jaxscope-summary" in html]
    assert any("image_filters/conv2/biases" in html and "Total: 4 variables" in html
               for html in tables)
    assert "same image, same variables -> same result: True" in out
    # reuse is inherited and cannot be switched off inside a reusing scope.
    assert re.search(r"root/foo/baz, reuse=False\s+reuse=True", out)
    assert "'foo_scope2': 'foo'" in out and "'other_scope': 'bar/baz'" in out
    # Name scopes name ops, not variables.
    assert "ops: ['foo/bar/add']" in out
    assert "image_filters/conv2_1/conv_general_dilated" in out


def test_training_loop_notebook(kernel):
    nb = execute("02_training_loop", kernel)
    out = text(nb, "stdout")
    reg = re.search(r"regularization loss (\S+), by hand (\S+)", out)
    assert reg and float(reg[1]) == pytest.approx(float(reg[2]), rel=1e-3), out
    final = out.strip().splitlines()[-1]
    match = re.fullmatch(r"final: test accuracy (\d+\.\d)% after (\d+) steps", final)
    assert match, final
    assert float(match[1]) >= 85.0, final  # reaches about 98%; chance is 10%
    assert int(match[2]) > 0
    assert "training: 100%" in text(nb, "stderr")  # the tqdm bar ran to the end
    assert len(rich(nb, "image/png")) >= 2  # the digits and the loss/accuracy plots
    assert any("digits_cnn/conv1/kernel" in html for html in rich(nb, "text/html"))


def test_from_tf1_notebook(kernel):
    data_before, notebooks_before = files_under(TF1_CHECKPOINT_DIR), files_under(NOTEBOOKS_DIR)
    nb = execute("03_from_tf1", kernel)
    out = text(nb, "stdout")
    names = [f"image_filters/{layer}/{kind}" for layer in ("conv1", "conv2")
             for kind in ("weights", "biases")]
    for name in names:
        assert re.search(rf"{name}\s+\(", out), f"list_variables should list {name}"
        assert re.search(rf"{name}\s+identical to TF's: True", out), name
    diffs = re.findall(r"max abs diff (\S+)\s+\(max \|TF output\| (\S+)\)", out)
    assert len(diffs) == 6, out  # both outputs, after restore, renaming and reloading
    for diff, magnitude in diffs:
        assert float(diff) <= ATOL + RTOL * float(magnitude), (diff, magnitude)
    assert "ported/conv2/biases    from the TF checkpoint" in out
    assert "ported/conv2/weights   as init made it" in out
    assert "reloaded jaxscope checkpoint equals what was saved: True" in out
    # The checkpoint it saves goes to a temporary folder, not into the repository.
    assert files_under(TF1_CHECKPOINT_DIR) == data_before
    assert files_under(NOTEBOOKS_DIR) == notebooks_before
