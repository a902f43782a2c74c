"""PagerDuty REST API v2 exports: incidents.json and log_entries.json."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from lessonloop.demo.attribution import AlertTruth
from lessonloop.demo.incidents import Incident
from lessonloop.demo.org import Person, Service
from lessonloop.demo.pagerduty_records import (
    PagerDutyIds,
    incident_record,
    log_entry,
    reference,
    responder_notes,
)


@dataclass
class PagerDutyExport:
    """The two API listings, plus the id PagerDuty gave each reviewed incident."""

    incidents: list[dict[str, object]] = field(default_factory=list)
    log_entries: list[dict[str, object]] = field(default_factory=list)
    ids_by_key: dict[str, str] = field(default_factory=dict)


def build_pagerduty(
    incidents: list[Incident],
    truths: list[AlertTruth],
    services: tuple[Service, ...],
    people: tuple[Person, ...],
    seed: int,
) -> PagerDutyExport:
    """Build the PagerDuty view: one incident per reviewed incident and per noisy page."""
    ids = PagerDutyIds(seed)
    rng = np.random.default_rng([seed, 7])
    service_refs = {
        s.name: reference("service", ids.new("P", 6), s.name, "services") for s in services
    }
    teams = sorted({s.team for s in services})
    team_refs = {t: reference("team", ids.new("P", 6), f"{t.title()} team", "teams") for t in teams}
    user_refs = {p.handle: reference("user", ids.new("P", 6), p.name, "users") for p in people}
    support = reference("user", ids.new("P", 6), "Support Desk", "users")
    team_of = {s.name: s.team for s in services}
    related: dict[str, list[AlertTruth]] = {}
    for truth in truths:
        if truth.incident_key is not None:
            related.setdefault(truth.incident_key, []).append(truth)
    drafts: list[tuple[datetime, dict[str, object], list[dict[str, object]]]] = []
    for incident in incidents:
        drafts.append(
            _reviewed(
                incident,
                related.get(incident.key, []),
                ids,
                rng,
                service_refs,
                team_refs,
                user_refs,
                support,
                team_of,
            )
        )
    for truth in truths:
        if truth.is_noise and truth.alert.labels["severity"] == "page":
            drafts.append(_noise(truth, ids, rng, service_refs, team_refs, user_refs, people))
    drafts.sort(key=lambda d: (d[0], str(d[1]["id"])))
    export = PagerDutyExport()
    for number, (_, record, entries) in enumerate(drafts, start=1):
        record["incident_number"] = number
        record["summary"] = f"[#{number}] {record['title']}"
        export.incidents.append(record)
        export.log_entries.extend(entries)
        key = str(record["incident_key"])
        if key.startswith("INC-"):
            export.ids_by_key[key] = str(record["id"])
    export.log_entries.sort(key=lambda e: (str(e["created_at"]), str(e["id"])))
    return export


def _reviewed(
    incident: Incident,
    alerts: list[AlertTruth],
    ids: PagerDutyIds,
    rng: np.random.Generator,
    service_refs: dict[str, dict[str, object]],
    team_refs: dict[str, dict[str, object]],
    user_refs: dict[str, dict[str, object]],
    support: dict[str, object],
    team_of: dict[str, str],
) -> tuple[datetime, dict[str, object], list[dict[str, object]]]:
    """The PagerDuty incident (and its log) for an incident that got a review."""
    ident = ids.new("P", 6)
    pages = [t for t in alerts if t.alert.labels["severity"] == "page"]
    created = incident.detected_at or incident.start
    if incident.detection_method == "alert" and incident.first_page is not None:
        service_name = incident.first_page.service
        title = f"[FIRING:1] {incident.first_page.alertname} ({service_name} page)"
        agent = service_refs[service_name]
        channel: dict[str, object] = {"type": "api", "summary": "Alertmanager"}
    else:
        service_name = incident.origin
        symptom = "errors and slow responses" if incident.mode.error_add > 0.1 else "slowness"
        reporter = (
            "Customer reports" if incident.detection_method == "customer" else "Engineer reports"
        )
        title = f"{reporter} {symptom} on {service_name}"
        agent = (
            support
            if incident.detection_method == "customer"
            else user_refs[incident.responders[0].handle]
        )
        channel = {"type": "web_trigger", "summary": title}
    responder = incident.responders[0]
    ack_at = incident.acknowledged_at or created
    pd_resolved = incident.mitigated + timedelta(minutes=int(rng.integers(3, 30)))
    team = team_refs[team_of[service_name]]
    priority = f"P{incident.severity[-1]}"
    record = incident_record(
        ident,
        title,
        incident.key,
        service_refs[service_name],
        team,
        created,
        pd_resolved,
        "high",
        priority,
        user_refs[responder.handle],
        [(ack_at, user_refs[responder.handle])],
        len(pages),
    )
    entries = [
        log_entry(
            ids,
            "trigger_log_entry",
            created,
            agent,
            channel,
            ident,
            f"Triggered through the {'API' if channel['type'] == 'api' else 'website'}.",
        ),
        log_entry(
            ids,
            "acknowledgement_log_entry",
            ack_at,
            user_refs[responder.handle],
            {"type": str(rng.choice(["mobile", "website", "sms"]))},
            ident,
            f"Acknowledged by {responder.name}.",
        ),
    ]
    for at, author, text in responder_notes(incident, rng):
        entries.append(
            log_entry(
                ids,
                "annotate_log_entry",
                at,
                user_refs[author.handle],
                {"type": "note"},
                ident,
                "Note added",
                note=text,
            )
        )
    entries.append(
        log_entry(
            ids,
            "resolve_log_entry",
            pd_resolved,
            user_refs[responder.handle],
            {"type": "website"},
            ident,
            f"Resolved by {responder.name}.",
        )
    )
    return created, record, entries


def _noise(
    truth: AlertTruth,
    ids: PagerDutyIds,
    rng: np.random.Generator,
    service_refs: dict[str, dict[str, object]],
    team_refs: dict[str, dict[str, object]],
    user_refs: dict[str, dict[str, object]],
    people: tuple[Person, ...],
) -> tuple[datetime, dict[str, object], list[dict[str, object]]]:
    """A page with nothing behind it: triggered, often acknowledged, resolved when it cleared."""
    alert = truth.alert
    labels = alert.labels
    ident = ids.new("P", 6)
    created = alert.starts_at + timedelta(seconds=30)
    resolved = alert.ends_at or created + timedelta(hours=1)
    on_call = [p for p in people if p.team == labels["team"]]
    person = on_call[int(rng.integers(0, len(on_call)))]
    title = f"[FIRING:1] {labels['alertname']} ({labels['service']} {labels['host']} page)"
    dedup = hashlib.sha256(alert.group_key.encode()).hexdigest()
    acks = []
    if rng.random() < 0.7:
        acks.append(
            (
                min(resolved, created + timedelta(minutes=int(rng.integers(1, 15)))),
                user_refs[person.handle],
            )
        )
    record = incident_record(
        ident,
        title,
        dedup,
        service_refs[labels["service"]],
        team_refs[labels["team"]],
        created,
        resolved,
        "high",
        None,
        user_refs[person.handle],
        acks,
        1,
    )
    entries = [
        log_entry(
            ids,
            "trigger_log_entry",
            created,
            service_refs[labels["service"]],
            {"type": "api", "summary": "Alertmanager"},
            ident,
            "Triggered through the API.",
        )
    ]
    for at, who in acks:
        entries.append(
            log_entry(
                ids,
                "acknowledgement_log_entry",
                at,
                who,
                {"type": "mobile"},
                ident,
                f"Acknowledged by {who['summary']}.",
            )
        )
    entries.append(
        log_entry(
            ids,
            "resolve_log_entry",
            resolved,
            service_refs[labels["service"]],
            {"type": "api", "summary": "Alertmanager"},
            ident,
            "Resolved through the API.",
        )
    )
    return created, record, entries


def write_pagerduty(directory: Path, export: PagerDutyExport) -> tuple[Path, Path]:
    """Write pagerduty/incidents.json and pagerduty/log_entries.json as paged API listings."""
    directory.mkdir(parents=True, exist_ok=True)
    incidents_path = directory / "incidents.json"
    log_path = directory / "log_entries.json"
    for path, name, items in (
        (incidents_path, "incidents", export.incidents),
        (log_path, "log_entries", export.log_entries),
    ):
        doc = {name: items, "limit": len(items), "offset": 0, "total": len(items), "more": False}
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return incidents_path, log_path
