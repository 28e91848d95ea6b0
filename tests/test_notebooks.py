"""Every notebook runs top to bottom offline, and is stored executed (so the repository page shows its figures)."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("execute_notebooks", NOTEBOOK_DIR / "execute.py")
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    executed = execute_notebooks.execute(path, tmp_path)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_executed_with_its_figures(path):
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), f"{path.name}: run `python notebooks/execute.py`"
    outputs = [output for cell in code for output in cell.outputs]
    assert not any(output.get("output_type") == "error" for output in outputs)
    draws = any("matplotlib" in cell.source or "Display" in cell.source for cell in code)
    assert not draws or any("image/png" in output.get("data", {}) for output in outputs), "figures missing"
    assert not any(execute_notebooks.is_progress_bar(output) for output in outputs), "a progress bar was stored"
