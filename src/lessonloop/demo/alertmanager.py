"""Alertmanager webhook payloads (version 4) for the alerts the static rules fired."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from lessonloop.demo.rules import Episode, render_annotation
from lessonloop.demo.timegrid import TimeGrid, iso

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
ZERO_TIME = "0001-01-01T00:00:00Z"
GROUP_BY = ("alertname", "service")
REPEAT_INTERVAL = timedelta(hours=4)
EXTERNAL_URL = "http://alertmanager.acme.internal:9093"
PROMETHEUS_URL = "http://prometheus.acme.internal:9090"


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint: 64-bit FNV-1a over sorted label pairs, as 16 hex digits."""
    value = FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in chunk:
                value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


@dataclass(frozen=True)
class FiredAlert:
    """One alert episode as Alertmanager saw it."""

    episode: Episode
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    annotations: dict[str, str]
    generator_url: str

    @property
    def labels(self) -> dict[str, str]:
        """The alert's labels."""
        return self.episode.labels

    @property
    def group_key(self) -> str:
        """The group key Alertmanager puts in notifications of this alert's group."""
        grouped = ", ".join(f'{name}="{self.labels[name]}"' for name in GROUP_BY)
        return f'{{}}/{{severity="{self.labels["severity"]}"}}:{{{grouped}}}'

    @property
    def receiver(self) -> str:
        """Where the route sends it: PagerDuty for pages, Slack otherwise."""
        kind = "pagerduty" if self.labels["severity"] == "page" else "slack"
        return f"{kind}-{self.labels['team']}"


def fired_alerts(episodes: list[Episode], grid: TimeGrid) -> list[FiredAlert]:
    """Turn rule firings into alerts with rendered annotations and stable fingerprints."""
    out = []
    for episode in episodes:
        labels = episode.labels
        rule = episode.rule
        annotations = {
            "summary": render_annotation(rule.summary, labels, episode.value),
            "description": render_annotation(rule.description, labels, episode.value),
            "runbook_url": f"https://runbooks.acme.internal/alerts/{rule.alert}",
        }
        url = f"{PROMETHEUS_URL}/graph?g0.expr={quote(rule.expr, safe='')}&g0.tab=1"
        ends = None if episode.end_index is None else grid.at(episode.end_index)
        out.append(
            FiredAlert(
                episode, fingerprint(labels), grid.at(episode.fire_index), ends, annotations, url
            )
        )
    return out


def _payload(alert: FiredAlert, status: str) -> dict[str, object]:
    """One webhook notification for a group that holds this single alert."""
    ends = iso(alert.ends_at) if status == "resolved" and alert.ends_at else ZERO_TIME
    return {
        "receiver": alert.receiver,
        "status": status,
        "alerts": [
            {
                "status": status,
                "labels": dict(alert.labels),
                "annotations": dict(alert.annotations),
                "startsAt": iso(alert.starts_at),
                "endsAt": ends,
                "generatorURL": alert.generator_url,
                "fingerprint": alert.fingerprint,
            }
        ],
        "groupLabels": {name: alert.labels[name] for name in GROUP_BY},
        "commonLabels": dict(alert.labels),
        "commonAnnotations": dict(alert.annotations),
        "externalURL": EXTERNAL_URL,
        "version": "4",
        "groupKey": alert.group_key,
        "truncatedAlerts": 0,
    }


def notifications(alerts: list[FiredAlert]) -> list[tuple[datetime, dict[str, object]]]:
    """Every webhook call: on firing (after group_wait), every repeat_interval, on resolve."""
    calls: list[tuple[datetime, int, dict[str, object]]] = []
    for order, alert in enumerate(alerts):
        sent = alert.starts_at + timedelta(seconds=30)
        calls.append((sent, order, _payload(alert, "firing")))
        while alert.ends_at is not None and sent + REPEAT_INTERVAL < alert.ends_at:
            sent += REPEAT_INTERVAL
            calls.append((sent, order, _payload(alert, "firing")))
        if alert.ends_at is not None:
            calls.append(
                (alert.ends_at + timedelta(seconds=30), order, _payload(alert, "resolved"))
            )
    calls.sort(key=lambda call: (call[0], call[1]))
    return [(when, payload) for when, _, payload in calls]


def write_alert_files(
    directory: Path, alerts: list[FiredAlert], grid: TimeGrid
) -> tuple[list[Path], int]:
    """Write alerts/<YYYY>Q<n>.jsonl, one payload per line by send time; returns files, count."""
    directory.mkdir(parents=True, exist_ok=True)
    lines: dict[int, list[str]] = {q: [] for q in range(grid.quarters)}
    calls = notifications(alerts)
    for when, payload in calls:
        quarter = min(grid.quarters - 1, grid.quarter_of(when))
        lines[quarter].append(json.dumps(payload, ensure_ascii=False))
    paths = []
    for quarter, rows in lines.items():
        path = directory / f"{grid.quarter_label(quarter)}.jsonl"
        path.write_text("".join(row + "\n" for row in rows), encoding="utf-8")
        paths.append(path)
    return paths, len(calls)
