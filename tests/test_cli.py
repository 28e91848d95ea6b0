"""The ``zsclassify`` command, run end to end through its entry point."""

import os
import re
import shutil
import subprocess
import sys

import pytest

ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def run(*args):
    command = shutil.which("zsclassify")
    argv = [command, *args] if command else [sys.executable, "-m", "zsclassify", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=600)


def test_demo_prints_zero_shot_vs_refined_and_names_the_judge():
    result = run("--quiet", "demo", "--judge-budget", "10")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "judge: " in out and ("RecordedJudge" in out or "not an LLM" in out)
    zero_shot = float(re.search(r"zero-shot\s+([\d.]+)", out).group(1))
    refined = float(re.search(r"refined \(300 judged pairs\)\s+([\d.]+)", out).group(1))
    assert refined > zero_shot
    assert re.search(r"whole demo: [\d.]+ s", out)


@pytest.mark.parametrize(("args", "status"), [((), 2), (("frobnicate",), 2), (("demo", "--judge-budget", "x"), 2)])
def test_usage_errors_exit_2(args, status):
    assert run(*args).returncode == status


def test_failures_exit_1_with_one_clear_line():
    result = run("demo", "--judge-budget", "-3")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("zsclassify: error: judge_budget must be")
