"""Design choices made by inner cross-validation: the feature view and the threshold rule.

Both are pooled over labels (one choice for the whole classifier): with 10-80 positives per
label, seven separate picks would mostly follow noise. Everything here sees only the training
data it is given, so a caller that passes training folds never leaks holdout labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold

from lessonloop.text.label_model import (
    LabelModel,
    OutOfFold,
    choose_threshold,
    has_enough_examples,
    label_out_of_fold,
)

__all__ = [
    "FeatureView",
    "choose_feature_view",
    "choose_threshold_rule",
    "cross_validated_f1",
    "rethreshold_by_inner_cv",
]

FeatureView = tuple[float, float]


def choose_feature_view(
    matrices: dict[FeatureView, sp.csr_matrix],
    truth: np.ndarray,
    *,
    c_grid: Sequence[float],
    inner_folds: int,
    min_positive: int,
    seed: int,
    repeats: int = 1,
) -> tuple[FeatureView, dict[int, OutOfFold]]:
    """The view with the best mean out-of-fold average precision over learnable labels.

    Returns the view and its per-column out-of-fold results (reused, not recomputed). Ties
    go to the earlier view of ``matrices``; a single view is returned without any fitting.
    """
    eligible = [c for c in range(truth.shape[1]) if has_enough_examples(truth[:, c], min_positive)]
    best_view = next(iter(matrices))
    if len(matrices) == 1:
        return best_view, {}
    best_results: dict[int, OutOfFold] = {}
    best_quality = -1.0
    for view, matrix in matrices.items():
        results = {
            column: label_out_of_fold(
                matrix,
                truth[:, column],
                c_grid=c_grid,
                inner_folds=inner_folds,
                seed=seed,
                repeats=repeats,
            )
            for column in eligible
        }
        quality = (
            float(np.mean([r.average_precision for r in results.values()])) if results else 0.0
        )
        if quality > best_quality + 1e-9:
            best_view, best_results, best_quality = view, results, quality
    return best_view, best_results


def cross_validated_f1(
    probabilities: np.ndarray, truth: np.ndarray, rule: str, *, folds: int, seed: int
) -> float:
    """F1 of a threshold rule when the cut is chosen on other parts of the out-of-fold scores."""
    n_positive = int(truth.sum())
    splits = min(folds, n_positive, len(truth) - n_positive)
    if splits < 2:
        return 0.0
    predicted = np.zeros(len(truth), dtype=bool)
    parts = StratifiedKFold(splits, shuffle=True, random_state=seed)
    for train, valid in parts.split(np.zeros(len(truth)), truth):
        cut = choose_threshold(probabilities[train], truth[train], default=0.5, rule=rule)
        predicted[valid] = probabilities[valid] >= cut
    tp = float(np.sum(predicted & (truth == 1)))
    total = float(predicted.sum() + truth.sum())
    return 2 * tp / total if total else 0.0


def choose_threshold_rule(
    out_of_fold: Sequence[tuple[np.ndarray, np.ndarray]],
    rules: Sequence[str],
    *,
    folds: int,
    seed: int,
    repeats: int = 3,
) -> str:
    """The rule whose cuts generalise best: mean cross-validated F1 over labels and repeats.

    ``out_of_fold`` holds (out-of-fold probabilities, truth) per learned label. Ties go to the
    earlier rule; with no learned label the first rule is returned.
    """
    if not out_of_fold:
        return rules[0]

    def quality(rule: str) -> float:
        return float(
            np.mean(
                [
                    cross_validated_f1(p, y, rule, folds=folds, seed=seed + repeat)
                    for p, y in out_of_fold
                    for repeat in range(repeats)
                ]
            )
        )

    scores = {rule: quality(rule) for rule in rules}
    return max(rules, key=lambda rule: (scores[rule], -list(rules).index(rule)))


def rethreshold_by_inner_cv(
    models: Sequence[LabelModel],
    truth: np.ndarray,
    *,
    folds: int,
    seed: int,
    rules: Sequence[str] = ("half_best_f1", "plateau"),
) -> str:
    """Choose the threshold rule by inner CV and re-cut every learned label with it.

    ``models`` are in the columns' order of ``truth``; keyword-only labels keep their cut.
    """
    learned = [
        (column, model)
        for column, model in enumerate(models)
        if model.mode == "model" and model.out_of_fold is not None
    ]
    rule = choose_threshold_rule(
        [(m.out_of_fold, truth[:, c]) for c, m in learned if m.out_of_fold is not None],
        rules,
        folds=folds,
        seed=seed,
    )
    for column, model in learned:
        if model.out_of_fold is not None:
            model.threshold = choose_threshold(
                model.out_of_fold, truth[:, column], default=0.5, rule=rule
            )
    return rule
