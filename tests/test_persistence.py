"""Saved models: never the judge, and a format that loads without running code."""

import copy
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io
from conftest import TOY_LABELS, HashingEmbedder
from sklearn.base import clone

from zsclassify import ModelFileError, UnsafeModelFileError, ZeroShotClassifier, load_model, save_model
from zsclassify.datasets import load_demo
from zsclassify.judges import CallableJudge, GoldJudge

REPO = Path(__file__).resolve().parents[1]
PROBE = ["will it rain on sunday", "play my road trip songs", "pizza for two please"]


def fitted(judge, texts):
    return ZeroShotClassifier(TOY_LABELS, embedder=HashingEmbedder(), judge=judge, judge_budget=4, random_state=0).fit(
        texts
    )


def test_a_fitted_model_is_saved_without_its_judge(toy):
    _, texts, labels = toy
    clf = fitted(CallableJudge(lambda label, description, batch: [0.9] * len(batch)), texts)  # a lambda: unpicklable
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.judge is None and clf.judge is not None  # the live model keeps it
    np.testing.assert_array_equal(restored.predict(PROBE), clf.predict(PROBE))
    gold = fitted(GoldJudge([*texts, "a secret utterance 4242"], [*labels, "food"]), texts)
    assert b"secret utterance 4242" not in pickle.dumps(gold)
    assert copy.deepcopy(gold).judge is not None  # copies are not saves
    assert clone(gold).judge is not None
    assert pickle.loads(pickle.dumps(clone(gold))).judge is not None  # an unfitted estimator keeps its parameters


@pytest.mark.slow
def test_a_model_fitted_with_a_main_module_judge_loads_elsewhere(tmp_path):
    path = tmp_path / "model.joblib"
    script = textwrap.dedent(f"""
        import joblib
        from conftest import TOY_LABELS, TOY_TEXTS, HashingEmbedder
        from zsclassify import ZeroShotClassifier
        from zsclassify.judges import Judge

        class MyJudge(Judge):  # lives in __main__: no other process can import it
            token = "my-private-token-77"
            def judge(self, requests):
                return [[1.0] * len(r.texts) for r in requests]

        texts = [t for group in TOY_TEXTS.values() for t in group]
        clf = ZeroShotClassifier(TOY_LABELS, embedder=HashingEmbedder(), judge=MyJudge(), judge_budget=4).fit(texts)
        joblib.dump(clf, {str(path)!r})
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    clf = joblib.load(path)
    assert clf.judge is None and len(clf.predict(PROBE)) == 3
    assert b"my-private-token-77" not in path.read_bytes()


def test_skops_round_trip_and_trusted_types(toy, tmp_path):
    _, texts, _ = toy
    clf = fitted(CallableJudge(lambda label, description, batch: [0.9] * len(batch)), texts)
    path = save_model(clf, tmp_path / "model.skops")
    with pytest.raises(UnsafeModelFileError, match=r"conftest.HashingEmbedder.*trusted=\["):
        load_model(path)  # the test embedder is not zsclassify's: the caller must vouch for it
    restored = load_model(path, trusted=["conftest.HashingEmbedder"])
    assert restored.judge is None
    np.testing.assert_allclose(restored.predict_proba(PROBE), clf.predict_proba(PROBE))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_crafted_skops_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    crafted = tmp_path / "model.skops"
    skops.io.dump({"run": os.system, "command": f"touch {marker}"}, crafted)
    with pytest.raises(UnsafeModelFileError, match=r"system.*It was not loaded"):
        load_model(crafted)
    not_a_zip = tmp_path / "junk.skops"
    not_a_zip.write_bytes(b"\x80\x04not a skops file")
    with pytest.raises(ModelFileError, match="not a readable skops model file"):
        load_model(not_a_zip)
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".skops", ".joblib"])
def test_a_truncated_or_missing_model_file_says_what_it_is(toy, tmp_path, suffix):
    labels, texts, _ = toy
    saved = save_model(ZeroShotClassifier(labels, embedder=HashingEmbedder()).fit(texts), tmp_path / f"m{suffix}")
    truncated = tmp_path / f"cut{suffix}"
    truncated.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=r"not a readable \w+ model file \(truncated, corrupt"):
        load_model(truncated, trusted=["conftest.HashingEmbedder"])
    with pytest.raises(FileNotFoundError, match="no model file at"):
        load_model(tmp_path / f"missing{suffix}")


def test_a_skops_file_is_about_the_size_of_the_joblib_file(tmp_path):
    # the answers are spelled out in the skops schema (JSON): it is deflated to stay within 1.5x joblib
    demo = load_demo()
    judge = GoldJudge(demo.pool_texts, demo.pool_labels)
    clf = ZeroShotClassifier(demo.labels, embedder=HashingEmbedder(), judge=judge, random_state=0).fit(demo.pool_texts)
    assert len(clf.judgments_) > 3000
    safe = save_model(clf, tmp_path / "m.skops").stat().st_size
    pickled = save_model(clf, tmp_path / "m.joblib").stat().st_size
    assert safe <= 1.5 * pickled, (safe, pickled)
    loaded = load_model(tmp_path / "m.skops", trusted=["conftest.HashingEmbedder"])
    assert loaded.judgments_ == clf.judgments_ and loaded.judge_quality_ == clf.judge_quality_
