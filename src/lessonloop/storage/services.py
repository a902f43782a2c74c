"""Services and their dependencies: get, list, create, update, add dependency."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.common import content_hash
from lessonloop.domain.services import ServiceCreate, ServiceRead, ServiceUpdate
from lessonloop.errors import Conflict, NotFound
from lessonloop.storage import audit
from lessonloop.storage.tables import ServiceDependencyRow, ServiceRow

__all__ = ["get", "get_row", "list_services", "create", "update", "add_dependency", "ids_by_name"]


def get_row(name: str, *, session: Session) -> ServiceRow:
    row = session.scalar(select(ServiceRow).where(ServiceRow.name == name))
    if row is None:
        raise NotFound(f"unknown service {name!r} (register it with 'lessonloop services add')")
    return row


def _dependencies(service_id: int, *, session: Session) -> list[str]:
    query = (
        select(ServiceRow.name)
        .join(ServiceDependencyRow, ServiceDependencyRow.depends_on_id == ServiceRow.id)
        .where(ServiceDependencyRow.service_id == service_id)
        .order_by(ServiceRow.name)
    )
    return list(session.scalars(query))


def _read(row: ServiceRow, *, session: Session) -> ServiceRead:
    return ServiceRead(
        id=row.id,
        name=row.name,
        tier=row.tier,
        team=row.team,
        owner=row.owner,
        domain=row.domain,
        depends_on=_dependencies(row.id, session=session),
    )


def get(name: str, *, session: Session) -> ServiceRead:
    return _read(get_row(name, session=session), session=session)


def ids_by_name(*, session: Session) -> dict[str, int]:
    return {name: id_ for id_, name in session.execute(select(ServiceRow.id, ServiceRow.name))}


def list_services(*, session: Session) -> list[ServiceRead]:
    rows = session.scalars(select(ServiceRow).order_by(ServiceRow.name))
    return [_read(row, session=session) for row in rows]


def create(
    data: ServiceCreate, *, session: Session, actor: str, now: dt.datetime | None = None
) -> ServiceRead:
    """Register a service (and its dependencies); the audit events are at `now` (default: the
    time of the run)."""
    if session.scalar(select(ServiceRow.id).where(ServiceRow.name == data.name)) is not None:
        raise Conflict(f"service {data.name!r} already exists")
    row = ServiceRow(
        name=data.name, tier=data.tier, team=data.team, owner=data.owner, domain=data.domain
    )
    session.add(row)
    session.flush()
    for dependency in data.depends_on:
        add_dependency(data.name, dependency, session=session, actor=actor, now=now)
    audit.record(
        session=session,
        actor=actor,
        action="service.create",
        entity_type="service",
        entity_id=data.name,
        after_hash=content_hash(data.model_dump(mode="json")),
        at=now,
    )
    return _read(row, session=session)


def update(name: str, data: ServiceUpdate, *, session: Session, actor: str) -> ServiceRead:
    row = get_row(name, session=session)
    before = content_hash(_read(row, session=session).model_dump(mode="json"))
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(row, field, value)
    session.flush()
    after = _read(row, session=session)
    audit.record(
        session=session,
        actor=actor,
        action="service.update",
        entity_type="service",
        entity_id=name,
        before_hash=before,
        after_hash=content_hash(after.model_dump(mode="json")),
    )
    return after


def _reachable(start: int, goal: int, *, session: Session) -> bool:
    edges: dict[int, list[int]] = {}
    for src, dst in session.execute(
        select(ServiceDependencyRow.service_id, ServiceDependencyRow.depends_on_id)
    ):
        edges.setdefault(src, []).append(dst)
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, []))
    return False


def add_dependency(
    name: str, depends_on: str, *, session: Session, actor: str, now: dt.datetime | None = None
) -> None:
    """Record that ``name`` depends on ``depends_on`` (audited at `now`, default: the time of
    the run); cycles are refused."""
    service = get_row(name, session=session)
    target = get_row(depends_on, session=session)
    if service.id == target.id or _reachable(target.id, service.id, session=session):
        raise Conflict(f"{name} -> {depends_on} would make a dependency cycle")
    if session.get(ServiceDependencyRow, (service.id, target.id)) is None:
        session.add(ServiceDependencyRow(service_id=service.id, depends_on_id=target.id))
        session.flush()
        audit.record(
            session=session,
            actor=actor,
            action="service.depend",
            entity_type="service",
            entity_id=name,
            details={"depends_on": depends_on},
            at=now,
        )
