"""Turning scores into confidences that mean something, and measuring how well they do.

Temperature scaling: confidence = softmax(scores / T), with T fitted by maximum likelihood on
held-out scores. Expected calibration error and the precision / automation curve are computed
on held-out folds whose temperature was fitted on the other folds (cross-fitting), so the
reported numbers are not flattered by fitting and measuring on the same rows.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp, softmax

DEFAULT_TEMPERATURE = 1.0
#: Fewer held-out examples than this give a too noisy temperature.
MIN_CALIBRATION_EXAMPLES = 20
ECE_BINS = 15
#: Thresholds of the precision / automation curve: 0.00, 0.01, ..., 1.00.
CURVE_STEPS = 101


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature minimising the negative log-likelihood of the true classes
    (DEFAULT_TEMPERATURE when there are too few examples)."""
    if truth.size < MIN_CALIBRATION_EXAMPLES:
        return DEFAULT_TEMPERATURE
    rows = np.arange(truth.size)

    def nll(log_t: float) -> float:
        scaled = scores / math.exp(log_t)
        return float(np.mean(logsumexp(scaled, axis=1) - scaled[rows, truth]))

    # Wide bounds: naive Bayes log-likelihoods are far larger than SVM margins.
    result = minimize_scalar(nll, bounds=(math.log(1e-3), math.log(1e3)), method="bounded")
    return float(math.exp(result.x))


def cross_fitted_probabilities(
    scores: np.ndarray, truth: np.ndarray, folds: np.ndarray
) -> tuple[np.ndarray, list[float]]:
    """Probabilities of each held-out row with a temperature fitted on the other folds' rows;
    also each fold's temperature."""
    probabilities = np.zeros_like(scores)
    temperatures = []
    for fold in np.unique(folds):
        held = folds == fold
        temperature = fit_temperature(scores[~held], truth[~held])
        temperatures.append(temperature)
        probabilities[held] = softmax(scores[held] / temperature, axis=1)
    return probabilities, temperatures


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray) -> float:
    """Top-label ECE: the mean |accuracy − confidence| over equal-width confidence bins,
    weighted by the share of rows in each bin."""
    if confidence.size == 0:
        return 0.0
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    total = 0.0
    for index in range(ECE_BINS):
        members = bins == index
        if members.any():
            gap = abs(float(correct[members].mean()) - float(confidence[members].mean()))
            total += gap * members.sum() / confidence.size
    return total


def precision_curve(confidence: np.ndarray, correct: np.ndarray) -> dict[str, list[float]]:
    """For thresholds 0.00 … 1.00: the share of tickets classified automatically (confidence
    at or above the threshold) and the precision of those (None where no ticket is left)."""
    thresholds = np.round(np.linspace(0.0, 1.0, CURVE_STEPS), 2)
    shares: list[float] = []
    precisions: list[float | None] = []
    for threshold in thresholds:
        automatic = confidence >= threshold
        count = int(automatic.sum())
        shares.append(round(count / max(confidence.size, 1), 4))
        precisions.append(round(float(correct[automatic].mean()), 4) if count else None)
    return {"thresholds": thresholds.tolist(), "auto_share": shares, "precision": precisions}


def threshold_for_precision(curve: dict[str, list], target: float) -> tuple[float, float, bool]:
    """The lowest threshold whose automatic decisions reach `target` precision on the held-out
    folds → (threshold, share sent to triage, reachable). Unreachable: 1.0 and (almost)
    everything goes to triage."""
    for threshold, share, precision in zip(
        curve["thresholds"], curve["auto_share"], curve["precision"], strict=True
    ):
        if precision is not None and precision >= target and share > 0:
            return float(threshold), round(1.0 - float(share), 4), True
    return 1.0, round(1.0 - float(curve["auto_share"][-1]), 4), False


def share_to_triage(curve: dict[str, list], threshold: float) -> float:
    """The share of held-out tickets below `threshold` (sent to manual triage)."""
    index = round(min(max(threshold, 0.0), 1.0) * (CURVE_STEPS - 1))
    return round(1.0 - float(curve["auto_share"][index]), 4)
