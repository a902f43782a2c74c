"""The model-version status machine, the human approval gate, and atomic promotion and rollback.

::

    candidate ──▶ shadow ──▶ approved ──promote──▶ champion ──▶ retired
        │            │           │                                 │
        └────────────┴───────────┴──▶ rejected       rollback ◀────┘

Every function works in the caller's transaction: when one raises, the caller's rollback undoes
every status change made so far, so a promotion or a rollback is applied whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from lessonloop.domain.audit import ApprovalCreate, ApprovalRead
from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import ModelVersionRead
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.registry.artifacts import verify_artifact
from lessonloop.storage import audit
from lessonloop.storage import models as store
from lessonloop.storage import services as service_store

__all__ = [
    "TRANSITIONS",
    "ApprovalState",
    "check_transition",
    "touches_tier1",
    "became_champion",
    "required_approvers",
    "approval_state",
    "start_shadow",
    "approve",
    "reject",
    "retire",
    "promote",
    "rollback",
    "promoted_at",
]

S = ModelStatus
TRANSITIONS: dict[ModelStatus, frozenset[ModelStatus]] = {
    S.CANDIDATE: frozenset({S.SHADOW, S.APPROVED, S.REJECTED}),
    S.SHADOW: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.CHAMPION, S.REJECTED, S.RETIRED}),
    S.CHAMPION: frozenset({S.RETIRED}),
    S.RETIRED: frozenset({S.CHAMPION}),
    S.REJECTED: frozenset(),
}
ENTITY = "model_version"


@dataclass(frozen=True)
class ApprovalState:
    """Where a version stands at the human gate."""

    version: ModelVersionRead
    approvers: list[str]
    required: int
    approvals: list[ApprovalRead]

    @property
    def approved(self) -> bool:
        return len(self.approvers) >= self.required


def check_transition(current: ModelStatus, new: ModelStatus) -> None:
    """Raise Conflict when the status machine has no edge from `current` to `new`."""
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        article = "an" if current.value[0] in "aeiou" else "a"
        raise Conflict(
            f"{article} {current.value} version cannot become {new.value} "
            f"(allowed from {current.value}: {allowed})"
        )


def touches_tier1(version: ModelVersionRead, *, session: Session) -> bool:
    """True when the config flags tier 1 or names a tier-1 service."""
    if version.config.get("tier1") is True:
        return True
    names = version.config.get("services") or []
    if not isinstance(names, list):
        raise InputError("must be a list of service names", field="config.services")
    for name in names:
        try:
            if service_store.get(str(name), session=session).tier == 1:
                return True
        except NotFound:
            continue
    return False


def required_approvers(version: ModelVersionRead, *, session: Session) -> int:
    """Two distinct approvers for a model touching a tier-1 service, otherwise one."""
    return 2 if touches_tier1(version, session=session) else 1


def person(name: str) -> str:
    """Who a name denotes: ``Alice``, ``alice`` and `` alice `` are one approver."""
    return " ".join(name.split()).casefold()


def _on_behalf(details: dict[str, object], approver: str, entered_by: str) -> dict[str, object]:
    """`details`, plus who entered a decision when it was not the approver."""
    if entered_by and person(entered_by) != person(approver):
        return {**details, "entered_by": entered_by}
    return details


def _reason(reason: str) -> str:
    """A decision's reason, which must say something."""
    if not reason.strip():
        raise InputError("a reason is required (it is kept in the audit trail)", field="reason")
    return reason.strip()


def approval_state(version_id: int, *, session: Session) -> ApprovalState:
    version = store.get_version(version_id, session=session)
    approvals = store.list_approvals(version_id, session=session)
    first_spelling: dict[str, str] = {}
    for a in approvals:
        if a.decision == "approve":
            first_spelling.setdefault(person(a.approver), a.approver)
    approvers = sorted(first_spelling.values())
    return ApprovalState(
        version, approvers, required_approvers(version, session=session), approvals
    )


def _move(
    version: ModelVersionRead,
    new: ModelStatus,
    *,
    session: Session,
    now: dt.datetime | None = None,
) -> None:
    check_transition(version.status, new)
    if not store.compare_and_set_status(version.id, version.status, new, session=session, now=now):
        raise Conflict(
            f"model version {version.id} changed status while this request ran; "
            "nothing was changed, try again"
        )


def _record(
    session: Session,
    actor: str,
    action: str,
    version_id: int,
    details: dict[str, object],
    now: dt.datetime | None = None,
) -> None:
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=version_id,
        details=details,
        at=now,
    )


def start_shadow(
    version_id: int, *, session: Session, actor: str, now: dt.datetime | None = None
) -> ModelVersionRead:
    """Run a candidate beside the champion on new data, without acting on its decisions.

    Like every step here, it happens at `now` (default: the time of the run): the status
    change and the audit event record it."""
    version = store.get_version(version_id, session=session)
    _move(version, S.SHADOW, session=session, now=now)
    _record(session, actor, "model.shadow", version_id, {}, now)
    return store.get_version(version_id, session=session)


def approve(
    version_id: int,
    *,
    approver: str,
    reason: str,
    session: Session,
    entered_by: str = "",
    now: dt.datetime | None = None,
) -> ApprovalState:
    """Record one approver's approval; the version becomes approved once the policy is met.

    `entered_by` names whoever recorded it on the approver's behalf (kept in the audit trail
    when it is someone else)."""
    state = approval_state(version_id, session=session)
    if state.version.status not in (S.CANDIDATE, S.SHADOW):
        raise Conflict(
            f"model version {version_id} is {state.version.status.value}; only a "
            "candidate or shadow version can be approved"
        )
    reason = _reason(reason)
    if not approver.strip():
        raise InputError("an approval needs a name (--actor or LESSONLOOP_ACTOR)", field="actor")
    if person(approver) in {person(a) for a in state.approvers}:
        raise Conflict(
            f"{approver} has already approved model version {version_id}; "
            "a second approval must come from someone else"
        )
    store.add_approval(
        ApprovalCreate(
            model_version_id=version_id, approver=approver, decision="approve", reason=reason
        ),
        session=session,
        now=now,
    )
    evaluations = store.list_evaluations(session=session, version_id=version_id)
    evidence = (
        {"evaluation_id": evaluations[-1].id, "decision": evaluations[-1].decision.value}
        if evaluations
        else None
    )
    details = _on_behalf({"reason": reason, "evidence": evidence}, approver, entered_by)
    _record(session, approver, "model.approve", version_id, details, now)
    state = approval_state(version_id, session=session)
    if state.approved:
        _move(state.version, S.APPROVED, session=session, now=now)
        state = approval_state(version_id, session=session)
    return state


def reject(
    version_id: int,
    *,
    approver: str,
    reason: str,
    session: Session,
    entered_by: str = "",
    now: dt.datetime | None = None,
) -> ModelVersionRead:
    """Reject a version that is not yet champion, recording who and why (and who entered it
    on the approver's behalf, when someone else did)."""
    reason = _reason(reason)
    version = store.get_version(version_id, session=session)
    _move(version, S.REJECTED, session=session, now=now)
    store.add_approval(
        ApprovalCreate(
            model_version_id=version_id, approver=approver, decision="reject", reason=reason
        ),
        session=session,
        now=now,
    )
    details = _on_behalf({"reason": reason}, approver, entered_by)
    _record(session, approver, "model.reject", version_id, details, now)
    return store.get_version(version_id, session=session)


def retire(version_id: int, *, session: Session, actor: str, reason: str) -> ModelVersionRead:
    reason = _reason(reason)
    version = store.get_version(version_id, session=session)
    _move(version, S.RETIRED, session=session)
    _record(session, actor, "model.retire", version_id, {"reason": reason})
    return store.get_version(version_id, session=session)


def _verify(version: ModelVersionRead) -> None:
    if version.artifact_path and version.artifact_hash:
        verify_artifact(Path(version.artifact_path), version.artifact_hash)


def _approvals_so_far(version_id: int, *, session: Session) -> str:
    """For a version still at the gate: the approvals it has and needs, and from whom."""
    state = approval_state(version_id, session=session)
    if state.version.status not in (S.CANDIDATE, S.SHADOW):
        return ""
    noun = "approval" if state.required == 1 else "approvals"
    text = f" with {len(state.approvers)} of the {state.required} {noun} it needs"
    if state.required > 1:
        text += " (it touches a tier-1 service: each from a different approver"
        text += f"; so far {', '.join(state.approvers)})" if state.approvers else ")"
    return text


def promote(
    version_id: int,
    *,
    expected_champion_id: int | None,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> ModelVersionRead:
    """Make an approved version its task's champion; the old champion retires in the same step.

    `expected_champion_id` is the champion the caller saw; if another promotion changed it in
    the meantime this one fails with Conflict (compare-and-swap), so of two racing promotions
    exactly one wins.
    """
    version = store.get_version(version_id, session=session)
    store.lock_task(version.task, session=session)
    version = store.get_version(version_id, session=session)
    if version.status != S.APPROVED:
        raise Conflict(
            f"model version {version_id} is {version.status.value}"
            f"{_approvals_so_far(version_id, session=session)}; only an approved "
            "version can be promoted"
        )
    _verify(version)
    current = store.champion_of(version.task, session=session)
    current_id = current.id if current else None
    if current_id != expected_champion_id:
        raise Conflict(
            f"another promotion won: the {version.task.value} champion is now "
            f"{current_id or 'none'}, not {expected_champion_id or 'none'}; "
            "nothing was changed"
        )
    if current is not None:
        _move(current, S.RETIRED, session=session, now=now)
    _move(version, S.CHAMPION, session=session, now=now)
    _record(session, actor, "model.promote", version_id, {"replaced": current_id}, now)
    return store.get_version(version_id, session=session)


def _replaced_by_promotion(version_id: int, *, session: Session) -> int | None:
    for event in audit.list_events(session=session, entity_type=ENTITY, entity_id=str(version_id)):
        if event.action == "model.promote":
            replaced = event.details.get("replaced")
            return int(replaced) if replaced is not None else None
    return None


def promoted_at(version_id: int, *, session: Session) -> dt.datetime | None:
    """When a version last became champion (promotion or rollback), from the audit trail."""
    for event in audit.list_events(session=session, entity_type=ENTITY, entity_id=str(version_id)):
        if event.action in ("model.promote", "model.rollback_to"):
            return event.at
    return None


def became_champion(version_id: int, *, session: Session) -> list[tuple[dt.datetime, int]]:
    """Every time a version became champion (promotions and rollbacks to it), oldest first,
    each with its audit event's id: events of one second are ordered by the id."""
    return sorted(
        (event.at, event.id)
        for event in audit.list_events(
            session=session, entity_type=ENTITY, entity_id=str(version_id)
        )
        if event.action in ("model.promote", "model.rollback_to")
    )


def rollback(
    task: ModelTask, *, session: Session, actor: str, reason: str, now: dt.datetime | None = None
) -> ModelVersionRead:
    """Retire the task's champion and reinstate the champion it replaced, atomically."""
    reason = _reason(reason)
    store.lock_task(task, session=session)
    current = store.champion_of(task, session=session)
    if current is None:
        raise Conflict(f"no {task.value} champion to roll back")
    previous_id = _replaced_by_promotion(current.id, session=session)
    if previous_id is None:
        raise Conflict(
            f"champion {current.id} did not replace an earlier champion; "
            "there is nothing to roll back to"
        )
    previous = store.get_version(previous_id, session=session)
    _verify(previous)
    _move(current, S.RETIRED, session=session, now=now)
    _move(previous, S.CHAMPION, session=session, now=now)
    _record(
        session,
        actor,
        "model.rollback",
        current.id,
        {"reason": reason, "reinstated": previous_id},
        now,
    )
    _record(
        session,
        actor,
        "model.rollback_to",
        previous_id,
        {"reason": reason, "retired": current.id},
        now,
    )
    return store.get_version(previous_id, session=session)
