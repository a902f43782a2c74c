"""Alertmanager webhook payloads (version "4"): one per line or a JSON array -> alerts.

Firing and resolved notifications of the same alert (fingerprint + startsAt) merge into one
Alert whose end is the resolved notification's ``endsAt``; a firing notification's ``endsAt``
is only Alertmanager's resolve timeout, so it is ignored.
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


def parse_alertmanager(data: bytes, source: str) -> ImportBatch:
    """Alerts from a stream of webhook payloads, merged by (fingerprint, startsAt)."""
    merged: dict[tuple[str, str], AlertCreate] = {}
    for payload in _payloads(data, source):
        payload.obj()
        version = payload.text("version")
        if version and version != "4":
            raise payload.error(
                f'unsupported webhook version {version!r} (expected "4")', "version"
            )
        for item in payload.get("alerts").items():
            alert = _alert(item)
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
    return ImportBatch(alerts=list(merged.values()))
