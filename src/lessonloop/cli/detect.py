"""``lessonloop detect``: train a metric-anomaly model on signals, score a series."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lessonloop.cli.common import console, handle_errors, print_json, workspace

app = typer.Typer(help="Metric anomaly detection that learns from signals.", no_args_is_help=True)
BARS = " ▁▂▃▄▅▆▇█"


@app.command("train")
@handle_errors
def train(
    signals: Annotated[
        int | None, typer.Option(help="Signal set version (default newest).")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="standard, reward_low_FP_rate, reward_low_FN_rate")
    ] = "standard",
) -> None:
    """Train a candidate detector on a signal set and the workspace's series."""
    from lessonloop.services.detection import train_on_signal_set

    version = train_on_signal_set(workspace(), signals, profile=profile)
    console.print(
        f"[green]registered[/] model version {version.id} (candidate) trained on "
        f"signal set v{version.signal_set_version}"
    )


@app.command("score")
@handle_errors
def score(
    series: Annotated[str, typer.Argument(help="SERVICE/SERIES")],
    version: Annotated[int | None, typer.Option(help="Model version (default champion).")] = None,
    png: Annotated[Path | None, typer.Option(help="Write a plot of series and detections.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score a stored series and show the detections."""
    import numpy as np

    from lessonloop.services.detection import plot_scored, score_series

    scored = score_series(workspace(), series, version_id=version)
    if as_json:
        print_json(
            {
                "series": series,
                "version": scored.version_id,
                "threshold": scored.threshold,
                "detections": [d.isoformat() for d in scored.detections],
            }
        )
    else:
        width = 100
        chunks = np.array_split(scored.values, width)
        peaks = np.array([c.max() if c.size else np.nan for c in chunks])
        span = np.nanmax(peaks) - np.nanmin(peaks) or 1.0
        line = "".join(
            BARS[int((p - np.nanmin(peaks)) / span * (len(BARS) - 1))] if np.isfinite(p) else " "
            for p in peaks
        )
        marks = [" "] * width
        start, stop = scored.timestamps[0], scored.timestamps[-1]
        for at in scored.detections:
            position = int((at.timestamp() - start) / max(stop - start, 1) * (width - 1))
            marks[position] = "^"
        console.print(line, highlight=False)
        console.print("[red]" + "".join(marks) + "[/]", highlight=False)
        console.print(
            f"{len(scored.detections)} detections with model version "
            f"{scored.version_id}: "
            + ", ".join(d.strftime("%Y-%m-%d %H:%M") for d in scored.detections[:10])
            + (" ..." if len(scored.detections) > 10 else ""),
            highlight=False,
        )
    if png:
        console.print(f"plot: {plot_scored(scored, png)}")
