"""The ``zsclassify`` command: through its entry point where a new process matters, otherwise in this process.

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

import joblib
import pytest

import zsclassify
from zsclassify import ZeroShotClassifier
from zsclassify.cli import main
from zsclassify.datasets import load_demo

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
    demo = load_demo()
    rows = list(zip(demo.pool_texts, demo.pool_labels))[::4]  # every 4th: all 30 intents, 450 utterances
    with (root / "pool.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["utterance", "intent"])
        writer.writerows(rows)
    with (root / "test.jsonl").open("w") as handle:
        for text, label in list(zip(demo.test_texts, demo.test_labels))[::5]:
            handle.write(json.dumps({"text": text, "label": label}) + "\n")
    (root / "labels.json").write_text(json.dumps(list(demo.labels)))  # names only: their words describe them
    (root / "labels.yaml").write_text("".join(f"{name}: {text}\n" for name, text in demo.labels.items()))
    model = root / "model.joblib"
    fitted = run_here("--quiet", "fit", "--labels", str(root / "labels.json"), "--data", str(root / "pool.csv"),
                 "--text-column", "utterance", "--judge", "gold", "--gold-column", "intent", "--judge-budget", "10",
                 "--oos-label", "other", "-o", str(model))  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    return root, model


@pytest.mark.slow
def test_fit_predict_evaluate(files):
    root, model = files
    assert model.stat().st_size < 500_000
    out = run("--quiet", "predict", "-m", str(model), stdin="what is the balance of my checking account\nhi\n")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # --quiet before the command: no log lines, no model-loading bar
    lines = list(csv.reader(out.stdout.splitlines()))
    assert lines[0] == ["text", "label", "confidence"] and len(lines) == 3
    assert lines[1][1] == "balance" and 0.0 <= float(lines[1][2]) <= 1.0
    jsonl = run("predict", "-m", str(model), str(root / "test.jsonl"), "--format", "jsonl", "--quiet")
    assert jsonl.stderr == ""  # --quiet after the command works the same
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(records) == 180 and {"text", "label", "confidence"} <= set(records[0])
    report = run_here("--quiet", "evaluate", "-m", str(model), "--data", str(root / "test.jsonl"))
    assert report.returncode == 0, report.stderr
    assert float(re.search(r"accuracy\s+([\d.]+)", report.stdout).group(1)) > 0.7
    assert "macro-F1" in report.stdout and "most confused" in report.stdout and "balance" in report.stdout


def test_fit_warm_start_judges_only_the_added_intent(files, tmp_path):
    root, model = files
    earlier = joblib.load(model)
    labels = [*earlier.classes_, "lost_luggage"]
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    refit = tmp_path / "refit.joblib"
    result = run_here("--quiet", "fit", "--labels", str(tmp_path / "labels.json"), "--data", str(root / "pool.csv"),
                      "--text-column", "utterance", "--judge", "gold", "--gold-column", "intent", "--judge-budget",
                      "10", "--oos-label", "other", "--warm-start", str(model), "-o", str(refit))  # fmt: skip
    assert result.returncode == 0, result.stderr
    refitted = joblib.load(refit)
    assert list(refitted.classes_) == labels and refitted.warm_start is True
    # every earlier choice is kept; the judge is measured again from the earlier fit's check, not asked anew
    assert refitted.n_reused_judgments_ == len(earlier.choices_) and 0 < refitted.n_judged_pairs_ <= 10
    assert refitted.judge_quality_.check_reused and refitted.judge_quality_.decision == "refined"
    assert refitted.judge_quality_.checks == earlier.judge_quality_.checks
    missing = run_here("--quiet", "fit", "--labels", str(tmp_path / "labels.json"), "--data", str(root / "pool.csv"),
                       "--text-column", "utterance", "--warm-start", str(tmp_path / "none.joblib"),
                       "-o", str(refit))  # fmt: skip
    assert missing.returncode != 0 and "none.joblib" in missing.stderr.strip().splitlines()[-1]


def test_fit_asks_multiple_choice_by_default_and_yes_no_on_request(files, tmp_path):
    root, model = files
    fitted = joblib.load(model)
    assert fitted.judging_ == "choice" and len(fitted.choices_) > 0
    assert fitted.n_judged_pairs_ == len(fitted.choices_) + fitted.judge_quality_.n_check_pairs  # and the check's pairs
    assert max(len(c.options) for c in fitted.choices_) == 8  # --n-candidates' default, of the 30 intents
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
    assert [r[0] for r in rows] == texts  # 180 texts over 12 chunks, in order
    assert [r[1] for r in rows] == list(joblib.load(model).predict(texts))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "play jazz"}) + "\n" + json.dumps({"utterance": "hi"}) + "\n")
    result = run_here("--quiet", "predict", "-m", str(model), str(bad))
    assert result.returncode == 1 and f"{bad}, line 2: no column 'text'" in result.stderr
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


@pytest.mark.slow
def test_demo_prints_zero_shot_vs_refined_and_names_the_judge():
    result = run_here("--quiet", "demo")  # the default budget replays the shipped recording
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "judge: " in out and ("RecordedJudge" in out or "not an LLM" in out)
    if "RecordedJudge" in out:  # the shipped recording holds the order probe the default fit asks first
        assert re.search(r"order probe: the same answer with the options reversed for \d+% of \d+ questions", out)
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
    texts = "what is the balance of my checking account\nmy card got declined\n"
    result = run_here("--quiet", "predict", "-m", str(safe), stdin=texts)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(result.stdout.splitlines()))[1:]
    assert [r[1] for r in rows] == list(load_model(model).predict(texts.split("\n")[:2]))
    crafted = tmp_path / "crafted.skops"
    skops.io.dump({"run": os.system, "command": f"touch {tmp_path / 'pwned'}"}, crafted)
    refused = run_here("--quiet", "predict", "-m", str(crafted), stdin=texts)
    assert refused.returncode == 1 and not (tmp_path / "pwned").exists()
    assert refused.stderr.strip().splitlines()[-1].startswith("zsclassify: error: UnsafeModelFileError:")


# ------------------------------------------------------------------ one clear line, in-process
def fails(capsys, *argv):
    """Run the command in-process; it must exit 1 with one ``zsclassify: error:`` line; return that line."""
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("zsclassify: error: "), err
    return err[0]


@pytest.fixture
def no_fit(monkeypatch):
    """Any fit is a test failure: the error must come before the work."""

    def refuse(*args, **kwargs):
        raise AssertionError("fit ran before the error")

    monkeypatch.setattr(ZeroShotClassifier, "fit", refuse)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("labels.json", '["balance", "apr", "balance"]', "label 'balance' is given twice (entries 1 and 3)"),
        (
            "labels.json",
            '{"balance": "a", "apr": "b", "balance": "c"}',
            "label 'balance' is given twice (keys 1 and 3)",
        ),
        (
            "labels.csv",
            "name,description\nbalance,a\napr,b\nbalance,c\n",
            "label 'balance' is given twice (lines 2 and 4)",
        ),
        ("labels.yaml", "- balance\n- balance\n", "label 'balance' is given twice (entries 1 and 2)"),
        ("labels.json", '{"labels": [{"name": "a"}, {"description": "b"}]}', "entry 2 of 'labels' has no 'name'"),
        ("labels.json", '[\n"balance",\n"apr" "x"]', "labels.json, line 3, column 7: not valid JSON"),
        ("labels.yaml", "balance: a\n  apr: : b\n", "labels.yaml, line 2: not valid YAML"),
        ("labels.json", b'["balance", "\xe9pargne"]', "labels.json, line 1: not valid UTF-8 (byte 0xe9 at column 14)"),
    ],
    ids=["json-list", "json-mapping", "csv", "yaml-list", "no-name", "json-syntax", "yaml-syntax", "latin-1"],
)
def test_bad_label_files_name_the_problem(tmp_path, capsys, no_fit, name, content, message):
    labels = tmp_path / name
    labels.write_bytes(content if isinstance(content, bytes) else content.encode())
    (tmp_path / "pool.txt").write_text("hi\n")
    line = fails(capsys, "fit", "--labels", labels, "--data", tmp_path / "pool.txt", "-o", tmp_path / "m.joblib")
    assert message in line


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pool.csv", b"text\nhello\ncaf\xe9\n", "pool.csv, line 3: not valid UTF-8"),
        ("pool.jsonl", b'{"text": "a"}\n{"text": "b"\n', "pool.jsonl, line 2: not valid JSON"),
        ("pool.jsonl", b'{"text": "a"}\n["b"]\n', "pool.jsonl, line 2: not an object with named columns"),
        ("pool.csv", b'text,n\n"a\nb",1\nc,2\n', "pool.csv, line 4: "),  # a quoted field spans lines 2-3
        ("pool.csv", b"\xef\xbb\xbfutterance\nhello\n", "pool.csv, line 2: no column 'text'; it has ['utterance']"),
        ("pool.jsonl", b'{"text": "a"}\n{"text": "b \\ud800"}\n', "pool.jsonl, line 2: the text holds an invalid"),
        ("pool.jsonl", b'{"text": "a"}\n\n{"text": "  "}\n', "pool.jsonl, line 3: the text is empty"),
        ("pool.jsonl", b'{"text": "a"}\n{"text": 7}\n', "pool.jsonl, line 2: the text is a int (7), not a string"),
        ("pool.csv", b"text\n", "pool.csv: no rows with a text"),
        ("pool.csv", b"text\nhello\nhi,there\n", "pool.csv, line 3: more fields than the header names (1)"),
    ],
    ids=[
        "utf8",
        "json",
        "not-object",
        "csv-line-numbers",
        "bom-header",
        "surrogate",
        "blank",
        "number",
        "empty",
        "extra-field",
    ],
)
def test_bad_data_files_name_file_and_line(tmp_path, capsys, no_fit, name, content, message):
    (tmp_path / "labels.json").write_text('["balance", "apr"]')
    data = tmp_path / name
    data.write_bytes(content)
    if message.endswith(": "):  # the CSV parses: the fit would run; check the numbering through iter_rows
        from zsclassify.cli import iter_rows

        assert [row["text"] for row in iter_rows(data, "text")] == ["a\nb", "c"]
        data.write_bytes(content.replace(b"c,2\n", b'"c"x,2\n'))  # a stray quote on line 4
        message += "not valid CSV"
    line = fails(capsys, "fit", "--labels", tmp_path / "labels.json", "--data", data, "-o", tmp_path / "m.joblib")
    assert message in line


def test_predict_checks_its_input_before_the_model_and_writes_nothing_when_it_fails(files, tmp_path, capsys):
    _, model = files
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "my card got declined"}\n' * 5 + '{"text": ""}\n')
    # the bad row is found before the model loads: a missing model is not even looked at
    line = fails(capsys, "predict", "-m", tmp_path / "no-model.joblib", data)
    assert "in.jsonl, line 6: the text is empty" in line
    assert main(["predict", "-m", str(model), str(data)]) == 1
    assert capsys.readouterr().out == ""  # no CSV header before a failure
    assert "file not found" in fails(capsys, "predict", "-m", model, tmp_path / "missing.jsonl")


def test_predict_into_a_closed_pipe_exits_quietly(files, tmp_path):
    _, model = files
    data = tmp_path / "many.txt"
    data.write_text("what is the balance of my checking account\n" * 20_000)
    command = shutil.which("zsclassify") or f"{sys.executable} -m zsclassify"
    predict = f"{command} -q predict -m {model} {data} --format jsonl --chunk-size 64"
    shell = f"{predict} | head -3; echo status=${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=ENV, timeout=600)
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(json.loads(line)["label"] for line in lines[:3])
    assert lines[-1] in ("status=0", "status=141") and result.stderr == "", result.stderr


def test_output_into_a_missing_directory_fails_before_the_fit(files, tmp_path, capsys, no_fit):
    root, _ = files
    args = ["fit", "--labels", root / "labels.json", "--data", root / "pool.csv", "--text-column", "utterance"]
    line = fails(capsys, *args, "-o", tmp_path / "missing" / "model.joblib")
    assert f"directory {tmp_path / 'missing'} does not exist" in line
    assert "is a directory" in fails(capsys, *args, "-o", tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"not a model", b"\x80\x04\x95", None, "a-dict"],
    ids=["text", "truncated-header", "truncated-model", "not-a-classifier"],
)
def test_corrupted_or_foreign_model_files_are_one_line(files, tmp_path, capsys, content):
    _, model = files
    path = tmp_path / "model.joblib"
    if content is None:
        path.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    elif content == "a-dict":
        joblib.dump({"coef_": 1}, path)
    else:
        path.write_bytes(content)
    (tmp_path / "in.txt").write_text("my card got declined\n")
    line = fails(capsys, "predict", "-m", path, tmp_path / "in.txt")
    expected = "holds a dict" if content == "a-dict" else "ModelFileError: " + str(path) + " is not a readable joblib"
    assert str(path) in line and expected in line


def test_evaluate_says_when_labels_are_unknown_or_missing(files, tmp_path, capsys):
    root, model = files
    other = tmp_path / "other.jsonl"
    other.write_text(
        "".join(json.dumps({"text": t, "label": t.split()[0]}) + "\n" for t in ["play jazz", "rain today"])
    )
    line = fails(capsys, "evaluate", "-m", model, "--data", other)
    assert "none of its labels (play, rain) is a label of the model" in line
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text((root / "test.jsonl").read_text() + json.dumps({"text": "play jazz", "label": "PlayMusic"}) + "\n")
    assert main(["--quiet", "evaluate", "-m", str(model), "--data", str(mixed)]) == 0
    assert "1 of 181 rows have labels the model does not know (PlayMusic)" in capsys.readouterr().err
    (tmp_path / "texts.txt").write_text("what is my balance\n")
    line = fails(capsys, "evaluate", "-m", model, "--data", tmp_path / "texts.txt")
    assert "a .txt file holds texts only" in line and "'label' column" in line


def test_oos_threshold_option(files, tmp_path, capsys):
    root, model = files
    base = ["fit", "--labels", root / "labels.json", "--data", root / "pool.csv", "--text-column", "utterance"]
    assert "needs --oos-threshold" in fails(capsys, *base, "--oos-label", "other", "-o", tmp_path / "m.joblib")
    assert "needs --oos-label" in fails(capsys, *base, "--oos-threshold", "0.5", "-o", tmp_path / "m.joblib")
    assert (
        main([str(a) for a in [*base, "--oos-label", "other", "--oos-threshold", "0.05", "-o", tmp_path / "m.joblib"]])
        == 0
    )
    assert joblib.load(tmp_path / "m.joblib").oos_threshold_ == 0.05
    capsys.readouterr()
    (tmp_path / "in.txt").write_text("what is my balance\nhi there\n")
    assert main(["predict", "-m", str(model), str(tmp_path / "in.txt"), "--oos-threshold", "1", "-q"]) == 0
    assert [row[1] for row in csv.reader(capsys.readouterr().out.splitlines()[1:])] == ["other", "other"]
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "-m", str(model), "--oos-threshold", "1.5"])
    assert exit_.value.code == 2 and "a probability in [0, 1]" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"zsclassify {zsclassify.__version__}"


def test_openai_judge_without_the_extra_says_how_to_install_it(files, tmp_path, capsys, monkeypatch, no_fit):
    root, _ = files
    monkeypatch.setitem(sys.modules, "openai", None)  # as if not installed
    data = ["--labels", root / "labels.json", "--data", root / "pool.csv", "--text-column", "utterance"]
    line = fails(capsys, "fit", *data, "--judge", "openai", "--base-url", "http://127.0.0.1:9/v1", "-o", tmp_path / "m")
    assert 'pip install "zsclassify[openai]"' in line


def test_describe_labels_drafts_the_labels_without_a_description(tmp_path, capsys):
    from fake_llm_servers import FakeOpenAI

    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"GetWeather": None, "PlayMusic": "Requests to play songs.", "RateBook": None}))
    with FakeOpenAI(lambda label, text: False) as server:
        url = server.url + "/v1"
        assert main(["-q", "describe-labels", "--labels", str(labels), "--judge", "openai", "--base-url", url]) == 0
        drafted = json.loads(capsys.readouterr().out)
        assert drafted == {
            "GetWeather": "Requests about getweather.",
            "PlayMusic": "Requests to play songs.",  # a given description is kept
            "RateBook": "Requests about ratebook.",
        }
        out = tmp_path / "described.json"
        argv = ["describe-labels", "--labels", labels, "--judge", "openai", "--base-url", url, "-o", out]
        assert main([str(a) for a in argv]) == 0 and json.loads(out.read_text()) == drafted

        labels.write_text(json.dumps(drafted))
        line = fails(capsys, "describe-labels", "--labels", labels, "--judge", "openai", "--base-url", url)
        assert "every label has a description already" in line
    names = tmp_path / "names.json"
    names.write_text(json.dumps(["GetWeather", "PlayMusic"]))
    assert "needs --base-url" in fails(capsys, "describe-labels", "--labels", names, "--judge", "openai")


def test_a_fit_whose_judge_is_too_weak_exits_1_unless_allowed(files, tmp_path, capsys):
    from fake_llm_servers import FakeOpenAI

    root, _ = files
    model = tmp_path / "weak.skops"
    argv = ["-q", "fit", "--labels", root / "labels.json", "--data", root / "pool.csv", "--text-column", "utterance",
            "--judge", "openai", "--base-url", None, "--judge-budget", "10", "-o", model]  # fmt: skip
    with FakeOpenAI(lambda label, text: True) as server:  # says yes to every label
        argv[argv.index(None)] = server.url + "/v1"
        line = fails(capsys, *argv)
        assert "WeakJudgeError" in line and "judge weight 0" in line and not model.exists()
        assert main([str(a) for a in [*argv, "--allow-weak-judge"]]) == 0  # the same answers, from the server again
    saved = zsclassify.load_model(model)
    assert type(saved) is ZeroShotClassifier and saved.refined_weight_ == 0 and saved.judge_quality_.judge_weight == 0


def test_multi_label_fit_predict_evaluate(tmp_path):
    """--multi-label: labels joined in the gold cells and in the output, F1 and exact match in evaluate."""
    demo = load_demo()
    by_label: dict[str, list[str]] = {}
    for text, label in zip(demo.pool_texts, demo.pool_labels):
        by_label.setdefault(label, []).append(text)
    names = sorted(by_label)[:6]
    rows = [(text, label) for label in names for text in by_label[label][:8]]
    rows += [(f"{a} and {b}", f"{la}|{lb}") for (a, la), (b, lb) in zip(rows[::2], rows[13::2]) if la != lb]
    with (tmp_path / "pool.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("text", "intents"), *rows])
    with (tmp_path / "test.jsonl").open("w") as handle:
        for text, labels in rows[::3]:
            handle.write(json.dumps({"text": text, "label": labels.split("|")}) + "\n")
    (tmp_path / "labels.json").write_text(json.dumps(names))
    model = tmp_path / "model.skops"
    common = ["--labels", str(tmp_path / "labels.json"), "--data", str(tmp_path / "pool.csv"), "--judge", "gold",
              "--gold-column", "intents", "--judge-budget", "6", "--multi-label", "-o", str(model)]  # fmt: skip
    refused = run_here("--quiet", "fit", *common, "--oos-label", "other")
    assert refused.returncode == 1 and "need no out-of-scope label" in refused.stderr
    fitted = run_here("--quiet", "fit", *common)
    assert fitted.returncode == 0, fitted.stderr
    assert zsclassify.load_model(model).segmenter == "clauses"  # each request scored where it is said

    two_intents = rows[-1][0]
    out = run_here("--quiet", "predict", "-m", str(model), stdin=f"{two_intents}\n")
    assert out.returncode == 0, out.stderr
    header, line = list(csv.reader(out.stdout.splitlines()))
    assert header == ["text", "labels", "confidence"]
    labels, confidence = line[1].split("|"), line[2].split("|")
    assert set(labels) <= set(names) and len(labels) == len(confidence)
    jsonl = run_here("--quiet", "predict", "-m", str(model), "--format", "jsonl", stdin=f"{two_intents}\n")
    record = json.loads(jsonl.stdout)
    assert record["labels"] == labels and len(record["confidence"]) == len(labels)

    report = run_here("--quiet", "evaluate", "-m", str(model), "--data", str(tmp_path / "test.jsonl"))
    assert report.returncode == 0, report.stderr
    for metric in ("micro-F1", "macro-F1", "samples-F1", "exact match"):
        assert 0.0 <= float(re.search(rf"{metric}\s+([\d.]+)", report.stdout).group(1)) <= 1.0
    assert float(re.search(r"micro-F1\s+([\d.]+)", report.stdout).group(1)) > 0.5


def test_whole_texts_is_for_multi_label_fits(files, tmp_path, capsys):
    root, _ = files
    model = tmp_path / "whole.skops"
    argv = ["-q", "fit", "--labels", root / "labels.json", "--data", root / "pool.csv", "--text-column", "utterance",
            "--judge", "none", "-o", model]  # fmt: skip
    assert "--whole-texts is for --multi-label fits" in fails(capsys, *argv, "--whole-texts")
    assert main([str(a) for a in [*argv, "--multi-label", "--whole-texts"]]) == 0
    assert zsclassify.load_model(model).segmenter is None
