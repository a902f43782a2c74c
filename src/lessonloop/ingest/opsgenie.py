"""Opsgenie exports: alerts, incidents, alert logs and notes (Alert and Incident API v2 shapes).

Accepted shape::

    {"alerts": [...], "incidents": [...],
     "alert_logs": {"<alert id>": [{"log", "type", "owner", "createdAt"}, ...]},
     "alert_notes": {"<alert id>": [{"note", "owner", "createdAt"}, ...]}}

An incident lists its alerts in ``alertIds`` (as gathered from the incident's associated
alerts); logs and notes of those alerts become the incident's timeline, and notes of alerts
outside any incident are kept on the alert as a ``notes`` annotation (nothing is dropped).
``report.ackTime`` / ``report.closeTime`` are milliseconds after ``createdAt``. An alert's
name and ``service`` label come from ``alertname:X`` / ``service:X`` tags, else from the
``alertname`` / ``service`` of its ``details`` (or ``extraProperties``); without a name the
``message`` is the name, as it is the only name Opsgenie itself has.

The Alert API's own responses are accepted as they come: ``{"data": [...]}`` from ``GET
/v2/alerts`` (a page: a ``paging.next`` link imports with a warning) or ``{"data": {...}}``
from ``GET /v2/alerts/{id}``; so are the Incident API's (``GET /v1/incidents``, ``GET
/v1/incidents/{id}``): a listed record with an incident's fields (``impactedServices``,
``impactStartDate``, ``impactEndDate``, ``ownerTeam`` or status ``resolved``) and none of an
alert's is an incident, read as the ``incidents`` are. Such a record under ``alerts`` is
refused, naming it. A file with none of these keys is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lessonloop.domain.alerts import AlertCreate
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

__all__ = ["parse_opsgenie"]

_SEVERITY = {f"P{n}": Severity(f"SEV{n}") for n in range(1, 6)}
_LOG_KINDS = {
    "Acknowledge": TimelineKind.DETECTION,
    "Close": TimelineKind.REPAIR,
    "Create": TimelineKind.ALERT,
    "AddNote": TimelineKind.COMMUNICATION,
}
_MAX_MS = 10 * 365 * 24 * 3600 * 1000
_TAG_LABELS = ("alertname", "service")
_TOP_LEVEL = ("alerts", "incidents", "alert_logs", "alert_notes", "data")
_ALERT_ONLY = (
    "alias",
    "acknowledged",
    "isSeen",
    "snoozed",
    "count",
    "lastOccurredAt",
    "integration",
    "report",
    "source",
    "entity",
    "owner",
)
_INCIDENT_ONLY = ("impactedServices", "impactStartDate", "impactEndDate", "ownerTeam")


def _is_incident(item: Located) -> bool:
    """Whether a listed record is an Incident API incident rather than an alert."""
    value = item.value
    if not isinstance(value, dict) or any(name in value for name in _ALERT_ONLY):
        return False
    return any(name in value for name in _INCIDENT_ONLY) or value.get("status") == "resolved"


def _refuse_listed_incident(item: Located) -> None:
    if _is_incident(item):
        tiny_id = item.text("tinyId")
        raise item.error(
            f"is an Opsgenie incident{f' (tinyId {tiny_id})' if tiny_id else ''}, not an alert: "
            "'alerts' holds alerts (Alert API records); put incidents under 'incidents', or "
            'import the Incident API response ({"data": [...]}) as it comes'
        )


def _after(start: dt.datetime, report: Located, name: str) -> dt.datetime | None:
    if report.value is None:
        return None
    millis = report.number(name)
    if millis is None:
        return None
    if not 0 <= millis <= _MAX_MS:
        raise report.error("must be milliseconds between 0 and ten years", name)
    return start + dt.timedelta(milliseconds=millis)


def _responders(item: Located, batch: ImportBatch) -> None:
    for responder in item.get("responders").items():
        responder.obj()
        if responder.text("type") == "user":
            batch.add_person(
                responder.text("name") or responder.text("username"),
                responder.text("username"),
                responder.text("id"),
            )


def _tagged(tags: list[str]) -> dict[str, str]:
    """``alertname`` and ``service`` from ``name:value`` tags (the first of each wins)."""
    found: dict[str, str] = {}
    for tag in tags:
        name, sep, value = tag.partition(":")
        if sep and name.strip() in _TAG_LABELS and value.strip():
            found.setdefault(name.strip(), value.strip())
    return found


def _alert(item: Located, batch: ImportBatch) -> AlertCreate:
    item.obj()
    alert_id = item.text("id", required=True)
    created = item.time("createdAt")
    if created is None:
        raise item.error("is required", "createdAt")
    _responders(item, batch)
    tags = item.string_list("tags")
    tagged = _tagged(tags)
    details = {**item.string_map("extraProperties"), **item.string_map("details")}
    message = item.text("message")
    name = tagged.get("alertname") or details.get("alertname", "").strip() or message
    labels = {
        "alertname": name,
        "service": tagged.get("service") or details.get("service", "").strip(),
        "priority": item.text("priority"),
        "status": item.text("status"),
        "tinyId": item.text("tinyId"),
        "alias": item.text("alias"),
        "source": item.text("source"),
        "entity": item.text("entity"),
        "tags": ",".join(tags),
    }
    annotations = {"description": item.text("description")}
    if name != message:
        annotations["message"] = message
    return build(
        AlertCreate,
        {
            "fingerprint": slug_key(alert_id, prefix="og-"),
            "source": "opsgenie",
            "name": clip(name, 200),
            "labels": {k: v for k, v in labels.items() if v},
            "annotations": {k: v for k, v in annotations.items() if v},
            "starts_at": created,
            "ends_at": _after(created, item.get("report"), "closeTime"),
        },
        item,
    )


def _incident(item: Located, batch: ImportBatch) -> tuple[IncidentCreate, list[str]]:
    item.obj()
    incident_id = item.text("id", required=True)
    created = item.time("impactStartDate") or item.time("createdAt", required=True)
    _responders(item, batch)
    status = item.text("status")
    resolved = (
        item.time("impactEndDate") or item.time("updatedAt")
        if status in ("resolved", "closed")
        else None
    )
    services = [slug_key(s) for s in item.string_list("impactedServices")]
    batch.services.extend(services)
    refs = {"opsgenie": incident_id}
    if item.text("tinyId"):
        refs["opsgenie_tiny_id"] = item.text("tinyId")
    data: dict[str, Any] = {
        "key": slug_key(item.text("tinyId") or incident_id, prefix="og-"),
        "title": clip(item.text("message") or incident_id, 200),
        "severity": _SEVERITY.get(item.text("priority"), Severity.SEV3),
        "status": IncidentStatus.RESOLVED if resolved else IncidentStatus.TRIGGERED,
        "services": services,
        "started_at": created,
        "detected_at": item.time("createdAt"),
        "resolved_at": resolved,
        "summary": item.text("description"),
        "external_refs": refs,
        "tags": ["opsgenie", *item.string_list("tags")],
    }
    if data["detected_at"] and data["detected_at"] < created:
        data["detected_at"] = created
    return build(IncidentCreate, data, item), item.string_list("alertIds")


def _entries(root: Located, name: str) -> dict[str, list[Located]]:
    section = root.get(name)
    if section.value is None:
        return {}
    section.obj()
    return {str(alert_id): section.child(str(alert_id)).items() for alert_id in section.value}


def _event(entry: Located, text_field: str, batch: ImportBatch) -> TimelineEvent:
    entry.obj()
    owner = entry.text("owner")
    if owner and owner != "System":
        batch.add_person(owner, owner)
    kind = _LOG_KINDS.get(entry.text("type"), TimelineKind.COMMUNICATION)
    return build(
        TimelineEvent,
        {
            "at": entry.time("createdAt", required=True),
            "kind": kind,
            "text": entry.text(text_field, required=True),
            "actor": clip(owner, 200) or None,
            "source": "opsgenie",
        },
        entry,
    )


def parse_opsgenie(data: bytes, source: str) -> ImportBatch:
    """Map an Opsgenie export to alerts, incidents and incident timelines."""
    batch = ImportBatch()
    root = Located(load_json(data, source), source).obj()
    if not any(name in root.value for name in _TOP_LEVEL):
        keys = ", ".join(repr(clip(str(key), 40)) for key in list(root.value)[:5])
        raise root.error(
            "expected an Opsgenie export ('alerts', 'incidents', 'alert_logs', 'alert_notes') "
            "or an Alert or Incident API response ('data', as GET /v2/alerts or GET "
            "/v1/incidents returns it); " + (f"found {keys}" if keys else "found an empty object"),
            "alerts",
        )
    listed = root.get("data")
    records = [listed] if isinstance(listed.value, dict) else listed.items()
    items = [item for item in records if not _is_incident(item)]
    listed_incidents = [item for item in records if _is_incident(item)]
    paging = root.get("paging")
    if isinstance(paging.value, dict) and paging.value.get("next"):
        what = "incidents" if listed_incidents and not items else "alerts"
        batch.warnings.append(
            f"{source}: $.paging.next: Opsgenie has more {what} than this page; fetch the next "
            f"page (the paging.next link) and import it too, or those {what} are missing"
        )
    for item in root.get("alerts").items():
        _refuse_listed_incident(item)
    alerts = {
        item.obj().text("id", required=True): _alert(item, batch)
        for item in [*root.get("alerts").items(), *items]
    }
    owner_of: dict[str, str] = {}
    for item in [*root.get("incidents").items(), *listed_incidents]:
        incident, alert_ids = _incident(item, batch)
        batch.incidents.append(incident)
        for alert_id in alert_ids:
            owner_of[alert_id] = incident.key
    logs, notes = _entries(root, "alert_logs"), _entries(root, "alert_notes")
    for alert_id in [*logs, *notes]:
        if alert_id not in alerts:
            raise root.error(
                f"logs or notes for alert {alert_id!r}, which is not in this export",
                f"alert_logs.{alert_id}",
            )
    for alert_id, alert in alerts.items():
        key = owner_of.get(alert_id)
        events = [_event(e, "log", batch) for e in logs.get(alert_id, [])]
        events += [_event(e, "note", batch) for e in notes.get(alert_id, [])]
        if key:
            alert = alert.model_copy(update={"incident_key": key})
            batch.timelines.setdefault(key, []).extend(events)
        elif events:
            text = "\n".join(f"{e.at.isoformat()} {e.actor or ''}: {e.text}" for e in events)
            alert = alert.model_copy(update={"annotations": {**alert.annotations, "notes": text}})
        batch.alerts.append(alert)
    for events in batch.timelines.values():
        events.sort(key=lambda event: event.at)
    batch.services = list(dict.fromkeys(batch.services))
    return batch
