"""``lessonloop roles`` (who may change what) and ``lessonloop audit`` (who changed what)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    console,
    handle_errors,
    moment,
    print_json,
    print_table,
    workspace,
)
from lessonloop.domain.access import ROLE_PERMISSIONS
from lessonloop.services import access, audit_trail

app = typer.Typer(
    help="Roles: who may change what in a shared workspace (open until the first grant).",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit trail).")]


@app.command("grant")
@handle_errors
def grant(name: str, role: str, reason: Reason = "") -> None:
    """Grant ROLE to NAME (the first grant must be admin; after it, only admins grant)."""
    ws = workspace()
    first = not access.list_roles(ws).enforced
    granted = access.grant_role(ws, name, access.parse_role(role), reason=reason)
    console.print(f"[green]granted[/] {granted.role.value} to {escape(granted.person)}")
    if first:
        console.print("roles are now in force: every change checks who acts")
        if not access.list_roles(ws, ws.actor).grants:
            console.print(
                f"[yellow]warning:[/] {escape(ws.actor)} holds no role and can now only read; "
                "act as "
                f"{escape(granted.person)} (--actor or LESSONLOOP_ACTOR) to grant more roles"
            )


@app.command("revoke")
@handle_errors
def revoke(name: str, role: str, reason: Reason = "") -> None:
    """Revoke ROLE from NAME (admins only; the last admin keeps the role)."""
    parsed = access.parse_role(role)
    access.revoke_role(workspace(), name, parsed, reason=reason)
    console.print(f"[green]revoked[/] {parsed.value} from {escape(name)}")


@app.command("list")
@handle_errors
def list_(
    name: Annotated[str | None, typer.Option("--person", help="Only this person's roles.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every grant, and whether roles are in force."""
    overview = access.list_roles(workspace(), name)
    if as_json:
        print_json({"enforced": overview.enforced, "grants": overview.grants})
        return
    if not overview.enforced:
        console.print("No roles granted: the workspace is open (anyone may change anything).")
    print_table(
        "Roles",
        ["person", "role", "allows", "granted by", "at", "reason"],
        [
            (
                g.person,
                g.role.value,
                ", ".join(sorted(p.value for p in ROLE_PERMISSIONS[g.role])) or "read",
                g.granted_by,
                g.granted_at.strftime("%Y-%m-%d %H:%M"),
                g.reason,
            )
            for g in overview.grants
        ],
    )


@handle_errors
def audit(
    entity: Annotated[
        str | None, typer.Option(help="TYPE or TYPE:ID, e.g. review, model_version:3.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--by", help="Only this actor's events.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Action or its prefix, e.g. review. or role.grant.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this date or time (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this date or time (UTC).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events, newest first.")] = 200,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The audit trail: who changed what, when, with content hashes before and after."""
    events = audit_trail.audit_trail(
        workspace(),
        entity=entity,
        actor=actor,
        action=action,
        since=moment(since, "--since"),
        until=moment(until, "--until"),
        limit=limit,
    )
    if as_json:
        print_json(events)
        return
    print_table(
        "Audit trail (newest first)",
        ["id", "at", "actor", "action", "entity", "before", "after", "details"],
        [
            (
                e.id,
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.action,
                f"{e.entity_type}:{e.entity_id}",
                (e.before_hash or "")[:10],
                (e.after_hash or "")[:10],
                ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))[:80],
            )
            for e in events
        ],
    )


def register(root: typer.Typer) -> None:
    """Mount the top-level ``audit`` command on the root application."""
    root.command("audit")(audit)
