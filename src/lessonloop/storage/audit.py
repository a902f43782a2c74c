"""The audit trail: every change records who, what, when, and the content hash before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lessonloop.domain.access import person_key
from lessonloop.domain.audit import AuditEventRead
from lessonloop.domain.common import utc_now
from lessonloop.storage.tables import AuditEventRow

__all__ = ["record", "list_events", "entity_types", "to_read"]


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before_hash: str | None = None,
    after_hash: str | None = None,
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append one audit event in the caller's transaction, at `at` (default: now)."""
    session.add(
        AuditEventRow(
            at=at or utc_now(),
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before_hash=before_hash,
            after_hash=after_hash,
            details=details or {},
        )
    )


def list_events(
    *,
    session: Session,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = 200,
    actor: str | None = None,
    action_prefix: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[AuditEventRead]:
    """Newest first, by when each event happened (a back-filled step, recorded later with its
    own time, takes its place among the others; events of one moment by their order of
    recording); `actor` matches whatever its case and spacing, `action_prefix` is an exact
    prefix (the same on both engines)."""
    query = (
        select(AuditEventRow)
        .order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc())
        .limit(limit)
    )
    if entity_type:
        query = query.where(AuditEventRow.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEventRow.entity_id == str(entity_id))
    if actor is not None:
        query = query.where(AuditEventRow.actor.in_(_spellings(actor, session=session)))
    if action_prefix:
        prefix = func.substr(AuditEventRow.action, 1, len(action_prefix))
        query = query.where(prefix == action_prefix)
    if since is not None:
        query = query.where(AuditEventRow.at >= since)
    if until is not None:
        query = query.where(AuditEventRow.at < until)
    return [to_read(row) for row in session.scalars(query)]


def _spellings(name: str, *, session: Session) -> list[str]:
    """Every stored spelling of the actor `name` denotes (case and spacing aside, any script)."""
    wanted = person_key(name)
    actors = session.scalars(select(AuditEventRow.actor).distinct())
    return [a for a in actors if person_key(a) == wanted]


def entity_types(*, session: Session) -> list[str]:
    """The kinds of object the trail has events for."""
    rows = session.scalars(select(AuditEventRow.entity_type).distinct())
    return sorted(rows)


def to_read(row: AuditEventRow) -> AuditEventRead:
    return AuditEventRead(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before_hash=row.before_hash,
        after_hash=row.after_hash,
        details=row.details,
    )
