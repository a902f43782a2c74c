"""The registry CLI end to end through the real console script, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import invoke_cli

from lessonloop.domain.enums import ModelTask
from lessonloop.domain.models import ExperimentCreate, ModelVersionCreate
from lessonloop.registry.artifacts import save_artifact
from lessonloop.services import registry

CLI = str(Path(sys.executable).with_name("lessonloop"))
RULE = {
    "service": "api",
    "series": "errors",
    "metric": "api_errors_ratio",
    "direction": "above",
    "threshold": 0.05,
    "for_minutes": 3,
    "justification": {"reviews": [1], "insights": [2]},
}


def _run(workspace, *args: str, actor: str = "ana") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LESSONLOOP_HOME": str(workspace.settings.home),
        "LESSONLOOP_DATABASE_URL": workspace.settings.resolved_database_url,
        "LESSONLOOP_ACTOR": actor,
        "COLUMNS": "200",
    }
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, check=False)


def _invoke(workspace, *args: str, actor: str = "ana"):
    return invoke_cli(workspace, *args, actor=actor)


def test_approve_promote_export_flow(workspace, tmp_path: Path) -> None:
    save_artifact(tmp_path / "trained", {"rules": [RULE]})
    version = registry.register_version(
        workspace,
        ModelVersionCreate(task=ModelTask.METRIC_ANOMALY, config={"alpha": 1}),
        artifact_dir=tmp_path / "trained",
    )
    refused = _invoke(workspace, "export-rules", "prometheus", str(version.id))
    assert refused.exit_code == 5 and "only an approved or champion" in refused.output
    approved = _invoke(workspace, "models", "approve", str(version.id), "--reason", "MTTD better")
    assert approved.exit_code == 0, approved.output
    assert "status approved" in approved.stdout
    folder = _invoke(workspace, "export-rules", "prometheus", str(version.id), "--out",
                     str(tmp_path))
    assert folder.exit_code == 2 and "--out" in folder.output
    out = tmp_path / "new" / "rules.yml"  # a missing folder is created
    exported = _invoke(workspace, "export-rules", "prometheus", str(version.id), "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert 'api_errors_ratio{service="api"} >= 0.05' in out.read_text()
    assert _invoke(workspace, "models", "promote", str(version.id)).exit_code == 0
    listed = json.loads(_invoke(workspace, "models", "list", "--json").stdout)
    assert [(v["id"], v["status"]) for v in listed] == [(version.id, "champion")]
    shown = json.loads(_invoke(workspace, "models", "show", str(version.id), "--json").stdout)
    assert shown["approvals"][0]["approver"] == "ana"
    assert shown["approvals"][0]["reason"] == "MTTD better"
    assert [e["action"] for e in shown["history"]] == [
        "model.register",
        "model.approve",
        "model.promote",
    ]
    again = _invoke(workspace, "models", "approve", str(version.id), "--reason", "x")
    assert again.exit_code == 5 and "only a candidate or shadow" in again.output


def test_export_warns_about_a_series_it_cannot_select(workspace, tmp_path: Path) -> None:
    # a series split from a CSV label column has no metric name: PromQL would read `-` as minus
    bad = {**RULE, "series": "latency:web-1", "metric": "latency:web-1"}
    save_artifact(tmp_path / "trained", {"rules": [RULE, bad]})
    version = registry.register_version(
        workspace,
        ModelVersionCreate(task=ModelTask.METRIC_ANOMALY),
        artifact_dir=tmp_path / "trained",
    )
    registry.approve_version(workspace, version.id, reason="ok", approver="ana")
    out = tmp_path / "rules.yml"
    exported = _invoke(workspace, "export-rules", "prometheus", str(version.id), "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert "warning: learned rule on api/latency:web-1 left out" in exported.output
    assert "--promql" in exported.output
    text = out.read_text()
    assert "latency:web-1" not in text.split("groups:")[1]
    assert "# 1 learned rules, 0 threshold hints" in text


def test_tampered_artifact_fails_the_export_with_one_red_line(workspace, tmp_path: Path) -> None:
    save_artifact(tmp_path / "trained", {"rules": [RULE]})
    version = registry.register_version(
        workspace,
        ModelVersionCreate(task=ModelTask.METRIC_ANOMALY),
        artifact_dir=tmp_path / "trained",
    )
    registry.approve_version(workspace, version.id, reason="ok", approver="ana")
    config = Path(version.artifact_path or "") / "config.json"
    config.write_text(config.read_text().replace("0.05", "5"))
    result = _invoke(workspace, "export-rules", "prometheus", str(version.id))
    assert result.exit_code == 7
    assert "does not match its recorded hash" in result.output


def test_experiments_list_and_show(workspace) -> None:
    version = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY)
    )
    registry.record_experiment(
        workspace,
        ExperimentCreate(
            hypothesis="pool saturation precedes outages",
            task=ModelTask.METRIC_ANOMALY,
            candidate_version_id=version.id,
            notes="a miss: recall fell",
        ),
    )
    listed = _invoke(workspace, "experiments", "list", "--json")
    assert json.loads(listed.output)[0]["hypothesis"] == "pool saturation precedes outages"
    shown = _invoke(workspace, "experiments", "show", "1")
    assert "a miss: recall fell" in shown.output
    missing = _invoke(workspace, "experiments", "show", "99")
    assert missing.exit_code == 4


def test_the_console_script_records_the_approver_from_the_environment(tmp_path: Path) -> None:
    """One real subprocess (SQLite; the flow above covers both engines in-process)."""
    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    ws = init_workspace(Settings(home=tmp_path / "home"), actor="trainer")
    try:
        version = registry.register_version(ws, ModelVersionCreate(task=ModelTask.PRECEDENT))
        result = _run(
            ws, "models", "approve", str(version.id), "--reason", "precision@5 up", actor="bo"
        )
        assert result.returncode == 0, result.stderr
        approval = registry.show_version(ws, version.id).approval
        assert [(a.approver, a.reason) for a in approval.approvals] == [("bo", "precision@5 up")]
    finally:
        ws.close()


def test_diff_and_outcomes_commands(workspace) -> None:
    first = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY, config={"alpha": 1})
    )
    second = registry.register_version(
        workspace,
        ModelVersionCreate(
            task=ModelTask.METRIC_ANOMALY, config={"alpha": 2}, signal_set_version=3
        ),
    )
    assert registry.diff_versions(workspace, first.id, second.id) == {
        "config.alpha": (1, 2),
        "signal_set_version": (None, 3),
    }
    shown = _invoke(workspace, "models", "diff", str(first.id), str(second.id))
    assert shown.exit_code == 0 and "config.alpha" in shown.stdout
    as_json = _invoke(workspace, "models", "diff", str(first.id), str(second.id), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {
        "first": first.id,
        "second": second.id,
        "differences": {
            "config.alpha": {"first": 1, "second": 2},
            "signal_set_version": {"first": None, "second": 3},
        },
    }
    checked = _invoke(workspace, "outcomes", "check", "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout) == []
