"""Scoring alerting against incidents: MTTD, recall and false alerts per day, with intervals.

Used both by ``lessonloop learn`` (labels = accepted incident windows) and by the demo report
(labels = the generator's ground truth). Detections are per service; an incident is detected
when any of its services alerts between its start and its end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from lessonloop.domain.models import MetricEstimate
from lessonloop.evaluation.bootstrap import bootstrap_interval, paired_comparison

__all__ = [
    "LabelledIncident",
    "PeriodScore",
    "merge_episodes",
    "score_period",
    "compare_mttd",
    "metric_estimates",
]

MERGE_MINUTES = 30.0


@dataclass(frozen=True)
class LabelledIncident:
    key: str
    start: dt.datetime
    end: dt.datetime
    windows: Mapping[str, tuple[dt.datetime, dt.datetime]]  # service -> (start, end)


@dataclass
class PeriodScore:
    mttd_minutes: float | None
    mttd_ci: tuple[float, float] | None
    recall: float | None
    recall_ci: tuple[float, float] | None
    false_alerts_per_day: float
    false_alerts_ci: tuple[float, float]
    incidents: int
    detected: int
    false_alerts: int
    days: float
    pages: int = 0
    delays: dict[str, float] = field(default_factory=dict)  # incident key -> minutes (missed: inf)

    @property
    def precision(self) -> float | None:
        """Share of pages that an incident explains."""
        return None if self.pages == 0 else round(1 - self.false_alerts / self.pages, 4)

    @property
    def f1(self) -> float | None:
        """Event-level F1 of incident recall and page precision."""
        p, r = self.precision, self.recall
        return None if p is None or r is None or p + r == 0 else round(2 * p * r / (p + r), 4)

    def as_dict(self) -> dict[str, object]:
        return {
            "mttd_minutes": self.mttd_minutes,
            "mttd_ci": list(self.mttd_ci) if self.mttd_ci else None,
            "false_alerts_per_day": self.false_alerts_per_day,
            "false_alerts_ci": list(self.false_alerts_ci),
            "recall": self.recall,
            "recall_ci": list(self.recall_ci) if self.recall_ci else None,
            "incidents": self.incidents,
            "detected": self.detected,
            "false_alerts": self.false_alerts,
            "days": round(self.days, 2),
            "pages": self.pages,
            "precision": self.precision,
            "f1": self.f1,
        }


def merge_episodes(
    times: Sequence[dt.datetime], gap_minutes: float = MERGE_MINUTES
) -> list[dt.datetime]:
    """Collapse alerts closer than ``gap_minutes`` into one page (the first of each run)."""
    out: list[dt.datetime] = []
    last: dt.datetime | None = None
    for at in sorted(times):
        if last is None or (at - last).total_seconds() / 60 > gap_minutes:
            out.append(at)
        last = at
    return out


def _ci(values: list[float], statistic, seed: int) -> tuple[float, float] | None:  # type: ignore[no-untyped-def]
    if not values:
        return None
    interval = bootstrap_interval(np.asarray(values), statistic, seed=seed, n_resamples=1000)
    return (round(interval.low, 3), round(interval.high, 3))


def score_period(
    detections: Mapping[str, Sequence[dt.datetime]],
    incidents: Sequence[LabelledIncident],
    start: dt.datetime,
    end: dt.datetime,
    *,
    grace_minutes: float = 60.0,
    seed: int = 0,
) -> PeriodScore:
    """Score per-service detections in [start, end) against the incidents that began there."""
    in_period = [i for i in incidents if start <= i.start < end]
    delays: dict[str, float] = {}
    for incident in in_period:
        first = None
        for service, (_, w_end) in incident.windows.items():
            for at in detections.get(service, ()):
                if incident.start <= at <= w_end and (first is None or at < first):
                    first = at
        delays[incident.key] = (first - incident.start).total_seconds() / 60 if first else np.inf
    false_by_day: dict[int, int] = {}
    pages = 0
    for service, times in detections.items():
        for at in times:
            if not start <= at < end:
                continue
            pages += 1
            explained = any(
                w[0] - dt.timedelta(minutes=grace_minutes)
                <= at
                <= w[1] + dt.timedelta(minutes=grace_minutes)
                for incident in incidents
                for s, w in incident.windows.items()
                if s == service
            )
            if not explained:
                day = int((at - start).total_seconds() // 86400)
                false_by_day[day] = false_by_day.get(day, 0) + 1
    days = (end - start).total_seconds() / 86400
    per_day = [float(false_by_day.get(d, 0)) for d in range(int(np.ceil(days)))]
    detected = [d for d in delays.values() if np.isfinite(d)]
    hits = [1.0 if np.isfinite(d) else 0.0 for d in delays.values()]
    fa_ci = _ci(per_day, lambda v: float(np.mean(v)), seed) or (0.0, 0.0)
    return PeriodScore(
        mttd_minutes=float(np.median(detected)) if detected else None,
        mttd_ci=_ci(detected, lambda v: float(np.median(v)), seed),
        recall=float(np.mean(hits)) if hits else None,
        recall_ci=_ci(hits, lambda v: float(np.mean(v)), seed),
        false_alerts_per_day=round(sum(per_day) / max(days, 1e-9), 3),
        false_alerts_ci=fa_ci,
        incidents=len(in_period),
        detected=len(detected),
        false_alerts=int(sum(per_day)),
        days=days,
        pages=pages,
        delays=delays,
    )


def compare_mttd(
    candidate: PeriodScore, baseline: PeriodScore, *, cap_minutes: float, seed: int = 0
) -> str:
    """Paired verdict on detection delay per incident (a miss counts as ``cap_minutes``)."""
    keys = sorted(set(candidate.delays) & set(baseline.delays))
    if len(keys) < 2:
        return "not distinguishable"
    a = np.minimum([candidate.delays[k] for k in keys], cap_minutes)
    b = np.minimum([baseline.delays[k] for k in keys], cap_minutes)
    # Lower delay is better: compare negated delays so "better" means faster.
    return paired_comparison(-a, -b, seed=seed).verdict


def metric_estimates(score: PeriodScore) -> dict[str, MetricEstimate]:
    """MTTD, recall and false alerts per day with their intervals, as the registry stores them."""

    def interval(value: float | None, ci: tuple[float, float] | None) -> MetricEstimate:
        low, high = ci if ci else (None, None)
        return MetricEstimate(value=value, low=low, high=high)

    return {
        "mttd_minutes": interval(score.mttd_minutes, score.mttd_ci),
        "recall": interval(
            None if score.recall is None else round(score.recall, 4), score.recall_ci
        ),
        "false_alerts_per_day": interval(score.false_alerts_per_day, score.false_alerts_ci),
    }
