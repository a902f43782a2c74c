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

from lessonloop.domain.common import utc_now
from lessonloop.domain.programme import ProgrammeMetrics
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

__all__ = ["ProgrammeMetrics", "programme_metrics"]


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
    window = Range(as_utc(since), as_utc(until))
    if window.since and window.until and window.until <= window.since:
        raise InputError(
            f"until ({window.until.isoformat()}) must be after since ({window.since.isoformat()})",
            field="until",
        )
    as_of = as_utc(now) or utc_now()
    with ws.transaction() as session:
        every = incidents.list_incidents(session=session)
        in_range = [i for i in every if i.started_at in window]
        keys = {i.key for i in in_range}
        summaries = reviews.list_reviews(session=session)
        found = {
            s.incident_key: reviews.get(s.id, session=session)
            for s in summaries
            if s.incident_key in keys
        }
        imports = programme.audit_events(
            session=session, entity_type="action_item", actions=["action.import"]
        )
        accepts = programme.audit_events(
            session=session, entity_type="signal", actions=["signal.accept"]
        )
        chosen = [
            s
            for s in signals.list_signals(session=session)
            if (key := incident_of(s)) in keys or (key is None and s.created_at in window)
        ]
        sets_cut = sum(1 for s in signal_sets.list_sets(session=session) if s.created_at in window)
        versions = [v for v in model_store.list_versions(session=session) if v.created_at in window]
        model_events = [
            e
            for e in programme.audit_events(
                session=session,
                entity_type="model_version",
                actions=["model.promote", "model.rollback"],
            )
            if e.at in window
        ]
        evaluations = model_store.list_evaluations(session=session)
        modes = model_store.failure_modes_by_incident(session=session)
        reviewed_at = programme.review_created_at(session=session)
    first_recorded: dict[int, dt.datetime] = {}
    for event in imports:
        first_recorded.setdefault(int(event.entity_id), event.at)
    accepted_at: dict[int, dt.datetime] = {}
    for event in accepts:
        accepted_at.setdefault(int(event.entity_id), event.at)
    return ProgrammeMetrics(
        since=window.since,
        until=window.until,
        as_of=as_of,
        reviews=review_metrics(in_range, found, as_of),
        insights=insight_metrics(found),
        action_items=action_metrics(found, first_recorded, as_of.date()),
        signals=signal_metrics(chosen, accepted_at, sets_cut),
        models=model_metrics(versions, model_events, evaluations),
        recurrence=recurrence_metrics(every, window, modes, reviewed_at),
    )
