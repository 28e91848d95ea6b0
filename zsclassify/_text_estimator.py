"""What the two estimators share: texts in, an embedded pool, a judge checked at fit, linear scores out.

:class:`~zsclassify.ZeroShotClassifier` (one label per text) and
:class:`~zsclassify.MultiLabelZeroShotClassifier` (any number) differ in what they ask the judge and how
they turn scores into labels; how they embed, check their numbers and get pickled is the same, and lives here.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._judge_quality import JudgeQuality
from ._judging import JudgingResult
from ._usage import JudgeUsage
from ._validation import check_texts
from .embedding import center_and_normalize, encode_with_progress, normalize_rows, resolve_embedder
from .exceptions import WeakJudgeError
from .judges import Judge

__all__ = ["ON_WEAK_JUDGE", "TextEstimatorMixin"]

ON_WEAK_JUDGE = ("warn", "raise")


class TextEstimatorMixin:
    """Pool embedding, parameter checks, ``transform`` and pickling for the zero-shot estimators.

    The estimator sets ``center_`` (None for raw cosines) and ``coef_`` at fit, and has the parameters
    ``judge``, ``embedder``, ``query_prompt``, ``document_prompt``, ``max_pool_size``, ``show_progress``
    and ``on_weak_judge``.
    """

    judge: Judge | None
    on_weak_judge: str
    embedder: object
    query_prompt: str | None
    document_prompt: str | None
    max_pool_size: int | None
    show_progress: bool | None
    embedder_: Any
    center_: np.ndarray | None
    coef_: np.ndarray
    initial_label_embeddings_: np.ndarray

    def __getstate__(self) -> dict:
        """The state pickled: a fitted classifier leaves its judge out (prediction never needs it)."""
        state = dict(super().__getstate__())  # type: ignore[call-overload]  # a copy: the estimator keeps its judge
        if "coef_" in state:
            state["judge"] = None
        return state

    def _embed_labels(self, names: Sequence[str], descriptions: Sequence[str]) -> np.ndarray:
        """Set ``classes_``, ``descriptions_``, ``embedder_`` and ``initial_label_embeddings_``; return the latter."""
        self.classes_ = np.array(names, dtype=object)
        self.descriptions_ = list(descriptions)
        self.embedder_ = resolve_embedder(self.embedder, self.query_prompt, self.document_prompt)
        queries = normalize_rows(np.asarray(self.embedder_.encode_query(descriptions), dtype=np.float64))
        self.initial_label_embeddings_ = queries
        return queries

    def _center(self, documents: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Set ``center_`` to the pool's mean and return pool and labels in the pool-centred space."""
        self.center_ = documents.mean(axis=0)
        return center_and_normalize(documents, self.center_), center_and_normalize(queries, self.center_)

    def _embed_pool(self, texts: Sequence[str], rng: np.random.RandomState) -> tuple[list[str], np.ndarray]:
        """The distinct texts (at most ``max_pool_size``, drawn with ``rng``) and their document embeddings."""
        pool = list(dict.fromkeys(texts))  # judge each distinct utterance at most once per label
        if self.max_pool_size is not None and len(pool) > self.max_pool_size:
            pool = [pool[i] for i in np.sort(rng.choice(len(pool), self.max_pool_size, replace=False))]
        documents = encode_with_progress(
            self.embedder_.encode_document, pool, desc="embedding the pool", show_progress=self.show_progress
        )
        return pool, documents

    def _keep_answers(self, judged: JudgingResult, usage_before: JudgeUsage | None) -> None:
        """Set the fitted attributes every judged fit has: the answers, the counts and (LLM judges) the usage."""
        if usage_before is not None:
            self.judge_usage_ = cast(Any, self.judge).usage - usage_before  # judges with usage: the LLM ones
        self.judgments_ = judged.judgments
        self.choices_ = judged.choices
        self.n_judge_requests_ = judged.n_requests
        self.n_judged_pairs_ = judged.n_judged_pairs
        self.n_failed_pairs_ = judged.n_failed_pairs

    def _check_on_weak_judge(self) -> None:
        if self.on_weak_judge not in ON_WEAK_JUDGE:
            raise ValueError(f"on_weak_judge must be one of {ON_WEAK_JUDGE}; got {self.on_weak_judge!r}.")

    def _check_judge_quality(self, quality: JudgeQuality) -> None:
        """Warn once, or raise (``on_weak_judge="raise"``), when the judge left the fit at zero-shot."""
        if quality.judge_weight > 0.0:
            return
        message = (
            f"The judge's own answers rate it too weak to trust: judge weight {quality.judge_weight:g} "
            f"(0 = zero-shot, 1 = as refined), because {quality.reason}. "
            "See clf.judge_quality_; a stronger judge model, or a clearer prompt or label descriptions, may help."
        )
        if self.on_weak_judge == "raise":
            raise WeakJudgeError(message, quality=quality, usage=getattr(self.judge, "usage", None))
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _check_numbers(self, integers: Sequence[tuple[str, int]], positives: Sequence[str]) -> None:
        """Raise for a parameter of ``integers`` that is not an integer at least its minimum (``max_pool_size``
        too, unless None), or of ``positives`` that is not a positive finite number; and for a judge that is
        not a :class:`~zsclassify.judges.Judge`."""
        limits = list(integers) + ([("max_pool_size", 1)] if self.max_pool_size is not None else [])
        for name, minimum in limits:
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
        for name in positives:
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not np.isfinite(float(value)) or value <= 0:
                raise ValueError(f"{name} must be a positive number; got {value!r}.")
        if self.judge is not None and not isinstance(self.judge, Judge):
            raise TypeError(
                f"judge must be a zsclassify.judges.Judge (e.g. CallableJudge(fn)); got {type(self.judge).__name__}."
            )

    def transform(self, X: Sequence[str]) -> np.ndarray:
        """Embed texts into the space the classifier scores in.

        Unit-length rows; with a judge (single-label: ``refinement="joint"``), the pool-centred space
        (see ``center_``). :meth:`decision_function` is ``transform(X) @ coef_.T + intercept_``.

        Parameters
        ----------
        X : list, array or pandas Series of str

        Returns
        -------
        ndarray of shape (n_samples, dim)
        """
        check_is_fitted(self, "coef_")
        return self._embed_documents(check_texts(X, "X", allow_empty=True))

    def _embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Checked texts as documents in the space the classifier scores in (``center_`` applied)."""
        if not texts:
            return np.zeros((0, self.initial_label_embeddings_.shape[1]))
        embeddings = np.asarray(self.embedder_.encode_document(texts), dtype=np.float64)
        return embeddings if self.center_ is None else center_and_normalize(embeddings, self.center_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags
