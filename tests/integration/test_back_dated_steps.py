"""A step given its time (`now`: a back-fill, or the demo's simulated organisation) records that
time in its rows and in its audit event, so the programme metrics and the audit trail agree."""

from __future__ import annotations

import datetime as dt

from tests.factories import review_file_text, seed_checkout_incident

from lessonloop.domain.actions import ActionItemUpdate
from lessonloop.domain.enums import ActionStatus, ReviewStatus
from lessonloop.services import actions, importing, insights, reviews, signals
from lessonloop.services.import_sources import ImportOptions
from lessonloop.services.programme import programme_metrics
from lessonloop.storage import audit

UTC = dt.UTC
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
