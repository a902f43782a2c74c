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

__all__ = ["SampledSequenceEnsemble", "SequenceAwareEnsemble", "sequence_member_features"]

Array = npt.NDArray[np.float64]
SEQUENCE_MEMBERS = ("window",)


def sequence_member_features(
    values: Array, members: Sequence[str], stride: int = 1
) -> dict[str, Array]:
    """Raw member scores, the sequence members included (base members as the ensemble has them).

    `stride` > 1 compares each window with every `stride`-th earlier one only (faster).
    """
    base = tuple(m for m in members if m not in SEQUENCE_MEMBERS)
    features = member_features(values, base) if base else {}
    if "window" in members:
        features["window"] = window_novelty_feature(values, stride=stride)
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


@register_detector
class SampledSequenceEnsemble(SequenceAwareEnsemble):
    """`SequenceAwareEnsemble` whose window novelty compares with every 4th earlier window only.

    About 4 times fewer distances (3-4 times faster to score than the exact search, still
    several times slower than `RecordAwareEnsemble`); an approximate nearest neighbour, so its
    detections differ from `SequenceAwareEnsemble`'s: on a strictly periodic series whose period
    is not a multiple of 16 rows no sampled window has the current one's phase, and a broken
    cycle no longer stands out. See docs/experiments/b1-log.md, session 10.
    """

    name = "sampled_sequence_ensemble"

    REFERENCE_STRIDE: ClassVar[int] = 4

    def _member_features(self, values: Array, members: Sequence[str]) -> dict[str, Array]:
        """Raw member scores, window novelty against every 4th earlier window."""
        return sequence_member_features(values, members, stride=self.REFERENCE_STRIDE)
