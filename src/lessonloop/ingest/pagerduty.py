"""PagerDuty REST API v2 exports: incidents and their log entries -> incidents and timelines.

Accepted shapes: ``{"incidents": [...], "log_entries": [...]}``, a bare list of incidents, or
one ``{"incident": {...}}``; an incident may also carry its own ``log_entries`` array. Log
entries are joined to incidents by ``incident.id``: to an incident of the file, or else to one
already stored (the API serves ``/incidents`` and ``/log_entries`` apart, so they may come in
two files, incidents first). A page of a paginated list (``"more": true``) imports with a
warning: the rest is in the next pages.

The first acknowledgement's time goes to ``external_refs.pagerduty_acknowledged_at``: from the
incident's ``acknowledgements``, or, when that is empty (PagerDuty clears it on resolve), from
its first ``acknowledge_log_entry``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lessonloop.domain.enums import IncidentStatus, Severity, TimelineKind
from lessonloop.domain.incidents import IncidentCreate
from lessonloop.domain.reviews import TimelineEvent
from lessonloop.ingest.source_documents import (
    ImportBatch,
    Located,
    build,
    clip,
    load_json,
    slug_key,
)

__all__ = ["parse_pagerduty", "LOG_ENTRY_KINDS"]

LOG_ENTRY_KINDS: dict[str, TimelineKind] = {
    "trigger_log_entry": TimelineKind.ALERT,
    "acknowledge_log_entry": TimelineKind.DETECTION,
    "acknowledgement_log_entry": TimelineKind.DETECTION,
    "annotate_log_entry": TimelineKind.COMMUNICATION,
    "notify_log_entry": TimelineKind.COMMUNICATION,
    "assign_log_entry": TimelineKind.COMMUNICATION,
    "escalate_log_entry": TimelineKind.COMMUNICATION,
    "reach_trigger_limit_log_entry": TimelineKind.ALERT,
    "resolve_log_entry": TimelineKind.REPAIR,
    "snooze_log_entry": TimelineKind.DECISION,
    "urgency_change_log_entry": TimelineKind.DECISION,
    "priority_change_log_entry": TimelineKind.DECISION,
}
_ACKNOWLEDGE = ("acknowledge_log_entry", "acknowledgement_log_entry")
_ACKNOWLEDGED_AT = "pagerduty_acknowledged_at"
_STATUS = {
    "triggered": IncidentStatus.TRIGGERED,
    "acknowledged": IncidentStatus.ACKNOWLEDGED,
    "resolved": IncidentStatus.RESOLVED,
}


def incident_key(pagerduty_id: str) -> str:
    """The Lessonloop key of a PagerDuty incident (stable across re-imports)."""
    return slug_key(pagerduty_id, prefix="pd-")


def _severity(item: Located) -> Severity:
    priority = item.get("priority")
    label = priority.text("summary") if isinstance(priority.value, dict) else ""
    if len(label) == 2 and label[0].upper() == "P" and label[1] in "12345":
        return Severity(f"SEV{label[1]}")
    return Severity.SEV2 if item.text("urgency") == "high" else Severity.SEV3


def _first_time(items: list[Located], name: str) -> dt.datetime | None:
    times = [t for t in (entry.obj().time(name) for entry in items) if t is not None]
    return min(times) if times else None


def _incident(item: Located, batch: ImportBatch) -> IncidentCreate:
    item.obj()
    external_id = item.text("id", required=True)
    created = item.time("created_at", required=True)
    service_name = item.get("service").text("summary") if item.get("service").value else ""
    if service_name:
        batch.services.append(slug_key(service_name))
    for assignment in item.get("assignments").items():
        assignee = assignment.get("assignee")
        if assignee.value is not None:
            batch.add_person(assignee.text("summary"), assignee.text("email"), assignee.text("id"))
    acknowledgements = item.get("acknowledgements").items()
    for ack in acknowledgements:
        who = ack.get("acknowledger")
        if who.value is not None:
            batch.add_person(who.text("summary"), who.text("email"), who.text("id"))
    refs = {"pagerduty": external_id}
    for name in ("incident_number", "incident_key", "html_url"):
        if item.text(name):
            refs[f"pagerduty_{name}"] = item.text(name)
    acknowledged = _first_time(acknowledgements, "at")
    if acknowledged:
        refs[_ACKNOWLEDGED_AT] = acknowledged.isoformat()
    teams = [
        slug_key(team.text("summary"))
        for team in item.get("teams").items()
        if team.obj().text("summary")
    ]
    status = _STATUS.get(item.text("status"), IncidentStatus.TRIGGERED)
    resolved = (
        item.time("resolved_at") or item.time("last_status_change_at")
        if status == IncidentStatus.RESOLVED
        else None
    )
    data: dict[str, Any] = {
        "key": incident_key(external_id),
        "title": clip(item.text("title") or item.text("summary") or external_id, 200),
        "severity": _severity(item),
        "status": status,
        "services": [slug_key(service_name)] if service_name else [],
        "started_at": created,
        "detected_at": created,
        "resolved_at": resolved,
        "detection_method": "alert",
        "summary": item.text("description"),
        "external_refs": refs,
        "tags": ["pagerduty", *(f"team:{t}" for t in teams)],
    }
    return build(IncidentCreate, data, item)


def _log_entry(entry: Located, batch: ImportBatch) -> tuple[str, TimelineEvent] | None:
    entry.obj()
    incident_ref = entry.get("incident")
    incident_id = incident_ref.text("id") if incident_ref.value is not None else ""
    if not incident_id:
        raise entry.error("is required", "incident.id")
    kind = entry.text("type", required=True)
    agent = entry.get("agent")
    actor = agent.text("summary") if agent.value is not None else ""
    if actor and agent.text("type") in ("user_reference", "user"):
        batch.add_person(actor, agent.text("email"), agent.text("id"))
    channel = entry.get("channel")
    note = entry.text("note")
    if not note and channel.value is not None:
        note = channel.text("summary") if channel.text("type") == "note" else ""
    text = entry.text("summary") or kind.replace("_log_entry", "").replace("_", " ")
    if note and note not in text:
        text = f"{text}: {note}"
    event = build(
        TimelineEvent,
        {
            "at": entry.time("created_at", required=True),
            "kind": LOG_ENTRY_KINDS.get(kind, TimelineKind.COMMUNICATION),
            "text": text,
            "actor": clip(actor, 200) or None,
            "source": "pagerduty",
        },
        entry,
    )
    return incident_key(incident_id), event


def _documents(root: Located) -> tuple[list[Located], list[Located]]:
    if isinstance(root.value, list):
        return root.items(), []
    root.obj()
    if root.value.get("incident") is not None and "incidents" not in root.value:
        return [root.get("incident")], root.get("log_entries").items()
    if "incidents" not in root.value and "log_entries" not in root.value:
        raise root.error("expected 'incidents' (and optionally 'log_entries')", "incidents")
    return root.get("incidents").items(), root.get("log_entries").items()


def parse_pagerduty(data: bytes, source: str) -> ImportBatch:
    """Map a PagerDuty export to incidents (+ responders, services) and log-entry timelines."""
    batch = ImportBatch()
    root = Located(load_json(data, source), source)
    incidents, entries = _documents(root)
    if isinstance(root.value, dict) and root.value.get("more") is True:
        offset, limit = root.value.get("offset"), root.value.get("limit")
        page = f" (offset {offset}, limit {limit})" if offset is not None and limit else ""
        batch.warnings.append(
            f"{source}: $.more: PagerDuty has more results than this page{page}; fetch the "
            "next pages (offset + limit) and import them too, or those incidents are missing"
        )
    for item in incidents:
        batch.incidents.append(_incident(item, batch))
        entries.extend(item.get("log_entries").items())
    first_entry: dict[str, Located] = {}
    acknowledged: dict[str, dt.datetime] = {}
    for entry in entries:
        found = _log_entry(entry, batch)
        if found:
            key, event = found
            batch.timelines.setdefault(key, []).append(event)
            first_entry.setdefault(key, entry)
            if entry.text("type") in _ACKNOWLEDGE:
                acknowledged[key] = min(event.at, acknowledged.get(key, event.at))
    for index, incident in enumerate(batch.incidents):
        at = acknowledged.pop(incident.key, None)
        if at is not None and _ACKNOWLEDGED_AT not in incident.external_refs:
            refs = {**incident.external_refs, _ACKNOWLEDGED_AT: at.isoformat()}
            batch.incidents[index] = incident.model_copy(update={"external_refs": refs})
    for key, at in acknowledged.items():
        batch.incident_refs[key] = {_ACKNOWLEDGED_AT: at.isoformat()}
    known = {incident.key for incident in batch.incidents}
    for key, entry in first_entry.items():
        if key not in known:
            batch.stored_incidents[key] = entry.error(
                f"log entries for PagerDuty incident {entry.get('incident').text('id')!r} "
                f"({key}), which is neither in this file nor in the workspace: import the "
                "incidents first (`lessonloop import pagerduty incidents.json`), then this file",
                "incident.id",
            )
    for events in batch.timelines.values():
        events.sort(key=lambda event: event.at)
    batch.services = list(dict.fromkeys(batch.services))
    return batch
