"""The code passes ruff (the project's linter and formatter) and mypy (its type checker)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed with the test extra")
@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    command = ["ruff", *command, "zsclassify", "tests", "benchmarks", "notebooks", "docs"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_is_clean():
    pytest.importorskip("mypy", reason="mypy is installed with the test extra")
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


def test_tests_need_no_benchmark_data():
    # a fresh clone has no ../shared/data: tests use zsclassify.datasets.load_demo (benchmarks/ use the rest)
    readers = [
        path.name
        for path in (ROOT / "tests").glob("*.py")
        if path.name != Path(__file__).name
        and any(word in path.read_text() for word in ("ZSCLASSIFY_DATA", "shared/data", '"shared"', "load_split("))
    ]
    assert readers == [], f"these tests read benchmark data; use the bundled demo set: {readers}"
