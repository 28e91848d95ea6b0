"""scikit-learn's estimator checks that apply to a text classifier, and text versions of the rest.

sklearn's common checks feed numeric 2-D arrays; ``ZeroShotClassifier`` takes one
string per sample, so sklearn itself skips its checks for string-input estimators.
The checks below that need no data are run as they are; those that fit on numeric
arrays are listed in ``NOT_APPLICABLE`` with the reason, and the property each
protects is tested on text in this file where it applies to a zero-shot classifier.
"""

import copy
import pickle

import numpy as np
import pytest
from conftest import TOY_LABELS, HashingEmbedder
from sklearn.base import clone
from sklearn.utils import estimator_checks as checks

from zsclassify import MultiLabelZeroShotClassifier, ZeroShotClassifier
from zsclassify.judges import GoldJudge

APPLICABLE = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_no_attributes_set_in_init",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_estimators_unfitted",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_sparse_tag",
    "check_non_transformer_estimators_n_iter",
    "check_estimators_partial_fit_n_features",
    "check_transformers_unfitted",
    "check_transformer_n_iter",
]

NUMERIC_INPUT = "fits on a numeric 2-D array; the input here is one string per sample"
NOT_APPLICABLE = {
    "check_fit_score_takes_y": NUMERIC_INPUT + " (test_fit_accepts_and_ignores_y)",
    "check_estimators_overwrite_params": NUMERIC_INPUT + " (test_fit_does_not_change_params)",
    "check_dont_overwrite_parameters": NUMERIC_INPUT + " (test_fit_does_not_change_params)",
    "check_estimators_fit_returns_self": NUMERIC_INPUT + " (test_fit_returns_self)",
    "check_readonly_memmap_input": NUMERIC_INPUT,
    "check_n_features_in_after_fitting": "text input has no n_features_in_",
    "check_n_features_in": "text input has no n_features_in_",
    "check_positive_only_tag_during_fit": NUMERIC_INPUT,
    "check_estimators_dtypes": NUMERIC_INPUT,
    "check_complex_data": NUMERIC_INPUT + " (non-strings are rejected: test_bad_texts)",
    "check_dtype_object": NUMERIC_INPUT,
    "check_estimators_empty_data_messages": NUMERIC_INPUT + " (empty pool: test_bad_texts)",
    "check_pipeline_consistency": NUMERIC_INPUT + " (test_pipeline_and_grid_search)",
    "check_estimators_nan_inf": NUMERIC_INPUT + " (None/NaN texts: test_bad_texts)",
    "check_estimator_sparse_array": "text input cannot be sparse",
    "check_estimator_sparse_matrix": "text input cannot be sparse",
    "check_estimators_pickle": NUMERIC_INPUT + " (test_pickle_round_trip_without_refit)",
    "check_f_contiguous_array_estimator": NUMERIC_INPUT,
    "check_classifier_data_not_an_array": NUMERIC_INPUT,
    "check_classifiers_one_label": "labels come from the constructor, not from y; one label is rejected",
    "check_classifiers_one_label_sample_weights": "no sample_weight: y is never used to fit",
    "check_classifiers_classes": "classes_ are the constructor's labels, not learned from y",
    "check_classifiers_train": "a zero-shot classifier does not learn from (X, y)",
    "check_classifiers_regression_target": "y is never used to fit; unknown y labels are rejected",
    "check_supervised_y_no_nan": "y is never used to fit",
    "check_supervised_y_2d": "y is never used to fit",
    "check_decision_proba_consistency": NUMERIC_INPUT + " (test_decision_and_proba_agree)",
    "check_methods_sample_order_invariance": NUMERIC_INPUT + " (test_methods_are_row_wise)",
    "check_methods_subset_invariance": NUMERIC_INPUT + " (test_methods_are_row_wise)",
    "check_fit2d_1sample": NUMERIC_INPUT,
    "check_fit2d_1feature": NUMERIC_INPUT,
    "check_fit1d": NUMERIC_INPUT,
    "check_fit2d_predict1d": NUMERIC_INPUT,
    "check_dict_unchanged": NUMERIC_INPUT + " (test_predict_does_not_change_state)",
    "check_fit_idempotent": NUMERIC_INPUT + " (test_fit_is_idempotent)",
    "check_fit_check_is_fitted": NUMERIC_INPUT + " (test_not_fitted_error)",
    "check_requires_y_none": "y is optional and never used",
    "check_array_api_input": "text input has no array API form",
    "check_transformer_general": NUMERIC_INPUT + " (test_methods_are_row_wise)",
    "check_transformer_preserve_dtypes": NUMERIC_INPUT + " (embeddings are float64 whatever the input)",
    "check_transformer_data_not_an_array": NUMERIC_INPUT,
}


MULTI_LABEL_NOT_APPLICABLE = {
    name: NUMERIC_INPUT + " (tests/test_multilabel.py: indicator predict, per-label proba, decision_function)"
    for name in (
        "check_classifiers_multilabel_representation_invariance",
        "check_classifiers_multilabel_output_format_predict",
        "check_classifiers_multilabel_output_format_predict_proba",
        "check_classifiers_multilabel_output_format_decision_function",
        "check_classifier_multioutput",
    )
}


def estimator(**params):
    return ZeroShotClassifier(TOY_LABELS, embedder=HashingEmbedder(), **params)


def multi_label_estimator(**params):
    return MultiLabelZeroShotClassifier(TOY_LABELS, embedder=HashingEmbedder(), **params)


ESTIMATORS = {"ZeroShotClassifier": estimator, "MultiLabelZeroShotClassifier": multi_label_estimator}


@pytest.mark.parametrize("check_name", APPLICABLE)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_sklearn_check(name, check_name):
    getattr(checks, check_name)(name, ESTIMATORS[name]())


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_every_sklearn_check_is_run_or_explained(name):
    est = ESTIMATORS[name]()
    # sklearn skips string-input estimators, so list its checks as for a numeric classifier
    tags = est.__sklearn_tags__()
    tags.input_tags.two_d_array, tags.input_tags.string = True, False
    est.__sklearn_tags__ = lambda: tags
    names = {getattr(check, "func", check).__name__ for check in checks._yield_all_checks(est, legacy=True)}
    explained = (
        set(APPLICABLE) | set(NOT_APPLICABLE) | (set(MULTI_LABEL_NOT_APPLICABLE) if "MultiLabel" in name else set())
    )
    assert names - explained == set()


def test_fit_returns_self_and_accepts_y(toy):
    _, texts, y = toy
    clf = estimator()
    assert clf.fit(texts) is clf
    assert clf.fit(texts, y) is clf


def test_fit_does_not_change_params(toy):
    _, texts, y = toy
    clf = estimator(judge=GoldJudge(texts, y), judge_budget=3, random_state=0)
    before = {k: copy.deepcopy(v) for k, v in clf.get_params(deep=False).items() if k not in ("embedder", "judge")}
    clf.fit(texts)
    after = clf.get_params(deep=False)
    for key, value in before.items():
        assert pickle.dumps(after[key]) == pickle.dumps(value), key


def test_fit_is_idempotent(toy):
    _, texts, y = toy
    clf = estimator(judge=GoldJudge(texts, y), judge_budget=3, random_state=0)
    first = clf.fit(texts).predict_proba(texts)
    np.testing.assert_allclose(clf.fit(texts).predict_proba(texts), first)
    np.testing.assert_allclose(clone(clf).fit(texts).predict_proba(texts), first)


def test_methods_are_row_wise(toy):
    _, texts, y = toy
    clf = estimator(judge=GoldJudge(texts, y), judge_budget=3, random_state=0).fit(texts)
    order = np.random.default_rng(0).permutation(len(texts))
    for method in ("predict", "predict_proba", "decision_function", "transform"):
        full = getattr(clf, method)(texts)
        check = np.testing.assert_array_equal if method == "predict" else np.testing.assert_allclose
        check(getattr(clf, method)([texts[i] for i in order]), full[order])
        check(getattr(clf, method)(texts[:5]), full[:5])


def test_decision_and_proba_agree(toy):
    _, texts, _ = toy
    clf = estimator().fit(texts)
    np.testing.assert_array_equal(clf.decision_function(texts).argmax(1), clf.predict_proba(texts).argmax(1))


def test_predict_does_not_change_state(toy):
    _, texts, _ = toy
    clf = estimator().fit(texts)

    def state():  # the test embedder counts its own calls, so it is left out
        return pickle.dumps({k: v for k, v in vars(clf).items() if k not in ("embedder", "embedder_")})

    before = state()
    clf.predict(texts)
    clf.predict_proba(texts)
    assert state() == before
