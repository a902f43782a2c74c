"""Vectorised causal rolling primitives: every output at row i uses rows <= i only."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d

from lessonloop.errors import InputError

__all__ = [
    "TrailingStatistics",
    "trailing_mean_std",
    "trailing_mean",
    "trailing_max",
    "noise_floor",
    "previous_occurrences",
]

Array = npt.NDArray[np.float64]


def _prefix_sums(values: Array) -> tuple[Array, Array, float]:
    origin = float(values[0]) if values.size else 0.0
    centred = values - origin
    first = np.empty(values.size + 1)
    first[0] = 0.0
    np.cumsum(centred, out=first[1:])
    np.multiply(centred, centred, out=centred)
    second = np.empty(values.size + 1)
    second[0] = 0.0
    np.cumsum(centred, out=second[1:])
    return first, second, origin


def _window_counts(size: int, window: int, first: int) -> Array:
    """Rows counted in each trailing window: first, first + 1, ..., capped at `window` (>= 1)."""
    counts = np.arange(first, first + size, dtype=np.float64)
    if first < 1 and size:
        counts[: min(1 - first, size)] = 1.0
    np.minimum(counts, max(float(window), 1.0), out=counts)
    return counts


class TrailingStatistics:
    """Prefix sums and noise floor of one series, computed once and shared by every feature.

    The results are the same, bit for bit, as computing each statistic on its own. Returned
    arrays are cached and shared: callers must not modify them.
    """

    def __init__(self, values: Array) -> None:
        self.values = values
        self._first, self._second, self._origin = _prefix_sums(values)
        self._noise: Array | None = None
        self._mean_std: dict[int, tuple[Array, Array]] = {}

    def _window_sums(self, prefix: Array, window: int, current: bool) -> Array:
        """Sum over the trailing `window` rows before each row (and the row itself if current)."""
        if int(window) < 1:
            raise InputError(f"a trailing window needs at least one row, got {window}")
        size = self.values.size
        lag = max(int(window), 0)
        end = prefix[1:] if current else prefix[:size]
        sums = end.copy()
        keep = lag - 1 if current else lag
        if 0 <= keep < size:
            sums[keep:] -= prefix[: size - keep]
        return sums

    def mean_std(self, window: int) -> tuple[Array, Array]:
        """Mean and std of the `window` rows before each row (not the row itself)."""
        if window not in self._mean_std:
            counts = _window_counts(self.values.size, window, 0)
            mean = self._window_sums(self._first, window, current=False)
            mean /= counts
            variance = self._window_sums(self._second, window, current=False)
            variance /= counts
            variance -= mean * mean
            np.maximum(variance, 0.0, out=variance)
            mean += self._origin
            self._mean_std[window] = (mean, np.sqrt(variance, out=variance))
        return self._mean_std[window]

    def mean(self, window: int) -> Array:
        """Mean of the last `window` rows including the current one."""
        mean = self._window_sums(self._first, window, current=True)
        mean /= _window_counts(self.values.size, window, 1)
        mean += self._origin
        return mean

    def noise_floor(self) -> Array:
        """Expanding mean absolute step size (see `noise_floor`)."""
        if self._noise is None:
            self._noise = noise_floor(self.values)
        return self._noise


def trailing_mean_std(values: Array, window: int) -> tuple[Array, Array]:
    """Mean and std of the `window` rows before each row (not the row itself)."""
    return TrailingStatistics(values).mean_std(window)


def trailing_mean(values: Array, window: int) -> Array:
    """Mean of the last `window` rows including the current one."""
    return TrailingStatistics(values).mean(window)


def trailing_max(values: Array, window: int) -> Array:
    """Max of the `window` rows before each row (not the row itself); -inf at row 0."""
    if values.size == 0:
        return values.copy()
    size = max(int(window), 1)
    result = np.empty(values.size)
    result[0] = -np.inf
    if values.size > 1:
        # the window ending at row i - 1 (edge padding repeats row 0, which it already holds)
        maximum_filter1d(
            values[:-1], size=size, origin=(size - 1) // 2, mode="nearest", output=result[1:]
        )
    return result


def noise_floor(values: Array) -> Array:
    """Expanding mean absolute step size: a scale that never reaches zero on a noisy series."""
    steps = np.empty(values.size)
    steps[:1] = 0.0
    np.subtract(values[1:], values[:-1], out=steps[1:])
    np.abs(steps, out=steps)
    np.cumsum(steps, out=steps)
    steps /= np.arange(1, values.size + 1, dtype=np.float64)
    return steps


def previous_occurrences(codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """For each row, how many earlier rows carry the same integer code (sort-based, no loop).

    Small non-negative codes are sorted as 16-bit integers, which NumPy's stable sort handles
    in linear time (radix sort); the order is the same as sorting the 64-bit codes.
    """
    narrow = codes.size > 0 and codes.min() >= 0 and codes.max() <= np.iinfo(np.int16).max
    order = np.argsort(codes.astype(np.int16) if narrow else codes, kind="stable")
    ordered = codes[order]
    starts = np.concatenate(([True], ordered[1:] != ordered[:-1])) if codes.size else ordered
    group = np.cumsum(starts) - 1
    first_of_group = np.flatnonzero(starts)
    rank = np.arange(codes.size) - first_of_group[group]
    result = np.empty(codes.size, dtype=np.int64)
    result[order] = rank
    return result
