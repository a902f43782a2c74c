"""Generate the demo organisation: one seeded, deterministic folder of real-format sources."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lessonloop.demo.alertmanager import fired_alerts, write_alert_files
from lessonloop.demo.attribution import attribute_alerts, record_first_pages
from lessonloop.demo.incidents import resolve_incident, schedule_incidents
from lessonloop.demo.org import build_people, build_services, topological_order, write_services_yaml
from lessonloop.demo.pagerduty import build_pagerduty, write_pagerduty
from lessonloop.demo.review_context import build_context
from lessonloop.demo.reviews import WrittenReview, write_review
from lessonloop.demo.rules import evaluate_rules, static_rules, write_rules_yaml
from lessonloop.demo.series import SeriesSet, baseline_series, clip_series
from lessonloop.demo.timegrid import TimeGrid
from lessonloop.demo.truth import write_truth
from lessonloop.errors import Conflict, InputError

Progress = Callable[[str, int, int], None]
DECIMALS = {"latency_p99_ms": 2, "error_rate": 5, "saturation": 2, "throughput_rps": 1}
OUTPUTS = (
    "services.yaml",
    "prometheus-rules.yaml",
    "truth.json",
    "series",
    "alerts",
    "pagerduty",
    "reviews",
)


@dataclass(frozen=True)
class GeneratedOrg:
    """Where the generated sources are and how much of each was written."""

    root: Path
    services_file: Path
    series_dir: Path
    rules_file: Path
    alerts_dir: Path
    alert_files: tuple[Path, ...]
    pagerduty_incidents_file: Path
    pagerduty_log_entries_file: Path
    reviews_dir: Path
    review_files: tuple[Path, ...]
    truth_file: Path
    quarters: tuple[str, ...]
    services: int
    series: int
    points: int
    incidents: int
    alert_episodes: int
    noise_alert_episodes: int
    alert_notifications: int
    pagerduty_incidents: int


def _validate(quarters: int, step_minutes: int, seed: int) -> None:
    """Reject settings the generator cannot honour, naming the field."""
    if not isinstance(seed, int) or seed < 0:
        raise InputError("must be a non-negative integer", field="seed")
    if not isinstance(quarters, int) or not 1 <= quarters <= 8:
        raise InputError("must be an integer from 1 to 8", field="quarters")
    if not isinstance(step_minutes, int) or step_minutes not in (1, 2, 5, 10, 15, 30, 60):
        raise InputError("must be one of 1, 2, 5, 10, 15, 30, 60", field="step_minutes")


def _prepare(out_dir: Path) -> None:
    """Create ``out_dir``; replace a previous demo there, refuse to touch anything else."""
    if out_dir.exists() and not out_dir.is_dir():
        raise Conflict(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not _is_previous_demo(out_dir / "truth.json"):
            raise Conflict(f"{out_dir} is not empty and does not hold a generated organisation")
        for name in OUTPUTS:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _is_previous_demo(truth_file: Path) -> bool:
    """Whether ``truth_file`` was written by this generator."""
    try:
        doc = json.loads(truth_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("generator", {}).get("name") == "lessonloop.demo"


def _round_series(series: SeriesSet) -> None:
    """Round in place to the decimals written to CSV, so re-evaluating the files agrees."""
    for metrics in series.values():
        for metric, values in metrics.items():
            np.round(values, DECIMALS[metric], out=values)


def _write_series(
    series_dir: Path, series: SeriesSet, grid: TimeGrid, progress: Progress
) -> tuple[int, int]:
    """Write series/<service>/<metric>.csv; returns (series count, point count)."""
    stamps = grid.iso_timestamps()
    total = sum(len(m) for m in series.values())
    done = 0
    for service, metrics in series.items():
        folder = series_dir / service
        folder.mkdir(parents=True, exist_ok=True)
        for metric, values in metrics.items():
            line = "{},{:.DIGITSf}\n".replace("DIGITS", str(DECIMALS[metric]))
            body = "".join(map(line.format, stamps, values.tolist()))
            (folder / f"{metric}.csv").write_text("timestamp,value\n" + body, encoding="utf-8")
            done += 1
            progress("series files", done, total)
    return total, total * grid.n


def generate_organisation(
    out_dir: Path,
    *,
    seed: int = 7,
    quarters: int = 4,
    step_minutes: int = 5,
    progress: Progress | None = None,
) -> GeneratedOrg:
    """Write a whole generated organisation to ``out_dir``; the same seed gives the same bytes.

    Example: ``org = generate_organisation(Path("demo"), quarters=1, step_minutes=15)``.
    """
    _validate(quarters, step_minutes, seed)
    report: Progress = progress or (lambda stage, done, total: None)
    out_dir = Path(out_dir)
    _prepare(out_dir)
    grid = TimeGrid(quarters, step_minutes)
    services = build_services()
    topological_order(services)
    people = build_people()
    rules = static_rules()
    report("series", 0, 1)
    baseline = baseline_series(grid, services, seed)
    clean = {
        name: {m: v.copy() for m, v in metrics.items()} for name, metrics in baseline.series.items()
    }
    series = baseline.series
    incidents = schedule_incidents(grid, services, seed)
    for done, incident in enumerate(incidents, start=1):
        resolve_incident(incident, series, services, rules, people, grid, seed)
        report("incidents", done, len(incidents))
    clip_series(series)
    _round_series(series)
    _round_series(clean)
    episodes = evaluate_rules(rules, series, services, step_minutes)
    alerts = fired_alerts(episodes, grid)
    truths = attribute_alerts(alerts, incidents, clean)
    record_first_pages(incidents, truths)
    report("alerts", 1, 1)
    write_services_yaml(out_dir / "services.yaml", services)
    write_rules_yaml(out_dir / "prometheus-rules.yaml", rules)
    alert_files, notifications = write_alert_files(out_dir / "alerts", alerts, grid)
    export = build_pagerduty(incidents, truths, services, people, seed)
    incidents_file, log_file = write_pagerduty(out_dir / "pagerduty", export)
    reviews_dir = out_dir / "reviews"
    reviews_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, WrittenReview] = {}
    for done, incident in enumerate(incidents, start=1):
        ctx = build_context(incident, truths, services, rules, series, grid)
        written[incident.key] = write_review(reviews_dir, ctx, seed)
        report("reviews", done, len(incidents))
    write_truth(
        out_dir / "truth.json",
        seed=seed,
        grid=grid,
        incidents=incidents,
        reviews=written,
        pagerduty_ids=export.ids_by_key,
        truths=truths,
        baseline=baseline,
    )
    series_count, points = _write_series(out_dir / "series", series, grid, report)
    return GeneratedOrg(
        root=out_dir,
        services_file=out_dir / "services.yaml",
        series_dir=out_dir / "series",
        rules_file=out_dir / "prometheus-rules.yaml",
        alerts_dir=out_dir / "alerts",
        alert_files=tuple(alert_files),
        pagerduty_incidents_file=incidents_file,
        pagerduty_log_entries_file=log_file,
        reviews_dir=reviews_dir,
        review_files=tuple(w.path for w in written.values()),
        truth_file=out_dir / "truth.json",
        quarters=tuple(grid.quarter_label(q) for q in range(quarters)),
        services=len(services),
        series=series_count,
        points=points,
        incidents=len(incidents),
        alert_episodes=len(alerts),
        noise_alert_episodes=sum(t.is_noise for t in truths),
        alert_notifications=notifications,
        pagerduty_incidents=len(export.incidents),
    )
