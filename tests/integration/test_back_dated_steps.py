"""A step given its time (`now`: a back-fill, or the demo's simulated organisation) records that
time in its rows and in its audit event, so the programme metrics and the audit trail agree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.factories import review_file_text, seed_checkout_incident

from lessonloop.domain.access import Role
from lessonloop.domain.actions import ActionItemUpdate
from lessonloop.domain.enums import ActionStatus, ModelTask, ReviewStatus
from lessonloop.domain.models import EvaluationCreate, ExperimentCreate, ModelVersionCreate
from lessonloop.domain.services import ServiceCreate
from lessonloop.services import (
    access,
    actions,
    catalog,
    importing,
    insights,
    registry,
    reviews,
    signals,
)
from lessonloop.services.audit_trail import audit_trail
from lessonloop.services.import_sources import ImportOptions
from lessonloop.services.programme import programme_metrics
from lessonloop.storage import audit

UTC = dt.UTC
FIXTURES = Path(__file__).parents[1] / "fixtures" / "imports"
WRITTEN = dt.datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
ROWS = "\n".join(
    [
        "| Page on p99 latency | detect | ana | 2026-04-01 | P2 | open | mttd down checkout |",
        "| Add canary stage | prevent | ben | 2026-03-20 | P1 | done | |",
    ]
)


def _at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def _events(ws, entity_type: str, entity_id: int | str) -> dict[str, dt.datetime]:
    """The entity's audit events: action -> when (the first of each action)."""
    with ws.transaction() as session:
        found = audit.list_events(
            session=session, entity_type=entity_type, entity_id=str(entity_id)
        )
    return {e.action: e.at for e in reversed(found)}


def test_a_review_imported_moved_decided_rated_and_closed_at_given_times(workspace, tmp_path):
    seed_checkout_incident(workspace)
    path = tmp_path / "INC-7.md"
    path.write_text(review_file_text(actions=ROWS, front="written_at: 2026-03-04T09:00:00Z\n"))
    summary = importing.import_files(
        workspace, "markdown", [path], options=ImportOptions(now=WRITTEN)
    )
    assert summary.ok, summary.errors
    review = reviews.get_review(workspace, "INC-7")
    assert review.created_at == WRITTEN
    page, canary = review.action_items
    assert canary.completed_at == WRITTEN  # done in the file: completed when imported
    assert _events(workspace, "review", review.id) == {"review.create": WRITTEN}
    assert _events(workspace, "action_item", page.id) == {"action.import": WRITTEN}

    extracted = signals.extract_review(workspace, "INC-7", now=_at(5))
    proposal = extracted.created[0]
    assert proposal.created_at == _at(5)
    decided = signals.accept_signal(workspace, proposal.id, now=_at(6))
    assert decided.decided_at == _at(6)
    assert _events(workspace, "signal", proposal.id) == {
        "signal.propose": _at(5),
        "signal.accept": _at(6),
    }
    if len(extracted.created) > 1:
        other = extracted.created[1]
        assert signals.reject_signal(workspace, other.id, "no", now=_at(6, 13)).decided_at == _at(
            6, 13
        )

    for day, target in ((7, ReviewStatus.IN_REVIEW), (9, ReviewStatus.APPROVED)):
        reviews.advance_review(workspace, "INC-7", target, now=_at(day))
    insight = review.insights[0]
    insights.rate_insight(workspace, insight.id, relevance=0.8, now=_at(9, 13))
    published = reviews.advance_review(workspace, "INC-7", ReviewStatus.PUBLISHED, now=_at(10))
    assert (published.status_changed_at, published.published_at) == (_at(10), _at(10))
    assert _events(workspace, "review", review.id) == {
        "review.create": WRITTEN,
        "review.in_review": _at(7),
        "review.approved": _at(9),
        "review.published": _at(10),
    }
    assert _events(workspace, "insight", insight.id) == {"insight.rate": _at(9, 13)}

    done = actions.update_action_item(
        workspace,
        page.id,
        ActionItemUpdate(status=ActionStatus.DONE, shipped_at=_at(20)),
        now=_at(20),
    )
    assert (done.completed_at, done.shipped_at) == (_at(20), _at(20))
    assert _events(workspace, "action_item", page.id)["action.update"] == _at(20)

    metrics = programme_metrics(workspace, now=_at(31))
    assert metrics.action_items.days_to_close_median is not None
    assert metrics.action_items.days_to_close_median > 0  # imported on the 4th, done the 20th
    assert metrics.signals.hours_to_decision_median is not None
    assert metrics.signals.hours_to_decision_median > 0
    assert metrics.reviews.days_to_signoff_median is not None


def test_without_a_time_the_step_happens_now(workspace, tmp_path):
    seed_checkout_incident(workspace)
    path = tmp_path / "INC-7.md"
    path.write_text(review_file_text(actions=ROWS, front="written_at: 2026-03-04T09:00:00Z\n"))
    before = dt.datetime.now(UTC).replace(microsecond=0)
    importing.import_files(workspace, "markdown", [path])
    moved = reviews.advance_review(workspace, "INC-7", ReviewStatus.IN_REVIEW)
    assert moved.created_at >= before and moved.status_changed_at >= before
    version = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY)
    )
    assert version.created_at >= before
    assert signals.cut(workspace).signal_set.created_at >= before


def test_a_model_is_registered_evaluated_decided_promoted_and_rolled_back_at_given_times(
    workspace,
):
    first = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), now=_at(10)
    )
    assert first.created_at == first.status_changed_at == _at(10)
    evaluation = registry.record_evaluation(
        workspace, EvaluationCreate(model_version_id=first.id), now=_at(11)
    )
    assert evaluation.created_at == _at(11)
    experiment = registry.record_experiment(
        workspace,
        ExperimentCreate(
            hypothesis="quieter",
            task=ModelTask.METRIC_ANOMALY,
            candidate_version_id=first.id,
            evaluation_id=evaluation.id,
        ),
        now=_at(11, 13),
    )
    assert experiment.created_at == _at(11, 13)
    state = registry.approve_version(workspace, first.id, reason="better", now=_at(12))
    assert [a.at for a in state.approvals] == [_at(12)]
    assert state.version.status_changed_at == _at(12)
    promoted = registry.promote_version(workspace, first.id, now=_at(13))
    assert promoted.status_changed_at == _at(13)
    second = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), now=_at(14)
    )
    registry.approve_version(workspace, second.id, reason="better still", now=_at(15))
    registry.promote_version(workspace, second.id, now=_at(15, 13))
    back = registry.rollback_task(
        workspace, ModelTask.METRIC_ANOMALY, reason="pages too much", now=_at(16)
    )
    assert back.id == first.id and back.status_changed_at == _at(16)
    third = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), now=_at(17)
    )
    assert registry.shadow_version(workspace, third.id, now=_at(18)).status_changed_at == _at(18)
    rejected = registry.reject_version(workspace, third.id, reason="worse", now=_at(19))
    assert rejected.status_changed_at == _at(19)
    assert registry.show_version(workspace, third.id).approval.approvals[0].at == _at(19)

    assert _events(workspace, "model_version", first.id) == {
        "model.register": _at(10),
        "model.approve": _at(12),
        "model.promote": _at(13),
        "model.rollback_to": _at(16),
    }
    assert _events(workspace, "model_version", second.id) == {
        "model.register": _at(14),
        "model.approve": _at(15),
        "model.promote": _at(15, 13),
        "model.rollback": _at(16),
    }
    assert _events(workspace, "model_version", third.id) == {
        "model.register": _at(17),
        "model.shadow": _at(18),
        "model.reject": _at(19),
    }
    assert _events(workspace, "evaluation", evaluation.id) == {"evaluation.record": _at(11)}
    assert _events(workspace, "experiment", experiment.id) == {"experiment.record": _at(11, 13)}
    # the programme counts each in its own time
    early = programme_metrics(workspace, since=_at(1), until=_at(14), now=_at(31)).models
    assert (early.versions, early.promotions, early.rollbacks) == (1, 1, 0)
    assert early.promoted_with_prior_evaluation == 1
    late = programme_metrics(workspace, since=_at(14), until=_at(31), now=_at(31)).models
    assert (late.versions, late.promotions, late.rollbacks) == (2, 1, 1)


def test_a_signal_set_is_cut_at_the_given_time(workspace, tmp_path):
    seed_checkout_incident(workspace)
    path = tmp_path / "INC-7.md"
    path.write_text(review_file_text(actions=ROWS, front="written_at: 2026-03-04T09:00:00Z\n"))
    importing.import_files(workspace, "markdown", [path], options=ImportOptions(now=WRITTEN))
    for proposal in signals.extract_review(workspace, "INC-7", now=_at(5)).created:
        signals.accept_signal(workspace, proposal.id, now=_at(6))
    made = signals.cut(workspace, now=_at(8))
    assert made.created and made.signal_set.created_at == _at(8)
    assert _events(workspace, "signal_set", made.signal_set.version) == {"signal_set.cut": _at(8)}
    assert programme_metrics(workspace, since=_at(8), until=_at(9)).signals.signal_sets_cut == 1
    assert programme_metrics(workspace, since=_at(9)).signals.signal_sets_cut == 0


def test_roles_services_alerts_and_series_at_given_times(workspace):
    access.grant_role(workspace, "tester", Role.ADMIN, reason="first", now=_at(1))
    granted = access.grant_role(workspace, "ana", Role.APPROVER, now=_at(1, 13))
    assert granted.granted_at == _at(1, 13)
    assert _events(workspace, "person", "ana") == {"role.grant": _at(1, 13)}
    catalog.add_service(workspace, ServiceCreate(name="checkout"), now=_at(2))
    catalog.add_service(workspace, ServiceCreate(name="db"), now=_at(2))
    catalog.add_dependency(workspace, "checkout", "db", now=_at(2, 13))
    assert _events(workspace, "service", "checkout") == {
        "service.create": _at(2),
        "service.depend": _at(2, 13),
    }
    importing.import_files(
        workspace,
        "series",
        [FIXTURES / "error_rate.csv"],
        options=ImportOptions(service="payments", now=_at(3)),
    )
    with workspace.transaction() as session:
        series_events = audit.list_events(session=session, entity_type="series")
    assert series_events and {e.at for e in series_events} == {_at(3)}
    # a service the import names that is not registered yet is created then too
    assert _events(workspace, "service", "payments") == {"service.create": _at(3)}
    summary = importing.import_files(
        workspace,
        "alertmanager",
        [FIXTURES / "alertmanager_stream.jsonl"],
        options=ImportOptions(now=_at(4)),
    )
    assert summary.ok, summary.errors
    with workspace.transaction() as session:
        alert_events = audit.list_events(session=session, entity_type="alert")
    assert alert_events and {e.at for e in alert_events} == {_at(4)}


def test_the_audit_trail_lists_a_back_fill_by_when_each_step_happened(workspace):
    """Steps recorded out of order (a back-fill after a step of today) are listed newest first
    by their time; events of one moment by their order of recording."""
    today = registry.register_version(workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY))
    later = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), now=_at(20)
    )
    earlier = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), now=_at(10)
    )
    registry.approve_version(workspace, earlier.id, reason="better", now=_at(10))
    listed = audit_trail(workspace, entity="model_version")
    assert [(e.entity_id, e.action) for e in listed] == [
        (str(today.id), "model.register"),
        (str(later.id), "model.register"),
        (str(earlier.id), "model.approve"),
        (str(earlier.id), "model.register"),
    ]
    assert [e.action for e in registry.show_version(workspace, earlier.id).history] == [
        "model.register",
        "model.approve",
    ]
    newest = audit_trail(workspace, entity="model_version", limit=2)
    assert [e.entity_id for e in newest] == [str(today.id), str(later.id)]
