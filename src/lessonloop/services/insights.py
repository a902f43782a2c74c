"""Use cases for insights: list across reviews, show with suggested rubric scores, rate.

A rating is what a person set; suggestions (``signals/rubric.py``) are heuristics shown beside
it and stored only when a person accepts them (``accept_suggested``).
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy.orm import Session

from lessonloop.domain.access import Permission
from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import InsightKind
from lessonloop.domain.insights import InsightRead
from lessonloop.errors import InputError
from lessonloop.services.access import require
from lessonloop.services.workspace import Workspace
from lessonloop.signals.rubric import AXES, RubricSuggestion, suggest_rubric
from lessonloop.storage import incidents, reviews, services, signals
from lessonloop.storage import insights as store

__all__ = ["IncidentInsight", "InsightDetail", "list_insights", "rate_insight", "show_insight"]


class IncidentInsight(InsightRead):
    """An insight with the key of the incident its review is about."""

    incident_key: str


class InsightDetail(IncidentInsight):
    """An insight, its stored rating (``rubric``) and the suggested scores beside it."""

    suggested: RubricSuggestion


def _entry(insight: InsightRead, incident_key: str) -> IncidentInsight:
    return IncidentInsight.model_validate({**insight.model_dump(), "incident_key": incident_key})


def _kind(value: InsightKind | str) -> InsightKind:
    try:
        return InsightKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in InsightKind)
        raise InputError(f"unknown kind {value!r}; kinds are {kinds}", field="kind") from None


def list_insights(
    ws: Workspace,
    *,
    incident: str | None = None,
    unrated: bool = False,
    kind: InsightKind | str | None = None,
) -> list[IncidentInsight]:
    """Insights by incident and position; only those nobody rated yet with ``unrated``."""
    kind_value = _kind(kind).value if kind is not None else None
    with ws.transaction() as session:
        if incident is not None:
            incidents.get_row(incident, session=session)  # NotFound for an unknown key
        found = store.list_insights(session=session, incident_key=incident, kind=kind_value)
    return [
        _entry(insight, key)
        for insight, key in found
        if not (unrated and store.has_scores(insight.rubric.model_dump()))
    ]


def _suggest(
    insight: InsightRead, incident_key: str, *, session: Session, now: dt.datetime
) -> RubricSuggestion:
    review = reviews.get(insight.review_id, session=session)
    return suggest_rubric(
        insight,
        incident=incidents.get(incident_key, session=session),
        review=review,
        action_items=review.action_items,
        now=now,
        signals=signals.list_signals(session=session, review_id=review.id),
        teams={s.name: s.team for s in services.list_services(session=session)},
    )


def show_insight(
    ws: Workspace, insight_id: int, *, now: dt.datetime | None = None
) -> InsightDetail:
    """The insight with its stored rating and the suggested scores, each with its reason."""
    with ws.transaction() as session:
        insight, key = store.get(insight_id, session=session)
        suggested = _suggest(insight, key, session=session, now=now or utc_now())
    return InsightDetail.model_validate(
        {**insight.model_dump(), "incident_key": key, "suggested": suggested.model_dump()}
    )


def _checked(name: str, value: float) -> float:
    if math.isnan(value) or not 0 <= value <= 1:
        raise InputError(f"a score is from 0 to 1, not {value}", field=name)
    return float(value)


def rate_insight(
    ws: Workspace,
    insight_id: int,
    *,
    relevance: float | None = None,
    timeliness: float | None = None,
    breadth: float | None = None,
    actionability: float | None = None,
    note: str | None = None,
    accept_suggested: bool = False,
    now: dt.datetime | None = None,
) -> IncidentInsight:
    """Store the given scores (other axes keep theirs), with who rated and when; audited.

    ``accept_suggested`` fills the axes not given from the suggestions that have a score.
    """
    given = {"relevance": relevance, "timeliness": timeliness}
    given |= {"breadth": breadth, "actionability": actionability}
    scores = {name: _checked(name, value) for name, value in given.items() if value is not None}
    if not scores and not accept_suggested:
        raise InputError(
            "give at least one score (relevance, timeliness, breadth or actionability)",
            field="rubric",
        )
    require(ws, Permission.REVIEW, "rate insights")
    moment = now or utc_now()
    with ws.transaction() as session:
        insight, key = store.get(insight_id, session=session)
        accepted: list[str] = []
        if accept_suggested:
            suggested = _suggest(insight, key, session=session, now=moment).scores()
            accepted = [a for a in AXES if a not in scores and suggested[a] is not None]
            scores |= {axis: float(suggested[axis] or 0) for axis in accepted}
        if not scores:
            raise InputError(
                "no score given and no suggestion to accept: every suggested score is empty",
                field="rubric",
            )
        details = {"note": note, "accepted_suggestions": accepted}
        rated, key = store.rate(
            insight_id, scores, session=session, actor=ws.actor, details=details, now=moment
        )
    return _entry(rated, key)
