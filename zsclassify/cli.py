"""The ``zsclassify`` command: fit, predict, evaluate and demo from the shell.

Exit status: 0 ok, 1 failure (one ``zsclassify: error: ...`` line on stderr; a failed fit saves
nothing), 2 usage, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from .exceptions import ZSClassifyError

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
JUDGES = ("none", "anthropic", "openai", "gold")


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


# ------------------------------------------------------------------ reading files
def _require(path: Path) -> Path:
    if not path.is_file():
        raise UserError(f"file not found: {path}")
    return path


def read_labels(path: Path) -> dict[str, str | None]:
    """Labels from JSON / YAML (a name -> description mapping, a list of names, or
    ``{"labels": [{"name", "description"}]}``) or CSV (columns ``name`` [, ``description``])."""
    suffix = _require(path).suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "name" not in rows[0]:
            raise UserError(f"{path}: a labels CSV needs a 'name' column (and optionally 'description')")
        return {row["name"]: row.get("description") or None for row in rows}
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise UserError("reading YAML needs PyYAML: pip install pyyaml (or use JSON / CSV)") from None
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    elif suffix == ".json":
        content = json.loads(path.read_text(encoding="utf-8"))
    else:
        raise UserError(f"{path}: labels must be .json, .yaml, .yml or .csv")
    if isinstance(content, dict) and isinstance(content.get("labels"), list):
        content = {item["name"]: item.get("description") for item in content["labels"]}
    if isinstance(content, list):
        return {str(name): None for name in content}
    if isinstance(content, dict):
        return {str(name): description for name, description in content.items()}
    raise UserError(f"{path}: expected a mapping of label -> description or a list of label names")


def iter_rows(path: Path | None, text_column: str, label_column: str | None = None) -> Iterator[dict]:
    """Rows with ``text`` (and ``label``) from CSV, JSONL or TXT (one text per line), read lazily.

    ``None`` reads stdin. Blank TXT lines are skipped.
    """
    if path is None:
        yield from ({"text": line.rstrip("\n")} for line in sys.stdin if line.strip())
        return
    suffix = _require(path).suffix.lower()
    if suffix not in (".txt", ".csv", ".jsonl"):
        raise UserError(f"{path}: data must be .csv, .jsonl or .txt")
    with path.open(newline="" if suffix == ".csv" else None, encoding="utf-8") as handle:
        if suffix == ".txt":
            yield from ({"text": line.rstrip("\n")} for line in handle if line.strip())
            return
        records = csv.DictReader(handle) if suffix == ".csv" else (json.loads(line) for line in handle if line.strip())
        wanted = [text_column] + ([label_column] if label_column else [])
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                raise UserError(f"{path}: record {number} is not an object with named columns")
            missing = [column for column in wanted if column not in record]
            if missing:
                raise UserError(f"{path}: no column {missing[0]!r} in record {number}; it has {sorted(record)}")
            yield {"text": record[text_column], **({"label": record[label_column]} if label_column else {})}


def read_rows(path: Path | None, text_column: str, label_column: str | None = None) -> list[dict]:
    """All rows of :func:`iter_rows` as a list."""
    return list(iter_rows(path, text_column, label_column))


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
        if not args.base_url:
            raise UserError("--judge openai needs --base-url, e.g. http://127.0.0.1:8000/v1")
        return OpenAICompatibleJudge(args.judge_model or "default", base_url=args.base_url)
    if not args.gold_column:
        raise UserError("--judge gold needs --gold-column naming the column with known labels")
    return GoldJudge([r["text"] for r in rows], [r["label"] for r in rows])


def _fit(args: argparse.Namespace) -> int:
    from ._estimator import ZeroShotClassifier
    from .persistence import save_model

    labels = read_labels(args.labels)
    rows = read_rows(args.data, args.text_column, args.gold_column if args.judge == "gold" else None)
    judge = _make_judge(args, rows)
    clf = ZeroShotClassifier(
        labels,
        embedder=args.embedder,
        judge=judge,
        judging=args.judging,
        n_candidates=args.n_candidates,
        judge_budget=args.judge_budget,
        oos_label=args.oos_label,
        random_state=args.seed,
        show_progress=False if args.quiet else None,
    )
    clf.fit([r["text"] for r in rows])  # a judge that fails raises here: nothing is saved
    save_model(clf, args.output)
    logging.getLogger("zsclassify").info(
        "fitted %d labels on %d utterances, %d judged (%s); saved to %s",
        len(clf.classes_), len(rows), clf.n_judged_pairs_, clf.judging_, args.output,
    )  # fmt: skip
    return EXIT_OK


def _load_model(path: Path):
    from .persistence import load_model

    return load_model(_require(path))


def _predict(args: argparse.Namespace) -> int:
    from .batch_prediction import predict_in_chunks

    clf = _load_model(args.model_file)
    texts = (row["text"] for row in iter_rows(args.input, args.text_column))
    writer = csv.writer(sys.stdout)
    if args.format == "csv":
        writer.writerow(["text", "label", "confidence"])
    for chunk in predict_in_chunks(clf, texts, chunk_size=args.chunk_size):
        if args.format == "jsonl":
            for text, label, score in zip(*chunk):
                record = {"text": text, "label": label, "confidence": round(float(score), 4)}
                sys.stdout.write(json.dumps(record) + "\n")
        else:
            writer.writerows([text, label, f"{score:.4f}"] for text, label, score in zip(*chunk))
        sys.stdout.flush()
    return EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    clf = _load_model(args.model_file)
    rows = read_rows(args.data, args.text_column, args.label_column)
    truth = [str(r["label"]) for r in rows]
    predicted = [str(p) for p in clf.predict([r["text"] for r in rows])]
    print(f"accuracy  {accuracy_score(truth, predicted):.4f}")
    print(f"macro-F1  {f1_score(truth, predicted, average='macro', zero_division=0):.4f}")
    print(classification_report(truth, predicted, zero_division=0))
    confusions = Counter((t, p) for t, p in zip(truth, predicted) if t != p).most_common(args.top_confusions)
    print("most confused (true -> predicted: count)")
    for (true_label, predicted_label), count in confusions:
        print(f"  {true_label} -> {predicted_label}: {count}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    result = run_demo(judge_budget=args.judge_budget, random_state=args.seed)
    print(
        f"zsclassify demo: {result.n_labels} CLINC150 banking/credit-card intents, "
        f"pool of {result.n_pool} unlabeled utterances, {result.n_test} test utterances"
    )
    print(f"judge: {result.judge}")
    print(f"{'model':<26}{'test accuracy':>14}")
    print(f"{'zero-shot':<26}{result.zero_shot_accuracy:>14.3f}")
    print(f"{'refined (' + str(result.judged_pairs) + ' judged pairs)':<26}{result.refined_accuracy:>14.3f}")
    print(f"fit with judging: {result.fit_seconds:.1f} s; whole demo: {result.total_seconds:.1f} s")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zsclassify`` command."""
    parser = argparse.ArgumentParser(prog="zsclassify", description="Zero-shot text classification.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only results: no progress bars or log lines")
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser("fit", help="fit a classifier on unlabeled utterances and save it")
    fit.add_argument("--labels", type=Path, required=True, help="labels .json/.yaml/.csv")
    fit.add_argument("--data", type=Path, required=True, help="utterances .csv/.jsonl/.txt")
    fit.add_argument("--text-column", default="text", help="text column of CSV/JSONL data (default: text)")
    fit.add_argument("--judge", choices=JUDGES, default="none", help="who scores the sample (default: none)")
    fit.add_argument("--judge-model", help="judge model name (default: the judge's own)")
    fit.add_argument("--base-url", help="OpenAI-compatible server URL, for --judge openai")
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
        "when the judge can answer it)",
    )
    fit.add_argument("--n-candidates", type=int, default=8, help="labels shown per choice question (default: 8)")
    fit.add_argument("--oos-label", help="label returned for out-of-scope input (default: none)")
    fit.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    fit.add_argument(
        "-o", "--output", type=Path, required=True, help="where to save the model (.skops: loads without running code)"
    )
    fit.set_defaults(handler=_fit)

    predict = commands.add_parser("predict", help="label, confidence per line of a file or stdin")
    predict.add_argument("-m", "--model-file", type=Path, required=True, help="a model saved by fit (.skops, .joblib)")
    predict.add_argument("input", type=Path, nargs="?", help="texts .txt/.csv/.jsonl (default: stdin, one per line)")
    predict.add_argument("--text-column", default="text")
    predict.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="output format (default: csv)")
    predict.add_argument(
        "--chunk-size", type=int, default=4096, help="texts read, embedded and written at a time (default: 4096)"
    )
    predict.set_defaults(handler=_predict)

    evaluate = commands.add_parser("evaluate", help="accuracy, macro-F1, per-label report, confusions")
    evaluate.add_argument("-m", "--model-file", type=Path, required=True, help="a model saved by fit (.skops, .joblib)")
    evaluate.add_argument("--data", type=Path, required=True, help="labeled .csv/.jsonl")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--label-column", default="label")
    evaluate.add_argument("--top-confusions", type=int, default=10)
    evaluate.set_defaults(handler=_evaluate)

    demo = commands.add_parser("demo", help="zero-shot vs refined accuracy on a bundled intent set")
    demo.add_argument("--judge-budget", type=int, default=20, help="judged pairs per label (default: 20)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    if args.quiet:
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"zsclassify: error: {error}", file=sys.stderr)
    except (ZSClassifyError, OSError, ValueError, TypeError, KeyError, json.JSONDecodeError) as error:
        print(f"zsclassify: error: {type(error).__name__}: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("zsclassify: interrupted; nothing was saved (judge answers received are cached)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
