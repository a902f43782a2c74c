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

    def __init__(
        self,
        tp_weight: float = 1.0,
        fn_weight: float = 1.0,
        fp_weight: float = 0.11,
        member_sets: tuple[tuple[str, ...], ...] = (
            ("record", "window"),
            ("shift", "record", "window"),
            ("spike", "shift", "record", "window"),
        ),
        memories: tuple[int, ...] = (1000, 2000),
        floors: tuple[float, ...] = (2.0, 3.0),
        thresholds: tuple[float, ...] = (1.0, 1.1),
        debounces: tuple[int, ...] = (100, 200, 400),
        suppression_strengths: tuple[float, ...] = (0.0, 0.1),
        margin: float = 1.0,
        group_margin: float = 1.0,
        min_group_windows: int = 4,
        hint_boost: float = 1.5,
        escalation: float = 3.0,
        tie_tolerance: float = 1.0,
    ) -> None:
        super().__init__(
            tp_weight=tp_weight,
            fn_weight=fn_weight,
            fp_weight=fp_weight,
            member_sets=member_sets,
            memories=memories,
            floors=floors,
            thresholds=thresholds,
            debounces=debounces,
            suppression_strengths=suppression_strengths,
            margin=margin,
            group_margin=group_margin,
            min_group_windows=min_group_windows,
            hint_boost=hint_boost,
            escalation=escalation,
            tie_tolerance=tie_tolerance,
        )

    def _member_features(self, values: Array, members: Sequence[str]) -> dict[str, Array]:
        """Raw member scores, window novelty included."""
        return sequence_member_features(values, members)
