"""Vectorised base detectors, each sensitive to a different kind of anomaly.

All scores are causal and scale-free (in units of the series' own recent spread), so one
threshold works across series of very different magnitudes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.base import Detector, as_series, register_detector
from lessonloop.detectors.feedback import SeriesFeedback
from lessonloop.detectors.rolling import TrailingStatistics, previous_occurrences

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


def _statistics(values: Array, shared: TrailingStatistics | None) -> TrailingStatistics:
    return shared if shared is not None and shared.values is values else TrailingStatistics(values)


def spike_feature(
    values: Array, window: int, statistics: TrailingStatistics | None = None
) -> Array:
    """|x - mean of the previous `window` rows| / (their std + noise floor).

    `statistics` (of the same `values`) shares prefix sums between features.
    """
    stats = _statistics(values, statistics)
    mean, std = stats.mean_std(window)
    spread = std + stats.noise_floor()
    spread += 1e-12
    distance = values - mean
    np.abs(distance, out=distance)
    distance /= spread
    return _after_warmup(distance, window)


def shift_feature(
    values: Array, short: int, long: int, statistics: TrailingStatistics | None = None
) -> Array:
    """|mean of the last `short` rows - mean of the `long` rows before them| / their spread."""
    stats = _statistics(values, statistics)
    recent = stats.mean(short)
    mean, std = stats.mean_std(long)
    floor = stats.noise_floor()
    feature = np.zeros(values.size)
    lag = max(short - 1, 0)
    begin = min(max(long, 0), values.size)
    cut = min(max(lag, begin), values.size)
    if begin < cut:
        spread_at_start = std[0] + floor[0] + 1e-12
        feature[begin:cut] = np.abs(recent[begin:cut] - mean[0]) / spread_at_start
    if cut < values.size:
        before = slice(cut - lag, values.size - lag)
        spread = std[before] + floor[before]
        spread += 1e-12
        change = recent[cut:] - mean[before]
        np.abs(change, out=change)
        np.divide(change, spread, out=feature[cut:])
    return feature


def record_feature(values: Array, warmup: int) -> Array:
    """How far a row breaks the series' all-time range, as a fraction of that range (0 inside).

    The simplest contextual novelty: a level never seen before in the series' own history.
    """
    if values.size == 0:
        return values.copy()
    highest = np.empty(values.size)
    highest[0] = values[0]
    np.maximum.accumulate(values[:-1], out=highest[1:])
    lowest = np.empty(values.size)
    lowest[0] = values[0]
    np.minimum.accumulate(values[:-1], out=lowest[1:])
    beyond = values - highest
    np.maximum(beyond, lowest - values, out=beyond)
    np.maximum(beyond, 0.0, out=beyond)
    inside = ~(highest > lowest)
    span = np.subtract(highest, lowest, out=highest)
    np.maximum(span, 1e-12, out=span)
    beyond /= span
    np.copyto(beyond, 0.0, where=inside)
    return _after_warmup(beyond, warmup)


def novelty_feature(
    values: Array,
    window: int,
    bins: int,
    order: int,
    statistics: TrailingStatistics | None = None,
) -> Array:
    """Surprise of the last `order` quantised z-scores: -log of how often that pattern occurred."""
    stats = _statistics(values, statistics)
    mean, std = stats.mean_std(window)
    z = (values - mean) / (std + stats.noise_floor() + 1e-12)
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
