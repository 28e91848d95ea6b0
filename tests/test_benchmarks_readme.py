"""``benchmarks/README.md`` is what the results files say: rendered from them, and short enough to read."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("render_readme", ROOT / "benchmarks" / "render_readme.py")
render_readme = importlib.util.module_from_spec(_spec)
sys.modules["render_readme"] = render_readme  # its dataclasses look their module up while it loads
_spec.loader.exec_module(render_readme)


def test_every_table_is_rendered_from_its_results_file():
    written = (ROOT / "benchmarks" / "README.md").read_text()
    assert written == render_readme.render(), "run python benchmarks/render_readme.py after a benchmark"


def test_the_page_is_short_and_every_section_names_a_file_and_a_command():
    assert len((ROOT / "benchmarks" / "README.md").read_text().splitlines()) <= 300
    for section in render_readme.SECTIONS:
        assert (ROOT / "benchmarks" / "results" / section.file).is_file()
        script = section.command.split()[1]
        assert (ROOT / script).is_file(), f"{section.title}: no script {script}"
