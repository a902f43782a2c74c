"""Alerts: upsert by (fingerprint, start), list by time range and labels."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.alerts import AlertCreate, AlertRead
from lessonloop.domain.common import content_hash
from lessonloop.storage import audit
from lessonloop.storage.tables import AlertRow, IncidentRow

__all__ = ["upsert", "list_alerts", "to_read"]


def to_read(row: AlertRow, incident_key: str | None = None) -> AlertRead:
    return AlertRead(
        id=row.id,
        fingerprint=row.fingerprint,
        source=row.source,
        name=row.name,
        labels=row.labels,
        annotations=row.annotations,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        incident_key=incident_key,
    )


def _fingerprint(row: AlertRow) -> str:
    return content_hash(
        [
            row.fingerprint,
            row.starts_at,
            row.name,
            row.labels,
            row.annotations,
            row.ends_at,
            row.incident_id,
        ]
    )


def upsert(
    data: AlertCreate, *, session: Session, actor: str, now: dt.datetime | None = None
) -> Literal["created", "updated", "unchanged"]:
    """Merge an alert into the store: firing and resolved notifications become one alert.
    A new alert and a changed one each write an audit event (``alert:ID``) at `now`
    (default: the time of the run)."""
    incident_id = None
    if data.incident_key:
        incident_id = session.scalar(
            select(IncidentRow.id).where(IncidentRow.key == data.incident_key)
        )
    row = session.scalar(
        select(AlertRow).where(
            AlertRow.fingerprint == data.fingerprint, AlertRow.starts_at == data.starts_at
        )
    )
    values = data.model_dump(exclude={"incident_key"})
    details = {"fingerprint": data.fingerprint, "source": data.source}
    if row is None:
        row = AlertRow(**values, incident_id=incident_id)
        session.add(row)
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="alert.create",
            entity_type="alert",
            entity_id=row.id,
            after_hash=_fingerprint(row),
            details=details,
            at=now,
        )
        return "created"
    before = _fingerprint(row)
    if data.ends_at is not None:
        row.ends_at = data.ends_at
    row.labels = {**row.labels, **data.labels}
    row.annotations = {**row.annotations, **data.annotations}
    row.name = data.name or row.name
    row.incident_id = incident_id or row.incident_id
    after = _fingerprint(row)
    session.flush()
    if before == after:
        return "unchanged"
    audit.record(
        session=session,
        actor=actor,
        action="alert.update",
        entity_type="alert",
        entity_id=row.id,
        before_hash=before,
        after_hash=after,
        details=details,
        at=now,
    )
    return "updated"


def list_alerts(
    *,
    session: Session,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    name: str | None = None,
) -> list[AlertRead]:
    query = (
        select(AlertRow, IncidentRow.key)
        .outerjoin(IncidentRow, IncidentRow.id == AlertRow.incident_id)
        .order_by(AlertRow.starts_at, AlertRow.id)
    )
    if start:
        query = query.where(AlertRow.starts_at >= start)
    if end:
        query = query.where(AlertRow.starts_at < end)
    if name:
        query = query.where(AlertRow.name == name)
    return [to_read(row, key) for row, key in session.execute(query)]
