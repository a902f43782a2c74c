"""One label's model: regularisation, calibration, keyword blend and threshold, all by inner CV.

Everything here is chosen from out-of-fold predictions on the training data it is given, so
a caller that passes only training folds never leaks holdout labels into any choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

__all__ = ["LabelModel", "fit_label_model", "choose_threshold"]

_EPS = 1e-6


@dataclass
class LabelModel:
    """A fitted label: ``mode`` is "model" (classifier blended with keywords) or "keywords"."""

    label: str
    mode: str
    n_positive: int
    threshold: float
    blend_weight: float = 0.0
    platt_slope: float = 1.0
    platt_intercept: float = 0.0
    regularisation_c: float = 0.0
    estimator: LogisticRegression | None = None

    def probability(self, features: sp.csr_matrix, prior: np.ndarray) -> np.ndarray:
        """Calibrated probability: classifier (Platt-scaled) blended with the keyword prior."""
        if self.estimator is None:
            return prior
        scores = self.estimator.decision_function(features)
        model = _sigmoid(self.platt_slope * scores + self.platt_intercept)
        return self.blend_weight * model + (1.0 - self.blend_weight) * prior


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -40, 40))), dtype=float)


def choose_threshold(probabilities: np.ndarray, truth: np.ndarray, default: float) -> float:
    """The F1-maximising cut on out-of-fold probabilities; the middle of the best plateau."""
    if truth.sum() == 0:
        return default
    values = np.unique(np.round(probabilities, 6))
    cuts = np.concatenate([[values[0] - _EPS], (values[:-1] + values[1:]) / 2, [values[-1] + _EPS]])
    best_f1, best_cuts = -1.0, [default]
    for cut in cuts:
        predicted = probabilities >= cut
        tp = float(np.sum(predicted & (truth == 1)))
        f1 = 2 * tp / (predicted.sum() + truth.sum()) if predicted.sum() + truth.sum() else 0.0
        if f1 > best_f1 + 1e-12:
            best_f1, best_cuts = f1, [cut]
        elif abs(f1 - best_f1) <= 1e-12:
            best_cuts.append(cut)
    return float(np.clip(np.median(best_cuts), 0.05, 0.95))


def _log_loss(probabilities: np.ndarray, truth: np.ndarray) -> float:
    p = np.clip(probabilities, 1e-4, 1 - 1e-4)
    return float(-np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p)))


def _new_estimator(c: float, seed: int) -> LogisticRegression:
    """Dual liblinear: far faster than the primal when features outnumber documents."""
    return LogisticRegression(
        C=c,
        class_weight="balanced",
        solver="liblinear",
        dual=True,
        max_iter=1000,
        random_state=seed,
    )


def fit_label_model(
    label: str,
    features: sp.csr_matrix,
    truth: np.ndarray,
    prior: np.ndarray,
    *,
    c_grid: Sequence[float],
    blend_grid: Sequence[float],
    inner_folds: int,
    min_positive: int,
    prior_threshold: float,
    seed: int,
) -> LabelModel:
    """Fit one label; too few positives (or negatives) fall back to the keyword prior."""
    n_positive = int(truth.sum())
    n_negative = int(len(truth) - n_positive)
    if min(n_positive, n_negative) < max(min_positive, 2):
        return LabelModel(label, "keywords", n_positive, threshold=prior_threshold)
    folds = StratifiedKFold(
        min(inner_folds, n_positive, n_negative), shuffle=True, random_state=seed
    )
    splits = list(folds.split(np.zeros(len(truth)), truth))
    best_c, best_scores, best_quality = c_grid[0], np.zeros(len(truth)), -1.0
    for c in c_grid:
        out_of_fold = np.zeros(len(truth))
        for train, valid in splits:
            model = _new_estimator(c, seed).fit(features[train], truth[train])
            out_of_fold[valid] = model.decision_function(features[valid])
        quality = float(average_precision_score(truth, out_of_fold))
        if quality > best_quality + 1e-9:
            best_c, best_scores, best_quality = c, out_of_fold, quality
    platt = LogisticRegression(C=100.0).fit(best_scores.reshape(-1, 1), truth)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = _sigmoid(slope * best_scores + intercept)
    blend = min(blend_grid, key=lambda w: (_log_loss(w * calibrated + (1 - w) * prior, truth), -w))
    blended = blend * calibrated + (1 - blend) * prior
    return LabelModel(
        label=label,
        mode="model",
        n_positive=n_positive,
        threshold=choose_threshold(blended, truth, default=0.5),
        blend_weight=float(blend),
        platt_slope=slope,
        platt_intercept=intercept,
        regularisation_c=float(best_c),
        estimator=_new_estimator(best_c, seed).fit(features, truth),
    )
