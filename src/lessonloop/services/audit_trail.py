"""Read the audit trail: who changed what, when, and the content hashes before and after."""

from __future__ import annotations

import datetime as dt

from lessonloop.domain.access import person_key
from lessonloop.domain.audit import AuditEventRead
from lessonloop.errors import InputError
from lessonloop.services.workspace import Workspace
from lessonloop.storage import audit

__all__ = ["ENTITY_TYPES", "MAX_EVENTS", "audit_trail"]

MAX_EVENTS = 100_000
# What the trail records events on (a known type with no events yet is an empty answer).
ENTITY_TYPES = frozenset(
    {
        "action_item",
        "alert",
        "evaluation",
        "experiment",
        "incident",
        "insight",
        "model_version",
        "person",
        "review",
        "series",
        "service",
        "signal",
        "signal_set",
        "taxonomy",
    }
)


def _entity(spec: str | None) -> tuple[str | None, str | None]:
    """``review`` or ``review:12`` → (type, id)."""
    if spec is None:
        return None, None
    kind, _, ident = spec.partition(":")
    kind = kind.strip().lower()
    if not kind:
        raise InputError(f"not an entity: {spec!r} (TYPE or TYPE:ID)", field="--entity")
    ident = ident.strip()
    if kind == "person":  # grants are recorded under the name's key, as `roles` matches it
        ident = person_key(ident)
    return kind, (ident or None)


def audit_trail(
    ws: Workspace,
    *,
    entity: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 200,
) -> list[AuditEventRead]:
    """Events newest first, filtered; an unknown entity type is refused with the known ones."""
    if not 1 <= limit <= MAX_EVENTS:
        raise InputError(f"must be between 1 and {MAX_EVENTS}", field="--limit")
    if since is not None and until is not None and until <= since:
        raise InputError("--until must be after --since", field="--until")
    kind, ident = _entity(entity)
    with ws.transaction() as session:
        if kind is not None:
            known = sorted(ENTITY_TYPES | set(audit.entity_types(session=session)))
            if kind not in known:
                raise InputError(
                    f"unknown entity type {kind!r}; the trail records "
                    f"{', '.join(known)}",
                    field="--entity",
                )
        return audit.list_events(
            session=session,
            entity_type=kind,
            entity_id=ident,
            actor=actor,
            action_prefix=action,
            since=since,
            until=until,
            limit=limit,
        )
