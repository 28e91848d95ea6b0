"""Model file sizes: ``.skops`` (safe loading) against joblib, for the demo model and a CLINC150 model.

Each model is saved with :func:`zsclassify.save_model` in both formats, and with
``skops.io.dump`` as it was before ``save_model`` deflated the file (for reference); load
times are medians of 5 loads. Target (issue 26): ``.skops`` <= 1.5x the joblib file.

Usage: python benchmarks/model_size.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import skops.io
from _common import label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier, load_model, save_model
from zsclassify._demo import choose_demo_judge
from zsclassify.datasets import load_demo
from zsclassify.judges import GoldJudge


def fitted_models() -> dict[str, ZeroShotClassifier]:
    demo = load_demo()
    demo_judge = choose_demo_judge(demo)
    pool, gold = load_split("clinc150", "train")
    return {
        f"demo ({demo_judge.judge!r})": ZeroShotClassifier(
            demo.labels, judge=demo_judge.judge, judge_budget=demo_judge.judge_budget, random_state=0
        ).fit(demo.pool_texts),
        "clinc150 (GoldJudge, budget 20)": ZeroShotClassifier(
            label_spec("clinc150"), judge=GoldJudge(pool, gold), random_state=0
        ).fit(pool),
    }


def median_load_seconds(path: Path) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        load_model(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    rows = []
    folder = Path(tempfile.mkdtemp())
    for name, clf in fitted_models().items():
        joblib_file = save_model(clf, folder / "m.joblib")
        skops_file = save_model(clf, folder / "m.skops")
        skops.io.dump(clf, folder / "stored.skops")  # no compression: the file before this change
        rows.append(
            {
                "model": name,
                "judged units": clf.n_judged_pairs_,
                "joblib MB": joblib_file.stat().st_size / 1e6,
                "skops MB": skops_file.stat().st_size / 1e6,
                "skops / joblib": skops_file.stat().st_size / joblib_file.stat().st_size,
                "skops stored MB (before)": (folder / "stored.skops").stat().st_size / 1e6,
                "joblib load s": median_load_seconds(joblib_file),
                "skops load s": median_load_seconds(skops_file),
            }
        )
    print(table(rows))
    print(f"written to {write_results('model_size', {'rows': rows})}")


if __name__ == "__main__":
    main()
