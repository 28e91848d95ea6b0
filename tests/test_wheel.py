"""The release as a user installs it: sdist and wheel built and checked, the wheel installed and run elsewhere.

The virtual environment sees this machine's installed dependencies (torch and the model
would be gigabytes to install again), but zsclassify itself comes only from the wheel, so a
file missing from the package data fails here. After the demo, the test checks that no
test-only or optional package was imported on its way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_FOR_THE_DEMO = (
    "pytest", "_pytest", "hypothesis", "xdist", "openai", "fastapi", "uvicorn", "dask", "distributed", "dask_ml",
    "pyspark", "matplotlib", "nbclient", "nbformat", "ipykernel", "ruff", "onnxruntime", "onnxscript", "build", "twine",
)  # fmt: skip
DEMO = f"""
import sys
from zsclassify.cli import main
code = main(["-q", "demo"])
imported = sorted(name for name in {NOT_FOR_THE_DEMO!r} if name in sys.modules)
assert not imported, f"the demo imported test-only or optional packages: {{imported}}"
sys.exit(code)
"""


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": ""}
    env.pop("ANTHROPIC_API_KEY", None)
    env.pop("ZSCLASSIFY_JUDGE_URL", None)
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
def test_the_wheel_installs_and_runs_the_demo_and_version(tmp_path):
    pytest.importorskip("build")
    pytest.importorskip("twine")
    dist = tmp_path / "dist"
    # --no-isolation: the build backend installed with the test extra, no download
    run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", dist, ROOT, cwd=tmp_path)
    (wheel,), (sdist,) = dist.glob("*.whl"), dist.glob("*.tar.gz")
    run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist, cwd=tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "zsclassify/py.typed" in names and any(name.endswith("licenses/LICENSE") for name in names)
    assert any(name.startswith("zsclassify/data/") and name.endswith(".jsonl") for name in names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=tmp_path)
    python, command = venv / "bin" / "python", venv / "bin" / "zsclassify"
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=tmp_path)
    where = run(python, "-c", "import zsclassify; print(zsclassify.__file__)", cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv), f"zsclassify imported from {where}, not from the wheel"
    assert run(command, "--version", cwd=tmp_path).stdout.strip() == f"zsclassify {version('zsclassify')}"
    demo = run(python, "-c", DEMO, cwd=tmp_path)
    assert "zero-shot" in demo.stdout and "refined" in demo.stdout
