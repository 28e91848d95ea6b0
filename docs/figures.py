"""The figure of the method page, drawn at build time (no binary file in the repository)."""

from __future__ import annotations

from pathlib import Path


def method_figure(path: Path) -> None:
    """Draw the method as boxes and arrows: labels and pool are embedded, a judge answers, labels are refined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boxes = {
        "labels": (0.02, 0.62, "label descriptions\n(queries)"),
        "pool": (0.02, 0.18, "unlabeled pool\n(documents)"),
        "embed": (0.27, 0.40, "sentence-transformers\nembedder"),
        "sample": (0.51, 0.62, "choose what to judge\n(near the boundaries)"),
        "judge": (0.76, 0.62, "LLM judge\n(Claude, OpenAI-compatible,\nyour function)"),
        "refine": (0.51, 0.18, "refine the labels\n(joint logistic fit,\ncalibration)"),
        "model": (0.76, 0.18, "scikit-learn estimator\npredict / predict_proba"),
    }
    arrows = [("labels", "embed"), ("pool", "embed"), ("embed", "sample"), ("sample", "judge"),
              ("judge", "refine"), ("refine", "sample"), ("refine", "model")]  # fmt: skip
    figure, axes = plt.subplots(figsize=(10, 3.6))
    axes.set_axis_off()
    width, height = 0.21, 0.22
    for x, y, text in boxes.values():
        axes.add_patch(plt.Rectangle((x, y), width, height, fill=True, facecolor="#eef3fb", edgecolor="#3465a4"))
        axes.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=8.5)
    for start, end in arrows:
        (x0, y0, _), (x1, y1, _) = boxes[start], boxes[end]
        axes.annotate("", xy=(x1 + width / 2, y1 + height / 2), xytext=(x0 + width / 2, y0 + height / 2),
                      arrowprops={"arrowstyle": "->", "color": "#555", "shrinkA": 38, "shrinkB": 38})  # fmt: skip
    axes.text(0.62, 0.50, "rounds", fontsize=8, color="#555")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
