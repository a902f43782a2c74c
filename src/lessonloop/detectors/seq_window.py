"""Window novelty: how far the recent stretch of a series is from every stretch seen before.

An ART-like category test without the categories: the series is cut into blocks of `block`
rows, each summarised by its mean and spread; the last `length` blocks form the current
window, and its score is the smallest mean absolute distance to any earlier window that does
not overlap it (within `horizon` blocks). A window unlike anything in the series' own history
scores high whatever its level: denser spikes, noise that disappears, a broken daily pattern,
a new regime. Distances are in units of the spread of the first `warmup_blocks` blocks, so the
usual surprise floors apply; the score of a window is written at the row that completes it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial.distance import cdist

from lessonloop.detectors.base import Detector, as_series, register_detector
from lessonloop.detectors.ensemble import surprise
from lessonloop.detectors.feedback import SeriesFeedback
from lessonloop.errors import InputError

__all__ = ["WindowNovelty", "block_summaries", "window_novelty_feature"]

Array = npt.NDArray[np.float64]


def block_summaries(values: Array, block: int) -> tuple[Array, Array]:
    """Mean and standard deviation of each complete block of `block` rows (from row 0)."""
    count = values.size // block
    blocks = values[: count * block].reshape(count, block)
    return blocks.mean(axis=1), blocks.std(axis=1)


def _channel_unit(channel: Array, warmup_blocks: int, unit: float) -> float:
    """Scale of a channel: spread + mean step over the warm-up blocks, times `unit`."""
    head = channel[:warmup_blocks]
    return float(unit * (head.std() + np.abs(np.diff(head)).mean()) + 1e-12)


def window_novelty_feature(
    values: Array,
    block: int = 4,
    length: int = 8,
    horizon: int = 4000,
    warmup_blocks: int = 64,
    unit: float = 0.25,
    chunk: int = 256,
    stride: int = 1,
) -> Array:
    """Distance of each completed window to its nearest earlier non-overlapping window.

    Row i's value depends on rows <= i only: a window is scored at the row completing its last
    block and compared with windows that ended before it began. With `stride` > 1 the earlier
    windows are only those starting at a multiple of `stride` blocks: about `stride` times
    fewer distances, an approximate nearest neighbour.
    """
    scores = np.zeros(values.size)
    means, spreads = block_summaries(values, block)
    if means.size < length + warmup_blocks:
        return scores
    channels = [c / _channel_unit(c, warmup_blocks, unit) for c in (means, spreads)]
    windows = np.concatenate(
        [np.lib.stride_tricks.sliding_window_view(c, length) for c in channels], axis=1
    )
    distance = np.zeros(windows.shape[0])
    for first in range(warmup_blocks, windows.shape[0], chunk):
        last = min(first + chunk, windows.shape[0])
        low, high = max(0, first - horizon), last - length
        low = -(-low // stride) * stride
        if high <= low:
            continue
        pairs = cdist(windows[first:last], windows[low:high:stride], "cityblock")
        current = np.arange(first, last)[:, None]
        earlier = np.arange(low, high, stride)[None, :]
        pairs[(earlier > current - length) | (earlier < current - horizon)] = np.inf
        nearest = pairs.min(axis=1)
        distance[first:last] = np.where(np.isfinite(nearest), nearest, 0.0)
    completed_at = (np.arange(windows.shape[0]) + length) * block - 1
    scores[completed_at] = distance / windows.shape[1]
    return scores


@register_detector
class WindowNovelty(Detector):
    """Sequence detector: surprise of the recent window's distance to the series' own past."""

    name = "window_novelty"

    def __init__(
        self,
        block: int = 4,
        length: int = 8,
        horizon: int = 4000,
        memory: int = 1000,
        floor: float = 2.0,
        threshold: float = 1.0,
        debounce: int = 100,
        escalation: float = 3.0,
    ) -> None:
        for name, value, least in (
            ("block", block, 1),
            ("length", length, 1),
            ("horizon", horizon, length + 1),
            ("memory", memory, 1),
            ("debounce", debounce, 0),
        ):
            if value < least:
                raise InputError(f"{name} must be at least {least}, got {value}", field=name)
        self.block = block
        self.length = length
        self.horizon = horizon
        self.memory = memory
        self.floor = floor
        self.threshold = threshold
        self.debounce = debounce
        self.escalation = escalation

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Window-novelty surprise per row (1.0 = the most novel window of the recent past)."""
        feature = window_novelty_feature(as_series(values), self.block, self.length, self.horizon)
        return surprise(feature, self.memory, self.floor)
