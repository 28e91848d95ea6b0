"""The multi-label estimator: any number of labels per text, each label decided on its own.

A multi-intent chatbot message ("play some jazz and set an alarm for 7") or a tagged
support ticket has several labels, or none. The method is per-label at heart: each label
description is a query that ranks the pool, the judge answers yes/no about (label,
utterance) pairs, each label's direction is refined from its own answers, and a logistic
curve per label, fitted to held-out answers, turns its score into a probability with its
own threshold. ``fit`` reads as the method: validate, embed, judge in rounds
(:func:`zsclassify._judging.run_multilabel_judging`), calibrate each label
(:mod:`zsclassify._calibration`), set the fitted attributes.

It is a class of its own rather than a parameter of :class:`~zsclassify.ZeroShotClassifier`
because almost everything a user sees differs: ``predict`` returns an indicator matrix,
``predict_proba`` independent per-label probabilities that need not sum to one, a text may
get no label at all (so no out-of-scope label is needed), and the parameters that make sense
differ (no multiple choice among labels, no softmax blend, a per-label threshold).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score
from sklearn.utils.validation import check_is_fitted, check_random_state

from ._calibration import choose_label_regularisation, cross_fitted_label_logits, fit_label_sigmoids
from ._judge_quality import assess_judge, bounded_rates, decide_multilabel
from ._judging import Choice, Judgment, noise_rates, run_multilabel_judging
from ._progress import stage
from ._refinement import PiecedTexts, fit_label_logistic
from ._text_estimator import TextEstimatorMixin
from ._validation import check_labels, check_texts
from .embedding import normalize_rows
from .judges import Judge
from .segmenting import Segmenter, is_one_clause, max_by_owner, resolve_segmenter, split_texts

__all__ = ["MultiLabelZeroShotClassifier", "binarize_labels"]

REFINEMENTS = ("logistic", "kl", "none")
JUDGINGS = ("auto", "choice", "yes_no")
ROUNDS_C = 100.0
"""``C`` of the regressions between rounds of judging when ``C="auto"`` (chosen once, at the end)."""


class MultiLabelZeroShotClassifier(TextEstimatorMixin, ClassifierMixin, TransformerMixin, BaseEstimator):
    """Zero-shot multi-label classifier: each label's embedding and threshold refined by a judge.

    Label descriptions are embedded as queries and the unlabeled pool (``X`` in :meth:`fit`)
    as documents. A judge answers yes/no about (label, utterance) pairs chosen near each
    label's decision boundary; each label's direction moves toward the utterances the judge
    accepted for it, and a logistic curve per label, fitted to answers its own direction did
    not see, gives its probability and threshold. Predictions need only the embedder.

    Parameters
    ----------
    labels : dict of str to str, or list of str
        Label names mapped to descriptions, or names alone (their words are the description),
        as for :class:`~zsclassify.ZeroShotClassifier`.
    embedder, query_prompt, document_prompt
        As for :class:`~zsclassify.ZeroShotClassifier` (``None``: all-MiniLM-L6-v2, offline).
    segmenter : "clauses", callable or None
        How a text is cut into the pieces its labels are scored on; a label's score is its best
        piece's. ``"clauses"``: :func:`zsclassify.segmenting.split_clauses` (at punctuation, "and",
        "and then", "but"), so each request of a multi-intent message is scored where it is said.
        A callable maps a text to its pieces (a model saved with one needs it importable to load).
        ``None``: each text is scored whole, as one embedding. The judge always sees whole texts.
        The fit learns and calibrates each label on the pieces this gives, so change it with a refit;
        it takes a piece to carry one request, so a text's accepted labels learn from distinct
        pieces where it has enough (:func:`zsclassify._refinement.assign_yes_pieces`). For tags
        that describe a text as a whole (topics, emotions) rather than requests, pass ``None``.
    judge : Judge, optional
        Answers the questions of ``judging``. ``None`` gives plain zero-shot: without answers
        no threshold can be learned, so :meth:`predict` gives each text its best-scored label
        (pass ``threshold`` to cut on the cosine-based probability). A fitted model is saved
        without its judge.
    judging : {"auto", "choice", "yes_no"}
        ``"choice"``: for each chosen utterance, which of its ``n_candidates`` most probable
        labels apply, any number or none; one answer settles every candidate shown.
        ``"yes_no"``: does this utterance express this label. ``"auto"``: ``"choice"`` when the
        judge answers multi-label questions (:attr:`zsclassify.judges.Judge.supports_multiple_choice`)
        and ``refinement`` is not ``"kl"``, else ``"yes_no"``.
    n_candidates : int
        Labels shown per ``"choice"`` question (at most the number of labels).
    judge_budget : int
        Questions per label, on average, over the whole fit: ``judge_budget * n_labels``
        utterances asked with ``"choice"``, or (label, utterance) pairs with ``"yes_no"``.
    n_rounds : int
        Rounds of judging: the first spreads each label's questions over its best-ranked
        utterances, later ones ask where the label's current probability is nearest 0.5.
        Ignored by ``refinement="kl"``, which judges each label's top utterances once.
    refinement : {"logistic", "kl", "none"}
        How a label learns from its answers. ``"logistic"``: a logistic regression per label
        on its answers, anchored on the descriptions
        (:func:`zsclassify._refinement.fit_label_logistic`). ``"kl"``: the paper's per-label
        KL update of the label embedding. ``"none"``: the descriptions stay; only the
        thresholds are learned.
    learning_rate, n_steps : float, int
        Adam settings of ``refinement="kl"``.
    C : float or "auto"
        Inverse regularisation of ``refinement="logistic"``'s regressions (the prior pulling each
        label toward its description). ``"auto"``: chosen among 1, 10 and 100 by cross-validation
        on the judge's answers (``C_``); the rounds of judging use 10.
    logit_scale : float
        Inverse temperature of the zero-shot probabilities (no judge), and the prior mean of
        each label's slope on cosines (``"kl"``, ``"none"``).
    threshold : "auto" or float
        Probability at or above which :meth:`predict` gives a label. ``"auto"``: 0.5 on the
        calibrated probabilities (with a judge), each text's best label alone (without one).
        Read at predict time (changing it needs no refit).
    check_judge : bool
        Measure the judge before trusting it: after the first round of judging, about 10% of
        the budget asks random pool texts of one clause (which carry one request) about their 3
        best-scored labels and one from the bottom half, in the form of ``judging`` (at least 10
        texts; none when that would take over a quarter of the budget); a judge that accepts two
        of them, or the far one, has made a mistake. From these answers the
        fit estimates the judge's false-yes and false-no rates, reads every answer through them
        when it learns the thresholds, and falls back to zero-shot for a judge it finds useless
        (``judge_quality_``). ``False`` for tag sets whose labels overlap within one clause
        (the check would count right answers as mistakes): the answers are then taken as true.
        No check either with ``n_rounds=1`` or ``refinement="kl"`` (one round of judging).
    on_weak_judge : {"warn", "raise"}
        What a fit does when the judge is found too weak to trust (``judge_weight`` 0: the
        model is zero-shot), as for
        :class:`~zsclassify.ZeroShotClassifier`: warn once with the numbers, or raise
        :class:`~zsclassify.WeakJudgeError`.
    max_pool_size : int or None
        Most distinct utterances of ``X`` embedded and judged; a larger pool is sub-sampled
        (seeded by ``random_state``).
    show_progress : bool, optional
        Progress bars for embedding the pool and judging (``None``: when stderr is a terminal).
    random_state : int, RandomState or None
        Seed of the sub-sampling and of the calibration folds.

    Attributes
    ----------
    classes_ : ndarray of str
        Label names, in the order given; the columns of :meth:`predict`.
    descriptions_ : list of str
    initial_label_embeddings_ : ndarray of shape (n_labels, dim)
        Description embeddings, unit length.
    label_embeddings_ : ndarray of shape (n_labels, dim)
        Refined label directions, unit length (in the pool-centred space with a judge).
    center_ : ndarray of shape (dim,) or None
        The pool's mean embedding, subtracted before scoring (with a judge).
    coef_, intercept_ : ndarray
        Per-label logits: ``decision_function(X) = transform(X) @ coef_.T + intercept_`` with
        ``segmenter=None``; otherwise the same on each piece of a text, the best piece per label.
    C_ : float
        The ``C`` of the final regressions (``C="auto"`` resolved; ``refinement="logistic"`` only).
    thresholds_ : ndarray of shape (n_labels,) or None
        Each label's cosine (to ``label_embeddings_``) at which its probability is 0.5;
        None without a judge.
    judging_ : str
        The question asked, ``"choice"`` or ``"yes_no"`` (``"auto"`` resolved).
    judgments_ : list of Judgment
        Every judged pair, in the order asked; a ``"choice"`` question gives one per candidate.
    choices_ : list of Choice
        Every ``"choice"`` question: utterance, candidates, probabilities, the names that apply.
    n_judge_requests_, n_judged_pairs_, n_failed_pairs_ : int
        Requests sent, pairs judged, pairs the judge could not answer.
    label_stats_ : dict of str to ndarray
        Per label: ``judged`` and ``accepted`` pairs, and the average precision of the
        zero-shot and of the (held-out) refined scores in ranking the judge's answers
        (``ap_zero_shot``, ``ap_refined``; NaN where the answers were all alike).
        :func:`zsclassify.reporting.report_labels` shows them as a table.
    judge_quality_ : JudgeQuality or None
        The judge's estimated error rates with their 90% intervals, how many answers they rest
        on, and the decision taken from them (:func:`zsclassify._judge_quality.decide_multilabel`):
        ``judge_weight`` 1 follows the judge; 0 leaves the model at zero-shot (each text's best
        label), for a judge that gave one answer to every question, whose answers the texts do
        not predict (``held_out_auc``, the held-out refinement's ROC AUC against them, under
        0.6: coin flips), or that the check finds accepting far labels at least as readily as
        right ones (``1 - false_no - far_false_yes`` below 0). ``"not measured"``
        (weight 1, answers taken as true) when ``check_judge`` is False, the budget too small or
        too few texts have one clause. None without a judge.
    embedder_ : Embedder
    judge_usage_ : JudgeUsage
        Requests, tokens and cost of this fit (LLM judges only).
    """

    def __init__(
        self,
        labels: Mapping[str, str | None] | Sequence[str],
        *,
        embedder: object = None,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        segmenter: str | Segmenter | None = "clauses",
        judge: Judge | None = None,
        judging: str = "auto",
        n_candidates: int = 8,
        judge_budget: int = 20,
        n_rounds: int = 4,
        refinement: str = "logistic",
        learning_rate: float = 1e-4,
        n_steps: int = 100,
        C: float | str = "auto",
        logit_scale: float = 20.0,
        threshold: float | str = "auto",
        check_judge: bool = True,
        on_weak_judge: str = "warn",
        max_pool_size: int | None = 200_000,
        show_progress: bool | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.labels = labels
        self.embedder = embedder
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.segmenter = segmenter
        self.judge = judge
        self.judging = judging
        self.n_candidates = n_candidates
        self.judge_budget = judge_budget
        self.n_rounds = n_rounds
        self.refinement = refinement
        self.learning_rate = learning_rate
        self.n_steps = n_steps
        self.C = C
        self.logit_scale = logit_scale
        self.threshold = threshold
        self.check_judge = check_judge
        self.on_weak_judge = on_weak_judge
        self.max_pool_size = max_pool_size
        self.show_progress = show_progress
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: Sequence[str], y: object = None) -> MultiLabelZeroShotClassifier:
        """Embed labels and the pool ``X``, judge chosen pairs, refine each label and learn its threshold.

        Parameters
        ----------
        X : list, array or pandas Series of str
            Unlabeled utterances (the pool the judged pairs are drawn from).
        y : ignored
            Accepted for Pipeline / GridSearchCV and never used to fit. If given, it must
            be multi-label targets over ``labels`` (see :func:`binarize_labels`).

        Returns
        -------
        self
        """
        self._check_params()
        names, descriptions = check_labels(self.labels)
        texts = check_texts(X, "X")
        if y is not None:
            targets = binarize_labels(y, names)
            if len(targets) != len(texts):
                raise ValueError(f"y has {len(targets)} rows but X has {len(texts)}.")
        rng = check_random_state(self.random_state)
        queries = self._embed_labels(names, descriptions)
        self.center_ = None
        self.thresholds_ = None
        self.judge_quality_ = None
        self.judging_ = self._resolve_judging()
        self.judgments_: list[Judgment] = []
        self.choices_: list[Choice] = []
        self.n_judge_requests_ = self.n_judged_pairs_ = self.n_failed_pairs_ = 0
        unjudged = np.zeros((0, len(names)), dtype=bool)
        self.label_stats_ = _label_stats(np.zeros(unjudged.shape), np.zeros(unjudged.shape), unjudged, unjudged)
        if self.judge is None or self.judge_budget == 0:
            self._set_zero_shot(queries)
            return self

        pool, documents = self._embed_pool(texts, rng)
        described = queries  # the descriptions' embeddings before centring: the zero-shot model's
        documents, queries = self._center(documents, queries)
        generator = np.random.default_rng(rng.randint(2**32 - 1))
        usage_before = getattr(self.judge, "usage", None)
        judged = run_multilabel_judging(
            self.judge,
            names,
            descriptions,
            pool,
            documents,
            queries,
            generator,
            judge_budget=self.judge_budget,
            n_rounds=self.n_rounds,
            refinement=self.refinement,
            judging=self.judging_,
            n_candidates=min(self.n_candidates, len(names)),
            C=ROUNDS_C if self.C == "auto" else float(self.C),
            learning_rate=self.learning_rate,
            n_steps=self.n_steps,
            logit_scale=self.logit_scale,
            check_rows=self._check_rows(pool),
            show_progress=self.show_progress,
        )
        self._keep_answers(judged, usage_before)
        said_yes, said_no = judged.said_yes, judged.said_no
        judged_rows = np.flatnonzero((said_yes | said_no).any(axis=1))
        with stage("final fit: per-label thresholds", self.show_progress):
            # learned and calibrated as predict scores: each text's best piece (with a segmenter), or the whole text
            pieces = self._cut_judged([pool[i] for i in judged_rows], judged_rows) if self.segmenter else None
            zero_shot = documents @ queries.T
            if pieces is not None:
                zero_shot[judged_rows] = pieces.score(judged_rows, queries, np.zeros(len(names)))
            # calibration: each label's curve from scores its own answers did not shape
            if self.refinement == "logistic":
                seed = int(generator.integers(2**32))
                fold_data = (queries, documents, said_yes, said_no, seed)
                if self.C == "auto":
                    self.C_, held_out = choose_label_regularisation(*fold_data, pieces=pieces)
                else:
                    self.C_ = float(self.C)
                    held_out = cross_fitted_label_logits(*fold_data, C=self.C_, pieces=pieces)
                fit = fit_label_logistic if pieces is None else pieces.fit_label_logistic
                coef, intercept = fit(queries, documents, said_yes, said_no, C=self.C_)
                prior = {"slope_prior": (1.0, 1.0), "intercept_prior": (0.0, 5.0)}
            else:  # "none" learns no direction from the answers; "kl" judged once (its scores are in-sample)
                coef, intercept = judged.coef, judged.intercept
                held_out = documents @ coef.T
                if pieces is not None:
                    held_out[judged_rows] = pieces.score(judged_rows, coef, np.zeros(len(names)))
                prior = {"slope_prior": (self.logit_scale, self.logit_scale)}
            # measured answers are read through the judge's error rates; unmeasured ones are taken as true
            false_yes, false_no = (0.0, 0.0) if judged.answer_model is None else noise_rates(judged.answer_model)
            false_yes, false_no = bounded_rates(false_yes, false_no)
            self.judge_quality_ = decide_multilabel(
                assess_judge(
                    judged.answer_model,
                    probe=None,
                    checks=judged.checks,
                    budget=self.judge_budget * len(names),
                    noise_rates=(false_yes, false_no),
                    check_units=len(judged.checks) if self.judging_ == "choice" else None,
                    far_false_yes=judged.far_false_yes,
                ),
                n_yes=int(said_yes.sum()),
                n_no=int(said_no.sum()),
                held_out_auc=_answers_auc(held_out, said_yes, said_no),
            )
            self._check_judge_quality(self.judge_quality_)
            if self.judge_quality_.judge_weight == 0.0:  # the judge earned nothing: the zero-shot model
                self.label_stats_ = _label_stats(zero_shot, zero_shot, said_yes, said_no)
                self._set_zero_shot(described)
                return self
            slopes, intercepts = fit_label_sigmoids(
                held_out, said_yes, said_no, **prior, false_yes=false_yes, false_no=false_no
            )
        self.coef_ = slopes[:, None] * coef
        self.intercept_ = slopes * intercept + intercepts
        self.label_embeddings_ = normalize_rows(self.coef_)
        self.thresholds_ = -self.intercept_ / np.linalg.norm(self.coef_, axis=1)
        self.label_stats_ = _label_stats(zero_shot, held_out, said_yes, said_no)
        return self

    def _set_zero_shot(self, described: np.ndarray) -> None:
        """The zero-shot model: cosines to the descriptions ``described`` (raw embeddings), each text's best label."""
        self.center_ = None
        self.thresholds_ = None
        self.label_embeddings_ = described
        self.coef_, self.intercept_ = self.logit_scale * described, np.zeros(len(described))

    def _check_rows(self, pool: Sequence[str]) -> np.ndarray | None:
        """Pool rows the judge-quality check may ask: texts of one clause (``None`` when no check runs).

        Such a text is taken to carry one request, so at most one right label: with the built-in
        clause splitting (or none), a text without any clause break (:func:`is_one_clause`); with
        a callable segmenter, a text it leaves in one piece.
        """
        if not self.check_judge or self.refinement == "kl" or self.n_rounds == 1:  # no round after the first
            return None
        if callable(self.segmenter):
            owners, _ = split_texts(pool, self._segmenter())
            return np.flatnonzero(np.bincount(owners, minlength=len(pool)) == 1)
        return np.flatnonzero([is_one_clause(text) for text in pool])

    def _cut_judged(self, texts: list[str], rows: np.ndarray) -> PiecedTexts:
        """The judged texts (pool ``rows``) cut by the segmenter, their pieces embedded as the pool is."""
        owners, pieces = split_texts(texts, self._segmenter())
        return PiecedTexts(rows, owners, self._embed_documents(pieces))

    def _segmenter(self) -> Segmenter:
        return cast(Segmenter, resolve_segmenter(self.segmenter))

    def _resolve_judging(self) -> str:
        """``judging`` with ``"auto"`` resolved (see the parameter)."""
        if self.judging != "auto":
            return self.judging
        multiple = self.judge is not None and self.judge.supports_multiple_choice
        return "choice" if multiple and self.refinement != "kl" else "yes_no"

    def _check_params(self) -> None:
        resolve_segmenter(self.segmenter)
        self._check_on_weak_judge()
        if not isinstance(self.check_judge, (bool, np.bool_)):
            raise TypeError(f"check_judge must be True or False; got {self.check_judge!r}.")
        if self.refinement not in REFINEMENTS:
            raise ValueError(f"refinement must be one of {REFINEMENTS}; got {self.refinement!r}.")
        if self.judging not in JUDGINGS:
            raise ValueError(f"judging must be one of {JUDGINGS}; got {self.judging!r}.")
        if self.judging == "choice" and self.refinement == "kl":
            raise ValueError("refinement='kl' (the paper's rule) learns from yes/no scores; use judging='yes_no'.")
        integers = [("judge_budget", 0), ("n_rounds", 1), ("n_steps", 0), ("n_candidates", 1)]
        self._check_numbers(integers, ("learning_rate", "logit_scale") + (() if self.C == "auto" else ("C",)))
        threshold = self.threshold
        if threshold != "auto" and not (
            isinstance(threshold, numbers.Real) and not isinstance(threshold, bool) and 0.0 < threshold < 1.0
        ):
            raise ValueError(f"threshold must be 'auto' or a probability in (0, 1); got {threshold!r}.")
        if self.judging == "choice" and self.judge is not None and not self.judge.supports_multiple_choice:
            raise ValueError(
                f"{self.judge!r} cannot answer multi-label questions (which labels apply); use judging='yes_no', "
                "or give it a choose method that handles ChoiceRequest.multiple."
            )

    # -------------------------------------------------------------- predict
    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Per-label logits of shape (n_samples, n_labels); a label applies from logit 0 (``threshold="auto"``).

        With a ``segmenter``, each label's logit is that of the text's best-scored piece.
        """
        if self.segmenter is None:
            return self.transform(X) @ self.coef_.T + self.intercept_
        check_is_fitted(self, "coef_")
        owners, pieces = split_texts(check_texts(X, "X", allow_empty=True), self._segmenter())
        return max_by_owner(self.transform(pieces) @ self.coef_.T, owners) + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Independent per-label probabilities of shape (n_samples, n_labels); rows need not sum to one."""
        return expit(self.decision_function(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """Indicator matrix of shape (n_samples, n_labels) over ``classes_`` (as ``MultiLabelBinarizer`` gives).

        A row of zeros is a text with no label over its threshold.
        """
        return self.decide(self.predict_proba(X))

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """The indicator matrix :meth:`predict` gives for rows of :meth:`predict_proba`."""
        if self.threshold == "auto" and self.thresholds_ is None:  # zero-shot: no threshold was learned
            return (np.arange(proba.shape[1]) == proba.argmax(axis=1)[:, None]).astype(np.int64)
        cut = 0.5 if self.threshold == "auto" else self.threshold
        return (proba >= cut).astype(np.int64)

    def predict_labels(self, X: Sequence[str]) -> list[list[str]]:
        """The label names of each text (the rows of :meth:`predict` as lists; an empty list for none)."""
        return [list(self.classes_[row.astype(bool)]) for row in self.predict(X)]

    def predict_with_confidence(self, X: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text's labels and their probabilities, most probable first, in one pass over the texts.

        The multi-label counterpart of :meth:`ZeroShotClassifier.predict_with_confidence`, used by
        :func:`~zsclassify.batch_prediction.predict_in_chunks`, the CLI and the server.

        Returns
        -------
        labels : ndarray of object, shape (n_samples,)
            A tuple of label names per text (empty for none).
        confidence : ndarray of object, shape (n_samples,)
            A tuple of the same labels' probabilities per text.
        """
        return self.labels_with_confidence(self.predict_proba(X))

    def labels_with_confidence(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_with_confidence` for rows of :meth:`predict_proba`."""
        accepted = self.decide(proba).astype(bool)
        labels = np.empty(len(proba), dtype=object)
        confidence = np.empty(len(proba), dtype=object)
        for row, (mask, probabilities) in enumerate(zip(accepted, proba)):
            order = [k for k in np.argsort(-probabilities, kind="stable") if mask[k]]
            labels[row] = tuple(str(self.classes_[k]) for k in order)
            confidence[row] = tuple(float(probabilities[k]) for k in order)
        return labels, confidence

    def score(self, X: Sequence[str], y: object, sample_weight: np.ndarray | None = None) -> float:
        """Exact-match ratio (subset accuracy), as scikit-learn's multi-label classifiers report.

        ``y`` is an indicator matrix over ``classes_`` or one iterable of label names per text.
        For F1, use ``GridSearchCV(scoring="f1_micro")`` or :func:`sklearn.metrics.f1_score`.
        """
        check_is_fitted(self, "coef_")
        return float(
            accuracy_score(binarize_labels(y, list(self.classes_)), self.predict(X), sample_weight=sample_weight)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.classifier_tags.multi_label = True
        return tags


def binarize_labels(y: Any, names: Sequence[str]) -> np.ndarray:
    """Multi-label targets as an indicator matrix over ``names``.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_labels) of 0/1, or a sequence of iterables of label names
        An indicator matrix (as ``MultiLabelBinarizer`` gives, columns in the order of ``names``),
        or one list, tuple or set of names per text (an empty one for a text with no label).
    names : sequence of str

    Returns
    -------
    ndarray of int, shape (n_samples, n_labels)

    Raises
    ------
    ValueError
        For a shape that cannot be multi-label (one string per text, a matrix with the wrong
        number of columns or values other than 0/1) or unknown label names.
    """
    rows = list(y.tolist() if hasattr(y, "tolist") else y) if not isinstance(y, str) else None
    if rows is None or (rows and isinstance(rows[0], str)):
        raise ValueError(
            "Multi-label y must be an indicator matrix or one list of label names per text; got one string per "
            "text. Wrap each label in a list ([['a'], ['b', 'c'], []]), or use ZeroShotClassifier for one label "
            "per text."
        )
    if rows and all(isinstance(value, numbers.Number) for row in rows for value in _as_row(row)):
        matrix = np.asarray(rows)
        if matrix.ndim != 2 or matrix.shape[1] != len(names) or not np.isin(matrix, (0, 1)).all():
            raise ValueError(
                f"An indicator y must be a 0/1 matrix with one column per label ({len(names)}); "
                f"got shape {matrix.shape}."
            )
        return matrix.astype(np.int64)
    column = {name: index for index, name in enumerate(names)}
    matrix = np.zeros((len(rows), len(names)), dtype=np.int64)
    for index, row in enumerate(rows):
        row = _as_row(row)
        unknown = sorted({str(label) for label in row} - set(column))
        if unknown:
            raise ValueError(f"y row {index} holds labels that are not in labels: {unknown[:10]}.")
        matrix[index, [column[label] for label in row]] = 1
    return matrix


def _as_row(row: object) -> list:
    if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
        raise ValueError(
            f"Each row of a multi-label y must be a list of label names or a 0/1 row; got {row!r}. "
            "Wrap a single label in a list."
        )
    return list(row)


def _label_stats(zero_shot: np.ndarray, refined: np.ndarray, said_yes: np.ndarray, said_no: np.ndarray) -> dict:
    """Per-label counts and average precision of zero-shot and held-out refined scores against the answers."""
    return {
        "judged": (said_yes | said_no).sum(axis=0),
        "accepted": said_yes.sum(axis=0),
        "ap_zero_shot": _per_label(average_precision_score, zero_shot, said_yes, said_no),
        "ap_refined": _per_label(average_precision_score, refined, said_yes, said_no),
    }


def _answers_auc(scores: np.ndarray, said_yes: np.ndarray, said_no: np.ndarray) -> float | None:
    """ROC AUC of ``scores`` against the judge's answers, per label, averaged by answers (None: no label has both)."""
    aucs = _per_label(roc_auc_score, scores, said_yes, said_no)
    defined = ~np.isnan(aucs)
    if not defined.any():
        return None
    return float(np.average(aucs[defined], weights=(said_yes | said_no).sum(axis=0)[defined]))


def _per_label(metric, scores: np.ndarray, said_yes: np.ndarray, said_no: np.ndarray) -> np.ndarray:
    """``metric(answers, scores)`` of each label on its answered pairs; NaN where its answers are all alike."""
    values = np.full(said_yes.shape[1], np.nan)
    for label in range(said_yes.shape[1]):
        answered = said_yes[:, label] | said_no[:, label]
        truth = said_yes[answered, label]
        if truth.any() and not truth.all():
            values[label] = metric(truth, scores[answered, label])
    return values
