"""Repositories on SQLite and PostgreSQL: each test runs in a rolled-back transaction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lessonloop.domain import (
    ActionItemCreate,
    ActionItemUpdate,
    ActionStatus,
    IncidentCreate,
    InsightCreate,
    ReviewCreate,
    ReviewStatus,
    ServiceCreate,
    TimelineEvent,
)
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.storage import actions, audit, incidents, reviews, series, services

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _seed(session) -> None:
    services.create(ServiceCreate(name="db", tier=1), session=session, actor="t")
    services.create(ServiceCreate(name="api", depends_on=["db"]), session=session, actor="t")
    incidents.create(
        IncidentCreate(
            key="INC-1",
            title="API down",
            services=["api", "db"],
            started_at=T0,
            detected_at=T0 + dt.timedelta(minutes=5),
        ),
        session=session,
        actor="t",
    )


def test_service_dependencies_and_cycles(session) -> None:
    _seed(session)
    assert services.get("api", session=session).depends_on == ["db"]
    with pytest.raises(Conflict, match="cycle"):
        services.add_dependency("db", "api", session=session, actor="t")
    with pytest.raises(Conflict):
        services.create(ServiceCreate(name="db"), session=session, actor="t")


def test_incident_round_trip_keeps_times_and_services(session) -> None:
    _seed(session)
    got = incidents.get("INC-1", session=session)
    assert got.services == ["api", "db"]
    assert got.started_at == T0 and got.started_at.tzinfo is not None
    with pytest.raises(NotFound):
        incidents.get("INC-404", session=session)


def test_incident_update_rejects_times_out_of_order(session) -> None:
    _seed(session)
    from lessonloop.domain import IncidentUpdate

    with pytest.raises(InputError, match="before"):
        incidents.update(
            "INC-1",
            IncidentUpdate(detected_at=T0 - dt.timedelta(hours=1)),
            session=session,
            actor="t",
        )


def test_incident_upsert_is_idempotent(session) -> None:
    _seed(session)
    data = IncidentCreate(
        key="INC-1",
        title="API down",
        services=["api", "db"],
        started_at=T0,
        detected_at=T0 + dt.timedelta(minutes=5),
    )
    assert incidents.upsert(data, session=session, actor="t")[1] == "unchanged"
    changed = data.model_copy(update={"title": "API outage"})
    assert incidents.upsert(changed, session=session, actor="t")[1] == "updated"
    assert len(incidents.list_incidents(session=session)) == 1


def _review(**overrides) -> ReviewCreate:
    base = dict(
        incident_key="INC-1",
        title="API down",
        timeline=[
            TimelineEvent(
                at=T0, kind="key moment", marker="first symptom", text="p99 left its band"
            )
        ],
        insights=[InsightCreate(kind="observation", text="The alert paged late.")],
        action_items=[
            ActionItemCreate(
                title="Lower threshold", type="detect", owner="ana", due=dt.date(2026, 4, 1)
            )
        ],
    )
    base.update(overrides)
    return ReviewCreate(**base)


def test_review_save_is_an_upsert_and_keeps_insight_ids(session) -> None:
    _seed(session)
    first, outcome = reviews.save(_review(), session=session, actor="t")
    assert outcome == "created"
    again, outcome = reviews.save(_review(), session=session, actor="t")
    assert outcome == "unchanged" and again.id == first.id
    edited, outcome = reviews.save(_review(summary="more"), session=session, actor="t")
    assert outcome == "updated"
    assert edited.insights[0].id == first.insights[0].id
    assert len(reviews.list_reviews(session=session)) == 1


def test_review_workflow_order_is_enforced_and_audited(session) -> None:
    _seed(session)
    review, _ = reviews.save(_review(), session=session, actor="t")
    with pytest.raises(Conflict, match="next step"):
        reviews.transition(review.id, ReviewStatus.PUBLISHED, session=session, actor="t")
    for status in (ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED, ReviewStatus.PUBLISHED):
        review = reviews.transition(review.id, status, session=session, actor="boss")
    assert review.status == ReviewStatus.PUBLISHED and review.published_at is not None
    actions_seen = [e.action for e in audit.list_events(session=session, entity_type="review")]
    assert "review.published" in actions_seen and "review.create" in actions_seen


def test_action_item_progress_survives_reimport(session) -> None:
    _seed(session)
    review, _ = reviews.save(_review(), session=session, actor="t")
    item = review.action_items[0]
    actions.update_action(
        item.id, ActionItemUpdate(status=ActionStatus.DONE), session=session, actor="t"
    )
    reviews.save(_review(summary="edited"), session=session, actor="t")
    assert actions.get_action(item.id, session=session).status == ActionStatus.DONE
    overdue = actions.list_actions(session=session, overdue_on=dt.date(2030, 1, 1))
    assert overdue == []


def test_series_stored_packed_and_merged(session) -> None:
    _seed(session)
    ts = np.arange(0, 600, 60, dtype=np.int64) + 1_700_000_000
    assert (
        series.put("api", "latency", ts, np.arange(10.0), session=session, actor="t") == "created"
    )
    assert (
        series.put("api", "latency", ts, np.arange(10.0), session=session, actor="t") == "unchanged"
    )
    more = ts + 300
    assert (
        series.put("api", "latency", more, np.full(10, 7.0), session=session, actor="t")
        == "updated"
    )
    stored = series.get("api", "latency", session=session)
    assert stored.timestamps.size == 15
    assert np.all(np.diff(stored.timestamps) > 0)
    assert stored.values[-1] == 7.0 and stored.values[0] == 0.0
