"""Vectorised base detectors, each sensitive to a different kind of anomaly.

All scores are causal and scale-free (in units of the series' own recent spread), so one
threshold works across series of very different magnitudes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.base import Detector, as_series, register_detector
from lessonloop.detectors.feedback import SeriesFeedback
from lessonloop.detectors.rolling import (
    noise_floor,
    previous_occurrences,
    trailing_mean,
    trailing_mean_std,
)

__all__ = [
    "RollingZScore",
    "LevelShift",
    "PatternNovelty",
    "record_feature",
    "spike_feature",
    "shift_feature",
]

Array = npt.NDArray[np.float64]


def _after_warmup(feature: Array, rows: int) -> Array:
    """Zero the first `rows` rows, where trailing statistics rest on too little history."""
    feature[: min(rows, feature.size)] = 0.0
    return feature


def spike_feature(values: Array, window: int) -> Array:
    """|x - mean of the previous `window` rows| / (their std + noise floor)."""
    mean, std = trailing_mean_std(values, window)
    return _after_warmup(np.abs(values - mean) / (std + noise_floor(values) + 1e-12), window)


def shift_feature(values: Array, short: int, long: int) -> Array:
    """|mean of the last `short` rows - mean of the `long` rows before them| / their spread."""
    recent = trailing_mean(values, short)
    mean, std = trailing_mean_std(values, long)
    before = np.maximum(np.arange(values.size) - short + 1, 0)
    spread = std[before] + noise_floor(values)[before] + 1e-12
    return _after_warmup(np.abs(recent - mean[before]) / spread, long)


def record_feature(values: Array, warmup: int) -> Array:
    """How far a row breaks the series' all-time range, as a fraction of that range (0 inside).

    The simplest contextual novelty: a level never seen before in the series' own history.
    """
    if values.size == 0:
        return values.copy()
    highest = np.maximum.accumulate(np.concatenate(([values[0]], values[:-1])))
    lowest = np.minimum.accumulate(np.concatenate(([values[0]], values[:-1])))
    span = np.maximum(highest - lowest, 1e-12)
    beyond = np.maximum(np.maximum(values - highest, lowest - values), 0.0) / span
    return _after_warmup(np.where(highest > lowest, beyond, 0.0), warmup)


def novelty_feature(values: Array, window: int, bins: int, order: int) -> Array:
    """Surprise of the last `order` quantised z-scores: -log of how often that pattern occurred."""
    mean, std = trailing_mean_std(values, window)
    z = (values - mean) / (std + noise_floor(values) + 1e-12)
    level = np.clip(np.floor((z + 3.0) / 6.0 * bins), 0, bins - 1).astype(np.int64)
    code = np.zeros(values.size, dtype=np.int64)
    for lag in range(order):
        shift = min(lag, values.size)
        lagged = np.concatenate((np.zeros(shift, dtype=np.int64), level[: values.size - shift]))
        code = code * bins + lagged
    seen = previous_occurrences(code).astype(np.float64)
    rows = np.arange(values.size, dtype=np.float64)
    return _after_warmup(-np.log((seen + 1.0) / (rows + bins)), window)


@register_detector
class RollingZScore(Detector):
    """Spike detector: distance from the trailing mean in trailing standard deviations."""

    name = "rolling_zscore"

    def __init__(self, window: int = 128, threshold: float = 5.0, debounce: int = 200) -> None:
        self.window = window
        self.threshold = threshold
        self.debounce = debounce

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Spike score per row."""
        return spike_feature(as_series(values), self.window)


@register_detector
class LevelShift(Detector):
    """Level-shift detector: a short recent mean against the longer history before it."""

    name = "level_shift"
    finds = frozenset({"level_shift"})

    def __init__(
        self, short: int = 8, long: int = 256, threshold: float = 3.0, debounce: int = 200
    ) -> None:
        self.short = short
        self.long = long
        self.threshold = threshold
        self.debounce = debounce

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Level-shift score per row."""
        return shift_feature(as_series(values), self.short, self.long)


@register_detector
class PatternNovelty(Detector):
    """Sequence detector: how rare the recent quantised pattern is in the series' own past."""

    name = "pattern_novelty"

    def __init__(
        self,
        window: int = 512,
        bins: int = 5,
        order: int = 3,
        threshold: float = 6.5,
        debounce: int = 200,
    ) -> None:
        self.window = window
        self.bins = bins
        self.order = order
        self.threshold = threshold
        self.debounce = debounce

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Pattern surprise per row (nats)."""
        return novelty_feature(as_series(values), self.window, self.bins, self.order)
