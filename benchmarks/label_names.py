"""Zero-shot accuracy with bare label names: the old rule (``_`` as a space) vs the words of the name.

    PYTHONPATH=. python benchmarks/label_names.py

Both rules run in one process on the same embeddings (the default embedder, test splits of
SNIPS and Banking77; CLINC150 has descriptions and is not affected). Results go to
``benchmarks/results/label_names.json``.
"""

from __future__ import annotations

import torch
from _common import label_spec, load_split, table, write_results

from zsclassify import ZeroShotClassifier

torch.set_num_threads(1)

RULES = {
    "underscore as space (before)": lambda name: name.replace("_", " "),
    "words of the name (now)": None,  # the default: zsclassify._validation.words_of_label_name
}


def main() -> None:
    rows = []
    for dataset in ("snips", "banking77"):
        names = label_spec(dataset)
        texts, labels = load_split(dataset, "test")
        for rule, describe in RULES.items():
            spec = names if describe is None else {name: describe(name) for name in names}
            accuracy = ZeroShotClassifier(spec, show_progress=False).fit(texts).score(texts, labels)
            rows.append({"dataset": dataset, "descriptions": rule, "zero-shot accuracy": accuracy})
            print(rows[-1], flush=True)
    print(table(rows))
    print(write_results("label_names", {"rows": rows}))


if __name__ == "__main__":
    main()
