"""Use cases of the model registry: register, approve, promote, roll back, compare and export.

Example::

    version = register_version(ws, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY),
                               artifact_dir=trained_dir)
    approve_version(ws, version.id, reason="holdout MTTD better, CI excludes 0")
    promote_version(ws, version.id)
    text = export_prometheus_rules(ws, version.id).text
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lessonloop.domain.access import Permission
from lessonloop.domain.audit import AuditEventRead
from lessonloop.domain.enums import Decision, ModelStatus, ModelTask
from lessonloop.domain.models import (
    EvaluationCreate,
    EvaluationRead,
    ExperimentCreate,
    ExperimentRead,
    MetricEstimate,
    ModelVersionCreate,
    ModelVersionRead,
)
from lessonloop.errors import InputError
from lessonloop.registry import lifecycle
from lessonloop.registry.artifacts import LoadedArtifact, load_artifact, store_artifact
from lessonloop.services.access import require
from lessonloop.services.model_exports import (
    EXPORTABLE,
    compare_decisions,
    export_alertmanager_config,
    export_prometheus_rules,
)
from lessonloop.services.workspace import Workspace
from lessonloop.storage import audit
from lessonloop.storage import models as store

__all__ = [
    "EXPORTABLE",
    "VersionDetails",
    "register_version",
    "list_versions",
    "show_version",
    "diff_versions",
    "load_version_artifact",
    "shadow_version",
    "approve_version",
    "reject_version",
    "promote_version",
    "rollback_task",
    "record_evaluation",
    "record_experiment",
    "record_backtest",
    "Backtest",
    "list_experiments",
    "get_experiment",
    "export_prometheus_rules",
    "export_alertmanager_config",
    "compare_decisions",
    "mirror_to_mlflow",
]


@dataclass(frozen=True)
class VersionDetails:
    """A version with its human gate, evaluations, experiments and audit trail."""

    version: ModelVersionRead
    approval: lifecycle.ApprovalState
    evaluations: list[EvaluationRead] = field(default_factory=list)
    experiments: list[ExperimentRead] = field(default_factory=list)
    history: list[AuditEventRead] = field(default_factory=list)


def register_version(
    ws: Workspace,
    data: ModelVersionCreate,
    *,
    artifact_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> ModelVersionRead:
    """Store a trained model's directory (content-hashed) and register it as a candidate.

    Here and in every step below, ``now`` (default: the time of the run) is when it happened:
    the rows and the audit events record it, so a back-fill (``lessonloop demo``'s simulated
    organisation) keeps its registry history in its own time."""
    require(ws, Permission.TRAIN, "register model versions")
    if artifact_dir is not None:
        path, digest = store_artifact(artifact_dir, ws.settings.artifacts_dir)
        data = data.model_copy(
            update={"artifact_path": str(path.resolve()), "artifact_hash": digest}
        )
    with ws.transaction() as session:
        version = store.create_version(data, session=session, actor=ws.actor, now=now)
        audit.record(
            session=session,
            actor=ws.actor,
            action="model.register",
            entity_type=lifecycle.ENTITY,
            entity_id=version.id,
            after_hash=version.artifact_hash,
            details={"task": version.task.value},
            at=version.created_at,
        )
        return version


def list_versions(
    ws: Workspace, *, task: ModelTask | None = None, status: ModelStatus | None = None
) -> list[ModelVersionRead]:
    with ws.transaction() as session:
        return store.list_versions(session=session, task=task, status=status)


def show_version(ws: Workspace, version_id: int) -> VersionDetails:
    with ws.transaction() as session:
        state = lifecycle.approval_state(version_id, session=session)
        experiments = [
            e
            for e in store.list_experiments(session=session)
            if version_id in (e.candidate_version_id, e.baseline_version_id)
        ]
        history = audit.list_events(
            session=session, entity_type=lifecycle.ENTITY, entity_id=str(version_id)
        )
        return VersionDetails(
            state.version,
            state,
            store.list_evaluations(session=session, version_id=version_id),
            experiments,
            list(reversed(history)),
        )


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(f"{prefix}.{key}" if prefix else str(key), value[key], out)
    else:
        out[prefix] = value


def diff_versions(ws: Workspace, first: int, second: int) -> dict[str, tuple[Any, Any]]:
    """Fields that differ between two versions: config keys, lineage and latest metrics."""
    sides: list[dict[str, Any]] = []
    with ws.transaction() as session:
        for version_id in (first, second):
            version = store.get_version(version_id, session=session)
            flat: dict[str, Any] = {}
            _flatten("config", version.config, flat)
            for name in (
                "task",
                "signal_set_version",
                "training_start",
                "training_end",
                "artifact_hash",
                "status",
            ):
                flat[name] = getattr(version, name)
            evaluations = store.list_evaluations(session=session, version_id=version_id)
            if evaluations:
                for metric, estimate in evaluations[-1].metrics.items():
                    flat[f"metrics.{metric}"] = estimate.value
            sides.append(flat)
    keys = sorted(set(sides[0]) | set(sides[1]))
    return {
        k: (sides[0].get(k), sides[1].get(k)) for k in keys if sides[0].get(k) != sides[1].get(k)
    }


def load_version_artifact(
    ws: Workspace, version_id: int, *, trusted: tuple[str, ...] = ()
) -> LoadedArtifact:
    """The version's verified artifact (IntegrityError when its hash does not match)."""
    with ws.transaction() as session:
        version = store.get_version(version_id, session=session)
    if not version.artifact_path or not version.artifact_hash:
        raise InputError(f"model version {version_id} has no artifact", field="artifact_path")
    return load_artifact(Path(version.artifact_path), version.artifact_hash, trusted=trusted)


def shadow_version(
    ws: Workspace, version_id: int, *, now: dt.datetime | None = None
) -> ModelVersionRead:
    require(ws, Permission.TRAIN, "put model versions in shadow")
    with ws.transaction() as session:
        return lifecycle.start_shadow(version_id, session=session, actor=ws.actor, now=now)


def approve_version(
    ws: Workspace,
    version_id: int,
    *,
    reason: str,
    approver: str | None = None,
    now: dt.datetime | None = None,
) -> lifecycle.ApprovalState:
    """Record an approval by `approver` (default: the acting user), with the reason."""
    require(ws, Permission.APPROVE, "approve model versions", actor=approver)
    with ws.transaction() as session:
        return lifecycle.approve(
            version_id,
            approver=approver or ws.actor,
            reason=reason,
            session=session,
            entered_by=ws.actor,
            now=now,
        )


def reject_version(
    ws: Workspace,
    version_id: int,
    *,
    reason: str,
    approver: str | None = None,
    now: dt.datetime | None = None,
) -> ModelVersionRead:
    require(ws, Permission.APPROVE, "reject model versions", actor=approver)
    with ws.transaction() as session:
        return lifecycle.reject(
            version_id,
            approver=approver or ws.actor,
            reason=reason,
            session=session,
            entered_by=ws.actor,
            now=now,
        )


_OBSERVE: Any = object()


def promote_version(
    ws: Workspace,
    version_id: int,
    *,
    expected_champion_id: int | None = _OBSERVE,
    now: dt.datetime | None = None,
) -> ModelVersionRead:
    """Promote atomically; fails with Conflict if the champion changed since it was observed.

    Without `expected_champion_id` the champion is read first in its own transaction, so a
    promotion that races another one fails instead of silently replacing the winner.
    """
    require(ws, Permission.APPROVE, "promote model versions")
    if expected_champion_id is _OBSERVE:
        with ws.transaction() as session:
            task = store.get_version(version_id, session=session).task
            current = store.champion_of(task, session=session)
            expected_champion_id = current.id if current else None
    with ws.transaction() as session:
        return lifecycle.promote(
            version_id,
            expected_champion_id=expected_champion_id,
            session=session,
            actor=ws.actor,
            now=now,
        )


def rollback_task(
    ws: Workspace, task: ModelTask, *, reason: str, now: dt.datetime | None = None
) -> ModelVersionRead:
    require(ws, Permission.APPROVE, "roll back models")
    with ws.transaction() as session:
        return lifecycle.rollback(task, session=session, actor=ws.actor, reason=reason, now=now)


def record_evaluation(
    ws: Workspace, data: EvaluationCreate, *, now: dt.datetime | None = None
) -> EvaluationRead:
    require(ws, Permission.TRAIN, "record evaluations")
    with ws.transaction() as session:
        return store.create_evaluation(data, session=session, actor=ws.actor, now=now)


def record_experiment(
    ws: Workspace, data: ExperimentCreate, *, now: dt.datetime | None = None
) -> ExperimentRead:
    require(ws, Permission.TRAIN, "record experiments")
    with ws.transaction() as session:
        return store.create_experiment(data, session=session, actor=ws.actor, now=now)


@dataclass(frozen=True)
class Backtest:
    """One metric of a candidate against a baseline on held-out incidents, and its verdict."""

    task: ModelTask
    candidate_id: int
    baseline_id: int | None
    baseline: str
    metric: str
    candidate: dict[str, Any]  # value, low, high
    incumbent: dict[str, Any]
    verdict: str
    split: dict[str, Any]
    hypothesis: str
    signal_set_version: int | None


def record_backtest(ws: Workspace, test: Backtest, *, now: dt.datetime | None = None) -> int:
    """Record a backtest as an evaluation of the candidate and as an experiment (both at
    `now`, default: the time of the run); the evaluation's id."""
    require(ws, Permission.TRAIN, "record backtests")
    decision = Decision(test.verdict)
    evaluation = record_evaluation(
        ws,
        EvaluationCreate(
            model_version_id=test.candidate_id,
            baseline_version_id=test.baseline_id,
            split=test.split,
            metrics={test.metric: MetricEstimate(**test.candidate)},
            baseline_metrics={test.metric: MetricEstimate(**test.incumbent)},
            comparisons={test.metric: {"verdict": test.verdict, "against": test.baseline}},
            decision=decision,
            notes=f"signal set v{test.signal_set_version}",
        ),
        now=now,
    )
    record_experiment(
        ws,
        ExperimentCreate(
            hypothesis=test.hypothesis,
            task=test.task,
            baseline_version_id=test.baseline_id,
            candidate_version_id=test.candidate_id,
            evaluation_id=evaluation.id,
            data_range={k: str(v) for k, v in test.split.items() if k.endswith("_incidents")},
            decision=decision,
            notes="awaiting human approval",
        ),
        now=now,
    )
    return evaluation.id


def list_experiments(ws: Workspace, *, task: ModelTask | None = None) -> list[ExperimentRead]:
    with ws.transaction() as session:
        return store.list_experiments(session=session, task=task)


def get_experiment(ws: Workspace, experiment_id: int) -> ExperimentRead:
    with ws.transaction() as session:
        return store.get_experiment(experiment_id, session=session)


def mirror_to_mlflow(ws: Workspace, version_id: int, tracking_uri: str) -> str:
    """Mirror one version (params, evaluation metrics, lineage tags) to MLflow; the run id."""
    from lessonloop.registry.mlflow_mirror import mirror_version

    with ws.transaction() as session:
        version = store.get_version(version_id, session=session)
        evaluations = store.list_evaluations(session=session, version_id=version_id)
    return mirror_version(tracking_uri, version, evaluations)
