"""Model selection by cross-validation, calibration checked on held-out folds, and the
threshold derived from a target precision."""

from __future__ import annotations

import numpy as np
import pytest

from routing.classifier import BASELINE, DEFAULT, TextClassifier, calibration, evaluate, selection

from .test_classifier import EN_HELDOUT, EN_TRAIN, ZH_HELDOUT, ZH_TRAIN, flatten


@pytest.fixture(scope="module")
def bilingual() -> TextClassifier:
    zh_texts, zh_labels = flatten(ZH_TRAIN)
    en_texts, en_labels = flatten(EN_TRAIN)
    return TextClassifier().fit(zh_texts + en_texts, zh_labels + en_labels)


def test_every_candidate_is_scored_and_the_best_is_chosen(bilingual: TextClassifier) -> None:
    summary = bilingual.selection_
    names = [candidate["name"] for candidate in summary["candidates"]]
    assert BASELINE.name in names and DEFAULT.name in names
    assert {"svm", "lr", "cnb"} <= {name.split()[1].split("(")[0] for name in names}
    assert any("jieba12" in name for name in names) and any("char" in name for name in names)
    scores = [candidate["cv_macro_f1"] for candidate in summary["candidates"]]
    assert scores == sorted(scores, reverse=True)
    best_single = scores[0]
    if summary["ensemble"]:
        assert summary["cv_macro_f1"] >= best_single + selection.ENSEMBLE_MARGIN
    else:
        assert summary["chosen"] == names[0]
        assert summary["cv_macro_f1"] == best_single
    # The baseline is a candidate on the same folds: the choice is never worse than it.
    assert summary["cv_macro_f1"] >= summary["baseline_cv_macro_f1"]
    assert summary["folds"] == 5  # few texts: more folds
    assert summary["n_held_out"] == len(flatten(ZH_TRAIN)[0]) + len(flatten(EN_TRAIN)[0])


def test_the_chosen_configuration_is_what_predicts(bilingual: TextClassifier) -> None:
    chosen = [member["name"] for member in bilingual.config_["members"]]
    assert " | ".join(chosen) == bilingual.selection_["chosen"]
    assert all(member["temperature"] > 0 for member in bilingual.config_["members"])


def test_calibration_is_measured_on_held_out_folds(bilingual: TextClassifier) -> None:
    summary = bilingual.selection_
    assert 0.0 <= summary["ece"] <= 1.0
    curve = summary["curve"]
    assert curve["thresholds"][0] == 0.0 and curve["thresholds"][-1] == 1.0
    assert len(curve["thresholds"]) == calibration.CURVE_STEPS
    assert curve["auto_share"][0] == 1.0
    assert curve["auto_share"] == sorted(curve["auto_share"], reverse=True)
    assert curve["precision"][0] == summary["accuracy"]


def test_expected_calibration_error() -> None:
    # Perfectly calibrated bins: 80 % confident and 80 % right.
    confidence = np.full(10, 0.8)
    correct = np.array([True] * 8 + [False] * 2)
    assert calibration.expected_calibration_error(confidence, correct) == pytest.approx(0.0)
    # Always sure, right half the time.
    sure = np.ones(10)
    half = np.array([True, False] * 5)
    assert calibration.expected_calibration_error(sure, half) == pytest.approx(0.5)


def test_threshold_from_a_target_precision() -> None:
    confidence = np.array([0.95, 0.9, 0.85, 0.7, 0.6, 0.4, 0.3, 0.0])
    correct = np.array([True, True, True, True, False, True, False, False])
    curve = calibration.precision_curve(confidence, correct)
    threshold, triage, reachable = calibration.threshold_for_precision(curve, 0.9)
    # At 0.61..0.70 the four automatic answers are all right; at 0.60 one of five is wrong.
    assert (threshold, triage, reachable) == (0.61, 0.5, True)
    assert calibration.threshold_for_precision(curve, 0.7) == (0.01, 0.125, True)  # 5 of 7
    assert calibration.share_to_triage(curve, 0.5) == 0.375
    assert calibration.threshold_for_precision(curve, 1.01) == (1.0, 1.0, False)


def test_folds_keep_every_class_in_every_training_part() -> None:
    labels = np.array(["a"] * 7 + ["b"] * 2 + ["c"])
    folds = selection.stratified_folds(labels, 5, seed=0)
    assert folds[labels == "c"].tolist() == [-1]  # a single example is never held out
    assert len(set(folds[labels == "b"].tolist())) == 2
    for fold in range(5):
        assert set(labels[folds != fold]) == {"a", "b", "c"}
    assert selection.stratified_folds(labels, 5, seed=0).tolist() == folds.tolist()


def test_a_large_set_is_selected_on_a_stratified_sample() -> None:
    labels = np.array(["a"] * 900 + ["b"] * 95 + ["c"] * 5)
    sample = selection.stratified_sample(labels, 100, seed=0)
    counts = {label: int((labels[sample] == label).sum()) for label in "abc"}
    assert counts == {"a": 90, "b": 10, "c": 2}
    assert selection.n_folds_for(1_000) == 5
    assert selection.n_folds_for(4_000) == 4
    assert selection.n_folds_for(10_000) == 3


def test_a_tiny_set_uses_the_default_configuration() -> None:
    model = TextClassifier().fit(
        ["密码忘了", "服务器宕机", "重置密码", "网络断了"], ["p", "f", "p", "f"]
    )
    assert model.selection_ == {}
    assert [member["name"] for member in model.config_["members"]] == [DEFAULT.name]


def test_evaluate_reports_the_choice_and_both_scores() -> None:
    texts, labels = flatten(ZH_TRAIN)
    result = evaluate(
        texts,
        labels,
        [text for text, _label in ZH_HELDOUT],
        [label for _text, label in ZH_HELDOUT],
        baseline=True,
    )
    assert result["config"]["members"]
    assert result["selection"]["chosen"]
    assert "curve" not in result["selection"]
    assert result["cv_macro_f1"] == result["selection"]["cv_macro_f1"]
    assert result["cv_macro_f1"] >= result["baseline_cv_macro_f1"]
    assert 0.0 <= result["cv_ece"] <= 1.0
    assert result["macro_f1"] == 1.0
    assert 0.0 <= result["baseline_macro_f1"] <= 1.0


def test_english_only_training_still_works(bilingual: TextClassifier) -> None:
    english = TextClassifier().fit(*flatten(EN_TRAIN))
    predictions = english.predict([text for text, _label in EN_HELDOUT])
    assert [p.label for p in predictions] == [label for _text, label in EN_HELDOUT]


def test_successive_halving_prunes_after_one_fold_and_keeps_baseline_and_default(
    monkeypatch,
) -> None:
    monkeypatch.setattr(selection, "HALVING_FROM", 0)  # a large desk's selection
    zh_texts, zh_labels = flatten(ZH_TRAIN)
    en_texts, en_labels = flatten(EN_TRAIN)
    summary = TextClassifier().fit(zh_texts + en_texts, zh_labels + en_labels).selection_

    names = [candidate["name"] for candidate in summary["candidates"]]
    pruned = [candidate["name"] for candidate in summary["pruned"]]
    assert pruned and not set(pruned) & set(names)
    # The plain baseline and the default are always cross-validated in full.
    assert BASELINE.name in names and DEFAULT.name in names
    assert len(names) <= selection.STAGE_ONE_KEEP + 2 + selection.STAGE_TWO_KEEP
    assert summary["cv_macro_f1"] >= summary["baseline_cv_macro_f1"]
    assert all(candidate["first_fold_macro_f1"] >= 0 for candidate in summary["pruned"])
    # Pruning leaves the chosen members' scores on every fold: the calibration error and the
    # curve the admin's triage threshold is derived from are still measured on all of them.
    assert summary["n_held_out"] == len(zh_texts) + len(en_texts)
    assert 0.0 <= summary["ece"] <= 1.0
    curve = summary["curve"]
    assert len(curve["thresholds"]) == calibration.CURVE_STEPS
    assert curve["precision"][0] == summary["accuracy"]
    threshold, triage, _reachable = calibration.threshold_for_precision(curve, 0.9)
    assert 0.0 <= threshold <= 1.0 and 0.0 <= triage <= 1.0
