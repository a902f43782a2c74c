"""Alertmanager webhook payloads (version "4"): one per line or a JSON array -> alerts.

Firing and resolved notifications of the same alert (fingerprint + startsAt) merge into one
Alert whose end is the resolved notification's ``endsAt``; a firing notification's ``endsAt``
is only Alertmanager's resolve timeout, so it is ignored.

Alerts as Alertmanager's API lists them (``GET /api/v2/alerts``, ``amtool alert query -o
json``: a JSON array of alerts whose ``status`` is an object with ``state``) are accepted too,
alone or beside payloads: such a list shows alerts still firing, so their ``endsAt`` is ignored
as well. Anything else (a query_range file, an object without ``alerts``) is refused.
"""

from __future__ import annotations

import json

from lessonloop.domain.alerts import AlertCreate
from lessonloop.ingest.source_documents import (
    ImportBatch,
    Located,
    build,
    clip,
    decode_utf8,
    load_json,
    load_json_lines,
)

__all__ = ["parse_alertmanager"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _payloads(data: bytes, source: str) -> list[Located]:
    text = decode_utf8(data, source).lstrip()
    if text.startswith("["):
        root = Located(load_json(data, source), source)
        return root.items()
    try:
        whole = json.loads(text) if text else None
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return [Located(whole, source)]
    return [Located(value, source, "$", line) for line, value in load_json_lines(data, source)]


def _alert(item: Located) -> AlertCreate:
    item.obj()
    labels = item.string_map("labels")
    if isinstance(item.value.get("status"), dict):  # listed by the API: firing when listed
        status = "firing"
    else:
        status = item.text("status", default="firing")
    if status not in ("firing", "resolved"):
        raise item.error(f"status must be 'firing' or 'resolved', got {status!r}", "status")
    ends_raw = item.text("endsAt")
    ends = item.time("endsAt") if status == "resolved" and ends_raw != _ZERO_TIME else None
    return build(
        AlertCreate,
        {
            "fingerprint": item.text("fingerprint", required=True),
            "source": "alertmanager",
            "name": clip(labels.get("alertname", ""), 200),
            "labels": labels,
            "annotations": item.string_map("annotations"),
            "starts_at": item.time("startsAt", required=True),
            "ends_at": ends,
        },
        item,
    )


def _alert_items(payload: Located) -> list[Located]:
    """The alerts of a webhook payload, or the payload itself when it is one listed alert."""
    payload.obj()
    if "alerts" in payload.value:
        return payload.get("alerts").items()
    if "labels" in payload.value and "startsAt" in payload.value:
        return [payload]
    data = payload.value.get("data")
    if isinstance(data, dict) and "resultType" in data:
        hint = (
            "; this looks like a Prometheus query_range response: import it with "
            "`lessonloop import series`"
        )
    else:
        keys = ", ".join(repr(clip(str(key), 40)) for key in list(payload.value)[:5])
        hint = f"; found {keys}" if keys else "; found an empty object"
    raise payload.error(
        "expected an Alertmanager webhook payload (with 'alerts') or an alert as `amtool alert "
        "query -o json` and GET /api/v2/alerts list them (with 'labels' and 'startsAt')" + hint,
        "alerts",
    )


def _where(item: Located) -> str:
    return f"line {item.line}, {item.path}" if item.line is not None else item.path


def parse_alertmanager(data: bytes, source: str) -> ImportBatch:
    """Alerts from a stream of webhook payloads, merged by (fingerprint, startsAt).

    Two things import but are reported as warnings: a payload whose ``truncatedAlerts`` says
    Alertmanager left alerts out (its ``max_alerts``), and alerts without an ``alertname``
    label (the alert model groups alerts by name, so these form one nameless family).
    """
    merged: dict[tuple[str, str], AlertCreate] = {}
    warnings: list[str] = []
    nameless: list[str] = []
    for payload in _payloads(data, source):
        payload.obj()
        version = payload.text("version")
        if version and version != "4":
            raise payload.error(
                f'unsupported webhook version {version!r} (expected "4")', "version"
            )
        truncated = payload.number("truncatedAlerts")
        if truncated:
            warnings.append(
                f"{source}: {_where(payload)}: Alertmanager left {truncated:g} alert(s) out of "
                "this notification (truncatedAlerts; raise max_alerts on the webhook "
                "receiver to keep them)"
            )
        for item in _alert_items(payload):
            alert = _alert(item)
            if not alert.name:
                nameless.append(_where(item))
            key = (alert.fingerprint, alert.starts_at.isoformat())
            previous = merged.get(key)
            if previous is not None:
                alert = build(
                    AlertCreate,
                    {
                        **previous.model_dump(),
                        "labels": {**previous.labels, **alert.labels},
                        "annotations": {**previous.annotations, **alert.annotations},
                        "ends_at": alert.ends_at or previous.ends_at,
                    },
                    item,
                )
            merged[key] = alert
    if nameless:
        more = f"; and {len(nameless) - 3} more" if len(nameless) > 3 else ""
        shown = "; ".join(nameless[:3]) + more
        warnings.append(
            f"{source}: {len(nameless)} alert(s) have no alertname label ({shown}); "
            "they are imported with an empty name"
        )
    return ImportBatch(alerts=list(merged.values()), warnings=warnings)
