"""ONNX Runtime backends and the on-disk embedding cache."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone

from zsclassify import ZeroShotClassifier
from zsclassify.datasets import load_demo
from zsclassify.embedding import EmbeddingCache, SentenceTransformerEmbedder, clear_embedding_cache, encoder_stats

pytest.importorskip("onnxruntime")
TEXTS = ["what's my checking balance", "my card got declined at the store", "book a flight to paris tomorrow"]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.getbasetemp() / "zsclassify-cache"  # one export for the whole module
    monkeypatch.setenv("ZSCLASSIFY_CACHE_DIR", str(folder))
    return folder


@pytest.mark.slow
def test_onnx_matches_torch_and_int8_stays_close():
    torch_vectors = SentenceTransformerEmbedder().encode_document(TEXTS)
    onnx = SentenceTransformerEmbedder(backend="onnx").encode_document(TEXTS)
    int8 = SentenceTransformerEmbedder(backend="onnx-int8").encode_document(TEXTS)
    np.testing.assert_allclose(onnx, torch_vectors, atol=1e-5)
    assert np.all((int8 * torch_vectors).sum(axis=1) > 0.9)
    assert not np.allclose(int8, torch_vectors, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)


def test_onnx_applies_prompts_like_torch():
    prompted = SentenceTransformerEmbedder(query_prompt="query: ")
    expected = prompted.encode_query(TEXTS)
    got = SentenceTransformerEmbedder(backend="onnx", query_prompt="query: ").encode_query(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert not np.allclose(got, SentenceTransformerEmbedder(backend="onnx").encode_query(TEXTS), atol=1e-3)


def test_classifier_with_onnx_embedder_clones_and_pickles_light():
    data = load_demo()
    embedder = SentenceTransformerEmbedder(backend="onnx")
    clf = ZeroShotClassifier(data.labels, embedder=embedder).fit(data.pool_texts[:20])
    reference = ZeroShotClassifier(data.labels).fit(data.pool_texts[:20])
    np.testing.assert_allclose(clf.decision_function(TEXTS), reference.decision_function(TEXTS), atol=1e-4)
    assert len(pickle.dumps(clf)) < 1_000_000
    assert clone(clf).get_params()["embedder"].backend == "onnx"


def test_bad_backend_options():
    with pytest.raises(ValueError, match="backend must be one of"):
        SentenceTransformerEmbedder(backend="tensorrt").encode_document(["x"])
    with pytest.raises(ValueError, match="runs on CPU"):
        SentenceTransformerEmbedder(backend="onnx", device="cuda").encode_document(["x"])


@pytest.mark.slow
def test_a_new_process_neither_exports_nor_embeds_again(tmp_path, cache_dir, monkeypatch):
    from zsclassify import embedding

    # an ONNX encoder built earlier in this worker (another test, another cache folder) would skip the export here
    monkeypatch.setattr(
        embedding, "_MODELS", {key: model for key, model in embedding._MODELS.items() if key[2] == "torch"}
    )
    path = tmp_path / "embeddings.sqlite"
    texts = [f"disk cache sentence number {i}" for i in range(5)]
    first = SentenceTransformerEmbedder(backend="onnx", disk_cache=path).encode_document(texts)
    assert len(EmbeddingCache(path)) == len(texts)
    (export,) = cache_dir.glob("onnx/*/model.onnx")
    stamp = export.stat().st_mtime_ns
    script = textwrap.dedent(f"""
        import json
        from zsclassify.embedding import SentenceTransformerEmbedder, encoder_stats
        embedder = SentenceTransformerEmbedder(backend="onnx", disk_cache={str(path)!r})
        vectors = embedder.encode_document({texts!r} + ["one new"])
        print(json.dumps({{"texts": encoder_stats().texts, "first": vectors[0].tolist()}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["texts"] == 1, "only the new text is embedded"
    np.testing.assert_allclose(result["first"], first[0], atol=1e-6)
    assert export.stat().st_mtime_ns == stamp, "the new process exported the model again"


def test_disk_cache_keys_by_model_backend_and_prompt(tmp_path, empty_embedding_cache):
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    SentenceTransformerEmbedder(disk_cache=cache).encode_document(["keyed text"])
    for other in (
        SentenceTransformerEmbedder(disk_cache=cache, backend="onnx"),
        SentenceTransformerEmbedder(disk_cache=cache, document_prompt="passage: "),
    ):
        clear_embedding_cache()
        before = encoder_stats().texts
        other.encode_document(["keyed text"])
        assert encoder_stats().texts == before + 1
    assert len(cache) == 3


def test_disk_cache_size_bound_and_clear(tmp_path):
    cache = EmbeddingCache(tmp_path / "e.sqlite", max_entries=10)
    vectors = {f"text {i}": np.full(4, i, dtype=np.float32) for i in range(25)}
    for text, vector in vectors.items():
        cache.put_many("m", None, {text: vector})
    assert len(cache) <= 10
    latest = cache.get_many("m", None, ["text 24", "text 0"])
    assert list(latest) == ["text 24"] and np.array_equal(latest["text 24"], vectors["text 24"])
    cache.clear()
    assert len(cache) == 0
    clone_of = pickle.loads(pickle.dumps(cache))
    assert clone_of.path == cache.path and clone_of.max_entries == 10
    with pytest.raises(ValueError, match="max_entries"):
        EmbeddingCache(tmp_path / "x.sqlite", max_entries=0)


def test_disk_cache_needs_a_named_model(hashing_embedder):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformerEmbedder().load()
    assert isinstance(model, SentenceTransformer)
    with pytest.raises(ValueError, match="by name or path"):
        SentenceTransformerEmbedder(model, disk_cache=True).encode_document(["x"])
