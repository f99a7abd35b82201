"""The planners' notebooks: stored clean, and each one runs top to bottom on the shipped data.

A notebook's own cells check their results (for example that the plan is better balanced than
today and passes the independent checker), so running it without error is a real test of the
story it tells, not just of its syntax.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PLANNER_NOTEBOOKS = {"01_quickstart.ipynb", "02_from_census_files.ipynb", "03_tradeoffs.ipynb"}

#: Seconds one cell may run (nbclient's own limit) ...
CELL_TIMEOUT = 300
#: ... and the whole notebook: each cell gets at most what is left of this. The notebooks take
#: well under a minute (01, 03) or seconds (02) of solver time; this only stops a hang.
NOTEBOOK_TIMEOUT = 420

#: Run first, in the notebook's kernel, to learn which Python and which zoneopt it uses.
PROBE = "import json, sys, zoneopt; print(json.dumps([sys.prefix, zoneopt.__file__]))"


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_the_three_planner_notebooks_are_shipped():
    assert PLANNER_NOTEBOOKS <= {p.name for p in NOTEBOOKS}
    assert (NOTEBOOK_DIR / "README.md").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_without_outputs_or_execution_counts(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb.metadata, "saved widget state: clear outputs before committing"
    dirty = [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (cell.outputs or cell.execution_count is not None or "execution" in cell.metadata)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} carry outputs, execution counts or timings; clear them "
        "(see notebooks/README.md)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_top_to_bottom_in_the_project_python(path, tmp_path, monkeypatch):
    # The kernel inherits TMPDIR: folders a notebook makes with tempfile (06 writes its example
    # files to one, for the planner to open) land in pytest's own, pruned temporary folders
    # instead of piling up in /tmp on every run.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        # Each cell may use what is left of the notebook's budget, so a notebook cannot hang
        # the suite for more than NOTEBOOK_TIMEOUT seconds.
        timeout_func=lambda cell: max(1, min(CELL_TIMEOUT, int(deadline - time.monotonic()))),
        kernel_name="python3",
        # Run from the repository root, as `make test` does from a fresh clone.
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell and its traceback

    probe = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")
    prefix, module = json.loads(probe.strip().splitlines()[-1])
    assert Path(prefix) == Path(sys.prefix), "the kernel should be the project's virtualenv"
    assert Path(module).resolve().is_relative_to(ROOT), "the kernel should import this checkout"
