"""Sphinx configuration: MyST pages, the notebooks as stored (not re-run), numpydoc API reference.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (``tests/test_docs.py`` builds it with warnings as
errors). Sphinx with numpydoc reads the docstrings as scikit-learn's documentation does; MyST lets the pages stay
Markdown, the format the README and the benchmarks already use, and myst-nb renders the notebooks with their stored
outputs.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from figures import method_figure  # noqa: E402

import zsclassify  # noqa: E402

project = "zsclassify"
author = "The zsclassify developers"
copyright = "2026, the zsclassify developers"
release = version = zsclassify.__version__

extensions = ["myst_nb", "sphinx.ext.autodoc", "numpydoc"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
nb_execution_mode = "off"  # the notebooks are stored executed (notebooks/execute.py); the tests run them
myst_heading_anchors = 3
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"  # the numpydoc sections say the types
autodoc_member_order = "bysource"
html_theme = "pydata_sphinx_theme"
html_title = "zsclassify"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": False}


def _copy_notebooks(app) -> None:
    """The repository's notebooks, as stored with their outputs, become pages under ``notebooks/``."""
    target = HERE / "notebooks"
    target.mkdir(exist_ok=True)
    for notebook in sorted((HERE.parent / "notebooks").glob("*.ipynb")):
        shutil.copyfile(notebook, target / notebook.name)


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_*_request`` methods: its own docs cover them (and cite its glossary)."""
    return True if name.startswith("set_") and name.endswith("_request") else None


def setup(app) -> None:
    _copy_notebooks(app)
    app.connect("autodoc-skip-member", _skip_metadata_routing)
    method_figure(HERE / "_static" / "method.png")
