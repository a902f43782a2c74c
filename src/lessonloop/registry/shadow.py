"""Shadow comparison: where two versions' learned rules would decide differently on a series.

A rule fires at a point once its condition has held continuously for ``for_minutes`` (as
Prometheus evaluates ``for``); a version fires when any of its rules for the series fires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lessonloop.registry.rules_export import LearnedRule

__all__ = ["Disagreement", "firing_mask", "version_firing", "disagreements"]


@dataclass(frozen=True)
class Disagreement:
    """A stretch of a series where exactly one of the two versions fires."""

    service: str
    series: str
    start: int
    end: int
    points: int
    fired_by: str


def firing_mask(
    timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], rule: LearnedRule
) -> npt.NDArray[np.bool_]:
    """True where the rule's alert is firing (condition held for at least `for_minutes`)."""
    condition = values > rule.threshold if rule.direction == "above" else values < rule.threshold
    firing = np.zeros(values.shape[0], dtype=bool)
    hold = rule.for_minutes * 60
    run_start: int | None = None
    for index, (at, met) in enumerate(zip(timestamps.tolist(), condition.tolist(), strict=True)):
        if not met:
            run_start = None
            continue
        if run_start is None:
            run_start = at
        firing[index] = at - run_start >= hold
    return firing


def version_firing(
    timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], rules: list[LearnedRule]
) -> npt.NDArray[np.bool_]:
    mask = np.zeros(values.shape[0], dtype=bool)
    for rule in rules:
        mask |= firing_mask(timestamps, values, rule)
    return mask


def disagreements(
    service: str,
    series: str,
    timestamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    first: tuple[str, list[LearnedRule]],
    second: tuple[str, list[LearnedRule]],
) -> list[Disagreement]:
    """Contiguous stretches where one version fires and the other does not."""
    a = version_firing(timestamps, values, first[1])
    b = version_firing(timestamps, values, second[1])
    differs = a != b
    found: list[Disagreement] = []
    index = 0
    while index < differs.size:
        if not differs[index]:
            index += 1
            continue
        who = first[0] if a[index] else second[0]
        end = index
        while end + 1 < differs.size and differs[end + 1] and a[end + 1] == a[index]:
            end += 1
        found.append(
            Disagreement(
                service, series, int(timestamps[index]), int(timestamps[end]), end - index + 1, who
            )
        )
        index = end + 1
    return found
