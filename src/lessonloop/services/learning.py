"""Metric-anomaly learning from accepted signals: feedback, training, detections, registration.

The arrow "SignalSet vN --train--> ModelVersion (candidate)" of the architecture, for the
metric-anomaly task. Accepted ``incident_window`` signals become label windows, ``alert_verdict``
noise signals become false-positive verdicts at the alerts they match, ``threshold_hint``
signals become hints; only labels that end before ``train_end`` are used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lessonloop.detectors.base import Detector
from lessonloop.detectors.feedback import (
    FalsePositiveVerdict,
    LabelWindow,
    SeriesFeedback,
    ThresholdHint,
)
from lessonloop.detectors.learners import FeedbackCalibratedEnsemble
from lessonloop.domain.alerts import AlertRead
from lessonloop.domain.enums import AlertVerdict, ModelTask, SignalKind
from lessonloop.domain.models import ModelVersionCreate, ModelVersionRead
from lessonloop.domain.signals import AlertVerdictPayload, IncidentWindow, SignalRead
from lessonloop.domain.signals import ThresholdHint as ThresholdHintPayload
from lessonloop.errors import InputError
from lessonloop.registry.rules_export import series_selector
from lessonloop.services.detection_eval import merge_episodes
from lessonloop.services.signals import payloads
from lessonloop.services.workspace import Workspace
from lessonloop.storage import alerts as alert_store
from lessonloop.storage import series as series_store
from lessonloop.storage.series import StoredSeries

__all__ = [
    "PROFILES",
    "TrainedDetector",
    "build_feedback",
    "train_metric_anomaly",
    "detections_by_service",
    "load_all_series",
    "register_detector",
    "require_finite",
]

PROFILES: dict[str, tuple[float, float, float]] = {
    "standard": (1.0, 1.0, 0.11),
    "reward_low_FP_rate": (1.0, 1.0, 0.22),
    "reward_low_FN_rate": (1.0, 2.0, 0.11),
}


@dataclass
class TrainedDetector:
    detector: FeedbackCalibratedEnsemble
    feedback: list[SeriesFeedback]
    signal_ids: list[int]
    train_end: dt.datetime
    profile: str


def load_all_series(ws: Workspace) -> list[StoredSeries]:
    with ws.transaction() as session:
        listed = series_store.list_series(session=session)
        return [series_store.get(service, name, session=session) for service, name, *_ in listed]


def _row(timestamps: np.ndarray, at: dt.datetime) -> int:
    return int(np.searchsorted(timestamps, int(at.timestamp()), side="left"))


def _series_matches(selector: str, name: str) -> bool:
    return selector in ("*", "", name)


def build_feedback(
    series: Sequence[StoredSeries],
    signals: Mapping[SignalKind, list[SignalRead]],
    alerts: Sequence[AlertRead],
    train_end: dt.datetime,
) -> tuple[list[SeriesFeedback], list[int]]:
    """Per series: the label windows, noise verdicts and hints known before ``train_end``."""
    used: set[int] = set()
    noise = [
        (s, p)
        for s, p in payloads(signals, SignalKind.ALERT_VERDICT, AlertVerdictPayload)
        if p.verdict in (AlertVerdict.NOISE, AlertVerdict.DUPLICATE)
    ]
    noise_times: dict[str, list[tuple[dt.datetime, int]]] = {}
    for alert in alerts:
        if alert.starts_at >= train_end:
            continue
        for signal, verdict in noise:
            if all(
                m.matches(
                    {**alert.labels, "alertname": alert.name or alert.labels.get("alertname", "")}
                )
                for m in verdict.matchers
            ):
                service = alert.labels.get("service", "")
                noise_times.setdefault(service, []).append((alert.starts_at, signal.id))
                break
    out: list[SeriesFeedback] = []
    for stored in series:
        ts = stored.timestamps
        end_row = _row(ts, train_end)
        windows = []
        for signal, p in payloads(signals, SignalKind.INCIDENT_WINDOW, IncidentWindow):
            if p.service != stored.service or not _series_matches(p.series, stored.name):
                continue
            if p.end >= train_end:
                continue
            lo, hi = _row(ts, p.start), min(_row(ts, p.end), len(ts) - 1)
            if hi > lo:
                windows.append(LabelWindow(lo, hi))
                used.add(signal.id)
        verdicts = []
        for at, signal_id in noise_times.get(stored.service, []):
            verdicts.append(FalsePositiveVerdict(min(_row(ts, at), len(ts) - 1)))
            used.add(signal_id)
        hints = []
        for signal, hint in payloads(signals, SignalKind.THRESHOLD_HINT, ThresholdHintPayload):
            if hint.service == stored.service and hint.series == stored.name:
                hints.append(ThresholdHint(hint.direction, hint.value))
                used.add(signal.id)
        out.append(
            SeriesFeedback(
                series_id=stored.key,
                values=stored.values,
                feedback_end=end_row,
                windows=tuple(sorted(set(windows), key=lambda w: w.start_index)),
                verdicts=tuple(verdicts),
                hints=tuple(hints),
            )
        )
    return out, sorted(used)


def require_finite(stored: StoredSeries) -> None:
    """InputError naming the series and its first NaN or infinite value's timestamp."""
    bad = np.flatnonzero(~np.isfinite(stored.values))
    if bad.size:
        at = dt.datetime.fromtimestamp(int(stored.timestamps[bad[0]]), dt.UTC)
        raise InputError(
            f"series {stored.key} has {bad.size} NaN or infinite value(s), the first at "
            f"{at.isoformat()}; re-import those points with finite values"
        )


def train_metric_anomaly(
    ws: Workspace,
    signals: Mapping[SignalKind, list[SignalRead]],
    *,
    train_end: dt.datetime,
    profile: str = "standard",
    series: Sequence[StoredSeries] | None = None,
    params: dict[str, Any] | None = None,
) -> TrainedDetector:
    """Fit the feedback-calibrated ensemble on every stored series with the accepted signals."""
    if profile not in PROFILES:
        raise InputError(
            f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}", field="profile"
        )
    series = list(series) if series is not None else load_all_series(ws)
    if not series:
        raise InputError(
            "the workspace has no metric series to train on; import some with "
            "'lessonloop import series'",
            field="series",
        )
    for stored in series:
        require_finite(stored)
    with ws.transaction() as session:
        alerts = alert_store.list_alerts(session=session, end=train_end)
    feedback, used = build_feedback(series, signals, alerts, train_end)
    if not any(f.windows for f in feedback):
        raise InputError(
            "the signal set has no accepted incident windows before "
            f"{train_end.isoformat()}: nothing to learn from (accept incident windows of "
            "earlier incidents; `learn` also keeps the last --holdout-days, 28 by default, "
            "to test on)",
            field="signals",
        )
    tp, fn, fp = PROFILES[profile]
    detector = FeedbackCalibratedEnsemble(
        tp_weight=tp, fn_weight=fn, fp_weight=fp, **(params or {})
    )
    detector.fit(feedback)
    return TrainedDetector(detector, feedback, used, train_end, profile)


def detections_by_service(
    detector: Detector,
    series: Sequence[StoredSeries],
    start: dt.datetime,
    end: dt.datetime,
    feedback: Sequence[SeriesFeedback] | None = None,
) -> dict[str, list[dt.datetime]]:
    """Causal detections in [start, end) per service, merged across its series into pages."""
    by_key = {f.series_id: f for f in feedback or []}
    pages: dict[str, list[dt.datetime]] = {}
    for stored in series:
        first = _row(stored.timestamps, start)
        last = _row(stored.timestamps, end)
        rows = detector.detect(
            stored.values[:last], feedback=by_key.get(stored.key), start_row=first
        )
        times = [dt.datetime.fromtimestamp(int(stored.timestamps[r]), dt.UTC) for r in rows]
        pages.setdefault(stored.service, []).extend(times)
    return {service: merge_episodes(times) for service, times in pages.items()}


def _metric(stored: StoredSeries) -> str:
    """The selector of a series stored with its Prometheus labels; else its name, which the
    export resolves from the stored series (and leaves out, saying why, when it cannot)."""
    if stored.labels:
        with contextlib.suppress(ValueError):
            return series_selector(stored.service, stored.name, stored.labels)
    return stored.name


def derive_rules(
    trained: TrainedDetector,
    series: Sequence[StoredSeries],
    signals: Mapping[SignalKind, list[SignalRead]] | None = None,
    *,
    max_noise_share: float = 0.002,
) -> list[dict[str, Any]]:
    """Static Prometheus thresholds that approximate the detector where it caught incidents.

    For each series on which the detector fired inside a labelled window before the end of
    training, the threshold is the lowest (or highest) value it fired at, raised until the
    series crosses it outside labelled windows in at most ``max_noise_share`` of the rows.
    """
    by_key = {f.series_id: f for f in trained.feedback}
    origin: dict[str, tuple[set[int], set[int]]] = {}
    for signal, window in payloads(signals or {}, SignalKind.INCIDENT_WINDOW, IncidentWindow):
        reviews, insights = origin.setdefault(window.service, (set(), set()))
        if signal.provenance.review_id:
            reviews.add(signal.provenance.review_id)
        if signal.provenance.insight_id:
            insights.add(signal.provenance.insight_id)
    rules = []
    for stored in series:
        feedback = by_key.get(stored.key)
        if feedback is None or not feedback.windows:
            continue
        values = stored.values[: feedback.feedback_end]
        rows = trained.detector.detect(values, feedback=feedback)
        inside = np.zeros(values.size, dtype=bool)
        for label in feedback.windows:
            inside[label.start_index : label.end_index + 1] = True
        hits = [int(r) for r in rows if r < values.size and inside[r]]
        outside = values[~inside & np.isfinite(values)]
        if not hits or outside.size == 0:
            continue
        above = float(np.nanmedian(values[hits])) >= float(np.nanmedian(outside))
        fired = values[hits]
        if above:
            threshold = max(
                float(np.nanmin(fired)), float(np.quantile(outside, 1 - max_noise_share))
            )
        else:
            threshold = min(float(np.nanmax(fired)), float(np.quantile(outside, max_noise_share)))
        if not np.isfinite(threshold):
            continue
        gaps = np.diff(stored.timestamps)
        step = float(np.median(gaps)) / 60 if gaps.size else 1.0
        reviews, insights = origin.get(stored.service, (set(), set()))
        rules.append(
            {
                "service": stored.service,
                "series": stored.name,
                "metric": _metric(stored),
                "direction": "above" if above else "below",
                "threshold": round(threshold, 6),
                "for_minutes": round(step, 3),
                "labels": {"severity": "page"},
                "justification": {"reviews": sorted(reviews), "insights": sorted(insights)},
            }
        )
    return rules


def register_detector(
    ws: Workspace,
    trained: TrainedDetector,
    *,
    signal_set_version: int | None,
    training_start: dt.datetime | None = None,
    extra_config: dict[str, Any] | None = None,
    series: Sequence[StoredSeries] | None = None,
    signals: Mapping[SignalKind, list[SignalRead]] | None = None,
    now: dt.datetime | None = None,
) -> ModelVersionRead:
    """Save the detector (config.json + skops) and register it as a candidate model version
    at ``now`` (default: the time of the run).

    With ``series`` the artifact's config.json also carries the Prometheus rules derived from
    it (see :func:`derive_rules`), which ``lessonloop export-rules prometheus`` writes out.
    """
    from lessonloop.services.registry import register_version

    config = {
        "detector": trained.detector.name,
        "profile": trained.profile,
        "learned": trained.detector.config_,
        "signals_used": trained.signal_ids,
        # The services whose alerting this model changes: the registry's tier-1 policy reads it.
        "services": sorted({f.series_id.split("/", 1)[0] for f in trained.feedback}),
        **(extra_config or {}),
    }
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "model"
        trained.detector.save(directory)
        if series is not None:
            saved = json.loads((directory / "config.json").read_text())
            saved["rules"] = derive_rules(trained, series, signals)
            (directory / "config.json").write_text(json.dumps(saved, indent=2, sort_keys=True))
        return register_version(
            ws,
            ModelVersionCreate(
                task=ModelTask.METRIC_ANOMALY,
                config=config,
                signal_set_version=signal_set_version,
                training_start=training_start,
                training_end=trained.train_end,
            ),
            artifact_dir=directory,
            now=now,
        )
