"""The learning programme's metrics on a small hand-built workspace, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.factories import accept_failure_mode, propose_failure_mode

from lessonloop.domain import (
    ActionItemCreate,
    IncidentCreate,
    InsightCreate,
    ReviewCreate,
    ServiceCreate,
)
from lessonloop.domain.actions import ExpectedEffect
from lessonloop.domain.enums import ModelTask, ReviewStatus
from lessonloop.domain.insights import QualityRubric
from lessonloop.domain.models import EvaluationCreate, ModelVersionCreate
from lessonloop.errors import InputError
from lessonloop.services import registry
from lessonloop.services.programme import programme_metrics
from lessonloop.storage import audit, incidents, reviews, services, signal_sets
from lessonloop.storage import models as model_store
from lessonloop.storage import signals as signal_store
from lessonloop.storage.tables import ActionItemRow, EvaluationRow, ReviewRow, SignalRow

UTC = dt.UTC
NOW = dt.datetime(2026, 4, 1, tzinfo=UTC)


def _at(month: int, day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def _incidents(session) -> None:
    for name in ("checkout", "db"):
        services.create(ServiceCreate(name=name), session=session, actor="t")
    for key, sev, service, start, resolved in (
        ("INC-1", "SEV1", "checkout", _at(1, 5, 10), _at(1, 5, 12)),
        ("INC-2", "SEV1", "checkout", _at(2, 10, 9), None),
        ("INC-3", "SEV2", "db", _at(3, 1, 8), _at(3, 1, 9)),
        ("INC-4", "SEV2", "db", _at(3, 10, 10), None),
    ):
        incidents.create(
            IncidentCreate(key=key, title=f"{key} broke", severity=sev, services=[service],
                           started_at=start, resolved_at=resolved),
            session=session, actor="t")


def _reviews(session) -> dict[str, int]:
    """INC-1 published, INC-2 draft, INC-4 approved; INC-3 has no review."""
    rubric = QualityRubric
    made = {}
    for key, insights, items in (
        ("INC-1",
         [InsightCreate(kind="observation", text="Paged late.",
                        rubric=rubric(relevance=0.8, actionability=0.6)),
          InsightCreate(kind="recommendation", text="Alert on burn rate.", category="tooling"),
          InsightCreate(kind="recommendation", text="Rehearse.", category="process")],
         [ActionItemCreate(title="Burn-rate alert", type="detect", owner="ana",
                           due=dt.date(2026, 1, 20), status="done", insight_position=1,
                           expected_effect=ExpectedEffect(metric="mttd", direction="down")),
          ActionItemCreate(title="Write runbook", type="process", owner="bo",
                           due=dt.date(2026, 1, 10)),
          ActionItemCreate(title="Refactor pool", type="prevent")]),
        ("INC-2",
         [InsightCreate(kind="observation", text="Nobody told support.",
                        category="communication",
                        rubric=rubric(relevance=0.4, timeliness=1.0))],
         []),
        ("INC-4",
         [InsightCreate(kind="recommendation", text="Alert on disk.")],
         [ActionItemCreate(title="Disk alert", type="detect", owner="cy",
                           due=dt.date(2026, 4, 30), status="done", insight_position=0),
          ActionItemCreate(title="Bigger disks", type="mitigate", owner="dee",
                           due=dt.date(2026, 3, 25), status="wont do")]),
    ):
        review, _ = reviews.save(
            ReviewCreate(incident_key=key, title=f"Review of {key}", insights=insights,
                         action_items=items),
            session=session, actor="t")
        made[key] = review.id
    steps = [ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED, ReviewStatus.PUBLISHED]
    for step in steps:
        reviews.transition(made["INC-1"], step, session=session, actor="t")
    for step in steps[:2]:
        reviews.transition(made["INC-4"], step, session=session, actor="t")
    return made


def _backdate_reviews(session, made: dict[str, int]) -> None:
    """Times a real team would have: signed off 3 days after resolution, 10 after the start."""
    first = session.get(ReviewRow, made["INC-1"])
    first.created_at, first.published_at = _at(1, 6), _at(1, 8, 12)
    session.get(ReviewRow, made["INC-2"]).created_at = _at(2, 11)
    fourth = session.get(ReviewRow, made["INC-4"])
    fourth.created_at, fourth.status_changed_at = _at(3, 12), _at(3, 20, 10)
    for row in session.query(ActionItemRow).filter(ActionItemRow.completed_at.isnot(None)):
        recorded = audit.list_events(session=session, entity_type="action_item",
                                     entity_id=str(row.id))[-1].at
        row.completed_at = recorded + dt.timedelta(days=5 if row.title.startswith("Burn") else 9)
    item = session.query(ActionItemRow).filter(ActionItemRow.title == "Burn-rate alert").one()
    model_store.record_action_outcome(item.id, "verified", {}, session=session, actor="t")


def _signals(session, made: dict[str, int]) -> None:
    """Accepted labels make INC-2 repeat INC-1 (reviewed first) and INC-4 repeat INC-3."""
    offsets = {}
    for key, label in (("INC-1", "pool-exhausted"), ("INC-2", "pool-exhausted"),
                       ("INC-3", "disk-full"), ("INC-4", "disk-full")):
        offsets[accept_failure_mode(session, key, label, review_id=made.get(key))] = 2
    retired = accept_failure_mode(session, "INC-1", "dns", review_id=made["INC-1"])
    signal_store.retire(retired, "superseded", session=session, actor="t")
    rejected = propose_failure_mode(session, "INC-2", "cache-stampede", review_id=made["INC-2"])
    signal_store.reject(rejected, "not it", session=session, actor="t")
    offsets |= {retired: 6, rejected: 10, propose_failure_mode(session, "INC-4", "drift"): 1}
    accepted = [s for s in signal_store.list_signals(session=session) if s.status == "accepted"]
    from lessonloop.signals.sets import set_hash

    signal_sets.cut_set(accepted, set_hash(accepted), session=session, actor="t", notes=[])
    for signal_id, hours in offsets.items():
        row = session.get(SignalRow, signal_id)
        row.created_at = row.created_at - dt.timedelta(hours=hours)


def _models(ws) -> None:
    """Two promotions of metric_anomaly (only the first evaluated before), one rollback."""
    first, second = (registry.register_version(ws, ModelVersionCreate(task="metric_anomaly"))
                     for _ in range(2))
    registry.register_version(ws, ModelVersionCreate(task="failure_mode"))
    registry.record_evaluation(ws, EvaluationCreate(model_version_id=first.id))
    for version in (first, second):
        registry.approve_version(ws, version.id, reason="better on the holdout")
        registry.promote_version(ws, version.id)
    late = registry.record_evaluation(ws, EvaluationCreate(model_version_id=second.id))
    with ws.transaction() as session:  # an hour after its promotion (times are whole seconds)
        session.get(EvaluationRow, late.id).created_at += dt.timedelta(hours=1)
    registry.rollback_task(ws, ModelTask.METRIC_ANOMALY, reason="noisy")


@pytest.fixture
def programme_ws(workspace):
    with workspace.transaction() as session:
        _incidents(session)
        made = _reviews(session)
        _backdate_reviews(session, made)
        _signals(session, made)
    _models(workspace)
    return workspace


def test_every_section_counts_the_hand_built_workspace(programme_ws) -> None:
    m = programme_metrics(programme_ws, now=NOW)
    assert m.reviews.incidents == 4 and m.reviews.reviews == 3
    assert m.reviews.by_status == {"draft": 1, "in review": 0, "approved": 1, "published": 1}
    assert m.reviews.coverage_share == 0.75
    assert m.reviews.coverage_by_severity == {
        "SEV1": {"incidents": 2, "reviewed": 2, "share": 1.0},
        "SEV2": {"incidents": 2, "reviewed": 1, "share": 0.5},
    }
    # INC-1: resolved → published, 3 days; INC-4 (never resolved): started → approved, 10 days
    assert (m.reviews.days_to_signoff_median, m.reviews.days_to_signoff_p90) == (6.5, 9.3)
    assert m.reviews.signoff_measured_from == {"resolved_at": 1, "started_at": 1}
    assert m.reviews.drafts_older_than_14_days == 1

    assert m.insights.insights == 5
    assert m.insights.by_kind == {"observation": 2, "recommendation": 3}
    assert m.insights.by_category == {"technical": 2, "cognitive bias": 0, "communication": 1,
                                      "information silo": 0, "tooling": 1, "process": 1}
    assert m.insights.recommendations_with_action_item_share == 0.6667
    assert (m.insights.rated, m.insights.rubric_coverage_share) == (2, 0.4)
    assert m.insights.rubric_mean_by_axis == {"relevance": 0.6, "timeliness": 1.0,
                                              "breadth": None, "actionability": 0.6}

    a = m.action_items
    assert (a.action_items, a.open, a.done, a.wont_do, a.overdue) == (5, 2, 2, 1, 1)
    assert (a.with_owner_and_due_share, a.with_expected_effect_share) == (0.8, 0.2)
    assert (a.detect_done, a.detect_done_verified, a.detect_done_verified_share) == (2, 1, 0.5)
    assert a.days_to_close_median == 7.0

    s = m.signals
    assert (s.proposed, s.accepted, s.rejected, s.retired) == (1, 4, 1, 1)
    assert s.acceptance_share == 0.8333  # (4 accepted + 1 retired) / 6 decided
    assert s.hours_to_decision_median == 2.0  # 2, 2, 2, 2, 6, 10 hours
    assert s.signal_sets_cut == 1

    assert m.models.versions == 3
    assert m.models.by_task_and_status == {"failure_mode": {"candidate": 1},
                                           "metric_anomaly": {"champion": 1, "retired": 1}}
    assert (m.models.promotions, m.models.rollbacks, m.models.promoted_versions) == (2, 1, 2)
    assert m.models.promoted_with_prior_evaluation == 1
    assert m.models.promoted_with_prior_evaluation_share == 0.5

    r = m.recurrence
    assert (r.incidents_with_failure_mode, r.repeats, r.repeats_after_review) == (4, 2, 1)
    assert r.repeat_after_review_incidents == ["INC-2"]
    assert r.repeat_after_review_share == 0.25
    assert json.loads(json.dumps(m.as_dict()))["as_of"] == "2026-04-01T00:00:00+00:00"


def test_a_range_keeps_the_incidents_that_started_in_it(programme_ws) -> None:
    m = programme_metrics(programme_ws, since=_at(2, 1), until=_at(3, 5), now=NOW)
    assert [m.reviews.incidents, m.reviews.reviews, m.reviews.by_status["draft"]] == [2, 1, 1]
    assert m.reviews.coverage_by_severity["SEV2"] == {"incidents": 1, "reviewed": 0, "share": 0.0}
    assert (m.insights.insights, m.action_items.action_items) == (1, 0)
    assert m.action_items.with_owner_and_due_share is None
    assert (m.signals.accepted, m.signals.rejected, m.signals.proposed) == (2, 1, 0)
    # the earlier incident of a repeat may lie before the range
    assert (m.recurrence.repeats, m.recurrence.repeat_after_review_incidents) == (1, ["INC-2"])
    # signal sets and models count by their own (present-day) time: outside this range
    assert (m.signals.signal_sets_cut, m.models.versions, m.models.promotions) == (0, 0, 0)
    assert m.as_dict()["since"] == "2026-02-01T00:00:00+00:00"


def test_an_empty_workspace_gives_zeros_and_nones(workspace) -> None:
    data = programme_metrics(workspace).as_dict()
    assert data["reviews"]["incidents"] == 0 and data["reviews"]["coverage_by_severity"] == {}
    assert data["reviews"]["coverage_share"] is None
    assert data["reviews"]["days_to_signoff_median"] is None
    assert set(data["insights"]["by_kind"].values()) == {0}
    assert data["insights"]["rubric_mean_by_axis"]["relevance"] is None
    assert data["action_items"]["days_to_close_median"] is None
    assert data["signals"]["acceptance_share"] is None
    assert data["models"]["by_task_and_status"] == {} and data["models"]["rollbacks"] == 0
    assert data["recurrence"]["repeat_after_review_share"] is None


def test_an_empty_range_is_refused(workspace) -> None:
    with pytest.raises(InputError, match="until"):
        programme_metrics(workspace, since=_at(3, 1), until=_at(3, 1))


def test_trend_is_the_report_per_period(programme_ws) -> None:
    from lessonloop.services.programme_trend import programme_trend

    months = programme_trend(programme_ws, period="month", until=NOW, now=NOW)
    assert [(p.period, p.incidents, p.review_coverage_share, p.repeats) for p in months] == [
        ("2026-01", 1, 1.0, 0),
        ("2026-02", 1, 1.0, 1),
        ("2026-03", 2, 0.5, 1),
    ]
    quarter = programme_trend(programme_ws, until=NOW, now=NOW)
    whole = programme_metrics(programme_ws, since=_at(1, 1), until=NOW, now=NOW)
    assert len(quarter) == 1 and quarter[0].period == "2026Q1"
    assert quarter[0].days_to_signoff_median == whole.reviews.days_to_signoff_median
    assert quarter[0].action_items == whole.action_items.action_items
    with pytest.raises(InputError, match="unknown period"):
        programme_trend(programme_ws, period="week")
