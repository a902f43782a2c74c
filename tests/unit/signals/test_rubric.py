"""Suggested rubric scores: each heuristic, its edges, and that it only suggests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lessonloop.domain.actions import ActionItemRead
from lessonloop.domain.incidents import IncidentRead
from lessonloop.domain.insights import InsightRead
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import FailureModeLabel, SignalProvenance, SignalRead
from lessonloop.signals.rubric import AXES, suggest_rubric

START = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
RESOLVED = START + dt.timedelta(hours=3)
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _incident(**changes: Any) -> IncidentRead:
    values: dict[str, Any] = {
        "id": 1,
        "key": "INC-7",
        "title": "Checkout slow",
        "services": ["checkout", "payments"],
        "started_at": START,
        "resolved_at": RESOLVED,
    }
    return IncidentRead.model_validate({**values, **changes})


def _review(review_id: int = 3) -> ReviewRead:
    return ReviewRead.model_validate(
        {
            "id": review_id,
            "incident_key": "INC-7",
            "title": "Review",
            "status": "draft",
            "content_hash": "x",
            "created_at": START,
            "updated_at": START,
            "status_changed_at": START,
        }
    )


def _insight(text: str = "The alert paged late.", **changes: Any) -> InsightRead:
    values: dict[str, Any] = {
        "id": 11,
        "review_id": 3,
        "position": 1,
        "kind": "observation",
        "text": text,
    }
    return InsightRead.model_validate({**values, **changes})


def _recommendation(text: str = "Alert on the SLO burn rate.", **changes: Any) -> InsightRead:
    return _insight(text, kind="recommendation", **changes)


def _action(title: str = "Add burn-rate alert", **changes: Any) -> ActionItemRead:
    values: dict[str, Any] = {
        "id": 5,
        "review_id": 3,
        "incident_key": "INC-7",
        "position": 0,
        "title": title,
        "owner": "ana",
        "due": dt.date(2026, 4, 1),
    }
    return ActionItemRead.model_validate({**values, **changes})


def _signal(status: str, insight_id: int = 11) -> SignalRead:
    return SignalRead(
        id=1,
        payload=FailureModeLabel(incident_key="INC-7", label="config-push"),
        provenance=SignalProvenance(incident_key="INC-7", review_id=3, insight_id=insight_id),
        status=status,
        content_hash="h",
        created_at=START,
    )


def _suggest(insight: InsightRead, **kwargs: Any) -> Any:
    kwargs.setdefault("incident", _incident())
    kwargs.setdefault("review", _review())
    kwargs.setdefault("action_items", [])
    kwargs.setdefault("now", NOW)
    return suggest_rubric(insight, **kwargs)


def _captured(at: dt.datetime) -> dict[str, Any]:
    return {"provenance": {"captured_at": at}}


# timeliness


@pytest.mark.parametrize(
    ("captured", "expected"),
    [
        (START + dt.timedelta(hours=1), 1.0),  # during the incident
        (RESOLVED + dt.timedelta(hours=8), 1.0),  # same day as the resolution
        (RESOLVED + dt.timedelta(days=3), 0.9),
        (RESOLVED + dt.timedelta(days=15), 0.5),
        (RESOLVED + dt.timedelta(days=30), 0.0),
        (RESOLVED + dt.timedelta(days=90), 0.0),
    ],
)
def test_timeliness_decays_from_the_day_of_resolution_to_zero_at_thirty_days(
    captured: dt.datetime, expected: float
) -> None:
    suggested = _suggest(_insight(**_captured(captured))).timeliness
    assert suggested.score == expected
    assert "resolution" in suggested.reason


def test_timeliness_counts_from_the_start_of_an_unresolved_incident() -> None:
    insight = _insight(**_captured(START + dt.timedelta(days=6)))
    suggested = _suggest(insight, incident=_incident(resolved_at=None)).timeliness
    assert suggested.score == 0.8
    assert "6 days after the incident's start" in suggested.reason


def test_timeliness_is_none_without_a_capture_time_or_with_one_in_the_future() -> None:
    assert _suggest(_insight()).timeliness.model_dump() == {
        "score": None,
        "reason": "capture time unknown",
    }
    later = _suggest(_insight(**_captured(NOW + dt.timedelta(days=1)))).timeliness
    assert later.score is None and "future" in later.reason


# actionability


def test_an_observation_gets_no_actionability() -> None:
    suggested = _suggest(_insight(), action_items=[_action(insight_position=1)]).actionability
    assert suggested.score is None
    assert suggested.reason == "observations are descriptive"


def test_a_recommendation_linked_to_an_owned_dated_item_scores_high() -> None:
    linked = _action("Something else entirely", insight_position=1)
    suggested = _suggest(_recommendation(), action_items=[linked]).actionability
    assert suggested.score == 1.0
    assert "owner ana" in suggested.reason and "due 2026-04-01" in suggested.reason


def test_a_linked_item_without_owner_or_due_date_scores_lower() -> None:
    bare = _action("Something else", insight_position=1, owner=None, due=None)
    half = _action("Something else", insight_position=1, due=None)
    assert _suggest(_recommendation(), action_items=[bare]).actionability.score == 0.5
    assert _suggest(_recommendation(), action_items=[half]).actionability.score == 0.75


def test_a_recommendation_without_any_action_item_scores_low() -> None:
    suggested = _suggest(_recommendation(), action_items=[]).actionability
    assert suggested.score is not None and suggested.score <= 0.2
    assert suggested.reason == "no action item tracks it"
    unrelated = _action("Document the rollback procedure")
    assert _suggest(_recommendation(), action_items=[unrelated]).actionability.score == 0.1


def test_an_item_with_similar_wording_counts_but_less_than_an_explicit_link() -> None:
    suggested = _suggest(_recommendation(), action_items=[_action()]).actionability
    assert suggested.score == 0.8
    assert "similar wording" in suggested.reason


def test_items_of_another_review_or_dropped_items_do_not_make_it_actionable() -> None:
    elsewhere = _action(insight_position=1, review_id=99)
    assert _suggest(_recommendation(), action_items=[elsewhere]).actionability.score == 0.1
    dropped = _action(insight_position=1, status="wont do")
    suggested = _suggest(_recommendation(), action_items=[dropped]).actionability
    assert suggested.score == 0.3 and "wont do" in suggested.reason


# breadth


def test_breadth_is_the_share_of_the_incidents_services_touched() -> None:
    one = _suggest(_insight(services=["checkout"])).breadth
    assert one.score == 0.5 and "1 of the incident's 2 services" in one.reason
    both = _suggest(_insight(services=["checkout", "payments"])).breadth
    assert both.score == 1.0


def test_services_named_in_the_text_count_as_touched() -> None:
    named = _suggest(_insight("Payments retried every failed call.")).breadth
    assert named.score == 0.5
    assert _suggest(_insight("Retries amplified the outage.")).breadth.score is None


def test_breadth_beyond_the_incident_is_capped_at_one() -> None:
    wide = _suggest(_insight(services=["checkout", "payments", "db"])).breadth
    assert wide.score == 1.0 and "and 1 more" in wide.reason


def test_teams_weigh_in_when_the_catalogue_has_them() -> None:
    teams = {"checkout": "shop", "payments": "money"}
    suggested = _suggest(_insight(services=["checkout"]), teams=teams).breadth
    assert suggested.score == 0.5 and "1 of 2 teams" in suggested.reason
    one_team = {"checkout": "shop", "payments": "shop"}
    assert _suggest(_insight(services=["checkout"]), teams=one_team).breadth.score == 0.75
    outside = {**teams, "db": "data"}  # a team beyond the incident's is counted apart
    wide = _suggest(_insight(services=["checkout", "db"]), teams=outside).breadth
    assert "1 of 2 teams and 1 more" in wide.reason


def test_breadth_needs_the_incidents_services() -> None:
    suggested = _suggest(_insight(services=["checkout"]), incident=_incident(services=[])).breadth
    assert suggested.score is None and "no services" in suggested.reason


# relevance


def test_relevance_needs_a_person_unless_the_insight_led_to_an_accepted_signal() -> None:
    assert _suggest(_insight()).relevance.model_dump() == {
        "score": None,
        "reason": "needs a person",
    }
    accepted = _suggest(_insight(), signals=[_signal("accepted")]).relevance
    assert accepted.score is not None and accepted.score >= 0.8
    assert "1 accepted signal" in accepted.reason
    others = _suggest(_insight(), signals=[_signal("accepted", insight_id=12)]).relevance
    assert others.score is None
    proposed = _suggest(_insight(), signals=[_signal("proposed")]).relevance
    assert proposed.score is None and "none accepted" in proposed.reason


def test_every_score_is_in_range_and_every_axis_has_a_reason() -> None:
    insight = _recommendation(services=["checkout"], **_captured(RESOLVED + dt.timedelta(days=2)))
    suggestion = _suggest(insight, action_items=[_action(insight_position=1)])
    for axis in AXES:
        part = getattr(suggestion, axis)
        assert part.reason
        assert part.score is None or 0 <= part.score <= 1
    assert set(suggestion.scores()) == set(AXES)


def test_suggesting_does_not_touch_the_insights_rating() -> None:
    insight = _recommendation(services=["checkout"])
    before = insight.model_dump()
    _suggest(insight, action_items=[_action(insight_position=1)])
    assert insight.model_dump() == before
    assert insight.rubric.breadth is None and insight.rubric.actionability is None
