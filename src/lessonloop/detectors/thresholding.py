"""From scores to detections (threshold + debounce) and the operator utility learners maximise.

The utility mirrors NAB's shape without depending on the evaluation package: the earliest
detection inside an incident window earns up to `tp_weight` (less the later it comes), a missed
window costs `fn_weight`, and a detection outside windows costs `fp_weight` (less just after a
window, where an operator forgives a late echo of the incident).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.debouncing import debounce, debounce_sorted
from lessonloop.detectors.feedback import LabelWindow, OperatorProfile

__all__ = [
    "SeriesUtilities",
    "WindowUtility",
    "debounce",
    "debounce_sorted",
    "detections_from_scores",
    "operator_utility",
]


def detections_from_scores(
    scores: npt.ArrayLike,
    threshold: float,
    *,
    debounce_rows: int = 0,
    start_row: int = 0,
    end_row: int | None = None,
    escalation: float = float("inf"),
) -> npt.NDArray[np.int64]:
    """Rows in [start_row, end_row) whose score reaches `threshold`, debounced (see `debounce`)."""
    values = np.asarray(scores, dtype=np.float64)
    stop = values.size if end_row is None else min(end_row, values.size)
    begin = max(start_row, 0)
    candidates = np.flatnonzero(values[begin:stop] >= threshold) + begin
    return debounce(candidates, debounce_rows, peaks=values[candidates], escalation=escalation)


def _sigmoid(position: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0
    return np.where(position > 3.0, -1.0, value)


class WindowUtility:
    """Operator utility of detections on one series, precomputed per row for fast repeated use.

    Detections outside [start_row, end_row) are ignored; windows count when they end at or
    after start_row (pass only the windows whose labels are known).
    """

    def __init__(
        self,
        windows: Sequence[LabelWindow],
        profile: OperatorProfile,
        *,
        start_row: int,
        end_row: int,
    ) -> None:
        self.start_row = start_row
        self.end_row = max(end_row, start_row)
        self.fn_weight = profile.fn_weight
        ordered = sorted(windows, key=lambda w: w.start_index)
        self.window_ends = [w.end_index for w in ordered]
        self.counted = sum(1 for w in ordered if w.end_index >= start_row)
        rows = np.arange(self.start_row, self.end_row, dtype=np.int64)
        self.value = np.full(rows.size, -profile.fp_weight)
        self.window_of = np.full(rows.size, -1, dtype=np.int64)
        if not ordered or rows.size == 0:
            return
        lefts = np.array([w.start_index for w in ordered], dtype=np.int64)
        rights = np.array([w.end_index for w in ordered], dtype=np.int64)
        widths = rights - lefts + 1
        owner = np.searchsorted(lefts, rows, side="right") - 1
        safe = np.maximum(owner, 0)
        inside = (owner >= 0) & (rows <= rights[safe])
        previous = np.searchsorted(rights, rows, side="left") - 1
        prev_safe = np.maximum(previous, 0)
        late = (rows - rights[prev_safe]) / np.maximum(widths[prev_safe] - 1, 1)
        fp_value = profile.fp_weight * np.where(previous >= 0, _sigmoid(late), -1.0)
        timing = _sigmoid(-(rights[safe] - rows + 1) / widths[safe]) / _sigmoid(np.array(-1.0))
        self.value = np.where(inside, profile.tp_weight * timing, fp_value)
        self.window_of = np.where(inside, owner, -1)

    def from_row(self, start_row: int) -> WindowUtility:
        """The same utility counting only rows >= `start_row` (shares this one's row values).

        Equal to building a new one with `start_row` (when it is >= this one's start).
        """
        begin = max(start_row, self.start_row)
        later = WindowUtility([], OperatorProfile(fn_weight=self.fn_weight), start_row=0, end_row=0)
        later.start_row = begin
        later.end_row = max(self.end_row, begin)
        later.window_ends = self.window_ends
        later.counted = sum(1 for end in self.window_ends if end >= begin)
        offset = min(begin, self.end_row) - self.start_row
        later.value = self.value[offset:]
        later.window_of = self.window_of[offset:]
        return later

    def __call__(self, detections: npt.ArrayLike) -> float:
        """Utility of sorted detection rows."""
        rows = np.asarray(detections, dtype=np.int64)
        rows = rows[(rows >= self.start_row) & (rows < self.end_row)] - self.start_row
        windows = self.window_of[rows]
        values = self.value[rows]
        outside = windows < 0
        hit = windows[~outside]
        first = np.concatenate(([True], hit[1:] != hit[:-1])) if hit.size else hit.astype(bool)
        caught = float(values[~outside][first].sum())
        missed = self.counted - int(first.sum())
        return float(values[outside].sum()) + caught - self.fn_weight * missed


class SeriesUtilities:
    """Many series' utilities laid end to end, so one debounce + one call scores them all.

    Series k's row r sits at position ``bases[k] + r - start_row``; series are separated by
    `gap` empty positions, so a quiet period (shorter than `gap`) never spans two series.
    """

    def __init__(self, utilities: Sequence[WindowUtility], gap: int) -> None:
        sizes = np.array([u.end_row - u.start_row for u in utilities], dtype=np.int64)
        self.bases = np.concatenate(([0], np.cumsum(sizes + gap)[:-1])).astype(np.int64)
        self.starts = np.array([u.start_row for u in utilities], dtype=np.int64)
        self.fn_weight = np.array([u.fn_weight for u in utilities])
        self.counted = np.array([u.counted for u in utilities], dtype=np.int64)
        window_base = np.concatenate(([0], np.cumsum([u.counted + 1 for u in utilities])[:-1]))
        filler = [np.zeros(gap)] * len(utilities)
        self.value = np.concatenate(
            [x for pair in zip([u.value for u in utilities], filler, strict=True) for x in pair]
        )
        windows = [
            np.where(u.window_of >= 0, u.window_of + base, -1)
            for u, base in zip(utilities, window_base, strict=True)
        ]
        gaps = [np.full(gap, -1, dtype=np.int64)] * len(utilities)
        self.window_of = np.concatenate(
            [x for pair in zip(windows, gaps, strict=True) for x in pair]
        )

    def positions(self, series: int, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Positions of one series' rows (rows must lie in its utility's range)."""
        shifted: npt.NDArray[np.int64] = rows - self.starts[series] + self.bases[series]
        return shifted

    def __call__(self, positions: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Utility per series of detections given as sorted positions."""
        owner = np.searchsorted(self.bases, positions, side="right") - 1
        windows = self.window_of[positions]
        values = self.value[positions]
        outside = windows < 0
        n_series = self.bases.size
        noise = np.bincount(owner[outside], weights=values[outside], minlength=n_series)
        hit = windows[~outside]
        first = np.concatenate(([True], hit[1:] != hit[:-1])) if hit.size else hit.astype(bool)
        hit_owner = owner[~outside][first]
        caught = np.bincount(hit_owner, weights=values[~outside][first], minlength=n_series)
        hits = np.bincount(hit_owner, minlength=n_series)
        result: npt.NDArray[np.float64] = noise + caught - self.fn_weight * (self.counted - hits)
        return result

    def per_segment(
        self, positions: npt.NDArray[np.int64], stride: int, segments: int
    ) -> npt.NDArray[np.float64]:
        """`__call__` for many detection sets at once (segments x series).

        Set c is given at positions shifted by ``c * stride`` (stride >= the laid-out length),
        all in one sorted array; each set's row equals calling this object on it alone.
        """
        segment = positions // stride
        local = positions - segment * stride
        n_series = self.bases.size
        owner = segment * n_series + np.searchsorted(self.bases, local, side="right") - 1
        windows = self.window_of[local]
        values = self.value[local]
        outside = windows < 0
        size = segments * n_series
        noise = np.bincount(owner[outside], weights=values[outside], minlength=size)
        hit = windows[~outside] + segment[~outside] * (int(self.window_of.max(initial=0)) + 1)
        first = np.concatenate(([True], hit[1:] != hit[:-1])) if hit.size else hit.astype(bool)
        hit_owner = owner[~outside][first]
        caught = np.bincount(hit_owner, weights=values[~outside][first], minlength=size)
        hits = np.bincount(hit_owner, minlength=size).reshape(segments, n_series)
        missed = self.fn_weight * (self.counted - hits)
        result: npt.NDArray[np.float64] = (
            noise.reshape(segments, n_series) + caught.reshape(segments, n_series) - missed
        )
        return result


def operator_utility(
    detections: npt.ArrayLike,
    windows: Sequence[LabelWindow],
    profile: OperatorProfile,
    *,
    start_row: int = 0,
    end_row: int | None = None,
) -> float:
    """Utility of detections at rows in [start_row, end_row) against disjoint label windows."""
    rows = np.unique(np.asarray(detections, dtype=np.int64))
    stop = end_row if end_row is not None else int(rows.max(initial=start_row)) + 1
    return WindowUtility(windows, profile, start_row=start_row, end_row=stop)(rows)
