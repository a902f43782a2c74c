"""The sections of the programme metrics: one pure function per section over rows already read."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass

import numpy as np

from lessonloop.domain.actions import ActionItemRead
from lessonloop.domain.audit import AuditEventRead
from lessonloop.domain.enums import (
    ActionStatus,
    ActionType,
    InsightCategory,
    InsightKind,
    ReviewStatus,
    SignalStatus,
)
from lessonloop.domain.incidents import IncidentRead
from lessonloop.domain.models import EvaluationRead, ModelVersionRead
from lessonloop.domain.programme import (
    ActionMetrics,
    InsightMetrics,
    ModelMetrics,
    RecurrenceMetrics,
    ReviewMetrics,
    SignalMetrics,
)
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import SignalRead

__all__ = [
    "STALE_DRAFT_DAYS",
    "RUBRIC_AXES",
    "Range",
    "as_utc",
    "incident_of",
    "review_metrics",
    "insight_metrics",
    "action_metrics",
    "signal_metrics",
    "model_metrics",
    "recurrence_metrics",
]

STALE_DRAFT_DAYS = 14
RUBRIC_AXES = ("relevance", "timeliness", "breadth", "actionability")
DAY, HOUR = 86400.0, 3600.0


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def median(values: list[float], unit: float) -> float | None:
    return round(float(np.median(values)) / unit, 2) if values else None


def p90(values: list[float], unit: float) -> float | None:
    return round(float(np.percentile(values, 90)) / unit, 2) if values else None


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Range:
    since: dt.datetime | None
    until: dt.datetime | None

    def __contains__(self, at: dt.datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


def signoff(review: ReviewRead) -> dt.datetime | None:
    """When the review was signed off: published, or else approved (the status change)."""
    if review.published_at is not None:
        return review.published_at
    return review.status_changed_at if review.status == ReviewStatus.APPROVED else None


def review_metrics(
    in_range: list[IncidentRead], found: dict[str, ReviewRead], now: dt.datetime
) -> ReviewMetrics:
    by_severity: dict[str, list[int]] = {}
    durations: list[float] = []
    measured_from = {"resolved_at": 0, "started_at": 0}
    for incident in in_range:
        cell = by_severity.setdefault(incident.severity.value, [0, 0])
        cell[0] += 1
        review = found.get(incident.key)
        cell[1] += review is not None
        signed = signoff(review) if review else None
        if signed is not None:
            start = incident.resolved_at or incident.started_at
            measured_from["resolved_at" if incident.resolved_at else "started_at"] += 1
            durations.append((signed - start).total_seconds())
    stale_before = now - dt.timedelta(days=STALE_DRAFT_DAYS)
    statuses = Counter(r.status.value for r in found.values())
    return ReviewMetrics(
        incidents=len(in_range),
        reviews=len(found),
        by_status={s.value: statuses[s.value] for s in ReviewStatus},
        coverage_share=share(len(found), len(in_range)),
        coverage_by_severity={
            sev: {"incidents": n, "reviewed": done, "share": share(done, n)}
            for sev, (n, done) in sorted(by_severity.items())
        },
        days_to_signoff_median=median(durations, DAY),
        days_to_signoff_p90=p90(durations, DAY),
        signoff_measured_from=measured_from,
        drafts_older_than_14_days=sum(
            1
            for r in found.values()
            if r.status == ReviewStatus.DRAFT and r.created_at < stale_before
        ),
    )


def insight_metrics(found: dict[str, ReviewRead]) -> InsightMetrics:
    pairs = [(r, i) for r in found.values() for i in r.insights]
    linked = {(r.id, a.insight_position) for r in found.values() for a in r.action_items}
    recommendations = [(r, i) for r, i in pairs if i.kind == InsightKind.RECOMMENDATION]
    scores = [i.rubric.model_dump() for _, i in pairs]
    rated = [s for s in scores if any(v is not None for v in s.values())]
    kinds = Counter(i.kind.value for _, i in pairs)
    categories = Counter(i.category.value for _, i in pairs)
    means: dict[str, float | None] = {}
    for axis in RUBRIC_AXES:
        values = [s[axis] for s in rated if s[axis] is not None]
        means[axis] = round(float(np.mean(values)), 4) if values else None
    return InsightMetrics(
        insights=len(pairs),
        by_kind={k.value: kinds[k.value] for k in InsightKind},
        by_category={c.value: categories[c.value] for c in InsightCategory},
        recommendations_with_action_item_share=share(
            sum(1 for r, i in recommendations if (r.id, i.position) in linked),
            len(recommendations),
        ),
        rated=len(rated),
        rubric_coverage_share=share(len(rated), len(pairs)),
        rubric_mean_by_axis=means,
    )


def action_metrics(
    found: dict[str, ReviewRead], first_recorded: dict[int, dt.datetime], today: dt.date
) -> ActionMetrics:
    items: list[tuple[ReviewRead, ActionItemRead]] = [
        (r, a) for r in found.values() for a in r.action_items
    ]
    open_states = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
    detect_done = [
        a for _, a in items if a.type == ActionType.DETECT and a.status == ActionStatus.DONE
    ]
    verified = sum(1 for a in detect_done if a.outcome == "verified")
    closing = [
        (a.completed_at - first_recorded.get(a.id, r.created_at)).total_seconds()
        for r, a in items
        if a.status == ActionStatus.DONE and a.completed_at is not None
    ]
    return ActionMetrics(
        action_items=len(items),
        open=sum(1 for _, a in items if a.status in open_states),
        done=sum(1 for _, a in items if a.status == ActionStatus.DONE),
        wont_do=sum(1 for _, a in items if a.status == ActionStatus.WONT_DO),
        overdue=sum(
            1 for _, a in items if a.status in open_states and a.due is not None and a.due < today
        ),
        with_owner_and_due_share=share(
            sum(1 for _, a in items if a.owner and a.due is not None), len(items)
        ),
        with_expected_effect_share=share(
            sum(1 for _, a in items if a.expected_effect is not None), len(items)
        ),
        detect_done=len(detect_done),
        detect_done_verified=verified,
        detect_done_verified_share=share(verified, len(detect_done)),
        days_to_close_median=median([max(c, 0.0) for c in closing], DAY),
    )


def incident_of(signal: SignalRead) -> str | None:
    return signal.provenance.incident_key or getattr(signal.payload, "incident_key", None)


def signal_metrics(
    chosen: list[SignalRead], accepted_at: dict[int, dt.datetime], sets_cut: int
) -> SignalMetrics:
    statuses = Counter(s.status for s in chosen)
    accepted = statuses[SignalStatus.ACCEPTED] + statuses[SignalStatus.RETIRED]
    decided = accepted + statuses[SignalStatus.REJECTED]
    waits = []
    for s in chosen:
        at = accepted_at.get(s.id) if s.status == SignalStatus.RETIRED else s.decided_at
        if s.status != SignalStatus.PROPOSED and at is not None:
            waits.append(max((at - s.created_at).total_seconds(), 0.0))
    return SignalMetrics(
        proposed=statuses[SignalStatus.PROPOSED],
        accepted=statuses[SignalStatus.ACCEPTED],
        rejected=statuses[SignalStatus.REJECTED],
        retired=statuses[SignalStatus.RETIRED],
        acceptance_share=share(accepted, decided),
        hours_to_decision_median=median(waits, HOUR),
        signal_sets_cut=sets_cut,
    )


def model_metrics(
    versions: list[ModelVersionRead],
    events: list[AuditEventRead],
    evaluations: list[EvaluationRead],
) -> ModelMetrics:
    table: dict[str, Counter[str]] = {}
    for v in versions:
        table.setdefault(v.task.value, Counter())[v.status.value] += 1
    promoted: dict[int, dt.datetime] = {}
    for event in events:
        if event.action == "model.promote":
            promoted.setdefault(int(event.entity_id), event.at)
    evaluated = sum(
        1
        for vid, at in promoted.items()
        if any(e.model_version_id == vid and e.created_at <= at for e in evaluations)
    )
    return ModelMetrics(
        versions=len(versions),
        by_task_and_status={task: dict(sorted(c.items())) for task, c in sorted(table.items())},
        promotions=sum(1 for e in events if e.action == "model.promote"),
        rollbacks=sum(1 for e in events if e.action == "model.rollback"),
        promoted_versions=len(promoted),
        promoted_with_prior_evaluation=evaluated,
        promoted_with_prior_evaluation_share=share(evaluated, len(promoted)),
    )


def _earlier_index(
    every: list[IncidentRead], modes: dict[str, set[str]], reviewed_at: dict[str, dt.datetime]
) -> dict[tuple[str, str], tuple[list[dt.datetime], list[dt.datetime | None]]]:
    """Per (failure mode, service): the incidents' start times in order, and the earliest
    review time among the incidents up to each one (None while none has a review)."""
    grouped: dict[tuple[str, str], list[IncidentRead]] = {}
    for incident in every:
        for label in modes.get(incident.key, ()):
            for service in set(incident.services):
                grouped.setdefault((label, service), []).append(incident)
    index = {}
    for pair, found in grouped.items():
        found.sort(key=lambda i: i.started_at)
        earliest: list[dt.datetime | None] = []
        best: dt.datetime | None = None
        for incident in found:
            at = reviewed_at.get(incident.key)
            best = at if best is None or (at is not None and at < best) else best
            earliest.append(best)
        index[pair] = ([i.started_at for i in found], earliest)
    return index


def recurrence_metrics(
    every: list[IncidentRead],
    window: Range,
    modes: dict[str, set[str]],
    reviewed_at: dict[str, dt.datetime],
) -> RecurrenceMetrics:
    """Repeats and repeats after a review (docs/programme.md), in O(n log n)."""
    index = _earlier_index(every, modes, reviewed_at)
    labelled = [i for i in every if i.started_at in window and modes.get(i.key)]
    repeats: list[str] = []
    after_review: list[str] = []
    for incident in labelled:
        repeat = reviewed = False
        for label in modes[incident.key]:
            for service in set(incident.services):
                starts, earliest = index[(label, service)]
                before = bisect_left(starts, incident.started_at)  # strictly earlier starts
                if before:
                    repeat = True
                    first_review = earliest[before - 1]
                    reviewed |= first_review is not None and first_review <= incident.started_at
        if repeat:
            repeats.append(incident.key)
        if reviewed:
            after_review.append(incident.key)
    return RecurrenceMetrics(
        incidents_with_failure_mode=len(labelled),
        repeats=len(repeats),
        repeats_after_review=len(after_review),
        repeat_after_review_share=share(len(after_review), len(labelled)),
        repeat_after_review_incidents=after_review,
    )
