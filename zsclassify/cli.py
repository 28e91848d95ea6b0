"""The ``zsclassify`` command: fit, predict, evaluate, serve, describe-labels and demo from the shell.

Exit status: 0 ok, 1 failure (one ``zsclassify: error: ...`` line on stderr; a failed fit saves
nothing), 2 usage, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from ._validation import check_texts
from .exceptions import ZSClassifyError

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, the status a shell reports for a tool its reader left
JUDGES = ("none", "anthropic", "openai", "gold")
MULTI_LABEL_SEPARATOR = "|"
"""Joins a multi-label model's labels (and their confidences) in a CSV cell, and splits a labelled cell."""


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


# ------------------------------------------------------------------ reading files
def _require(path: Path) -> Path:
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    return path


def _decoded_lines(source: Iterable[bytes | str], name: object) -> Iterator[str]:
    """Lines of ``source`` as text (a UTF-8 byte-order mark dropped); bad UTF-8 names the line."""
    for number, line in enumerate(source, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise UserError(
                    f"{name}, line {number}: not valid UTF-8 (byte {line[error.start]:#04x} at column "
                    f"{error.start + 1}); save the file as UTF-8"
                ) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _read_text(path: Path) -> str:
    with _require(path).open("rb") as handle:
        return "".join(_decoded_lines(handle, path))


def _parse_json(text: str, name: object, number: int | None = None, **options):
    try:
        return json.loads(text, **options)
    except json.JSONDecodeError as error:
        where = f"line {number}" if number is not None else f"line {error.lineno}, column {error.colno}"
        raise UserError(f"{name}, {where}: not valid JSON ({error.msg})") from None


def _unique(pairs: Iterable[tuple[object, Any]], path: Path, what: str, start: int = 1) -> dict[str, str | None]:
    """Label name -> description; a name given twice is an error (it would silently merge two labels)."""
    labels: dict[str, str | None] = {}
    where: dict[str, int] = {}
    for number, (name, description) in enumerate(pairs, start=start):
        key = str(name)
        if key in labels:
            raise UserError(
                f"{path}: label {key!r} is given twice ({what} {where[key]} and {number}); names must be unique"
            )
        labels[key], where[key] = description, number
    return labels


def read_labels(path: Path) -> dict[str, str | None]:
    """Labels from JSON / YAML (a name -> description mapping, a list of names, or
    ``{"labels": [{"name", "description"}]}``) or CSV (columns ``name`` [, ``description``]).

    A label named twice, and text that is not UTF-8, JSON or YAML, raise a :class:`UserError`
    naming the file (and the line where the parser knows it).
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".yaml", ".yml"):
        raise UserError(f"{path}: labels must be .json, .yaml, .yml or .csv")
    text = _read_text(path)
    if suffix == ".csv":
        rows = csv.DictReader(text.splitlines())
        if not rows.fieldnames or "name" not in rows.fieldnames:
            raise UserError(f"{path}: a labels CSV needs a 'name' column (and optionally 'description')")
        pairs = [(row["name"], row.get("description") or None) for row in rows]
        return _unique(pairs, path, "lines", start=2)  # line 1 is the header
    if suffix == ".json":
        content = _parse_json(text, path, object_pairs_hook=lambda pairs: _JSONObject(pairs))
    else:
        content = _parse_yaml(text, path)
    if isinstance(content, dict) and isinstance(content.get("labels"), list):
        items = content["labels"]
        if not all(isinstance(item, dict) and "name" in item for item in items):
            number = next(n for n, item in enumerate(items, 1) if not (isinstance(item, dict) and "name" in item))
            raise UserError(f"{path}: entry {number} of 'labels' has no 'name'")
        return _unique(((item["name"], item.get("description")) for item in items), path, "entries")
    if isinstance(content, list):
        return _unique(((name, None) for name in content), path, "entries")
    if isinstance(content, dict):
        return _unique(content.pairs if isinstance(content, _JSONObject) else content.items(), path, "keys")
    raise UserError(f"{path}: expected a mapping of label -> description or a list of label names")


class _JSONObject(dict):
    """A JSON object that remembers its key-value pairs in order, repeated keys included."""

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def _parse_yaml(text: str, path: Path):
    try:
        import yaml
    except ImportError:
        raise UserError("reading YAML needs PyYAML: pip install pyyaml (or use JSON / CSV)") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None


def iter_rows(path: Path | None, text_column: str, label_column: str | None = None) -> Iterator[dict]:
    """Rows with ``text`` (and ``label``) from CSV, JSONL or TXT (one text per line), read lazily.

    ``None`` reads stdin. Blank TXT lines are skipped. The file and its type are checked
    at once; bad UTF-8, bad JSON, missing columns and texts a model cannot read (not a
    string, blank, a lone surrogate) raise a :class:`UserError` naming the file and line
    as the rows are read.
    """
    if path is not None:
        suffix = _require(path).suffix.lower()
        if suffix not in (".txt", ".csv", ".jsonl"):
            raise UserError(f"{path}: data must be .csv, .jsonl or .txt")
        if suffix == ".txt" and label_column:
            raise UserError(
                f"{path}: a .txt file holds texts only, one per line; labeled data must be .csv or .jsonl "
                f"with a {label_column!r} column"
            )
    return _checked_rows(_numbered_rows(path, text_column, label_column), "<stdin>" if path is None else path)


def _numbered_rows(path: Path | None, text_column: str, label_column: str | None) -> Iterator[tuple[int, dict]]:
    """(line number, row) of the data, unchecked."""
    if path is None:
        yield from _text_lines(_decoded_lines(getattr(sys.stdin, "buffer", sys.stdin), "<stdin>"))
        return
    suffix = path.suffix.lower()
    with path.open("rb") as handle:
        lines = _decoded_lines(handle, path)
        if suffix == ".txt":
            yield from _text_lines(lines)
            return
        wanted = [text_column] + ([label_column] if label_column else [])
        for number, record in _records(lines, path, suffix):
            if not isinstance(record, dict):
                raise UserError(f"{path}, line {number}: not an object with named columns")
            if None in record:  # csv.DictReader's key for the fields past the header's
                raise UserError(f"{path}, line {number}: more fields than the header names ({len(record) - 1})")
            missing = [column for column in wanted if column not in record]
            if missing:
                raise UserError(f"{path}, line {number}: no column {missing[0]!r}; it has {sorted(record)}")
            yield number, {"text": record[text_column], **({"label": record[label_column]} if label_column else {})}


def _text_lines(lines: Iterator[str]) -> Iterator[tuple[int, dict]]:
    """(line number, row) of one text per line; blank lines skipped."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, {"text": line.rstrip("\r\n")}


def _checked_rows(rows: Iterator[tuple[int, dict]], name: object) -> Iterator[dict]:
    """The rows, each text checked as the estimator would check it, but with the file and line in the error."""
    for number, row in rows:
        try:
            check_texts([row["text"]], "the text")
        except (TypeError, ValueError) as error:
            message = str(error).replace("the text[0]", "the text")
            raise UserError(f"{name}, line {number}: {message}") from None
        yield row


def _records(lines: Iterator[str], path: Path, suffix: str) -> Iterator[tuple[int, object]]:
    """(line number, record) of CSV or JSONL lines."""
    if suffix == ".jsonl":
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield number, _parse_json(line, path, number)
        return
    reader = csv.DictReader(lines, strict=True)  # a stray quote is an error, not a silently merged row
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as error:
        raise UserError(f"{path}, line {reader.reader.line_num}: not valid CSV ({error})") from None


def read_rows(path: Path | None, text_column: str, label_column: str | None = None) -> list[dict]:
    """All rows of :func:`iter_rows` as a list; none is an error naming the file."""
    rows = list(iter_rows(path, text_column, label_column))
    _check_some(len(rows), path)
    return rows


def _read_through(path: Path, text_column: str) -> None:
    """Read the file through as :func:`iter_rows` would, keeping nothing: every bad row fails here."""
    _check_some(sum(1 for _ in iter_rows(path, text_column)), path)


def _check_some(n_rows: int, path: Path | None) -> None:
    if n_rows == 0:
        raise UserError(f"{'<stdin>' if path is None else path}: no rows with a text")


# ------------------------------------------------------------------ commands
def _make_judge(args: argparse.Namespace, rows: list[dict]):
    from .judges import AnthropicJudge, GoldJudge, OpenAICompatibleJudge

    if args.judge == "none":
        return None
    if args.judge == "anthropic":
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise UserError("--judge anthropic needs ANTHROPIC_API_KEY in the environment (export it, then re-run)")
        return AnthropicJudge(**({"model": args.judge_model} if args.judge_model else {}))
    if args.judge == "openai":
        if importlib.util.find_spec("openai") is None:
            raise UserError('--judge openai needs the openai package: pip install "zsclassify[openai]"')
        if not args.base_url:
            raise UserError("--judge openai needs --base-url, e.g. http://127.0.0.1:8000/v1")
        return OpenAICompatibleJudge(args.judge_model or "default", base_url=args.base_url)
    if getattr(args, "multi_label", False):
        pairs = [(r["text"], label) for r in rows for label in _label_list(r["label"], args.label_separator)]
        return GoldJudge([text for text, _ in pairs], [label for _, label in pairs])
    return GoldJudge([r["text"] for r in rows], [r["label"] for r in rows])


def _label_list(value: object, separator: str) -> list[str]:
    """A multi-label cell as a list of names: a JSON list as it is, a string split on ``separator`` (blank: none)."""
    if isinstance(value, list):
        return [str(name) for name in value]
    return [name.strip() for name in str(value).split(separator) if name.strip()]


def _describe_labels(args: argparse.Namespace) -> int:
    """Draft descriptions of the labels that have none with an LLM; the labels as JSON, for review."""
    labels = read_labels(args.labels)
    if all(labels.values()):
        raise UserError(f"{args.labels}: every label has a description already; there is nothing to draft")
    drafts = _make_judge(args, []).describe_labels(list(labels))
    text = json.dumps({name: given or drafts[name] for name, given in labels.items()}, indent=2, ensure_ascii=False)
    if args.output is None:
        print(text)
    else:
        args.output.write_text(text + "\n", encoding="utf-8")
    return EXIT_OK


def _check_fit_args(args: argparse.Namespace) -> None:
    """What can be checked before reading data or loading a model, so no fit is wasted."""
    output = args.output
    if output.is_dir():
        raise UserError(f"-o {output} is a directory; give a file name, e.g. {output / 'model.joblib'}")
    if not output.parent.is_dir():
        raise UserError(f"-o {output}: directory {output.parent} does not exist; create it first")
    if not os.access(output.parent, os.W_OK):
        raise UserError(f"-o {output}: directory {output.parent} is not writable")
    if args.judge == "gold" and not args.gold_column:
        raise UserError("--judge gold needs --gold-column naming the column with known labels")
    if args.multi_label and (args.oos_label is not None or args.oos_threshold is not None):
        raise UserError(
            "--multi-label models need no out-of-scope label: a text with no label over its threshold gets none; "
            "drop --oos-label / --oos-threshold"
        )
    if args.whole_texts and not args.multi_label:
        raise UserError("--whole-texts is for --multi-label fits (a single-label model scores texts whole)")
    if args.oos_threshold is not None and args.oos_label is None:
        raise UserError("--oos-threshold needs --oos-label (the label returned for out-of-scope input)")
    if args.oos_label is not None and args.judge == "none" and args.oos_threshold in (None, "auto"):
        raise UserError(
            "--oos-label without a judge needs --oos-threshold (a probability, e.g. 0.5): "
            "the automatic threshold is learned from judge answers"
        )


def _fit(args: argparse.Namespace) -> int:
    from ._estimator import ZeroShotClassifier
    from ._multilabel import MultiLabelZeroShotClassifier
    from .persistence import save_model

    _check_fit_args(args)
    labels = read_labels(args.labels)
    rows = read_rows(args.data, args.text_column, args.gold_column if args.judge == "gold" else None)
    shared = {  # the parameters both estimators take
        "embedder": args.embedder,
        "judge": _make_judge(args, rows),
        "judging": args.judging,
        "n_candidates": args.n_candidates,
        "judge_budget": args.judge_budget,
        "random_state": args.seed,
        "show_progress": False if args.quiet else None,
        "on_weak_judge": "warn" if args.allow_weak_judge else "raise",
    }
    if args.multi_label:
        if args.warm_start is not None:
            raise UserError("--warm-start keeps the answers of single-label fits; a --multi-label fit judges anew")
        segmenter = None if args.whole_texts else "clauses"
        clf = MultiLabelZeroShotClassifier(labels, segmenter=segmenter, **shared).fit([r["text"] for r in rows])
        save_model(clf, args.output)
        logging.getLogger("zsclassify").info(
            "fitted %d labels (multi-label) on %d utterances, %d judged (%s); saved to %s",
            len(clf.classes_), len(rows), clf.n_judged_pairs_, clf.judging_, args.output,
        )  # fmt: skip
    else:
        clf = ZeroShotClassifier(
            labels,
            **shared,
            oos_label=args.oos_label,
            oos_threshold="auto" if args.oos_threshold is None else args.oos_threshold,
        )
        if args.warm_start is not None:  # the earlier model's answers, with this command's parameters
            clf = _load_model(args.warm_start).set_params(**{**clf.get_params(), "warm_start": True})
        clf.fit([r["text"] for r in rows])  # a judge that fails raises here: nothing is saved
        save_model(clf, args.output)
        logging.getLogger("zsclassify").info(
            "fitted %d labels on %d utterances, %d judged, %d earlier answers kept (%s); saved to %s",
            len(clf.classes_), len(rows), clf.n_judged_pairs_, clf.n_reused_judgments_, clf.judging_, args.output,
        )  # fmt: skip
    quality = clf.judge_quality_
    if quality is not None:
        logging.getLogger("zsclassify").info("judge quality: %s", quality.describe())
    return EXIT_OK


def _load_model(path: Path):
    """The classifier saved at ``path``; any failure to load it becomes one :class:`UserError` line."""
    from ._estimator import ZeroShotClassifier
    from ._multilabel import MultiLabelZeroShotClassifier
    from .persistence import load_model

    model = load_model(_require(path))  # a corrupt file: ModelFileError; an untrusted type: UnsafeModelFileError
    if not isinstance(model, (ZeroShotClassifier, MultiLabelZeroShotClassifier)) or not hasattr(model, "coef_"):
        raise UserError(f"{path}: holds a {type(model).__name__}, not a classifier saved by `zsclassify fit`")
    return model


def _load_model_with_threshold(args: argparse.Namespace):
    """The model of ``-m``, with ``--oos-threshold`` applied when given (read at predict time: no refit)."""
    model = _load_model(args.model_file)
    if args.oos_threshold is not None:
        if getattr(model, "oos_label", None) is None:
            raise UserError(
                f"--oos-threshold: the model in {args.model_file} has no out-of-scope label (fit with --oos-label)"
            )
        model.set_params(oos_threshold=args.oos_threshold)
    return model


def _predict(args: argparse.Namespace) -> int:
    from .batch_prediction import predict_in_chunks

    if args.input is not None:  # a file is read through before the model loads: a bad row fails with nothing written
        _read_through(args.input, args.text_column)  # and memory stays flat: nothing is kept
    texts = (row["text"] for row in iter_rows(args.input, args.text_column))
    clf = _load_model_with_threshold(args)
    writer = csv.writer(sys.stdout)
    multi_label = _is_multi_label(clf)
    for number, chunk in enumerate(predict_in_chunks(clf, texts, chunk_size=args.chunk_size)):
        if number == 0 and args.format == "csv":  # with the first predictions: a failure before writes nothing
            writer.writerow(["text", "labels" if multi_label else "label", "confidence"])
        for text, label, score in zip(*chunk):
            if args.format == "jsonl":
                record = {"text": text, **_prediction_fields(label, score, multi_label)}
                sys.stdout.write(json.dumps(record) + "\n")
            elif multi_label:  # the labels that apply and their probabilities, each joined in the same order
                writer.writerow([text, MULTI_LABEL_SEPARATOR.join(label),
                                 MULTI_LABEL_SEPARATOR.join(f"{p:.4f}" for p in score)])  # fmt: skip
            else:
                writer.writerow([text, label, f"{score:.4f}"])
        sys.stdout.flush()
    return EXIT_OK


def _is_multi_label(clf) -> bool:
    from ._multilabel import MultiLabelZeroShotClassifier

    return isinstance(clf, MultiLabelZeroShotClassifier)


def _prediction_fields(label, score, multi_label: bool) -> dict:
    """A JSONL prediction: ``label`` and ``confidence``, or for a multi-label model ``labels`` and their list."""
    if multi_label:
        return {"labels": list(label), "confidence": [round(float(p), 4) for p in score]}
    return {"label": label, "confidence": round(float(score), 4)}


def _check_known_labels(truth: list[str], clf, path: Path) -> None:
    """Labels of the data the model cannot predict: an error when none is known, else a warning."""
    known = {str(label) for label in clf.classes_} | ({str(clf.oos_label)} if clf.oos_label is not None else set())
    unknown = sorted(set(truth) - known)
    if not unknown:
        return
    if len(unknown) == len(set(truth)):
        raise UserError(
            f"{path}: none of its labels ({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}) is a label "
            f"of the model ({', '.join(sorted(known)[:5])}, ...); wrong --label-column, data or model?"
        )
    n_rows = sum(label in unknown for label in truth)
    print(
        f"zsclassify: warning: {n_rows} of {len(truth)} rows have labels the model does not know "
        f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}); they count as errors",
        file=sys.stderr,
    )


def _evaluate_multi_label(clf, rows: list[dict], args: argparse.Namespace) -> int:
    """Micro-, macro- and samples-F1, exact match and a per-label report of a multi-label model."""
    from sklearn.metrics import classification_report, f1_score

    from ._multilabel import binarize_labels

    names = [str(name) for name in clf.classes_]
    truth_lists = [_label_list(r["label"], args.label_separator) for r in rows]
    unknown = sorted({name for labels in truth_lists for name in labels} - set(names))
    if unknown:
        raise UserError(
            f"{args.data}: labels the model does not know: {', '.join(unknown[:5])}"
            f"{', ...' if len(unknown) > 5 else ''} (wrong --label-column, --label-separator, data or model?)"
        )
    truth = binarize_labels(truth_lists, names)
    predicted = clf.predict([r["text"] for r in rows])
    for average in ("micro", "macro", "samples"):
        print(
            f"{average}-F1{' ' * (8 - len(average))}{f1_score(truth, predicted, average=average, zero_division=0):.4f}"
        )
    print(f"exact match  {float((truth == predicted).all(axis=1).mean()):.4f}")
    print(classification_report(truth, predicted, target_names=names, zero_division=0))
    return EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    rows = read_rows(args.data, args.text_column, args.label_column)
    clf = _load_model_with_threshold(args)
    if _is_multi_label(clf):
        return _evaluate_multi_label(clf, rows, args)
    truth = [str(r["label"]) for r in rows]
    _check_known_labels(truth, clf, args.data)
    predicted = [str(p) for p in clf.predict([r["text"] for r in rows])]
    print(f"accuracy  {accuracy_score(truth, predicted):.4f}")
    print(f"macro-F1  {f1_score(truth, predicted, average='macro', zero_division=0):.4f}")
    print(classification_report(truth, predicted, zero_division=0))
    confusions = Counter((t, p) for t, p in zip(truth, predicted) if t != p).most_common(args.top_confusions)
    print("most confused (true -> predicted: count)" if confusions else "most confused: none (no errors)")
    for (true_label, predicted_label), count in confusions:
        print(f"  {true_label} -> {predicted_label}: {count}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    result = run_demo(
        judge_budget=args.judge_budget, random_state=args.seed, show_progress=False if args.quiet else None
    )
    print(
        f"zsclassify demo: {result.n_labels} CLINC150 banking/credit-card intents, "
        f"pool of {result.n_pool} unlabeled utterances, {result.n_test} test utterances"
    )
    print(f"judge: {result.judge}")
    if result.order_probe is not None:
        print(f"order probe: {result.order_probe}")
    if result.judge_quality is not None:
        print(f"judge quality: {result.judge_quality}")
    print(f"{'model':<26}{'test accuracy':>14}")
    print(f"{'zero-shot':<26}{result.zero_shot_accuracy:>14.3f}")
    unit = "questions" if result.judging == "choice" else "pairs"
    print(f"{f'refined ({result.judged_pairs} judged {unit})':<26}{result.refined_accuracy:>14.3f}")
    print(f"fit with judging: {result.fit_seconds:.1f} s; whole demo: {result.total_seconds:.1f} s")
    return EXIT_OK


def _threshold(value: str) -> float | str:
    """``--oos-threshold``: ``auto`` or a probability in [0, 1]."""
    if value == "auto":
        return value
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a probability in [0, 1], got {value!r}")
    return number


def _serve(args: argparse.Namespace) -> int:
    from .serving import ServerSettings, serve

    options = ("max_texts", "max_text_chars", "max_body_bytes", "max_wait_ms", "token_env", "backend")
    settings = ServerSettings(**{name: getattr(args, name) for name in options if getattr(args, name) is not None})
    if not args.model_file.is_file():
        raise UserError(f"file not found: {args.model_file}")
    serve(
        args.model_file,
        host=args.host,
        port=args.port,
        settings=settings,
        threads=args.threads,
        access_log=args.access_log,
        log_level="warning" if args.quiet else "info",
    )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zsclassify`` command."""
    quiet_help = "only results: no progress bars or log lines (before or after the command)"
    parser = argparse.ArgumentParser(prog="zsclassify", description="Zero-shot text classification.")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)
    parser.add_argument("--version", action="version", version=f"zsclassify {__version__}")
    # each command accepts --quiet too; SUPPRESS keeps `zsclassify -q fit` from being reset by fit's default
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=quiet_help)
    threshold_help = "out-of-scope probability threshold: 'auto' (learned at fit) or a number in [0, 1]"
    uses_model = argparse.ArgumentParser(add_help=False, parents=[common])
    uses_model.add_argument(
        "-m", "--model-file", type=Path, required=True, help="a model saved by fit (.skops, .joblib)"
    )
    uses_model.add_argument("--text-column", default="text", help="text column of CSV/JSONL data (default: text)")
    uses_model.add_argument("--oos-threshold", type=_threshold, help=f"{threshold_help}; default: the model's")
    llm_options = argparse.ArgumentParser(add_help=False)
    llm_options.add_argument("--judge-model", help="judge model name (default: the judge's own)")
    llm_options.add_argument("--base-url", help="OpenAI-compatible server URL, for --judge openai")
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser(
        "fit", parents=[common, llm_options], help="fit a classifier on unlabeled utterances and save it"
    )
    fit.add_argument("--labels", type=Path, required=True, help="labels .json/.yaml/.csv")
    fit.add_argument("--data", type=Path, required=True, help="utterances .csv/.jsonl/.txt")
    fit.add_argument("--text-column", default="text", help="text column of CSV/JSONL data (default: text)")
    fit.add_argument("--judge", choices=JUDGES, default="none", help="who scores the sample (default: none)")
    fit.add_argument("--gold-column", help="column of known labels, for --judge gold (experiments)")
    fit.add_argument("--embedder", help="sentence-transformers model name or path (default: bundled MiniLM)")
    fit.add_argument(
        "--judge-budget", type=int, default=20, help="judged questions (or yes/no pairs) per label (default: 20)"
    )
    fit.add_argument(
        "--judging",
        choices=("auto", "choice", "yes_no"),
        default="auto",
        help="multiple choice among each utterance's best labels, or yes/no per pair (default: auto = choice "
        "for a judge that gives the same answers with the options reversed, checked on a few questions, else yes/no)",
    )
    fit.add_argument("--n-candidates", type=int, default=8, help="labels shown per choice question (default: 8)")
    fit.add_argument(
        "--multi-label",
        action="store_true",
        help="any number of labels per text (multi-intent messages, tagging): each label gets its own threshold, "
        "a text may get none; choice questions ask which labels apply",
    )
    fit.add_argument(
        "--whole-texts",
        action="store_true",
        help="with --multi-label: score each text as one embedding (default: clause by clause, each label "
        "on its best clause, so each request of a multi-intent message is scored where it is said)",
    )
    fit.add_argument(
        "--label-separator",
        default=MULTI_LABEL_SEPARATOR,
        help=f"joins the labels of a --gold-column cell with --multi-label (default: {MULTI_LABEL_SEPARATOR}; "
        "a JSONL list needs none)",
    )
    fit.add_argument("--oos-label", help="label returned for out-of-scope input (default: none)")
    fit.add_argument("--oos-threshold", type=_threshold, help=f"{threshold_help} (default: auto)")
    fit.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    fit.add_argument(
        "--warm-start",
        type=Path,
        metavar="MODEL",
        help="a model saved by an earlier fit: keep its answers to unchanged questions and judge only new or "
        "re-described labels (after editing the labels file)",
    )
    fit.add_argument(
        "--allow-weak-judge",
        action="store_true",
        help="save the model even when the judge's own answers rate it too weak to trust (the model is then "
        "zero-shot; default: exit with an error and save nothing)",
    )
    fit.add_argument(
        "-o", "--output", type=Path, required=True, help="where to save the model (.skops: loads without running code)"
    )
    fit.set_defaults(handler=_fit)

    describe = commands.add_parser(
        "describe-labels",
        parents=[common, llm_options],
        help="draft a description of every label that has none with an LLM, for you to review",
    )
    describe.add_argument("--labels", type=Path, required=True, help="labels .json/.yaml/.csv")
    describe.add_argument("--judge", choices=("anthropic", "openai"), required=True, help="the LLM that drafts")
    describe.add_argument("-o", "--output", type=Path, help="write the labels as JSON here (default: stdout)")
    describe.set_defaults(handler=_describe_labels)

    predict = commands.add_parser("predict", parents=[uses_model], help="label, confidence per line of a file or stdin")
    predict.add_argument("input", type=Path, nargs="?", help="texts .txt/.csv/.jsonl (default: stdin, one per line)")
    predict.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format (default: csv)")
    predict.add_argument(
        "--chunk-size", type=int, default=4096, help="texts read, embedded and written at a time (default: 4096)"
    )
    predict.set_defaults(handler=_predict)

    evaluate = commands.add_parser(
        "evaluate", parents=[uses_model], help="accuracy, macro-F1, per-label report, confusions"
    )
    evaluate.add_argument("--data", type=Path, required=True, help="labeled .csv/.jsonl")
    evaluate.add_argument("--label-column", default="label")
    evaluate.add_argument(
        "--label-separator",
        default=MULTI_LABEL_SEPARATOR,
        help=f"joins the labels of a cell, for a multi-label model (default: {MULTI_LABEL_SEPARATOR}; a JSONL list "
        "needs none)",
    )
    evaluate.add_argument("--top-confusions", type=int, default=10)
    evaluate.set_defaults(handler=_evaluate)

    serve = commands.add_parser("serve", parents=[common], help="serve a model over HTTP (/predict, /model/parse)")
    serve.add_argument("-m", "--model-file", type=Path, required=True, help="a model saved by fit (.skops, .joblib)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"), help="encoder backend (default: as fitted)")
    serve.add_argument("--threads", type=int, help="encoder threads (default: the library's)")
    serve.add_argument("--max-texts", type=int, help="most texts per /predict request (default: 64)")
    serve.add_argument("--max-text-chars", type=int, help="longest text, in characters (default: 2000)")
    serve.add_argument("--max-body-bytes", type=int, help="largest request body (default: 1000000)")
    serve.add_argument("--max-wait-ms", type=float, help="batching wait when busy, in ms (default: 2)")
    serve.add_argument(
        "--token-env", help="variable holding the bearer token; unset: no auth (default: ZSCLASSIFY_API_TOKEN)"
    )
    serve.add_argument("--access-log", action="store_true", help="log one line per request")
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser("demo", parents=[common], help="zero-shot vs refined accuracy on a bundled intent set")
    demo.add_argument(
        "--judge-budget", type=int, help="judged questions per label (default: what the recording covers, or 20)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_demo)
    return parser


def _silence_libraries() -> None:
    """``--quiet``: no log lines from the libraries, and no model-loading bar from transformers."""
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # read by transformers when it is imported
    if "transformers" in sys.modules:  # already imported: switch its bars off directly
        sys.modules["transformers"].utils.logging.disable_progress_bar()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    if args.quiet:
        _silence_libraries()
    try:
        return args.handler(args)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error when Python flushes at exit
        return EXIT_BROKEN_PIPE
    except UserError as error:
        message = str(error)
    except (ZSClassifyError, ImportError, OSError, ValueError, TypeError, KeyError) as error:
        message = f"{type(error).__name__}: {error}"
    except KeyboardInterrupt:
        print("zsclassify: interrupted; nothing was saved (judge answers received are cached)", file=sys.stderr)
        return EXIT_INTERRUPTED
    print("zsclassify: error: " + " ".join(message.split()), file=sys.stderr)  # one line, whatever the message
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
