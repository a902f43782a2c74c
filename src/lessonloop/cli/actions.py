"""``lessonloop actions``: track action items across reviews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from lessonloop.cli.common import console, handle_errors, print_json, print_table, workspace
from lessonloop.domain.actions import ActionItemUpdate
from lessonloop.domain.enums import ActionStatus
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
                f"[red]{a.due}[/]"
                if a.due
                and a.due < today
                and a.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)
                else a.due,
                a.status.value,
            )
            for a in found
        ],
    )


@app.command("update")
@handle_errors
def update(
    action_id: int,
    status: Annotated[ActionStatus | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    due: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
) -> None:
    """Change an action item's status, owner or due date."""
    changes: dict[str, object] = {}
    if status is not None:
        changes["status"] = status
    if owner is not None:
        changes["owner"] = owner
    if due is not None:
        changes["due"] = due
    item = actions.update_action_item(
        workspace(), action_id, ActionItemUpdate.model_validate(changes)
    )
    console.print(
        f"action {item.id} ({item.title}): {item.status.value}, owner {item.owner}, due {item.due}"
    )
