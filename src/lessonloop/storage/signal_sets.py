"""Signal sets: cut a version with member snapshots, read it back, and lineage queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import SignalStatus
from lessonloop.domain.models import ModelVersionRead
from lessonloop.domain.signals import SignalRead, SignalSetRead
from lessonloop.errors import Conflict, NotFound
from lessonloop.storage import audit
from lessonloop.storage.signals import get_row
from lessonloop.storage.tables import ModelVersionRow, SignalSetMemberRow, SignalSetRow

__all__ = [
    "cut_set",
    "get_set",
    "latest_version",
    "list_sets",
    "set_members",
    "sets_containing",
    "model_versions_using",
]


def _set_read(row: SignalSetRow, *, session: Session) -> SignalSetRead:
    members = session.scalars(
        select(SignalSetMemberRow.signal_id)
        .where(SignalSetMemberRow.set_id == row.id)
        .order_by(SignalSetMemberRow.signal_id)
    )
    return SignalSetRead(
        id=row.id,
        version=row.version,
        parent_version=row.parent_version,
        content_hash=row.content_hash,
        created_at=row.created_at,
        created_by=row.created_by,
        members=list(members),
        notes=row.notes,
    )


def latest_version(*, session: Session) -> int | None:
    return session.scalar(select(func.max(SignalSetRow.version)))


def cut_set(
    members: list[SignalRead],
    set_hash: str,
    *,
    session: Session,
    actor: str,
    notes: list[str],
    now: dt.datetime | None = None,
) -> SignalSetRead:
    """Write version N+1 with a snapshot of each member, at `now` (default: the time of the
    run); only accepted signals may be members."""
    for member in members:
        stored = get_row(member.id, session=session)
        if (
            stored.status != SignalStatus.ACCEPTED.value
            or stored.content_hash != member.content_hash
        ):
            raise Conflict(f"signal {member.id} changed or is not accepted; cut again")
    parent = latest_version(session=session)
    row = SignalSetRow(
        version=(parent or 0) + 1,
        parent_version=parent,
        content_hash=set_hash,
        created_at=now or utc_now(),
        created_by=actor,
        notes=notes,
    )
    session.add(row)
    session.flush()
    for member in members:
        session.add(
            SignalSetMemberRow(
                set_id=row.id,
                signal_id=member.id,
                signal_hash=member.content_hash,
                snapshot=member.model_dump(mode="json"),
            )
        )
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="signal_set.cut",
        entity_type="signal_set",
        entity_id=row.version,
        after_hash=set_hash,
        details={"parent": parent, "members": len(members)},
        at=row.created_at,
    )
    return _set_read(row, session=session)


def _set_row(version: int, *, session: Session) -> SignalSetRow:
    row = session.scalar(select(SignalSetRow).where(SignalSetRow.version == version))
    if row is None:
        raise NotFound(f"unknown signal set version {version}")
    return row


def get_set(version: int, *, session: Session) -> SignalSetRead:
    return _set_read(_set_row(version, session=session), session=session)


def list_sets(*, session: Session) -> list[SignalSetRead]:
    rows = session.scalars(select(SignalSetRow).order_by(SignalSetRow.version))
    return [_set_read(row, session=session) for row in rows]


def set_members(version: int, *, session: Session) -> list[SignalRead]:
    """The members as they were when the set was cut (snapshots: later changes do not leak in)."""
    row = _set_row(version, session=session)
    snapshots = session.scalars(
        select(SignalSetMemberRow.snapshot)
        .where(SignalSetMemberRow.set_id == row.id)
        .order_by(SignalSetMemberRow.signal_id)
    )
    return [SignalRead.model_validate(s) for s in snapshots]


def sets_containing(signal_id: int, *, session: Session) -> list[int]:
    get_row(signal_id, session=session)
    query = (
        select(SignalSetRow.version)
        .join(SignalSetMemberRow, SignalSetMemberRow.set_id == SignalSetRow.id)
        .where(SignalSetMemberRow.signal_id == signal_id)
        .order_by(SignalSetRow.version)
    )
    return list(session.scalars(query))


def model_versions_using(versions: list[int], *, session: Session) -> list[ModelVersionRead]:
    """Model versions trained on any of the given signal set versions."""
    if not versions:
        return []
    rows = session.scalars(
        select(ModelVersionRow)
        .where(ModelVersionRow.signal_set_version.in_(versions))
        .order_by(ModelVersionRow.id)
    )
    return [
        ModelVersionRead.model_validate(
            {
                "id": r.id,
                "task": r.task,
                "config": r.config,
                "signal_set_version": r.signal_set_version,
                "training_start": r.training_start,
                "training_end": r.training_end,
                "artifact_path": r.artifact_path,
                "artifact_hash": r.artifact_hash,
                "parent_id": r.parent_id,
                "status": r.status,
                "created_at": r.created_at,
                "created_by": r.created_by,
                "status_changed_at": r.status_changed_at,
            }
        )
        for r in rows
    ]
