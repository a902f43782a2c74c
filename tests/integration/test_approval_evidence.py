"""An approval records the evaluation its approver had in front of them, or that there was none."""

from __future__ import annotations

from tests.factories import invoke_cli

from lessonloop.domain.enums import Decision, ModelTask
from lessonloop.domain.models import EvaluationCreate, MetricEstimate, ModelVersionCreate
from lessonloop.services import audit_trail, registry


def _approve(workspace, version_id: int):
    return invoke_cli(workspace, "models", "approve", str(version_id), "-r", "ok", actor="ava")


def test_approval_names_its_evidence_or_warns_without_any(workspace) -> None:
    bare = registry.register_version(workspace, ModelVersionCreate(task=ModelTask.PRECEDENT))
    tested = registry.register_version(workspace, ModelVersionCreate(task=ModelTask.PRECEDENT))
    evaluation = registry.record_evaluation(
        workspace,
        EvaluationCreate(
            model_version_id=tested.id,
            metrics={"precision_at_5": MetricEstimate(value=0.8, low=0.7, high=0.9)},
            decision=Decision.BETTER,
        ),
    )

    unproven = _approve(workspace, bare.id)
    assert unproven.exit_code == 0, unproven.output
    assert "approved without evidence" in unproven.output
    proven = _approve(workspace, tested.id)
    assert f"evidence: evaluation {evaluation.id} (better)" in proven.output
    assert "without evidence" not in proven.output

    events = audit_trail.audit_trail(workspace, action="model.approve")
    evidence = {int(e.entity_id): e.details["evidence"] for e in events}
    assert evidence == {
        bare.id: None,
        tested.id: {"evaluation_id": evaluation.id, "decision": "better"},
    }


def test_a_decision_entered_for_someone_else_says_who_entered_it(workspace) -> None:
    version = registry.register_version(workspace, ModelVersionCreate(task=ModelTask.PRECEDENT))
    other = registry.register_version(workspace, ModelVersionCreate(task=ModelTask.PRECEDENT))
    registry.approve_version(workspace, version.id, reason="agreed in the meeting", approver="Bo")
    registry.reject_version(workspace, other.id, reason="noisy", approver="tester")
    events = {e.action: e for e in audit_trail.audit_trail(workspace, action="model.")}
    assert events["model.approve"].actor == "Bo"
    assert events["model.approve"].details["entered_by"] == workspace.actor
    assert "entered_by" not in events["model.reject"].details  # the approver entered it
