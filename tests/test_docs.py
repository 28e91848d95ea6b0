"""The README and the documentation site: every code block runs as written, and the site builds without a warning.

The README's Python blocks run in order in one session; the user guide's pages (``docs/*.md``) run in the order of
their table of contents, all in one more session, as a reader goes through them. They run offline on the bundled demo
data; the LLM-judge blocks reach a fake OpenAI-compatible server on 127.0.0.1 through ``ZSCLASSIFY_JUDGE_URL``, as
the pages say a real one would be found. Shell blocks run in bash.
"""

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fake_llm_servers import FakeOpenAI

from zsclassify.datasets import load_demo

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PUBLIC_MODULES = ["zsclassify", "zsclassify.judges", "zsclassify.embedding", "zsclassify.segmenting",
                  "zsclassify.reporting", "zsclassify.plotting", "zsclassify.batch_prediction",
                  "zsclassify.persistence", "zsclassify.serving", "zsclassify.datasets",
                  "zsclassify.metrics"]  # fmt: skip


def blocks(path: Path) -> list[tuple[str, str]]:
    return re.findall(r"^```(\w+)\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def guide_pages() -> list[Path]:
    """The user guide's pages in the order of the first table of contents of ``docs/index.md``."""
    toctree = re.search(r"```\{toctree\}\n(.*?)```", (DOCS / "index.md").read_text(), re.S).group(1)
    names = [line.strip() for line in toctree.splitlines() if line.strip() and not line.startswith(":")]
    return [DOCS / f"{name}.md" for name in names]


README = blocks(ROOT / "README.md")
GUIDE = [(page, language, code) for page in guide_pages() for language, code in blocks(page)]
SHELL = [code for language, code in README + [(lang, code) for _, lang, code in GUIDE]
         if language == "bash" and "pip install" not in code]  # fmt: skip
INSTALL = [code for language, code in README if language == "bash" and "pip install" in code]


def test_readme_and_guide_have_the_blocks_this_file_runs():
    languages = {language for language, _ in README} | {language for _, language, _ in GUIDE}
    assert languages == {"python", "bash"}, "a block in another language is not run"
    assert sum(language == "python" for language, _ in README) >= 2 and len(INSTALL) == 1
    assert sum(language == "python" for _, language, _ in GUIDE) >= 5 and len(SHELL) >= 1


def test_readme_is_short_and_says_what_how_well_and_how_first():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    first = "\n".join(lines[:40])
    assert "pip install" in first and "```python" in first and "| " in first  # the commands, an example, the table


def test_install_block_is_what_ci_runs():
    # installing is not repeated by the tests: CI runs exactly this line (.ci/run)
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci_command in INSTALL[0].splitlines()


def _run_python(sources: list[tuple[str, str]], tmp_path, monkeypatch) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    demo = load_demo()
    gold = dict(zip(demo.pool_texts, demo.pool_labels))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZSCLASSIFY_CACHE_DIR", str(tmp_path / "cache"))  # not the user's judgment cache
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    namespace: dict = {"__name__": "__docs__"}
    with FakeOpenAI(lambda label, text: gold.get(text) == label) as server:
        monkeypatch.setenv("ZSCLASSIFY_JUDGE_URL", server.url + "/v1")
        for where, code in sources:
            exec(compile(code, where, "exec"), namespace)
    namespace["__server_requests__"] = len(server.requests)
    return namespace


@pytest.mark.slow
def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch):
    python = [code for language, code in README if language == "python"]
    namespace = _run_python([(f"README.md, python block {n}", code) for n, code in enumerate(python, 1)], tmp_path,
                            monkeypatch)  # fmt: skip
    assert namespace["clf"].score(namespace["data"].test_texts, namespace["data"].test_labels) > 0.8


@pytest.mark.slow
def test_guide_python_blocks_run_in_order(tmp_path, monkeypatch):
    sources = [(f"docs/{page.name}, python block {n}", code)
               for n, (page, language, code) in enumerate(GUIDE, 1) if language == "python"]  # fmt: skip
    namespace = _run_python(sources, tmp_path, monkeypatch)
    demo = load_demo()
    # the LLM page asked the server: the fit's requests, then one for the drafts of descriptions
    requests = namespace["__server_requests__"]
    assert namespace["judge"].usage.requests == requests == namespace["clf"].judge_usage_.requests + 1 > 1
    assert len(namespace["out"]) == 100 and set(namespace["out"]["label"]) <= set(demo.labels)


@pytest.mark.slow
def test_shell_blocks_run(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # python, zsclassify
    env.pop("ANTHROPIC_API_KEY", None)
    for code in SHELL:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, result.stderr[-2000:]
    predictions = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == len(load_demo().oos_texts)
    assert float(re.search(r"^accuracy\s+([\d.]+)", result.stdout, re.M).group(1)) > 0.8
    assert re.search(r"^zsclassify \d+\.\d+", result.stdout, re.M)


@pytest.mark.slow
def test_site_builds_without_a_warning_and_documents_every_public_name(tmp_path):
    pytest.importorskip("sphinx")
    build = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(build)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    anchors = set(re.findall(r'id="([^"]+)"', (build / "api.html").read_text(encoding="utf-8")))
    public = [f"{module}.{name}" for module in PUBLIC_MODULES for name in importlib.import_module(module).__all__]
    undocumented = [name for name in public if name not in anchors]
    assert not undocumented, f"public names without a reference entry: {undocumented}"
    pages = {path.stem for path in (build / "notebooks").glob("*.html")}
    assert pages == {path.stem for path in (ROOT / "notebooks").glob("*.ipynb")}  # every notebook is a page
