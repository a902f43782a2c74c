"""``lessonloop detect``: train a metric-anomaly model on signals, score a series."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    console,
    handle_errors,
    print_json,
    print_table,
    say_warning,
    signal_set_version,
    workspace,
)

if TYPE_CHECKING:
    import numpy as np

    from lessonloop.services.detection import ScoredSeries

app = typer.Typer(help="Metric anomaly detection that learns from signals.", no_args_is_help=True)
BARS = " ▁▂▃▄▅▆▇█"
MAX_WIDTH = 160


@app.command("train")
@handle_errors
def train(
    signals: Annotated[
        int | None,
        typer.Option(
            parser=signal_set_version,
            metavar="VERSION",
            help="Signal set version, 3 or v3 (default newest).",
        ),
    ] = None,
    profile: Annotated[
        str, typer.Option(help="standard, reward_low_FP_rate, reward_low_FN_rate")
    ] = "standard",
    until: Annotated[
        dt.datetime | None,
        typer.Option(help="End of the training data (UTC; default: the newest stored point)."),
    ] = None,
) -> None:
    """Train a candidate detector on a signal set and the workspace's series."""
    from lessonloop.services.detection import train_on_signal_set

    notes: list[str] = []
    version = train_on_signal_set(
        workspace(), signals, profile=profile, train_end=until, notes=notes
    )
    console.print(
        f"[green]registered[/] model version {version.id} (candidate) trained on "
        f"signal set v{version.signal_set_version}"
    )
    for note in notes:
        if note.startswith("warning: "):
            say_warning(note.removeprefix("warning: "))
        else:
            console.print(note, highlight=False, markup=False)


@app.command("series")
@handle_errors
def series(
    service: Annotated[str | None, typer.Option(help="Only this service's series.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the stored series, named as 'detect score' takes them."""
    from lessonloop.services.detection import list_stored_series

    found = list_stored_series(workspace(), service=service)
    if as_json:
        print_json([vars(s) for s in found])
        return
    print_table(
        "Stored series",
        ["series", "points", "from (UTC)", "to (UTC)"],
        [(s.ref, s.points, f"{s.start:%Y-%m-%d %H:%M}", f"{s.end:%Y-%m-%d %H:%M}") for s in found],
    )


@app.command("delete-series")
@handle_errors
def delete_series(
    series: Annotated[str, typer.Argument(help="SERVICE/SERIES, as 'detect series' lists it.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Really delete (without it, only say what would go).")
    ] = False,
) -> None:
    """Delete a stored series (recorded in the audit trail; trained models keep their artifacts)."""
    from lessonloop.services.detection import delete_series as delete

    removed = delete(workspace(), series, confirmed=yes)
    console.print(
        f"[green]deleted[/] {escape(removed.ref)}: {removed.points} points from "
        f"{removed.start:%Y-%m-%d %H:%M} to {removed.end:%Y-%m-%d %H:%M} UTC"
    )


def _columns(seconds: np.ndarray, start: int, stop: int, width: int) -> np.ndarray:
    """Column of each epoch second on a time axis of `width` columns from start to stop."""
    import numpy as np

    position = (seconds.astype(np.float64) - start) / max(stop - start, 1) * (width - 1)
    return np.clip(position.astype(np.int64), 0, width - 1)


def sparkline(scored: ScoredSeries, width: int) -> tuple[str, str]:
    """Bars (peak per column) and detection marks, both placed by time; gaps stay blank."""
    import numpy as np

    stamps = np.asarray(scored.timestamps, dtype=np.int64)
    width = max(1, min(width, stamps.size))
    start, stop = int(stamps.min()), int(stamps.max())
    peaks = np.full(width, np.nan)
    np.fmax.at(peaks, _columns(stamps, start, stop, width), scored.values)
    low = np.nanmin(peaks)
    span = np.nanmax(peaks) - low or 1.0
    steps = len(BARS) - 2
    bars = "".join(
        BARS[1 + int((p - low) / span * steps)] if np.isfinite(p) else " " for p in peaks
    )
    marks = [" "] * width
    found = np.array([int(d.timestamp()) for d in scored.detections], dtype=np.int64)
    for column in _columns(found, start, stop, width):
        marks[column] = "^"
    return bars, "".join(marks)


def _summary(scored: ScoredSeries) -> str:
    """One line: how many detections, with which model version and why, the first ten."""
    text = (
        f"{len(scored.detections)} detections with model version {scored.version_id} "
        f"({scored.chosen_as})"
    )
    if not scored.detections:
        return text
    shown = ", ".join(d.strftime("%Y-%m-%d %H:%M") for d in scored.detections[:10])
    return f"{text}: {shown}" + (" ..." if len(scored.detections) > 10 else "")


@app.command("score")
@handle_errors
def score(
    series: Annotated[str, typer.Argument(help="SERVICE/SERIES")],
    version: Annotated[
        int | None,
        typer.Option(
            help="Model version (default champion, else newest approved, else newest "
            "not rejected or retired)."
        ),
    ] = None,
    png: Annotated[
        Path | None, typer.Option(help="Write a plot of series and detections (a .png file).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score a stored series and show the detections."""
    from lessonloop.services.detection import plot_scored, score_series
    from lessonloop.services.outputs import check_png

    target = check_png(png) if png else None
    scored = score_series(workspace(), series, version_id=version)
    plot = str(plot_scored(scored, target)) if target else None
    if as_json:
        document = {
            "series": series,
            "version": scored.version_id,
            "version_chosen_as": scored.chosen_as,
            "threshold": scored.threshold,
            "detections": [d.isoformat() for d in scored.detections],
        }
        print_json(document | ({"plot": plot} if plot else {}))
        return
    bars, marks = sparkline(scored, min(console.width, MAX_WIDTH))
    console.print(bars, highlight=False, markup=False)
    console.print("[red]" + marks + "[/]", highlight=False)
    console.print(_summary(scored), highlight=False, markup=False)
    if plot:
        console.print(f"plot: {escape(str(plot))}", highlight=False, soft_wrap=True)
