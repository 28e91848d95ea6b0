"""Every code block of README.md runs as written: the Python blocks in order in one session, the shell blocks in bash.

The Python blocks run offline on the bundled demo data; the LLM-judge block reaches a fake OpenAI-compatible
server on 127.0.0.1 through ``ZSCLASSIFY_JUDGE_URL``, as the README says a real one would be found.
"""

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
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)
PYTHON = [code for language, code in BLOCKS if language == "python"]
SHELL = [code for language, code in BLOCKS if language == "bash" and "pip install" not in code]
INSTALL = [code for language, code in BLOCKS if language == "bash" and "pip install" in code]


def test_readme_has_the_blocks_this_file_runs():
    assert {language for language, _ in BLOCKS} == {"python", "bash"}, "a block in another language is not run"
    assert len(PYTHON) >= 5 and len(SHELL) >= 1 and len(INSTALL) == 1


def test_install_block_is_what_ci_runs():
    # installing is not repeated by the tests: CI runs exactly this line (.ci/run)
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci_command in INSTALL[0].splitlines()


@pytest.mark.slow
def test_python_blocks_run_in_order(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    demo = load_demo()
    gold = dict(zip(demo.pool_texts, demo.pool_labels))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZSCLASSIFY_CACHE_DIR", str(tmp_path / "cache"))  # not the user's judgment cache
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    namespace: dict = {"__name__": "__readme__"}
    with FakeOpenAI(lambda label, text: gold.get(text) == label) as server:
        monkeypatch.setenv("ZSCLASSIFY_JUDGE_URL", server.url + "/v1")
        for number, code in enumerate(PYTHON, start=1):
            exec(compile(code, f"README.md, python block {number}", "exec"), namespace)
    # the LLM block asked the server: the fit's requests, then one for the drafts of descriptions
    assert namespace["judge"].usage.requests == len(server.requests) == namespace["clf"].judge_usage_.requests + 1 > 1
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
