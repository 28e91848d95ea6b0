"""A real local LLM answering multi-label questions: a JSON boolean per lettered candidate, scored by log-probabilities.

Starts llama.cpp's server on 127.0.0.1 (as ``llm_judge.py`` does) and asks
``OpenAICompatibleJudge`` about MixSNIPS test messages with one, two and three intents
(``--per-size`` of each), in two question forms side by side: ``boolean``, "which of these
apply", all 7 intents as candidates in a shuffled order, a JSON boolean each (the multi-label
``judging="choice"``); ``yes_no``, one yes/no question per (intent, message) pair (the
multi-label ``judging="yes_no"``). Reports per form, against the gold intents: pair accuracy,
the yes rates on right and wrong candidates, exact match, the AUC of the log-probability
scores (do they rank better than the hard answers?) and how many scores are graded rather
than 0/1.

Needs ``pip install llama-cpp-python[server]==0.3.36 openai`` and the GGUF file (benchmarks/HISTORY.md, section 3).
Usage: python benchmarks/llm_multilabel.py --gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf [--per-size 10]
       [--forms boolean yes_no]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from _common import DATA_DIR, table, write_results
from llm_judge import MODEL_NAME, sha256, start_server
from sklearn.metrics import roc_auc_score

from zsclassify._validation import words_of_label_name
from zsclassify.judges import ChoiceRequest, JudgeRequest, LabelOption, OpenAICompatibleJudge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", type=Path, required=True)
    parser.add_argument("--per-size", type=int, default=10, help="messages with 1, 2 and 3 intents each")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--forms", nargs="+", default=list(FORMS), choices=FORMS)
    args = parser.parse_args()
    rows = [json.loads(line) for line in (DATA_DIR / "mixsnips" / "test.jsonl").open()]
    names = sorted({label for row in rows for label in row["labels"]})
    rng = random.Random(0)
    sample = [
        row for size in (1, 2, 3) for row in rng.sample([r for r in rows if len(r["labels"]) == size], args.per_size)
    ]
    requests = []
    for row in sample:
        order = rng.sample(names, len(names))
        options = tuple(LabelOption(name, words_of_label_name(name)) for name in order)
        requests.append(ChoiceRequest(row["text"], options, multiple=True))
    server = start_server(args.gguf, args.port)
    results = []
    try:
        url = f"http://127.0.0.1:{args.port}/v1"  # llama.cpp takes a schema in json_object mode only
        judge = OpenAICompatibleJudge(  # no cache: every answer asked now, so the timings are of this run
            MODEL_NAME, base_url=url, json_mode="json_object", max_concurrency=1, cache=None
        )
        for form in args.forms:
            start = time.perf_counter()
            scores = ask_boolean(judge, requests) if form == "boolean" else ask_yes_no(judge, requests, sample)
            seconds = time.perf_counter() - start
            results.append(summarise(form, sample, requests, scores, seconds))
    finally:
        server.kill()
    print(table(results))
    path = write_results("llm_multilabel", {"model": MODEL_NAME, "gguf_sha256": sha256(args.gguf), "rows": results})
    print(f"wrote {path}")


FORMS = ("boolean", "yes_no")


def ask_boolean(judge: OpenAICompatibleJudge, requests: list[ChoiceRequest]) -> np.ndarray:
    """One "which apply" question per message: each candidate's probability, in the order shown."""
    return np.concatenate([np.asarray(answer[:-1], dtype=float) for answer in judge.choose(requests)])


def ask_yes_no(judge: OpenAICompatibleJudge, requests: list[ChoiceRequest], sample: list[dict]) -> np.ndarray:
    """One yes/no question per (intent, message) pair, grouped by intent; scores in the boolean form's order."""
    names = sorted({option.name for request in requests for option in request.options})
    texts = tuple(row["text"] for row in sample)
    by_label = judge.judge([JudgeRequest(name, words_of_label_name(name), texts) for name in names])
    score = {name: np.asarray(answer, dtype=float) for name, answer in zip(names, by_label)}
    return np.array([score[option.name][index] for index, request in enumerate(requests) for option in request.options])


def summarise(form: str, sample: list[dict], requests: list[ChoiceRequest], scores: np.ndarray, seconds: float) -> dict:
    """The form's answers against the gold intents (``scores`` flat, message by message, in the order shown)."""
    truth = np.array([o.name in row["labels"] for row, q in zip(sample, requests) for o in q.options])
    said_yes = scores >= 0.5
    width = len(requests[0].options)
    chosen = [
        {o.name for o, yes in zip(q.options, said_yes[i * width : (i + 1) * width]) if yes}
        for i, q in enumerate(requests)
    ]
    return {
        "question form": form,
        "messages": len(sample),
        "candidates each": width,
        "pair accuracy": float((said_yes == truth).mean()),
        "yes on right": float(said_yes[truth].mean()),
        "yes on wrong": float(said_yes[~truth].mean()),
        "exact match": float(np.mean([c == set(row["labels"]) for c, row in zip(chosen, sample)])),
        "AUC, log-probability scores": float(roc_auc_score(truth, np.nan_to_num(scores, nan=0.5))),
        "AUC, hard answers": float(roc_auc_score(truth, said_yes)),
        "graded scores (0.02-0.98)": float(((scores > 0.02) & (scores < 0.98)).mean()),
        "unanswered": int(np.isnan(scores).sum()),
        "s per message": seconds / len(sample),
    }


if __name__ == "__main__":
    main()
