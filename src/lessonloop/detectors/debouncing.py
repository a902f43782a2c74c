"""Debouncing: from candidate rows to alerts, staying quiet after each one unless much louder.

An operator wants one alert per incident, not one per anomalous row: after an alert, rows
within the quiet period are dropped unless one is `escalation` times louder. Each candidate's
successor is found with array operations; only the walk along the kept rows remains, as a loop
for short inputs and by pointer doubling for long ones (the learner debounces all its
candidate configurations in one call).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["debounce", "debounce_sorted"]


def debounce(
    candidates: npt.ArrayLike,
    quiet_rows: int,
    *,
    peaks: npt.ArrayLike | None = None,
    escalation: float = float("inf"),
) -> npt.NDArray[np.int64]:
    """Keep the first candidate row, drop those within `quiet_rows` after each kept one.

    With `peaks` (the score of each candidate), a candidate inside the quiet period still
    fires when its score is at least `escalation` times the score of the last kept row:
    a much stronger anomaly re-alerts. Each candidate's successor is found with array
    operations; only the walk along the kept rows is a loop.
    """
    rows = np.asarray(candidates, dtype=np.int64)
    heights = None if peaks is None else np.asarray(peaks, dtype=np.float64)
    if rows.size > 1 and np.any(rows[1:] <= rows[:-1]):
        rows, first = np.unique(rows, return_index=True)
        heights = None if heights is None else heights[first]
    if quiet_rows <= 0 or rows.size == 0:
        return rows
    return debounce_sorted(rows, quiet_rows, heights, escalation)


def debounce_sorted(
    rows: npt.NDArray[np.int64],
    quiet_rows: int | npt.NDArray[np.int64],
    heights: npt.NDArray[np.float64] | None,
    escalation: float,
) -> npt.NDArray[np.int64]:
    """`debounce` of strictly increasing rows; `quiet_rows` may differ per row.

    With per-row quiet periods, groups of rows far enough apart are debounced independently
    in one call (the learner debounces all its candidate configurations at once this way).
    """
    successor = np.searchsorted(rows, rows + quiet_rows, side="left")
    np.maximum(successor, np.arange(1, rows.size + 1), out=successor)
    if heights is not None and np.isfinite(escalation):
        successor = _first_louder(heights, successor, escalation)
    return rows[_walk(successor)]


def _first_louder(
    heights: npt.NDArray[np.float64], limit: npt.NDArray[np.intp], escalation: float
) -> npt.NDArray[np.intp]:
    """Per candidate i, the first j in (i, limit[i]) with heights[j] >= escalation * heights[i].

    Where there is none, limit[i]. Candidates go in chunks, which bounds the memory of the
    range-maximum tables on very long inputs.
    """
    result = limit.copy()
    for begin in range(0, heights.size, _CHUNK):
        end = min(begin + _CHUNK, heights.size)
        reach = max(int(limit[begin:end].max()), end)
        local = _first_louder_in(heights[begin:reach], limit[begin:end] - begin, escalation)
        result[begin:end] = local + begin
    return result


_CHUNK = 1 << 16


def _first_louder_in(
    heights: npt.NDArray[np.float64], limit: npt.NDArray[np.intp], escalation: float
) -> npt.NDArray[np.intp]:
    """`_first_louder` for the first limit.size candidates of `heights` (limits <= its size).

    A sparse table of range maxima finds, in a few array operations, the (rare) candidates
    whose quiet period holds a louder one; only those are searched one by one.
    """
    result = limit.copy()
    bar = escalation * heights[: limit.size]
    first = np.arange(1, limit.size + 1)
    length = limit - first
    rows = np.flatnonzero(length > 0)
    if rows.size == 0:
        return result
    level = np.frexp(length[rows].astype(np.float64))[1] - 1
    maxima = _range_maxima(heights, int(level.max()))
    span = np.left_shift(1, level)
    left = maxima[level, first[rows]]
    right = maxima[level, limit[rows] - span]
    louder = rows[np.fmax(left, right) >= bar[rows]]
    for row in louder.tolist():
        ahead = np.flatnonzero(heights[row + 1 : limit[row]] >= bar[row])
        result[row] = row + 1 + int(ahead[0])
    return result


def _range_maxima(heights: npt.NDArray[np.float64], levels: int) -> npt.NDArray[np.float64]:
    """Row k, column i: max of heights[i : i + 2**k], NaN ignored (-inf past the end)."""
    table = np.full((levels + 1, heights.size + 1), -np.inf)
    table[0, : heights.size] = heights
    for k in range(1, levels + 1):
        half = 1 << (k - 1)
        np.fmax(table[k - 1, :-half], table[k - 1, half:], out=table[k, :-half])
    return table


def _walk(successor: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Indexes kept when starting at 0 and jumping to each kept index's successor (> index).

    Long walks use pointer doubling (a few array operations per doubling of the path length);
    short ones a plain loop, which is cheaper below a few thousand candidates.
    """
    if successor.size > _LOOP_LIMIT:
        return _walk_by_doubling(successor)
    steps = successor.tolist()
    kept: list[int] = []
    position = 0
    while position < len(steps):
        kept.append(position)
        position = steps[position]
    return np.asarray(kept, dtype=np.intp)


_LOOP_LIMIT = 4096


def _walk_by_doubling(successor: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """`_walk` by doubling: after round k, `path` holds the first 2**k kept indexes."""
    size = successor.size
    jump = np.minimum(np.append(successor, size), size)
    path = np.zeros(1, dtype=np.intp)
    while True:
        ahead = jump[path]
        ahead = ahead[ahead < size]
        if ahead.size == 0:
            return np.sort(path)
        path = np.concatenate((path, ahead))
        jump = jump[jump]
