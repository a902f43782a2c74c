"""Role grants: who holds which role in the workspace."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lessonloop.domain.access import Role, RoleGrantRead, person_key
from lessonloop.domain.common import utc_now
from lessonloop.storage import audit
from lessonloop.storage.tables import RoleGrantRow

__all__ = ["any_grant", "roles_of", "list_grants", "add_grant", "remove_grant", "holders_of"]


def _read(row: RoleGrantRow) -> RoleGrantRead:
    return RoleGrantRead(
        id=row.id,
        person=row.person,
        role=Role(row.role),
        granted_by=row.granted_by,
        granted_at=row.granted_at,
        reason=row.reason,
    )


def any_grant(*, session: Session) -> bool:
    """Whether roles are in force (a workspace without grants is open)."""
    return bool(session.scalar(select(func.count(RoleGrantRow.id))))


def roles_of(name: str, *, session: Session) -> set[Role]:
    rows = session.scalars(
        select(RoleGrantRow.role).where(RoleGrantRow.person_key == person_key(name))
    )
    return {Role(value) for value in rows}


def holders_of(role: Role, *, session: Session) -> list[str]:
    """Everyone holding `role`, as first written."""
    rows = session.scalars(
        select(RoleGrantRow.person).where(RoleGrantRow.role == role.value).order_by(RoleGrantRow.id)
    )
    return list(rows)


def list_grants(*, session: Session, name: str | None = None) -> list[RoleGrantRead]:
    query = select(RoleGrantRow).order_by(RoleGrantRow.person_key, RoleGrantRow.role)
    if name is not None:
        query = query.where(RoleGrantRow.person_key == person_key(name))
    return [_read(row) for row in session.scalars(query)]


def _record(
    session: Session,
    actor: str,
    action: str,
    key: str,
    role: Role,
    reason: str,
    at: dt.datetime | None = None,
) -> None:
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="person",
        entity_id=key,
        details={"role": role.value, "reason": reason},
        at=at,
    )


def add_grant(
    name: str,
    role: Role,
    *,
    session: Session,
    actor: str,
    reason: str,
    now: dt.datetime | None = None,
) -> RoleGrantRead:
    """Grant `role` to `name` at `now` (default: the time of the run); the caller has checked
    it is not held yet."""
    row = RoleGrantRow(
        person=" ".join(name.split()),
        person_key=person_key(name),
        role=role.value,
        granted_by=actor,
        granted_at=now or utc_now(),
        reason=reason,
    )
    session.add(row)
    session.flush()
    _record(session, actor, "role.grant", row.person_key, role, reason, row.granted_at)
    return _read(row)


def remove_grant(name: str, role: Role, *, session: Session, actor: str, reason: str) -> bool:
    """Revoke `role` from `name`; whether it was held."""
    row = session.scalar(
        select(RoleGrantRow).where(
            RoleGrantRow.person_key == person_key(name), RoleGrantRow.role == role.value
        )
    )
    if row is None:
        return False
    session.delete(row)
    _record(session, actor, "role.revoke", row.person_key, role, reason)
    session.flush()
    return True
