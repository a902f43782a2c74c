"""Use cases for services and incidents: register, list, create, show."""

from __future__ import annotations

import datetime as dt

from lessonloop.domain.access import Permission
from lessonloop.domain.incidents import IncidentCreate, IncidentRead
from lessonloop.domain.services import ServiceCreate, ServiceRead
from lessonloop.knowledge.index import index_incident
from lessonloop.services.access import require
from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents, services

__all__ = [
    "add_service",
    "list_services",
    "add_dependency",
    "create_incident",
    "list_incidents",
    "get_incident",
]


def add_service(
    ws: Workspace, data: ServiceCreate, *, now: dt.datetime | None = None
) -> ServiceRead:
    """Register a service at `now` (default: the time of the run)."""
    require(ws, Permission.CONTRIBUTE, "add services")
    with ws.transaction() as session:
        return services.create(data, session=session, actor=ws.actor, now=now)


def list_services(ws: Workspace) -> list[ServiceRead]:
    with ws.transaction() as session:
        return services.list_services(session=session)


def add_dependency(
    ws: Workspace, service: str, depends_on: str, *, now: dt.datetime | None = None
) -> ServiceRead:
    """Record a dependency at `now` (default: the time of the run)."""
    require(ws, Permission.CONTRIBUTE, "record service dependencies")
    with ws.transaction() as session:
        services.add_dependency(service, depends_on, session=session, actor=ws.actor, now=now)
        return services.get(service, session=session)


def create_incident(ws: Workspace, data: IncidentCreate) -> IncidentRead:
    require(ws, Permission.CONTRIBUTE, "create incidents")
    with ws.transaction() as session:
        created = incidents.create(data, session=session, actor=ws.actor)
        index_incident(session, created.key)
        return created


def list_incidents(
    ws: Workspace,
    *,
    service: str | None = None,
    severity: str | None = None,
    since: dt.datetime | None = None,
) -> list[IncidentRead]:
    with ws.transaction() as session:
        return incidents.list_incidents(
            session=session, service=service, severity=severity, since=since
        )


def get_incident(ws: Workspace, key: str) -> IncidentRead:
    with ws.transaction() as session:
        return incidents.get(key, session=session)
