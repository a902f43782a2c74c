"""Label models shrunk toward the keyword prior by one pseudo-count shared by all labels.

A label learned from n positives gets the weight n / (n + m) on its classifier and the rest on
its keywords, so a label with three examples leans on its keywords and a label with seventy on
its classifier. The pseudo-count m is chosen by the summed out-of-fold log-loss of all labels
(inner cross-validation on the training data only): pooling over labels makes the choice far
steadier than a per-label blend picked from a handful of positives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lessonloop.text.label_model import (
    LabelModel,
    OutOfFold,
    finish_label_model,
    has_enough_examples,
    label_out_of_fold,
    log_loss,
    shrunk_blend,
)

__all__ = ["choose_pseudo_count", "fit_shrunk_label_models"]


def choose_pseudo_count(
    out_of_fold: dict[int, OutOfFold],
    truth: np.ndarray,
    prior: np.ndarray,
    grid: Sequence[float],
) -> float:
    """The pseudo-count with the lowest summed out-of-fold log-loss (ties: the larger one)."""
    if not out_of_fold:
        return float(max(grid))

    def pooled_loss(pseudo_count: float) -> float:
        total = 0.0
        for column, oof in out_of_fold.items():
            labels = truth[:, column]
            weight = shrunk_blend(int(labels.sum()), pseudo_count)
            total += log_loss(weight * oof.calibrated + (1 - weight) * prior[:, column], labels)
        return total

    return float(min(grid, key=lambda m: (pooled_loss(m), -m)))


def fit_shrunk_label_models(
    labels: Sequence[str],
    features: sp.csr_matrix,
    truth: np.ndarray,
    prior: np.ndarray,
    *,
    pseudo_count_grid: Sequence[float],
    c_grid: Sequence[float],
    inner_folds: int,
    min_positive: int,
    seed: int,
    threshold_rule: str = "plateau",
) -> dict[str, LabelModel]:
    """Fit every label, choose the shared pseudo-count, then finish each label with it."""
    out_of_fold = {
        column: label_out_of_fold(
            features, truth[:, column], c_grid=c_grid, inner_folds=inner_folds, seed=seed
        )
        for column in range(len(labels))
        if has_enough_examples(truth[:, column], min_positive)
    }
    pseudo_count = choose_pseudo_count(out_of_fold, truth, prior, pseudo_count_grid)
    models = {}
    for column, label in enumerate(labels):
        column_truth = truth[:, column]
        if column not in out_of_fold:
            models[label] = LabelModel(label, "keywords", int(column_truth.sum()), threshold=0.5)
            continue
        weight = shrunk_blend(int(column_truth.sum()), pseudo_count)
        models[label] = finish_label_model(
            label,
            features,
            column_truth,
            prior[:, column],
            out_of_fold[column],
            weight,
            seed,
            threshold_rule,
        )
    return models
