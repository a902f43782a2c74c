"""Action items: what the team will change, who owns it, by when, and whether it worked."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from lessonloop.domain.common import DomainModel, Key, Name, UtcDatetime
from lessonloop.domain.enums import ActionStatus, ActionType, Priority

__all__ = [
    "ExpectedEffect",
    "ActionItemBase",
    "ActionItemCreate",
    "ActionItemUpdate",
    "ActionItemRead",
    "OutcomeVerdict",
]

OutcomeVerdict = Literal["verified", "not verified", "too early"]


class ExpectedEffect(DomainModel):
    """What should move once the item ships: a metric, a direction and the service it applies to."""

    metric: Key
    direction: Literal["up", "down"]
    service: Key | None = None

    def as_text(self) -> str:
        return " ".join(p for p in (self.metric, self.direction, self.service) if p)


class ActionItemBase(DomainModel):
    title: Name
    type: ActionType = ActionType.PREVENT
    owner: Name | None = None
    due: dt.date | None = None
    priority: Priority = Priority.P3
    status: ActionStatus = ActionStatus.OPEN
    external_link: str | None = None
    expected_effect: ExpectedEffect | None = None
    insight_position: int | None = None


class ActionItemCreate(ActionItemBase):
    pass


class ActionItemUpdate(DomainModel):
    title: Name | None = None
    owner: Name | None = None
    due: dt.date | None = None
    priority: Priority | None = None
    status: ActionStatus | None = None
    external_link: str | None = None
    shipped_at: UtcDatetime | None = None  # when the change reached production
    # the position, in its review, of the recommendation the item implements
    insight_position: int | None = Field(default=None, ge=0)


class ActionItemRead(ActionItemBase):
    id: int
    review_id: int
    incident_key: str
    position: int
    completed_at: UtcDatetime | None = None
    shipped_at: UtcDatetime | None = None
    outcome: OutcomeVerdict | None = None
    outcome_evidence: dict[str, object] = Field(default_factory=dict)
