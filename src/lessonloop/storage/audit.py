"""The audit trail: every change records who, what, when, and the content hash before and after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.audit import AuditEventRead
from lessonloop.domain.common import utc_now
from lessonloop.storage.tables import AuditEventRow

__all__ = ["record", "list_events"]


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
) -> None:
    """Append one audit event in the caller's transaction."""
    session.add(
        AuditEventRow(
            at=utc_now(),
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
) -> list[AuditEventRead]:
    query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
    if entity_type:
        query = query.where(AuditEventRow.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEventRow.entity_id == str(entity_id))
    return [
        AuditEventRead(
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
        for row in session.scalars(query)
    ]
