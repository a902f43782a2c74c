"""Model versions, evaluations, experiments and approvals: the registry's rows.

Status changes go through :func:`compare_and_set_status`, an ``UPDATE ... WHERE status = old``
whose row count says whether this caller won; :func:`lock_task` serialises promotions of one
task (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions already take the write lock
at ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lessonloop.domain.audit import ApprovalCreate, ApprovalRead
from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import (
    EvaluationCreate,
    EvaluationRead,
    ExperimentCreate,
    ExperimentRead,
    ModelVersionCreate,
    ModelVersionRead,
)
from lessonloop.errors import NotFound
from lessonloop.storage import audit
from lessonloop.storage.tables import (
    ActionItemRow,
    ApprovalRow,
    EvaluationRow,
    ExperimentRow,
    ModelVersionRow,
    SignalRow,
    SignalSetMemberRow,
    SignalSetRow,
)

__all__ = [
    "create_version",
    "get_version",
    "list_versions",
    "champion_of",
    "lock_task",
    "compare_and_set_status",
    "create_evaluation",
    "get_evaluation",
    "list_evaluations",
    "create_experiment",
    "get_experiment",
    "list_experiments",
    "add_approval",
    "list_approvals",
    "signal_snapshots",
    "failure_modes_by_incident",
    "record_action_outcome",
]


def _version_read(row: ModelVersionRow) -> ModelVersionRead:
    return ModelVersionRead.model_validate(
        {
            "id": row.id,
            "task": row.task,
            "config": row.config,
            "signal_set_version": row.signal_set_version,
            "training_start": row.training_start,
            "training_end": row.training_end,
            "artifact_path": row.artifact_path,
            "artifact_hash": row.artifact_hash,
            "parent_id": row.parent_id,
            "status": row.status,
            "created_at": row.created_at,
            "created_by": row.created_by,
            "status_changed_at": row.status_changed_at,
        }
    )


def create_version(
    data: ModelVersionCreate, *, session: Session, actor: str, now: dt.datetime | None = None
) -> ModelVersionRead:
    """Register a new version as a candidate at `now` (default: the time of the run)."""
    now = now or utc_now()
    row = ModelVersionRow(
        **data.model_dump(mode="python"),
        status=ModelStatus.CANDIDATE.value,
        created_at=now,
        created_by=actor,
        status_changed_at=now,
    )
    row.task = data.task.value
    session.add(row)
    session.flush()
    return _version_read(row)


def get_version(version_id: int, *, session: Session) -> ModelVersionRead:
    row = session.get(ModelVersionRow, version_id, populate_existing=True)
    if row is None:
        raise NotFound(f"unknown model version {version_id}")
    return _version_read(row)


def list_versions(
    *, session: Session, task: ModelTask | None = None, status: ModelStatus | None = None
) -> list[ModelVersionRead]:
    query = select(ModelVersionRow).order_by(ModelVersionRow.id)
    if task is not None:
        query = query.where(ModelVersionRow.task == task.value)
    if status is not None:
        query = query.where(ModelVersionRow.status == status.value)
    rows = session.scalars(query.execution_options(populate_existing=True))
    return [_version_read(row) for row in rows]


def champion_of(task: ModelTask, *, session: Session) -> ModelVersionRead | None:
    """The current champion of a task, if any."""
    found = list_versions(session=session, task=task, status=ModelStatus.CHAMPION)
    return found[-1] if found else None


def lock_task(task: ModelTask, *, session: Session) -> None:
    """Lock every version row of a task until the transaction ends (no-op on SQLite)."""
    session.execute(
        select(ModelVersionRow.id)
        .where(ModelVersionRow.task == task.value)
        .order_by(ModelVersionRow.id)  # one lock order for everyone: no deadlocks
        .with_for_update()
    )


def compare_and_set_status(
    version_id: int,
    expected: ModelStatus,
    new: ModelStatus,
    *,
    session: Session,
    now: dt.datetime | None = None,
) -> bool:
    """Move a version from `expected` to `new` at `now` (default: the time of the run); False
    when its status was not `expected`."""
    result = session.execute(
        update(ModelVersionRow)
        .where(ModelVersionRow.id == version_id, ModelVersionRow.status == expected.value)
        .values(status=new.value, status_changed_at=now or utc_now())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _evaluation_read(row: EvaluationRow) -> EvaluationRead:
    return EvaluationRead.model_validate(
        {
            "id": row.id,
            "model_version_id": row.model_version_id,
            "baseline_version_id": row.baseline_version_id,
            "split": row.split,
            "metrics": row.metrics,
            "baseline_metrics": row.baseline_metrics,
            "comparisons": row.comparisons,
            "decision": row.decision,
            "attribution": row.attribution,
            "notes": row.notes,
            "created_at": row.created_at,
        }
    )


def create_evaluation(
    data: EvaluationCreate, *, session: Session, actor: str, now: dt.datetime | None = None
) -> EvaluationRead:
    """Record an evaluation at `now` (default: the time of the run), audited as
    ``evaluation:ID`` with the hash of what it measured."""
    get_version(data.model_version_id, session=session)
    fields: dict[str, Any] = data.model_dump(mode="json")
    row = EvaluationRow(**fields, created_at=now or utc_now())
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.record",
        entity_type="evaluation",
        entity_id=row.id,
        after_hash=content_hash(fields),
        details={
            "model_version_id": data.model_version_id,
            "baseline_version_id": data.baseline_version_id,
        },
        at=row.created_at,
    )
    return _evaluation_read(row)


def get_evaluation(evaluation_id: int, *, session: Session) -> EvaluationRead:
    row = session.get(EvaluationRow, evaluation_id)
    if row is None:
        raise NotFound(f"unknown evaluation {evaluation_id}")
    return _evaluation_read(row)


def list_evaluations(*, session: Session, version_id: int | None = None) -> list[EvaluationRead]:
    query = select(EvaluationRow).order_by(EvaluationRow.id)
    if version_id is not None:
        query = query.where(EvaluationRow.model_version_id == version_id)
    return [_evaluation_read(row) for row in session.scalars(query)]


def _experiment_read(row: ExperimentRow) -> ExperimentRead:
    return ExperimentRead.model_validate(
        {
            "id": row.id,
            "hypothesis": row.hypothesis,
            "insight_ids": row.insight_ids,
            "action_item_ids": row.action_item_ids,
            "task": row.task,
            "baseline_version_id": row.baseline_version_id,
            "candidate_version_id": row.candidate_version_id,
            "evaluation_id": row.evaluation_id,
            "data_range": row.data_range,
            "decision": row.decision,
            "notes": row.notes,
            "created_at": row.created_at,
        }
    )


def create_experiment(
    data: ExperimentCreate, *, session: Session, actor: str, now: dt.datetime | None = None
) -> ExperimentRead:
    """Record an experiment at `now` (default: the time of the run); misses and regressions
    are kept like successes (audited as ``experiment:ID``)."""
    for version_id in (data.baseline_version_id, data.candidate_version_id):
        if version_id is not None:
            get_version(version_id, session=session)
    if data.evaluation_id is not None:
        get_evaluation(data.evaluation_id, session=session)
    fields: dict[str, Any] = data.model_dump(mode="json")
    row = ExperimentRow(**fields, created_at=now or utc_now())
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="experiment.record",
        entity_type="experiment",
        entity_id=row.id,
        after_hash=content_hash(fields),
        details={"task": fields["task"], "decision": fields["decision"]},
        at=row.created_at,
    )
    return _experiment_read(row)


def get_experiment(experiment_id: int, *, session: Session) -> ExperimentRead:
    row = session.get(ExperimentRow, experiment_id)
    if row is None:
        raise NotFound(f"unknown experiment {experiment_id}")
    return _experiment_read(row)


def list_experiments(*, session: Session, task: ModelTask | None = None) -> list[ExperimentRead]:
    query = select(ExperimentRow).order_by(ExperimentRow.id)
    if task is not None:
        query = query.where(ExperimentRow.task == task.value)
    return [_experiment_read(row) for row in session.scalars(query)]


def _approval_read(row: ApprovalRow) -> ApprovalRead:
    return ApprovalRead(
        id=row.id,
        model_version_id=row.model_version_id,
        approver=row.approver,
        decision=row.decision,
        reason=row.reason,
        at=row.at,
    )


def add_approval(
    data: ApprovalCreate, *, session: Session, now: dt.datetime | None = None
) -> ApprovalRead:
    """Store an approver's decision, made at `now` (default: the time of the run)."""
    row = ApprovalRow(**data.model_dump(mode="json"), at=now or utc_now())
    session.add(row)
    session.flush()
    return _approval_read(row)


def list_approvals(version_id: int, *, session: Session) -> list[ApprovalRead]:
    rows = session.scalars(
        select(ApprovalRow)
        .where(ApprovalRow.model_version_id == version_id)
        .order_by(ApprovalRow.id)
    )
    return [_approval_read(row) for row in rows]


def signal_snapshots(set_version: int, *, session: Session) -> list[dict[str, Any]]:
    """The frozen signal snapshots of a signal-set version (empty when there is no such set)."""
    rows = session.scalars(
        select(SignalSetMemberRow.snapshot)
        .join(SignalSetRow, SignalSetRow.id == SignalSetMemberRow.set_id)
        .where(SignalSetRow.version == set_version)
        .order_by(SignalSetMemberRow.signal_id)
    )
    return [dict(snapshot) for snapshot in rows]


def failure_modes_by_incident(*, session: Session) -> dict[str, set[str]]:
    """Accepted failure-mode labels per incident key (read by the outcome checks)."""
    found: dict[str, set[str]] = {}
    rows = session.scalars(
        select(SignalRow.payload).where(
            SignalRow.kind == "failure_mode_label", SignalRow.status == "accepted"
        )
    )
    for payload in rows:
        found.setdefault(str(payload["incident_key"]), set()).add(str(payload["label"]))
    return found


def record_action_outcome(
    action_id: int,
    outcome: str,
    evidence: dict[str, Any],
    *,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Store an action item's checked outcome and its evidence, with an audit event at `now`
    (default: the time of the run)."""
    row = session.get(ActionItemRow, action_id)
    if row is None:
        raise NotFound(f"unknown action item {action_id}")
    row.outcome = outcome
    row.outcome_evidence = evidence
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="action.outcome",
        entity_type="action_item",
        entity_id=action_id,
        details={"outcome": outcome},
        at=now,
    )
