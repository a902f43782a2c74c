"""NAB scoring (Numenta Anomaly Benchmark), on row indexes, plus the B1 feedback/holdout split.

The rule follows BENCHMARKS.md B1: cost profiles, probation, the scaled sigmoid, window-relative
false-positive weighting and normalisation against the null and perfect detectors.

Example::

    truth = FileTruth("realKnownCause/nyc_taxi.csv", n_rows=10320, windows=((5000, 5200),))
    score = score_corpus([truth], {truth.name: np.array([5010])}, nab_profiles()["standard"])
    score.normalised  # 100 * (raw - null) / (perfect - null)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "CostProfile",
    "FileTruth",
    "FileScore",
    "CorpusScore",
    "nab_profiles",
    "probation_length",
    "scaled_sigmoid",
    "window_rows",
    "timestamps_to_rows",
    "holdout_split",
    "score_file",
    "score_corpus",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CostProfile:
    """NAB cost weights for true positives, false negatives and false positives."""

    name: str
    tp: float
    fn: float
    fp: float


@dataclass(frozen=True)
class FileTruth:
    """One data file's length and label windows as inclusive row-index pairs, sorted."""

    name: str
    n_rows: int
    windows: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class FileScore:
    """Raw NAB score of one file and its counts."""

    raw: float
    counted_windows: int
    true_positives: int
    false_negatives: int
    false_positives: int


@dataclass(frozen=True)
class CorpusScore:
    """Normalised NAB score of a set of files (100 = perfect, 0 = null detector)."""

    normalised: float
    raw: float
    null: float
    perfect: float
    per_file: dict[str, FileScore]


def nab_profiles() -> dict[str, CostProfile]:
    """The three published NAB profiles."""
    return {
        "standard": CostProfile("standard", 1.0, 1.0, 0.11),
        "reward_low_FP_rate": CostProfile("reward_low_FP_rate", 1.0, 1.0, 0.22),
        "reward_low_FN_rate": CostProfile("reward_low_FN_rate", 1.0, 2.0, 0.11),
    }


def probation_length(n_rows: int) -> int:
    """Rows at the start of a file that NAB does not score: min(floor(0.15 n), 750)."""
    return int(min(int(np.floor(0.15 * n_rows)), 750))


def scaled_sigmoid(position: npt.ArrayLike) -> FloatArray:
    """NAB's scaled sigmoid 2/(1+e^{5y}) - 1, and -1 beyond y > 3."""
    y = np.asarray(position, dtype=np.float64)
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * y)) - 1.0
    return np.where(y > 3.0, -1.0, value)


def window_rows(
    timestamps: npt.NDArray[np.datetime64], windows: Sequence[tuple[str, str]]
) -> tuple[tuple[int, int], ...]:
    """Turn [start, end] timestamp windows into inclusive row pairs.

    A window runs from the first row at or after `start` to the last row at or before `end`,
    so files whose clock steps back (duplicate or unsorted timestamps) keep file order.
    """
    stamps = np.asarray(timestamps, dtype="datetime64[ns]")
    result: list[tuple[int, int]] = []
    for start, end in windows:
        after = np.flatnonzero(stamps >= np.datetime64(start, "ns"))
        before = np.flatnonzero(stamps <= np.datetime64(end, "ns"))
        if after.size and before.size and before[-1] >= after[0]:
            result.append((int(after[0]), int(before[-1])))
    return tuple(sorted(result))


def timestamps_to_rows(
    timestamps: npt.NDArray[np.datetime64], detections: Sequence[str]
) -> IntArray:
    """Rows whose timestamp equals a detection timestamp (the first such row when repeated).

    Unknown timestamps raise ValueError.
    """
    stamps = np.asarray(timestamps, dtype="datetime64[ns]").astype(np.int64)
    wanted = np.asarray([np.datetime64(d, "ns") for d in detections], dtype="datetime64[ns]")
    order = np.argsort(stamps, kind="stable")
    ordered = stamps[order]
    keys = wanted.astype(np.int64)
    position = np.searchsorted(ordered, keys, side="left")
    inside = position < ordered.size
    found = np.zeros(keys.shape, dtype=bool)
    found[inside] = ordered[position[inside]] == keys[inside]
    if not np.all(found):
        missing = [detections[i] for i in np.flatnonzero(~found)[:3]]
        raise ValueError(f"detection timestamps not in the file: {missing}")
    return np.unique(order[position].astype(np.int64))


def holdout_split(n_rows: int, windows: Sequence[tuple[int, int]]) -> int:
    """First holdout row s: p + floor((n - p)/2), moved back to a window's start if inside one."""
    probation = probation_length(n_rows)
    split = probation + (n_rows - probation) // 2
    for left, right in windows:
        if left <= split <= right:
            return int(left)
    return int(split)


def _detection_values(
    n_rows: int,
    windows: Sequence[tuple[int, int]],
    rows: IntArray,
    profile: CostProfile,
) -> tuple[FloatArray, IntArray]:
    """Per detection row: its NAB value and the index of its window (-1 when outside)."""
    if not windows:
        return np.full(rows.size, -profile.fp), np.full(rows.size, -1, dtype=np.int64)
    lefts = np.array([w[0] for w in windows], dtype=np.int64)
    rights = np.array([w[1] for w in windows], dtype=np.int64)
    widths = rights - lefts + 1
    candidate = np.searchsorted(lefts, rows, side="right") - 1
    has_left = candidate >= 0
    safe = np.where(has_left, candidate, 0)
    inside = has_left & (rows <= rights[safe])
    window_of = np.where(inside, safe, -1)
    tp_position = -(rights[safe] - rows + 1) / widths[safe]
    tp_value = profile.tp * scaled_sigmoid(tp_position) / scaled_sigmoid(-1.0)
    previous = np.searchsorted(rights, rows, side="left") - 1
    has_previous = previous >= 0
    prev_safe = np.where(has_previous, previous, 0)
    gap = np.maximum(widths[prev_safe] - 1, 1)
    fp_position = (rows - rights[prev_safe]) / gap
    fp_value = profile.fp * np.where(has_previous, scaled_sigmoid(fp_position), -1.0)
    return np.where(inside, tp_value, fp_value), window_of


def score_file(
    truth: FileTruth,
    detections: npt.ArrayLike,
    profile: CostProfile,
    *,
    first_scored_row: int | None = None,
) -> FileScore:
    """Raw NAB score of one file; rows before max(probation, first_scored_row) are not scored."""
    start = probation_length(truth.n_rows)
    if first_scored_row is not None:
        start = max(start, int(first_scored_row))
    rows = np.unique(np.asarray(detections, dtype=np.int64))
    rows = rows[(rows >= start) & (rows < truth.n_rows)]
    values, window_of = _detection_values(truth.n_rows, truth.windows, rows, profile)
    outside = window_of < 0
    raw = float(values[outside].sum())
    counted = [k for k, (_, right) in enumerate(truth.windows) if right >= start]
    hits = 0
    for k in counted:
        in_window = values[window_of == k]
        if in_window.size:
            raw += float(in_window.max())
            hits += 1
        else:
            raw -= profile.fn
    return FileScore(
        raw=raw,
        counted_windows=len(counted),
        true_positives=hits,
        false_negatives=len(counted) - hits,
        false_positives=int(outside.sum()),
    )


def score_corpus(
    truths: Sequence[FileTruth],
    detections: Mapping[str, npt.ArrayLike],
    profile: CostProfile,
    *,
    first_scored_rows: Mapping[str, int] | None = None,
) -> CorpusScore:
    """Normalised NAB score over files; a file missing from `detections` has none."""
    per_file: dict[str, FileScore] = {}
    for truth in truths:
        start = None if first_scored_rows is None else first_scored_rows.get(truth.name)
        found = detections.get(truth.name, np.empty(0, dtype=np.int64))
        per_file[truth.name] = score_file(truth, found, profile, first_scored_row=start)
    windows = sum(s.counted_windows for s in per_file.values())
    raw = sum(s.raw for s in per_file.values())
    null = -profile.fn * windows
    perfect = profile.tp * windows
    span = perfect - null
    normalised = 100.0 * (raw - null) / span if span > 0 else 0.0
    return CorpusScore(normalised, raw, null, perfect, per_file)
