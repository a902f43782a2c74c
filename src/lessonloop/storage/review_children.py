"""A review's children on save: timeline rewritten, insights and action items kept by position.

New reviews get their children in one INSERT each; updates change rows in place so signal
provenance keeps pointing at the same insight and progress recorded outside the review file
(an action item's status) is never undone.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import ActionStatus
from lessonloop.domain.reviews import ReviewCreate, TimelineEvent
from lessonloop.storage.tables import ActionItemRow, InsightRow, SignalRow, TimelineEventRow

__all__ = ["replace_timeline", "sync_actions", "sync_insights"]


def replace_timeline(
    review_id: int, events: list[TimelineEvent], *, session: Session, fresh: bool
) -> list[dict[str, Any]]:
    """Write the timeline anew in one statement (a fresh review has none to delete).

    Returns the events' stored fields, in order.
    """
    if not fresh:
        session.execute(delete(TimelineEventRow).where(TimelineEventRow.review_id == review_id))
    stored = [
        {
            "at": event.at,
            "kind": event.kind.value,
            "marker": event.marker and event.marker.value,
            "actor": event.actor,
            "text": event.text,
            "source": event.source,
        }
        for event in events
    ]
    if stored:
        session.execute(
            insert(cast(Table, TimelineEventRow.__table__)),
            [
                {"review_id": review_id, "position": position, **fields}
                for position, fields in enumerate(stored)
            ],
        )
    return stored


def _insert_children(
    row_class: type[InsightRow] | type[ActionItemRow],
    rows: list[dict[str, Any]],
    *,
    session: Session,
) -> list[Any]:
    """A new review's insights or action items in one statement: the stored rows, in order."""
    if not rows:
        return []
    table = cast(Table, row_class.__table__)
    stored = session.execute(insert(table).returning(*table.c), rows)
    return sorted(stored, key=lambda row: int(row.position))


def sync_insights(
    review_id: int, data: ReviewCreate, *, session: Session, fresh: bool
) -> list[Any]:
    """Update insights in place by position so signal provenance keeps pointing at them."""
    if fresh:
        return _insert_children(
            InsightRow,
            [
                {"review_id": review_id, "position": position, **insight.model_dump(mode="json")}
                for position, insight in enumerate(data.insights)
            ],
            session=session,
        )
    existing = {
        row.position: row
        for row in session.scalars(select(InsightRow).where(InsightRow.review_id == review_id))
    }
    kept: list[InsightRow] = []
    for position, insight in enumerate(data.insights):
        values = insight.model_dump(mode="json")
        row = existing.pop(position, None)
        if row is None:
            row = InsightRow(review_id=review_id, position=position, **values)
            session.add(row)
        else:
            for key, value in values.items():
                setattr(row, key, value)
        kept.append(row)
    for row in existing.values():
        session.execute(
            update(SignalRow).where(SignalRow.insight_id == row.id).values(insight_id=None)
        )
        session.delete(row)
    return kept


def _new_action(review_id: int, position: int, item: ActionItemCreate) -> dict[str, Any]:
    """The stored fields of a new action item (one marked done is completed now)."""
    return {
        **item.model_dump(mode="json"),
        "due": item.due,
        "review_id": review_id,
        "position": position,
        "completed_at": utc_now() if item.status == ActionStatus.DONE else None,
        "outcome_evidence": {},
    }


def sync_actions(review_id: int, data: ReviewCreate, *, session: Session, fresh: bool) -> list[Any]:
    """Update action items by position; progress recorded outside the file is never undone."""
    if fresh:
        return _insert_children(
            ActionItemRow,
            [
                _new_action(review_id, position, item)
                for position, item in enumerate(data.action_items)
            ],
            session=session,
        )
    query = select(ActionItemRow).where(ActionItemRow.review_id == review_id)
    existing = {row.position: row for row in session.scalars(query)}
    kept: list[ActionItemRow] = []
    for position, item in enumerate(data.action_items):
        values = item.model_dump(mode="json")
        values["due"] = item.due
        row = existing.pop(position, None)
        if row is None:
            row = ActionItemRow(**_new_action(review_id, position, item))
            session.add(row)
            kept.append(row)
            continue
        if values["status"] == ActionStatus.OPEN.value and row.status != ActionStatus.OPEN.value:
            values["status"] = row.status
        for key, value in values.items():
            setattr(row, key, value)
        kept.append(row)
    for row in existing.values():
        session.delete(row)
    return kept
