"""How many candidates per question, and which utterances to ask about, for choice judging.

GoldJudge, judge_budget=20, default embedder; pool = train texts, test split. Each row is
one fit of ``ZeroShotClassifier(judging="choice", n_candidates=k, sampling=s)``; the
"hit rate" is the share of questions whose right label was among the candidates.
Usage: python benchmarks/choice_study.py [--datasets banking77] [--candidates 3 5 8 12] [--samplings margin cluster]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier
from zsclassify.judges import GoldJudge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["banking77"])
    parser.add_argument("--candidates", type=int, nargs="+", default=[3, 5, 8, 12])
    parser.add_argument("--samplings", nargs="+", default=["margin", "cluster"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for dataset in args.datasets:
        pool, pool_labels = load_split(dataset, "train")
        test, test_labels = load_split(dataset, "test")
        gold = dict(zip(pool, pool_labels))
        for sampling in args.samplings:
            for k in args.candidates:
                clf = ZeroShotClassifier(label_spec(dataset), judge=GoldJudge(pool, pool_labels), n_candidates=k,
                                         sampling=sampling, random_state=args.seed).fit(pool)  # fmt: skip
                hits = np.mean([gold[c.text] in c.options for c in clf.choices_])
                rows.append({"dataset": dataset, "sampling": sampling, "candidates": k,
                             "accuracy": clf.score(test, test_labels), "hit rate": float(hits),
                             "placed utterances": sum(c.answer is not None for c in clf.choices_)})  # fmt: skip
                print(rows[-1], flush=True)
                write_results("choice_study", {"seed": args.seed, "rows": rows})
    print(table(rows))


if __name__ == "__main__":
    main()
