"""Progress bars: embedding, each judging round (pairs, accepted, cost) and the final fit; terminal and notebook."""

import re
import sys
import types

import numpy as np

from zsclassify import ZeroShotClassifier, _progress
from zsclassify.judges import GoldJudge, Judge, JudgeUsage


class PricedGoldJudge(Judge):
    """A GoldJudge that bills like an LLM judge: one cent per pair, in ``usage``."""

    def __init__(self, texts, labels):
        self.gold = GoldJudge(texts, labels)
        self.usage = JudgeUsage(cost_usd=1.0)  # spent before this fit: not this fit's cost

    def judge(self, requests):
        n_pairs = sum(len(request.texts) for request in requests)
        self.usage = self.usage + JudgeUsage(requests=len(requests), cost_usd=0.01 * n_pairs)
        return self.gold.judge(requests)


def fit(toy, embedder, show_progress, **params):
    labels, texts, y = toy
    judge = PricedGoldJudge(texts, y)
    clf = ZeroShotClassifier(
        labels, embedder=embedder, judge=judge, judge_budget=4, show_progress=show_progress, random_state=0, **params
    )
    return clf.fit(texts)


def test_fit_shows_embedding_each_round_and_the_final_fit(toy, hashing_embedder, capsys):
    clf = fit(toy, hashing_embedder, True, n_rounds=2)
    err = capsys.readouterr().err
    assert "embedding the pool" in err and "18/18" in err  # texts embedded
    assert "judging round 1/2" in err and "judging round 2/2" in err
    accepted = [int(n) for n in re.findall(r"accepted=(\d+)", err)]
    assert accepted and accepted[-1] == int(np.sum([j.score >= 0.5 for j in clf.judgments_]))
    assert f"cost=${0.01 * clf.n_judged_pairs_:.4f}" in err  # this fit's cost, not the judge's lifetime
    assert f"{clf.n_judged_pairs_}/12" in err  # pairs done of the planned 4 per label
    assert "final fit: self-training" in err and "final fit: calibration" in err


def test_kl_and_no_progress(toy, hashing_embedder, capsys):
    fit(toy, hashing_embedder, True, refinement="kl")
    assert "accepted=" in capsys.readouterr().err
    fit(toy, hashing_embedder, False)
    assert capsys.readouterr().err == ""


def test_default_shows_bars_in_a_notebook_but_not_in_a_pipe(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not _progress.progress_enabled(None)
    shell_class = type("ZMQInteractiveShell", (), {})
    fake_ipython = types.SimpleNamespace(get_ipython=lambda: shell_class())
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert _progress.in_notebook() and _progress.progress_enabled(None)
    assert not _progress.progress_enabled(False)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert not _progress.in_notebook()
