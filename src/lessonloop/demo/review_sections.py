"""The structured parts of a review: timeline, alert verdicts, insights and action items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from lessonloop.demo import phrasing
from lessonloop.demo.attribution import AlertTruth
from lessonloop.demo.phrasing import upper_first
from lessonloop.demo.review_context import ReviewContext, minutes_text

COMPACTION_MATCHER = '{alertname="DiskSpaceHigh", host=~"batch-.*"}'


@dataclass
class Insight:
    """One bullet of Observations, Recommendations or Human factors."""

    category: str
    text: str
    confidence: float | None = None
    source: str | None = None
    services: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """``- [category] text {confidence: ..., source: ...}``."""
        meta = []
        if self.confidence is not None:
            meta.append(f"confidence: {self.confidence:.1f}")
        if self.source:
            meta.append(f"source: {self.source}")
        if self.services:
            meta.append(f"services: [{', '.join(self.services)}]")
        if self.tags:
            meta.append(f"tags: [{', '.join(self.tags)}]")
        suffix = f" {{{', '.join(meta)}}}" if meta else ""
        return f"- [{self.category}] {self.text}{suffix}"


@dataclass
class ReviewBody:
    """The parts of one review, plus the mistakes deliberately written into it."""

    timeline: list[tuple[datetime, str, str, str, str]] = field(default_factory=list)
    alerts: list[tuple[str, str, str]] = field(default_factory=list)
    observations: list[Insight] = field(default_factory=list)
    recommendations: list[Insight] = field(default_factory=list)
    human_factors: list[Insight] = field(default_factory=list)
    actions: list[tuple[str, str, str, str, str, str, str]] = field(default_factory=list)
    signals: list[dict[str, object]] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def matcher(alertname: str, service: str) -> str:
    """Prometheus-style matchers naming one alert on one service."""
    return f'{{alertname="{alertname}", service="{service}"}}'


def reviewer_meta(rng: np.random.Generator) -> tuple[float | None, str | None]:
    """Confidence and source as reviewers fill them in (often, not always)."""
    if rng.random() < 0.25:
        return None, None
    sources = ("review meeting", "interview", "chat transcript", "ticket", "runbook update")
    return round(float(rng.uniform(0.5, 0.95)), 1), sources[int(rng.integers(0, len(sources)))]


def build_timeline(
    ctx: ReviewContext,
    reviewer_start: datetime,
    rng: np.random.Generator,
) -> list[tuple[datetime, str, str, str, str]]:
    """Timeline rows (at, kind, marker, actor, event), in time order."""
    inc = ctx.incident
    lead, helper = inc.responders[0].handle, inc.responders[-1].handle
    rows: list[tuple[datetime, str, str, str, str]] = []
    if inc.mode.name in ("bad_config_push", "memory_leak", "lock_contention"):
        change = {
            "bad_config_push": f"Config push to {inc.origin}: {inc.detail} changed",
            "memory_leak": f"New release of {inc.origin} rolled out",
            "lock_contention": f"{upper_first(inc.detail)} started on {inc.origin}",
        }
        rows.append(
            (
                inc.start - timedelta(minutes=int(rng.integers(1, 4))),
                "change",
                "",
                "deploy-bot",
                change[inc.mode.name],
            )
        )
    rows.append(
        (
            reviewer_start,
            "key moment",
            "first symptom",
            inc.origin,
            phrasing.first_symptom_event(rng, inc.mode.shape, inc.origin),
        )
    )
    for impact in inc.impacts[1:3]:
        rows.append(
            (
                inc.service_start(impact),
                "key moment",
                "",
                impact.service,
                f"{impact.service} starts to degrade as well",
            )
        )
    for truth in ctx.related[:4]:
        labels = truth.alert.labels
        rows.append(
            (
                truth.alert.starts_at,
                "alert",
                "",
                "Alertmanager",
                f"{labels['alertname']} fired for {labels['service']}",
            )
        )
    detected = inc.detected_at or inc.start
    if inc.detection_method == "customer":
        rows.append(
            (
                detected,
                "communication",
                "detected",
                "support",
                f"Support escalates customer reports about {inc.origin}",
            )
        )
    elif inc.detection_method == "human":
        rows.append(
            (
                detected,
                "detection",
                "detected",
                lead,
                f"{lead} notices {inc.origin} looks wrong on the dashboard",
            )
        )
    else:
        rows.append((detected, "detection", "detected", lead, f"{lead} is paged"))
    ack = inc.acknowledged_at or detected
    span = (inc.mitigated - ack).total_seconds() / 60.0
    rows.append((ack, "detection", "", lead, "Incident acknowledged, investigation starts"))
    rows.append(
        (
            ack + timedelta(minutes=round(span * 0.4)),
            "diagnosis",
            "",
            helper,
            f"Identified {inc.detail} as the likely cause",
        )
    )
    rows.append(
        (
            ack + timedelta(minutes=round(span * 0.6)),
            "decision",
            "",
            lead,
            f"Team agrees on the fix: {inc.mode.remediation}",
        )
    )
    if ctx.incident.severity in ("SEV1", "SEV2"):
        rows.append(
            (
                ack + timedelta(minutes=round(span * 0.5)),
                "communication",
                "",
                lead,
                "Status page updated",
            )
        )
    rows.append(
        (
            inc.mitigated,
            "repair",
            "mitigated",
            lead,
            f"{upper_first(inc.mode.remediation)}; metrics back in band",
        )
    )
    rows.append(
        (
            inc.resolved_at or inc.mitigated,
            "repair",
            "resolved",
            helper,
            "Follow-up fix deployed, incident closed",
        )
    )
    rows.sort(key=lambda row: row[0])
    return rows


def build_alert_rows(ctx: ReviewContext, rng: np.random.Generator, body: ReviewBody) -> None:
    """The Alerts table: verdicts on the alerts around this incident."""
    seen: set[tuple[str, str]] = set()
    first: AlertTruth | None = None
    mislabel = rng.random() < 0.12
    for truth in ctx.related:
        labels = truth.alert.labels
        key = (labels["alertname"], labels["service"])
        if key in seen:
            continue
        seen.add(key)
        cell = matcher(*key) if rng.random() < 0.8 else key[0]
        delay = minutes_text(ctx.delay_minutes(truth))
        if first is None:
            first = truth
            if ctx.is_late(truth):
                body.alerts.append((cell, "late", f"Paged {delay} minutes after the first symptom"))
            else:
                body.alerts.append(
                    (cell, "actionable", f"Fired {delay} minutes in, pointed at the cause")
                )
        elif mislabel and "wrong_alert_verdict" not in body.defects:
            body.defects.append("wrong_alert_verdict")
            body.alerts.append((cell, "noise", "Unrelated, it fires on its own sometimes"))
        else:
            body.alerts.append(
                (
                    cell,
                    "duplicate",
                    f"Same cause as {first.alert.labels['alertname']} on "
                    f"{first.alert.labels['service']}",
                )
            )
    if ctx.compaction_noise and rng.random() < 0.55:
        body.alerts.append(
            (
                COMPACTION_MATCHER,
                "noise",
                f"Paged {phrasing.times_text(len(ctx.compaction_noise))} overnight "
                "during compaction",
            )
        )
    if ctx.peak_noise and rng.random() < 0.6:
        labels = ctx.peak_noise[0].alert.labels
        body.alerts.append(
            (
                matcher(labels["alertname"], labels["service"]),
                "noise",
                "Fires at the normal afternoon peak",
            )
        )
    if ctx.incident.detection_method != "alert" or first is None:
        body.alerts.append(
            (
                matcher("HighLatencyP99", ctx.incident.origin),
                "missed",
                "Did not page before the problem was noticed another way",
            )
        )
