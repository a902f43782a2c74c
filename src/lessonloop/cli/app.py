"""The ``lessonloop`` command line: parse, call one service function, render."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lessonloop import __version__
from lessonloop.cli import LazyGroup
from lessonloop.cli.common import (
    console,
    handle_errors,
    moment,
    print_json,
    print_table,
    progress_bar,
    say_warning,
    settings,
    state,
    workspace,
)
from lessonloop.domain.enums import Severity
from lessonloop.domain.incidents import IncidentCreate
from lessonloop.domain.services import ServiceCreate
from lessonloop.services import catalog, portability
from lessonloop.services.workspace import init_workspace

app = typer.Typer(
    name="lessonloop",
    help="Learn from incidents: structured reviews, learning signals, better AIOps models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)
services_app = typer.Typer(help="Register services and their dependencies.", no_args_is_help=True)
incidents_app = typer.Typer(help="Create, list and show incidents.", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(incidents_app, name="incidents")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripting.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"lessonloop {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Annotated[str | None, typer.Option(help="Workspace folder (LESSONLOOP_HOME).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Database URL (LESSONLOOP_DATABASE_URL).")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Who is acting, for the audit trail (LESSONLOOP_ACTOR).")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    """Global options; every LESSONLOOP_* setting can also be given in the environment."""
    state.home, state.database_url, state.actor = home, database_url, actor
    state._settings = None


@app.command()
@handle_errors
def init() -> None:
    """Create the workspace (SQLite by default; PostgreSQL with --database-url)."""
    ws = init_workspace(settings())
    url = ws.settings.resolved_database_url
    where = url.split("@")[-1] if ws.dialect != "sqlite" else url.split("///", 1)[-1]
    console.print(
        f"[green]workspace ready[/] at {escape(str(ws.settings.home))} "
        f"({ws.dialect}: {escape(where)})"
    )


@services_app.command("add")
@handle_errors
def services_add(
    name: str,
    tier: Annotated[int, typer.Option(min=1, max=3)] = 2,
    team: str | None = None,
    owner: str | None = None,
    domain: str | None = None,
    depends_on: Annotated[list[str] | None, typer.Option("--depends-on")] = None,
) -> None:
    """Register a service."""
    created = catalog.add_service(
        workspace(),
        ServiceCreate(
            name=name, tier=tier, team=team, owner=owner, domain=domain, depends_on=depends_on or []
        ),
    )
    console.print(f"[green]added[/] service {escape(created.name)} (tier {created.tier})")


@services_app.command("list")
@handle_errors
def services_list(as_json: JsonOpt = False) -> None:
    """List services with their tier, team and dependencies."""
    found = catalog.list_services(workspace())
    if as_json:
        print_json(found)
        return
    print_table(
        "Services",
        ["name", "tier", "team", "owner", "depends on"],
        [(s.name, s.tier, s.team, s.owner, ", ".join(s.depends_on)) for s in found],
    )


@services_app.command("deps")
@handle_errors
def services_deps(service: str, depends_on: Annotated[list[str], typer.Argument()]) -> None:
    """Record that SERVICE depends on each of DEPENDS_ON."""
    ws = workspace()
    for target in depends_on:
        result = catalog.add_dependency(ws, service, target)
    console.print(f"{escape(service)} depends on {escape(', '.join(result.depends_on))}")


def _parse_time(value: str | None, field: str) -> dt.datetime | None:
    from lessonloop.errors import InputError

    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not an ISO 8601 time: {value!r}", field=field) from exc
    if parsed.tzinfo is None:
        raise InputError(f"time needs a UTC offset or Z: {value!r}", field=field)
    return parsed


@incidents_app.command("create")
@handle_errors
def incidents_create(
    key: str,
    title: Annotated[str, typer.Option()],
    started_at: Annotated[str, typer.Option(help="ISO 8601 with offset, e.g. 2026-03-02T10:12Z")],
    severity: Annotated[Severity, typer.Option()] = Severity.SEV3,
    service: Annotated[list[str] | None, typer.Option("--service")] = None,
    detected_at: str | None = None,
    mitigated_at: str | None = None,
    resolved_at: str | None = None,
    summary: str = "",
) -> None:
    """Create an incident."""
    data = IncidentCreate(
        key=key,
        title=title,
        severity=severity,
        services=service or [],
        started_at=_parse_time(started_at, "started_at") or dt.datetime.now(dt.UTC),
        detected_at=_parse_time(detected_at, "detected_at"),
        mitigated_at=_parse_time(mitigated_at, "mitigated_at"),
        resolved_at=_parse_time(resolved_at, "resolved_at"),
        summary=summary,
    )
    created = catalog.create_incident(workspace(), data)
    console.print(f"[green]created[/] incident {escape(created.key)}")


@incidents_app.command("list")
@handle_errors
def incidents_list(
    service: str | None = None,
    severity: Severity | None = None,
    since: Annotated[
        str | None, typer.Option(help="Started on or after this date or time (UTC).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, oldest first."""
    found = catalog.list_incidents(
        workspace(),
        service=service,
        severity=severity.value if severity else None,
        since=moment(since, "--since"),
    )
    if as_json:
        print_json(found)
        return
    print_table(
        "Incidents",
        ["key", "severity", "started (UTC)", "title", "services"],
        [
            (
                i.key,
                i.severity.value,
                i.started_at.strftime("%Y-%m-%d %H:%M"),
                i.title,
                ", ".join(i.services),
            )
            for i in found
        ],
    )


@incidents_app.command("show")
@handle_errors
def incidents_show(key: str, as_json: JsonOpt = False) -> None:
    """Show one incident."""
    found = catalog.get_incident(workspace(), key)
    if as_json:
        print_json(found)
        return
    for field, value in found.model_dump(mode="json", exclude={"id"}).items():
        console.print(f"[bold]{field}[/]: {escape(str(value))}", highlight=False)


@app.command("export")
@handle_errors
def export_cmd(file: Path) -> None:
    """Export the whole workspace to a JSON-lines file (lossless)."""
    left_out: list[str] = []
    with progress_bar() as update:
        rows = portability.export_workspace(workspace(), file, progress=update, left_out=left_out)
    console.print(f"[green]exported[/] {rows} rows to {escape(str(file))}")
    for problem in left_out:
        console.print(f"[yellow]model artifact left out:[/] {escape(problem)}", highlight=False)


@app.command("import-workspace")
@handle_errors
def import_workspace_cmd(file: Path) -> None:
    """Import a workspace export into a fresh workspace (all or nothing). The redaction key
    does not travel: warns when this workspace's key is not the one the export was made under."""
    warnings: list[str] = []
    with progress_bar() as update:
        counts = portability.import_workspace(
            workspace(create=True), file, progress=update, warnings=warnings
        )
    console.print(f"[green]imported[/] {sum(counts.values())} rows from {escape(str(file))}")
    for problem in warnings:
        say_warning(problem)


def main() -> None:
    app()
