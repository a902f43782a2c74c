"""Ground truth for alerts: which incident caused each one, and why the others were noise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lessonloop.demo.alertmanager import FiredAlert
from lessonloop.demo.incidents import FirstPage, Incident
from lessonloop.demo.series import SeriesSet

ATTRIBUTION_SLACK = timedelta(minutes=30)


@dataclass(frozen=True)
class AlertTruth:
    """What one fired alert really was."""

    alert: FiredAlert
    incident_key: str | None
    role: str  # first_page | related | noise
    noise_cause: str | None  # nightly_compaction | daily_peak | fluctuation | incident_aftermath

    @property
    def is_noise(self) -> bool:
        """Whether the alert fired with no incident behind it."""
        return self.role == "noise"


def _noise_cause(alert: FiredAlert, near_incident: bool) -> str:
    """Why an alert with no incident behind it fired."""
    labels = alert.labels
    if near_incident:
        return "incident_aftermath"
    if labels["alertname"] == "DiskSpaceHigh" and labels["host"].startswith("batch-"):
        return "nightly_compaction"
    if labels["alertname"] == "HighLatencyP99" and 11 <= alert.starts_at.hour <= 21:
        return "daily_peak"
    return "fluctuation"


def attribute_alerts(
    alerts: list[FiredAlert], incidents: list[Incident], baseline: SeriesSet
) -> list[AlertTruth]:
    """Link each alert to the incident that caused it, or label it noise with its cause.

    An alert belongs to an incident when it fired on an affected service while that service
    was degraded and its condition was false on the incident-free baseline at that sample.
    """
    truths = []
    first_seen: set[str] = set()
    for alert in alerts:
        episode = alert.episode
        owner: Incident | None = None
        near = False
        for incident in incidents:
            for impact in incident.impacts:
                if impact.service != episode.service:
                    continue
                begin = incident.service_start(impact)
                end = incident.service_end(impact)
                if begin <= alert.starts_at <= end + ATTRIBUTION_SLACK:
                    normal = baseline[episode.service][episode.rule.metric][episode.fire_index]
                    if episode.rule.holds(float(normal)):
                        continue
                    if alert.starts_at <= end:
                        owner = incident
                    else:
                        near = True
            if owner is not None:
                break
        if owner is None:
            truths.append(AlertTruth(alert, None, "noise", _noise_cause(alert, near)))
            continue
        role = "related" if owner.key in first_seen else "first_page"
        first_seen.add(owner.key)
        truths.append(AlertTruth(alert, owner.key, role, None))
    return truths


def record_first_pages(incidents: list[Incident], truths: list[AlertTruth]) -> None:
    """Set each incident's first page to the one that really fired in the final series.

    While planning, a page can be foreseen that never fires because the incident was
    mitigated first (a customer noticed earlier), and simultaneous alerts tie.
    """
    first = {t.incident_key: t for t in truths if t.role == "first_page"}
    for incident in incidents:
        truth = first.get(incident.key)
        if truth is None:
            incident.first_page = None
            continue
        labels = truth.alert.labels
        incident.first_page = FirstPage(
            labels["alertname"], labels["service"], truth.alert.starts_at
        )
