"""Signals: propose (deduplicated by content and provenance), get, list, accept, reject, retire."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.enums import SignalKind, SignalStatus
from lessonloop.domain.signals import SignalCreate, SignalRead, payload_adapter
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.storage import audit
from lessonloop.storage.tables import (
    AuditEventRow,
    ServiceRow,
    SignalRow,
)

__all__ = [
    "signal_hash",
    "create_proposal",
    "get_row",
    "get",
    "list_signals",
    "accept",
    "reject",
    "retire",
]

_SERVICE_FIELDS = ("service",)


def signal_hash(data: SignalCreate) -> str:
    """Hash of what a signal teaches (kind, payload, validity), not of who proposed it."""
    return content_hash(
        {
            "payload": data.payload.model_dump(mode="json"),
            "valid_from": data.valid_from,
            "valid_until": data.valid_until,
        }
    )


def _to_read(row: SignalRow) -> SignalRead:
    return SignalRead.model_validate(
        {
            "id": row.id,
            "payload": row.payload,
            "provenance": row.provenance,
            "confidence": row.confidence,
            "author": row.author,
            "status": row.status,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "content_hash": row.content_hash,
            "created_at": row.created_at,
            "decided_by": row.decided_by,
            "decided_at": row.decided_at,
            "decision_note": row.decision_note,
        }
    )


def _check_services(data: SignalCreate, *, session: Session) -> None:
    known = set(session.scalars(select(ServiceRow.name)))
    for name in _SERVICE_FIELDS:
        value = getattr(data.payload, name, None)
        if value is not None and value not in known:
            raise InputError(
                f"unknown service {value!r} (register it first)", field=f"payload.{name}"
            )


def _hash_histories(rows: list[SignalRow], *, session: Session) -> dict[int, set[str]]:
    """Every content hash each signal had (one query for all of them): edits on acceptance
    change it, dedupe must not care."""
    history = {row.id: {row.content_hash} for row in rows}
    if not rows:
        return history
    before = session.execute(
        select(AuditEventRow.entity_id, AuditEventRow.before_hash).where(
            AuditEventRow.entity_type == "signal",
            AuditEventRow.entity_id.in_([str(row.id) for row in rows]),
            AuditEventRow.before_hash.is_not(None),
        )
    )
    for entity_id, digest in before:
        if digest:
            history[int(entity_id)].add(digest)
    return history


def create_proposal(
    data: SignalCreate,
    *,
    session: Session,
    actor: str,
    reuse: bool = True,
    now: dt.datetime | None = None,
) -> tuple[SignalRead, bool]:
    """Store a proposed signal; the same content from the same place returns the stored one.

    With ``reuse=False`` a new signal is always stored (a person's new verdict is a new
    decision even when an earlier one said the same). A new one is proposed at ``now``
    (default: the time of the run).
    """
    _check_services(data, session=session)
    digest = signal_hash(data)
    provenance = data.provenance.model_dump(mode="json")
    same_place: Iterable[SignalRow] = [] if not reuse else session.scalars(
        select(SignalRow).where(
            SignalRow.kind == data.kind.value,
            SignalRow.review_id == data.provenance.review_id
            if data.provenance.review_id is not None
            else SignalRow.review_id.is_(None),
        )
    )
    candidates = [row for row in same_place if row.provenance == provenance]
    histories = _hash_histories(candidates, session=session)
    for row in candidates:
        if digest in histories[row.id]:
            return _to_read(row), False
    row = SignalRow(
        kind=data.kind.value,
        payload=data.payload.model_dump(mode="json"),
        provenance=provenance,
        confidence=data.confidence,
        author=data.author,
        status=SignalStatus.PROPOSED.value,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        content_hash=digest,
        created_at=now or utc_now(),
        review_id=data.provenance.review_id,
        insight_id=data.provenance.insight_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="signal.propose",
        entity_type="signal",
        entity_id=row.id,
        after_hash=digest,
        details={"kind": row.kind, "extractor": data.provenance.extractor},
        at=row.created_at,
    )
    return _to_read(row), True


def get_row(signal_id: int, *, session: Session) -> SignalRow:
    row = session.get(SignalRow, signal_id)
    if row is None:
        raise NotFound(f"unknown signal {signal_id}")
    return row


def get(signal_id: int, *, session: Session) -> SignalRead:
    return _to_read(get_row(signal_id, session=session))


def list_signals(
    *,
    session: Session,
    status: SignalStatus | None = None,
    kind: SignalKind | None = None,
    review_id: int | None = None,
) -> list[SignalRead]:
    query = select(SignalRow).order_by(SignalRow.id)
    if status is not None:
        query = query.where(SignalRow.status == status.value)
    if kind is not None:
        query = query.where(SignalRow.kind == kind.value)
    if review_id is not None:
        query = query.where(SignalRow.review_id == review_id)
    return [_to_read(row) for row in session.scalars(query)]


def _edited(row: SignalRow, edits: dict[str, Any]) -> SignalCreate:
    """The signal with ``edits`` applied (payload fields, or confidence / valid_from / _until)."""
    top = {"confidence", "valid_from", "valid_until"}
    payload = dict(row.payload)
    values: dict[str, Any] = {
        "provenance": row.provenance,
        "confidence": row.confidence,
        "author": row.author,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
    }
    for name, value in edits.items():
        if name in top:
            values[name] = value
        elif name == "kind" or name not in payload and name not in _payload_fields(row.kind):
            raise InputError(f"{row.kind} has no field {name!r}", field=f"payload.{name}")
        else:
            payload[name] = value
    try:
        values["payload"] = payload_adapter.validate_python(payload)
        return SignalCreate.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p != row.kind)
        if not where:  # a rule across fields ("end must be after start"): name the first one
            words = str(err["msg"]).replace(",", " ").split()
            where = next((w for w in words if w in _payload_fields(row.kind)), "")
        field = where if where.split(".")[0] in top else f"payload.{where}".rstrip(".")
        raise InputError(err["msg"], field=field) from exc


def _payload_fields(kind: str) -> set[str]:
    from lessonloop.domain import signals as schemas

    for model in (
        schemas.IncidentWindow,
        schemas.AlertVerdictPayload,
        schemas.ThresholdHint,
        schemas.CorrelationRule,
        schemas.SuppressionRule,
        schemas.FailureModeLabel,
        schemas.RemediationLabel,
        schemas.InstrumentationGap,
        schemas.PrecedentFeedback,
    ):
        if model.model_fields["kind"].default == kind:
            return set(model.model_fields)
    return set()


def _decide(
    row: SignalRow,
    status: SignalStatus,
    *,
    session: Session,
    actor: str,
    action: str,
    note: str | None,
    before: str,
    details: dict[str, Any],
    now: dt.datetime | None = None,
) -> SignalRead:
    row.status = status.value
    row.decided_by = actor
    row.decided_at = now or utc_now()
    row.decision_note = note
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="signal",
        entity_id=row.id,
        before_hash=before,
        after_hash=row.content_hash,
        details=details,
        at=row.decided_at,
    )
    return _to_read(row)


def accept(
    signal_id: int,
    *,
    session: Session,
    actor: str,
    edits: dict[str, Any] | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> SignalRead:
    """Accept a proposal, optionally corrected field by field (validated like a new signal),
    at `now` (default: the time of the run)."""
    row = get_row(signal_id, session=session)
    if row.status != SignalStatus.PROPOSED.value:
        raise Conflict(f"signal {signal_id} is {row.status}; only proposed signals can be accepted")
    before = row.content_hash
    if edits:
        data = _edited(row, edits)
        _check_services(data, session=session)
        row.payload = data.payload.model_dump(mode="json")
        row.confidence, row.valid_from, row.valid_until = (
            data.confidence,
            data.valid_from,
            data.valid_until,
        )
        row.content_hash = signal_hash(data)
    return _decide(
        row,
        SignalStatus.ACCEPTED,
        session=session,
        actor=actor,
        action="signal.accept",
        note=note,
        before=before,
        details={"edits": {k: str(v) for k, v in (edits or {}).items()}},
        now=now,
    )


def reject(
    signal_id: int,
    reason: str,
    *,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> SignalRead:
    """Reject a proposal at `now` (default: the time of the run); the reason is required and
    kept."""
    if not reason.strip():
        raise InputError("a rejection needs a reason", field="why")
    row = get_row(signal_id, session=session)
    if row.status != SignalStatus.PROPOSED.value:
        raise Conflict(f"signal {signal_id} is {row.status}; only proposed signals can be rejected")
    return _decide(
        row,
        SignalStatus.REJECTED,
        session=session,
        actor=actor,
        action="signal.reject",
        note=reason,
        before=row.content_hash,
        details={"reason": reason},
        now=now,
    )


def retire(signal_id: int, reason: str, *, session: Session, actor: str) -> SignalRead:
    """Retire an accepted signal: out of future sets, still in the sets that contained it."""
    row = get_row(signal_id, session=session)
    if row.status != SignalStatus.ACCEPTED.value:
        raise Conflict(f"signal {signal_id} is {row.status}; only accepted signals can be retired")
    return _decide(
        row,
        SignalStatus.RETIRED,
        session=session,
        actor=actor,
        action="signal.retire",
        note=reason,
        before=row.content_hash,
        details={"reason": reason},
    )
