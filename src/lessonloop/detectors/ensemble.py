"""Self-calibrating ensemble: each base score relative to its own recent maximum.

A row is surprising when a base score is above an absolute floor and at least as high as
anything that score reached in the last `memory` rows: the detector calibrates itself to each
series' normal level of weirdness instead of using one global threshold on raw scores.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.base import Detector, as_series, register_detector
from lessonloop.detectors.basic import (
    novelty_feature,
    record_feature,
    shift_feature,
    spike_feature,
)
from lessonloop.detectors.feedback import SeriesFeedback
from lessonloop.detectors.rolling import TrailingStatistics, trailing_max

__all__ = ["SurpriseEnsemble", "member_features", "member_surprise", "surprise", "MEMBER_NAMES"]

Array = npt.NDArray[np.float64]
MEMBER_NAMES = ("spike", "shift", "novelty", "record")


def member_features(
    values: Array,
    members: tuple[str, ...],
    spike_window: int = 128,
    shift_short: int = 8,
    shift_long: int = 256,
) -> dict[str, Array]:
    """Raw base scores by member name (rolling sums shared between members).

    The window defaults are `SurpriseEnsemble`'s; the learners use them as they are.
    """
    features: dict[str, Array] = {}
    statistics = TrailingStatistics(values)
    for member in members:
        if member == "spike":
            features[member] = spike_feature(values, spike_window, statistics)
        elif member == "shift":
            features[member] = shift_feature(values, shift_short, shift_long, statistics)
        elif member == "novelty":
            features[member] = novelty_feature(values, 512, 5, 3, statistics)
        elif member == "record":
            features[member] = record_feature(values, spike_window)
        else:
            raise ValueError(f"unknown ensemble member {member!r}; known: {MEMBER_NAMES}")
    return features


def surprise(feature: Array, memory: int, floor: float) -> Array:
    """feature / its max over the previous `memory` rows, zero where feature < floor."""
    ratio = trailing_max(feature, memory)
    np.maximum(ratio, 1e-12, out=ratio)
    np.divide(feature, ratio, out=ratio)
    np.copyto(ratio, 0.0, where=~(feature >= floor))
    return ratio


def record_surprise(feature: Array, margin: float = 0.05) -> Array:
    """A new all-time record by more than `margin` of the range scores 1 + how far it broke it.

    Records are rare by construction, so they need no self-normalisation; the score reaches
    the usual threshold of 1.0 and escalates only for a break of several ranges.
    """
    return np.where(feature > margin, 1.0 + feature, 0.0)


def member_surprise(member: str, feature: Array, memory: int, floor: float) -> Array:
    """One member's surprise: records as they are, other members relative to their past."""
    if member == "record":
        return record_surprise(feature)
    return surprise(feature, memory, floor)


@register_detector
class SurpriseEnsemble(Detector):
    """Max over members of self-normalised surprise; fires at 1.0 = a new recent record."""

    name = "surprise_ensemble"

    def __init__(
        self,
        members: tuple[str, ...] = ("spike", "shift"),
        memory: int = 1000,
        floor: float = 3.0,
        threshold: float = 1.0,
        debounce: int = 200,
        spike_window: int = 128,
        shift_short: int = 8,
        shift_long: int = 256,
        escalation: float = 3.0,
    ) -> None:
        self.members = tuple(members)
        self.memory = memory
        self.floor = floor
        self.threshold = threshold
        self.debounce = debounce
        self.spike_window = spike_window
        self.shift_short = shift_short
        self.shift_long = shift_long
        self.escalation = escalation

    def features(self, values: npt.ArrayLike) -> dict[str, Array]:
        """Raw member scores of a series."""
        return member_features(
            as_series(values), self.members, self.spike_window, self.shift_short, self.shift_long
        )

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Ensemble surprise per row."""
        series = as_series(values)
        combined = np.zeros(series.size)
        for member, feature in self.features(series).items():
            np.maximum(
                combined, member_surprise(member, feature, self.memory, self.floor), out=combined
            )
        return combined
