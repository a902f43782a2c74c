"""Scoring the learner's grid of candidate configurations on every series at once.

Candidates share base scores: a member's surprise ratio depends only on (member, memory), so it
is computed once per series and reused by every candidate with that member and memory; the
floor, threshold and debounce are then cheap masks on the same arrays. Series are laid end to
end so each candidate costs a few array operations, not a loop over series or rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.debouncing import debounce_sorted
from lessonloop.detectors.ensemble import record_surprise
from lessonloop.detectors.feedback import SeriesFeedback
from lessonloop.detectors.rolling import trailing_max
from lessonloop.detectors.thresholding import SeriesUtilities, WindowUtility

__all__ = ["SurpriseRatios", "candidate_utility_table"]

Array = npt.NDArray[np.float64]
Config = dict[str, Any]


class SurpriseRatios:
    """Each member's surprise ratio (floor 0) per memory, concatenated over series, made once.

    Features must be non-negative (all base features are), so a candidate's floor is a mask on
    the ratio: ``where(feature >= floor, ratio, 0)`` equals `member_surprise` at that floor.
    Values are the same, bit for bit, as computing each series and candidate on its own.
    """

    def __init__(self, features: Sequence[dict[str, Array]], memories: Sequence[int] = ()) -> None:
        """`memories` the candidates will ask for (when known, fewer arrays are kept)."""
        members = list(features[0]) if features else []
        sizes = [next(iter(f.values())).size if f else 0 for f in features]
        self.offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self._joined = {m: np.concatenate([f[m] for f in features]) for m in members}
        bounds = zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist(), strict=True)
        self.features = [{m: self._joined[m][b:e] for m in members} for b, e in bounds]
        self._memories = frozenset(memories)
        self._ratios: dict[tuple[str, int], Array] = {}
        self._maxima: dict[tuple[str, int], Array] = {}
        self._reaching: dict[tuple[str, int, float], npt.NDArray[np.intp]] = {}

    def ratio(self, member: str, memory: int) -> Array:
        """The member's ratio on all series, end to end (`member_surprise` at floor 0)."""
        key = ("record", 0) if member == "record" else (member, memory)
        if key not in self._ratios:
            feature = self.feature(member)
            if member == "record":
                self._ratios[key] = record_surprise(feature)
            else:
                maxima = self.trailing_max(member, memory)
                needed = not self._memories or 2 * memory in self._memories
                ratio = np.maximum(maxima, 1e-12, out=None if needed else maxima)
                if not needed:
                    del self._maxima[key]
                np.divide(feature, ratio, out=ratio)
                np.copyto(ratio, 0.0, where=~(feature >= 0.0))
                self._ratios[key] = ratio
        return self._ratios[key]

    def trailing_max(self, member: str, memory: int) -> Array:
        """Each series' `trailing_max` of the member, end to end; 2m derived from m when known.

        The m-row maxima are released once the 2m-row ones are derived from them.
        """
        key = (member, memory)
        if key not in self._maxima:
            half = memory // 2
            if memory % 2 == 0 and (member, half) in self._maxima and half > 0:
                self._maxima[key] = self._doubled(self._maxima.pop((member, half)), half)
            else:
                parts = [trailing_max(f[member], memory) for f in self.features]
                self._maxima[key] = np.concatenate(parts) if parts else np.zeros(0)
        return self._maxima[key]

    def _doubled(self, maxima: Array, half: int) -> Array:
        """Max over the previous 2h rows = max of the h-row maxima at i and at i - h."""
        doubled = maxima.copy()
        for begin, end in zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist(), strict=True):
            if end - begin > half:
                np.maximum(
                    maxima[begin + half : end],
                    maxima[begin : end - half],
                    out=doubled[begin + half : end],
                )
        return doubled

    def feature(self, member: str) -> Array:
        """The member's raw feature on all series, end to end."""
        return self._joined[member]

    def member_part(self, member: str, memory: int, floor: float) -> Array:
        """One member's surprise at `floor` on all series end to end (see `member_surprise`)."""
        ratio = self.ratio(member, memory)
        return ratio if member == "record" else np.where(self.feature(member) >= floor, ratio, 0.0)

    def reaching(
        self,
        member: str,
        memory: int,
        floor: float,
        lowest: float,
        scored: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.intp]:
        """Scored rows where the member's surprise at `floor` reaches `lowest`.

        With `lowest` > 0 a row must have ratio >= lowest and feature >= floor, so the rows
        reaching `lowest` at floor 0 are found once per (member, memory) and then filtered.
        """
        if lowest <= 0.0:
            part = self.member_part(member, memory, floor)
            return np.flatnonzero((part >= lowest) & scored)
        key = (member, memory, lowest)
        if key not in self._reaching:
            self._reaching[key] = np.flatnonzero((self.ratio(member, memory) >= lowest) & scored)
        rows = self._reaching[key]
        if member == "record":
            return rows
        return rows[self.feature(member)[rows] >= floor]

    def part_at(self, member: str, memory: int, floor: float, rows: npt.NDArray[np.intp]) -> Array:
        """One member's surprise at `floor` on the given concatenated rows only."""
        ratio = self.ratio(member, memory)[rows]
        if member == "record":
            return ratio
        return np.where(self.feature(member)[rows] >= floor, ratio, 0.0)

    def series_combined(self, k: int, members: Sequence[str], memory: int, floor: float) -> Array:
        """Max over members of their surprise on series k (as `combined_surprise` computes it)."""
        window = slice(int(self.offsets[k]), int(self.offsets[k + 1]))
        combined = np.zeros(window.stop - window.start)
        for member in members:
            ratio = self.ratio(member, memory)[window]
            if member != "record":
                ratio = np.where(self.features[k][member] >= floor, ratio, 0.0)
            np.maximum(combined, ratio, out=combined)
        return combined


def _scored_positions(
    ratios: SurpriseRatios, series: Sequence[SeriesFeedback], laid_out: SeriesUtilities
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which concatenated rows may alert (past warmup), and each row's laid-out position."""
    total = int(ratios.offsets[-1])
    scored = np.zeros(total, dtype=bool)
    position = np.zeros(total, dtype=np.int64)
    for k, item in enumerate(series):
        begin, end = int(ratios.offsets[k]), int(ratios.offsets[k + 1])
        scored[min(begin + max(item.warmup, 0), end) : end] = True
        rows = np.arange(end - begin, dtype=np.int64)
        position[begin:end] = laid_out.positions(k, rows)
    return scored, position


def candidate_utility_table(
    configs: Sequence[Config],
    ratios: SurpriseRatios,
    series: Sequence[SeriesFeedback],
    utilities: Sequence[WindowUtility],
    escalation: float,
) -> npt.NDArray[np.float64]:
    """Utility of every candidate configuration on every series (configs x series).

    A row alerts for a candidate when one of its members' surprise reaches the threshold, so
    each (member, memory, floor) is thresholded once over all rows; a candidate then combines
    its members only on the union of their alerting rows. Every candidate's detections are
    laid out in its own segment (`stride` apart, more than any quiet period), so one debounce
    and one utility call serve them all.
    """
    table = np.zeros((len(configs), len(series)))
    gap = max(c["debounce"] for c in configs) + 1
    laid_out = SeriesUtilities(utilities, gap)
    lowest = min(c["threshold"] for c in configs)
    scored, position = _scored_positions(ratios, series, laid_out)
    stride = int(laid_out.value.size) + gap
    laid: list[npt.NDArray[np.int64]] = []
    peak_sets: list[Array] = []
    quiet: list[npt.NDArray[np.int64]] = []
    reaching: dict[tuple[str, int, float], npt.NDArray[np.intp]] = {}
    candidates: dict[tuple[Any, ...], tuple[npt.NDArray[np.int64], Array]] = {}
    for row, config in enumerate(configs):
        members, memory, floor = tuple(config["members"]), config["memory"], config["floor"]
        key = (members, memory, floor)
        if key not in candidates:
            for member in members:
                if (member, memory, floor) not in reaching:
                    reaching[(member, memory, floor)] = ratios.reaching(
                        member, memory, floor, lowest, scored
                    )
            hits = reaching[(members[0], memory, floor)]
            for member in members[1:]:
                hits = np.union1d(hits, reaching[(member, memory, floor)])
            tallest = np.max([ratios.part_at(m, memory, floor, hits) for m in members], axis=0)
            candidates[key] = (position[hits], tallest)
        positions, peaks = candidates[key]
        firing = peaks >= config["threshold"]
        laid.append(positions[firing] + row * stride)
        peak_sets.append(peaks[firing])
        quiet.append(np.full(laid[-1].size, config["debounce"], dtype=np.int64))
    if not laid:
        return table
    found = debounce_sorted(
        np.concatenate(laid), np.concatenate(quiet), np.concatenate(peak_sets), escalation
    )
    table[:] = laid_out.per_segment(found, stride, len(configs))
    return table
