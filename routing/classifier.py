"""Ticket text classifier: one instance per target (request type, category, team).

Pure Python + scikit-learn/numpy/scipy/jieba; nothing here imports Django, so the model can be
trained, measured and benchmarked without a database or settings.

Method (see docs/classifier.md for the reasoning and measured numbers):

* Text is normalised (NFKC, lower case, NUL bytes removed, cut to ``MAX_INPUT_CHARS``).
* Two TF-IDF feature blocks are joined with a ``FeatureUnion``:
  word uni- and bigrams, where runs of Chinese characters are segmented with jieba, and
  character 2–4-grams inside word-character runs, which need no segmentation and absorb typos,
  inflections and jieba's segmentation mistakes.
* A linear SVM (``LinearSVC``) scores the classes. Its scores are turned into a confidence by a
  softmax whose temperature is fitted on held-out scores (temperature scaling): by 5-fold
  cross-validation on small training sets, on one stratified fifth on large ones. A threshold
  on the confidence then means roughly the same thing for every target and data set.

Behaviour at the edges: empty, emoji-only or otherwise featureless input gets the best-scoring
label with confidence 0.0 (the model saw no evidence, so the ticket goes to manual triage);
fewer than two distinct training labels raises ``ValueError``; a label seen only once is kept
in the training data and can be predicted.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jieba
import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp, softmax
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

# jieba logs "Building prefix dict ..." at INFO on first use; keep management commands and
# tests quiet. Its dictionary ships inside the wheel, so nothing is downloaded.
jieba.setLogLevel(logging.WARNING)

#: Bumped whenever the pickled layout of ``TextClassifier`` changes incompatibly.
FORMAT_VERSION = 1
_FORMAT_NAME = "servicedesk.routing.TextClassifier"

#: Only the start of a ticket is classified: the subject and first paragraphs carry the intent,
#: and the cap keeps a pasted 100 KB log from costing more than a few milliseconds.
MAX_INPUT_CHARS = 20_000

#: Chinese characters segmented into words per text (jieba is the slowest step).
MAX_SEGMENTED_CHARS = 5_000

#: Below this many training texts every feature is kept (min_df=1) and the confidence is
#: calibrated by full cross-validation; from here on features seen once are dropped and one
#: held-out fifth calibrates.
SMALL_TRAINING_SET = 1_000

# CJK unified ideographs (basic, extension A, compatibility): segmented by jieba.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A run of CJK characters, or a run of other word characters (letters, digits, underscore).
_WORD_RUN_RE = re.compile(rf"[{_CJK}]+|[^\W{_CJK}]+")
_CJK_RE = re.compile(rf"[{_CJK}]")
# Character n-grams are taken inside runs of word characters, any script.
_CHAR_RUN_RE = re.compile(r"\w+")


class ClassifierLoadError(Exception):
    """A model file is missing, corrupt, of another format version or scikit-learn version."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """The predicted label and a confidence in [0, 1] to compare against a threshold."""

    label: str
    confidence: float


# --- text preprocessing ----------------------------------------------------------------------


def normalize_text(text: object) -> str:
    """Canonical form of a ticket text: NFKC (full-width → half-width), lower case, no NUL.

    The raw text is cut before NFKC so that huge inputs cost nothing, and again after it
    because NFKC may expand some characters (ligatures, squared CJK abbreviations).
    """
    if text is None:
        return ""
    raw = str(text)[:MAX_INPUT_CHARS]
    normalized = unicodedata.normalize("NFKC", raw).replace("\x00", " ").lower()
    return normalized[:MAX_INPUT_CHARS]


def word_tokens(text: str) -> list[str]:
    """Word tokens of normalised text: jieba words for Chinese, word runs for other scripts.

    Non-CJK tokens of one character are dropped (like scikit-learn's default token pattern),
    Chinese single characters are kept because many are words (卡, 慢, 坏). Only the first
    ``MAX_SEGMENTED_CHARS`` Chinese characters are segmented: jieba manages ~150,000
    characters a second, and the character n-grams still cover the rest of the text.
    Module-level (not a lambda) so fitted vectorizers can be pickled.
    """
    tokens: list[str] = []
    budget = MAX_SEGMENTED_CHARS
    for run in _WORD_RUN_RE.findall(text):
        if _CJK_RE.match(run):
            if budget > 0:
                tokens.extend(word for word in jieba.lcut(run[:budget]) if not word.isspace())
                budget -= len(run)
        elif len(run) > 1:
            tokens.append(run)
    return tokens


def _char_runs(text: str) -> list[str]:
    return _CHAR_RUN_RE.findall(text)


def _limit(document_frequency: np.ndarray, min_df: int, max_features: int | None) -> np.ndarray:
    """Sorted indices of the columns kept: seen in ≥ `min_df` documents, the most frequent
    `max_features` of them (ties broken by first appearance, so the choice is reproducible)."""
    keep = np.flatnonzero(document_frequency >= min_df)
    if max_features is not None and keep.size > max_features:
        order = np.argsort(-document_frequency[keep], kind="stable")
        keep = np.sort(keep[order[:max_features]])
    return keep


def _apply_tfidf(counts: sp.csr_matrix, fitted: TfidfTransformer) -> sp.csr_matrix:
    """What ``fitted.transform(counts)`` returns (sublinear tf, idf, l2 rows), in plain numpy.

    Prediction is mostly one ticket at a time, where scikit-learn's input validation costs
    more than the arithmetic; fitting still goes through TfidfTransformer itself.
    """
    matrix = counts.astype(np.float64, copy=True)
    data = matrix.data
    if fitted.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    data *= fitted.idf_[matrix.indices]
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=matrix.shape[0]))
    data /= norms[rows]
    return matrix


class CharNgramVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF of character n-grams taken inside runs of word characters (padded by spaces).

    Equivalent in spirit to ``TfidfVectorizer(analyzer="char_wb")`` but about seven times
    faster on tickets (4 s instead of 30 s for 38,000 tickets): the n-grams of each distinct
    run are generated once per batch and the document × n-gram counts come from one sparse
    product (documents × runs) · (runs × n-grams), instead of counting every n-gram
    occurrence in Python.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (2, 4),
        min_df: int = 1,
        max_features: int | None = None,
        sublinear_tf: bool = True,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def _ngrams(self, run: str) -> list[str]:
        low, high = self.ngram_range
        padded = f" {run} "
        size = len(padded)
        if size <= low:
            return [padded]
        return [
            padded[start : start + n]
            for n in range(low, min(high, size) + 1)
            for start in range(size - n + 1)
        ]

    def _count(self, docs: Iterable[str], vocabulary: dict[str, int], grow: bool) -> sp.csr_matrix:
        """Document × n-gram counts; new n-grams are added to `vocabulary` only when `grow`."""
        runs: dict[str, int] = {}
        doc_indices: list[int] = []
        doc_indptr = [0]
        for doc in docs:
            doc_indices.extend(runs.setdefault(run, len(runs)) for run in _char_runs(doc))
            doc_indptr.append(len(doc_indices))
        doc_runs = sp.csr_matrix(
            (np.ones(len(doc_indices)), np.asarray(doc_indices, dtype=np.int64), doc_indptr),
            shape=(len(doc_indptr) - 1, len(runs)),
        )
        gram_indices: list[int] = []
        gram_indptr = [0]
        for run in runs:
            for gram in self._ngrams(run):
                index = vocabulary.get(gram)
                if index is None and grow:
                    index = vocabulary[gram] = len(vocabulary)
                if index is not None:
                    gram_indices.append(index)
            gram_indptr.append(len(gram_indices))
        run_grams = sp.csr_matrix(
            (np.ones(len(gram_indices)), np.asarray(gram_indices, dtype=np.int64), gram_indptr),
            shape=(len(runs), len(vocabulary)),
        )
        counts = (doc_runs @ run_grams).tocsr()
        counts.sum_duplicates()
        return counts

    def fit(self, docs: Sequence[str], y: Any = None) -> CharNgramVectorizer:
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Sequence[str], y: Any = None, **fit_params: Any) -> sp.csr_matrix:
        vocabulary: dict[str, int] = {}
        counts = self._count(docs, vocabulary, grow=True)
        keep = _limit(
            np.bincount(counts.indices, minlength=counts.shape[1]), self.min_df, self.max_features
        )
        terms = list(vocabulary)
        self.vocabulary_ = {terms[index]: new for new, index in enumerate(keep)}
        self._tfidf = TfidfTransformer(sublinear_tf=self.sublinear_tf)
        return self._tfidf.fit_transform(counts[:, keep])

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        return _apply_tfidf(self._count(docs, self.vocabulary_, grow=False), self._tfidf)


class WordNgramVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF of word unigrams and bigrams, tokens from ``word_tokens``.

    What ``TfidfVectorizer(tokenizer=word_tokens, ngram_range=(1, 2))`` computes, but the
    bigrams are counted as integer codes with numpy rather than as joined strings in a Python
    loop, which makes fitting on 40,000 tickets about three times faster.
    """

    def __init__(
        self, min_df: int = 1, max_features: int | None = None, sublinear_tf: bool = True
    ) -> None:
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    @staticmethod
    def _token_ids(
        docs: Iterable[str], vocabulary: dict[str, int], grow: bool
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Token ids (-1 for unknown tokens) of all documents in a row, each token's document,
        and the number of documents."""
        ids: list[int] = []
        lengths: list[int] = []
        for doc in docs:
            tokens = word_tokens(doc)
            if grow:
                ids.extend(vocabulary.setdefault(token, len(vocabulary)) for token in tokens)
            else:
                ids.extend(vocabulary.get(token, -1) for token in tokens)
            lengths.append(len(tokens))
        n_docs = len(lengths)
        owner = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        return np.asarray(ids, dtype=np.int64), owner, n_docs

    @staticmethod
    def _pairs(ids: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first, second, document) of every pair of adjacent known tokens in one document."""
        adjacent = (owner[:-1] == owner[1:]) & (ids[:-1] >= 0) & (ids[1:] >= 0)
        return ids[:-1][adjacent], ids[1:][adjacent], owner[:-1][adjacent]

    def fit(self, docs: Sequence[str], y: Any = None) -> WordNgramVectorizer:
        self.fit_transform(docs)
        return self

    def fit_transform(self, docs: Sequence[str], y: Any = None, **fit_params: Any) -> sp.csr_matrix:
        vocabulary: dict[str, int] = {}
        ids, owner, n_docs = self._token_ids(docs, vocabulary, grow=True)
        n_tokens = len(vocabulary)
        first, second, pair_owner = self._pairs(ids, owner)
        bigrams, bigram_index = np.unique(first * n_tokens + second, return_inverse=True)
        # Columns before pruning: unigram i is column i, bigram j is column n_tokens + j.
        rows = np.concatenate([owner, pair_owner])
        columns = np.concatenate([ids, n_tokens + bigram_index.ravel()])
        counts = sp.csr_matrix(
            (np.ones(rows.size), (rows, columns)), shape=(n_docs, n_tokens + bigrams.size)
        )
        counts.sum_duplicates()
        keep = _limit(
            np.bincount(counts.indices, minlength=counts.shape[1]), self.min_df, self.max_features
        )

        # Keep only the tokens some kept feature needs, renumbered 0..n-1, so the pickled
        # model does not carry every typo of the training data.
        kept_unigrams = keep[keep < n_tokens]
        kept_bigrams = bigrams[keep[keep >= n_tokens] - n_tokens]
        bigram_first, bigram_second = np.divmod(kept_bigrams, n_tokens)
        needed = np.unique(np.concatenate([kept_unigrams, bigram_first, bigram_second]))
        renumber = np.full(n_tokens, -1, dtype=np.int64)
        renumber[needed] = np.arange(needed.size)
        tokens = list(vocabulary)
        self.vocabulary_ = {tokens[old]: int(new) for new, old in enumerate(needed)}
        n_needed = needed.size
        # unigram_columns_[token id] → column or -1; bigram codes sorted for searchsorted.
        self.unigram_columns_ = np.full(n_needed, -1, dtype=np.int64)
        self.unigram_columns_[renumber[kept_unigrams]] = np.arange(kept_unigrams.size)
        codes = renumber[bigram_first] * n_needed + renumber[bigram_second]
        order = np.argsort(codes)
        self.bigram_codes_ = codes[order]
        self.bigram_columns_ = kept_unigrams.size + order
        self.n_features_ = int(keep.size)
        self._tfidf = TfidfTransformer(sublinear_tf=self.sublinear_tf)
        return self._tfidf.fit_transform(counts[:, keep])

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        ids, owner, n_docs = self._token_ids(docs, self.vocabulary_, grow=False)
        known = ids >= 0
        unigram_columns = self.unigram_columns_[ids[known]]
        unigram_rows = owner[known][unigram_columns >= 0]
        unigram_columns = unigram_columns[unigram_columns >= 0]
        first, second, pair_owner = self._pairs(ids, owner)
        codes = first * len(self.vocabulary_) + second
        if self.bigram_codes_.size:
            position = np.searchsorted(self.bigram_codes_, codes)
            position[position == self.bigram_codes_.size] = 0
            matched = self.bigram_codes_[position] == codes
        else:
            position = np.zeros(codes.size, dtype=np.int64)
            matched = np.zeros(codes.size, dtype=bool)
        rows = np.concatenate([unigram_rows, pair_owner[matched]])
        columns = np.concatenate([unigram_columns, self.bigram_columns_[position[matched]]])
        counts = sp.csr_matrix(
            (np.ones(rows.size), (rows, columns)), shape=(n_docs, self.n_features_)
        )
        counts.sum_duplicates()
        return _apply_tfidf(counts, self._tfidf)


def build_features(n_docs: int) -> FeatureUnion:
    """The word + character TF-IDF union for a training set of `n_docs` texts.

    Features seen in a single document cannot help on other documents but make the model big,
    so they are dropped once there is enough data; on small sets (fresh desks, seed examples)
    every feature is kept. The caps bound memory: the SVM stores one weight per feature and
    class.
    """
    min_df = 1 if n_docs < SMALL_TRAINING_SET else 2
    return FeatureUnion(
        [
            (
                "word",
                WordNgramVectorizer(min_df=min_df, max_features=200_000, sublinear_tf=True),
            ),
            (
                "char",
                # 2-4: Chinese words are mostly two to four characters; 5-grams cost a fifth
                # more SVM time for no measurable gain (measured on part of the training split).
                CharNgramVectorizer(
                    ngram_range=(2, 4), min_df=min_df, max_features=200_000, sublinear_tf=True
                ),
            ),
        ]
    )


# --- the classifier --------------------------------------------------------------------------


def _calibration_folds(labels: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """A stratified fold number per example, or -1 for examples that are never held out.

    Each class's examples are dealt round-robin (from a random start) over the folds, so a
    class with at most `n_folds` examples has each in a different fold and always keeps a
    fitting example; a class with a single example is never held out. Every model trained
    without one fold therefore knows all the classes of the final model.
    """
    rng = np.random.default_rng(seed)
    folds = np.full(labels.size, -1, dtype=np.int64)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if members.size >= 2:
            start = int(rng.integers(n_folds))
            folds[members] = (start + np.arange(members.size)) % n_folds
    return folds


def _score_matrix(scores: np.ndarray) -> np.ndarray:
    """Decision scores as (n, n_classes); a binary SVM gives one column for the second class."""
    if scores.ndim == 1:
        return np.column_stack([-scores, scores])
    return scores


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature minimising the negative log-likelihood of the true classes."""

    def nll(log_t: float) -> float:
        scaled = scores / math.exp(log_t)
        return float(np.mean(logsumexp(scaled, axis=1) - scaled[np.arange(len(truth)), truth]))

    result = minimize_scalar(nll, bounds=(math.log(0.01), math.log(10.0)), method="bounded")
    return float(math.exp(result.x))


class TextClassifier:
    """Word + character TF-IDF, linear SVM, temperature-scaled softmax confidence.

    ``fit(texts, labels)`` → self; ``predict(texts)`` → list of ``Prediction``;
    ``save(path)`` / ``TextClassifier.load(path)``. Instances are read-only after fitting,
    so one loaded model may serve several threads.
    """

    #: Temperature used when the training set is too small to hold out a calibration set.
    DEFAULT_TEMPERATURE = 1.0
    #: Fewer held-out examples than this give a too noisy temperature.
    MIN_CALIBRATION_EXAMPLES = 20
    #: Below this many training texts the temperature is fitted by cross-validation.
    CROSS_VALIDATE_BELOW = SMALL_TRAINING_SET

    def __init__(
        self,
        *,
        C: float = 0.5,
        class_weight: str | None = "balanced",
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.classes_: list[str] = []
        self.temperature_: float = self.DEFAULT_TEMPERATURE
        self.n_train_: int = 0
        self._features: FeatureUnion | None = None
        self._svm: LinearSVC | None = None

    # -- training ---------------------------------------------------------------------------

    def _new_svm(self) -> LinearSVC:
        # dual=True: text has more features than documents, where the dual solver is the fast
        # one (the primal solver took six times longer on the reference data). tol=0.01 rather
        # than scikit-learn's 1e-4 (liblinear's own default is 0.1): half the iterations and
        # the same predictions on the reference data.
        return LinearSVC(
            C=self.C,
            class_weight=self.class_weight,
            dual=True,
            tol=1e-2,
            max_iter=5000,
            random_state=self.random_state,
        )

    def fit(self, texts: Sequence[object], labels: Sequence[object]) -> TextClassifier:
        """Train on `texts` and their `labels` (coerced to str).

        Raises ValueError when the lengths differ, fewer than two distinct labels are given,
        or no text contains a single word character.
        """
        texts = list(texts)
        label_array = np.asarray([str(label) for label in labels], dtype=object)
        if len(texts) != len(label_array):
            raise ValueError(f"{len(texts)} texts but {len(label_array)} labels")
        classes = sorted(set(label_array.tolist()))
        if len(classes) < 2:
            raise ValueError(
                f"need at least two distinct labels to train a classifier, got {classes!r}"
            )
        docs = [normalize_text(text) for text in texts]
        features = build_features(len(docs))
        try:
            matrix = features.fit_transform(docs).tocsr()
        except ValueError as exc:  # e.g. TfidfVectorizer's "empty vocabulary"
            raise ValueError(f"the training texts contain no usable words ({exc})") from exc
        if matrix.shape[1] == 0 or matrix.nnz == 0:
            raise ValueError("the training texts contain no usable words")

        folds = _calibration_folds(label_array, self.calibration_folds, self.random_state)
        # The fits run one after the other, not in threads: liblinear draws from one global
        # random generator, so concurrent fits would make training irreproducible.
        final_svm = self._new_svm().fit(matrix, label_array)
        if len(docs) < self.CROSS_VALIDATE_BELOW:
            # Small sets: full cross-validation, and the features are refitted without the
            # held-out fold. Otherwise each held-out text's own rare words would be in the
            # vocabulary, dilute its vector and shrink its scores, while at prediction time
            # unseen words are simply absent: the temperature came out far too low (a
            # confidence of 0.85 for 74 % accuracy on the seed examples).
            held_out = [
                self._held_out_scores(docs, None, label_array, folds == fold, classes)
                for fold in range(self.calibration_folds)
                if np.any(folds == fold)
            ]
        else:
            # Large sets: one held-out fold (hundreds of texts or more) is plenty, and it
            # shares the features fitted on all texts: with min_df=2 every feature of a text
            # occurs in another text too, so the dilution above is small, and refitting would
            # cost seconds (measured: confidence within 0.02-0.04 of accuracy from 1,000 texts).
            held_out = [self._held_out_scores(docs, matrix, label_array, folds == 0, classes)]

        temperature = self.DEFAULT_TEMPERATURE
        if held_out:
            scores = np.concatenate([fold_scores for fold_scores, _truth in held_out])
            truth = np.concatenate([fold_truth for _scores, fold_truth in held_out])
            if truth.size >= self.MIN_CALIBRATION_EXAMPLES:
                temperature = _fit_temperature(scores, truth)

        self._features = features
        self._svm = final_svm
        self.classes_ = [str(label) for label in final_svm.classes_]
        self.temperature_ = temperature
        self.n_train_ = len(docs)
        return self

    def _held_out_scores(
        self,
        docs: list[str],
        matrix: sp.csr_matrix | None,
        labels: np.ndarray,
        held: np.ndarray,
        classes: list[str],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decision scores of the `held` texts by a model trained on the others, and the index
        of each text's true class. With `matrix` None the features are fitted on the other
        texts only; otherwise the rows of `matrix` are used. Texts without any feature are
        left out: they are answered with confidence 0 whatever the temperature.
        """
        if matrix is None:
            features = build_features(int((~held).sum()))
            fit_rows = features.fit_transform([docs[i] for i in np.flatnonzero(~held)])
            rows = features.transform([docs[i] for i in np.flatnonzero(held)])
        else:
            fit_rows, rows = matrix[~held], matrix[held]
        svm = self._new_svm().fit(fit_rows, labels[~held])
        informative = rows.getnnz(axis=1) > 0
        # Fold models know every class (see _calibration_folds); the check is a safety net.
        if [str(label) for label in svm.classes_] != classes or not informative.any():
            return np.zeros((0, len(classes))), np.zeros(0, dtype=np.int64)
        class_index = {label: i for i, label in enumerate(classes)}
        truth = np.asarray([class_index[label] for label in labels[held][informative]])
        scores = _score_matrix(svm.decision_function(rows[informative]))
        return scores, truth.astype(np.int64)

    # -- prediction -------------------------------------------------------------------------

    def _require_fitted(self) -> tuple[FeatureUnion, LinearSVC]:
        if self._features is None or self._svm is None:
            raise RuntimeError("the classifier is not trained: call fit() or load() first")
        return self._features, self._svm

    def _scores(self, texts: Iterable[object]) -> tuple[np.ndarray, np.ndarray]:
        """Decision scores (n, n_classes) and whether each text had any known feature.

        Does what FeatureUnion.transform + LinearSVC.decision_function do, without their
        per-call joblib and validation overhead (several milliseconds per ticket).
        """
        features, svm = self._require_fitted()
        docs = [normalize_text(text) for text in texts]
        blocks = [transformer.transform(docs) for _name, transformer in features.transformer_list]
        matrix = sp.hstack(blocks, format="csr")
        scores = np.asarray(matrix @ svm.coef_.T) + svm.intercept_
        if scores.shape[1] == 1:
            scores = scores[:, 0]
        return _score_matrix(scores), np.diff(matrix.indptr) > 0

    def predict_proba(self, texts: Iterable[object]) -> np.ndarray:
        """Class probabilities, shape (n, len(classes_)); featureless rows are all zero."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        scores, known = self._scores(texts)
        probabilities = softmax(scores / self.temperature_, axis=1)
        probabilities[~known] = 0.0
        return probabilities

    def predict(self, texts: Iterable[object]) -> list[Prediction]:
        """The best label of each text and its confidence.

        A text with no feature the model knows (empty, emoji only, unseen script) still gets
        the best-scoring label, but with confidence 0.0.
        """
        texts = list(texts)
        if not texts:
            self._require_fitted()
            return []
        scores, known = self._scores(texts)
        probabilities = softmax(scores / self.temperature_, axis=1)
        best = scores.argmax(axis=1)
        confidence = probabilities[np.arange(len(texts)), best]
        confidence[~known] = 0.0
        return [
            Prediction(label=self.classes_[index], confidence=float(value))
            for index, value in zip(best, confidence, strict=True)
        ]

    def predict_one(self, text: object) -> Prediction:
        return self.predict([text])[0]

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model: a small header pickle (format, versions, classes) then the model.

        The header is checked before the model is unpickled, so a file from another format
        or scikit-learn version is refused with a clear message instead of failing somewhere
        inside scikit-learn. The file is written to a temporary name and renamed into place.
        """
        self._require_fitted()
        target = Path(path)
        header = {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "sklearn_version": sklearn.__version__,
            "classes": list(self.classes_),
            "n_train": self.n_train_,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(partial, "wb") as handle:
                pickle.dump(header, handle, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, target)
        finally:
            if partial.exists():
                partial.unlink()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TextClassifier:
        """Read a model written by ``save``.

        Model files are pickles: load only files this desk wrote itself.
        Raises ClassifierLoadError for a missing, unreadable, corrupt or incompatible file.
        """
        try:
            with open(path, "rb") as handle:
                header = pickle.load(handle)  # noqa: S301 - the desk's own model files
                cls._check_header(header, path)
                model = pickle.load(handle)  # noqa: S301 - the desk's own model files
        except ClassifierLoadError:
            raise
        except FileNotFoundError as exc:
            raise ClassifierLoadError(f"model file {path} does not exist") from exc
        except Exception as exc:  # any way a damaged file can break unpickling
            raise ClassifierLoadError(
                f"model file {path} is corrupt or unreadable: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(model, cls) or model._features is None or model._svm is None:
            raise ClassifierLoadError(f"model file {path} does not hold a trained {cls.__name__}")
        return model

    @staticmethod
    def _check_header(header: object, path: str | os.PathLike[str]) -> None:
        if not isinstance(header, dict) or header.get("format") != _FORMAT_NAME:
            raise ClassifierLoadError(f"{path} is not a ticket classifier model file")
        if header.get("format_version") != FORMAT_VERSION:
            raise ClassifierLoadError(
                f"model file {path} has format version {header.get('format_version')!r}, "
                f"this code reads version {FORMAT_VERSION}: retrain the model"
            )
        if header.get("sklearn_version") != sklearn.__version__:
            raise ClassifierLoadError(
                f"model file {path} was trained with scikit-learn {header.get('sklearn_version')}"
                f", this process runs {sklearn.__version__}: retrain the model"
            )
