"""Every generated file parses in its real format, with the fields its importer needs."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta

import yaml

from lessonloop.demo.generate import GeneratedOrg

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_services_yaml_is_a_dag_of_known_services(small_org: GeneratedOrg) -> None:
    doc = yaml.safe_load(small_org.services_file.read_text())
    services = doc["services"]
    names = {s["name"] for s in services}
    assert 10 <= len(services) <= 14
    for s in services:
        assert {"name", "tier", "team", "owner", "domain", "depends_on"} <= set(s)
        assert s["tier"] in (1, 2, 3)
        assert set(s["depends_on"]) <= names - {s["name"]}
    done: set[str] = set()
    pending = {s["name"]: set(s["depends_on"]) for s in services}
    while pending:
        ready = [n for n, deps in pending.items() if deps <= done]
        assert ready, "depends_on has a cycle"
        done.update(ready)
        for n in ready:
            del pending[n]


def test_series_csv_have_header_iso_timestamps_and_regular_steps(small_org: GeneratedOrg) -> None:
    files = sorted(small_org.series_dir.glob("*/*.csv"))
    assert len(files) == small_org.series
    expected_rows = small_org.points // small_org.series
    for path in files[:6]:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["timestamp", "value"]
        assert len(rows) - 1 == expected_rows
        assert rows[1][0] == "2025-01-06T00:00:00Z"
        assert all(ISO_Z.match(r[0]) for r in rows[1:50])
        step = _parse(rows[2][0]) - _parse(rows[1][0])
        assert step == timedelta(minutes=15)
        assert _parse(rows[-1][0]) - _parse(rows[1][0]) == step * (expected_rows - 1)
        values = [float(r[1]) for r in rows[1:]]
        assert min(values) >= 0.0


def test_prometheus_rules_file_has_real_rule_format(small_org: GeneratedOrg) -> None:
    doc = yaml.safe_load(small_org.rules_file.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert all(set(g) == {"name", "rules"} for g in doc["groups"])
    assert len(rules) >= 10
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}
        assert re.fullmatch(r"\d+m", rule["for"])
        assert re.fullmatch(r"[a-z_0-9]+(\{.*\})? [<>] [0-9.]+", rule["expr"])
        assert "summary" in rule["annotations"]


def test_alert_files_are_alertmanager_webhook_payloads(small_org: GeneratedOrg) -> None:
    assert [p.name for p in small_org.alert_files] == ["2025Q1.jsonl"]
    lines = small_org.alert_files[0].read_text().splitlines()
    assert len(lines) == small_org.alert_notifications > 0
    last_event = ""
    first_sent: set[tuple[str, str]] = set()
    for line in lines:
        payload = json.loads(line)
        assert payload["version"] == "4"
        assert payload["status"] in ("firing", "resolved")
        assert {
            "groupKey",
            "receiver",
            "groupLabels",
            "commonLabels",
            "commonAnnotations",
            "externalURL",
            "alerts",
        } <= set(payload)
        for alert in payload["alerts"]:
            assert {
                "status",
                "labels",
                "annotations",
                "startsAt",
                "endsAt",
                "generatorURL",
                "fingerprint",
            } <= set(alert)
            assert HEX16.match(alert["fingerprint"])
            assert ISO_Z.match(alert["startsAt"]) and ISO_Z.match(alert["endsAt"])
            assert set(payload["groupLabels"].items()) <= set(alert["labels"].items())
            episode = (alert["fingerprint"], alert["startsAt"])
            if alert["status"] == "resolved":
                assert alert["endsAt"] > alert["startsAt"] and episode in first_sent
                event = alert["endsAt"]
            elif episode in first_sent:
                continue  # a repeat_interval reminder of an alert already sent
            else:
                first_sent.add(episode)
                event = alert["startsAt"]
            assert event >= last_event, "notifications are not in the order they were sent"
            last_event = event


def test_pagerduty_exports_have_api_v2_shape(small_org: GeneratedOrg) -> None:
    incidents = json.loads(small_org.pagerduty_incidents_file.read_text())["incidents"]
    entries = json.loads(small_org.pagerduty_log_entries_file.read_text())["log_entries"]
    assert len(incidents) == small_org.pagerduty_incidents
    need = {
        "id",
        "incident_number",
        "title",
        "description",
        "status",
        "urgency",
        "priority",
        "service",
        "teams",
        "assignments",
        "acknowledgements",
        "created_at",
        "last_status_change_at",
        "resolved_at",
        "alert_counts",
        "incident_key",
        "html_url",
    }
    ids = set()
    for incident in incidents:
        assert need <= set(incident)
        assert ISO_Z.match(incident["created_at"])
        assert incident["created_at"] <= incident["resolved_at"]
        assert {"id", "summary"} <= set(incident["service"])
        ids.add(incident["id"])
    assert [i["created_at"] for i in incidents] == sorted(i["created_at"] for i in incidents)
    kinds = {
        "trigger_log_entry",
        "acknowledgement_log_entry",
        "annotate_log_entry",
        "resolve_log_entry",
    }
    for entry in entries:
        assert entry["type"] in kinds
        assert entry["incident"]["id"] in ids
        assert {"summary"} <= set(entry["agent"]) and "type" in entry["channel"]
        if entry["type"] == "annotate_log_entry":
            assert entry["note"]
    assert [e["created_at"] for e in entries] == sorted(e["created_at"] for e in entries)


def test_truth_links_every_incident_to_its_pagerduty_incident_and_review(
    small_org: GeneratedOrg,
) -> None:
    truth = json.loads(small_org.truth_file.read_text())
    pd = json.loads(small_org.pagerduty_incidents_file.read_text())["incidents"]
    by_key = {i["incident_key"]: i for i in pd}
    assert 8 <= len(truth["incidents"]) <= 15
    for incident in truth["incidents"]:
        assert by_key[incident["incident_key"]]["id"] == incident["pagerduty_incident_id"]
        created = by_key[incident["incident_key"]]["created_at"]
        assert created == incident["detected_at"] >= incident["true_start"]
        assert (small_org.root / incident["review_file"]).is_file()
        page = incident["static_first_page"]
        if incident["detection_method"] == "alert":
            assert page is not None and page["at"] == incident["detected_at"]
        elif page is not None:
            assert page["at"] > incident["detected_at"]
        for service in incident["services"]:
            assert service["true_start"] >= incident["true_start"]
            assert service["true_end"] > service["true_start"]
