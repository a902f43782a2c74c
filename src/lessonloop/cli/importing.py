"""``lessonloop import``: PagerDuty, Opsgenie, Alertmanager, chat, Markdown postmortems, series."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from lessonloop.cli.common import (
    console,
    handle_errors,
    print_json,
    print_table,
    progress_bar,
    say_error,
    say_warning,
    workspace,
)
from lessonloop.errors import InputError
from lessonloop.services.importing import (
    SOURCES,
    CsvColumns,
    ImportOptions,
    ImportSummary,
    import_files,
    import_prometheus_series,
)

app = typer.Typer(
    help=f"Import incident data ({', '.join(SOURCES)}); re-import updates, never duplicates.",
    no_args_is_help=True,
)
DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would change; store nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _render(summary: ImportSummary, as_json: bool) -> None:
    if as_json:
        print_json(summary.as_dict())
    else:
        title = "Import summary (dry run: nothing stored)" if summary.dry_run else "Import summary"
        print_table(
            title,
            ["object", "outcome", "count"],
            [
                (kind, outcome, count)
                for kind, counter in sorted(summary.outcomes.items())
                for outcome, count in sorted(counter.items())
            ],
        )
        if summary.redactions.total:
            console.print(
                "redacted: "
                + ", ".join(
                    f"{kind} {count}" for kind, count in summary.redactions.as_dict().items()
                )
            )
    for warning in summary.warnings:
        say_warning(warning)
    for error in summary.errors:
        say_error(str(error))
    if summary.errors:
        raise typer.Exit(code=InputError.exit_code)


@app.command("series")
@handle_errors
def series(
    files: Annotated[
        list[Path] | None, typer.Argument(help="CSV or query_range JSON files.")
    ] = None,
    service: Annotated[str, typer.Option(help="Service the series belong to.")] = "",
    name: Annotated[str | None, typer.Option(help="Series name (default: file name).")] = None,
    prometheus: Annotated[str | None, typer.Option(help="Prometheus base URL.")] = None,
    query: Annotated[str | None, typer.Option(help="PromQL range query.")] = None,
    start: Annotated[dt.datetime | None, typer.Option(help="Range start (UTC).")] = None,
    end: Annotated[dt.datetime | None, typer.Option(help="Range end (UTC).")] = None,
    step: Annotated[str, typer.Option(help="Resolution, e.g. 60s.")] = "60s",
    timestamp_column: Annotated[str, typer.Option()] = "timestamp",
    value_column: Annotated[str, typer.Option()] = "value",
    label_column: Annotated[str | None, typer.Option(
        help="Column whose values split a file into series (default: 'label', if present)."
    )] = None,
    no_label_column: Annotated[bool, typer.Option(
        "--no-label-column",
        help="Never split: every file is one series (a 'label' column of 0/1 anomaly flags "
        "stays out of the way).",
    )] = False,
    promql: Annotated[str | None, typer.Option(
        "--promql",
        help="The Prometheus series this is, for exported rules: metric{label=\"value\",...} "
        "(query_range results add their own labels; a named --label-column adds its value).",
    )] = None,
    dry_run: DryRun = False,
    as_json: AsJson = False,
) -> None:
    """Import metric series from CSV / query_range files or straight from a Prometheus server."""
    if not service:
        raise InputError("series need a service", field="--service")
    ws = workspace()
    if prometheus:
        if not (query and start and end and name):
            raise InputError(
                "--prometheus needs --query, --start, --end and --name", field="--prometheus"
            )
        summary = import_prometheus_series(
            ws,
            prometheus,
            query,
            start.replace(tzinfo=start.tzinfo or dt.UTC),
            end.replace(tzinfo=end.tzinfo or dt.UTC),
            step,
            service=service,
            name=name,
            dry_run=dry_run,
            promql=promql,
        )
    else:
        if not files:
            raise InputError(
                "give one or more CSV / query_range files, or --prometheus URL", field="files"
            )
        if no_label_column and label_column is not None:
            raise InputError("give --label-column or --no-label-column, not both",
                             field="--no-label-column")
        if label_column is not None and not label_column.strip():
            raise InputError("name the column, or use --no-label-column", field="--label-column")
        options = ImportOptions(
            service=service,
            series_name=name,
            promql=promql,
            columns=CsvColumns(
                timestamp_column,
                value_column,
                None if no_label_column else label_column or "label",
                label_required=label_column is not None,
            ),
        )
        with progress_bar(as_json) as progress:
            summary = import_files(
                ws, "series", files or [], options=options, dry_run=dry_run, progress=progress
            )
    _render(summary, as_json)


def _source_command(kind: str) -> None:
    @app.command(kind)
    @handle_errors
    def command(
        files: Annotated[list[Path], typer.Argument(help="Export files (a folder for Slack).")],
        dry_run: DryRun = False,
        service: Annotated[
            str | None, typer.Option(help="Link everything to this service.")
        ] = None,
        incident: Annotated[str | None, typer.Option(help="Incident key to attach to.")] = None,
        create_incident: Annotated[
            bool, typer.Option(help="Create a review file's incident from its front matter.")
        ] = False,
        as_json: AsJson = False,
    ) -> None:
        options = ImportOptions(service=service, incident=incident, create_incident=create_incident)
        with progress_bar(as_json) as progress:
            summary = import_files(
                workspace(), kind, files, options=options, dry_run=dry_run, progress=progress
            )
        _render(summary, as_json)

    command.__doc__ = f"Import {kind} files (each file all or nothing)."


for _kind in ("pagerduty", "opsgenie", "alertmanager", "chat", "markdown"):
    _source_command(_kind)
