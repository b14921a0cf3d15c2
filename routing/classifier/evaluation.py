"""Measuring the classifier on labelled data: `evaluate` (train on one set, test on another)
and `run_eval` (the same from CSV files, for `manage.py classifier_eval`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from .model import TextClassifier


def baseline_model() -> Any:
    """The reference baseline: scikit-learn's defaults, TfidfVectorizer() + LinearSVC().

    random_state is fixed only so that repeated runs give the same number.
    """
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LinearSVC(random_state=0))


def evaluate(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    test_texts: Sequence[str],
    test_labels: Sequence[str],
    *,
    baseline: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train on the first set, measure on the second; returns the metrics as a JSON-able dict.

    Keys: accuracy, macro_f1, per_class {label: {precision, recall, f1, support}},
    train_seconds, train_cpu_seconds, predict_ms_per_ticket, n_train, n_test, n_classes, the
    chosen configuration (`config`), the model selection's summary (`selection`: every
    candidate's cross-validated macro-F1, the folds, the held-out ECE), its `cv_macro_f1`,
    `baseline_cv_macro_f1` and `cv_ece`, the load average before and after training
    (`load_average_at_start`, `load_average`: a wall time means little without it), and,
    with `baseline`, baseline_accuracy and baseline_macro_f1 on the test set.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    say = log or (lambda _message: None)
    if not test_texts:
        raise ValueError("the test set is empty")
    truth = [str(label) for label in test_labels]

    say(f"training on {len(train_texts)} texts ...")
    # On a shared machine the wall time measures the neighbours too: keep the load with it.
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    started, started_cpu = time.perf_counter(), time.process_time()
    classifier = TextClassifier().fit(train_texts, train_labels, log=say)
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = time.process_time() - started_cpu
    started = time.perf_counter()
    predicted = [prediction.label for prediction in classifier.predict(test_texts)]
    predict_seconds = time.perf_counter() - started

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    result: dict[str, Any] = {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(train_cpu_seconds, 2),
        "predict_ms_per_ticket": round(1000 * predict_seconds / len(truth), 3),
        "n_train": len(train_texts),
        "n_test": len(truth),
        "n_classes": len(classifier.classes_),
        "config": classifier.config_,
        "selection": {key: value for key, value in classifier.selection_.items() if key != "curve"},
        "cv_macro_f1": classifier.selection_.get("cv_macro_f1"),
        "baseline_cv_macro_f1": classifier.selection_.get("baseline_cv_macro_f1"),
        "cv_ece": classifier.selection_.get("ece"),
        "load_average_at_start": load_at_start,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if baseline:
        say("training the TF-IDF + LinearSVC baseline ...")
        reference = baseline_model().fit(
            [str(text) for text in train_texts], [str(label) for label in train_labels]
        )
        reference_predicted = reference.predict([str(text) for text in test_texts])
        result["baseline_accuracy"] = round(float(accuracy_score(truth, reference_predicted)), 4)
        result["baseline_macro_f1"] = round(
            float(f1_score(truth, reference_predicted, average="macro", zero_division=0)), 4
        )
    return result


def run_eval(
    *,
    text_columns: Sequence[str],
    label_column: str,
    train_path: str | os.PathLike[str] | None = None,
    test_path: str | os.PathLike[str] | None = None,
    data_path: str | os.PathLike[str] | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    baseline: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate on CSV files: either `train_path` + `test_path`, or `data_path` split
    stratified by `test_size` and `seed`. Bad arguments raise ValueError with a clear message.
    """
    from ..csvdata import read_labelled_csv, stratified_split

    columns = [column.strip() for column in text_columns if column.strip()]
    if not columns:
        raise ValueError("give at least one text column")
    if data_path is not None and (train_path is not None or test_path is not None):
        raise ValueError("use either --data (with --test-size) or --train and --test, not both")
    if data_path is None and (train_path is None or test_path is None):
        raise ValueError("give --train and --test, or --data")

    if data_path is not None:
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"--test-size must be between 0 and 1, got {test_size}")
        texts, labels, dropped = read_labelled_csv(data_path, columns, label_column)
        train_texts, test_texts, train_labels, test_labels = stratified_split(
            texts, labels, test_size, seed
        )
    else:
        assert train_path is not None and test_path is not None
        train_texts, train_labels, dropped_train = read_labelled_csv(
            train_path, columns, label_column
        )
        test_texts, test_labels, dropped_test = read_labelled_csv(test_path, columns, label_column)
        dropped = dropped_train + dropped_test
    result = evaluate(
        train_texts, train_labels, test_texts, test_labels, baseline=baseline, log=log
    )
    result["dropped_rows"] = dropped
    return result
