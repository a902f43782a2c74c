"""Which incident, if any, an alert belonged to: the ground truth the noise model learns from.

An alert that a source linked to an incident (PagerDuty, Opsgenie, a review) keeps that link.
Any other alert belongs to an incident when it started between ``lead`` before the incident
started and the incident's end (resolved, else mitigated, else ``open_for`` after its start),
and its ``service`` label names one of the incident's services. An alert without a ``service``
label belongs to any incident it started in (the same window). When several incidents
qualify, the one that started nearest the alert wins. Everything else is an alert no incident
followed: noise.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lessonloop.alerting.noise import Firing

__all__ = ["IncidentSpan", "link_alerts", "DEFAULT_LEAD", "DEFAULT_OPEN_FOR"]

DEFAULT_LEAD = dt.timedelta(minutes=30)
DEFAULT_OPEN_FOR = dt.timedelta(hours=6)


@dataclass(frozen=True)
class IncidentSpan:
    """An incident as the linking needs it."""

    key: str
    start: dt.datetime
    end: dt.datetime | None
    services: frozenset[str]


def link_alerts(
    firings: Sequence[Firing],
    incidents: Sequence[IncidentSpan],
    *,
    lead: dt.timedelta = DEFAULT_LEAD,
    open_for: dt.timedelta = DEFAULT_OPEN_FOR,
) -> list[str | None]:
    """The incident key of each firing (its own link first), or None."""
    ordered = sorted(incidents, key=lambda i: i.start)
    starts = [i.start for i in ordered]
    longest = max(
        (((i.end or i.start + open_for) - i.start) for i in ordered), default=dt.timedelta(0)
    )
    out: list[str | None] = []
    for firing in firings:
        if firing.incident_key is not None:
            out.append(firing.incident_key)
            continue
        service = firing.labels.get("service", "")
        # incidents that started in [firing.start - longest, firing.start + lead]
        lo = bisect.bisect_left(starts, firing.start - longest)
        hi = bisect.bisect_right(starts, firing.start + lead)
        best: IncidentSpan | None = None
        for incident in ordered[lo:hi]:
            end = incident.end or incident.start + open_for
            if not incident.start - lead <= firing.start <= end:
                continue
            if service and service not in incident.services:
                continue
            if best is None or abs(incident.start - firing.start) < abs(best.start - firing.start):
                best = incident
        out.append(best.key if best else None)
    return out
