"""Supervised combiner: a regularised logistic model over base-detector features.

Trained across series on incident windows (their first half as positives), rows outside
windows as negatives and false-positive verdict rows as heavily weighted negatives; its
threshold is then chosen by the operator utility on the same feedback period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from lessonloop.detectors.base import Detector, as_series, register_detector
from lessonloop.detectors.ensemble import member_features, surprise
from lessonloop.detectors.feedback import OperatorProfile, SeriesFeedback
from lessonloop.detectors.learners import labelled_utility

__all__ = ["SupervisedCombiner", "combiner_features"]

Array = npt.NDArray[np.float64]


def combiner_features(values: Array, memory: int) -> Array:
    """Per-row features for the supervised combiner: log base scores and their surprise."""
    raw = member_features(values, ("spike", "shift", "novelty"))
    columns = [np.log1p(f) for f in raw.values()]
    columns += [np.minimum(surprise(f, memory, 0.0), 5.0) for f in raw.values()]
    return np.column_stack(columns)


@register_detector
class SupervisedCombiner(Detector):
    """Logistic model over base-detector features, trained across series from feedback."""

    name = "supervised_combiner"

    def __init__(
        self,
        regularisation: float = 0.1,
        memory: int = 1000,
        debounce: int = 200,
        verdict_weight: float = 5.0,
        negative_stride: int = 4,
        fp_weight: float = 0.11,
        fn_weight: float = 1.0,
    ) -> None:
        self.regularisation = regularisation
        self.memory = memory
        self.debounce = debounce
        self.verdict_weight = verdict_weight
        self.negative_stride = negative_stride
        self.fp_weight = fp_weight
        self.fn_weight = fn_weight
        self.coef_ = np.zeros(6)
        self.intercept_ = 0.0
        self.mean_ = np.zeros(6)
        self.scale_ = np.ones(6)
        self.threshold_ = 0.5

    def fit(self, series: Sequence[SeriesFeedback]) -> Self:
        """Fit on windows (first half positive) and verdicts, then pick the threshold by utility."""
        blocks, labels, weights = [], [], []
        for item in series:
            x = combiner_features(as_series(item.values), self.memory)
            y = np.zeros(x.shape[0])
            w = np.zeros(x.shape[0])
            w[item.warmup : item.feedback_end : self.negative_stride] = 1.0
            for window in item.windows:
                if window.end_index < item.feedback_end:
                    w[window.start_index : window.end_index + 1] = 0.0
                    half = (window.start_index + window.end_index) // 2 + 1
                    y[window.start_index : half] = 1.0
                    w[window.start_index : half] = 1.0
            for verdict in item.verdicts:
                if 0 <= verdict.index < item.feedback_end:
                    w[verdict.index] = self.verdict_weight
            keep = w > 0
            blocks.append(x[keep])
            labels.append(y[keep])
            weights.append(w[keep])
        x_all, y_all, w_all = np.vstack(blocks), np.concatenate(labels), np.concatenate(weights)
        if np.unique(y_all).size < 2:
            return self
        self.mean_ = x_all.mean(axis=0)
        self.scale_ = np.where(x_all.std(axis=0) > 0, x_all.std(axis=0), 1.0)
        model = LogisticRegression(C=self.regularisation, class_weight="balanced", max_iter=500)
        model.fit((x_all - self.mean_) / self.scale_, y_all, sample_weight=w_all)
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        profile = OperatorProfile(1.0, self.fn_weight, self.fp_weight)
        scored = [self.score(item.values) for item in series]
        candidates = (0.6, 0.7, 0.8, 0.9, 0.95)
        utilities = [
            sum(
                labelled_utility(s, item, t, self.debounce, profile)
                for s, item in zip(scored, series, strict=True)
            )
            for t in candidates
        ]
        self.threshold_ = float(candidates[int(np.argmax(utilities))])
        return self

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Probability-like anomaly score per row."""
        x = (combiner_features(as_series(values), self.memory) - self.mean_) / self.scale_
        logits = (x * self.coef_).sum(axis=1) + self.intercept_
        probability: Array = 1.0 / (1.0 + np.exp(-logits))
        return probability

    def decision_threshold(self, feedback: SeriesFeedback | None = None) -> float:
        """Threshold learned on the feedback period."""
        return self.threshold_
