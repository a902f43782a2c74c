"""Building blocks of PagerDuty REST API v2 objects: ids, references, incidents, log entries."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from lessonloop.demo.incidents import Incident
from lessonloop.demo.org import Person
from lessonloop.demo.timegrid import iso

ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
WEB = "https://acme.pagerduty.com"
API = "https://api.pagerduty.com"


class PagerDutyIds:
    """Deterministic PagerDuty-looking object ids (P + 6 characters, R + 13 for log entries)."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 6])
        self._seen: set[str] = set()

    def new(self, prefix: str, length: int) -> str:
        """A fresh id that was not handed out before."""
        while True:
            chars = self._rng.integers(0, len(ID_ALPHABET), length)
            value = prefix + "".join(ID_ALPHABET[int(c)] for c in chars)
            if value not in self._seen:
                self._seen.add(value)
                return value


def reference(kind: str, ident: str, summary: str, path: str) -> dict[str, object]:
    """A PagerDuty reference object (service_reference, user_reference, ...)."""
    return {
        "id": ident,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API}/{path}/{ident}",
        "html_url": f"{WEB}/{path}/{ident}",
    }


def incident_record(
    ident: str,
    title: str,
    key: str,
    service: dict[str, object],
    team: dict[str, object],
    created: datetime,
    resolved: datetime,
    urgency: str,
    priority: str | None,
    assignee: dict[str, object],
    acks: list[tuple[datetime, dict[str, object]]],
    alerts: int,
) -> dict[str, object]:
    """One incident object as GET /incidents returns it."""
    return {
        "id": ident,
        "type": "incident",
        "summary": title,
        "incident_number": 0,
        "title": title,
        "description": title,
        "status": "resolved",
        "urgency": urgency,
        "priority": None
        if priority is None
        else {"id": f"PRI{priority[1]}", "type": "priority", "summary": priority},
        "service": service,
        "teams": [team],
        "assignments": [{"at": iso(created), "assignee": assignee}],
        "acknowledgements": [{"at": iso(at), "acknowledger": who} for at, who in acks],
        "created_at": iso(created),
        "last_status_change_at": iso(resolved),
        "resolved_at": iso(resolved),
        "alert_counts": {"all": alerts, "triggered": 0, "resolved": alerts},
        "incident_key": key,
        "escalation_policy": {
            "id": "PEP" + ident[1:4],
            "type": "escalation_policy_reference",
            "summary": f"{team['summary']} on-call",
        },
        "html_url": f"{WEB}/incidents/{ident}",
        "self": f"{API}/incidents/{ident}",
    }


def log_entry(
    ids: PagerDutyIds,
    kind: str,
    at: datetime,
    agent: dict[str, object],
    channel: dict[str, object],
    incident_id: str,
    summary: str,
    note: str | None = None,
) -> dict[str, object]:
    """One log entry as GET /log_entries returns it."""
    entry: dict[str, object] = {
        "id": ids.new("R", 13),
        "type": kind,
        "summary": summary,
        "created_at": iso(at),
        "agent": agent,
        "channel": channel,
        "incident": {
            "id": incident_id,
            "type": "incident_reference",
            "html_url": f"{WEB}/incidents/{incident_id}",
        },
    }
    if note is not None:
        entry["note"] = note
    return entry


def responder_notes(
    incident: Incident, rng: np.random.Generator
) -> list[tuple[datetime, Person, str]]:
    """Responders' notes while working the incident (some carry personal data to redact)."""
    ack = incident.acknowledged_at or incident.start
    span = max(2.0, (incident.mitigated - ack).total_seconds() / 60.0)
    first, helper = incident.responders[0], incident.responders[-1]
    texts = [
        (first, f"Looking at {incident.origin} dashboards, p99 and errors are up."),
        (helper, f"Joined. Suspect {incident.detail}; checking recent changes."),
        (first, f"Mitigation: {incident.mode.remediation}. Watching recovery."),
    ]
    if rng.random() < 0.35:
        texts.insert(
            1,
            (
                first,
                f"Customer {_fake_email(rng)} reported failures from {_fake_ip(rng)}.",
            ),
        )
    times = sorted(float(x) for x in rng.uniform(1.0, span, len(texts)))
    return [
        (ack + timedelta(minutes=round(t)), who, text)
        for t, (who, text) in zip(times, texts, strict=True)
    ]


def _fake_ip(rng: np.random.Generator) -> str:
    """A private client address as it shows up in pasted logs."""
    return "10." + ".".join(str(int(x)) for x in rng.integers(1, 250, 3))


def _fake_email(rng: np.random.Generator) -> str:
    """A made-up customer address of the kind responders paste into notes."""
    first = str(rng.choice(["jane", "li", "omar", "eva", "sam", "noah"]))
    last = str(rng.choice(["doe", "wong", "said", "kowalski", "lee", "berg"]))
    return f"{first}.{last}@example.com"
