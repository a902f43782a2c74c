"""Everything a reviewer knows when writing one review, gathered from the generated truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from lessonloop.demo.attribution import AlertTruth
from lessonloop.demo.incidents import Incident
from lessonloop.demo.org import Service
from lessonloop.demo.rules import Rule, series_labels
from lessonloop.demo.series import SeriesSet
from lessonloop.demo.timegrid import TimeGrid

LATE_AFTER_MINUTES = 15.0


@dataclass(frozen=True)
class ReviewContext:
    """One incident and the facts around it that its review talks about."""

    incident: Incident
    related: list[AlertTruth]
    compaction_noise: list[AlertTruth]
    peak_noise: list[AlertTruth]
    services: dict[str, Service]
    rules: list[Rule]
    peak_latency_ms: float
    peak_error_rate: float
    normal_peak: dict[tuple[str, str], float]

    def rule_for(self, alertname: str, service: str, metric: str) -> Rule | None:
        """The static rule that produces ``alertname`` on ``service``."""
        labels = series_labels(self.services[service], metric)
        for rule in self.rules:
            if rule.alert == alertname and rule.metric == metric and rule.selects(labels):
                return rule
        return None

    def delay_minutes(self, truth: AlertTruth) -> float:
        """Minutes between the alert's service starting to degrade and the alert firing."""
        for impact in self.incident.impacts:
            if impact.service == truth.alert.episode.service:
                began = self.incident.service_start(impact)
                return (truth.alert.starts_at - began).total_seconds() / 60.0
        return 0.0

    def is_late(self, truth: AlertTruth) -> bool:
        """Whether a static alert paged later than a reviewer would accept."""
        return self.delay_minutes(truth) > LATE_AFTER_MINUTES


def build_context(
    incident: Incident,
    truths: list[AlertTruth],
    services: tuple[Service, ...],
    rules: list[Rule],
    series: SeriesSet,
    grid: TimeGrid,
) -> ReviewContext:
    """Gather the alerts and numbers the review of ``incident`` refers to."""
    related = [t for t in truths if t.incident_key == incident.key]
    since = incident.start - timedelta(hours=24)
    until = incident.mitigated
    compaction = [
        t
        for t in truths
        if t.noise_cause == "nightly_compaction" and since <= t.alert.starts_at <= until
    ]
    week = incident.start - timedelta(days=7)
    affected = {i.service for i in incident.impacts}
    peak = [
        t
        for t in truths
        if t.noise_cause == "daily_peak"
        and t.alert.episode.service in affected
        and week <= t.alert.starts_at <= until
    ]
    lo, hi = grid.index_of(incident.start), grid.index_of(incident.mitigated)
    origin = series[incident.origin]
    window = slice(lo, max(hi, lo + 1))
    normal_peak: dict[tuple[str, str], float] = {}
    history = slice(max(0, lo - 14 * grid.points_per_day), max(lo, 1))
    for impact in incident.impacts:
        for metric, values in series[impact.service].items():
            normal_peak[(impact.service, metric)] = float(np.percentile(values[history], 99))
    return ReviewContext(
        incident=incident,
        related=related,
        compaction_noise=compaction,
        peak_noise=peak,
        services={s.name: s for s in services},
        rules=rules,
        peak_latency_ms=float(origin["latency_p99_ms"][window].max()),
        peak_error_rate=float(origin["error_rate"][window].max()),
        normal_peak=normal_peak,
    )


def nice_number(value: float) -> float:
    """Round to a number a person would write in a threshold (two significant digits)."""
    if value <= 0:
        return 0.0
    magnitude = 10 ** (int(np.floor(np.log10(value))) - 1)
    return float(round(value / magnitude) * magnitude)


def minutes_text(delta: timedelta | float) -> str:
    """Whole minutes as text."""
    minutes = delta.total_seconds() / 60.0 if isinstance(delta, timedelta) else delta
    return str(int(round(minutes)))


def when(value: datetime) -> str:
    """A date in words for prose."""
    return value.strftime("%A %d %B %Y")
