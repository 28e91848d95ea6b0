"""A judge simulator whose mistakes look like a real small LLM's: near-miss labels get the false "yes".

Uniform flips (``GoldJudge(flip_rate=...)``) spread errors over all labels; a real judge
says yes to, or picks, the labels closest to the right one. :class:`NearMissJudge`
answers from gold labels and errs with rates estimated from recorded answers of a real
local LLM (Qwen2.5-Coder-1.5B-Instruct on llama.cpp):

* yes/no: P(yes | right label), and P(yes | wrong label) by the wrong label's rank among
  the utterance's wrong labels under zero-shot cosine (1 = the nearest), in bins
  1, 2, 3-5, 6+;
* choice: with probability ``echo_first`` it picks the first option shown (the classifier's
  best label: the recorded LLM picked "A" in 86% of its questions, and was right in only 21%
  of those whose answer was not "A"); otherwise P(right | right label among the candidates),
  P(none | right label absent), a wrong pick falling on a wrong candidate with odds given
  by the yes/no rank profile.

:class:`ScoreReplayJudge` goes further for yes/no questions: it answers with the LLM's own
recorded scores (``benchmarks/score_replay.py``).

``python benchmarks/simulated_judge.py`` estimates the rates from the recordings
(the demo's yes/no answers shipped in git history and the choice recordings in
``benchmarks/results/llm_recordings/``) and writes ``benchmarks/results/simulated_judge.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
from _common import RESULTS_DIR, load_split, write_results

from zsclassify.judges import ChoiceRequest, GoldJudge, Judge, JudgeRequest

RANK_BINS = (1, 2, 3, 6)  # bin b holds ranks RANK_BINS[b] .. RANK_BINS[b+1]-1
RATES_FILE = RESULTS_DIR / "simulated_judge.json"


def rank_bin(rank: int) -> int:
    """The bin of a wrong label's rank (1 = the nearest wrong label)."""
    return int(np.searchsorted(RANK_BINS, rank, side="right") - 1)


class NearMissJudge(GoldJudge):
    """Gold answers with near-miss mistakes (see the module docstring).

    Parameters
    ----------
    texts, labels : sequences of str
        Utterances and their true labels.
    similarity : mapping of str to ndarray
        Each utterance's zero-shot cosine to every label, in the order of ``label_names``.
    label_names : sequence of str
    rates : dict
        ``yes_right``, ``yes_wrong`` (one rate per rank bin), ``choice_right``, ``none_when_absent``,
        ``echo_first`` (0 when absent).
    random_state : int
        Seed; an answer is fixed by the seed and the question (as a cached LLM's would be).
    """

    def __init__(self, texts, labels, similarity: Mapping[str, np.ndarray], label_names: Sequence[str], rates: dict,
                 random_state: int = 0) -> None:  # fmt: skip
        super().__init__(texts, labels, random_state=random_state)
        self.similarity = similarity
        self.label_names = list(label_names)
        self.rates = rates

    def _wrong_ranks(self, text: str) -> dict[str, int]:
        """Rank of each wrong label of ``text`` by cosine (1 = nearest)."""
        truth = self._labels_of(text)
        order = [self.label_names[k] for k in np.argsort(-self.similarity[text])]
        wrong = [name for name in order if name not in truth]
        return {name: rank for rank, name in enumerate(wrong, start=1)}

    def _false_yes(self, rank: int) -> float:
        return self.rates["yes_wrong"][rank_bin(rank)]

    def _says_yes(self, label: str, text: str, draw: str = "yes") -> bool:
        right = label in self._labels_of(text)
        p_yes = self.rates["yes_right"] if right else self._false_yes(self._wrong_ranks(text)[label])
        return self._uniform(draw, label, text) < p_yes

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        return [
            np.array([float(self._says_yes(request.label, text)) for text in request.texts]) for request in requests
        ]

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        """Single choice as the module docstring says; a multi-label question ("which apply") is read
        option by option with the yes/no rates (drawn apart from the yes/no answers)."""
        results = []
        for request in requests:
            if request.multiple:
                applies = np.array([self._says_yes(o.name, request.text, "any of") for o in request.options], float)
                results.append(np.append(applies, float(not applies.any())))
                continue
            names = [option.name for option in request.options]
            truth, ranks = self._labels_of(request.text), self._wrong_ranks(request.text)
            right = next((k for k, name in enumerate(names) if name in truth), None)
            draw = self._uniform("choice", request.text, *names)
            keep = self.rates["choice_right"] if right is not None else self.rates["none_when_absent"]
            answer = len(names) if right is None else right
            if self._uniform("echo", request.text, *names) < self.rates.get("echo_first", 0.0):
                answer = 0
            elif draw >= keep:  # a mistake: a wrong candidate by near-miss odds (or "none" when the right one is shown)
                wrong = [k for k in range(len(names)) if k != right]
                odds = np.array(
                    [self._false_yes(ranks[names[k]]) for k in wrong] + ([1.0] if right is not None else [])
                )
                options = wrong + ([len(names)] if right is not None else [])
                pick = self._uniform("pick", request.text, *names) * odds.sum()
                answer = options[int(np.searchsorted(np.cumsum(odds), pick, side="right").clip(0, len(options) - 1))]
            probabilities = np.zeros(len(names) + 1)
            probabilities[answer] = 1.0
            results.append(probabilities)
        return results


class ScoreReplayJudge(NearMissJudge):
    """Yes/no answers with a real LLM's own scores: replayed when it answered the pair, else drawn.

    A pair the LLM answered (in ``recorded``) gets its recorded score; any other pair gets
    the recorded score of a pair of the same kind, drawn by the question's seed. The kind is
    the right label, or a wrong label of a near-miss rank bin (:data:`RANK_BINS`), of the same
    label (the LLM leans differently on each label: on SNIPS it says yes to 25% of the right
    pairs of one label and to 95% of another's); with fewer than ``min_per_kind`` such
    scores, of any label; then any right or any wrong pair. Scores keep the LLM's
    calibration (its P(yes) / (P(yes) + P(no))), not only its yes/no rates. Multiple choice
    is not simulated: fit with ``judging="yes_no"``.

    Parameters
    ----------
    texts, labels, similarity, label_names, random_state
        As :class:`NearMissJudge`.
    recorded : mapping of (label, text) to float
        The LLM's recorded scores.
    min_per_kind : int
        Fewest recorded scores of a kind (of one label, or of all labels) to draw from it.
    """

    def __init__(
        self,
        texts,
        labels,
        similarity: Mapping[str, np.ndarray],
        label_names: Sequence[str],
        recorded: Mapping[tuple[str, str], float],
        random_state: int = 0,
        min_per_kind: int = 10,
    ) -> None:
        super().__init__(texts, labels, similarity, label_names, rates={}, random_state=random_state)
        self.recorded = recorded
        self.min_per_kind = min_per_kind
        self.n_replayed = self.n_drawn = 0
        by_kind: dict[tuple, list[float]] = {}
        for (label, text), score in recorded.items():
            kind = self._kind(label, text)
            for key in ((label, kind), (kind,), (kind == "right",)):
                by_kind.setdefault(key, []).append(score)
        if min(len(by_kind.get((True,), [])), len(by_kind.get((False,), []))) < min_per_kind:
            raise ValueError(f"ScoreReplayJudge needs at least {min_per_kind} recorded right and wrong pairs.")
        self._scores = {key: sorted(scores) for key, scores in by_kind.items() if len(scores) >= min_per_kind}

    def _kind(self, label: str, text: str) -> object:
        """``"right"``, or the rank bin of a wrong label."""
        return "right" if label in self._labels_of(text) else rank_bin(self._wrong_ranks(text)[label])

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        results = []
        for request in requests:
            scores = []
            for text in request.texts:
                if (request.label, text) in self.recorded:
                    self.n_replayed += 1
                    scores.append(self.recorded[request.label, text])
                    continue
                self.n_drawn += 1
                kind = self._kind(request.label, text)
                keys = ((request.label, kind), (kind,), (kind == "right",))
                pool = next(self._scores[key] for key in keys if key in self._scores)
                scores.append(pool[int(self._uniform("score", request.label, text) * len(pool))])
            results.append(np.array(scores))
        return results

    choose = Judge.choose  # yes/no only: judging="auto" asks it yes/no questions, as the real LLM's order probe decides


class MistakesWithheldJudge(NearMissJudge):
    """:class:`NearMissJudge` whose wrong yes/no answers are withheld (NaN, a failed pair).

    What a fit that could tell the judge's mistakes apart, and dropped them, would learn from:
    a bound on what reading the near-miss judge's answers through any noise model can reach.
    Its choices are the near-miss judge's (``judging="auto"`` asks it yes/no).

    Parameters
    ----------
    texts, labels, similarity, label_names, rates, random_state
        As :class:`NearMissJudge`.
    only_false_yes : bool
        Withhold its wrong "yes" answers only, and keep its wrong "no".
    """

    def __init__(self, texts, labels, similarity: Mapping[str, np.ndarray], label_names: Sequence[str], rates: dict,
                 random_state: int = 0, only_false_yes: bool = False) -> None:  # fmt: skip
        super().__init__(texts, labels, similarity, label_names, rates, random_state)
        self.only_false_yes = only_false_yes

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        answers = []
        for request, answer in zip(requests, super().judge(requests)):
            said_yes = answer >= 0.5
            wrong = said_yes != np.array([request.label in self._labels_of(text) for text in request.texts])
            answers.append(np.where(wrong & (said_yes | (not self.only_false_yes)), np.nan, answer))
        return answers


class RandomJudge(GoldJudge):
    """Answers at random: yes with probability 0.5, or any option (or "none") alike; fixed per question."""

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        return [np.array([float(self._uniform("yes", r.label, t) < 0.5) for t in r.texts]) for r in requests]

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        results = []
        for request in requests:
            names = [option.name for option in request.options]
            probabilities = np.zeros(len(names) + 1)
            probabilities[int(self._uniform("choice", request.text, *names) * (len(names) + 1))] = 1.0
            results.append(probabilities)
        return results


class RandomChooserJudge(GoldJudge):
    """Right about every yes/no pair, but picks an option (or "none") at random whatever the order; fixed per question.

    The quality check asks yes/no, so it rates this judge perfect: only the order probe can see that
    its choices carry nothing.
    """

    choose = RandomJudge.choose


class ConstantJudge(GoldJudge):
    """Says yes (``answer=1.0``) or no (``0.0``) to every pair; answers yes/no questions only."""

    def __init__(self, texts, labels, answer: float, random_state: int = 0) -> None:
        super().__init__(texts, labels, random_state=random_state)
        self.answer = answer

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        return [np.full(len(r.texts), self.answer) for r in requests]

    choose = Judge.choose  # no multiple choice: judging="auto" asks it yes/no questions


class YesNoGoldJudge(GoldJudge):
    """GoldJudge that answers yes/no questions only: what the yes/no form costs a perfect judge at the same budget."""

    choose = Judge.choose


class FirstOptionJudge(GoldJudge):
    """Picks the first option of every multiple choice, and says yes to every yes/no pair (it echoes the question)."""

    def judge(self, requests: Sequence[JudgeRequest]) -> list[np.ndarray]:
        return [np.ones(len(r.texts)) for r in requests]

    def choose(self, requests: Sequence[ChoiceRequest]) -> list[np.ndarray]:
        return [np.eye(len(r.options) + 1)[0] for r in requests]


# ------------------------------------------------------------------ estimating the rates from recordings
def _similarities(texts: list[str], label_names: list[str], descriptions: list[str]) -> dict[str, np.ndarray]:
    from zsclassify.embedding import resolve_embedder

    embedder = resolve_embedder(None)
    documents = np.asarray(embedder.encode_document(texts))
    queries = np.asarray(embedder.encode_query(descriptions))
    return dict(zip(texts, documents @ queries.T))


def similarity_for(labels: dict[str, str], texts: list[str]) -> dict[str, np.ndarray]:
    """Zero-shot cosines of ``texts`` to the labels (descriptions as the estimator would use them)."""
    from zsclassify._validation import check_labels

    names, descriptions = check_labels(labels)
    return _similarities(list(dict.fromkeys(texts)), names, descriptions)


def estimate_rates(
    yes_no: list[tuple[str, str, float]], gold: Mapping[str, str], similarity: Mapping[str, np.ndarray], label_names
) -> dict:
    """Yes/no rates of :class:`NearMissJudge` from recorded (label, text, score) answers and gold labels."""
    probe = NearMissJudge(list(gold), list(gold.values()), similarity, label_names, rates={})
    right_yes, wrong_yes, wrong_n = [], np.zeros(len(RANK_BINS)), np.zeros(len(RANK_BINS))
    for label, text, score in yes_no:
        if label == gold[text]:
            right_yes.append(score >= 0.5)
        else:
            b = rank_bin(probe._wrong_ranks(text)[label])
            wrong_n[b] += 1
            wrong_yes[b] += score >= 0.5
    return {
        "yes_right": float(np.mean(right_yes)),
        "yes_wrong": (wrong_yes / np.maximum(wrong_n, 1)).tolist(),
        "counts": {"yes/no with the right label": len(right_yes), "yes/no wrong, by rank bin": wrong_n.tolist()},
    }


def load_rates() -> dict:
    """The rates written by this script."""
    return json.loads(RATES_FILE.read_text())["rates"]


def _recorded_choices(name: str) -> list[tuple[str, list[str], list[float]]]:
    from llm_judge import RECORDINGS, load_recording

    if not (RECORDINGS / f"{name}_choice.jsonl").is_file():
        return []
    _, rows = load_recording(name, "choice")
    return [(r["text"], r["options"], r["probabilities"]) for r in rows if not np.isnan(r["probabilities"][0])]


def _demo_yes_no() -> tuple[list, dict]:
    """The demo's recorded yes/no answers (from git: the recording before the choice default) and gold labels."""
    import subprocess

    from zsclassify.datasets import load_demo

    text = subprocess.run(["git", "show", "d1fd597:zsclassify/data/demo_judgments.jsonl"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    _, *rows = [json.loads(line) for line in text.splitlines() if line]
    data = load_demo()
    return [(r["label"], r["text"], r["score"]) for r in rows], data


def main() -> None:
    yes_no, demo = _demo_yes_no()
    demo_gold = dict(zip(demo.pool_texts, demo.pool_labels))
    rates = estimate_rates(yes_no, demo_gold, similarity_for(demo.labels, demo.pool_texts), list(demo.labels))
    recorded, gold = [], {}
    for dataset, name in (("snips", "snips"), ("clinc150", "clinc150-20")):
        recorded += _recorded_choices(name)
        gold.update(zip(*load_split(dataset, "train")))
    shown = [(o.index(gold[t]), p) for t, o, p in recorded if gold[t] in o]
    absent = [(len(o), p) for t, o, p in recorded if gold[t] not in o]
    # right when the right label is first = echo + (1 - echo) * right; when it is not first = (1 - echo) * right
    right_when_first = np.mean([int(np.argmax(p)) == 0 for k, p in shown if k == 0])
    right_otherwise = np.mean([int(np.argmax(p)) == k for k, p in shown if k > 0])
    rates["echo_first"] = float(right_when_first - right_otherwise)
    rates["choice_right"] = float(right_otherwise / (1.0 - rates["echo_first"]))
    rates["choice agreement with gold"] = float(np.mean([int(np.argmax(p)) == k for k, p in shown]))
    if absent:
        rates["none_when_absent"] = float(np.mean([int(np.argmax(p)) == k for k, p in absent]))
    else:  # no recorded question lacked the right label: assume "none" only when no candidate would draw a false yes
        rates["none_when_absent"] = float(np.prod([1.0 - rates["yes_wrong"][rank_bin(r)] for r in range(1, 9)]))
        rates["none_when_absent derived"] = "product over ranks 1-8 of (1 - P(yes | wrong label of that rank))"
    rates["counts"].update({"choices with the right label shown": len(shown), "choices without it": len(absent),
                            "choices whose right label was first": sum(k == 0 for k, _ in shown)})  # fmt: skip
    print(json.dumps(rates, indent=2))
    how = (
        "yes/no rates: the demo's 600 recorded answers (git d1fd597) against its gold labels, wrong labels ranked "
        "by zero-shot cosine; choice rates: benchmarks/results/llm_recordings/*_choice.jsonl against gold, "
        "echo_first and choice_right solved from the accuracy when the right label was shown first and otherwise"
    )
    write_results("simulated_judge", {"rates": rates, "how": how})


if __name__ == "__main__":
    main()
