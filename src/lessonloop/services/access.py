"""Roles in a shared workspace: grant, revoke, list, and the check every change makes.

A workspace without grants is open. The first grant must name an administrator, and the last
administrator cannot be revoked, so a workspace can never lock everyone out of granting roles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lessonloop.domain.access import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    RoleGrantRead,
    permissions_of,
    person_key,
)
from lessonloop.errors import Conflict, InputError, NotFound, PermissionDenied
from lessonloop.services.workspace import Workspace
from lessonloop.storage import access as store

__all__ = ["RoleOverview", "grant_role", "list_roles", "parse_role", "require", "revoke_role"]


@dataclass(frozen=True)
class RoleOverview:
    """Whether roles are in force, and every grant."""

    enforced: bool
    grants: list[RoleGrantRead]


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {value!r}; roles are {names}", field="role") from None


def _granting_roles(permission: Permission) -> str:
    return ", ".join(r.value for r, allowed in ROLE_PERMISSIONS.items() if permission in allowed)


def require(ws: Workspace, permission: Permission, doing: str, *, actor: str | None = None) -> None:
    """Refuse with PermissionDenied when roles are in force and the actor (default: the
    workspace's) lacks `permission`."""
    who = actor or ws.actor
    with ws.transaction() as session:
        if not store.any_grant(session=session):
            return
        held = store.roles_of(who, session=session)
    if permission in permissions_of(held):
        return
    holds = ", ".join(sorted(r.value for r in held)) or "no role"
    raise PermissionDenied(
        f"{who or 'this actor'} may not {doing}: that needs a role among "
        f"{_granting_roles(permission)} (holds {holds}); an admin grants roles with "
        "`lessonloop roles grant NAME ROLE`"
    )


MAX_NAME = 120  # the audit trail records a grant under the name


def _name(name: str) -> str:
    if not person_key(name):
        raise InputError("a role needs a person's name", field="name")
    if len(person_key(name)) > MAX_NAME:
        raise InputError(f"a name has at most {MAX_NAME} characters", field="name")
    return name


def grant_role(
    ws: Workspace, name: str, role: Role, *, reason: str = "", now: dt.datetime | None = None
) -> RoleGrantRead:
    """Grant `role` to `name` at `now` (default: the time of the run); the first grant of a
    workspace must be an admin's."""
    _name(name)
    with ws.transaction() as session:
        if not store.any_grant(session=session):
            if role is not Role.ADMIN:
                raise InputError(
                    "the first role granted must be admin (once roles are in force only an "
                    "admin can grant them): `lessonloop roles grant NAME admin`",
                    field="role",
                )
        elif Permission.ADMINISTER not in permissions_of(store.roles_of(ws.actor, session=session)):
            raise PermissionDenied(
                f"{ws.actor or 'this actor'} may not grant roles: only an admin can"
            )
        if role in store.roles_of(name, session=session):
            raise Conflict(f"{name} already holds the role {role.value}")
        return store.add_grant(name, role, session=session, actor=ws.actor, reason=reason, now=now)


def revoke_role(ws: Workspace, name: str, role: Role, *, reason: str = "") -> None:
    """Revoke `role` from `name`; the last admin keeps theirs."""
    _name(name)
    with ws.transaction() as session:
        if not store.any_grant(session=session):
            raise NotFound("no role has been granted in this workspace: there is nothing to revoke")
        if Permission.ADMINISTER not in permissions_of(store.roles_of(ws.actor, session=session)):
            raise PermissionDenied(
                f"{ws.actor or 'this actor'} may not revoke roles: only an admin can"
            )
        if role is Role.ADMIN:
            admins = {person_key(p) for p in store.holders_of(Role.ADMIN, session=session)}
            if admins == {person_key(name)}:
                raise Conflict(
                    f"{name} is the last admin; grant admin to someone else first, or nobody "
                    "could grant roles any more"
                )
        if not store.remove_grant(name, role, session=session, actor=ws.actor, reason=reason):
            raise NotFound(f"{name} does not hold the role {role.value}")


def list_roles(ws: Workspace, name: str | None = None) -> RoleOverview:
    with ws.transaction() as session:
        return RoleOverview(
            enforced=store.any_grant(session=session),
            grants=store.list_grants(session=session, name=name),
        )
