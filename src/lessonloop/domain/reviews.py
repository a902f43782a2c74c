"""Post-incident reviews: the structured record of what happened and what the team learned."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lessonloop.domain.actions import ActionItemCreate, ActionItemRead
from lessonloop.domain.common import DomainModel, Key, Name, UtcDatetime
from lessonloop.domain.enums import AlertVerdict, ReviewStatus, TimelineKind, TimelineMarker
from lessonloop.domain.insights import InsightCreate, InsightRead

__all__ = [
    "TimelineEvent",
    "DecisionPoint",
    "AlertNote",
    "ReviewBase",
    "ReviewCreate",
    "ReviewRead",
    "ReviewSummary",
]


class TimelineEvent(DomainModel):
    at: UtcDatetime
    kind: TimelineKind
    text: str = Field(min_length=1)
    marker: TimelineMarker | None = None
    actor: str | None = None
    source: str = "review"


class DecisionPoint(DomainModel):
    at: UtcDatetime | None = None
    decision: str = Field(min_length=1)
    alternatives: str = ""
    information_available: str = ""
    outcome: str = ""


class AlertNote(DomainModel):
    """A reviewer's verdict on an alert: an alert name or Prometheus-style matchers."""

    alert: str = Field(min_length=1)
    verdict: AlertVerdict
    reason: str = ""


class ReviewBase(DomainModel):
    incident_key: Key
    title: Name
    template: str = "default"
    template_version: int = 1
    authors: list[str] = Field(default_factory=list)
    participants: list[str] = Field(default_factory=list)
    summary: str = ""
    impact: str = ""
    detection: str = ""
    timeline: list[TimelineEvent] = Field(default_factory=list)
    decision_points: list[DecisionPoint] = Field(default_factory=list)
    alert_notes: list[AlertNote] = Field(default_factory=list)
    contributing_factors: list[str] = Field(default_factory=list)
    went_well: list[str] = Field(default_factory=list)
    went_wrong: list[str] = Field(default_factory=list)
    got_lucky: list[str] = Field(default_factory=list)
    signal_blocks: list[dict[str, Any]] = Field(default_factory=list)
    extra_sections: dict[str, str] = Field(default_factory=dict)


class ReviewCreate(ReviewBase):
    insights: list[InsightCreate] = Field(default_factory=list)
    action_items: list[ActionItemCreate] = Field(default_factory=list)
    source_file: str | None = None


class ReviewRead(ReviewBase):
    id: int
    status: ReviewStatus
    insights: list[InsightRead] = Field(default_factory=list)
    action_items: list[ActionItemRead] = Field(default_factory=list)
    source_file: str | None = None
    content_hash: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    status_changed_at: UtcDatetime
    status_changed_by: str | None = None
    published_at: UtcDatetime | None = None

    def to_create(self) -> ReviewCreate:
        """The editable content of this review, as it would be written back to a file."""
        data = self.model_dump(include=set(ReviewBase.model_fields) | {"source_file"})
        data["insights"] = [
            i.model_dump(include=set(InsightCreate.model_fields)) for i in self.insights
        ]
        data["action_items"] = [
            a.model_dump(include=set(ActionItemCreate.model_fields)) for a in self.action_items
        ]
        return ReviewCreate.model_validate(data)


class ReviewSummary(DomainModel):
    id: int
    incident_key: str
    title: str
    status: ReviewStatus
    insights: int
    action_items: int
    updated_at: UtcDatetime
