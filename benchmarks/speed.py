"""Speed, side by side in one run.

1. Refinement of all CLINC150 labels: the vectorised NumPy KL update vs the paper's
   per-label PyTorch loop on the same inputs (target >= 20x faster, same result).
2. ``predict`` throughput vs the embedder's raw ``encode`` on the same 5,000 texts
   (target: overhead <= 5%); the embedding cache is cleared before every predict run.
   ``predict_multi_label``: the same for a judged ``MultiLabelZeroShotClassifier``;
   ``predict_multi_intent``: the same on 5,000 MixSNIPS messages, which it scores clause by clause.
3. ``fit`` time minus judge time vs the time to embed the pool (target <= 1.5x), with the
   test accuracy and ECE of that fit.
4. How fit time minus embedding and judging grows with the pool (5k-100k utterances) and
   with the number of labels: pools built from CLINC150's embeddings, each copy jittered.
5. Texts encoded during a GridSearchCV vs the distinct texts (embedding re-use).
6. CPU time of the final self-training fit with its pseudo-labels capped at 200 per label
   (before 2026-11-27 night) vs now (100 per judged utterance, 20,000 in all), few and many
   labels, on the same pools.

Usage: python benchmarks/speed.py [--repeats 5] [--name speed]
           [--parts refinement predict predict_multi_label predict_multi_intent fit scaling reuse pseudo_labels]
           (default: all)
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from _common import DATA_DIR, label_spec, load_split, table, write_results
from sklearn.model_selection import GridSearchCV

from zsclassify import MultiLabelZeroShotClassifier, ZeroShotClassifier
from zsclassify._refinement import kl_refine, one_native_thread, self_train
from zsclassify.embedding import SentenceTransformerEmbedder, clear_embedding_cache, encoder_stats, normalize_rows
from zsclassify.judges import GoldJudge, Judge
from zsclassify.metrics import expected_calibration_error
from zsclassify.segmenting import resolve_segmenter, split_texts


def torch_reference(queries, documents, scores, lr=1e-4, steps=100):
    """The paper's loop: one label at a time, autograd, torch Adam."""
    refined = np.empty_like(queries)
    for label in range(len(queries)):
        q = torch.tensor(queries[label], dtype=torch.float64, requires_grad=True)
        docs = torch.tensor(documents[label], dtype=torch.float64)
        target = torch.softmax(torch.tensor(scores[label], dtype=torch.float64), dim=0)
        optimizer = torch.optim.Adam([q], lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            log_s = torch.log_softmax(docs @ q / q.norm(), dim=0)
            loss = torch.sum(target * (torch.log(target) - log_s))
            loss.backward()
            optimizer.step()
        refined[label] = q.detach().numpy()
    return refined


def bench_refinement(embedder, repeats: int) -> dict:
    labels = label_spec("clinc150")
    pool, pool_labels = load_split("clinc150", "train")
    queries = normalize_rows(embedder.encode_query(list(labels.values())).astype(np.float64))
    docs = embedder.encode_document(pool).astype(np.float64)
    top = np.argsort(-(docs @ queries.T), axis=0)[:20].T  # (n_labels, 20)
    names = list(labels)
    gold = np.array([[float(pool_labels[i] == names[k]) for i in top[k]] for k in range(len(names))])
    documents = docs[top]
    numpy_times, torch_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours = kl_refine(queries, documents, gold)
        numpy_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference = torch_reference(queries, documents, gold)
        torch_times.append(time.perf_counter() - start)
    numpy_s, torch_s = float(np.median(numpy_times)), float(np.median(torch_times))
    return {
        "labels": len(names),
        "numpy_s": numpy_s,
        "torch_per_label_s": torch_s,
        "speedup": torch_s / numpy_s,
        "max_abs_diff": float(np.abs(ours - reference).max()),
    }


def multi_label_model(pool: list[str], pool_labels: list[str], embedder=None) -> MultiLabelZeroShotClassifier:
    """A judged multi-label model over the CLINC150 intents (so that prediction centres, scores and thresholds)."""
    judge = GoldJudge(pool, pool_labels)
    return MultiLabelZeroShotClassifier(
        label_spec("clinc150"), embedder=embedder, judge=judge, judge_budget=2, random_state=0, show_progress=False
    ).fit(pool[:3000])


def multi_intent_model_and_texts() -> tuple[MultiLabelZeroShotClassifier, list[str]]:
    """A judged multi-label model over the MixSNIPS intents, and 5,000 MixSNIPS messages (test, then train)."""
    rows = [
        json.loads(line) for split in ("test", "train") for line in (DATA_DIR / "mixsnips" / f"{split}.jsonl").open()
    ]
    names = sorted({label for row in rows for label in row["labels"]})
    flat = [(row["text"], label) for row in rows[2199:] for label in row["labels"]]
    judge = GoldJudge([text for text, _ in flat], [label for _, label in flat])
    clf = MultiLabelZeroShotClassifier(names, judge=judge, judge_budget=5, random_state=0, show_progress=False)
    return clf.fit([row["text"] for row in rows[5000:8000]]), [row["text"] for row in rows[:5000]]


def bench_predict(embedder, repeats: int, multi_label: bool = False, multi_intent: bool = False) -> dict:
    texts, _ = load_split("clinc150", "test")
    pool, pool_labels = load_split("clinc150", "train")
    texts = (texts + pool)[:5000]
    if multi_intent:
        clf, texts = multi_intent_model_and_texts()
    elif multi_label:
        clf = multi_label_model(pool, pool_labels)
    else:
        clf = ZeroShotClassifier(label_spec("clinc150")).fit(pool[:10])
    model = embedder.load()
    raw_times, predict_times = [], []
    for _ in range(repeats):  # alternate the two, so machine noise hits both alike
        start = time.perf_counter()
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True)
        raw_times.append(time.perf_counter() - start)
        clear_embedding_cache()
        start = time.perf_counter()
        clf.predict(texts)
        predict_times.append(time.perf_counter() - start)
    raw_s, predict_s = float(np.median(raw_times)), float(np.median(predict_times))
    segmenter = resolve_segmenter(getattr(clf, "segmenter", None))
    return {
        "texts": len(texts),
        "pieces per text": len(split_texts(texts, segmenter)[1]) / len(texts) if segmenter else 1.0,
        "raw_encode_s": raw_s,
        "predict_s": predict_s,
        "raw_texts_per_s": len(texts) / raw_s,
        "predict_texts_per_s": len(texts) / predict_s,
        "overhead": predict_s / raw_s - 1.0,
    }


class TimedJudge(Judge):
    """Wraps a judge and adds up the time spent inside it."""

    def __init__(self, inner: Judge) -> None:
        self.inner = inner
        self.seconds = 0.0

    def judge(self, requests):
        start = time.perf_counter()
        try:
            return self.inner.judge(requests)
        finally:
            self.seconds += time.perf_counter() - start


def bench_fit(embedder, repeats: int) -> dict:
    pool, pool_labels = load_split("clinc150", "train")
    test, test_labels = load_split("clinc150", "test")
    model = embedder.load()
    rows = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.encode(list(dict.fromkeys(pool)), batch_size=embedder.batch_size, normalize_embeddings=True)
        encode_s = time.perf_counter() - start
        clear_embedding_cache()
        judge = TimedJudge(GoldJudge(pool, pool_labels))
        clf = ZeroShotClassifier(label_spec("clinc150"), judge=judge, judge_budget=20, random_state=0)
        start = time.perf_counter()
        clf.fit(pool)
        fit_s = time.perf_counter() - start
        rows.append((fit_s, judge.seconds, encode_s))
    fit_s, judge_s, encode_s = (float(np.median([r[k] for r in rows])) for k in range(3))
    proba = clf.predict_proba(test)
    return {
        "pool": len(pool),
        "fit_s": fit_s,
        "judge_s": judge_s,
        "fit_minus_judge_s": fit_s - judge_s,
        "pool_encode_s": encode_s,
        "fit_minus_judge_over_encode": (fit_s - judge_s) / encode_s,
        "accuracy": float(np.mean(clf.predict(test) == np.array(test_labels, dtype=object))),
        "ece": expected_calibration_error(test_labels, proba, clf.classes_),
    }


class LookupEmbedder:
    """Returns precomputed embeddings: times a fit without its embedding."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode_query(self, texts):
        return np.stack([self.table[t] for t in texts])

    encode_document = encode_query


def clinc150_vectors(embedder) -> tuple[dict, dict, list[str], list[str]]:
    """CLINC150's label specs, train texts and labels, and an embedding per text and description."""
    labels = label_spec("clinc150")
    pool, pool_labels = load_split("clinc150", "train")
    vectors = dict(zip(pool, embedder.encode_document(pool)))
    vectors.update(zip(labels.values(), embedder.encode_query(list(labels.values()))))
    return labels, vectors, pool, pool_labels


def jittered_pool(vectors, pool, pool_labels, names, size, rng) -> tuple[list[str], list[str], dict]:
    """``size`` copies of train utterances of the labels ``names``, each copy's embedding jittered.

    Returns the copies' texts, their labels and an embedding table holding them and ``vectors``.
    """
    kept = set(names)
    candidates = [i for i, label in enumerate(pool_labels) if label in kept]
    chosen = rng.choice(candidates, size, replace=size > len(candidates))
    texts = [f"{pool[i]} #{copy}" for copy, i in enumerate(chosen)]
    table = dict(vectors)
    noise = 0.02 * rng.standard_normal((size, len(vectors[pool[0]])))
    table.update(zip(texts, normalize_rows(np.stack([vectors[pool[i]] for i in chosen]) + noise)))
    return texts, [pool_labels[i] for i in chosen], table


def bench_scaling(embedder) -> list[dict]:
    """Fit time minus embedding and judging against pool size and number of labels (jittered CLINC150 copies)."""
    labels, vectors, pool, pool_labels = clinc150_vectors(embedder)
    names = list(labels)
    rng = np.random.default_rng(0)
    rows = []
    for n_labels, size in [(150, 5_000), (150, 15_000), (150, 50_000), (150, 100_000), (50, 15_000), (100, 15_000)]:
        texts, text_labels, table = jittered_pool(vectors, pool, pool_labels, names[:n_labels], size, rng)
        judge = TimedJudge(GoldJudge(texts, text_labels))
        spec = {name: labels[name] for name in names[:n_labels]}
        clf = ZeroShotClassifier(spec, embedder=LookupEmbedder(table), judge=judge, random_state=0)
        start, cpu_start = time.perf_counter(), time.process_time()
        clf.fit(texts)
        seconds, cpu = time.perf_counter() - start - judge.seconds, time.process_time() - cpu_start
        rows.append({"labels": n_labels, "pool": size, "fit_minus_embed_and_judge_s": seconds, "cpu_s": cpu})
        print(rows[-1], flush=True)
    return rows


def bench_pseudo_labels(embedder, repeats: int) -> list[dict]:
    """CPU time of one self-training fit, pseudo-labels capped at 200 per label vs now, same inputs.

    Now: at most 100 per judged utterance and 20,000 in all, split over the labels. Answers: 20
    utterances per label accepted for their own label (as a perfect judge would after 20 questions
    per label), so "now" allows 2,000 per label up to 20,000 in all. A fit runs this function once
    and once per calibration fold.
    """
    labels, vectors, pool, pool_labels = clinc150_vectors(embedder)
    names = list(labels)
    rng = np.random.default_rng(0)
    rows = []
    for n_labels, size in [(7, 15_000), (7, 100_000), (150, 15_000), (150, 100_000)]:
        texts, text_labels, table = jittered_pool(vectors, pool, pool_labels, names[:n_labels], size, rng)
        documents = np.stack([table[text] for text in texts]).astype(np.float64)
        queries = normalize_rows(np.stack([table[labels[name]] for name in names[:n_labels]]).astype(np.float64))
        truth = np.array([names.index(label) for label in text_labels])
        said_yes = np.zeros((size, n_labels), dtype=bool)
        for label in range(n_labels):
            said_yes[rng.choice(np.flatnonzero(truth == label), 20, replace=False), label] = True
        said_no = np.zeros_like(said_yes)
        row = {"labels": n_labels, "pool": size}
        before = {"max_pseudo_labels": 200 * n_labels}  # 20 answers per label allow more: 200 per label binds
        for column, options in (("before: 200 per label, cpu s", before), ("now: cpu s", {})):
            seconds = []
            with one_native_thread():
                for _ in range(repeats):
                    start = time.process_time()
                    self_train(queries, documents, said_yes, said_no, **options)
                    seconds.append(time.process_time() - start)
            row[column] = float(np.median(seconds))
        row["ratio (now / before)"] = row["now: cpu s"] / row["before: 200 per label, cpu s"]
        rows.append(row)
        print(row, flush=True)
    return rows


def bench_reuse(embedder) -> dict:
    """Texts the model encodes during a GridSearchCV (3 folds x 4 candidates + refit) vs the distinct texts."""
    pool, labels = load_split("snips", "train")
    pool, labels = pool[:2000], labels[:2000]
    clear_embedding_cache()
    before = encoder_stats()
    clf = ZeroShotClassifier(label_spec("snips"), judge=GoldJudge(pool, labels), random_state=0)
    search = GridSearchCV(clf, {"judge_budget": [10, 20], "refinement": ["joint", "kl"]}, cv=3)
    search.fit(pool, labels)
    encoded = encoder_stats().texts - before.texts
    return {
        "fits": 3 * 4 + 1,
        "distinct texts (pool + descriptions)": len(set(pool)) + len(label_spec("snips")),
        "texts encoded": encoded,
        "encoder calls": encoder_stats().calls - before.calls,
    }


PARTS = (
    "refinement",
    "predict",
    "predict_multi_label",
    "predict_multi_intent",
    "fit",
    "scaling",
    "reuse",
    "pseudo_labels",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--name", default="speed", help="results file name")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    results: dict = {"repeats": args.repeats}
    if "refinement" in args.parts:
        torch.set_num_threads(1)  # the reference loop is latency-bound; one thread is its fastest setting here
        results["refinement"] = bench_refinement(embedder, args.repeats)
        torch.set_num_threads(torch.get_num_interop_threads())
    if "predict" in args.parts:
        results["predict"] = bench_predict(embedder, max(3, args.repeats // 2))
    if "predict_multi_label" in args.parts:
        results["predict_multi_label"] = bench_predict(embedder, max(3, args.repeats // 2), multi_label=True)
    if "predict_multi_intent" in args.parts:
        results["predict_multi_intent"] = bench_predict(embedder, max(3, args.repeats // 2), multi_intent=True)
    if "fit" in args.parts:
        results["fit"] = bench_fit(embedder, 3)
    if "scaling" in args.parts:
        results["scaling"] = bench_scaling(embedder)
    if "reuse" in args.parts:
        results["reuse"] = bench_reuse(embedder)
    if "pseudo_labels" in args.parts:
        results["pseudo_labels"] = bench_pseudo_labels(embedder, args.repeats)
    titles = {
        "refinement": "Refinement of all CLINC150 labels (KL, top-20, lr 1e-4, 100 steps)",
        "predict": "predict vs raw encode, same 5,000 texts",
        "predict_multi_label": "MultiLabelZeroShotClassifier.predict vs raw encode, same 5,000 texts",
        "predict_multi_intent": "The same on 5,000 MixSNIPS multi-intent messages (each cut into clauses)",
        "fit": "fit (CLINC150 pool, GoldJudge, budget 20) vs pool embedding",
        "scaling": "fit minus embedding and judging, against pool size and labels (budget 20)",
        "reuse": "Embedding re-use in a GridSearchCV (SNIPS, 2,000 texts)",
        "pseudo_labels": "One self-training fit (medians of --repeats): pseudo-labels capped at 200 per label vs now",
    }
    for part, title in titles.items():
        if part in results:
            rows = results[part] if isinstance(results[part], list) else [results[part]]
            print(f"\n## {title}\n\n{table(rows)}")
    path = write_results(args.name, results)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
