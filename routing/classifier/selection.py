"""Model selection by stratified k-fold cross-validation on the training data (macro-F1).

Stage 1 compares the feature sets of `candidates.FEATURE_SETS` with a class-weighted linear SVM,
and the plain baseline (TfidfVectorizer() + LinearSVC() defaults) on the same folds. Stage 2
tries the other models and weightings on the two best feature sets. Finally an ensemble of the
three best candidates (mean of their temperature-scaled scores) is scored from the held-out
scores already computed; it is chosen only if it beats the best single candidate. Every fold
score and the calibration figures come from rows the scoring model was not trained on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score

from . import calibration
from .candidates import (
    BASELINE,
    BLOCK_INPUT,
    DEFAULT,
    FEATURE_SETS,
    SMALL_TRAINING_SET,
    Candidate,
    fit_linear,
    linear_scores,
    new_block,
    stage_two,
)

#: Selection runs on at most this many texts (a stratified sample); the chosen configuration
#: is then trained on all of them. Keeps a 50,000-example retraining inside its time budget.
MAX_SELECTION_TEXTS = 10_000
#: Below this many held-out texts the cross-validation cannot tell candidates apart: the
#: default configuration is used.
MIN_SELECTION_EXAMPLES = 30
#: An ensemble costs two to three times the prediction time: it must win by this much.
ENSEMBLE_MARGIN = 0.002
STAGE_TWO_FEATURE_SETS = 2
ENSEMBLE_SIZE = 3
#: Successive halving from this many selection texts (below, every fit is cheap): each stage
#: first scores its candidates on one fold, and only the best go on to the other folds.
HALVING_FROM = 3_000
#: How many candidates of a stage go on to the full cross-validation (the plain baseline and
#: the default configuration always do, besides).
STAGE_ONE_KEEP = 4
STAGE_TWO_KEEP = 3


def n_folds_for(n_docs: int) -> int:
    """More folds where data is scarce, fewer where each fit is expensive."""
    if n_docs <= 2_000:
        return 5
    if n_docs <= 5_000:
        return 4
    return 3


def stratified_folds(labels: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """A fold number per example, or -1 for examples that are never held out.

    Each class's examples are dealt round-robin (from a random start) over the folds, so a
    class with at most `n_folds` examples has each in a different fold and always keeps a
    fitting example; a class with a single example is never held out. Every model trained
    without one fold therefore knows all the classes.
    """
    rng = np.random.default_rng(seed)
    folds = np.full(labels.size, -1, dtype=np.int64)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if members.size >= 2:
            start = int(rng.integers(n_folds))
            folds[members] = (start + np.arange(members.size)) % n_folds
    return folds


def stratified_sample(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted indices of about `size` examples with the class proportions kept (at least two
    of each class, or all it has)."""
    if labels.size <= size:
        return np.arange(labels.size)
    rng = np.random.default_rng(seed)
    fraction = size / labels.size
    chosen = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        chosen.append(members[: max(2, round(fraction * members.size))])
    return np.sort(np.concatenate(chosen))


class FoldFeatures:
    """The block matrices of every fold, computed once per block and shared by candidates.

    Small sets refit each block without the held-out fold: otherwise a held-out text's own
    rare words would be in the vocabulary, dilute its vector and shrink its scores, which
    made confidences far too high. From SMALL_TRAINING_SET texts on (min_df=2) blocks are
    fitted once on all texts and sliced: the dilution is small and refitting costs seconds.
    """

    def __init__(self, docs: dict[str, list[str]], folds: np.ndarray) -> None:
        self.docs = docs
        self.folds = folds
        self.fold_ids = [int(f) for f in np.unique(folds) if f >= 0]
        self.n_docs = folds.size
        self.refit = self.n_docs < SMALL_TRAINING_SET
        self._cache: dict[str, Any] = {}

    def _block(self, name: str):
        if name not in self._cache:
            texts = self.docs[BLOCK_INPUT[name]]
            if self.refit:
                per_fold = []
                for fold in self.fold_ids:
                    held = self.folds == fold
                    block = new_block(name, int((~held).sum()))
                    train = block.fit_transform([texts[i] for i in np.flatnonzero(~held)])
                    test = block.transform([texts[i] for i in np.flatnonzero(held)])
                    per_fold.append((train, test))
                self._cache[name] = per_fold
            else:
                self._cache[name] = new_block(name, self.n_docs).fit_transform(texts).tocsr()
        return self._cache[name]

    def matrices(self, blocks: tuple[str, ...], fold_index: int):
        """(train rows, held-out rows) of the union of `blocks` for one fold."""
        held = self.folds == self.fold_ids[fold_index]
        trains, tests = [], []
        for name in blocks:
            cached = self._block(name)
            if self.refit:
                train, test = cached[fold_index]
            else:
                train, test = cached[~held], cached[held]
            trains.append(train)
            tests.append(test)
        if len(blocks) == 1:
            return trains[0].tocsr(), tests[0].tocsr()
        return sp.hstack(trains, format="csr"), sp.hstack(tests, format="csr")


@dataclass
class Scored:
    """A candidate's held-out scores over all folds and what they measure."""

    candidate: Candidate
    scores: np.ndarray  # (held-out rows, classes), rows in `Selection.held_order`
    informative: np.ndarray  # held-out rows with at least one known feature
    macro_f1: float = 0.0
    seconds: float = 0.0


@dataclass
class Selection:
    """The outcome of model selection (see `select`)."""

    members: list[Candidate]
    temperatures: list[float]  # per member, fitted on all its held-out scores
    ensemble_temperature: float
    summary: dict[str, Any] = field(default_factory=dict)


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def _fold_scores(
    candidate: Candidate, features: FoldFeatures, y: np.ndarray, n_classes: int, index: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """(held-out scores, informative rows, CPU seconds) of one fold."""
    started = time.process_time()
    held = features.folds == features.fold_ids[index]
    train, test = features.matrices(candidate.blocks, index)
    coef, intercept = fit_linear(candidate, train, y[~held], n_classes)
    scores = linear_scores(test, coef, intercept)
    return scores, np.diff(test.indptr) > 0, time.process_time() - started


def _score_candidate(
    candidate: Candidate,
    features: FoldFeatures,
    y: np.ndarray,
    n_classes: int,
    done: dict | None = None,
) -> Scored:
    """Every fold's held-out scores; folds already scored (`done`: fold index → result of
    `_fold_scores`, from a halving rung) are not fitted again."""
    done = done or {}
    results = [
        done[index] if index in done else _fold_scores(candidate, features, y, n_classes, index)
        for index in range(len(features.fold_ids))
    ]
    return Scored(
        candidate,
        np.vstack([scores for scores, _informative, _seconds in results]),
        np.concatenate([informative for _scores, informative, _seconds in results]),
        seconds=sum(seconds for _scores, _informative, seconds in results),
    )


def _logits(scored: Scored, truth: np.ndarray, fold_of_row: np.ndarray) -> np.ndarray:
    """Scores divided by the temperature fitted on the other folds (cross-fitted)."""
    logits = np.zeros_like(scored.scores)
    keep = scored.informative
    for fold in np.unique(fold_of_row):
        held = fold_of_row == fold
        fit_rows = ~held & keep
        temperature = calibration.fit_temperature(scored.scores[fit_rows], truth[fit_rows])
        logits[held] = scored.scores[held] / temperature
    return logits


def _calibration_report(
    logits: np.ndarray, informative: np.ndarray, truth: np.ndarray, fold_of_row: np.ndarray
) -> dict[str, Any]:
    """ECE and the precision curve of cross-fitted probabilities (featureless rows get
    confidence 0, as in prediction)."""
    probabilities, _temperatures = calibration.cross_fitted_probabilities(
        logits, truth, fold_of_row
    )
    confidence = probabilities.max(axis=1)
    confidence[~informative] = 0.0
    correct = probabilities.argmax(axis=1) == truth
    ok = informative
    return {
        "ece": round(float(calibration.expected_calibration_error(confidence[ok], correct[ok])), 4),
        "mean_confidence": round(float(confidence[ok].mean()), 4) if ok.any() else None,
        "accuracy": round(float(correct.mean()), 4),
        "curve": calibration.precision_curve(confidence, correct),
    }


def select(
    docs: dict[str, list[str]],
    labels: np.ndarray,
    classes: list[str],
    *,
    seed: int = 0,
    log=None,
) -> Selection | None:
    """Choose the configuration for these texts and labels, or None when there are too few
    held-out examples to choose (the caller then uses `candidates.DEFAULT`)."""
    say = log or (lambda _message: None)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    class_index = {label: i for i, label in enumerate(classes)}
    sample = stratified_sample(labels, MAX_SELECTION_TEXTS, seed)
    y = np.asarray([class_index[label] for label in labels[sample]], dtype=np.int64)
    n_folds = n_folds_for(sample.size)
    folds = stratified_folds(labels[sample], n_folds, seed)
    if int((folds >= 0).sum()) < MIN_SELECTION_EXAMPLES:
        return None
    features = FoldFeatures(
        {kind: [texts[i] for i in sample] for kind, texts in docs.items()}, folds
    )
    # Held-out rows in the order the folds are stacked.
    order = np.concatenate([np.flatnonzero(folds == fold) for fold in features.fold_ids])
    truth, fold_of_row = y[order], folds[order]
    n_classes = len(classes)

    scored: dict[Candidate, Scored] = {}
    rung: dict[Candidate, tuple] = {}  # first-fold results of the halving rungs
    pruned: list[dict[str, Any]] = []
    halving = sample.size >= HALVING_FROM and len(features.fold_ids) > 1
    first_fold = features.folds == features.fold_ids[0]

    def run(candidate: Candidate) -> Scored:
        if candidate not in scored:
            done = {0: rung[candidate]} if candidate in rung else None
            result = _score_candidate(candidate, features, y, n_classes, done)
            result.macro_f1 = _macro_f1(truth, result.scores.argmax(axis=1))
            scored[candidate] = result
            say(f"  {candidate.name}: CV macro-F1 {result.macro_f1:.4f} ({result.seconds:.1f} s)")
        return scored[candidate]

    def screen(candidates: list[Candidate], keep: int) -> list[Candidate]:
        """Successive halving: every candidate on the first fold; the best `keep` (and always
        the baseline and the default) go on to the other folds, reusing that fold's fit."""
        fresh = [c for c in candidates if c not in scored]
        if not halving or len(fresh) <= keep:
            return candidates
        fold_truth = y[first_fold]
        one_fold = {}
        for candidate in fresh:
            rung[candidate] = _fold_scores(candidate, features, y, n_classes, 0)
            one_fold[candidate] = _macro_f1(fold_truth, rung[candidate][0].argmax(axis=1))
        ranked = sorted(fresh, key=lambda c: -one_fold[c])  # stable: the earlier wins a tie
        kept = set(ranked[:keep]) | ({BASELINE, DEFAULT} & set(fresh))
        for candidate in ranked:
            if candidate not in kept:
                pruned.append(
                    {
                        "name": candidate.name,
                        "first_fold_macro_f1": round(one_fold[candidate], 4),
                        "cpu_seconds": round(rung[candidate][2], 2),
                    }
                )
                say(f"  {candidate.name}: pruned after one fold ({one_fold[candidate]:.4f})")
        return [c for c in candidates if c in kept or c in scored]

    say(f"model selection: {sample.size} texts, {n_folds}-fold stratified cross-validation")
    first = [Candidate(blocks, "svm") for blocks in FEATURE_SETS]
    for candidate in screen([first[0], BASELINE, *first[1:]], STAGE_ONE_KEEP):
        run(candidate)
    ranked_sets = sorted((c for c in first if c in scored), key=lambda c: -scored[c].macro_f1)
    second = [
        candidate
        for rank, best in enumerate(ranked_sets[:STAGE_TWO_FEATURE_SETS])
        for candidate in stage_two(best.blocks, rank)
    ]
    for candidate in screen(second, STAGE_TWO_KEEP):
        run(candidate)

    # Stable order: the earlier candidate wins a tie (the default configuration comes first).
    ranking = sorted(scored.values(), key=lambda s: -s.macro_f1)
    best_single = ranking[0]
    logits = {s.candidate: _logits(s, truth, fold_of_row) for s in ranking[:ENSEMBLE_SIZE]}
    members, chosen_logits, informative = (
        [best_single.candidate],
        logits[best_single.candidate],
        best_single.informative,
    )
    ensemble_f1 = None
    if len(ranking) >= ENSEMBLE_SIZE:
        top = ranking[:ENSEMBLE_SIZE]
        mean_logits = np.mean([logits[s.candidate] for s in top], axis=0)
        ensemble_f1 = _macro_f1(truth, mean_logits.argmax(axis=1))
        say(f"  ensemble of the top {ENSEMBLE_SIZE}: CV macro-F1 {ensemble_f1:.4f}")
        if ensemble_f1 >= best_single.macro_f1 + ENSEMBLE_MARGIN:
            members = [s.candidate for s in top]
            chosen_logits = mean_logits
            informative = np.any([s.informative for s in top], axis=0)

    temperatures = [
        calibration.fit_temperature(
            scored[c].scores[scored[c].informative], truth[scored[c].informative]
        )
        for c in members
    ]
    ensemble_temperature = calibration.DEFAULT_TEMPERATURE
    if len(members) > 1:
        mean_all = np.mean(
            [scored[c].scores / t for c, t in zip(members, temperatures, strict=True)], axis=0
        )
        ensemble_temperature = calibration.fit_temperature(
            mean_all[informative], truth[informative]
        )
    report = _calibration_report(chosen_logits, informative, truth, fold_of_row)
    cv_macro_f1 = ensemble_f1 if len(members) > 1 else best_single.macro_f1
    summary = {
        "method": f"stratified {n_folds}-fold cross-validation, macro-F1",
        "folds": n_folds,
        "n_selection": int(sample.size),
        "n_held_out": int(truth.size),
        "chosen": " | ".join(c.name for c in members),
        "ensemble": len(members) > 1,
        "cv_macro_f1": round(cv_macro_f1, 4),
        "baseline": BASELINE.name,
        "baseline_cv_macro_f1": round(scored[BASELINE].macro_f1, 4),
        "ensemble_cv_macro_f1": round(ensemble_f1, 4) if ensemble_f1 is not None else None,
        "candidates": [
            {
                "name": s.candidate.name,
                "cv_macro_f1": round(s.macro_f1, 4),
                "cpu_seconds": round(s.seconds, 2),
            }
            for s in ranking
        ],
        "pruned": pruned,
        **report,
        "selection_seconds": round(time.perf_counter() - started_wall, 2),
        "selection_cpu_seconds": round(time.process_time() - started_cpu, 2),
    }
    return Selection(members, temperatures, ensemble_temperature, summary)
