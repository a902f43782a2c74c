"""The feedback learner with a sequence member: window novelty among the members it may trust.

Same learning as `RecordAwareEnsemble` (global choice within one standard error, group
refinements, verdict suppression, hints), over a sequence-aware family of member sets: the
`window` member (`seq_window.window_novelty_feature`: the recent stretch of the series unlike
any earlier one) with all-time records, then adding level shifts, then spikes (simplest first,
so ties go to the smaller set). Without enough evidence it keeps the defaults of
`SurpriseEnsemble`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.base import register_detector
from lessonloop.detectors.ensemble import member_features
from lessonloop.detectors.record_learner import RecordAwareEnsemble
from lessonloop.detectors.seq_window import window_novelty_feature

__all__ = ["SequenceAwareEnsemble", "sequence_member_features"]

Array = npt.NDArray[np.float64]
SEQUENCE_MEMBERS = ("window",)


def sequence_member_features(values: Array, members: Sequence[str]) -> dict[str, Array]:
    """Raw member scores, the sequence members included (base members as the ensemble has them)."""
    base = tuple(m for m in members if m not in SEQUENCE_MEMBERS)
    features = member_features(values, base) if base else {}
    if "window" in members:
        features["window"] = window_novelty_feature(values)
    return features


@register_detector
class SequenceAwareEnsemble(RecordAwareEnsemble):
    """Feedback-calibrated surprise ensemble that may also trust window novelty."""

    name = "sequence_aware_ensemble"

    DEFAULT_MEMBER_SETS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("record", "window"),
        ("shift", "record", "window"),
        ("spike", "shift", "record", "window"),
    )

    def _member_features(self, values: Array, members: Sequence[str]) -> dict[str, Array]:
        """Raw member scores, window novelty included."""
        return sequence_member_features(values, members)
