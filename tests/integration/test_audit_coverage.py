"""Alerts, series, evaluations and experiments are in the audit trail like every other change;
a stored series can be deleted, on purpose only (both engines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import invoke_cli

from lessonloop.domain.access import Role
from lessonloop.domain.enums import ModelTask
from lessonloop.domain.models import EvaluationCreate, ExperimentCreate, ModelVersionCreate
from lessonloop.errors import InputError, NotFound, PermissionDenied
from lessonloop.services import access, audit_trail, registry
from lessonloop.services.detection import delete_series, list_stored_series
from lessonloop.services.importing import ImportOptions, import_files
from lessonloop.storage import series
from lessonloop.storage.tables import AlertRow, SeriesRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
SERIES = ImportOptions(service="checkout", series_name="error_rate")


def _events(ws, entity: str, action: str | None = None):
    return audit_trail.audit_trail(ws, entity=entity, action=action, limit=10_000)


def _import_series(ws, path: Path):
    summary = import_files(ws, "series", [path], options=SERIES)
    assert summary.ok, summary.errors
    return summary


def test_every_imported_alert_has_an_event_and_unchanged_ones_add_none(workspace) -> None:
    workspace.actor = "bob"
    path = FIXTURES / "opsgenie_export.json"
    assert import_files(workspace, "opsgenie", [path]).ok
    with workspace.transaction() as session:
        ids = {str(i) for i in session.scalars(select(AlertRow.id))}
    created = _events(workspace, "alert", "alert.create")
    assert ids and {e.entity_id for e in created} == ids
    assert all(e.actor == "bob" and e.after_hash and e.details["source"] for e in created)
    import_files(workspace, "opsgenie", [path])  # the same file again: nothing changes
    assert len(_events(workspace, "alert")) == len(created)


def test_an_alert_that_resolves_later_is_an_update_with_both_hashes(workspace, tmp_path) -> None:
    firing = {
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "fingerprint": "f1",
                "labels": {"alertname": "HighLatency", "service": "api"},
                "annotations": {},
                "startsAt": "2026-03-01T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }
    resolved = json.loads(json.dumps(firing))
    resolved["alerts"][0].update(status="resolved", endsAt="2026-03-01T10:30:00Z")
    for name, payload in (("1.json", firing), ("2.json", resolved)):
        (tmp_path / name).write_text(json.dumps(payload))
        assert import_files(workspace, "alertmanager", [tmp_path / name]).ok
    (create,) = _events(workspace, "alert", "alert.create")
    (update,) = _events(workspace, "alert", "alert.update")
    assert update.entity_id == create.entity_id
    assert update.before_hash == create.after_hash != update.after_hash


def test_series_create_update_and_delete_are_audited_with_content_hashes(
    workspace, tmp_path
) -> None:
    workspace.actor = "dan"
    _import_series(workspace, FIXTURES / "error_rate.csv")
    created = _events(workspace, "series:checkout/error_rate:eu")
    assert [e.action for e in created] == ["series.create"]
    assert created[0].details["points"] == 3 and created[0].actor == "dan"
    with workspace.transaction() as session:
        row = session.scalar(select(SeriesRow).where(SeriesRow.name == "error_rate:eu"))
        assert row is not None and created[0].after_hash == row.content_hash
    _import_series(workspace, FIXTURES / "error_rate.csv")  # unchanged: no event
    assert len(_events(workspace, "series")) == 2
    more = tmp_path / "more.csv"
    more.write_text("timestamp,value,label\n2024-03-05T09:03:00Z,0.5,eu\n")
    _import_series(workspace, more)
    update = _events(workspace, "series:checkout/error_rate:eu", "series.update")[0]
    assert update.before_hash == created[0].after_hash and update.details["points"] == 4

    removed = delete_series(workspace, "checkout/error_rate:eu", confirmed=True)
    assert removed.points == 4 and removed.ref == "checkout/error_rate:eu"
    deleted = _events(workspace, "series:checkout/error_rate:eu", "series.delete")[0]
    assert deleted.before_hash == update.after_hash and deleted.after_hash is None
    assert deleted.details["points"] == 4
    assert [s.ref for s in list_stored_series(workspace)] == ["checkout/error_rate:us"]
    with pytest.raises(NotFound, match="no series 'error_rate:eu'"):
        delete_series(workspace, "checkout/error_rate:eu", confirmed=True)


def test_deleting_needs_confirmation_and_a_contributor(workspace) -> None:
    _import_series(workspace, FIXTURES / "error_rate.csv")
    with pytest.raises(InputError, match="holds 3 points .* nothing deleted: pass --yes"):
        delete_series(workspace, "checkout/error_rate:eu", confirmed=False)
    with workspace.transaction() as session:
        assert series.get("checkout", "error_rate:eu", session=session).values.size == 3
    workspace.actor = "alice"
    access.grant_role(workspace, "alice", Role.ADMIN)
    access.grant_role(workspace, "vic", Role.VIEWER)
    workspace.actor = "vic"
    with pytest.raises(PermissionDenied, match="vic may not delete series"):
        delete_series(workspace, "checkout/error_rate:eu", confirmed=True)
    assert not _events(workspace, "series", "series.delete")


def test_evaluations_and_experiments_are_audited(workspace) -> None:
    workspace.actor = "dan"
    version = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY)
    )
    evaluation = registry.record_evaluation(
        workspace, EvaluationCreate(model_version_id=version.id, notes="first look")
    )
    experiment = registry.record_experiment(
        workspace,
        ExperimentCreate(
            hypothesis="noise verdicts cut pages",
            task=ModelTask.METRIC_ANOMALY,
            candidate_version_id=version.id,
            evaluation_id=evaluation.id,
        ),
    )
    (recorded,) = _events(workspace, f"evaluation:{evaluation.id}")
    assert recorded.action == "evaluation.record" and recorded.actor == "dan"
    assert recorded.details["model_version_id"] == version.id and recorded.after_hash
    (tried,) = _events(workspace, f"experiment:{experiment.id}")
    assert tried.action == "experiment.record" and tried.details["task"] == "metric_anomaly"


def test_delete_series_from_the_command_line(workspace) -> None:
    _import_series(workspace, FIXTURES / "error_rate.csv")
    refused = invoke_cli(
        workspace, "detect", "delete-series", "checkout/error_rate:us", actor="dan"
    )
    assert refused.exit_code == 2, refused.output
    assert "nothing deleted: pass --yes" in refused.output
    done = invoke_cli(
        workspace, "detect", "delete-series", "checkout/error_rate:us", "--yes", actor="dan"
    )
    assert done.exit_code == 0, done.output
    assert "deleted checkout/error_rate:us: 2 points" in done.output
    trail = invoke_cli(
        workspace, "audit", "--entity", "series:checkout/error_rate:us", "--json", actor="dan"
    )
    assert [e["action"] for e in json.loads(trail.output)] == ["series.delete", "series.create"]


def test_a_series_with_the_longest_name_is_audited_on_both_engines(workspace, tmp_path) -> None:
    """The audit id SERVICE/NAME of a 200-character series fits (PostgreSQL checks lengths)."""
    long_service = "s" * 120
    path = tmp_path / "one.csv"
    path.write_text("timestamp,value\n2024-03-05T09:00:00Z,1\n")
    name = "n" * 200
    options = ImportOptions(service=long_service, series_name=name)
    summary = import_files(workspace, "series", [path], options=options)
    assert summary.ok, summary.errors
    (event,) = _events(workspace, f"series:{long_service}/{name}")
    assert event.action == "series.create" and event.details["name"] == name
