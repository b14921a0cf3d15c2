"""Ticket text classifier: one instance per target (request type, category, team).

Pure Python + scikit-learn/numpy/scipy/jieba; nothing here imports Django, so the model can be
trained, measured and benchmarked without a database or settings. See docs/classifier.md.

* `text` — normalisation, tokenisation, signal tokens.
* `vectorizers` — fast TF-IDF blocks (word n-grams with jieba or plain tokens, char n-grams).
* `candidates` — the configurations model selection chooses from.
* `selection` — stratified k-fold cross-validation (macro-F1), the ensemble check.
* `calibration` — temperature scaling, expected calibration error, precision curve.
* `model` — `TextClassifier`: fit, batch prediction, safe signed model files.
* `evaluation` — `evaluate` / `run_eval` behind `manage.py classifier_eval`.
"""

from .calibration import share_to_triage, threshold_for_precision
from .candidates import BASELINE, DEFAULT, SMALL_TRAINING_SET, Candidate, build_features
from .evaluation import baseline_model, evaluate, run_eval
from .model import FORMAT_VERSION, ClassifierLoadError, Prediction, TextClassifier
from .text import (
    MAX_INPUT_CHARS,
    MAX_SEGMENTED_CHARS,
    has_features,
    normalize_text,
    plain_text,
    signal_token,
    word_tokens,
)
from .vectorizers import CharNgramVectorizer, WordNgramVectorizer

__all__ = [
    "BASELINE",
    "DEFAULT",
    "FORMAT_VERSION",
    "MAX_INPUT_CHARS",
    "MAX_SEGMENTED_CHARS",
    "SMALL_TRAINING_SET",
    "Candidate",
    "CharNgramVectorizer",
    "ClassifierLoadError",
    "Prediction",
    "TextClassifier",
    "WordNgramVectorizer",
    "baseline_model",
    "build_features",
    "evaluate",
    "has_features",
    "normalize_text",
    "plain_text",
    "run_eval",
    "share_to_triage",
    "signal_token",
    "threshold_for_precision",
    "word_tokens",
]
