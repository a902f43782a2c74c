"""Incidents: get, list, create, update, upsert by key."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal, cast

from sqlalchemy import Select, Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.incidents import (
    TIME_FIELDS,
    IncidentCreate,
    IncidentRead,
    IncidentUpdate,
    check_time_order,
)
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.storage import audit
from lessonloop.storage.services import get_row as get_service_row
from lessonloop.storage.tables import IncidentRow, IncidentServiceRow, ServiceRow

__all__ = ["get", "get_row", "list_incidents", "create", "update", "upsert", "to_read"]

UpsertOutcome = Literal["created", "updated", "unchanged"]


@cache
def _by_key() -> Select[IncidentRow]:
    """The incident with key ``:key`` (built once: imports look incidents up per file)."""
    return select(IncidentRow).where(IncidentRow.key == bindparam("key"))


@cache
def _id_by_key() -> Select[int]:
    """The id of the incident with key ``:key``."""
    return select(IncidentRow.id).where(IncidentRow.key == bindparam("key"))


@cache
def _service_ids() -> Select[str, int]:
    """Names and ids of the services named in ``:names``."""
    return select(ServiceRow.name, ServiceRow.id).where(
        ServiceRow.name.in_(bindparam("names", expanding=True))
    )


def get_row(key: str, *, session: Session) -> IncidentRow:
    row = session.scalar(_by_key(), {"key": key})
    if row is None:
        raise NotFound(f"unknown incident {key!r}")
    return row


def _service_names(incident_id: int, *, session: Session) -> list[str]:
    query = (
        select(ServiceRow.name)
        .join(IncidentServiceRow, IncidentServiceRow.service_id == ServiceRow.id)
        .where(IncidentServiceRow.incident_id == incident_id)
        .order_by(IncidentServiceRow.position)
    )
    return list(session.scalars(query))


def to_read(
    row: IncidentRow, *, session: Session, services: list[str] | None = None
) -> IncidentRead:
    """The incident as a schema; ``services`` (in position order) saves a query when known."""
    return IncidentRead.model_validate(
        {
            "id": row.id,
            "key": row.key,
            "title": row.title,
            "severity": row.severity,
            "status": row.status,
            "services": (
                services if services is not None else _service_names(row.id, session=session)
            ),
            "started_at": row.started_at,
            "detected_at": row.detected_at,
            "mitigated_at": row.mitigated_at,
            "resolved_at": row.resolved_at,
            "detection_method": row.detection_method,
            "summary": row.summary,
            "external_refs": row.external_refs,
            "tags": row.tags,
        }
    )


def exists(key: str, *, session: Session) -> bool:
    return session.scalar(select(IncidentRow.id).where(IncidentRow.key == key)) is not None


def get(key: str, *, session: Session) -> IncidentRead:
    return to_read(get_row(key, session=session), session=session)


def list_incidents(
    *,
    session: Session,
    service: str | None = None,
    severity: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[IncidentRead]:
    query = select(IncidentRow).order_by(IncidentRow.started_at, IncidentRow.id)
    if service:
        sid = get_service_row(service, session=session).id
        query = query.join(IncidentServiceRow).where(IncidentServiceRow.service_id == sid)
    if severity:
        query = query.where(IncidentRow.severity == severity)
    if since:
        query = query.where(IncidentRow.started_at >= since)
    if limit:
        query = query.limit(limit)
    rows = list(session.scalars(query))
    names = _services_by_incident([row.id for row in rows], session=session)
    return [to_read(row, session=session, services=names.get(row.id, [])) for row in rows]


def _services_by_incident(ids: list[int], *, session: Session) -> dict[int, list[str]]:
    """The service names of many incidents in position order, in one query per 1,000."""
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), 1000):
        query = (
            select(IncidentServiceRow.incident_id, ServiceRow.name)
            .join(ServiceRow, IncidentServiceRow.service_id == ServiceRow.id)
            .where(IncidentServiceRow.incident_id.in_(ids[start : start + 1000]))
            .order_by(IncidentServiceRow.incident_id, IncidentServiceRow.position)
        )
        for incident_id, name in session.execute(query):
            out.setdefault(incident_id, []).append(name)
    return out


def _set_services(
    row: IncidentRow, names: list[str], *, session: Session, fresh: bool = False
) -> list[str]:
    """Link the services (one lookup for all of them); their names in position order."""
    unique = list(dict.fromkeys(names))
    found: dict[str, int] = (
        {
            name: service_id
            for name, service_id in session.execute(_service_ids(), {"names": unique})
        }
        if unique
        else {}
    )
    for name in names:
        if name not in found:  # raises the usual NotFound
            found[name] = get_service_row(name, session=session).id
    if not fresh:
        session.execute(delete(IncidentServiceRow).where(IncidentServiceRow.incident_id == row.id))
    if unique:  # one statement, without the unit of work's bookkeeping
        session.execute(
            insert(cast(Table, IncidentServiceRow.__table__)),
            [
                {"incident_id": row.id, "service_id": found[name], "position": position}
                for position, name in enumerate(unique)
            ],
        )
    return unique


def _fingerprint(data: IncidentCreate | IncidentRead) -> str:
    return content_hash(data.model_dump(mode="json", exclude={"id"}))


def create(
    data: IncidentCreate, *, session: Session, actor: str, now: dt.datetime | None = None
) -> IncidentRead:
    """Store a new incident, recorded at `now` (default: the time of the run)."""
    if session.scalar(_id_by_key(), {"key": data.key}) is not None:
        raise Conflict(f"incident {data.key!r} already exists")
    now = now or utc_now()
    values = data.model_dump(exclude={"services"})
    row = IncidentRow(**values, created_at=now, updated_at=now)
    session.add(row)
    audit.record(
        session=session,
        actor=actor,
        action="incident.create",
        entity_type="incident",
        entity_id=data.key,
        after_hash=_fingerprint(data),
        at=now,
    )
    session.flush()  # the row and its audit event in one flush
    services = _set_services(row, data.services, session=session, fresh=True)
    return to_read(row, session=session, services=services)


def update(key: str, data: IncidentUpdate, *, session: Session, actor: str) -> IncidentRead:
    row = get_row(key, session=session)
    before = to_read(row, session=session)
    changes = data.model_dump(exclude_unset=True)
    merged = {name: changes.get(name, getattr(row, name)) for name in TIME_FIELDS}
    try:
        check_time_order(merged)
    except ValueError as exc:
        raise InputError(str(exc), field="times") from exc
    for field, value in changes.items():
        if field != "services":
            setattr(row, field, value)
    if "services" in changes and changes["services"] is not None:
        _set_services(row, changes["services"], session=session)
    row.updated_at = utc_now()
    session.flush()
    after = to_read(row, session=session)
    audit.record(
        session=session,
        actor=actor,
        action="incident.update",
        entity_type="incident",
        entity_id=key,
        before_hash=_fingerprint(before),
        after_hash=_fingerprint(after),
    )
    return after


def upsert(
    data: IncidentCreate, *, session: Session, actor: str
) -> tuple[IncidentRead, UpsertOutcome]:
    """Create the incident, or update it in place when its key exists (idempotent imports)."""
    row = session.scalar(select(IncidentRow).where(IncidentRow.key == data.key))
    if row is None:
        return create(data, session=session, actor=actor), "created"
    current = to_read(row, session=session)
    if _fingerprint(current) == _fingerprint(data):
        return current, "unchanged"
    update_data = IncidentUpdate.model_validate(data.model_dump(exclude={"key"}))
    return update(data.key, update_data, session=session, actor=actor), "updated"
