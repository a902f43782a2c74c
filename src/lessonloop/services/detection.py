"""Use cases of ``lessonloop detect``: train on a signal set, score a stored series."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from lessonloop.detectors.base import load_detector
from lessonloop.domain.access import Permission
from lessonloop.domain.enums import ModelStatus, ModelTask, SignalKind
from lessonloop.domain.models import ModelVersionRead
from lessonloop.domain.signals import IncidentWindow
from lessonloop.errors import InputError, NotFound
from lessonloop.registry.artifacts import verify_artifact
from lessonloop.services import registry, signals
from lessonloop.services.access import require
from lessonloop.services.learning import (
    build_feedback,
    load_all_series,
    register_detector,
    require_finite,
    train_metric_anomaly,
)
from lessonloop.services.outputs import check_png, save_figure
from lessonloop.services.signals import payloads
from lessonloop.services.workspace import Workspace
from lessonloop.storage import alerts as alert_store
from lessonloop.storage import series as series_store
from lessonloop.storage.series import StoredSeries
from lessonloop.storage.services import get_row as get_service_row

__all__ = [
    "ScoredSeries",
    "StoredSeriesInfo",
    "delete_series",
    "list_stored_series",
    "train_on_signal_set",
    "score_series",
    "plot_scored",
]

UNUSABLE = (ModelStatus.REJECTED, ModelStatus.RETIRED)


@dataclass
class ScoredSeries:
    """A scored series; ``chosen_as`` says why this model version was used."""

    service: str
    name: str
    version_id: int
    timestamps: np.ndarray
    values: np.ndarray
    scores: np.ndarray
    threshold: float
    detections: list[dt.datetime]
    windows: list[tuple[dt.datetime, dt.datetime]]
    chosen_as: str = "requested"


def train_on_signal_set(
    ws: Workspace,
    version: int | None,
    *,
    profile: str = "standard",
    train_end: dt.datetime | None = None,
    notes: list[str] | None = None,
) -> ModelVersionRead:
    """Train a candidate on a signal set (default: the newest) and register it.

    The training data end at `train_end`, by default the newest stored point; `notes` gets
    which series that point belongs to, and a warning when it lies far beyond the others'
    ends (one stray future timestamp would otherwise move the model's training end).
    Every stored series must be finite (InputError naming the series and timestamp).
    """
    require(ws, Permission.TRAIN, "train detectors")
    if version is None:
        version = signals.latest_set_version(ws)
        if version is None:
            raise NotFound("no signal set yet: accept signals, then 'lessonloop signals cut'")
    accepted = signals.signals_of_set(ws, version)
    series = load_all_series(ws)
    if train_end is not None and train_end.tzinfo is None:
        train_end = train_end.replace(tzinfo=dt.UTC)
    end = train_end or _newest_point(series, notes if notes is not None else [])
    trained = train_metric_anomaly(ws, accepted, train_end=end, profile=profile, series=series)
    return register_detector(
        ws, trained, signal_set_version=version, series=series, signals=accepted
    )


@dataclass(frozen=True)
class StoredSeriesInfo:
    """One stored series as `detect series` lists it (its points are not loaded)."""

    ref: str  # SERVICE/SERIES, as `detect score` takes it
    points: int
    start: dt.datetime
    end: dt.datetime


def list_stored_series(ws: Workspace, *, service: str | None = None) -> list[StoredSeriesInfo]:
    """Every stored series (of one service), by service and name."""
    with ws.transaction() as session:
        listed = series_store.list_series(session=session)
    if service is not None and not any(s == service for s, *_ in listed):
        with ws.transaction() as session:
            get_service_row(service, session=session)  # NotFound for an unknown service
    return [
        StoredSeriesInfo(f"{s}/{name}", points, start, end)
        for s, name, points, start, end in listed
        if service is None or s == service
    ]


def delete_series(ws: Workspace, ref: str, *, confirmed: bool) -> StoredSeriesInfo:
    """Remove the stored series SERVICE/SERIES (audited); model versions trained on it keep
    their artifacts. Unless ``confirmed``, nothing is deleted and the error says what would be.
    Returns what was removed."""
    require(ws, Permission.CONTRIBUTE, "delete series")
    with ws.transaction() as session:
        stored = _stored(ref, session)
        info = StoredSeriesInfo(
            stored.key,
            int(stored.timestamps.size),
            dt.datetime.fromtimestamp(int(stored.timestamps[0]), dt.UTC),
            dt.datetime.fromtimestamp(int(stored.timestamps[-1]), dt.UTC),
        )
        if not confirmed:
            raise InputError(
                f"{info.ref} holds {info.points} points from {info.start:%Y-%m-%d %H:%M} to "
                f"{info.end:%Y-%m-%d %H:%M} UTC; nothing deleted: pass --yes to delete it",
                field="--yes",
            )
        series_store.delete(stored.service, stored.name, session=session, actor=ws.actor)
    return info


FAR_BEYOND = dt.timedelta(days=30)


def _newest_point(series: list[StoredSeries], notes: list[str]) -> dt.datetime:
    """The newest stored point, with a note of its series (and a warning when it is more than
    30 days after every other series ends)."""
    if not series:
        return dt.datetime.now(dt.UTC)
    ends = sorted(
        ((int(s.timestamps[-1]), f"{s.service}/{s.name}") for s in series if s.timestamps.size),
        reverse=True,
    )
    if not ends:
        return dt.datetime.now(dt.UTC)
    newest = dt.datetime.fromtimestamp(ends[0][0], dt.UTC)
    notes.append(
        f"training data end at {newest:%Y-%m-%dT%H:%M:%SZ}, the newest point ({ends[0][1]})"
    )
    if len(ends) > 1:
        runner_up = dt.datetime.fromtimestamp(ends[1][0], dt.UTC)
        if newest - runner_up > FAR_BEYOND:
            notes.append(
                f"warning: {ends[0][1]} ends {(newest - runner_up).days} days after every other "
                f"series ({ends[1][1]} ends at {runner_up:%Y-%m-%dT%H:%M:%SZ}); a stray "
                "timestamp? pass --until to end the training data earlier"
            )
    return newest


def _requested(ws: Workspace, version_id: int) -> ModelVersionRead:
    """The version asked for; InputError when it is not a metric-anomaly model."""
    version = registry.show_version(ws, version_id).version
    if version.task != ModelTask.METRIC_ANOMALY:
        raise InputError(
            f"version {version_id} is a model for {version.task.value}, not a metric anomaly "
            "detector",
            field="--version",
        )
    return version


def _version(ws: Workspace, version_id: int | None) -> tuple[ModelVersionRead, str]:
    """The version to score with and why: requested, champion, newest approved, newest usable."""
    if version_id is not None:
        return _requested(ws, version_id), "requested"
    newest_first = sorted(
        registry.list_versions(ws, task=ModelTask.METRIC_ANOMALY), key=lambda v: -v.id
    )
    for status in (ModelStatus.CHAMPION, ModelStatus.APPROVED):
        for version in newest_first:
            if version.status == status:
                return version, "champion" if status == ModelStatus.CHAMPION else "newest approved"
    for version in newest_first:
        if version.status not in UNUSABLE:
            return version, f"newest {version.status.value}, no champion or approved version"
    if newest_first:
        raise NotFound(
            "every metric-anomaly model version is rejected or retired: run "
            "'lessonloop detect train', or pass --version"
        )
    raise NotFound("no metric-anomaly model yet: run 'lessonloop detect train'")


def _stored(ref: str, session: Session) -> StoredSeries:
    """The series SERVICE/SERIES names. A service name may itself hold '/' ('team/api/cpu'),
    so every split is tried: one stored series must match (two are refused as ambiguous), and
    when none does, the error names the longest service that exists."""
    splits = [(ref[:i], ref[i + 1 :]) for i, char in enumerate(ref) if char == "/"]
    found: list[StoredSeries] = []
    missing: NotFound | None = None
    for service, name in reversed(splits):  # the longest service name first
        try:
            get_service_row(service, session=session)
        except NotFound:
            continue
        try:
            found.append(series_store.get(service, name, session=session))
        except NotFound as error:
            missing = missing or error
    if len(found) > 1:
        named = " and ".join(f"service {s.service!r} series {s.name!r}" for s in found)
        raise InputError(
            f"{ref!r} names two stored series ({named}); re-import one under another --name",
            field="SERIES",
        )
    if found:
        return found[0]
    if missing is not None:
        raise missing
    raise NotFound(f"unknown service {splits[0][0]!r} (register it with 'lessonloop services add')")


def score_series(ws: Workspace, ref: str, *, version_id: int | None = None) -> ScoredSeries:
    """Score SERVICE/SERIES with a model version.

    Default: the champion, else the newest approved version, else the newest one that is not
    rejected or retired (``chosen_as`` says which). The series must be finite.
    """
    if "/" not in ref:
        raise InputError("name the series as SERVICE/SERIES", field="SERIES")
    with ws.transaction() as session:  # the series first: a wrong name is the likelier slip
        stored = _stored(ref, session)
        alerts = alert_store.list_alerts(session=session)
    service, name = stored.service, stored.name
    require_finite(stored)
    version, chosen_as = _version(ws, version_id)
    if not version.artifact_path or not version.artifact_hash:
        raise NotFound(f"model version {version.id} has no artifact")
    path = Path(version.artifact_path)
    verify_artifact(path, version.artifact_hash)
    detector = load_detector(path)
    accepted = (
        signals.signals_of_set(ws, version.signal_set_version) if version.signal_set_version else {}
    )
    end = version.training_end or dt.datetime.now(dt.UTC)
    feedback, _ = build_feedback([stored], accepted, alerts, end)
    scores = detector.score(stored.values, feedback[0])
    rows = detector.detect(stored.values, feedback=feedback[0])

    def to_time(row: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(stored.timestamps[row]), dt.UTC)

    windows = [
        (p.start, p.end)
        for _, p in payloads(accepted, SignalKind.INCIDENT_WINDOW, IncidentWindow)
        if p.service == service
    ]
    return ScoredSeries(
        service,
        name,
        version.id,
        stored.timestamps,
        stored.values,
        scores,
        detector.decision_threshold(feedback[0]),
        [to_time(r) for r in rows],
        windows,
        chosen_as,
    )


def _broken_at_gaps(scored: ScoredSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, values and scores with a NaN point inside every gap longer than five usual
    steps, so the plot leaves the gap blank (as the terminal view does) instead of drawing a
    straight line across it."""
    stamps = np.asarray(scored.timestamps, dtype=np.int64)
    values = np.asarray(scored.values, dtype=np.float64)
    scores = np.asarray(scored.scores, dtype=np.float64)
    steps = np.diff(stamps)
    if steps.size == 0:
        return stamps.astype("datetime64[s]"), values, scores
    gaps = np.flatnonzero(steps > 5 * max(float(np.median(steps)), 1.0)) + 1
    middle = stamps[gaps - 1] + steps[gaps - 1] // 2
    return (
        np.insert(stamps, gaps, middle).astype("datetime64[s]"),
        np.insert(values, gaps, np.nan),
        np.insert(scores, gaps, np.nan),
    )


def plot_scored(scored: ScoredSeries, out: Path) -> Path:
    """Write a PNG of the series with the incident windows and the detections to `out`.

    `out` must pass ``check_png``; returns the path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times, values, scores = _broken_at_gaps(scored)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(12, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    dots = "o" if scored.timestamps.size <= 50 else None  # a short series is visible as points
    top.plot(times, values, lw=0.6, color="#34495e", marker=dots, ms=3)
    for start, end in scored.windows:
        top.axvspan(
            np.datetime64(start.replace(tzinfo=None)),
            np.datetime64(end.replace(tzinfo=None)),
            color="#f5b041",
            alpha=0.35,
        )
    for at in scored.detections:
        top.axvline(np.datetime64(at.replace(tzinfo=None)), color="#c0392b", lw=0.8)
    top.set_title(
        f"{scored.service}/{scored.name}: incident windows (orange), detections (red)"
        f", model version {scored.version_id}"
    )
    bottom.plot(times, scores, lw=0.6, color="#2471a3", marker=dots, ms=3)
    bottom.axhline(scored.threshold, color="#c0392b", ls="--", lw=0.8)
    bottom.set_ylabel("score")
    fig.tight_layout()
    try:
        return save_figure(fig, check_png(out))
    finally:
        plt.close(fig)
