"""Roles: who may change what in a shared workspace.

A workspace without any role grant is open (one engineer on a laptop, the demo). Once a grant
exists every change checks the acting person's roles. Roles are guard rails for a team sharing
a workspace, not authentication: the actor is whoever ``--actor`` / ``LESSONLOOP_ACTOR`` says,
and anyone who can write the database can change it. On PostgreSQL, the database's own
accounts are the security boundary.
"""

from __future__ import annotations

from enum import StrEnum

from lessonloop.domain.common import DomainModel, UtcDatetime

__all__ = [
    "Permission",
    "Role",
    "ROLE_PERMISSIONS",
    "RoleGrantRead",
    "person_key",
    "permissions_of",
]


class Permission(StrEnum):
    """What an action needs, beyond reading (reading is open to every role)."""

    CONTRIBUTE = "contribute"  # import data, create incidents, write reviews, update action items
    TRAIN = "train"  # extract signals, cut signal sets, train and evaluate candidate models
    REVIEW = "review"  # approve and publish reviews, decide signals, rate insights
    APPROVE = "approve"  # approve, reject, promote and roll back model versions
    ADMINISTER = "administer"  # grant roles, edit taxonomies, restore a workspace export


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    REVIEWER = "reviewer"
    DATA_SCIENTIST = "data-scientist"
    APPROVER = "approver"
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(),
    Role.RESPONDER: frozenset({Permission.CONTRIBUTE}),
    Role.REVIEWER: frozenset({Permission.CONTRIBUTE, Permission.REVIEW}),
    Role.DATA_SCIENTIST: frozenset({Permission.CONTRIBUTE, Permission.TRAIN}),
    Role.APPROVER: frozenset({Permission.APPROVE}),
    Role.ADMIN: frozenset(Permission),
}


def person_key(name: str) -> str:
    """Who a name denotes: ``Alice``, ``alice`` and `` alice `` are one person."""
    return " ".join(name.split()).casefold()


def permissions_of(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    """The union of what the roles allow."""
    allowed: set[Permission] = set()
    for role in roles:
        allowed |= ROLE_PERMISSIONS[role]
    return frozenset(allowed)


class RoleGrantRead(DomainModel):
    id: int
    person: str  # as first written; matched by person_key
    role: Role
    granted_by: str
    granted_at: UtcDatetime
    reason: str = ""
