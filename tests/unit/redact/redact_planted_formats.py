"""Embeds planted items in documents shaped like each import format's real payloads."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tests.unit.redact.redact_planted_corpus import FORMATS, GENERATORS, ROSTER, Planted


@dataclass(frozen=True)
class PlantedDocument:
    """One generated source document and the items planted in it."""

    source: str
    document: object
    planted: tuple[Planted, ...]


def _fields(items: list[Planted]) -> dict[str, str]:
    """Secret-named JSON fields for items that carry one (as configs attached to alerts do)."""
    return {item.field[0]: item.field[1] for item in items if item.field is not None}


def _pagerduty(rng: random.Random, items: list[Planted]) -> object:
    sentences = [item.sentence for item in items]
    return {
        "incident": {
            "id": f"Q{rng.randint(10**6, 10**7)}ZX",
            "incident_number": rng.randint(1000, 9999),
            "title": f"[SEV2] checkout-api p99 latency above 800 ms - {sentences[0]}",
            "description": sentences[1] if len(sentences) > 1 else "",
            "status": "resolved",
            "urgency": "high",
            "created_at": "2026-03-02T10:34:00Z",
            "service": {"id": "PSVC01", "summary": "checkout-api"},
            "assignments": [{"assignee": {"type": "user_reference", "summary": ROSTER[0].name}}],
            "log_entries": [
                {
                    "type": "annotate_log_entry",
                    "created_at": "2026-03-02T10:40:00Z",
                    "channel": {"summary": text},
                }
                for text in sentences[2:]
            ],
            "body": {"details": _fields(items)},
        }
    }


def _opsgenie(rng: random.Random, items: list[Planted]) -> object:
    sentences = [item.sentence for item in items]
    return {
        "action": "Create",
        "alert": {
            "alertId": f"{rng.getrandbits(64):016x}-1709374320",
            "message": sentences[0],
            "description": "\n".join(sentences[1:3]),
            "priority": "P2",
            "tags": ["payments", "latency"],
            "details": {"runbook": "https://runbooks.internal/checkout", **_fields(items)},
            "responders": [{"type": "user", "username": ROSTER[1].handles[0]}],
            "notes": [{"note": text, "createdAt": 1709374320123} for text in sentences[3:]],
        },
    }


def _alertmanager(rng: random.Random, items: list[Planted]) -> object:
    sentences = [item.sentence for item in items]
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "severity": "page", "job": "checkout"},
            "annotations": {"summary": text, "description": f"error ratio 12.5% ({text})"},
            "startsAt": "2026-03-02T10:12:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=rate%28http_errors%5B5m%5D%29",
            "fingerprint": f"{rng.getrandbits(64):016x}",
        }
        for text in sentences
    ]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "status": "firing",
        "receiver": "team-sre",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": _fields(items),
        "alerts": alerts,
    }


def _slack(rng: random.Random, items: list[Planted]) -> object:
    return [
        {
            "type": "message",
            "user": f"U0{rng.randint(10**6, 10**7)}",
            "ts": f"{1709374320 + index * 37}.{rng.randint(0, 999999):06d}",
            "text": f"{rng.choice(['fyi', 'ok so', 'update:', 'heads up'])} {item.sentence}",
        }
        for index, item in enumerate(items)
    ]


def _markdown(rng: random.Random, items: list[Planted]) -> object:
    timeline = "\n".join(
        f"- 10:{12 + index:02d} UTC — {item.sentence}" for index, item in enumerate(items)
    )
    return (
        "---\ntitle: Checkout latency regression after config push v2.14.3\nseverity: SEV2\n---\n\n"
        "# Summary\n\nA config push at 10:12 UTC raised p99 latency from 240 ms to 1.8 s for "
        f"42 minutes; about 3,100 requests failed.\n\n## Timeline\n\n{timeline}\n\n"
        "## Contributing factors\n\nThe 800 ms threshold paged 20 minutes late.\n"
    )


BUILDERS: dict[str, Callable[[random.Random, list[Planted]], object]] = {
    "pagerduty": _pagerduty,
    "opsgenie": _opsgenie,
    "alertmanager": _alertmanager,
    "slack": _slack,
    "markdown": _markdown,
}


def build_corpus(
    seed: int = 20260302, rounds: int = 3, per_document: int = 6
) -> list[PlantedDocument]:
    """Every generator × every format × `rounds`, dealt into documents of `per_document` items."""
    rng = random.Random(seed)
    documents: list[PlantedDocument] = []
    for source in FORMATS:
        items = [generate(rng) for _ in range(rounds) for generate in GENERATORS]
        rng.shuffle(items)
        for start in range(0, len(items), per_document):
            chunk = items[start : start + per_document]
            documents.append(PlantedDocument(source, BUILDERS[source](rng, chunk), tuple(chunk)))
    return documents


def all_strings(value: object) -> list[str]:
    """Every string in a JSON-like value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*all_strings(key), *all_strings(item))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in all_strings(item)]
    return []
