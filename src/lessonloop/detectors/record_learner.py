"""The feedback learner with all-time records among the members it may choose.

Same learning as `FeedbackCalibratedEnsemble` (global choice, group refinements, verdict
suppression, hints); its search space adds the `record` member (a value outside the series'
whole past range), alone with the level-shift member or with spike + shift. The defaults it
falls back to without enough evidence stay those of `SurpriseEnsemble`, and among candidates
tied within one standard error it takes the simplest (`selection.first_near_best`): records are
listed last, so they are trusted only when the feedback clearly favours them.
"""

from __future__ import annotations

from typing import ClassVar

from lessonloop.detectors.base import register_detector
from lessonloop.detectors.learners import FeedbackCalibratedEnsemble

__all__ = ["RecordAwareEnsemble"]


@register_detector
class RecordAwareEnsemble(FeedbackCalibratedEnsemble):
    """Feedback-calibrated surprise ensemble that may also trust all-time records."""

    name = "record_aware_ensemble"

    DEFAULT_MEMBER_SETS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("spike", "shift"),
        ("spike",),
        ("shift",),
        ("spike", "shift", "novelty"),
        ("spike", "shift", "record"),
        ("shift", "record"),
    )
    DEFAULT_TIE_TOLERANCE: ClassVar[float] = 1.0
