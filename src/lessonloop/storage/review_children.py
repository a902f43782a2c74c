"""A review's children on save: timeline rewritten, insights matched by text then position,
action items kept by title.

New reviews get their children in one INSERT each; updates change rows in place so signal
provenance keeps pointing at the same insight, an action item's id stays with its title, and
progress recorded outside the review file (status, owner, due date, shipping, outcome) is
never undone. What each import took from the file for an action item is recorded as an
``action.import`` audit event: the next import compares with it to tell a field the file
changed from one changed elsewhere (docs/review-format.md, "Re-importing action items").
An insight keeps its rubric rating while its text stays the same; a rating that goes with a
changed or removed insight is recorded as an ``insight.rating_cleared`` audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.common import content_hash, utc_now
from lessonloop.domain.enums import ActionStatus
from lessonloop.domain.reviews import ReviewCreate, TimelineEvent
from lessonloop.storage import audit
from lessonloop.storage.insights import has_scores
from lessonloop.storage.tables import (
    ActionItemRow,
    AuditEventRow,
    InsightRow,
    SignalRow,
    TimelineEventRow,
)

__all__ = [
    "IMPORT_EVENT",
    "RATING_CLEARED_EVENT",
    "replace_timeline",
    "removed_insights",
    "sync_actions",
    "sync_insights",
]

IMPORT_EVENT = "action.import"
RATING_CLEARED_EVENT = "insight.rating_cleared"
IMPORT_ACTOR = "review import"
_FILE_FIELDS = tuple(ActionItemCreate.model_fields)
_DONE = ActionStatus.DONE.value
_OPEN = ActionStatus.OPEN.value
_ABSENT = "_absent"  # in an action.import event: the item was kept after its row went


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


def _text_key(text: str) -> str:
    """An insight's text as compared on re-import: case and runs of whitespace do not count."""
    return " ".join(text.split()).casefold()


def _clear_rating(row: InsightRow, reason: str, *, session: Session, actor: str) -> None:
    """Record that a stored rating goes (the caller replaces or deletes it)."""
    audit.record(
        session=session,
        actor=actor,
        action=RATING_CLEARED_EVENT,
        entity_type="insight",
        entity_id=row.id,
        before_hash=content_hash(row.rubric),
        details={
            "review_id": row.review_id,
            "position": row.position,
            "rubric": dict(row.rubric),
            "reason": reason,
        },
    )


def _kept_rubric(
    row: InsightRow, values: dict[str, Any], *, session: Session, actor: str
) -> dict[str, Any]:
    """The rubric a re-imported insight keeps.

    One the incoming insight carries wins; otherwise the stored one stays while the text is
    the same, and is cleared (recorded) when the text changed.
    """
    incoming: dict[str, Any] = values["rubric"]
    if has_scores(incoming) or not has_scores(row.rubric):
        return incoming
    if _text_key(row.text) == _text_key(values["text"]):
        return dict(row.rubric)
    _clear_rating(row, "text changed", session=session, actor=actor)
    return incoming


def _match_insights(
    existing: list[InsightRow], incoming: list[dict[str, Any]]
) -> list[InsightRow | None]:
    """The stored row each incoming insight updates: one with the same text first (wherever
    it stood); then, like a diff, the unmatched stored rows between the same two text-matched
    neighbours, in order (an edited insight); else none (a new one). So inserting, moving or
    editing insights keeps every other insight's id, signals and rating."""
    by_text: dict[str, list[InsightRow]] = {}
    for row in existing:  # in stored position order
        by_text.setdefault(_text_key(row.text), []).append(row)
    matched: list[InsightRow | None] = []
    for values in incoming:
        same = by_text.get(_text_key(values["text"]))
        matched.append(same.pop(0) if same else None)
    taken = {id(row) for row in matched if row is not None}
    free = [row for row in existing if id(row) not in taken]
    index = 0
    while index < len(matched):
        if matched[index] is not None:
            index += 1
            continue
        end = index
        while end < len(matched) and matched[end] is None:
            end += 1
        low = max((int(r.position) for r in matched[:index] if r is not None), default=-1)
        high = min(
            (int(r.position) for r in matched[end:] if r is not None), default=len(existing) + 1
        )
        between = [row for row in free if low < int(row.position) < high]
        for offset, row in _pair_gap(between, incoming, index, end):
            matched[offset] = row
            free.remove(row)
        index = end
    return matched


def _pair_gap(
    rows: list[InsightRow], incoming: list[dict[str, Any]], start: int, end: int
) -> list[tuple[int, InsightRow]]:
    """Pair a gap's stored rows with its incoming insights: in order when both sides have as
    many (edits in place), else each row with its most similar text (at least 0.5 alike)."""
    slots = list(range(start, end))
    if len(rows) == len(slots):
        return list(zip(slots, rows, strict=True))
    pairs: list[tuple[int, InsightRow]] = []
    for row in rows:
        scored = [
            (SequenceMatcher(None, _text_key(row.text), _text_key(incoming[i]["text"])).ratio(), i)
            for i in slots
        ]
        best = max(scored, default=(0.0, -1))
        if best[0] >= 0.5:
            pairs.append((best[1], row))
            slots.remove(best[1])
    return pairs


def removed_insights(review_id: int, data: ReviewCreate, *, session: Session) -> list[str]:
    """The texts of the stored insights saving `data` would delete: those it matches neither by
    text nor as an edit in place (the rules of `sync_insights`), in stored order."""
    existing = list(
        session.scalars(
            select(InsightRow)
            .where(InsightRow.review_id == review_id)
            .order_by(InsightRow.position)
        )
    )
    incoming = [{"text": insight.text} for insight in data.insights]
    kept = {id(row) for row in _match_insights(existing, incoming) if row is not None}
    return [row.text for row in existing if id(row) not in kept]


def sync_insights(
    review_id: int,
    data: ReviewCreate,
    *,
    session: Session,
    fresh: bool,
    actor: str = IMPORT_ACTOR,
) -> list[Any]:
    """Update insights in place, matched by text and then by position, so signal provenance
    keeps pointing at them.

    A stored rating survives while the insight's text stays the same (ignoring case and runs
    of whitespace), wherever it moves; one whose insight changed or went is cleared, with an
    audit event.
    """
    if fresh:
        return _insert_children(
            InsightRow,
            [
                {"review_id": review_id, "position": position, **insight.model_dump(mode="json")}
                for position, insight in enumerate(data.insights)
            ],
            session=session,
        )
    existing = list(
        session.scalars(
            select(InsightRow)
            .where(InsightRow.review_id == review_id)
            .order_by(InsightRow.position)
        )
    )
    incoming = [insight.model_dump(mode="json") for insight in data.insights]
    matched = _match_insights(existing, incoming)
    kept: list[InsightRow] = []
    for position, (values, found) in enumerate(zip(incoming, matched, strict=True)):
        if found is None:
            row = InsightRow(review_id=review_id, position=position, **values)
            session.add(row)
        else:
            row = found
            values["rubric"] = _kept_rubric(row, values, session=session, actor=actor)
            for key, value in values.items():
                setattr(row, key, value)
            row.position = position
        kept.append(row)
    used = {id(row) for row in matched if row is not None}
    for row in existing:
        if id(row) in used:
            continue
        if has_scores(row.rubric):
            _clear_rating(row, "insight removed", session=session, actor=actor)
        session.execute(
            update(SignalRow).where(SignalRow.insight_id == row.id).values(insight_id=None)
        )
        session.delete(row)
    return kept


def _new_action(
    review_id: int, position: int, item: ActionItemCreate, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The stored fields of a new action item (one marked done is completed `now`)."""
    return {
        **item.model_dump(mode="json"),
        "due": item.due,
        "review_id": review_id,
        "position": position,
        "completed_at": (now or utc_now()) if item.status == ActionStatus.DONE else None,
        "outcome_evidence": {},
    }


def _title_key(title: str) -> str:
    """A title as matched on re-import: case and runs of whitespace do not count."""
    return " ".join(title.split()).casefold()


def _legacy_values(row: ActionItemRow) -> dict[str, Any]:
    """What the file is assumed to have said when no import was recorded: the row, status open.

    (A file's 'open' then never reopens an item, as before imports were recorded.)
    """
    values = {name: getattr(row, name) for name in _FILE_FIELDS}
    values["due"] = row.due.isoformat() if row.due else None
    values["status"] = _OPEN
    return values


def _last_imports(rows: list[ActionItemRow], *, session: Session) -> dict[int, dict[str, Any]]:
    """Each item's fields as the file gave them at its last import (or the legacy guess)."""
    found: dict[int, dict[str, Any]] = {}
    if rows:
        query = (
            select(AuditEventRow.entity_id, AuditEventRow.details)
            .where(
                AuditEventRow.entity_type == "action_item",
                AuditEventRow.action == IMPORT_EVENT,
                AuditEventRow.entity_id.in_([str(row.id) for row in rows]),
            )
            .order_by(AuditEventRow.id)
        )
        found = {int(key): details.get("fields") for key, details in session.execute(query)}
    return {row.id: found.get(row.id) or _legacy_values(row) for row in rows}


def _record_imports(
    changes: Sequence[tuple[int, dict[str, Any] | None, dict[str, Any]]],
    *,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """One ``action.import`` audit event per item whose file fields are new or changed."""
    if not changes:
        return
    now = now or utc_now()
    session.execute(
        insert(cast(Table, AuditEventRow.__table__)),
        [
            {
                "at": now,
                "actor": actor,
                "action": IMPORT_EVENT,
                "entity_type": "action_item",
                "entity_id": str(item_id),
                "before_hash": content_hash(before) if before else None,
                "after_hash": content_hash(after),
                "details": {"fields": after},
            }
            for item_id, before, after in changes
        ],
    )


def _take(free: list[ActionItemRow], keys: dict[int, Any], wanted: Any) -> ActionItemRow | None:
    """Remove and return the first free row whose keys contain ``wanted`` (else None)."""
    row = next((row for row in free if wanted in keys[row.id]), None)
    if row is not None:
        free.remove(row)
    return row


def _match(
    items: list[ActionItemCreate], rows: list[ActionItemRow], before: dict[int, dict[str, Any]]
) -> tuple[list[ActionItemRow | None], list[ActionItemRow]]:
    """The stored item each file row continues (None: a new item), and the rows left over.

    Three passes, each over the items still free: a row written exactly as the last import
    left an item (title and every column; so two rows with one title keep their own items);
    then the same title (normalised; the stored title or the one the last import gave); then
    a rename: an item that was in the last import with every column but the title unchanged.
    Items kept only for their progress after their row went are never renamed into.
    """
    free = sorted(rows, key=lambda row: row.position)

    def others(fields: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if k not in ("title", _ABSENT)}

    exact = {
        row.id: [(_title_key(before[row.id]["title"]), others(before[row.id]))] for row in rows
    }
    titles = {row.id: {_title_key(row.title), _title_key(before[row.id]["title"])} for row in rows}
    renames = {
        row.id: [] if before[row.id].get(_ABSENT) else [others(before[row.id])] for row in rows
    }
    dumped = [item.model_dump(mode="json", exclude={"title"}) for item in items]
    matched = [
        _take(free, exact, (_title_key(item.title), rest))
        for item, rest in zip(items, dumped, strict=True)
    ]
    for index, item in enumerate(items):
        if matched[index] is None:
            matched[index] = _take(free, titles, _title_key(item.title))
    for index, rest in enumerate(dumped):
        if matched[index] is None:
            matched[index] = _take(free, renames, rest)
    return matched, free


def _merge(
    row: ActionItemRow, values: dict[str, Any], before: dict[str, Any], now: dt.datetime | None
) -> None:
    """Take from the file only the fields it changed since the last import."""
    status = row.status
    for name, value in values.items():
        if value != before.get(name):
            setattr(row, name, dt.date.fromisoformat(value) if name == "due" and value else value)
    if row.status != status:
        row.completed_at = (row.completed_at or now or utc_now()) if row.status == _DONE else None


def _has_progress(row: ActionItemRow) -> bool:
    """Whether an item carries progress: a status other than open, a shipping time or outcome."""
    return row.status != _OPEN or row.shipped_at is not None or row.outcome is not None


def sync_actions(
    review_id: int,
    data: ReviewCreate,
    *,
    session: Session,
    fresh: bool,
    actor: str = IMPORT_ACTOR,
    now: dt.datetime | None = None,
) -> list[Any]:
    """Update action items matched by title; progress recorded outside the file is never undone.

    Items the file no longer lists are deleted, unless they carry progress: those stay, after
    the file's items. Returns the review's items in order. ``now`` (default: the time of the
    run) is when the import happened: an item's completion and its ``action.import`` events.
    """
    if fresh:
        stored = _insert_children(
            ActionItemRow,
            [
                _new_action(review_id, position, item, now)
                for position, item in enumerate(data.action_items)
            ],
            session=session,
        )
        changes = [
            (row.id, None, item.model_dump(mode="json"))
            for row, item in zip(stored, data.action_items, strict=True)
        ]
        _record_imports(changes, session=session, actor=actor, now=now)
        return stored
    rows = list(session.scalars(select(ActionItemRow).where(ActionItemRow.review_id == review_id)))
    before = _last_imports(rows, session=session)
    matched, removed = _match(data.action_items, rows, before)
    kept: list[ActionItemRow] = []
    pending: list[tuple[ActionItemRow, dict[str, Any] | None, dict[str, Any]]] = []
    for position, (item, row) in enumerate(zip(data.action_items, matched, strict=True)):
        values = item.model_dump(mode="json")
        if row is None:
            row = ActionItemRow(**_new_action(review_id, position, item, now))
            session.add(row)
            pending.append((row, None, values))
        else:
            row.position = position
            _merge(row, values, before[row.id], now)
            if values != before[row.id]:
                pending.append((row, before[row.id], values))
        kept.append(row)
    for row in removed:
        if _has_progress(row):
            row.position = len(kept)
            kept.append(row)
            if not before[row.id].get(_ABSENT):  # remembered as no longer in the file
                pending.append((row, before[row.id], {**before[row.id], _ABSENT: True}))
        else:
            session.delete(row)
    session.flush()
    _record_imports(
        [(row.id, old, new) for row, old, new in pending], session=session, actor=actor, now=now
    )
    return kept
