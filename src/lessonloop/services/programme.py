"""Metrics of the learning programme itself: are incidents reviewed, do lessons become tracked
work and accepted signals, do better models ship, and do failure modes come back?

Scope: the incidents that started in ``[since, until)`` and what hangs off them (their reviews,
insights, action items, and the signals proposed about them); signals tied to no incident,
signal sets, model versions, promotions and rollbacks count by their own time in the range.
Counts are whole numbers; ``*_share`` is a fraction from 0 to 1 (None when nothing is there to
divide by); durations end in their unit (``_days``, ``_hours``). Every metric is defined in
docs/programme.md.

Example::

    metrics = programme_metrics(ws, since=datetime(2026, 1, 1, tzinfo=UTC))
    metrics.reviews.coverage_share, metrics.as_dict()["signals"]["acceptance_share"]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lessonloop.domain.audit import AuditEventRead
from lessonloop.domain.common import utc_now
from lessonloop.domain.incidents import IncidentRead
from lessonloop.domain.models import EvaluationRead, ModelVersionRead
from lessonloop.domain.programme import ProgrammeMetrics
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import SignalRead, SignalSetRead
from lessonloop.errors import InputError
from lessonloop.services.programme_sections import (
    Range,
    action_metrics,
    as_utc,
    incident_of,
    insight_metrics,
    model_metrics,
    recurrence_metrics,
    review_metrics,
    signal_metrics,
)
from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents, programme, reviews, signal_sets, signals
from lessonloop.storage import models as model_store

__all__ = [
    "ProgrammeMetrics",
    "Snapshot",
    "metrics_of",
    "programme_metrics",
    "read_snapshot",
    "window_of",
]


@dataclass(frozen=True)
class Snapshot:
    """Everything the metrics read, read once (a trend computes many periods from one)."""

    incidents: list[IncidentRead]
    reviews: dict[str, ReviewRead]  # by incident key
    signals: list[SignalRead]
    signal_sets: list[SignalSetRead]
    versions: list[ModelVersionRead]
    model_events: list[AuditEventRead]
    evaluations: list[EvaluationRead]
    modes: dict[str, set[str]]
    reviewed_at: dict[str, dt.datetime]
    first_recorded: dict[int, dt.datetime]  # action item id -> its first import
    accepted_at: dict[int, dt.datetime]  # signal id -> its first acceptance


def _first_at(events: list[AuditEventRead]) -> dict[int, dt.datetime]:
    first: dict[int, dt.datetime] = {}
    for event in events:
        first.setdefault(int(event.entity_id), event.at)
    return first


def read_snapshot(ws: Workspace) -> Snapshot:
    """One read of the workspace, in one transaction, with a fixed number of queries."""
    with ws.transaction() as session:
        return Snapshot(
            incidents=incidents.list_incidents(session=session),
            reviews={r.incident_key: r for r in reviews.list_full(session=session)},
            signals=signals.list_signals(session=session),
            signal_sets=signal_sets.list_sets(session=session),
            versions=model_store.list_versions(session=session),
            model_events=programme.audit_events(
                session=session,
                entity_type="model_version",
                actions=["model.promote", "model.rollback"],
            ),
            evaluations=model_store.list_evaluations(session=session),
            modes=model_store.failure_modes_by_incident(session=session),
            reviewed_at=programme.review_created_at(session=session),
            first_recorded=_first_at(
                programme.audit_events(
                    session=session, entity_type="action_item", actions=["action.import"]
                )
            ),
            accepted_at=_first_at(
                programme.audit_events(
                    session=session, entity_type="signal", actions=["signal.accept"]
                )
            ),
        )


def window_of(since: dt.datetime | None, until: dt.datetime | None) -> Range:
    """The range ``[since, until)`` in UTC; refused when it is empty."""
    window = Range(as_utc(since), as_utc(until))
    if window.since and window.until and window.until <= window.since:
        raise InputError(
            f"until ({window.until.isoformat()}) must be after since ({window.since.isoformat()})",
            field="until",
        )
    return window


def metrics_of(snapshot: Snapshot, window: Range, as_of: dt.datetime) -> ProgrammeMetrics:
    """The metrics of the incidents started in `window`, from a snapshot, as of `as_of`."""
    in_range = [i for i in snapshot.incidents if i.started_at in window]
    keys = {i.key for i in in_range}
    found = {key: review for key, review in snapshot.reviews.items() if key in keys}
    chosen = [
        s
        for s in snapshot.signals
        if (key := incident_of(s)) in keys or (key is None and s.created_at in window)
    ]
    return ProgrammeMetrics(
        since=window.since,
        until=window.until,
        as_of=as_of,
        reviews=review_metrics(in_range, found, as_of),
        insights=insight_metrics(found),
        action_items=action_metrics(found, snapshot.first_recorded, as_of.date()),
        signals=signal_metrics(
            chosen,
            snapshot.accepted_at,
            sum(1 for s in snapshot.signal_sets if s.created_at in window),
        ),
        models=model_metrics(
            [v for v in snapshot.versions if v.created_at in window],
            [e for e in snapshot.model_events if e.at in window],
            snapshot.evaluations,
        ),
        recurrence=recurrence_metrics(
            snapshot.incidents, window, snapshot.modes, snapshot.reviewed_at
        ),
    )


def programme_metrics(
    ws: Workspace,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> ProgrammeMetrics:
    """The programme's metrics for incidents started in ``[since, until)``, as of ``now``.

    Naive times are read as UTC. Recurrence counts an in-range incident as a repeat when an
    accepted failure-mode label of it was also accepted for an earlier-started incident that
    shares a service; a repeat *after review* when that earlier incident's review was stored
    before the repeat started.
    """
    window = window_of(since, until)
    return metrics_of(read_snapshot(ws), window, as_utc(now) or utc_now())
