"""Action items across reviews: list with filters, update status and owner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lessonloop.domain.actions import ActionItemRead, ActionItemUpdate
from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.enums import ActionStatus, InsightKind
from lessonloop.errors import InputError, NotFound
from lessonloop.storage import audit
from lessonloop.storage.reviews import action_to_read
from lessonloop.storage.tables import ActionItemRow, IncidentRow, InsightRow, ReviewRow

__all__ = ["list_actions", "update_action", "get_action"]

OPEN_STATES = (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value)


def _query() -> Select[ActionItemRow, str]:
    return (
        select(ActionItemRow, IncidentRow.key)
        .join(ReviewRow, ReviewRow.id == ActionItemRow.review_id)
        .join(IncidentRow, IncidentRow.id == ReviewRow.incident_id)
    )


def get_action(action_id: int, *, session: Session) -> ActionItemRead:
    found = session.execute(_query().where(ActionItemRow.id == action_id)).first()
    if found is None:
        raise NotFound(f"unknown action item {action_id}")
    return action_to_read(found[0], found[1])


def list_actions(
    *,
    session: Session,
    owner: str | Collection[str] | None = None,
    status: str | None = None,
    overdue_on: dt.date | None = None,
) -> list[ActionItemRead]:
    """Action items, optionally by owner (any of several spellings), status, or overdue (open
    and due before a date)."""
    query = _query().order_by(ActionItemRow.due, ActionItemRow.id)
    if owner:
        query = query.where(ActionItemRow.owner.in_([owner] if isinstance(owner, str) else owner))
    if status:
        query = query.where(ActionItemRow.status == status)
    if overdue_on:
        query = query.where(ActionItemRow.due < overdue_on, ActionItemRow.status.in_(OPEN_STATES))
    return [action_to_read(row, key) for row, key in session.execute(query)]


def _check_recommendation(review_id: int, position: int, *, session: Session) -> None:
    """Refuse a link to an insight that is not a recommendation of the item's review."""
    kind = session.scalar(
        select(InsightRow.kind).where(
            InsightRow.review_id == review_id, InsightRow.position == position
        )
    )
    if kind != InsightKind.RECOMMENDATION.value:
        found = f"is an {kind}" if kind else "does not exist"
        raise InputError(
            f"insight {position} of the item's review {found}; an action item implements a "
            "recommendation of its own review",
            field="insight_position",
        )


def update_action(
    action_id: int,
    data: ActionItemUpdate,
    *,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> ActionItemRead:
    """Change the given fields, at `now` (default: the time of the run); audited."""
    now = now or utc_now()
    row = session.get(ActionItemRow, action_id)
    if row is None:
        raise NotFound(f"unknown action item {action_id}")
    before = get_action(action_id, session=session)
    if data.insight_position is not None:
        _check_recommendation(row.review_id, data.insight_position, session=session)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(row, field, value.value if isinstance(value, ActionStatus) else value)
    if data.status == ActionStatus.DONE and row.completed_at is None:
        row.completed_at = now
    elif data.status is not None and data.status != ActionStatus.DONE:
        row.completed_at = None
    session.flush()
    after = get_action(action_id, session=session)
    audit.record(
        session=session,
        actor=actor,
        action="action.update",
        entity_type="action_item",
        entity_id=action_id,
        before_hash=content_hash(before.model_dump(mode="json")),
        after_hash=content_hash(after.model_dump(mode="json")),
        details=data.model_dump(mode="json", exclude_unset=True),
        at=now,
    )
    return after
