"""Reviews with their timeline, insights and action items: get, list, save (upsert), transition."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal, cast

from sqlalchemy import Row, Select, Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from lessonloop.domain.actions import ActionItemRead
from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.enums import ReviewStatus
from lessonloop.domain.insights import InsightRead
from lessonloop.domain.reviews import ReviewCreate, ReviewRead, ReviewSummary
from lessonloop.errors import Conflict, NotFound
from lessonloop.storage import audit
from lessonloop.storage.incidents import get_row as get_incident_row
from lessonloop.storage.review_children import replace_timeline, sync_actions, sync_insights
from lessonloop.storage.tables import (
    ActionItemRow,
    IncidentRow,
    InsightRow,
    ReviewRow,
    TimelineEventRow,
)

__all__ = [
    "list_full",
    "get",
    "get_by_incident",
    "list_reviews",
    "save",
    "exists_for_incident",
    "transition",
    "review_hash",
    "action_to_read",
    "WORKFLOW",
]

SaveOutcome = Literal["created", "updated", "unchanged"]

WORKFLOW: dict[ReviewStatus, ReviewStatus] = {
    ReviewStatus.DRAFT: ReviewStatus.IN_REVIEW,
    ReviewStatus.IN_REVIEW: ReviewStatus.APPROVED,
    ReviewStatus.APPROVED: ReviewStatus.PUBLISHED,
}

_TIMELINE_FIELDS = ("at", "kind", "marker", "actor", "text", "source")

_SCALARS = (
    "template",
    "template_version",
    "title",
    "authors",
    "participants",
    "summary",
    "impact",
    "detection",
    "contributing_factors",
    "went_well",
    "went_wrong",
    "got_lucky",
    "extra_sections",
)


def _keep_event_sources(review_id: int, data: ReviewCreate, *, session: Session) -> ReviewCreate:
    """A review file has no source column: its events arrive as ``review``. An event still at
    the time and with the text of a stored one from another source (PagerDuty, chat) keeps
    that source, so the source's next import recognises it instead of adding it again."""
    stored = {
        (at, text): source
        for at, text, source in session.execute(
            select(TimelineEventRow.at, TimelineEventRow.text, TimelineEventRow.source).where(
                TimelineEventRow.review_id == review_id
            )
        )
        if source != "review"
    }
    if not stored:
        return data
    timeline = [
        event.model_copy(update={"source": stored[(event.at, event.text)]})
        if event.source == "review" and (event.at, event.text) in stored
        else event
        for event in data.timeline
    ]
    return data.model_copy(update={"timeline": timeline})


def review_hash(data: ReviewCreate) -> str:
    """Content hash of everything a reviewer wrote (not where the file lives)."""
    return content_hash(data.model_dump(mode="json", exclude={"source_file"}))


def action_to_read(row: ActionItemRow | Row[Any], incident_key: str) -> ActionItemRead:
    return ActionItemRead.model_validate(
        {
            "id": row.id,
            "review_id": row.review_id,
            "incident_key": incident_key,
            "position": row.position,
            "title": row.title,
            "type": row.type,
            "owner": row.owner,
            "due": row.due,
            "priority": row.priority,
            "status": row.status,
            "external_link": row.external_link,
            "expected_effect": row.expected_effect,
            "insight_position": row.insight_position,
            "completed_at": row.completed_at,
            "shipped_at": row.shipped_at,
            "outcome": row.outcome,
            "outcome_evidence": row.outcome_evidence,
        }
    )


def _to_read(row: ReviewRow, *, session: Session) -> ReviewRead:
    incident_key = session.scalar(select(IncidentRow.key).where(IncidentRow.id == row.incident_id))
    timeline = session.execute(
        select(*(getattr(TimelineEventRow, name) for name in _TIMELINE_FIELDS))
        .where(TimelineEventRow.review_id == row.id)
        .order_by(TimelineEventRow.position)
    )
    insights = session.scalars(
        select(InsightRow).where(InsightRow.review_id == row.id).order_by(InsightRow.position)
    )
    actions = session.scalars(
        select(ActionItemRow)
        .where(ActionItemRow.review_id == row.id)
        .order_by(ActionItemRow.position)
    )
    return _assemble(
        row,
        incident_key or "",
        [dict(event._mapping) for event in timeline],
        list(insights),
        list(actions),
    )


def _assemble(
    row: ReviewRow | Row[Any],
    incident_key: str,
    timeline: list[dict[str, Any]],
    insights: Sequence[InsightRow | Row[Any]],
    actions: Sequence[ActionItemRow | Row[Any]],
) -> ReviewRead:
    """A ReviewRead from rows already at hand (children in position order)."""
    data: dict[str, Any] = {name: getattr(row, name) for name in _SCALARS}
    data.update(
        id=row.id,
        incident_key=incident_key,
        status=row.status,
        decision_points=row.decision_points,
        alert_notes=row.alert_notes,
        signal_blocks=row.signal_blocks,
        source_file=row.source_file,
        content_hash=row.content_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status_changed_at=row.status_changed_at,
        status_changed_by=row.status_changed_by,
        published_at=row.published_at,
        timeline=timeline,
        insights=[
            InsightRead.model_validate(
                {
                    "id": i.id,
                    "review_id": i.review_id,
                    "position": i.position,
                    "kind": i.kind,
                    "text": i.text,
                    "category": i.category,
                    "provenance": i.provenance,
                    "confidence": i.confidence,
                    "services": i.services,
                    "tags": i.tags,
                    "rubric": i.rubric,
                    "human_factor": i.human_factor,
                }
            )
            for i in insights
        ],
        action_items=[action_to_read(a, incident_key) for a in actions],
    )
    return ReviewRead.model_validate(data)


def list_full(*, session: Session) -> list[ReviewRead]:
    """Every review with its timeline, insights and action items, in four queries (for
    reports over the whole workspace; ``get`` reads one)."""
    rows = session.execute(
        select(ReviewRow, IncidentRow.key).join(
            IncidentRow, IncidentRow.id == ReviewRow.incident_id
        )
    ).all()
    timeline: dict[int, list[dict[str, Any]]] = {}
    for event in session.execute(
        select(
            TimelineEventRow.review_id, *(getattr(TimelineEventRow, n) for n in _TIMELINE_FIELDS)
        ).order_by(TimelineEventRow.review_id, TimelineEventRow.position)
    ):
        values = dict(event._mapping)
        timeline.setdefault(values.pop("review_id"), []).append(values)
    insights: dict[int, list[InsightRow]] = {}
    for insight in session.scalars(select(InsightRow).order_by(InsightRow.position)):
        insights.setdefault(insight.review_id, []).append(insight)
    actions: dict[int, list[ActionItemRow]] = {}
    for item in session.scalars(select(ActionItemRow).order_by(ActionItemRow.position)):
        actions.setdefault(item.review_id, []).append(item)
    return [
        _assemble(
            row, key, timeline.get(row.id, []), insights.get(row.id, []), actions.get(row.id, [])
        )
        for row, key in rows
    ]


def get(review_id: int, *, session: Session) -> ReviewRead:
    row = session.get(ReviewRow, review_id)
    if row is None:
        raise NotFound(f"unknown review {review_id}")
    return _to_read(row, session=session)


def get_by_incident(incident_key: str, *, session: Session) -> ReviewRead | None:
    incident = get_incident_row(incident_key, session=session)
    row = session.scalar(select(ReviewRow).where(ReviewRow.incident_id == incident.id))
    return None if row is None else _to_read(row, session=session)


def list_reviews(*, session: Session, status: str | None = None) -> list[ReviewSummary]:
    insight_count = (
        select(func.count(InsightRow.id))
        .where(InsightRow.review_id == ReviewRow.id)
        .scalar_subquery()
    )
    action_count = (
        select(func.count(ActionItemRow.id))
        .where(ActionItemRow.review_id == ReviewRow.id)
        .scalar_subquery()
    )
    query = (
        select(ReviewRow, IncidentRow.key, insight_count, action_count)
        .join(IncidentRow, IncidentRow.id == ReviewRow.incident_id)
        .order_by(IncidentRow.started_at, ReviewRow.id)
    )
    if status:
        query = query.where(ReviewRow.status == status)
    return [
        ReviewSummary(
            id=row.id,
            incident_key=key,
            title=row.title,
            status=row.status,
            insights=n_insights,
            action_items=n_actions,
            updated_at=row.updated_at,
        )
        for row, key, n_insights, n_actions in session.execute(query)
    ]


def exists_for_incident(incident_key: str, *, session: Session) -> bool:
    """Whether the incident has a review (one indexed query; the incident must exist)."""
    incident = get_incident_row(incident_key, session=session)
    found = session.scalar(select(ReviewRow.id).where(ReviewRow.incident_id == incident.id))
    return found is not None


@cache
def _by_incident() -> Select[ReviewRow]:
    """The review of incident ``:incident_id`` (built once: saved per imported file)."""
    return select(ReviewRow).where(ReviewRow.incident_id == bindparam("incident_id"))


def save(
    data: ReviewCreate,
    *,
    session: Session,
    actor: str,
    incident_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[ReviewRead, SaveOutcome]:
    """Create the incident's review, or update it in place (re-import never duplicates).

    ``incident_id`` (of ``data.incident_key``, when the caller has it) saves a lookup. The
    returned review is assembled from the rows just written (no read-back queries). ``now``
    (default: the time of the run) is when it is stored, in its rows and audit events.
    """
    if incident_id is None:
        incident_id = get_incident_row(data.incident_key, session=session).id
    row = session.scalar(_by_incident(), {"incident_id": incident_id})
    if row is not None:
        data = _keep_event_sources(row.id, data, session=session)
    digest = review_hash(data)
    now = now or utc_now()
    values: dict[str, Any] = {name: getattr(data, name) for name in _SCALARS}
    values.update(
        decision_points=[d.model_dump(mode="json") for d in data.decision_points],
        alert_notes=[a.model_dump(mode="json") for a in data.alert_notes],
        signal_blocks=data.signal_blocks,
        source_file=data.source_file,
    )
    if row is not None and row.content_hash == digest:
        if data.source_file and row.source_file != data.source_file:
            row.source_file = data.source_file
        return _to_read(row, session=session), "unchanged"
    fresh = row is None
    stored: ReviewRow | Row[Any]
    if row is None:
        # a new review and its children go in as plain INSERTs (no unit-of-work bookkeeping)
        table = cast(Table, ReviewRow.__table__)
        stored = session.execute(
            insert(table).returning(*table.c),
            {
                "incident_id": incident_id,
                "status": ReviewStatus.DRAFT.value,
                "content_hash": digest,
                "created_at": now,
                "updated_at": now,
                "status_changed_at": now,
                "status_changed_by": actor,
                **values,
            },
        ).one()
        outcome: SaveOutcome = "created"
        before = None
    else:
        before = row.content_hash
        for key, value in values.items():
            setattr(row, key, value)
        row.content_hash = digest
        row.updated_at = now
        stored = row
        outcome = "updated"
    timeline = replace_timeline(stored.id, data.timeline, session=session, fresh=fresh)
    insights = sync_insights(stored.id, data, session=session, fresh=fresh, actor=actor)
    actions = sync_actions(stored.id, data, session=session, fresh=fresh, actor=actor, now=now)
    action = "review.create" if before is None else "review.update"
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="review",
        entity_id=stored.id,
        before_hash=before,
        after_hash=digest,
        details={"incident": data.incident_key},
        at=now,
    )
    session.flush()
    return _assemble(stored, data.incident_key, timeline, insights, actions), outcome


def transition(
    review_id: int,
    target: ReviewStatus,
    *,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> ReviewRead:
    """Move a review one step along draft → in review → approved → published, at `now`
    (default: the time of the run)."""
    row = session.get(ReviewRow, review_id)
    if row is None:
        raise NotFound(f"unknown review {review_id}")
    current = ReviewStatus(row.status)
    if WORKFLOW.get(current) != target:
        raise Conflict(
            f"review {review_id} is '{current.value}'; it cannot move to "
            f"'{target.value}' (next step: "
            f"{WORKFLOW[current].value if current in WORKFLOW else 'none'})"
        )
    now = now or utc_now()
    row.status = target.value
    row.status_changed_at = now
    row.status_changed_by = actor
    if target == ReviewStatus.PUBLISHED:
        row.published_at = now
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=f"review.{target.value.replace(' ', '_')}",
        entity_type="review",
        entity_id=review_id,
        before_hash=row.content_hash,
        after_hash=row.content_hash,
        details={"from": current.value, "to": target.value},
        at=now,
    )
    return _to_read(row, session=session)
