"""zsclassify: zero-shot text classification refined by LLM judgments.

The estimator and its errors are here; judges are in :mod:`zsclassify.judges`,
embedders in :mod:`zsclassify.embedding`, demo data in :mod:`zsclassify.datasets`,
tables and figures in :mod:`zsclassify.reporting` and :mod:`zsclassify.plotting`,
streamed and distributed prediction in :mod:`zsclassify.batch_prediction`.
Modules whose names start with ``_`` are implementation details.
"""

from ._estimator import ZeroShotClassifier
from ._judging import Choice, Judgment
from .exceptions import BudgetExceededError, InvalidJudgeResponseError, JudgeError, ZSClassifyError

__all__ = [
    "BudgetExceededError",
    "Choice",
    "InvalidJudgeResponseError",
    "JudgeError",
    "Judgment",
    "ZSClassifyError",
    "ZeroShotClassifier",
    "__version__",
]
__version__ = "0.1.0"
