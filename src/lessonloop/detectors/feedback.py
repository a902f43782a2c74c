"""Feedback a detector may learn from: incident windows, alert verdicts, threshold hints.

The services layer converts stored, accepted signals into these small frozen types; detectors
never see storage. Row indexes refer to the series' values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "LabelWindow",
    "FalsePositiveVerdict",
    "ThresholdHint",
    "SeriesFeedback",
    "OperatorProfile",
]


@dataclass(frozen=True)
class LabelWindow:
    """An incident window, inclusive row indexes: the detector should fire early inside it."""

    start_index: int
    end_index: int


@dataclass(frozen=True)
class FalsePositiveVerdict:
    """An alert at this row that an operator marked as noise."""

    index: int


@dataclass(frozen=True)
class ThresholdHint:
    """A human threshold: values `direction` ("above" or "below") `value` are anomalous."""

    direction: str
    value: float

    def __post_init__(self) -> None:
        if self.direction not in ("above", "below"):
            raise ValueError(f"direction must be 'above' or 'below', not {self.direction!r}")


@dataclass(frozen=True)
class OperatorProfile:
    """The operator's trade-off: reward of a caught incident, costs of a miss and a false alert."""

    tp_weight: float = 1.0
    fn_weight: float = 1.0
    fp_weight: float = 0.11


@dataclass(frozen=True)
class SeriesFeedback:
    """One series with the feedback known about it; labels only cover rows < `feedback_end`.

    `warmup` rows are never alerted on; `group` names similar series that may share settings.
    """

    series_id: str
    values: npt.NDArray[np.float64]
    feedback_end: int
    windows: tuple[LabelWindow, ...] = ()
    verdicts: tuple[FalsePositiveVerdict, ...] = ()
    hints: tuple[ThresholdHint, ...] = ()
    warmup: int = 0
    group: str = ""
