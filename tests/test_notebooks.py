"""Every notebook runs top to bottom offline, and is stored executed (so the repository page shows its figures).

The notebooks run in this process, each in a fresh ``__main__`` namespace, as a Jupyter kernel would run them
(:func:`run_here`): a kernel per notebook cost a Python start, the torch import, a model load and the demo pool's
embeddings every time (about half of each notebook's test time). ``notebooks/execute.py``, which stores the notebooks
with their outputs, still runs them in a kernel; one small notebook checks that path.
"""

import ast
import importlib.util
import linecache
import os
import sys
import tempfile
import traceback
import types
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("execute_notebooks", NOTEBOOK_DIR / "execute.py")
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)


class NotebookCellError(Exception):
    """A cell raised; the message names the notebook and the cell, the cause is the cell's own error."""


def _run_cell(source: str, filename: str, namespace: dict, formatter) -> None:
    """Run one cell as IPython does: statements, then the last expression's value formatted for display."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)  # tracebacks show it
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            formatter.format(value)  # repr and _repr_html_ and the like; like a kernel, their errors are only shown


def _draw_figures(plt) -> None:
    """What the inline backend does after each cell: draw every open figure to PNG, then close it."""
    import io

    for number in plt.get_fignums():
        plt.figure(number).savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close("all")


def run_here(path: Path) -> int:
    """Run the notebook's code cells in order in this process, in the working directory; return how many ran.

    Each notebook gets a new ``__main__`` module as its namespace (functions it defines pickle as in a kernel).
    Afterwards the environment variables and the process's embedding cache are as before (a notebook may clear
    it); the notebook starts with the embeddings this process already has, which changes no result.
    A failing cell raises :class:`NotebookCellError` naming the notebook and the cell (its index in the file).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter

    from zsclassify import embedding

    notebook = nbformat.read(path, as_version=4)
    main = types.ModuleType("__main__")
    saved_main, saved_environ, saved_cache = sys.modules["__main__"], dict(os.environ), embedding._CACHE.copy()
    formatter = DisplayFormatter()
    ran = 0
    sys.modules["__main__"] = main
    try:
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            filename = f"{path.name}, cell {index}"
            try:
                _run_cell(cell.source, filename, main.__dict__, formatter)
                _draw_figures(plt)
            except Exception as error:
                raise NotebookCellError(f"{filename} raised {type(error).__name__}: {error}") from error
            ran += 1
    finally:
        sys.modules["__main__"] = saved_main
        plt.close("all")
        for name in set(os.environ) - set(saved_environ):
            del os.environ[name]
        os.environ.update(saved_environ)
        embedding._CACHE.update(saved_cache)
    return ran


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the notebooks' mkdtemp() folders: removed with tmp_path
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert run_here(path) == len(code)


def _write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(notebook, path)
    return path


def test_each_notebook_has_its_own_namespace_and_a_failure_names_the_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    test_main = sys.modules["__main__"]
    first = _write_notebook(
        tmp_path / "first.ipynb",
        "import os\nos.environ['ZSCLASSIFY_NOTEBOOK_TEST'] = '1'\nleft_behind = 1\nleft_behind",
    )
    assert run_here(first) == 1
    assert "ZSCLASSIFY_NOTEBOOK_TEST" not in os.environ and sys.modules["__main__"] is test_main
    second = _write_notebook(tmp_path / "second.ipynb", "x = 1", "def f():\n    return left_behind\n\n\nf()", "1")
    with pytest.raises(NotebookCellError, match=r"^second\.ipynb, cell 2 raised NameError: .*'left_behind'") as info:
        run_here(second)
    assert isinstance(info.value.__cause__, NameError)
    assert "return left_behind" in "".join(traceback.format_exception(info.value.__cause__))  # the cell's line


@pytest.mark.slow
def test_execute_py_runs_a_notebook_in_a_kernel_and_drops_progress_bars(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import os, sys\nprint(os.getcwd())"),
        nbformat.v4.new_code_cell("sys.stderr.write('embedding:  50%|#####     |\\r')\nsys.stderr.flush()\n6 * 7"),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "small.ipynb"
    nbformat.write(notebook, path)
    workdir = tmp_path / "work"
    workdir.mkdir()
    executed = execute_notebooks.execute(path, workdir)
    first, second = executed.cells
    assert first.execution_count == 1 and second.execution_count == 2
    assert [output.get("text", "").strip() for output in first.outputs] == [str(workdir)]
    assert [output.output_type for output in second.outputs] == ["execute_result"]  # the bar was dropped
    assert second.outputs[0].data["text/plain"] == "42"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_executed_with_its_figures(path):
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), f"{path.name}: run `python notebooks/execute.py`"
    outputs = [output for cell in code for output in cell.outputs]
    assert not any(output.get("output_type") == "error" for output in outputs)
    draws = any("matplotlib" in cell.source or "Display" in cell.source for cell in code)
    assert not draws or any("image/png" in output.get("data", {}) for output in outputs), "figures missing"
    assert not any(execute_notebooks.is_progress_bar(output) for output in outputs), "a progress bar was stored"
