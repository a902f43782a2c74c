"""Insights across reviews: get, list with their incident, and rate on the quality rubric.

Insights are written with their review (``storage/review_children.py``); this module reads them
and changes the one thing a person sets outside the review file: the rubric rating.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.insights import InsightRead, QualityRubric
from lessonloop.errors import NotFound
from lessonloop.storage import audit
from lessonloop.storage.tables import IncidentRow, InsightRow, ReviewRow

__all__ = ["RUBRIC_AXES", "RATE_EVENT", "get", "has_scores", "list_insights", "rate", "to_read"]

RUBRIC_AXES = ("relevance", "timeliness", "breadth", "actionability")
RATE_EVENT = "insight.rate"


def has_scores(rubric: dict[str, Any] | None) -> bool:
    """Whether a stored rubric carries a score on any axis."""
    return any((rubric or {}).get(axis) is not None for axis in RUBRIC_AXES)


def to_read(row: InsightRow) -> InsightRead:
    return InsightRead.model_validate(
        {
            "id": row.id,
            "review_id": row.review_id,
            "position": row.position,
            "kind": row.kind,
            "text": row.text,
            "category": row.category,
            "provenance": row.provenance,
            "confidence": row.confidence,
            "services": row.services,
            "tags": row.tags,
            "rubric": row.rubric or {},
            "human_factor": row.human_factor,
        }
    )


def _query() -> Select[InsightRow, str]:
    return (
        select(InsightRow, IncidentRow.key)
        .join(ReviewRow, ReviewRow.id == InsightRow.review_id)
        .join(IncidentRow, IncidentRow.id == ReviewRow.incident_id)
    )


def get(insight_id: int, *, session: Session) -> tuple[InsightRead, str]:
    """The insight and its incident's key."""
    found = session.execute(_query().where(InsightRow.id == insight_id)).first()
    if found is None:
        raise NotFound(f"unknown insight {insight_id}")
    return to_read(found[0]), found[1]


def list_insights(
    *, session: Session, incident_key: str | None = None, kind: str | None = None
) -> list[tuple[InsightRead, str]]:
    """Insights with their incident's key, by incident start, then position in the review."""
    query = _query().order_by(IncidentRow.started_at, IncidentRow.id, InsightRow.position)
    if incident_key is not None:
        query = query.where(IncidentRow.key == incident_key)
    if kind is not None:
        query = query.where(InsightRow.kind == kind)
    return [(to_read(row), key) for row, key in session.execute(query)]


def rate(
    insight_id: int,
    scores: dict[str, float],
    *,
    session: Session,
    actor: str,
    details: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> tuple[InsightRead, str]:
    """Store the given axes (the others keep their scores), who rated and when; audited."""
    row = session.get(InsightRow, insight_id)
    if row is None:
        raise NotFound(f"unknown insight {insight_id}")
    before, incident_key = get(insight_id, session=session)
    now = now or utc_now()
    rubric = QualityRubric.model_validate(
        {**before.rubric.model_dump(), **scores, "rated_by": actor, "rated_at": now}
    )
    row.rubric = rubric.model_dump(mode="json")
    session.flush()
    after = to_read(row)
    audit.record(
        session=session,
        actor=actor,
        action=RATE_EVENT,
        entity_type="insight",
        entity_id=insight_id,
        before_hash=content_hash(before.model_dump(mode="json")),
        after_hash=content_hash(after.model_dump(mode="json")),
        details={
            "review_id": row.review_id,
            "position": row.position,
            "scores": scores,
            **(details or {}),
        },
        at=now,
    )
    return after, incident_key
