"""The ``zsclassify`` command: once end to end through its entry point, otherwise in this process.

In-process runs skip the interpreter start-up and the model load of a new process;
what they test (exit status, stdout, the one-line error on stderr) is the same.
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from conftest import load_split

from zsclassify.cli import main

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
ENV.pop("ANTHROPIC_API_KEY", None)


def run(*args, stdin=None):
    """The installed command in a new process."""
    command = shutil.which("zsclassify")
    argv = [command, *args] if command else [sys.executable, "-m", "zsclassify", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=600, input=stdin)


def run_here(*args, stdin=None):
    """``main(args)`` in this process, with the environment, stdin, stdout and stderr of :func:`run`."""
    out, err, saved_stdin = io.StringIO(), io.StringIO(), sys.stdin
    saved_key = os.environ.pop("ANTHROPIC_API_KEY", None)
    sys.stdin = io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code
    finally:
        sys.stdin = saved_stdin
        if saved_key is not None:
            os.environ["ANTHROPIC_API_KEY"] = saved_key
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    texts, labels = load_split("snips", "train")
    rows = list(zip(texts, labels))[::40]  # every 40th: all 7 intents, ~345 utterances
    with (root / "pool.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["utterance", "intent"])
        writer.writerows(rows)
    test_texts, test_labels = load_split("snips", "test")
    with (root / "test.jsonl").open("w") as handle:
        for text, label in list(zip(test_texts, test_labels))[::5]:
            handle.write(json.dumps({"text": text, "label": label}) + "\n")
    (root / "labels.json").write_text(json.dumps(sorted(set(labels))))
    (root / "labels.yaml").write_text("".join(f"{name}: {name.lower()}\n" for name in sorted(set(labels))))
    model = root / "model.joblib"
    fitted = run_here("--quiet", "fit", "--labels", str(root / "labels.json"), "--data", str(root / "pool.csv"),
                 "--text-column", "utterance", "--judge", "gold", "--gold-column", "intent", "--judge-budget", "10",
                 "--oos-label", "other", "-o", str(model))  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    return root, model


def test_fit_predict_evaluate(files):
    root, model = files
    assert model.stat().st_size < 200_000
    out = run("--quiet", "predict", "-m", str(model), stdin="add this song to my road trip playlist\nwill it snow\n")
    assert out.returncode == 0, out.stderr
    lines = list(csv.reader(out.stdout.splitlines()))
    assert lines[0] == ["text", "label", "confidence"] and len(lines) == 3
    assert lines[1][1] == "AddToPlaylist" and 0.0 <= float(lines[1][2]) <= 1.0
    jsonl = run_here("--quiet", "predict", "-m", str(model), str(root / "test.jsonl"), "--format", "jsonl")
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(records) == 140 and {"text", "label", "confidence"} <= set(records[0])
    report = run_here("--quiet", "evaluate", "-m", str(model), "--data", str(root / "test.jsonl"))
    assert report.returncode == 0, report.stderr
    assert float(re.search(r"accuracy\s+([\d.]+)", report.stdout).group(1)) > 0.7
    assert "macro-F1" in report.stdout and "most confused" in report.stdout and "GetWeather" in report.stdout


def test_fit_asks_multiple_choice_by_default_and_yes_no_on_request(files, tmp_path):
    import joblib

    root, model = files
    fitted = joblib.load(model)
    assert fitted.judging_ == "choice" and len(fitted.choices_) == fitted.n_judged_pairs_ > 0
    assert max(len(c.options) for c in fitted.choices_) == 7  # all 7 SNIPS intents: fewer than --n-candidates
    yes_no = tmp_path / "yes_no.joblib"
    result = run_here("--quiet", "fit", "--labels", str(root / "labels.json"), "--data", str(root / "pool.csv"),
                      "--text-column", "utterance", "--judge", "gold", "--gold-column", "intent", "--judge-budget",
                      "2", "--judging", "yes_no", "-o", str(yes_no))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert joblib.load(yes_no).judging_ == "yes_no" and not joblib.load(yes_no).choices_
    bad = run_here("fit", "--labels", "x.json", "--data", "y.csv", "--judging", "maybe", "-o", "m.joblib")
    assert bad.returncode == 2 and "invalid choice: 'maybe'" in bad.stderr


def test_predict_streams_in_chunks_in_input_order(files, tmp_path):
    import joblib

    root, model = files
    texts = [json.loads(line)["text"] for line in (root / "test.jsonl").open()]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n\n")  # a trailing blank line is skipped
    out = run_here("--quiet", "predict", "-m", str(model), str(tmp_path / "in.txt"), "--chunk-size", "16")
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(out.stdout.splitlines()))[1:]
    assert [r[0] for r in rows] == texts  # 140 texts over 9 chunks, in order
    assert [r[1] for r in rows] == list(joblib.load(model).predict(texts))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "play jazz"}) + "\n" + json.dumps({"utterance": "hi"}) + "\n")
    result = run_here("--quiet", "predict", "-m", str(model), str(bad))
    assert result.returncode == 1 and "no column 'text' in record 2" in result.stderr
    assert run_here("--quiet", "predict", "-m", str(model), str(bad), "--chunk-size", "0").returncode == 1


def test_yaml_labels_and_zero_shot(files, tmp_path):
    root, _ = files
    result = run_here("--quiet", "fit", "--labels", str(root / "labels.yaml"), "--data", str(root / "pool.csv"),
                 "--text-column", "utterance", "-o", str(tmp_path / "m.joblib"))  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("predict", "-m", "missing.joblib"), "file not found: missing.joblib"),
        (("fit", "--labels", "{root}/labels.json", "--data", "{root}/pool.csv", "-o", "x.joblib"), "no column 'text'"),
        (
            (
                "fit",
                "--labels",
                "{root}/labels.json",
                "--data",
                "{root}/pool.csv",
                "--text-column",
                "utterance",
                "--judge",
                "anthropic",
                "-o",
                "x.joblib",
            ),
            "needs ANTHROPIC_API_KEY",
        ),
        (("evaluate", "-m", "{root}/model.joblib", "--data", "{root}/test.jsonl", "--label-column", "y"), "no column"),
    ],
    ids=["missing-file", "bad-column", "no-api-key", "bad-label-column"],
)
def test_failures_exit_1_with_one_clear_line(files, args, message):
    root, _ = files
    result = run_here(*[a.format(root=root) for a in args])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("zsclassify: error: ") and message in lines[-1]


@pytest.mark.parametrize(
    "args",
    [(), ("frobnicate",), ("demo", "--judge-budget", "x"), ("fit", "--labels", "a.json", "--data", "b.csv",
                                                              "--judge", "psychic", "-o", "m")],
)  # fmt: skip
def test_usage_errors_exit_2(args):
    assert run_here(*args).returncode == 2


def test_demo_prints_zero_shot_vs_refined_and_names_the_judge():
    result = run_here("--quiet", "demo")  # the default budget replays the shipped recording
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "judge: " in out and ("RecordedJudge" in out or "not an LLM" in out)
    zero_shot = float(re.search(r"zero-shot\s+([\d.]+)", out).group(1))
    refined = float(re.search(r"refined \(\d+ judged pairs\)\s+([\d.]+)", out).group(1))
    assert refined > zero_shot
    assert re.search(r"whole demo: [\d.]+ s", out)


def test_demo_failure_is_one_line():
    result = run_here("demo", "--judge-budget", "-3")
    assert result.returncode == 1
    assert re.match(r"zsclassify: error: ValueError: judge_budget must be", result.stderr.strip().splitlines()[-1])


def test_skops_model_files_load_without_running_code(files, tmp_path):
    import skops.io

    from zsclassify import load_model, save_model

    _, model = files
    safe = save_model(load_model(model), tmp_path / "model.skops")
    texts = "add this song to my road trip playlist\nwill it snow\n"
    result = run("--quiet", "predict", "-m", str(safe), stdin=texts)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(result.stdout.splitlines()))[1:]
    assert [r[1] for r in rows] == list(load_model(model).predict(texts.split("\n")[:2]))
    crafted = tmp_path / "crafted.skops"
    skops.io.dump({"run": os.system, "command": f"touch {tmp_path / 'pwned'}"}, crafted)
    refused = run("--quiet", "predict", "-m", str(crafted), stdin=texts)
    assert refused.returncode == 1 and not (tmp_path / "pwned").exists()
    assert refused.stderr.strip().splitlines()[-1].startswith("zsclassify: error: UnsafeModelFileError:")
