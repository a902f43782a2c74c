"""Read-only queries behind the programme metrics that the other repositories do not offer.

``audit.list_events`` is capped and newest first (for people reading a history); the metrics
need every event of a few actions, oldest first. ``ReviewSummary`` has no creation time; the
recurrence metric needs it for every review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.audit import AuditEventRead
from lessonloop.storage import audit
from lessonloop.storage.tables import AuditEventRow, IncidentRow, ReviewRow

__all__ = ["audit_events", "review_created_at"]


def audit_events(
    *, session: Session, entity_type: str, actions: Sequence[str]
) -> list[AuditEventRead]:
    """Every audit event of these actions on this entity type, oldest first by when it
    happened (no limit)."""
    query = (
        select(AuditEventRow)
        .where(AuditEventRow.entity_type == entity_type, AuditEventRow.action.in_(actions))
        .order_by(AuditEventRow.at, AuditEventRow.id)
    )
    return [audit.to_read(row) for row in session.scalars(query)]


def review_created_at(*, session: Session) -> dict[str, dt.datetime]:
    """When each incident's review was first stored, by incident key."""
    query = select(IncidentRow.key, ReviewRow.created_at).join(
        ReviewRow, ReviewRow.incident_id == IncidentRow.id
    )
    return {key: created for key, created in session.execute(query)}
