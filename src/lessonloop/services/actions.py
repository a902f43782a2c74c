"""Use cases for action items: list across reviews, update status or owner, find the ones a
model ships."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from lessonloop.domain.access import Permission
from lessonloop.domain.actions import ActionItemRead, ActionItemUpdate
from lessonloop.domain.enums import ActionType, SignalKind
from lessonloop.domain.signals import SignalRead
from lessonloop.services.access import require
from lessonloop.services.import_redaction import person_token
from lessonloop.services.workspace import Workspace
from lessonloop.storage import actions

__all__ = ["detect_actions", "list_action_items", "update_action_item"]


def list_action_items(
    ws: Workspace,
    *,
    owner: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    today: dt.date | None = None,
) -> list[ActionItemRead]:
    owners = {owner.strip(), person_token(ws.settings, owner)} if owner and owner.strip() else None
    with ws.transaction() as session:
        return actions.list_actions(
            session=session,
            owner=owners,
            status=status,
            overdue_on=(today or dt.date.today()) if overdue else None,
        )


def update_action_item(
    ws: Workspace, action_id: int, data: ActionItemUpdate, *, now: dt.datetime | None = None
) -> ActionItemRead:
    """Change an item's fields at `now` (default: the time of the run): its completion time
    when it becomes done, and the audit event."""
    require(ws, Permission.CONTRIBUTE, "update action items")
    with ws.transaction() as session:
        return actions.update_action(action_id, data, session=session, actor=ws.actor, now=now)


def detect_actions(
    ws: Workspace, accepted: Mapping[SignalKind, list[SignalRead]], used: set[int]
) -> list[int]:
    """The "detect" action items of the reviews whose signals the model learned from.

    Promoting the model ships them (``lessonloop outcomes check`` then measures their effect),
    unless an item already records its own shipping time.
    """
    reviews = {
        s.provenance.review_id
        for group in accepted.values()
        for s in group
        if s.id in used and s.provenance.review_id is not None
    }
    return sorted(
        item.id
        for item in list_action_items(ws)
        if item.review_id in reviews and item.type == ActionType.DETECT
    )
