"""``lessonloop alerts``: the stored alerts replayed under an alert policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import console, handle_errors, moment, print_json, print_table, workspace
from lessonloop.services.alert_model import (
    alert_noise_report,
    parse_incident_severity,
    plot_alert_noise,
)
from lessonloop.services.outputs import check_png

app = typer.Typer(
    help="Alert noise: what fired, what belonged to an incident, what paged.", no_args_is_help=True
)


@app.command("noise")
@handle_errors
def noise(
    version: Annotated[
        int | None,
        typer.Option(
            help="An alert_correlation model version (default: the champion; without "
            "one, every alert pages)."
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this date or time (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this date or time (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Families in the table (--json has all).")] = 20,
    incident_severity: Annotated[
        str | None,
        typer.Option(
            help="Count only incidents this severe or worse (SEV1..SEV5; default: as the "
            "policy was trained, else every incident)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    png: Annotated[
        Path | None,
        typer.Option(
            "--png", help="Also write a plot of noise pages per day (every alert vs the policy)."
        ),
    ] = None,
) -> None:
    """Per alert family: firings, how many belonged to an incident, pages under the policy,
    and why the others did not page. Noisiest families first."""
    target = check_png(png) if png else None
    report = alert_noise_report(
        workspace(),
        version_id=version,
        since=moment(since, "--since"),
        until=moment(until, "--until"),
        incident_severity=parse_incident_severity(incident_severity),
    )
    name, rows, score = report.policy, report.families, report.period
    if target is not None and score is not None:
        plot_alert_noise(report, target)
    start = moment(since, "--since")
    learned_here = report.trained_until is not None and (
        start is None or start < report.trained_until
    )
    if as_json:
        print_json(
            {
                "policy": name,
                "families": [r.as_dict() for r in rows],  # all of them: --limit is for the table
                "period": score.as_dict() if score else None,
                "trained_until": report.trained_until.isoformat() if report.trained_until else None,
                "includes_training_history": learned_here,
                "incident_severity": (
                    report.incident_severity.value if report.incident_severity else None
                ),
            }
        )
        return
    if score is None:
        console.print("no alerts in that period" + ("; no plot written" if target else ""))
        return
    print_table(
        f"Alert families under {name} ({score.days} days, {score.firings} firings)",
        [
            "alert",
            "service",
            "firings",
            "with an incident",
            "paged",
            "suppressed",
            "inhibited",
            "why not paged",
        ],
        [
            (
                r.alertname,
                r.service or "-",
                r.firings,
                r.linked,
                r.pages,
                r.suppressed,
                r.inhibited,
                "; ".join(r.reasons),
            )
            for r in rows[:limit]
        ],
    )
    period = score.as_dict()
    console.print(
        f"pages/day {period['pages_per_day']}, noise pages/day {period['noise_pages_per_day']}, "
        f"incidents paged {period['incidents_covered']} of {period['incidents']}"
        + (f" (showing {limit} of {len(rows)} families)" if len(rows) > limit else "")
        + (
            f"; incidents counted: {report.incident_severity.value} or worse"
            if report.incident_severity
            else ""
        ),
        markup=False,
    )
    if target is not None:
        console.print(f"plot: {escape(str(target))}")
    if learned_here and report.trained_until is not None:
        console.print(
            f"[yellow]note:[/] the policy learned from the alerts before "
            f"{report.trained_until:%Y-%m-%dT%H:%M:%SZ}; use --since "
            f"{report.trained_until:%Y-%m-%dT%H:%M:%SZ} to see only alerts it had not seen"
        )
