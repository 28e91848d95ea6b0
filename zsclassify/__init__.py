"""zsclassify: zero-shot text classification refined by LLM judgments.

The estimator and its errors are here; judges are in :mod:`zsclassify.judges`,
embedders in :mod:`zsclassify.embedding`, demo data in :mod:`zsclassify.datasets`,
tables and figures in :mod:`zsclassify.reporting` and :mod:`zsclassify.plotting`,
streamed and distributed prediction in :mod:`zsclassify.batch_prediction`, saving and
loading (with a format that runs no code) in :mod:`zsclassify.persistence`.
Modules whose names start with ``_`` are implementation details.
"""

from importlib.metadata import PackageNotFoundError, version

from ._estimator import ZeroShotClassifier
from ._judge_quality import CandidateCheck, JudgeQuality
from ._judging import Choice, Judgment, OrderProbe
from ._multilabel import MultiLabelZeroShotClassifier
from .exceptions import (
    BudgetExceededError,
    CacheError,
    InvalidJudgeResponseError,
    JudgeError,
    JudgeSetupError,
    ModelFileError,
    UnsafeModelFileError,
    WeakJudgeError,
    ZSClassifyError,
)
from .persistence import load_model, save_model

__all__ = [
    "BudgetExceededError",
    "CacheError",
    "CandidateCheck",
    "Choice",
    "InvalidJudgeResponseError",
    "JudgeError",
    "JudgeQuality",
    "JudgeSetupError",
    "Judgment",
    "ModelFileError",
    "MultiLabelZeroShotClassifier",
    "OrderProbe",
    "UnsafeModelFileError",
    "WeakJudgeError",
    "ZSClassifyError",
    "ZeroShotClassifier",
    "__version__",
    "load_model",
    "save_model",
]
try:
    __version__ = version("zsclassify")  # one place: the package metadata (pyproject.toml)
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
