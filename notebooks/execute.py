"""Re-run the notebooks and store them with their outputs, so the repository page shows the figures.

    pip install -e ".[notebook]" && python notebooks/execute.py            # all of them
    python notebooks/execute.py 03_chatbot_intents.ipynb                    # some

Run it after any change that moves the notebooks' numbers (e.g. a new default fit). Each notebook runs in a
fresh kernel, offline, in a temporary working directory; progress bars are dropped from the stored outputs
(they are live widgets that a static page cannot draw). The tests execute the notebooks too.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
WIDGET = "application/vnd.jupyter.widget-view+json"


def is_progress_bar(output: dict) -> bool:
    if output.get("output_type") == "display_data":
        return WIDGET in output.get("data", {})
    return output.get("output_type") == "stream" and output.get("name") == "stderr" and "\r" in output.get("text", "")


def execute(path: Path, workdir: Path, timeout: int = 900) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` top to bottom in ``workdir``; return it with outputs, progress bars dropped."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    notebook = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(workdir)}}
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources=resources).execute()
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if not is_progress_bar(output)]
    return notebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook file names (default: every notebook here)")
    names = parser.parse_args(argv).names
    paths = [HERE / name for name in names] if names else sorted(HERE.glob("*.ipynb"))
    for path in paths:
        with tempfile.TemporaryDirectory() as workdir:
            nbformat.write(execute(path, Path(workdir)), path)
        print(f"executed and stored {path.name}")


if __name__ == "__main__":
    main()
