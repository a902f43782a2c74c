"""The feedback learner with all-time records among the members it may choose.

Same learning as `FeedbackCalibratedEnsemble` (global choice, group refinements, verdict
suppression, hints); its search space adds the `record` member (a value outside the series'
whole past range), alone with the level-shift member or with spike + shift. The defaults it
falls back to without enough evidence stay those of `SurpriseEnsemble`, and among candidates
tied within one standard error it takes the simplest (`selection.first_near_best`): records are
listed last, so they are trusted only when the feedback clearly favours them.
"""

from __future__ import annotations

from lessonloop.detectors.base import register_detector
from lessonloop.detectors.learners import FeedbackCalibratedEnsemble

__all__ = ["RecordAwareEnsemble"]


@register_detector
class RecordAwareEnsemble(FeedbackCalibratedEnsemble):
    """Feedback-calibrated surprise ensemble that may also trust all-time records."""

    name = "record_aware_ensemble"

    def __init__(
        self,
        tp_weight: float = 1.0,
        fn_weight: float = 1.0,
        fp_weight: float = 0.11,
        member_sets: tuple[tuple[str, ...], ...] = (
            ("spike", "shift"),
            ("spike",),
            ("shift",),
            ("spike", "shift", "novelty"),
            ("spike", "shift", "record"),
            ("shift", "record"),
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
