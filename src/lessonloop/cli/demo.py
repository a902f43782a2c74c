"""``lessonloop demo``: run the whole learning loop on a generated organisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import console, handle_errors, progress_bar, settings


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@handle_errors
def demo(
    quarters: Annotated[int, typer.Option(min=2, max=8)] = 4,
    seed: Annotated[int, typer.Option(min=0)] = 7,
    step_minutes: Annotated[
        int, typer.Option(help="Series resolution in minutes: 1, 2, 5, 10, 15, 30 or 60.")
    ] = 5,
    workspace_dir: Annotated[
        Path | None,
        typer.Option(
            "--workspace", help="Workspace folder for the demo (default: LESSONLOOP_HOME)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the report as JSON.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the HTML report.")] = None,
) -> None:
    """Generate an organisation and run the loop quarter by quarter; print what it learned."""
    from lessonloop.services.demo_report import alert_headline, headline, render_html
    from lessonloop.services.demo_run import run_demo
    from lessonloop.services.demo_workspace import open_demo_workspace

    base = settings()
    ws = open_demo_workspace(base, workspace_dir)
    home = ws.settings.home
    with progress_bar() as update:
        result = run_demo(
            ws,
            home / "sources",
            quarters=quarters,
            seed=seed,
            step_minutes=step_minutes,
            progress=update,
            owner=base.resolved_actor,
        )
    for line in result.log:
        console.print(f"[dim]{escape(line)}[/]", highlight=False)
    for line in headline(result.report) + alert_headline(result.report):
        console.print(line, highlight=False, markup=False)
    if out:
        out.write_text(json.dumps(result.report, indent=2, default=str))
        console.print(f"report JSON: {escape(str(out))}")
    if html_out:
        html_out.write_text(render_html(result.report), encoding="utf-8")
        console.print(f"HTML report: {escape(str(html_out))}")
