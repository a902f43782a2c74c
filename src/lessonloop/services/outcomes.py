"""Did it work? Check shipped action items against their expected effect and for recurrence.

For each action item with an expected effect (metric, direction, service) that has shipped (its
``shipped_at``, or the promotion of a model version whose experiment names the item), compare
the metric over equal windows before and after, with a bootstrap interval of the difference, and
look for incidents after shipping on the same service with the same failure mode (accepted
failure_mode_label signals, or incident tags). Verdicts: verified (the interval lies entirely on
the expected side and nothing recurred), not verified, or too early (not shipped, or the after
window is not over yet, or too few observations after shipping).

Metrics: ``mttd`` / ``mttr`` (minutes, one unit per incident), ``incidents`` and ``alerts`` /
``false_alerts`` (count per day), ``pages`` / ``noise_pages`` (count per day: the service's
alerts that paged under the alert policy in force when they fired, all or those no incident
followed; see docs/alert-noise.md), anything else is a stored series of the service (daily
means).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from lessonloop.domain.access import Permission
from lessonloop.domain.actions import ActionItemRead, ExpectedEffect, OutcomeVerdict
from lessonloop.domain.common import utc_now
from lessonloop.domain.incidents import IncidentRead
from lessonloop.errors import NotFound
from lessonloop.evaluation.bootstrap import bootstrap_interval
from lessonloop.registry.lifecycle import promoted_at
from lessonloop.services.access import require
from lessonloop.services.alert_model import history_in, pages_in_force, severity_in_force
from lessonloop.services.workspace import Workspace
from lessonloop.storage import actions, alerts, incidents, series
from lessonloop.storage import models as store

__all__ = ["OutcomeCheck", "check_outcomes", "difference_interval"]

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class OutcomeCheck:
    """One action item's verdict and the evidence behind it."""

    action_id: int
    title: str
    verdict: OutcomeVerdict
    evidence: dict[str, Any] = field(default_factory=dict)


def difference_interval(
    before: np.ndarray, after: np.ndarray, *, seed: int = 0, n_resamples: int = 2000
) -> tuple[float, float, float]:
    """mean(after) − mean(before) with a 95 % two-sample percentile bootstrap interval."""
    rng = np.random.default_rng(seed)
    pick_b = rng.integers(0, before.size, size=(n_resamples, before.size))
    pick_a = rng.integers(0, after.size, size=(n_resamples, after.size))
    draws = after[pick_a].mean(axis=1) - before[pick_b].mean(axis=1)
    low, high = np.quantile(draws, [0.025, 0.975])
    return float(after.mean() - before.mean()), float(low), float(high)


def _daily_counts(times: list[dt.datetime], start: dt.datetime, days: int) -> np.ndarray:
    counts = np.zeros(days)
    for at in times:
        index = int((at - start) // DAY)
        if 0 <= index < days:
            counts[index] += 1
    return counts


def _minutes(later: dt.datetime | None, earlier: dt.datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds() / 60


def _measure(
    effect: ExpectedEffect, service: str, start: dt.datetime, days: int, session: Session
) -> np.ndarray:
    end = start + days * DAY
    metric = effect.metric.lower()
    if metric in ("mttd", "mttr", "incidents"):
        found = [
            i
            for i in incidents.list_incidents(session=session, service=service, since=start)
            if i.started_at < end
        ]
        if metric == "incidents":
            return _daily_counts([i.started_at for i in found], start, days)
        pick: Callable[[IncidentRead], dt.datetime | None] = (
            (lambda i: i.detected_at) if metric == "mttd" else (lambda i: i.resolved_at)
        )
        values = [_minutes(pick(i), i.started_at) for i in found]
        return np.array([v for v in values if v is not None], dtype=float)
    metric = _PER_DAY.get(metric, metric)
    if metric in ("pages", "noise_pages"):
        history = history_in(session, incident_severity=severity_in_force(session))
        kept = pages_in_force(session, history)
        return _daily_counts(
            [
                f.start
                for f, link, keep in zip(history.firings, history.links, kept, strict=True)
                if keep
                and f.labels.get("service") == service
                and (metric == "pages" or link is None)
            ],
            start,
            days,
        )
    if metric in ("alerts", "false_alerts"):
        found_alerts = [
            a
            for a in alerts.list_alerts(session=session, start=start, end=end)
            if a.labels.get("service") == service and (metric == "alerts" or a.incident_key is None)
        ]
        return _daily_counts([a.starts_at for a in found_alerts], start, days)
    stored = series.get(service, effect.metric, session=session)
    offsets = (stored.timestamps - int(start.timestamp())) // 86400
    daily = [stored.values[offsets == d] for d in range(days)]
    return np.array([v.mean() for v in daily if v.size], dtype=float)


# Counts are per day already: the names reviews often write mean the same thing.
_PER_DAY = {
    "alerts_per_day": "alerts",
    "false_alerts_per_day": "false_alerts",
    "pages_per_day": "pages",
    "noise_pages_per_day": "noise_pages",
}


def _shipped(item: ActionItemRead, session: Session) -> tuple[dt.datetime | None, str]:
    if item.shipped_at is not None:
        return item.shipped_at, "action item shipped_at"
    for experiment in store.list_experiments(session=session):
        if item.id in experiment.action_item_ids and experiment.candidate_version_id:
            at = promoted_at(experiment.candidate_version_id, session=session)
            if at is not None:
                return at, f"model version {experiment.candidate_version_id} promoted"
    return None, "not shipped"


def _recurrences(
    item: ActionItemRead, service: str, shipped: dt.datetime, session: Session
) -> tuple[list[str], list[str]]:
    modes = store.failure_modes_by_incident(session=session)
    origin = incidents.get(item.incident_key, session=session)
    labels = modes.get(origin.key, set()) | set(origin.tags)
    later = [
        i
        for i in incidents.list_incidents(session=session, service=service, since=shipped)
        if i.key != origin.key
    ]
    again = [i.key for i in later if labels & (modes.get(i.key, set()) | set(i.tags))]
    return sorted(labels), again


def _check(
    item: ActionItemRead,
    effect: ExpectedEffect,
    now: dt.datetime,
    window_days: int,
    min_units: int,
    seed: int,
    session: Session,
) -> OutcomeCheck:
    def verdict(value: OutcomeVerdict, **evidence: Any) -> OutcomeCheck:
        return OutcomeCheck(item.id, item.title, value, {"effect": effect.as_text(), **evidence})

    service = (
        effect.service or (incidents.get(item.incident_key, session=session).services or [""])[0]
    )
    shipped, source = _shipped(item, session)
    if shipped is None:
        return verdict("too early", reason="not shipped yet")
    base = {
        "shipped_at": shipped.isoformat(),
        "shipped_by": source,
        "service": service,
        "window_days": window_days,
    }
    if now < shipped + window_days * DAY:
        return verdict(
            "too early", reason=f"the {window_days}-day window after shipping is not over", **base
        )
    try:
        before = _measure(effect, service, shipped - window_days * DAY, window_days, session)
        after = _measure(effect, service, shipped, window_days, session)
    except NotFound as exc:
        return verdict("not verified", reason=f"no data for the metric: {exc}", **base)
    base.update(units_before=int(before.size), units_after=int(after.size))
    if after.size < min_units:
        return verdict("too early", reason="too few observations after shipping", **base)
    if before.size < min_units:
        return verdict("not verified", reason="too few observations before shipping", **base)
    diff, low, high = difference_interval(before, after, seed=seed)
    labels, again = _recurrences(item, service, shipped, session)
    base.update(
        before=_estimate(before, seed),
        after=_estimate(after, seed),
        difference={"value": diff, "low": low, "high": high},
        failure_modes=labels,
        recurrences=again,
    )
    moved = high < 0 if effect.direction == "down" else low > 0
    if moved and not again:
        return verdict(
            "verified",
            reason=f"{effect.metric} moved {effect.direction}, the 95 % "
            "interval excludes no change, and the failure mode did not recur",
            **base,
        )
    reasons = []
    if not moved:
        reasons.append(f"{effect.metric} did not move {effect.direction} distinguishably")
    if again:
        reasons.append(f"the failure mode recurred in {', '.join(again)}")
    return verdict("not verified", reason="; ".join(reasons), **base)


def _estimate(values: np.ndarray, seed: int) -> dict[str, float]:
    interval = bootstrap_interval(values, seed=seed)
    return {"value": interval.estimate, "low": interval.low, "high": interval.high}


def check_outcomes(
    ws: Workspace,
    *,
    now: dt.datetime | None = None,
    window_days: int = 28,
    min_units: int = 3,
    seed: int = 0,
) -> list[OutcomeCheck]:
    """Check every action item with an expected effect and store each verdict and evidence."""
    require(ws, Permission.CONTRIBUTE, "check outcomes")
    now = now or utc_now()
    results: list[OutcomeCheck] = []
    with ws.transaction() as session:
        for item in actions.list_actions(session=session):
            if item.expected_effect is None:
                continue
            result = _check(item, item.expected_effect, now, window_days, min_units, seed, session)
            store.record_action_outcome(
                item.id, result.verdict, result.evidence, session=session, actor=ws.actor, now=now
            )
            results.append(result)
    return results
