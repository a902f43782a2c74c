"""``lessonloop programme``: metrics of the learning programme itself (docs/programme.md)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    check_out,
    console,
    handle_errors,
    moment,
    print_json,
    print_table,
    workspace,
    write_atomically,
)
from lessonloop.errors import InputError
from lessonloop.services.programme import programme_metrics

__all__ = ["app", "report"]

app = typer.Typer(help="Metrics of the learning programme itself.", no_args_is_help=True)
SECTIONS = ("reviews", "insights", "action_items", "signals", "models", "recurrence")


def _text(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _rows(section: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """A section's metrics as (dotted name, value) rows, nested groups flattened; shares
    shown as percentages."""
    rows: list[tuple[str, str]] = []
    for name, value in section.items():
        if isinstance(value, dict):
            rows += _rows(value, f"{prefix}{name}.")
        elif name.endswith("share") and isinstance(value, float):
            rows.append((f"{prefix}{name}", f"{value:.1%}"))
        else:
            rows.append((f"{prefix}{name}", _text(value)))
    return rows


def _scope(data: dict[str, Any]) -> str:
    since, until = data["since"] or "the beginning", data["until"] or "now"
    return f"Incidents started from {since} until {until} (as of {data['as_of']})"


def _html(data: dict[str, Any]) -> str:
    """A standalone page: one table per section, inline CSS, nothing fetched."""
    parts = [f"<h1>Learning programme</h1><p>{html.escape(_scope(data))}</p>"]
    for section in SECTIONS:
        body = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>"
            for name, value in _rows(data[section])
        )
        parts.append(
            f'<h2>{html.escape(section.replace("_", " "))}</h2><table id="{section}">'
            f"<thead><tr><th>metric</th><th>value</th></tr></thead><tbody>{body}</tbody></table>"
        )
    style = (
        "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#222}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.3rem .6rem;text-align:left}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Lessonloop learning programme</title><style>{style}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


def _checked_html_path(path: Path) -> Path:
    try:
        return check_out(path)
    except InputError as exc:
        raise InputError(exc.message, field="--html") from None


@app.command("report")
@handle_errors
def report(
    since: Annotated[
        str | None, typer.Option(help="Incidents started on or after this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Incidents started before this date (exclusive).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="Judge overdue items and stale drafts as of this date (default: now)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripting.")] = False,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write a standalone HTML page here.")
    ] = None,
) -> None:
    """Review coverage, insight quality, action follow-through, signals, models, recurrence."""
    start, end = moment(since, "--since"), moment(until, "--until")
    judged = moment(as_of, "--as-of")
    if start and end and end <= start:
        raise InputError(f"must be after --since ({since})", field="--until")
    target = _checked_html_path(html_out) if html_out else None
    data = programme_metrics(workspace(), since=start, until=end, now=judged).as_dict()
    if target is not None:
        try:
            write_atomically(target, _html(data))
        except InputError as exc:
            raise InputError(exc.message, field="--html") from None
    if as_json:
        print_json(data)
        return
    console.print(_scope(data), highlight=False, markup=False)
    for section in SECTIONS:
        print_table(
            section.replace("_", " ").capitalize(), ["metric", "value"], _rows(data[section])
        )
    if target is not None:
        console.print(f"HTML report: {escape(str(target))}")


@app.command("trend")
@handle_errors
def trend(
    by: Annotated[str, typer.Option("--by", help="month or quarter.")] = "quarter",
    since: Annotated[
        str | None, typer.Option(help="From the period holding this date (default: the first "
                                 "incident).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Up to this date (default: now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripting.")] = False,
    png: Annotated[Path | None, typer.Option("--png", help="Also write a plot (PNG).")] = None,
) -> None:
    """Headline programme metrics per month or quarter: is the programme getting better?"""
    from lessonloop.services.outputs import check_png
    from lessonloop.services.programme_trend import plot_trend, programme_trend

    start, end = moment(since, "--since"), moment(until, "--until")
    if start and end and end <= start:
        raise InputError(f"must be after --since ({since})", field="--until")
    target = check_png(png) if png else None
    points = programme_trend(workspace(), period=by.strip().lower(), since=start, until=end)
    if target is not None and points:
        plot_trend(points, target)
    if as_json:
        print_json([p.as_dict() for p in points])
        return
    if not points:
        console.print("No incidents in the range: nothing to show.")
        return
    print_table(
        f"The learning programme by {by}",
        ["period", "incidents", "reviewed", "days to sign-off", "items", "items done",
         "signals accepted", "promotions", "repeats", "repeats after review"],
        [
            (p.period, p.incidents, _pct(p.review_coverage_share),
             _text(p.days_to_signoff_median), p.action_items, _pct(p.action_items_done_share),
             _pct(p.signal_acceptance_share), p.promotions, p.repeats,
             _pct(p.repeat_after_review_share))
            for p in points
        ],
    )
    if target is not None:
        console.print(f"plot: {escape(str(target))}")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
