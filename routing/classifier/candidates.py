"""The candidate configurations model selection chooses from: feature blocks and linear models.

A candidate is a set of TF-IDF blocks (joined side by side, each l2-normalised) and one linear
model. Every fitted model is reduced to the same linear form, scores = X · coefᵀ + intercept,
with one row of `coef` per class, so prediction and the model file do not depend on which
scikit-learn estimator produced it.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from .vectorizers import CharNgramVectorizer, WordNgramVectorizer

#: Below this many training texts every feature is kept (min_df=1); from here on features seen
#: in a single text are dropped: they cannot help on other texts but make the model big.
SMALL_TRAINING_SET = 1_000
#: Features per block at most: the model stores one weight per feature and class.
MAX_BLOCK_FEATURES = 200_000

#: Block name → what it reads ("plain": lower-cased text as TfidfVectorizer() reads it;
#: "nfkc": `text.normalize_text`).
BLOCK_INPUT = {
    "words": "plain",
    "jieba12": "nfkc",
    "char13": "nfkc",
    "char24": "nfkc",
    "char25": "nfkc",
}


def new_block(name: str, n_docs: int):
    """A fresh vectorizer for block `name`, sized for a training set of `n_docs` texts."""
    min_df = 1 if n_docs < SMALL_TRAINING_SET else 2
    if name == "words":
        # Exactly scikit-learn's TfidfVectorizer() defaults: the plain baseline's features.
        return WordNgramVectorizer(tokenizer="plain", ngram_max=1, sublinear_tf=False)
    if name == "jieba12":
        return WordNgramVectorizer(
            tokenizer="jieba", ngram_max=2, min_df=min_df, max_features=MAX_BLOCK_FEATURES
        )
    if name in ("char13", "char24", "char25"):
        low, high = int(name[4]), int(name[5])
        return CharNgramVectorizer(
            ngram_range=(low, high), min_df=min_df, max_features=MAX_BLOCK_FEATURES
        )
    raise ValueError(f"unknown feature block {name!r}")


@dataclass(frozen=True)
class Candidate:
    """One configuration: feature blocks and a linear model with its settings."""

    blocks: tuple[str, ...]
    model: str  # "svm" (LinearSVC), "lr" (LogisticRegression), "cnb" (ComplementNB)
    C: float = 0.5
    class_weight: str | None = "balanced"
    tol: float = 1e-2
    alpha: float = 0.3

    @property
    def name(self) -> str:
        features = "+".join(self.blocks)
        if self.model == "cnb":
            return f"{features} cnb(alpha={self.alpha:g})"
        weight = self.class_weight or "unweighted"
        return f"{features} {self.model}(C={self.C:g}, {weight})"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocks"] = list(self.blocks)
        data["name"] = self.name
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            blocks=tuple(data["blocks"]),
            model=data["model"],
            C=float(data["C"]),
            class_weight=data["class_weight"],
            tol=float(data["tol"]),
            alpha=float(data["alpha"]),
        )

    def estimator(self, random_state: int = 0):
        if self.model == "svm":
            # dual=True: text has more features than documents, where the dual solver is the
            # fast one. tol=0.01 (liblinear's own default is 0.1) halves the iterations of
            # scikit-learn's 1e-4 for the same predictions; the baseline keeps 1e-4.
            return LinearSVC(
                C=self.C,
                class_weight=self.class_weight,
                tol=self.tol,
                dual=True,
                max_iter=5000,
                random_state=random_state,
            )
        if self.model == "lr":
            # saga, a few epochs: multinomial and fast on sparse text (lbfgs took 15 times
            # longer on 10,000 tickets for the same accuracy); not run to convergence.
            return LogisticRegression(
                C=self.C,
                class_weight=self.class_weight,
                solver="saga",
                max_iter=15,
                tol=1e-3,
                random_state=random_state,
            )
        if self.model == "cnb":
            return ComplementNB(alpha=self.alpha)
        raise ValueError(f"unknown model {self.model!r}")


#: The reference: scikit-learn's defaults, TfidfVectorizer() + LinearSVC(). Always a candidate,
#: so the chosen configuration is never worse than it on the cross-validation.
BASELINE = Candidate(("words",), "svm", C=1.0, class_weight=None, tol=1e-4)
#: Used when the training set is too small to choose by cross-validation (a fresh desk).
DEFAULT = Candidate(("jieba12", "char24"), "svm")

#: Stage 1 compares feature sets with one model; the earliest wins a tie.
FEATURE_SETS: tuple[tuple[str, ...], ...] = (
    ("jieba12", "char24"),
    ("words",),
    ("jieba12",),
    ("char13",),
    ("char24",),
    ("char25",),
    ("jieba12", "char13"),
)


def stage_two(blocks: tuple[str, ...], rank: int) -> list[Candidate]:
    """Stage 2: other models and weightings on the best feature set (`rank` 0), the two
    likeliest of them on the runner-up (training time is bounded)."""
    candidates = [
        Candidate(blocks, "lr", C=10.0),
        Candidate(blocks, "svm", C=0.5, class_weight=None),
        Candidate(blocks, "svm", C=0.2),
        Candidate(blocks, "cnb", class_weight=None, alpha=0.3),
    ]
    return candidates if rank == 0 else candidates[:2]


def fit_linear(
    candidate: Candidate, matrix: sp.csr_matrix, labels: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit the candidate's model on `matrix` and integer `labels` (0..n_classes-1, every class
    present); return (coef (n_classes, n_features), intercept (n_classes,))."""
    estimator = candidate.estimator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(matrix, labels)
    if candidate.model == "cnb":
        coef = np.asarray(estimator.feature_log_prob_, dtype=np.float64)
        intercept = np.zeros(coef.shape[0])
    else:
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        intercept = np.asarray(estimator.intercept_, dtype=np.float64).ravel()
    if coef.shape[0] == 1 and n_classes == 2:
        # A binary model scores the second class; the first gets the opposite score.
        coef = np.vstack([-coef[0], coef[0]])
        intercept = np.array([-intercept[0], intercept[0]])
    if coef.shape[0] != n_classes:
        raise ValueError(f"the model knows {coef.shape[0]} of {n_classes} classes")
    return coef, intercept


def linear_scores(matrix: sp.csr_matrix, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """scores (n, n_classes) = matrix · coefᵀ + intercept."""
    return np.asarray(matrix @ coef.T, dtype=np.float64) + intercept


class FeatureSet:
    """A candidate's feature blocks side by side, fitted together: the classifier's own
    featuriser, also for other apps that compare ticket texts (reports' repeated problems)."""

    def __init__(self, blocks: tuple[str, ...], n_docs: int) -> None:
        self.blocks = [new_block(name, n_docs) for name in blocks]

    def fit_transform(self, texts) -> sp.csr_matrix:
        return sp.hstack([block.fit_transform(texts) for block in self.blocks]).tocsr()

    def transform(self, texts) -> sp.csr_matrix:
        return sp.hstack([block.transform(texts) for block in self.blocks]).tocsr()


def build_features(n_docs: int) -> FeatureSet:
    """The default candidate's features (jieba words + character n-grams) for `n_docs` texts."""
    return FeatureSet(DEFAULT.blocks, n_docs)
