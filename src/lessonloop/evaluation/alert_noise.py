"""Scoring an alert policy on a period of alert history: pages, noise, and incidents kept.

A page is a firing the policy kept. Noise is a page no incident followed. An incident is
covered when at least one of its alerts paged. Units for the intervals: days for per-day rates,
incidents for coverage, pages per incident and delay.

Example::

    score = score_alert_period(starts, kept, incident_of, start, end)
    verdict = compare_alert_policies(candidate, baseline).verdict
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lessonloop.evaluation.bootstrap import bootstrap_interval, paired_comparison

__all__ = [
    "AlertPeriodScore",
    "AlertComparison",
    "MAX_ADDED_DELAY_MINUTES",
    "score_alert_period",
    "compare_alert_policies",
]

DAY = dt.timedelta(days=1)


@dataclass
class AlertPeriodScore:
    """A policy's pages over a period, with intervals over days or incidents."""

    days: int  # whole days the period touches (the bins of the per-day intervals)
    firings: int
    pages: int
    noise_pages: int
    relevant_firings: int
    relevant_pages: int
    incidents: list[str]  # incidents with at least one firing in the period, sorted
    covered: dict[str, bool] = field(default_factory=dict)
    pages_by_incident: dict[str, int] = field(default_factory=dict)
    delay_by_incident: dict[str, float] = field(default_factory=dict)  # first page - first alert
    noise_per_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pages_per_day_values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intervals: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    span_days: float = 0.0  # the period's exact length: rates are per day of it

    @property
    def pages_per_day(self) -> float:
        return self.pages / self.span_days if self.span_days else 0.0

    @property
    def noise_pages_per_day(self) -> float:
        return self.noise_pages / self.span_days if self.span_days else 0.0

    @property
    def incident_coverage(self) -> float | None:
        return sum(self.covered.values()) / len(self.incidents) if self.incidents else None

    @property
    def relevant_recall(self) -> float | None:
        if not self.relevant_firings:
            return None
        return self.relevant_pages / self.relevant_firings

    @property
    def pages_per_incident(self) -> float | None:
        if not self.incidents:
            return None
        return float(np.mean([self.pages_by_incident[k] for k in self.incidents]))

    @property
    def added_delay_minutes(self) -> float | None:
        values = [self.delay_by_incident[k] for k in self.incidents if self.covered[k]]
        return float(np.mean(values)) if values else None

    def metrics(self) -> dict[str, tuple[float | None, tuple[float, float] | None]]:
        """Every metric as (value, 95% interval or None)."""
        return {
            "noise_pages_per_day": (self.noise_pages_per_day, self.intervals.get("noise")),
            "pages_per_day": (self.pages_per_day, self.intervals.get("pages")),
            "incident_coverage": (self.incident_coverage, self.intervals.get("coverage")),
            "relevant_recall": (self.relevant_recall, None),
            "pages_per_incident": (self.pages_per_incident, self.intervals.get("per_incident")),
            "added_delay_minutes": (self.added_delay_minutes, None),
        }

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        out: dict[str, Any] = {
            "days": self.days,
            "firings": self.firings,
            "pages": self.pages,
            "noise_pages": self.noise_pages,
            "incidents": len(self.incidents),
            "incidents_covered": sum(self.covered.values()),
        }
        for name, (value, ci) in self.metrics().items():
            out[name] = r(value)
            out[f"{name}_ci"] = None if ci is None else [r(ci[0]), r(ci[1])]
        return out


def score_alert_period(
    starts: Sequence[dt.datetime],
    kept: Sequence[bool],
    incident_of: Sequence[str | None],
    start: dt.datetime,
    end: dt.datetime,
    *,
    paged_at: Sequence[dt.datetime | None] | None = None,
    seed: int = 0,
    resamples: int = 1000,
) -> AlertPeriodScore:
    """Score the firings that started in [start, end). ``paged_at``: when a kept firing
    paged, if later than it started (a muted alert that outlasted its muted hours); the
    added delay counts from the incident's first alert to its first page."""
    if not len(starts) == len(kept) == len(incident_of):
        raise ValueError("starts, kept and incident_of must have one entry per firing")
    later = list(paged_at) if paged_at is not None else [None] * len(starts)
    if len(later) != len(starts):
        raise ValueError("paged_at must have one entry per firing")
    if end <= start:
        raise ValueError("the period must end after it starts")
    days = max(1, int(np.ceil((end - start) / DAY)))
    noise = np.zeros(days)
    pages = np.zeros(days)
    first_alert: dict[str, dt.datetime] = {}
    first_page: dict[str, dt.datetime] = {}
    pages_by: dict[str, int] = {}
    score = AlertPeriodScore(days, 0, 0, 0, 0, 0, [], span_days=(end - start) / DAY)
    for when, keep, incident, paged in zip(starts, kept, incident_of, later, strict=True):
        if not start <= when < end:
            continue
        day = min(days - 1, int((when - start) / DAY))
        score.firings += 1
        if incident is not None:
            score.relevant_firings += 1
            first_alert[incident] = min(first_alert.get(incident, when), when)
            pages_by.setdefault(incident, 0)
        if not keep:
            continue
        score.pages += 1
        pages[day] += 1
        if incident is None:
            score.noise_pages += 1
            noise[day] += 1
        else:
            score.relevant_pages += 1
            pages_by[incident] += 1
            page = paged or when
            first_page[incident] = min(first_page.get(incident, page), page)
    score.incidents = sorted(first_alert)
    score.covered = {k: k in first_page for k in score.incidents}
    score.pages_by_incident = pages_by
    score.delay_by_incident = {
        k: (first_page[k] - first_alert[k]).total_seconds() / 60 for k in first_page
    }
    score.noise_per_day = noise
    score.pages_per_day_values = pages
    score.intervals = _intervals(score, seed, resamples)
    return score


def _interval(values: Sequence[float], seed: int, resamples: int) -> tuple[float, float] | None:
    if len(values) < 2:
        return None
    found = bootstrap_interval(np.asarray(values, dtype=float), seed=seed, n_resamples=resamples)
    return (found.low, found.high)


def _intervals(
    score: AlertPeriodScore, seed: int, resamples: int
) -> dict[str, tuple[float, float] | None]:
    return {
        "noise": _interval(list(score.noise_per_day), seed, resamples),
        "pages": _interval(list(score.pages_per_day_values), seed, resamples),
        "coverage": _exact_share(sum(score.covered.values()), len(score.incidents)),
        "per_incident": _interval(
            [float(score.pages_by_incident[k]) for k in score.incidents], seed, resamples
        ),
    }


def _exact_share(hits: int, total: int) -> tuple[float, float] | None:
    """Clopper-Pearson 95% interval of a share: 5 of 5 incidents paged is [0.48, 1], not the
    [1, 1] a bootstrap of five ones would claim."""
    if total == 0:
        return None
    # The beta quantiles of Clopper and Pearson, imported here: SciPy's import alone would
    # otherwise delay every command that reads this module by a good part of a second.
    from scipy.special import betaincinv

    low = 0.0 if hits == 0 else float(betaincinv(hits, total - hits + 1, 0.025))
    high = 1.0 if hits == total else float(betaincinv(hits + 1, total - hits, 0.975))
    return (low, high)


@dataclass(frozen=True)
class AlertComparison:
    """Candidate against baseline on the same period."""

    verdict: str  # better / worse / not distinguishable
    noise_verdict: str
    noise_p_value: float
    lost_incidents: list[str]  # covered by the baseline, not by the candidate
    gained_incidents: list[str]
    reason: str
    delayed_incidents: list[str] = field(default_factory=list)  # first page much later


MAX_ADDED_DELAY_MINUTES = 15.0


def compare_alert_policies(
    candidate: AlertPeriodScore,
    baseline: AlertPeriodScore,
    *,
    seed: int = 0,
    max_added_delay_minutes: float = MAX_ADDED_DELAY_MINUTES,
) -> AlertComparison:
    """Incidents first, then noise; without a holdout incident, no verdict. Losing every
    page of an incident the baseline paged for is "worse" whatever the noise, and so is
    paging for one more than ``max_added_delay_minutes`` later than the baseline did (a
    muted alert that pages when its hours end, an inhibited one that pages when its source
    stops); paging for one the baseline missed, losing and delaying none, is "better"
    whatever the noise; otherwise fewer (more) noise pages per day is "better" ("worse") only
    when the paired test over days says so."""
    if candidate.days != baseline.days or candidate.incidents != baseline.incidents:
        raise ValueError("the candidate and the baseline must be scored on the same period")
    lost = [k for k in candidate.incidents if baseline.covered[k] and not candidate.covered[k]]
    gained = [k for k in candidate.incidents if candidate.covered[k] and not baseline.covered[k]]
    delayed = [
        k
        for k in candidate.incidents
        if candidate.covered[k]
        and baseline.covered[k]
        and candidate.delay_by_incident[k] - baseline.delay_by_incident[k] > max_added_delay_minutes
    ]
    if candidate.days >= 2:
        test = paired_comparison(
            candidate.noise_per_day, baseline.noise_per_day, higher_is_better=False, seed=seed
        )
        noise_verdict, p_value = test.verdict, test.p_value
    else:
        noise_verdict, p_value = "not distinguishable", 1.0
    if not candidate.incidents:
        verdict = "not distinguishable"
        reason = (
            "no incident in the holdout had an alert: nothing shows the candidate would still "
            f"page for one (noise pages per day: {noise_verdict})"
        )
    elif lost:
        verdict = "worse"
        reason = f"loses every page of {len(lost)} incident(s) the baseline paged for"
    elif delayed:
        verdict = "worse"
        reason = (
            f"pages for {len(delayed)} incident(s) more than {max_added_delay_minutes:g} "
            "minutes later than the baseline"
        )
    elif gained:
        verdict = "better"
        reason = (
            f"pages for {len(gained)} incident(s) the baseline missed, loses none "
            f"(noise pages per day: {noise_verdict})"
        )
    elif noise_verdict == "worse":
        verdict, reason = "worse", "more noise pages per day (paired over days)"
    elif noise_verdict == "better":
        verdict, reason = "better", "fewer noise pages per day (paired over days), no incident lost"
    else:
        verdict = "not distinguishable"
        reason = "noise pages per day not distinguishable (paired over days), no incident lost"
    return AlertComparison(verdict, noise_verdict, p_value, lost, gained, reason, delayed)
