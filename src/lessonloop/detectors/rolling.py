"""Vectorised causal rolling primitives: every output at row i uses rows <= i only."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d

__all__ = [
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
    first = np.concatenate(([0.0], np.cumsum(centred)))
    second = np.concatenate(([0.0], np.cumsum(centred * centred)))
    return first, second, origin


def trailing_mean_std(values: Array, window: int) -> tuple[Array, Array]:
    """Mean and std of the `window` rows before each row (not the row itself)."""
    first, second, origin = _prefix_sums(values)
    rows = np.arange(values.size)
    low = np.maximum(rows - window, 0)
    count = np.maximum(rows - low, 1).astype(np.float64)
    mean = (first[rows] - first[low]) / count
    variance = (second[rows] - second[low]) / count - mean * mean
    return mean + origin, np.sqrt(np.maximum(variance, 0.0))


def trailing_mean(values: Array, window: int) -> Array:
    """Mean of the last `window` rows including the current one."""
    first, _, origin = _prefix_sums(values)
    rows = np.arange(values.size)
    low = np.maximum(rows + 1 - window, 0)
    return (first[rows + 1] - first[low]) / (rows + 1 - low) + origin


def trailing_max(values: Array, window: int) -> Array:
    """Max of the `window` rows before each row (not the row itself); -inf at row 0."""
    if values.size == 0:
        return values.copy()
    shifted = np.concatenate(([-np.inf], values[:-1]))
    size = max(int(window), 1)
    result: Array = maximum_filter1d(shifted, size=size, origin=(size - 1) // 2, mode="nearest")
    return result


def noise_floor(values: Array) -> Array:
    """Expanding mean absolute step size: a scale that never reaches zero on a noisy series."""
    steps = np.abs(np.diff(values, prepend=values[:1]))
    return np.cumsum(steps) / np.arange(1, values.size + 1)


def previous_occurrences(codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """For each row, how many earlier rows carry the same integer code (sort-based, no loop)."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.concatenate(([True], ordered[1:] != ordered[:-1])) if codes.size else ordered
    group = np.cumsum(starts) - 1
    first_of_group = np.flatnonzero(starts)
    rank = np.arange(codes.size) - first_of_group[group]
    result = np.empty(codes.size, dtype=np.int64)
    result[order] = rank
    return result
