"""`TextClassifier`: the configuration chosen by cross-validation, trained on all the data.

A fitted classifier is feature blocks (vectorizers) plus one to three linear members, each
with its temperature; an ensemble averages the members' temperature-scaled scores and applies
its own temperature. Model files hold only JSON and numpy arrays (no pickle), so reading one
cannot run code; `save`/`load` also sign and verify them with an HMAC when given a key.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.special import softmax

from . import calibration, selection
from .candidates import BLOCK_INPUT, DEFAULT, Candidate, fit_linear, new_block
from .text import has_features, normalize_text, plain_text
from .vectorizers import vectorizer_from_state

#: Bumped whenever the file layout changes incompatibly.
FORMAT_VERSION = 2
_FORMAT_NAME = "servicedesk.routing.TextClassifier"
_MAGIC = b"SDTC2\n"
_SIGNATURE_BYTES = 32


class ClassifierLoadError(Exception):
    """A model file is missing, corrupt, tampered with, or of another format version."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """The predicted label and a confidence in [0, 1] to compare against a threshold."""

    label: str
    confidence: float


@dataclass
class _Member:
    candidate: Candidate
    # (features, classes), float32, C-contiguous: `sparse float32 rows @ weights` then runs
    # without converting or copying the weights (a copy per call cost milliseconds).
    weights: np.ndarray
    intercept: np.ndarray
    temperature: float


def _weights(coef: np.ndarray) -> np.ndarray:
    """(classes, features) coefficients → the (features, classes) float32 layout of `_Member`."""
    return np.ascontiguousarray(np.asarray(coef, dtype=np.float32).T)


class TextClassifier:
    """``fit(texts, labels)`` → self; ``predict(texts)`` → list of ``Prediction``;
    ``predict_proba``; ``save(path, key=...)`` / ``TextClassifier.load(path, key=...)``.
    Read-only after fitting, so one loaded model may serve several threads.

    ``selection_`` records the chosen configuration, every candidate's cross-validated
    macro-F1, the baseline's, the expected calibration error and the precision / automation
    curve of the held-out folds (empty when the set was too small to choose).
    """

    DEFAULT_TEMPERATURE = calibration.DEFAULT_TEMPERATURE

    def __init__(self, *, random_state: int = 0, select: bool = True) -> None:
        self.random_state = random_state
        self.select = select
        self.classes_: list[str] = []
        self.n_train_ = 0
        self.selection_: dict[str, Any] = {}
        self.ensemble_temperature_ = calibration.DEFAULT_TEMPERATURE
        self._blocks: dict[str, Any] = {}
        self._members: list[_Member] = []

    @property
    def temperature_(self) -> float:
        """The temperature of a single-member model (of the ensemble otherwise)."""
        if len(self._members) == 1:
            return self._members[0].temperature
        return self.ensemble_temperature_

    @property
    def config_(self) -> dict[str, Any]:
        """The chosen configuration as JSON."""
        return {
            "members": [
                {**m.candidate.as_json(), "temperature": m.temperature} for m in self._members
            ],
            "ensemble_temperature": self.ensemble_temperature_,
        }

    # -- training ---------------------------------------------------------------------------

    def fit(self, texts: Sequence[object], labels: Sequence[object], log=None) -> TextClassifier:
        """Choose a configuration by cross-validation and train it on all `texts`.

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
        docs = {"nfkc": [normalize_text(t) for t in texts], "plain": [plain_text(t) for t in texts]}
        if not any(has_features(doc) for doc in docs["nfkc"]):
            raise ValueError("the training texts contain no usable words")

        chosen = None
        if self.select:
            chosen = selection.select(docs, label_array, classes, seed=self.random_state, log=log)
        if chosen is None:
            members = [DEFAULT]
            temperatures = [calibration.DEFAULT_TEMPERATURE]
            ensemble_temperature = calibration.DEFAULT_TEMPERATURE
            self.selection_ = {}
        else:
            members, temperatures = chosen.members, chosen.temperatures
            ensemble_temperature = chosen.ensemble_temperature
            self.selection_ = chosen.summary

        class_index = {label: i for i, label in enumerate(classes)}
        y = np.asarray([class_index[label] for label in label_array], dtype=np.int64)
        blocks: dict[str, Any] = {}
        matrices: dict[str, sp.csr_matrix] = {}
        for member in members:
            for name in member.blocks:
                if name not in blocks:
                    blocks[name] = new_block(name, len(texts))
                    matrices[name] = blocks[name].fit_transform(docs[BLOCK_INPUT[name]]).tocsr()
        fitted = []
        for member, temperature in zip(members, temperatures, strict=True):
            matrix = sp.hstack([matrices[name] for name in member.blocks], format="csr")
            if matrix.nnz == 0:
                raise ValueError("the training texts contain no usable words")
            coef, intercept = fit_linear(member, matrix, y, len(classes))
            fitted.append(_Member(member, _weights(coef), intercept, temperature))
        if chosen is None and len(texts) >= calibration.MIN_CALIBRATION_EXAMPLES:
            fitted[0].temperature = self._small_set_temperature(docs, label_array, classes)
        self._blocks, self._members = blocks, fitted
        self.classes_ = classes
        self.ensemble_temperature_ = ensemble_temperature
        self.n_train_ = len(texts)
        return self

    def _small_set_temperature(self, docs, labels: np.ndarray, classes: list[str]) -> float:
        """Too few examples to choose, enough to calibrate: the default configuration's
        temperature from 5-fold held-out scores (blocks refitted without each fold)."""
        folds = selection.stratified_folds(labels, 5, self.random_state)
        if int((folds >= 0).sum()) < calibration.MIN_CALIBRATION_EXAMPLES:
            return calibration.DEFAULT_TEMPERATURE
        class_index = {label: i for i, label in enumerate(classes)}
        y = np.asarray([class_index[label] for label in labels], dtype=np.int64)
        features = selection.FoldFeatures(docs, folds)
        scored = selection._score_candidate(DEFAULT, features, y, len(classes))
        order = np.concatenate([np.flatnonzero(folds == fold) for fold in features.fold_ids])
        keep = scored.informative
        return calibration.fit_temperature(scored.scores[keep], y[order][keep])

    # -- prediction -------------------------------------------------------------------------

    def _require_fitted(self) -> None:
        if not self._members:
            raise RuntimeError("the classifier is not trained: call fit() or load() first")

    def _logits(self, texts: list[object]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated logits (n, classes) and whether each text had any known feature. One
        vectorisation per block for the whole batch, one sparse product per member."""
        self._require_fitted()
        inputs: dict[str, list[str]] = {}
        matrices = {}
        for name, block in self._blocks.items():
            kind = BLOCK_INPUT[name]
            if kind not in inputs:
                convert = normalize_text if kind == "nfkc" else plain_text
                inputs[kind] = [convert(text) for text in texts]
            matrices[name] = block.transform(inputs[kind])
        known = np.zeros(len(texts), dtype=bool)
        for matrix in matrices.values():
            known |= np.diff(matrix.indptr) > 0
        logits = []
        for member in self._members:
            parts = [matrices[name] for name in member.candidate.blocks]
            matrix = parts[0] if len(parts) == 1 else sp.hstack(parts, format="csr")
            product = matrix.astype(np.float32) @ member.weights
            scores = np.asarray(product, dtype=np.float64) + member.intercept
            logits.append(scores / member.temperature)
        if len(logits) == 1:
            return logits[0], known
        return np.mean(logits, axis=0) / self.ensemble_temperature_, known

    def predict_proba(self, texts: Iterable[object]) -> np.ndarray:
        """Class probabilities, shape (n, len(classes_)); featureless rows are all zero."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        logits, known = self._logits(texts)
        probabilities = softmax(logits, axis=1)
        probabilities[~known] = 0.0
        return probabilities

    def predict(self, texts: Iterable[object]) -> list[Prediction]:
        """The best label of each text and its confidence (one call for a whole batch).

        A text with no feature the model knows (empty, emoji only, unseen script) still gets
        the best-scoring label, but with confidence 0.0.
        """
        return self.predict_detailed(texts)[0]

    def predict_detailed(self, texts: Iterable[object]) -> tuple[list[Prediction], np.ndarray]:
        """`predict` and `predict_proba` from one pass over the texts."""
        texts = list(texts)
        self._require_fitted()
        if not texts:
            return [], np.zeros((0, len(self.classes_)))
        logits, known = self._logits(texts)
        probabilities = softmax(logits, axis=1)
        best = logits.argmax(axis=1)
        confidence = probabilities[np.arange(len(texts)), best]
        confidence[~known] = 0.0
        probabilities[~known] = 0.0
        predictions = [
            Prediction(label=self.classes_[index], confidence=float(value))
            for index, value in zip(best, confidence, strict=True)
        ]
        return predictions, probabilities

    def predict_one(self, text: object) -> Prediction:
        return self.predict([text])[0]

    # -- persistence ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The model as an .npz archive: a JSON header and numpy arrays, no pickled objects."""
        self._require_fitted()
        arrays: dict[str, np.ndarray] = {}
        block_params = {}
        for name, block in self._blocks.items():
            params, block_arrays = block.state()
            block_params[name] = params
            for key, value in block_arrays.items():
                arrays[f"block/{name}/{key}"] = value
        for index, member in enumerate(self._members):
            arrays[f"member/{index}/coef"] = member.weights.T  # (classes, features)
            arrays[f"member/{index}/intercept"] = member.intercept
        header = {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "sklearn_version": sklearn.__version__,
            "classes": list(self.classes_),
            "n_train": self.n_train_,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "blocks": block_params,
            "config": self.config_,
            "selection": self.selection_,
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, payload: bytes) -> TextClassifier:
        """Rebuild a model from `to_bytes` output; ValueError/KeyError if it is not one."""
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        header = json.loads(arrays.pop("header").tobytes().decode())
        if not isinstance(header, dict) or header.get("format") != _FORMAT_NAME:
            raise ClassifierLoadError("not a ticket classifier model file")
        if header.get("format_version") != FORMAT_VERSION:
            raise ClassifierLoadError(
                f"format version {header.get('format_version')!r}, this code reads version "
                f"{FORMAT_VERSION}: retrain the model"
            )
        model = cls()
        model.classes_ = [str(label) for label in header["classes"]]
        model.n_train_ = int(header["n_train"])
        model.selection_ = header.get("selection") or {}
        for name, params in header["blocks"].items():
            if name not in BLOCK_INPUT:
                raise ValueError(f"unknown feature block {name!r}")
            prefix = f"block/{name}/"
            block_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            model._blocks[name] = vectorizer_from_state(params, block_arrays)
        config = header["config"]
        model.ensemble_temperature_ = float(config["ensemble_temperature"])
        for index, member in enumerate(config["members"]):
            candidate = Candidate.from_json(member)
            coef = arrays[f"member/{index}/coef"]
            intercept = arrays[f"member/{index}/intercept"]
            width = sum(model._blocks[name].n_features_ for name in candidate.blocks)
            if coef.shape != (len(model.classes_), width) or intercept.shape != (coef.shape[0],):
                raise ValueError("the weights do not fit the features and classes")
            model._members.append(
                _Member(candidate, _weights(coef), intercept, float(member["temperature"]))
            )
        if not model._members:
            raise ValueError("the file holds no trained model")
        return model

    def save(self, path: str | os.PathLike[str], *, key: bytes | None = None) -> None:
        """Write the model to `path` (a temporary name renamed into place, so a reader never
        sees half a file); with `key`, signed with HMAC-SHA256 for `load` to verify."""
        payload = self.to_bytes()
        signature = hmac.new(key, payload, hashlib.sha256).digest() if key else bytes(32)
        target = Path(path)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(partial, "wb") as handle:
                handle.write(_MAGIC + signature + payload)
            os.replace(partial, target)
        finally:
            if partial.exists():
                partial.unlink()

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, key: bytes | None = None) -> TextClassifier:
        """Read a model written by `save`. With `key` the HMAC must match before anything is
        parsed; the file is numpy arrays and JSON only, so reading it never runs code.

        Raises ClassifierLoadError for a missing, unreadable, corrupt, unsigned or tampered
        file, or one of another format version.
        """
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except FileNotFoundError as exc:
            raise ClassifierLoadError(f"model file {path} does not exist") from exc
        except OSError as exc:
            raise ClassifierLoadError(f"model file {path} is unreadable: {exc}") from exc
        if not content.startswith(_MAGIC):
            raise ClassifierLoadError(f"{path} is not a ticket classifier model file")
        start = len(_MAGIC)
        signature = content[start : start + _SIGNATURE_BYTES]
        payload = content[start + _SIGNATURE_BYTES :]
        if key is not None:
            expected = hmac.new(key, payload, hashlib.sha256).digest()
            if not hmac.compare_digest(signature, expected):
                raise ClassifierLoadError(
                    f"model file {path} is not signed by this desk (changed, or the secret key "
                    "changed): retrain the model"
                )
        try:
            return cls.from_bytes(payload)
        except ClassifierLoadError as exc:
            raise ClassifierLoadError(f"model file {path}: {exc}") from exc
        except Exception as exc:  # any way a damaged archive can fail to parse
            raise ClassifierLoadError(
                f"model file {path} is corrupt or unreadable: {type(exc).__name__}: {exc}"
            ) from exc
