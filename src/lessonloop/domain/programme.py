"""The learning programme's metrics, section by section (computed by services/programme.py;
every metric is defined in docs/programme.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "ReviewMetrics",
    "InsightMetrics",
    "ActionMetrics",
    "SignalMetrics",
    "ModelMetrics",
    "RecurrenceMetrics",
    "ProgrammeMetrics",
]


@dataclass(frozen=True)
class ReviewMetrics:
    incidents: int
    reviews: int
    by_status: dict[str, int]
    coverage_share: float | None
    coverage_by_severity: dict[str, dict[str, Any]]  # severity -> incidents, reviewed, share
    days_to_signoff_median: float | None
    days_to_signoff_p90: float | None
    signoff_measured_from: dict[str, int]  # resolved_at / started_at -> reviews
    drafts_older_than_14_days: int


@dataclass(frozen=True)
class InsightMetrics:
    insights: int
    by_kind: dict[str, int]
    by_category: dict[str, int]
    recommendations_with_action_item_share: float | None
    rated: int
    rubric_coverage_share: float | None
    rubric_mean_by_axis: dict[str, float | None]  # 0-1 scores, over insights rated on the axis


@dataclass(frozen=True)
class ActionMetrics:
    action_items: int
    open: int
    done: int
    wont_do: int
    overdue: int
    with_owner_and_due_share: float | None
    with_expected_effect_share: float | None
    detect_done: int
    detect_done_verified: int
    detect_done_verified_share: float | None
    days_to_close_median: float | None


@dataclass(frozen=True)
class SignalMetrics:
    proposed: int
    accepted: int
    rejected: int
    retired: int
    acceptance_share: float | None
    hours_to_decision_median: float | None
    signal_sets_cut: int


@dataclass(frozen=True)
class ModelMetrics:
    versions: int
    by_task_and_status: dict[str, dict[str, int]]
    promotions: int
    rollbacks: int
    promoted_versions: int
    promoted_with_prior_evaluation: int
    promoted_with_prior_evaluation_share: float | None


@dataclass(frozen=True)
class RecurrenceMetrics:
    incidents_with_failure_mode: int
    repeats: int
    repeats_after_review: int
    repeat_after_review_share: float | None
    repeat_after_review_incidents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProgrammeMetrics:
    """The programme's health over a range of time, section by section."""

    since: dt.datetime | None
    until: dt.datetime | None
    as_of: dt.datetime
    reviews: ReviewMetrics
    insights: InsightMetrics
    action_items: ActionMetrics
    signals: SignalMetrics
    models: ModelMetrics
    recurrence: RecurrenceMetrics

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: times as ISO 8601 text, sections as nested dicts."""
        data = asdict(self)
        for name in ("since", "until", "as_of"):
            data[name] = data[name].isoformat() if data[name] else None
        return data
