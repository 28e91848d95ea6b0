"""zsclassify: zero-shot text classification refined by LLM judgments."""

from .estimator import ZeroShotClassifier

__all__ = ["ZeroShotClassifier", "__version__"]
__version__ = "0.1.0"
