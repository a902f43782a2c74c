"""Fit every label of a classifier: a blend chosen per label, or one pooled pseudo-count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from lessonloop.text.label_model import LabelModel, OutOfFold, fit_label_model
from lessonloop.text.shrinkage import fit_shrunk_label_models

if TYPE_CHECKING:
    from lessonloop.text.classifier import FailureModeClassifier

__all__ = ["fit_label_models"]


def fit_label_models(
    classifier: FailureModeClassifier,
    labels: Sequence[str],
    matrix: sp.csr_matrix,
    truth: np.ndarray,
    prior: np.ndarray,
    out_of_fold: dict[int, OutOfFold],
) -> dict[str, LabelModel]:
    """One model per label with the classifier's hyper-parameters, in ``labels`` order.

    ``out_of_fold`` holds inner-CV results already computed on ``matrix`` (by column). With
    ``threshold_rule="inner_cv"`` labels are first cut by half the best F1; the caller re-cuts.
    """
    rule = "half_best_f1" if classifier.threshold_rule == "inner_cv" else classifier.threshold_rule
    if classifier.pseudo_count_grid:
        return fit_shrunk_label_models(
            labels,
            matrix,
            truth,
            prior,
            pseudo_count_grid=classifier.pseudo_count_grid,
            c_grid=classifier.c_grid,
            inner_folds=classifier.inner_folds,
            min_positive=classifier.min_positive,
            seed=classifier.seed,
            threshold_rule=rule,
        )
    return {
        label: fit_label_model(
            label,
            matrix,
            truth[:, column],
            prior[:, column],
            c_grid=classifier.c_grid,
            blend_grid=classifier.blend_grid,
            inner_folds=classifier.inner_folds,
            min_positive=classifier.min_positive,
            prior_threshold=0.5,
            seed=classifier.seed,
            threshold_rule=rule,
            out_of_fold=out_of_fold.get(column),
            inner_repeats=classifier.inner_repeats,
        )
        for column, label in enumerate(labels)
    }
