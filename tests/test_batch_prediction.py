"""Prediction at scale: streamed chunks, Dask on a LocalCluster, Spark in local mode."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest

from zsclassify import MultiLabelZeroShotClassifier, ZeroShotClassifier
from zsclassify.batch_prediction import PartitionPredictor, predict_in_chunks
from zsclassify.datasets import load_demo
from zsclassify.embedding import encoder_stats, no_embedding_cache


@pytest.fixture(scope="module")
def demo():
    data = load_demo()
    labels = dict(list(data.labels.items())[:8])  # 8 intents: a small model, as a real one with few labels
    clf = ZeroShotClassifier(labels, show_progress=False).fit(data.pool_texts[:200])
    return clf, data.test_texts[:400]


def test_chunks_match_one_predict_and_are_lazy(toy, hashing_embedder):
    labels, texts, _ = toy
    clf = ZeroShotClassifier(labels, embedder=hashing_embedder, oos_label="oos", oos_threshold=0.4).fit(texts)
    consumed = []

    def stream():
        for text in texts:
            consumed.append(text)
            yield text

    chunks = predict_in_chunks(clf, stream(), chunk_size=5)
    first = next(chunks)
    assert len(first.texts) == 5 and len(consumed) == 5  # nothing read ahead of the chunk
    rest = list(chunks)
    assert [len(c.texts) for c in rest] == [5, 5, 3]
    labels_, confidence = clf.predict_with_confidence(texts)
    np.testing.assert_array_equal(np.concatenate([first.labels, *[c.labels for c in rest]]), labels_)
    np.testing.assert_allclose(np.concatenate([first.confidence, *[c.confidence for c in rest]]), confidence)
    assert list(predict_in_chunks(clf, iter([]))) == []
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        next(predict_in_chunks(clf, texts, chunk_size=0))


def test_streamed_prediction_leaves_the_embedding_cache_alone(demo):
    clf, texts = demo
    unseen = [f"{text} (streamed)" for text in texts[:50]]
    before = encoder_stats().texts
    list(predict_in_chunks(clf, unseen, chunk_size=16))
    list(predict_in_chunks(clf, unseen, chunk_size=16))
    assert encoder_stats().texts - before == 100, "streamed texts were cached"
    with no_embedding_cache():
        clf.predict(unseen[:5])
    clf.predict(unseen[:5])  # outside the block the cache works again
    clf.predict(unseen[:5])
    assert encoder_stats().texts - before == 110


def test_partition_predictor_adds_columns_and_pickles_small(demo):
    clf, texts = demo
    predictor = PartitionPredictor(clf, text_column="utterance")
    frame = pd.DataFrame({"id": range(10), "utterance": texts[:10]})
    out = predictor.predict_frame(frame)
    assert list(out.columns) == ["id", "utterance", "label", "confidence"]
    np.testing.assert_array_equal(out["label"], clf.predict(texts[:10]))
    assert [len(f) for f in predictor(iter([frame[:4], frame[4:]]))] == [4, 6]
    assert list(predictor.meta(frame).columns) == list(out.columns) and len(predictor.meta(frame)) == 0
    assert len(pickle.dumps(predictor)) < 200_000
    with pytest.raises(KeyError, match="no column 'text'"):
        PartitionPredictor(clf).predict_frame(frame)


def test_one_bad_row_raises_naming_it_or_is_recorded_while_the_partition_goes_on(demo):
    clf, texts = demo
    column = [texts[0], None, texts[1], "", "play \ud800 now", 7, texts[2]]
    frame = pd.DataFrame({"utterance": column}, index=[10, 11, 12, 13, 14, 15, 16])
    with pytest.raises(ValueError, match=r"4 row\(s\) .* index 11: utterance is missing .*on_error='record'"):
        PartitionPredictor(clf, text_column="utterance").predict_frame(frame)
    predictor = PartitionPredictor(clf, text_column="utterance", on_error="record")
    out = predictor.predict_frame(frame)
    assert list(out.columns) == ["utterance", "label", "confidence", "error"] == list(predictor.meta(frame).columns)
    good = [10, 12, 16]
    assert out.loc[good, "label"].tolist() == clf.predict([texts[0], texts[1], texts[2]]).tolist()
    assert out.loc[good, "error"].isna().all() and out.loc[good, "confidence"].between(0, 1).all()
    bad = out.drop(index=good)
    assert bad["label"].isna().all() and bad["confidence"].isna().all()
    assert [reason.split(" (")[0].split(";")[0] for reason in bad["error"]] == [
        "is missing", "is empty or whitespace only", "holds an invalid character '\\ud800' at position 5",
        "is a int",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="on_error must be one of"):
        PartitionPredictor(clf, on_error="ignore")


def test_multi_label_partitions_and_chunks_hold_lists_of_labels(demo):
    _, texts = demo
    data = load_demo()
    clf = MultiLabelZeroShotClassifier(dict(list(data.labels.items())[:8])).fit(data.pool_texts[:200])
    expected_labels, expected_confidence = clf.predict_with_confidence(texts[:5])
    predictor = PartitionPredictor(clf, on_error="record")
    out = predictor.predict_frame(pd.DataFrame({"text": [*texts[:5], None]}))
    assert out["label"].tolist() == [list(labels) for labels in expected_labels] + [None]
    assert out["confidence"].tolist()[:5] == [list(p) for p in expected_confidence] and out["confidence"][5] is None
    assert out["error"][:5].isna().all() and out["error"][5].startswith("is missing")
    chunks = list(predict_in_chunks(clf, iter(texts[:5]), chunk_size=2))
    assert [labels for chunk in chunks for labels in chunk.labels] == list(expected_labels)


def test_partition_predictor_needs_a_fitted_classifier():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PartitionPredictor(ZeroShotClassifier(["a", "b"]))


def _worker_model_loads():
    return encoder_stats().model_loads


@pytest.mark.slow
def test_dask_parallel_post_fit_on_two_workers_loads_the_model_once_each(demo):
    distributed = pytest.importorskip("distributed")
    dd = pytest.importorskip("dask.dataframe")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    clf, texts = demo
    frames = dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=8)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert set(client.run(_worker_model_loads).values()) == {0}  # nothing loaded before work arrives
        # meta: the output types, so that dask does not call predict on made-up rows to guess them
        wrapped = wrappers.ParallelPostFit(
            estimator=clf, predict_meta=pd.Series([], dtype=object), predict_proba_meta=np.zeros((0, len(clf.classes_)))
        )
        predicted = wrapped.predict(frames[["text"]]).compute()  # dask-ml takes DataFrames, not Series
        proba = wrapped.predict_proba(frames[["text"]].to_dask_array(lengths=True)).compute()
        with pytest.raises(TypeError, match="distributed collection"):
            clf.predict(frames["text"])
        predictor = PartitionPredictor(clf)
        labelled = frames.map_partitions(predictor.predict_frame, meta=predictor.meta(frames._meta)).compute()
        loads = client.run(_worker_model_loads)
    np.testing.assert_array_equal(np.asarray(predicted), clf.predict(texts))
    np.testing.assert_allclose(proba, clf.predict_proba(texts), atol=1e-6)
    np.testing.assert_array_equal(labelled["label"], clf.predict(texts))
    assert sorted(loads.values()) == [1, 1], f"model loads per worker: {loads}"


def _spark_session():
    pyspark_sql = pytest.importorskip("pyspark.sql")
    os.environ.setdefault("PYSPARK_PYTHON", __import__("sys").executable)
    return (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("zsclassify-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )


@pytest.mark.slow
def test_spark_map_in_pandas_in_local_mode(demo):
    clf, texts = demo
    spark = _spark_session()
    try:
        frame = spark.createDataFrame(pd.DataFrame({"id": range(len(texts)), "text": texts})).repartition(6)
        predictor = PartitionPredictor(clf)

        def predict_and_report(frames):  # the recipe, plus the worker's pid and model loads for the test
            for out in predictor(frames):
                yield out.assign(pid=os.getpid(), loads=encoder_stats().model_loads)

        from pyspark.sql.types import IntegerType, StructField, StructType

        extra = [StructField("pid", IntegerType()), StructField("loads", IntegerType())]
        schema = StructType([*predictor.spark_schema(frame.schema).fields, *extra])
        result = frame.mapInPandas(predict_and_report, schema=schema).toPandas().sort_values("id")
        # a multi-label model: array columns (the labels that apply, their probabilities)
        multi = MultiLabelZeroShotClassifier(dict(zip(clf.classes_, clf.descriptions_))).fit(texts[:50])
        multi_predictor = PartitionPredictor(multi)
        multi_schema = multi_predictor.spark_schema(frame.schema)
        multi_result = frame.mapInPandas(multi_predictor, schema=multi_schema).toPandas().sort_values("id")
    finally:
        spark.stop()
    np.testing.assert_array_equal(result["label"], clf.predict(texts))
    np.testing.assert_allclose(result["confidence"], clf.predict_proba(texts).max(axis=1), atol=1e-6)
    assert result.groupby("pid")["loads"].max().eq(1).all(), "a Python worker loaded the model more than once"
    assert result.groupby("pid").size().sum() == len(texts)
    assert [list(labels) for labels in multi_result["label"]] == [list(ls) for ls in multi.predict_labels(texts)]
