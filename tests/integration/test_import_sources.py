"""Importers end to end on both engines: fixtures import cleanly, idempotently, redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lessonloop.domain.enums import ReviewStatus
from lessonloop.errors import InputError
from lessonloop.services.importing import CsvColumns, ImportOptions, import_files
from lessonloop.storage import alerts, incidents, reviews, series
from lessonloop.storage.tables import AlertRow, IncidentRow, ReviewRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def _count(ws, table) -> int:
    with ws.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)))


def test_pagerduty_import_is_idempotent_redacted_and_builds_a_draft_timeline(workspace):
    path = FIXTURES / "pagerduty_export.json"
    first = import_files(workspace, "pagerduty", [path])
    assert first.ok, first.errors
    assert first.outcomes["incident"]["created"] == 2
    assert first.redactions.by_kind.get("ipv4", 0) >= 1
    with workspace.transaction() as session:
        incident = incidents.get("pd-q2zpx1tufsvbor", session=session)
        review = reviews.get_by_incident("pd-q2zpx1tufsvbor", session=session)
    assert incident.severity.value == "SEV1" and incident.services == ["checkout-api"]
    assert "10.20.30.40" not in incident.summary and "Dana" not in incident.summary
    assert [e.source for e in review.timeline] == ["pagerduty"] * 4
    assert all("ghp_" not in e.text and "Dana" not in (e.actor or "") for e in review.timeline)
    second = import_files(workspace, "pagerduty", [path])
    assert second.outcomes["incident"] == {"unchanged": 2}
    assert second.outcomes["review"] == {"unchanged": 1}
    assert _count(workspace, IncidentRow) == 2 and _count(workspace, ReviewRow) == 1


def test_dry_run_reports_changes_but_stores_nothing(workspace):
    summary = import_files(
        workspace, "pagerduty", [FIXTURES / "pagerduty_export.json"], dry_run=True
    )
    assert summary.dry_run and summary.outcomes["incident"]["created"] == 2
    assert _count(workspace, IncidentRow) == 0


def test_opsgenie_alerts_incidents_logs_and_notes(workspace):
    summary = import_files(workspace, "opsgenie", [FIXTURES / "opsgenie_export.json"])
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        incident = incidents.get("og-77", session=session)
        found = alerts.list_alerts(session=session)
        review = reviews.get_by_incident("og-77", session=session)
    assert incident.severity.value == "SEV1" and incident.services == ["orders-db"]
    linked = [a for a in found if a.incident_key == "og-77"]
    assert len(linked) == 1 and linked[0].ends_at is not None
    assert (
        len(review.timeline) == 4 and "555" not in review.timeline[2].text + review.timeline[1].text
    )
    lone = next(a for a in found if a.incident_key is None)
    assert "batch job" in lone.annotations["notes"]
    again = import_files(workspace, "opsgenie", [FIXTURES / "opsgenie_export.json"])
    assert again.outcomes["alert"] == {"unchanged": 2}
    assert _count(workspace, AlertRow) == 2


def test_alertmanager_firing_and_resolved_merge(workspace):
    summary = import_files(workspace, "alertmanager", [FIXTURES / "alertmanager_stream.jsonl"])
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        found = {a.fingerprint: a for a in alerts.list_alerts(session=session)}
    assert set(found) == {"a1b2c3d4e5f60718", "0f0e0d0c0b0a0908"}
    assert found["a1b2c3d4e5f60718"].ends_at is not None
    assert found["0f0e0d0c0b0a0908"].ends_at is None
    assert "10.1.2.3" not in found["a1b2c3d4e5f60718"].labels["instance"]
    import_files(workspace, "alertmanager", [FIXTURES / "alertmanager_stream.jsonl"])
    assert _count(workspace, AlertRow) == 2


def test_chat_becomes_timeline_and_candidate_insights_without_touching_human_text(workspace):
    import_files(workspace, "pagerduty", [FIXTURES / "pagerduty_export.json"])
    options = ImportOptions(incident="pd-q2zpx1tufsvbor")
    summary = import_files(
        workspace,
        "chat",
        [FIXTURES / "chat.jsonl", FIXTURES / "slack" / "incident-42"],
        options=options,
    )
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        review = reviews.get_by_incident("pd-q2zpx1tufsvbor", session=session)
    chat = [e for e in review.timeline if e.source == "chat"]
    assert len(chat) == 7
    assert sum(e.source == "pagerduty" for e in review.timeline) == 4
    candidates = [i for i in review.insights if "candidate" in i.tags]
    assert len(candidates) >= 4
    assert all(i.provenance.source.value == "chat transcript" for i in candidates)
    assert not any("Marco" in e.text or "marco" in e.text for e in chat)
    assert summary.outcomes["timeline event"] == {"imported": 7}
    again = import_files(workspace, "chat", [FIXTURES / "chat.jsonl"], options=options)
    assert again.outcomes["review"] == {"unchanged": 1}
    assert "imported" not in again.outcomes["timeline event"]  # counts only what went in
    assert again.outcomes["timeline event"]["not added"] > 0
    with workspace.transaction() as session:
        for step in ("in review", "approved"):
            reviews.transition(review.id, ReviewStatus(step), session=session, actor="t")
    past_draft = import_files(workspace, "chat", [FIXTURES / "chat.jsonl"], options=options)
    assert past_draft.outcomes["review"] == {"kept": 1}
    assert set(past_draft.outcomes["timeline event"]) == {"not added"}


def test_google_sre_postmortem_maps_every_section(workspace):
    summary = import_files(workspace, "markdown", [FIXTURES / "google_sre_postmortem.md"])
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        (incident,) = incidents.list_incidents(session=session)
        review = reviews.get_by_incident(incident.key, session=session)
    assert incident.started_at.isoformat().startswith("2024-03-05")
    assert len(review.timeline) == 5 and len(review.action_items) == 2
    assert review.action_items[1].type.value == "detect"
    assert len(review.went_wrong) == 2 and len(review.got_lucky) == 1
    assert len(review.contributing_factors) == 2
    assert {"Trigger", "Resolution"} <= set(review.extra_sections)
    again = import_files(workspace, "markdown", [FIXTURES / "google_sre_postmortem.md"])
    assert again.outcomes["review"] == {"unchanged": 1}


def test_series_csv_with_labels(workspace):
    options = ImportOptions(service="checkout", series_name="error_rate")
    summary = import_files(workspace, "series", [FIXTURES / "error_rate.csv"], options=options)
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        eu = series.get("checkout", "error_rate:eu", session=session)
    assert eu.values.tolist() == [0.01, 0.02, 0.20]
    again = import_files(workspace, "series", [FIXTURES / "error_rate.csv"], options=options)
    assert again.outcomes["series"] == {"unchanged": 2}


def test_alertmanager_truncated_and_nameless_alerts_import_with_warnings(workspace, tmp_path):
    payload = {
        "version": "4",
        "truncatedAlerts": 2,
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "fingerprint": "f1",
                "labels": {"service": "api"},
                "startsAt": "2026-01-01T00:00:00Z",
            },
            {
                "status": "firing",
                "fingerprint": "f2",
                "labels": {"alertname": "Up", "service": "api"},
                "startsAt": "2026-01-01T00:00:00Z",
            },
        ],
    }
    quiet = {"version": "4", "truncatedAlerts": 0, "alerts": []}
    path = tmp_path / "am.jsonl"
    path.write_text(json.dumps(quiet) + "\n" + json.dumps(payload) + "\n", encoding="utf-8")
    summary = import_files(workspace, "alertmanager", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["alert"] == {"created": 2}
    first, second = summary.warnings
    assert "line 2" in first and "left 2 alert(s) out" in first and "max_alerts" in first
    assert "1 alert(s) have no alertname" in second and "$.alerts[0]" in second
    assert summary.as_dict()["warnings"] == summary.warnings
    clean = tmp_path / "clean.jsonl"
    clean.write_text(
        json.dumps({**payload, "truncatedAlerts": 0, "alerts": payload["alerts"][1:]}) + "\n",
        encoding="utf-8",
    )
    assert import_files(workspace, "alertmanager", [clean]).warnings == []


def test_a_page_of_a_paginated_pagerduty_list_warns_that_more_exists(workspace, tmp_path):
    export = json.loads((FIXTURES / "pagerduty_export.json").read_text(encoding="utf-8"))
    page = tmp_path / "page1.json"
    page.write_text(json.dumps({**export, "limit": 25, "offset": 0, "more": True}))
    summary = import_files(workspace, "pagerduty", [page])
    assert summary.ok and summary.outcomes["incident"]["created"] == 2
    (warning,) = summary.warnings
    assert "$.more" in warning and "(offset 0, limit 25)" in warning and "next pages" in warning
    last = tmp_path / "page2.json"
    last.write_text(json.dumps({**export, "limit": 25, "offset": 25, "more": False}))
    assert import_files(workspace, "pagerduty", [last]).warnings == []


def _api_alert(fingerprint: str, starts: str, **labels: str) -> dict:
    """One alert as `amtool alert query -o json` and GET /api/v2/alerts list it."""
    return {
        "annotations": {"summary": "disk /data above 85%"},
        "endsAt": "2026-11-15T03:10:00Z",
        "fingerprint": fingerprint,
        "receivers": [{"name": "pagerduty-infra"}],
        "startsAt": starts,
        "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
        "updatedAt": starts,
        "generatorURL": "http://prometheus-0:9090/graph",
        "labels": labels,
    }


def test_alertmanager_api_alert_list_imports_as_firing_alerts(workspace, tmp_path):
    path = tmp_path / "amtool-alerts.json"
    silenced = _api_alert("0828ae409ba27a0a", "2026-11-15T07:30:00Z", alertname="DNSFailures")
    silenced["status"] = {"state": "suppressed", "silencedBy": ["s-1"], "inhibitedBy": []}
    listed = [
        _api_alert("7ce1ea18628d5f2a", "2026-11-15T02:31:00Z", alertname="DiskSpaceHigh"),
        silenced,
    ]
    path.write_text(json.dumps(listed), encoding="utf-8")
    summary = import_files(workspace, "alertmanager", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["alert"] == {"created": 2}
    with workspace.transaction() as session:
        found = {a.fingerprint: a for a in alerts.list_alerts(session=session)}
    disk = found["7ce1ea18628d5f2a"]
    assert disk.name == "DiskSpaceHigh" and disk.annotations["summary"].startswith("disk")
    assert disk.starts_at.isoformat() == "2026-11-15T02:31:00+00:00"
    assert disk.ends_at is None  # endsAt of a listed alert is only the resolve timeout
    again = import_files(workspace, "alertmanager", [path])
    assert again.outcomes["alert"] == {"unchanged": 2}


def test_opsgenie_alert_api_list_imports_its_data(workspace, tmp_path):
    export = json.loads((FIXTURES / "opsgenie_export.json").read_text(encoding="utf-8"))
    path = tmp_path / "opsgenie-api-alerts.json"
    listed = {"data": export["alerts"], "took": 0.05, "requestId": "r-1"}
    path.write_text(json.dumps(listed), encoding="utf-8")
    summary = import_files(workspace, "opsgenie", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["alert"] == {"created": 2} and summary.warnings == []
    with workspace.transaction() as session:
        found = {a.labels["tinyId"]: a for a in alerts.list_alerts(session=session)}
    assert found["1791"].ends_at is not None and found["1792"].ends_at is None
    paged = tmp_path / "page1.json"
    paged.write_text(
        json.dumps({**listed, "paging": {"next": "https://api.opsgenie.com/v2/alerts?offset=20"}})
    )
    (warning,) = import_files(workspace, "opsgenie", [paged]).warnings
    assert "$.paging.next" in warning and "next page" in warning


def _opsgenie_incident_api_record() -> dict:
    """The fixture's incident as GET /v1/incidents lists it (no alertIds: fetched apart)."""
    export = json.loads((FIXTURES / "opsgenie_export.json").read_text(encoding="utf-8"))
    (incident,) = export["incidents"]
    return {k: v for k, v in incident.items() if k != "alertIds"}


def test_opsgenie_incident_api_list_imports_incidents_not_alerts(workspace, tmp_path):
    listed = {"data": [_opsgenie_incident_api_record()], "took": 0.1, "requestId": "r-2"}
    path = tmp_path / "opsgenie-api-incidents.json"
    path.write_text(json.dumps(listed), encoding="utf-8")
    summary = import_files(workspace, "opsgenie", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["incident"] == {"created": 1} and "alert" not in summary.outcomes
    with workspace.transaction() as session:
        assert alerts.list_alerts(session=session) == []
        incident = incidents.get("og-77", session=session)
    assert incident.severity.value == "SEV1" and incident.services == ["orders-db"]
    one = tmp_path / "opsgenie-api-incident.json"
    one.write_text(json.dumps({"data": _opsgenie_incident_api_record()}), encoding="utf-8")
    again = import_files(workspace, "opsgenie", [one])
    assert again.ok and again.outcomes["incident"] == {"unchanged": 1}


def test_opsgenie_incident_listed_as_an_alert_is_refused_naming_the_record(workspace, tmp_path):
    export = json.loads((FIXTURES / "opsgenie_export.json").read_text(encoding="utf-8"))
    mixed = {"alerts": [export["alerts"][0], _opsgenie_incident_api_record()]}
    path = tmp_path / "opsgenie-mixed.json"
    path.write_text(json.dumps(mixed), encoding="utf-8")
    summary = import_files(workspace, "opsgenie", [path])
    (error,) = summary.errors
    assert error.file == str(path) and error.field == "$.alerts[1]"
    assert "incident" in error.message and "'incidents'" in error.message
    with workspace.transaction() as session:
        assert alerts.list_alerts(session=session) == []


def test_opsgenie_alert_service_and_name_come_from_tags_or_details(workspace, tmp_path):
    export = json.loads((FIXTURES / "opsgenie_export.json").read_text(encoding="utf-8"))
    tagged, detailed = export["alerts"]
    tagged = {
        **tagged,
        "message": "[Prometheus]: HighLatencyP99",
        "tags": ["alertname:HighLatencyP99", "service:checkout", "team:shop"],
    }
    detailed = {**detailed, "details": {"service": "payments", "alertname": ""}}
    path = tmp_path / "opsgenie-alerts.json"
    path.write_text(json.dumps({"alerts": [tagged, detailed]}), encoding="utf-8")
    summary = import_files(workspace, "opsgenie", [path])
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        found = {a.labels["tinyId"]: a for a in alerts.list_alerts(session=session)}
    first, second = found["1791"], found["1792"]
    assert first.name == first.labels["alertname"] == "HighLatencyP99"
    assert first.labels["service"] == "checkout"
    assert first.annotations["message"] == "[Prometheus]: HighLatencyP99"
    assert second.name == second.labels["alertname"] == "CPU high on web-3"  # the message
    assert second.labels["service"] == "payments"


def _pagerduty_split(tmp_path: Path) -> tuple[Path, Path]:
    """The fixture as the REST API serves it: /incidents and /log_entries, one file each."""
    export = json.loads((FIXTURES / "pagerduty_export.json").read_text(encoding="utf-8"))
    found = tmp_path / "incidents.json"
    found.write_text(json.dumps({"incidents": export["incidents"], "more": False}))
    logs = tmp_path / "log_entries.json"
    logs.write_text(json.dumps({"log_entries": export["log_entries"], "more": False}))
    return found, logs


def test_pagerduty_log_entries_in_their_own_file_join_the_stored_incident(workspace, tmp_path):
    found, logs = _pagerduty_split(tmp_path)
    early = import_files(workspace, "pagerduty", [logs])
    (error,) = early.errors
    assert error.file == str(logs) and error.field == "$.log_entries[0].incident.id"
    assert "'Q2ZPX1TUFSVBOR'" in error.message and "import the incidents first" in error.message
    assert _count(workspace, ReviewRow) == 0
    assert import_files(workspace, "pagerduty", [found]).ok
    assert import_files(workspace, "pagerduty", [logs], dry_run=True).ok
    assert _count(workspace, ReviewRow) == 0
    summary = import_files(workspace, "pagerduty", [logs])
    assert summary.ok, summary.errors
    assert summary.outcomes["timeline event"] == {"imported": 4}
    with workspace.transaction() as session:
        review = reviews.get_by_incident("pd-q2zpx1tufsvbor", session=session)
    assert [e.source for e in review.timeline] == ["pagerduty"] * 4
    assert all("ghp_" not in e.text and "Dana" not in (e.actor or "") for e in review.timeline)
    again = import_files(workspace, "pagerduty", [logs])
    assert again.outcomes["review"] == {"unchanged": 1} and "incident" not in again.outcomes
    assert _count(workspace, ReviewRow) == 1 and _count(workspace, IncidentRow) == 2


def test_pagerduty_acknowledgement_time_comes_from_the_log_when_resolve_cleared_it(
    workspace, tmp_path
):
    export = json.loads((FIXTURES / "pagerduty_export.json").read_text(encoding="utf-8"))
    export["incidents"][0]["acknowledgements"] = []  # as PagerDuty lists a resolved incident
    whole = tmp_path / "export.json"
    whole.write_text(json.dumps(export))
    assert import_files(workspace, "pagerduty", [whole]).ok
    with workspace.transaction() as session:
        refs = incidents.get("pd-q2zpx1tufsvbor", session=session).external_refs
    assert refs["pagerduty_acknowledged_at"] == "2024-03-05T09:15:40+00:00"


def test_pagerduty_acknowledgement_time_from_a_log_file_goes_to_the_stored_incident(
    workspace, tmp_path
):
    found, logs = _pagerduty_split(tmp_path)
    listed = json.loads(found.read_text(encoding="utf-8"))
    listed["incidents"][0]["acknowledgements"] = []
    found.write_text(json.dumps(listed))
    assert import_files(workspace, "pagerduty", [found]).ok
    with workspace.transaction() as session:
        refs = incidents.get("pd-q2zpx1tufsvbor", session=session).external_refs
    assert "pagerduty_acknowledged_at" not in refs
    summary = import_files(workspace, "pagerduty", [logs])
    assert summary.ok, summary.errors
    assert summary.outcomes["incident"] == {"updated": 1}
    with workspace.transaction() as session:
        refs = incidents.get("pd-q2zpx1tufsvbor", session=session).external_refs
    assert refs["pagerduty_acknowledged_at"] == "2024-03-05T09:15:40+00:00"
    assert "incident" not in import_files(workspace, "pagerduty", [logs]).outcomes
    assert import_files(workspace, "pagerduty", [found]).outcomes["incident"] == {"unchanged": 2}


def _query_range(*metrics: dict[str, str]) -> str:
    return json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": m, "values": [[1785110400, "1"], [1785110700, "2"]]} for m in metrics
                ],
            },
        }
    )


def test_query_range_series_keep_their_prometheus_labels(workspace, tmp_path):
    pod = {"__name__": "checkout_request_latency_p99_ms", "job": "checkout"}
    path = tmp_path / "by_pod.json"
    path.write_text(_query_range({**pod, "instance": "pod-a:8080"}, {**pod, "instance": "b"}))
    options = ImportOptions(service="checkout", series_name="latency")
    assert import_files(workspace, "series", [path], options=options).ok
    with workspace.transaction() as session:
        stored = series.list_for_service("checkout", session=session)
    assert [s.labels for s in stored] == [
        {**pod, "instance": "b"},
        {**pod, "instance": "pod-a:8080"},
    ]


def test_csv_series_take_their_selector_from_promql_and_a_named_label_column(workspace, tmp_path):
    path = tmp_path / "lat.csv"
    path.write_text("timestamp,value,instance\n1785110400,1,web-1\n1785110400,2,web-2\n")
    options = ImportOptions(
        service="checkout",
        series_name="latency_p99_ms",
        promql='checkout_request_latency_p99_ms{job="check\\"out"}',
        columns=CsvColumns(label="instance", label_required=True),
    )
    assert import_files(workspace, "series", [path], options=options).ok
    with workspace.transaction() as session:
        web1 = series.get("checkout", "latency_p99_ms:web-1", session=session)
    assert web1.labels == {
        "__name__": "checkout_request_latency_p99_ms",
        "job": 'check"out',
        "instance": "web-1",
    }
    # a re-import of the same points that names the series differently updates the selector
    plain = tmp_path / "plain.csv"
    plain.write_text("timestamp,value\n1785110400,1\n")
    first = ImportOptions(service="checkout", series_name="p99")
    assert import_files(workspace, "series", [plain], options=first).outcomes["series"] == {
        "created": 1
    }
    named = ImportOptions(service="checkout", series_name="p99", promql="real_p99")
    again = import_files(workspace, "series", [plain], options=named)
    assert again.outcomes["series"] == {"updated": 1}
    with workspace.transaction() as session:
        assert series.get("checkout", "p99", session=session).labels == {"__name__": "real_p99"}
    # the label column again without --promql: the stored selector stays
    plain_again = ImportOptions(
        service="checkout",
        series_name="latency_p99_ms",
        columns=CsvColumns(label="instance", label_required=True),
    )
    assert import_files(workspace, "series", [path], options=plain_again).outcomes["series"] == {
        "unchanged": 2
    }
    with workspace.transaction() as session:
        kept = series.get("checkout", "latency_p99_ms:web-1", session=session).labels
    assert kept["__name__"] == "checkout_request_latency_p99_ms" and kept["instance"] == "web-1"


def test_a_bad_promql_selector_is_refused_before_any_file_is_read(workspace, tmp_path):
    options = ImportOptions(service="checkout", promql="latency-p99{job=checkout}")
    with pytest.raises(InputError, match="not a Prometheus metric name") as caught:
        import_files(workspace, "series", [tmp_path / "missing.csv"], options=options)
    assert caught.value.field == "--promql"
    unsplit = tmp_path / "split.csv"
    unsplit.write_text("timestamp,value,label\n1785110400,1,a\n1785110400,2,b\n")
    summary = import_files(
        workspace, "series", [unsplit], options=ImportOptions(service="checkout", promql="m")
    )
    assert "same Prometheus labels" in str(summary.errors[0])


def test_a_stored_acknowledgement_time_is_not_replaced_by_a_later_export(workspace, tmp_path):
    """A resolved incident exported again lists no acknowledgements; its log may hold a later
    acknowledge entry (re-acknowledged): the first time known stays."""
    export = json.loads((FIXTURES / "pagerduty_export.json").read_text(encoding="utf-8"))
    first = tmp_path / "first.json"
    first.write_text(json.dumps(export))
    assert import_files(workspace, "pagerduty", [first]).ok
    with workspace.transaction() as session:
        before = incidents.get("pd-q2zpx1tufsvbor", session=session).external_refs
    later = json.loads(json.dumps(export))
    later["incidents"][0]["acknowledgements"] = []
    for entry in later["log_entries"]:
        if entry["type"].startswith("acknowledge"):
            entry["created_at"] = "2024-03-05T09:40:00Z"
    second = tmp_path / "second.json"
    second.write_text(json.dumps(later))
    assert import_files(workspace, "pagerduty", [second]).ok
    with workspace.transaction() as session:
        after = incidents.get("pd-q2zpx1tufsvbor", session=session).external_refs
    assert after["pagerduty_acknowledged_at"] == before["pagerduty_acknowledged_at"]
