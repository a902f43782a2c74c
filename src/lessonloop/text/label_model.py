"""One label's model: regularisation, calibration, keyword blend and threshold, all by inner CV.

Everything here is chosen from out-of-fold predictions on the training data it is given, so
a caller that passes only training folds never leaks holdout labels into any choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

__all__ = [
    "LabelModel",
    "THRESHOLD_RULES",
    "OutOfFold",
    "choose_threshold",
    "finish_label_model",
    "fit_label_model",
    "has_enough_examples",
    "label_out_of_fold",
    "log_loss",
    "shrunk_blend",
]

_EPS = 1e-6
THRESHOLD_RULES = ("plateau", "half_best_f1")


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
    out_of_fold: np.ndarray | None = field(default=None, repr=False, compare=False)

    def probability(self, features: sp.csr_matrix, prior: np.ndarray) -> np.ndarray:
        """Calibrated probability: classifier (Platt-scaled) blended with the keyword prior."""
        if self.estimator is None:
            return prior
        scores = self.estimator.decision_function(features)
        model = _sigmoid(self.platt_slope * scores + self.platt_intercept)
        return self.blend_weight * model + (1.0 - self.blend_weight) * prior


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -40, 40))), dtype=float)


def choose_threshold(
    probabilities: np.ndarray, truth: np.ndarray, default: float, rule: str = "plateau"
) -> float:
    """The F1-maximising cut on out-of-fold probabilities; the middle of the best plateau.

    ``rule="half_best_f1"`` instead cuts at half the best out-of-fold F1: for calibrated
    probabilities that is where the F1-optimal threshold lies (Lipton et al., 2014), and it
    moves far less with a handful of positives than the argmax itself.
    """
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
    if rule == "half_best_f1":
        return float(np.clip(best_f1 / 2, 0.05, 0.95))
    return float(np.clip(np.median(best_cuts), 0.05, 0.95))


def log_loss(probabilities: np.ndarray, truth: np.ndarray) -> float:
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


@dataclass
class OutOfFold:
    """A label's inner-CV outcome: chosen C, Platt scaling and out-of-fold calibrated scores."""

    regularisation_c: float
    platt_slope: float
    platt_intercept: float
    calibrated: np.ndarray
    average_precision: float = 0.0


def label_out_of_fold(
    features: sp.csr_matrix,
    truth: np.ndarray,
    *,
    c_grid: Sequence[float],
    inner_folds: int,
    seed: int,
    repeats: int = 1,
) -> OutOfFold:
    """Pick C by out-of-fold average precision and Platt-scale its out-of-fold scores.

    With ``repeats`` > 1 the inner CV is repeated over reshuffled folds and each text's
    out-of-fold score is the mean over repeats (steadier C, calibration and thresholds).
    """
    n_positive = int(truth.sum())
    n_negative = int(len(truth) - n_positive)
    splits = [
        split
        for repeat in range(max(repeats, 1))
        for split in StratifiedKFold(
            min(inner_folds, n_positive, n_negative), shuffle=True, random_state=seed + repeat
        ).split(np.zeros(len(truth)), truth)
    ]
    best_c, best_scores, best_quality = c_grid[0], np.zeros(len(truth)), -1.0
    for c in c_grid:
        out_of_fold = np.zeros(len(truth))
        for train, valid in splits:
            model = _new_estimator(c, seed).fit(features[train], truth[train])
            out_of_fold[valid] += model.decision_function(features[valid]) / max(repeats, 1)
        quality = float(average_precision_score(truth, out_of_fold))
        if quality > best_quality + 1e-9:
            best_c, best_scores, best_quality = c, out_of_fold, quality
    platt = LogisticRegression(C=100.0).fit(best_scores.reshape(-1, 1), truth)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = _sigmoid(slope * best_scores + intercept)
    return OutOfFold(float(best_c), slope, intercept, calibrated, best_quality)


def has_enough_examples(truth: np.ndarray, min_positive: int) -> bool:
    """Whether a label has enough positives and negatives for a learned model."""
    n_positive = int(truth.sum())
    return min(n_positive, len(truth) - n_positive) >= max(min_positive, 2)


def shrunk_blend(n_positive: int, pseudo_count: float) -> float:
    """Weight of the learned model when it is shrunk toward the keyword prior."""
    return n_positive / (n_positive + pseudo_count) if n_positive + pseudo_count > 0 else 0.0


def finish_label_model(
    label: str,
    features: sp.csr_matrix,
    truth: np.ndarray,
    prior: np.ndarray,
    out_of_fold: OutOfFold,
    blend: float,
    seed: int,
    threshold_rule: str = "plateau",
) -> LabelModel:
    """Refit on all given data with the chosen C; threshold from the out-of-fold blend."""
    blended = blend * out_of_fold.calibrated + (1 - blend) * prior
    return LabelModel(
        label=label,
        mode="model",
        n_positive=int(truth.sum()),
        threshold=choose_threshold(blended, truth, default=0.5, rule=threshold_rule),
        blend_weight=float(blend),
        platt_slope=out_of_fold.platt_slope,
        platt_intercept=out_of_fold.platt_intercept,
        regularisation_c=out_of_fold.regularisation_c,
        estimator=_new_estimator(out_of_fold.regularisation_c, seed).fit(features, truth),
        out_of_fold=blended,
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
    threshold_rule: str = "plateau",
    out_of_fold: OutOfFold | None = None,
    inner_repeats: int = 1,
) -> LabelModel:
    """Fit one label; too few positives (or negatives) fall back to the keyword prior.

    ``out_of_fold``, when given, is this label's inner-CV result already computed on
    ``features`` (saves refitting it).
    """
    if not has_enough_examples(truth, min_positive):
        return LabelModel(label, "keywords", int(truth.sum()), threshold=prior_threshold)
    oof = out_of_fold or label_out_of_fold(
        features, truth, c_grid=c_grid, inner_folds=inner_folds, seed=seed, repeats=inner_repeats
    )
    blend = min(
        blend_grid, key=lambda w: (log_loss(w * oof.calibrated + (1 - w) * prior, truth), -w)
    )
    return finish_label_model(label, features, truth, prior, oof, blend, seed, threshold_rule)
