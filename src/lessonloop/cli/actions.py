"""``lessonloop actions``: track action items across reviews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from lessonloop.cli.common import console, handle_errors, print_json, print_table, workspace
from lessonloop.domain.actions import ActionItemUpdate
from lessonloop.domain.enums import ActionStatus
from lessonloop.errors import InputError
from lessonloop.services import actions

app = typer.Typer(help="List and update action items.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_(
    owner: Annotated[str | None, typer.Option()] = None,
    status: Annotated[ActionStatus | None, typer.Option()] = None,
    overdue: Annotated[bool, typer.Option(help="Only open items past their due date.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List action items, soonest due first."""
    found = actions.list_action_items(
        workspace(), owner=owner, status=status.value if status else None, overdue=overdue
    )
    if as_json:
        print_json(found)
        return
    today = dt.date.today()
    print_table(
        "Action items",
        ["id", "incident", "title", "type", "owner", "due", "status"],
        [
            (
                a.id,
                a.incident_key,
                a.title,
                a.type.value,
                a.owner,
                Text(str(a.due), style="red")
                if a.due
                and a.due < today
                and a.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
                else a.due,
                a.status.value,
            )
            for a in found
        ],
    )


def _moment(text: str) -> dt.datetime:
    """'now' or an ISO 8601 date/time; naive times are UTC."""
    if text.strip().lower() == "now":
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"not a time: {text!r} (ISO 8601, e.g. 2026-03-02T10:00Z, or 'now')", field="--shipped"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@app.command("update")
@handle_errors
def update(
    action_id: int,
    status: Annotated[ActionStatus | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    due: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    shipped: Annotated[str | None, typer.Option(
        help="When the change reached production: ISO 8601 (UTC if no offset) or 'now'. "
        "'lessonloop outcomes check' measures its effect from then.")] = None,
) -> None:
    """Change an action item's status, owner, due date or shipping time."""
    changes: dict[str, object] = {}
    if shipped is not None:
        changes["shipped_at"] = _moment(shipped)
    if status is not None:
        changes["status"] = status
    if owner is not None:
        changes["owner"] = owner
    if due is not None:
        changes["due"] = due
    item = actions.update_action_item(
        workspace(), action_id, ActionItemUpdate.model_validate(changes)
    )
    shipped_note = f", shipped {item.shipped_at:%Y-%m-%d %H:%M}Z" if item.shipped_at else ""
    console.print(
        f"action {item.id} ({escape(item.title)}): {item.status.value}, "
        f"owner {escape(str(item.owner))}, "
        f"due {item.due}{shipped_note}"
    )
