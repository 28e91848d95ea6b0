"""Yes/no prompt variants for a real local LLM, on the pairs it already answered.

Does the judge tell right labels from near misses better when the prompt names the labels
it could be confused with, or when a bare label name is replaced by a description the LLM
wrote itself? Each variant re-asks the same sample of recorded (label, utterance) pairs
(``results/llm_recordings/<name>_pairs.jsonl``, written by ``llm_judge.py``; ``--per-kind``
pairs whose label is right and as many whose label is wrong, the wrong ones near misses
because the fits chose them) and is compared with the recorded answers to the current
prompt (``pairwise_messages``, temperature 0):

* ``nearest labels listed``: after the label, its 3 nearest labels (description embeddings)
  are listed as different intents of the task;
* ``utterance's rival named``: the utterance's best other label under zero-shot cosine is
  named as a different label, and the question asks for the first label rather than it;
* ``LLM-written descriptions`` (datasets whose labels have no description): the LLM drafts a
  description of every label (``OpenAICompatibleJudge.describe_labels``, one request); the
  pairs are re-asked with them, and zero-shot accuracy on the test split is measured with them.

Reported per variant: ROC AUC of P(yes) against the gold labels, P(yes | right label) and
P(yes | wrong label) at the 0.5 cut, and prompt tokens per pair.

Usage: python benchmarks/prompt_variants.py --gguf qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
       [--datasets snips clinc150-20 demo30] [--per-kind 40] [--variants ...] [--name prompt_variants]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch
from _common import table, write_results
from llm_judge import DATASETS, MODEL_NAME, load_recording, sha256, start_server
from simulated_judge import similarity_for
from sklearn.metrics import roc_auc_score

from zsclassify import ZeroShotClassifier
from zsclassify._validation import check_labels
from zsclassify.judges import OpenAICompatibleJudge
from zsclassify.judges._openai import yes_probability
from zsclassify.judges._prompts import PROMPT_VERSION, _label_tag, pairwise_messages, quote_utterance

torch.set_num_threads(1)

VARIANTS = {
    "nearest": "nearest labels listed",
    "rival": "utterance's rival named",
    "descriptions": "LLM-written descriptions",
}


def contrast_messages(label: str, description: str, text: str, others: list[tuple[str, str]], rival: bool):
    """The current pairwise prompt with other labels named as different intents."""
    messages = pairwise_messages(label, description, text)
    tags = "\n".join(_label_tag(name, about) for name, about in others)
    if rival:
        extra = f"A different label of the task, not to be confused with it:\n{tags}\n"
        question = "Does the utterance express the first label rather than the different one? Answer yes or no."
    else:
        extra = (
            f"Other labels of the task, which are different intents:\n{tags}\n"
            "An utterance that expresses one of those other labels instead does not express this label.\n"
        )
        question = "Is the utterance relevant to the first label (does it express it)? Answer yes or no."
    user = messages[1]["content"]
    user = user.replace(quote_utterance(text), f"{extra}{quote_utterance(text)}", 1)
    messages[1]["content"] = user.rsplit("\n", 1)[0] + "\n" + question
    return messages


def ask_yes(client, messages) -> tuple[float, int]:
    """P(yes) from the first token's log-probabilities, and the prompt's tokens."""
    completion = client.chat.completions.create(
        model=MODEL_NAME, messages=messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=20
    )
    choice = completion.choices[0]
    top = choice.logprobs.content[0].top_logprobs if choice.logprobs and choice.logprobs.content else []
    return yes_probability(top, choice.message.content), completion.usage.prompt_tokens


def summary(name: str, variant: str, scores: np.ndarray, truth: np.ndarray, tokens: float | None) -> dict:
    return {
        "dataset": name,
        "variant": variant,
        "pairs": len(scores),
        "AUC": float(roc_auc_score(truth, scores)),
        "P(yes | right)": float((scores[truth] >= 0.5).mean()),
        "P(yes | wrong)": float((scores[~truth] >= 0.5).mean()),
        "prompt tokens per pair": "recorded" if tokens is None else round(tokens),
    }


def study(name: str, client, per_kind: int, chosen: list[str]) -> tuple[list[dict], dict]:
    """Rows of the table for one dataset, and what was asked (for the results file)."""
    labels, (texts, gold), test = DATASETS[name]()
    names, descriptions = check_labels(labels)
    about = dict(zip(names, descriptions))
    _, rows = load_recording(name, "pairs")
    gold_of = dict(zip(texts, gold))
    rng = random.Random(0)
    right = [row for row in rows if gold_of[row["text"]] == row["label"]]
    wrong = [row for row in rows if gold_of[row["text"]] != row["label"]]
    sample = rng.sample(right, per_kind) + rng.sample(wrong, per_kind)
    truth = np.array([gold_of[row["text"]] == row["label"] for row in sample])

    embeddings = ZeroShotClassifier(labels, show_progress=False).fit(texts[:1]).initial_label_embeddings_
    closeness = embeddings @ embeddings.T
    np.fill_diagonal(closeness, -np.inf)
    nearest = {label: [names[k] for k in np.argsort(-closeness[i])[:3]] for i, label in enumerate(names)}
    similarity = similarity_for(labels, [row["text"] for row in sample])

    def rival(row) -> str:
        return next(names[k] for k in np.argsort(-similarity[row["text"]]) if names[k] != row["label"])

    variants = {
        VARIANTS["nearest"]: lambda row: contrast_messages(
            row["label"], about[row["label"]], row["text"], [(o, about[o]) for o in nearest[row["label"]]], False
        ),
        VARIANTS["rival"]: lambda row: contrast_messages(
            row["label"], about[row["label"]], row["text"], [(rival(row), about[rival(row)])], True
        ),
    }
    variants = {key: ask for key, ask in variants.items() if key in [VARIANTS[c] for c in chosen]}
    asked = {"pairs": [{"text": row["text"], "label": row["label"]} for row in sample]}
    if "descriptions" in chosen and (isinstance(labels, list) or not all(labels.values())):
        written = OpenAICompatibleJudge(
            MODEL_NAME, base_url=str(client.base_url), cache=None, json_mode="json_object", timeout=600
        ).describe_labels(names)
        asked["written descriptions"] = written
        variants[VARIANTS["descriptions"]] = lambda row: pairwise_messages(
            row["label"], written[row["label"]], row["text"]
        )
        zero_shot = {
            "label names": ZeroShotClassifier(labels, show_progress=False).fit(test[0]).score(*test),
            "LLM-written descriptions": ZeroShotClassifier(written, show_progress=False).fit(test[0]).score(*test),
        }
        asked["zero-shot accuracy"] = zero_shot
        print(name, "zero-shot accuracy", zero_shot, flush=True)

    results = [summary(name, "current prompt (recorded)", np.array([row["score"] for row in sample]), truth, None)]
    for variant, messages in variants.items():
        start = time.perf_counter()
        answers = [ask_yes(client, messages(row)) for row in sample]
        scores = np.array([score for score, _ in answers])
        results.append(summary(name, variant, scores, truth, float(np.mean([tokens for _, tokens in answers]))))
        results[-1]["wall s"] = round(time.perf_counter() - start)
        asked[variant] = scores.tolist()
        print(results[-1], flush=True)
    return results, asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", type=Path, required=True)
    parser.add_argument("--datasets", nargs="+", default=["snips", "clinc150-20", "demo30"], choices=list(DATASETS))
    parser.add_argument("--per-kind", type=int, default=40, help="right pairs, and as many wrong pairs, per dataset")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--name", default="prompt_variants", help="results file: results/<name>.json")
    parser.add_argument("--port", type=int, default=8934)
    args = parser.parse_args()

    from openai import OpenAI

    server = start_server(args.gguf, args.port)
    client = OpenAI(base_url=f"http://127.0.0.1:{args.port}/v1", api_key="not-needed", timeout=600)
    rows, asked = [], {}
    try:
        for name in args.datasets:
            found, asked[name] = study(name, client, args.per_kind, args.variants)
            rows += found
    finally:
        server.kill()
    print(table(rows))
    payload = {"model": MODEL_NAME, "gguf_sha256": sha256(args.gguf), "prompt_version": PROMPT_VERSION}
    print(write_results(args.name, {**payload, "rows": rows, "asked": asked}))


if __name__ == "__main__":
    main()
