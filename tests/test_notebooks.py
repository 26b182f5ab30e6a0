"""The tutorial notebooks (docs/tutorials/*.ipynb): stored with their outputs, and each runs
top to bottom without an error in a fresh kernel."""

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "tutorials").glob("*.ipynb"))
spec = importlib.util.spec_from_file_location("run_notebooks",
                                              ROOT / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(spec)
sys.modules["run_notebooks"] = run_notebooks
spec.loader.exec_module(run_notebooks)


def test_there_is_a_notebook_per_course_topic():
    assert len(NOTEBOOKS) == 8, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_with_outputs(path):
    """So that GitHub shows them with their pictures: every code cell has been run."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), path.name
    assert any(o.get("output_type") in ("display_data", "execute_result") and
               "image/png" in o.get("data", {}) for c in code for o in c.outputs), \
        f"{path.name} shows no picture"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_runs_without_error(path):
    run_notebooks.execute(path)  # raises CellExecutionError naming the cell
