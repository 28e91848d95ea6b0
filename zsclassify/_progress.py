"""Progress bars for the long steps of ``fit``: embedding, judging rounds, the final fit.

``tqdm.auto`` draws a text bar in a terminal and a widget in Jupyter (with ``ipywidgets``
installed: ``pip install "zsclassify[notebook]"``). ``show_progress=None`` shows bars when
stderr is a terminal or the code runs in a notebook, so scripts whose output goes to a
file or a pipe stay quiet.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

__all__ = ["in_notebook", "progress_bar", "progress_enabled", "stage"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where stderr is not a terminal but bars still show)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_enabled(show: bool | None) -> bool:
    """``show``, or for ``None``: whether stderr is a terminal or this is a notebook."""
    if show is None:
        return sys.stderr.isatty() or in_notebook()
    return bool(show)


def progress_bar(total: int, desc: str, show: bool | None, unit: str = "it") -> tqdm:
    """A tqdm bar (terminal or notebook), shown as :func:`progress_enabled` says.

    Every update is drawn (``mininterval=0``): callers update per chunk or per round, rarely.
    """
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress_enabled(show), leave=False, mininterval=0)


@contextmanager
def stage(desc: str, show: bool | None) -> Iterator[None]:
    """A one-step bar around a step with no inner count (e.g. a model fit): says what is running."""
    with progress_bar(1, desc, show) as bar:
        bar.refresh()
        yield
        bar.update(1)
