"""Label co-occurrence: a second-stage model per label over every label's first-stage score.

Failure modes travel together (a config change in the cloud; a cascade after a hardware
fault), so each label's final probability is a small logistic regression on the logits of all
labels' out-of-fold first-stage probabilities (stacking). A label keeps its stack only when
the stack's own out-of-fold log-loss beats the first stage's; its threshold is chosen on the
stack's out-of-fold probabilities. All of it is inner cross-validation on training data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from lessonloop.text.label_model import (
    LabelModel,
    choose_threshold,
    has_enough_examples,
    log_loss,
)

__all__ = ["LabelStack", "apply_label_stacks", "fit_label_stacks", "stack_fitted_labels"]


@dataclass(frozen=True)
class LabelStack:
    """One label's second stage: weights over all labels' first-stage logits, and a cut."""

    coefficients: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, logits: np.ndarray) -> np.ndarray:
        """Second-stage probability from first-stage logits (documents x trained labels)."""
        values = logits @ np.asarray(self.coefficients) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(values, -40, 40))), dtype=float)


def _logits(probabilities: np.ndarray) -> np.ndarray:
    clipped = np.clip(probabilities, 1e-3, 1 - 1e-3)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=float)


def fit_label_stacks(
    labels: tuple[str, ...],
    out_of_fold: np.ndarray,
    truth: np.ndarray,
    *,
    min_positive: int,
    inner_folds: int,
    seed: int,
    regularisation_c: float = 1.0,
) -> dict[str, LabelStack]:
    """Stacks for the labels where one helps (out-of-fold log-loss), keyed by label."""
    logits = _logits(out_of_fold)
    stacks: dict[str, LabelStack] = {}
    for column, label in enumerate(labels):
        target = truth[:, column]
        if not has_enough_examples(target, min_positive):
            continue
        positives = int(target.sum())
        folds = StratifiedKFold(
            min(inner_folds, positives, len(target) - positives), shuffle=True, random_state=seed
        )
        model = LogisticRegression(C=regularisation_c)
        second = cross_val_predict(model, logits, target, cv=folds, method="predict_proba")[:, 1]
        if log_loss(second, target) >= log_loss(out_of_fold[:, column], target):
            continue
        model.fit(logits, target)
        stacks[label] = LabelStack(
            tuple(float(x) for x in model.coef_[0]),
            float(model.intercept_[0]),
            choose_threshold(second, target, default=0.5),
        )
    return stacks


def apply_label_stacks(
    labels: tuple[str, ...], probabilities: np.ndarray, stacks: dict[str, LabelStack]
) -> np.ndarray:
    """First-stage probabilities with the stacked labels' columns replaced."""
    if not stacks:
        return probabilities
    logits = _logits(probabilities)
    out = probabilities.copy()
    for column, label in enumerate(labels):
        if label in stacks:
            out[:, column] = stacks[label].probability(logits)
    return out


def stack_fitted_labels(
    models: dict[str, LabelModel],
    prior: np.ndarray,
    truth: np.ndarray,
    min_positive: int,
    inner_folds: int,
    seed: int,
) -> dict[str, LabelStack]:
    """Stacks over fitted label models' out-of-fold probabilities (keyword prior where none)."""
    out_of_fold = np.column_stack(
        [
            m.out_of_fold if m.out_of_fold is not None else prior[:, column]
            for column, m in enumerate(models.values())
        ]
    )
    return fit_label_stacks(
        tuple(models),
        out_of_fold,
        truth,
        min_positive=min_positive,
        inner_folds=inner_folds,
        seed=seed,
    )
