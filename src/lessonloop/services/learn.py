"""``lessonloop learn``: proposals → signal set → candidate → held-out evaluation → human gate.

The candidate is trained on labels that end before the holdout, then compared on the holdout
(the last ``holdout_days`` of the series) with the champion, or with the existing static alerts
when there is no champion yet. Attribution retrains without each top insight's signals and
measures what changes. Nothing is approved here: the run stops at the human gate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joblib import Parallel, delayed

from lessonloop.detectors.base import load_detector
from lessonloop.detectors.ensemble import SurpriseEnsemble
from lessonloop.domain.access import Permission
from lessonloop.domain.enums import Decision, ModelStatus, ModelTask, SignalKind
from lessonloop.domain.models import (
    EvaluationCreate,
    ExperimentCreate,
    MetricEstimate,
    ModelVersionRead,
)
from lessonloop.domain.signals import IncidentWindow, SignalRead
from lessonloop.errors import InputError
from lessonloop.registry.artifacts import verify_artifact
from lessonloop.services import registry, signals
from lessonloop.services.access import require
from lessonloop.services.actions import detect_actions
from lessonloop.services.detection_eval import (
    LabelledIncident,
    PeriodScore,
    compare_mttd,
    merge_episodes,
    score_period,
)
from lessonloop.services.learning import (
    TrainedDetector,
    build_feedback,
    detections_by_service,
    load_all_series,
    register_detector,
    train_metric_anomaly,
)
from lessonloop.services.signals import payloads
from lessonloop.services.workspace import Workspace
from lessonloop.storage import alerts as alert_store
from lessonloop.storage.series import StoredSeries

__all__ = [
    "LearnResult",
    "learn",
    "detect_actions",
    "labelled_incidents",
    "attribute_by_insight",
    "NO_FEEDBACK",
    "scoped_static_pages",
    "static_pages",
]

Progress = Callable[[str, int, int], None]


@dataclass
class LearnResult:
    candidate_id: int
    baseline: str
    candidate: PeriodScore
    incumbent: PeriodScore
    decision: Decision
    evaluation_id: int
    experiment_id: int
    signal_set_version: int
    attribution: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def labelled_incidents(accepted: Mapping[SignalKind, list[SignalRead]]) -> list[LabelledIncident]:
    """Incidents as reviewers labelled them: accepted windows grouped by incident."""
    grouped: dict[str, dict[str, tuple[dt.datetime, dt.datetime]]] = {}
    for signal, p in payloads(accepted, SignalKind.INCIDENT_WINDOW, IncidentWindow):
        key = signal.provenance.incident_key or f"signal-{signal.id}"
        old = grouped.setdefault(key, {}).get(p.service)
        grouped[key][p.service] = (
            (min(old[0], p.start), max(old[1], p.end)) if old else (p.start, p.end)
        )
    return [
        LabelledIncident(
            key=k,
            start=min(w[0] for w in ws.values()),
            end=max(w[1] for w in ws.values()),
            windows=ws,
        )
        for k, ws in sorted(grouped.items())
    ]


def static_pages(ws: Workspace) -> dict[str, list[dt.datetime]]:
    with ws.transaction() as session:
        stored = alert_store.list_alerts(session=session)
    pages: dict[str, list[dt.datetime]] = {}
    for alert in stored:
        pages.setdefault(alert.labels.get("service", ""), []).append(alert.starts_at)
    return {s: merge_episodes(t) for s, t in pages.items()}


def scoped_static_pages(
    ws: Workspace, series: Sequence[StoredSeries], start: dt.datetime, end: dt.datetime
) -> tuple[dict[str, list[dt.datetime]], str]:
    """The static alerts on the services a detector scores (those with stored series), and a
    note counting the alert episodes in [start, end) left out: on a service without series, or
    without a ``service`` label. A detector cannot page for what it does not watch, so counting
    those as the static side's false alerts would flatter the detector."""
    covered = {s.service for s in series}
    pages = static_pages(ws)
    outside = {
        service or "no service label": sum(start <= at < end for at in times)
        for service, times in pages.items()
        if service not in covered
    }
    outside = {service: n for service, n in outside.items() if n}
    kept = {service: times for service, times in pages.items() if service in covered}
    if not outside:
        return kept, ""
    named = ", ".join(f"{s} {n}" for s, n in sorted(outside.items(), key=lambda x: -x[1])[:3])
    more = "" if len(outside) <= 3 else f" and {len(outside) - 3} more"
    return kept, (
        f"{sum(outside.values())} static alert episodes in the holdout are outside the "
        f"detector's scope (no stored series for their service: {named}{more}) and left out "
        "of the comparison"
    )


def _overlap_note(ws: Workspace, champion_id: int | None, start: dt.datetime) -> str:
    """A warning when the champion learned from labels inside the holdout (it is favoured)."""
    if champion_id is None:
        return ""
    trained_to = registry.show_version(ws, champion_id).version.training_end
    if trained_to is None or trained_to <= start:
        return ""
    return (
        f"; the champion was trained on labels up to {trained_to:%Y-%m-%d}, inside the holdout "
        "that starts "
        f"{start:%Y-%m-%d}: the comparison favours it"
    )


def _champion_pages(
    ws: Workspace, series: Sequence[StoredSeries], start: dt.datetime, end: dt.datetime
) -> tuple[int, dict[str, list[dt.datetime]]] | None:
    champions = [
        v
        for v in registry.list_versions(ws, task=ModelTask.METRIC_ANOMALY)
        if v.status == ModelStatus.CHAMPION
    ]
    if not champions:
        return None
    pages = version_pages(ws, champions[0], series, start, end)
    return None if pages is None else (champions[0].id, pages)


def version_pages(
    ws: Workspace,
    version: ModelVersionRead,
    series: Sequence[StoredSeries],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, list[dt.datetime]] | None:
    """A registered detector's pages per service in [start, end) (None without an artifact)."""
    if not version.artifact_path or not version.artifact_hash:
        return None
    path = Path(version.artifact_path)
    verify_artifact(path, version.artifact_hash)
    detector = load_detector(path)
    accepted = (
        signals.signals_of_set(ws, version.signal_set_version) if version.signal_set_version else {}
    )
    with ws.transaction() as session:
        alerts = alert_store.list_alerts(session=session)
    train_end = version.training_end or start
    feedback, _ = build_feedback(series, accepted, alerts, train_end)
    return detections_by_service(detector, series, start, end, feedback)


def _without(
    accepted: Mapping[SignalKind, list[SignalRead]], drop: set[int]
) -> dict[SignalKind, list[SignalRead]]:
    return {k: [s for s in v if s.id not in drop] for k, v in accepted.items()}


def _ablate(
    ws: Workspace,
    accepted: Mapping[SignalKind, list[SignalRead]],
    drop: set[int],
    series: Sequence[StoredSeries],
    train_end: dt.datetime,
    end: dt.datetime,
    labels: list[LabelledIncident],
    profile: str,
    seed: int,
) -> PeriodScore | None:
    try:
        trained = train_metric_anomaly(
            ws, _without(accepted, drop), train_end=train_end, profile=profile, series=series
        )
    except InputError:
        return None
    pages = detections_by_service(trained.detector, series, train_end, end, trained.feedback)
    return score_period(pages, labels, train_end, end, seed=seed)


NO_FEEDBACK = "every signal (no feedback: the detectors' defaults)"


def attribute_by_insight(
    ws: Workspace,
    trained: TrainedDetector,
    accepted: Mapping[SignalKind, list[SignalRead]],
    series: Sequence[StoredSeries],
    end: dt.datetime,
    labels: list[LabelledIncident],
    full: PeriodScore,
    *,
    top: int = 5,
    profile: str = "standard",
    seed: int = 0,
    jobs: int = 2,
    by_kind: bool = True,
) -> list[dict[str, Any]]:
    """Retrain without each top insight's (or review's) signals; the change is its effect.

    With ``by_kind`` the signals of each kind other than incident windows (all noise verdicts,
    all threshold hints, ...) are also removed as a group, which shows what each kind buys, and
    a last row (``NO_FEEDBACK``) scores the same detectors with their defaults, learning
    nothing: what all the reviews bought together. Removing one review rarely changes what the
    learner chooses, so single-review effects are often zero while that row is not.
    """
    by_id = {s.id: s for group in accepted.values() for s in group}
    groups: dict[str, set[int]] = {}
    for signal_id in trained.signal_ids:
        signal = by_id.get(signal_id)
        if signal is None:
            continue
        p = signal.provenance
        name = (
            f"insight {p.insight_id}" if p.insight_id is not None else f"review of {p.incident_key}"
        )
        groups.setdefault(name, set()).add(signal_id)
    chosen = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
    if by_kind:
        used = set(trained.signal_ids)
        for kind, members in sorted(accepted.items()):
            ids = {s.id for s in members if s.id in used}
            if ids and kind != SignalKind.INCIDENT_WINDOW:
                chosen.append((f"every {kind.value} signal", ids))
    results: list[PeriodScore | None] = list(
        Parallel(n_jobs=jobs, prefer="threads")(
            delayed(_ablate)(
                ws, accepted, ids, series, trained.train_end, end, labels, profile, seed
            )
            for _, ids in chosen
        )
    )
    if by_kind:
        defaults = SurpriseEnsemble()
        pages = detections_by_service(defaults, series, trained.train_end, end, trained.feedback)
        chosen.append((NO_FEEDBACK, set(trained.signal_ids)))
        results.append(score_period(pages, labels, trained.train_end, end, seed=seed))
    out = []
    for (name, ids), ablated in zip(chosen, results, strict=True):
        entry: dict[str, Any] = {"group": name, "signals": sorted(ids)}
        if ablated is not None:
            entry["effect_mttd_minutes"] = (
                None
                if full.mttd_minutes is None or ablated.mttd_minutes is None
                else round(ablated.mttd_minutes - full.mttd_minutes, 2)
            )
            entry["effect_false_alerts_per_day"] = round(
                ablated.false_alerts_per_day - full.false_alerts_per_day, 3
            )
            entry["effect_recall"] = (
                None
                if full.recall is None or ablated.recall is None
                else round(full.recall - ablated.recall, 3)
            )
        else:
            entry["effect_mttd_minutes"] = None
            entry["note"] = "nothing left to learn from without it"
        out.append(entry)
    return out


def _metrics(score: PeriodScore) -> dict[str, MetricEstimate]:
    return {
        "mttd_minutes": MetricEstimate.rounded(score.mttd_minutes, score.mttd_ci),
        "recall": MetricEstimate.rounded(score.recall, score.recall_ci),
        "false_alerts_per_day": MetricEstimate.rounded(
            score.false_alerts_per_day, score.false_alerts_ci
        ),
        "precision": MetricEstimate.rounded(score.precision, None),
        "event_f1": MetricEstimate.rounded(score.f1, None),
    }


def learn(
    ws: Workspace,
    *,
    holdout_days: float = 28.0,
    profile: str = "standard",
    attribution_top: int = 5,
    folds: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> LearnResult:
    """Run the loop up to the human gate for the metric-anomaly task.

    With ``folds`` > 1 the backtest rolls: the last ``folds * holdout_days`` are split into
    consecutive windows, each scored by a model trained on the labels that end before it, and
    the pooled pages are compared with the incumbent over the same span.
    """
    require(ws, Permission.TRAIN, "train models")
    if folds < 1:
        raise InputError("folds must be at least 1", field="folds")
    if not math.isfinite(holdout_days) or holdout_days <= 0:
        raise InputError("must be a positive number of days", field="holdout_days")
    if attribution_top < 0:
        raise InputError("must be 0 or more", field="attribution_top")
    note = progress or (lambda _d, _n, _t: None)
    note("extract", 0, 5)
    signals.extract_all(ws)
    note("cut", 1, 5)
    cut = signals.cut(ws)
    accepted = signals.signals_of_set(ws, cut.signal_set.version)
    series = load_all_series(ws)
    if not series:
        raise InputError("the workspace has no metric series; import some first", field="series")
    end = max(dt.datetime.fromtimestamp(int(s.timestamps[-1]), dt.UTC) for s in series)
    start = end - dt.timedelta(days=holdout_days * folds)
    labels = labelled_incidents(accepted)
    if not any(start <= i.start < end for i in labels):
        raise InputError(
            f"no accepted incident windows in the holdout ({start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d}); lengthen --holdout-days or accept more signals",
            field="holdout_days",
        )
    note("train", 2, 5)
    candidate: dict[str, list[dt.datetime]] = {}
    fold_spans: list[dict[str, str]] = []
    for fold in range(folds):
        fold_start = start + dt.timedelta(days=holdout_days * fold)
        fold_end = min(end, fold_start + dt.timedelta(days=holdout_days))
        trained = train_metric_anomaly(
            ws, accepted, train_end=fold_start, profile=profile, series=series
        )
        pages = detections_by_service(
            trained.detector, series, fold_start, fold_end, trained.feedback
        )
        for service, times in pages.items():
            candidate.setdefault(service, []).extend(times)
        fold_spans.append({"train_end": fold_start.isoformat(), "end": fold_end.isoformat()})
    cand_score = score_period(candidate, labels, start, end, seed=seed)
    # The registered model is the last fold's; attribution compares like with like: its own
    # fold, with and without each group of signals.
    last_fold = score_period(pages, labels, trained.train_end, end, seed=seed)
    note("evaluate", 3, 5)
    champion = _champion_pages(ws, series, start, end)
    baseline_name = f"champion {champion[0]}" if champion else "static alerts"
    scope_note = ""
    if champion:
        incumbent_pages = champion[1]
    else:
        incumbent_pages, scope_note = scoped_static_pages(ws, series, start, end)
    inc_score = score_period(incumbent_pages, labels, start, end, seed=seed)
    verdict = Decision(compare_mttd(cand_score, inc_score, cap_minutes=240, seed=seed))
    note("attribute", 4, 5)
    attribution = attribute_by_insight(
        ws,
        trained,
        accepted,
        series,
        end,
        labels,
        last_fold,
        top=attribution_top,
        profile=profile,
        seed=seed,
    )
    version = register_detector(
        ws,
        trained,
        signal_set_version=cut.signal_set.version,
        extra_config={"holdout_start": start.isoformat(), "holdout_end": end.isoformat()},
        series=series,
        signals=accepted,
    )
    evaluation = registry.record_evaluation(
        ws,
        EvaluationCreate(
            model_version_id=version.id,
            baseline_version_id=champion[0] if champion else None,
            split={
                "train_end": start.isoformat(),
                "holdout_end": end.isoformat(),
                "folds": folds,
                "fold_spans": fold_spans,
                "scheme": "rolling origin: each fold is scored by a model trained on the labels "
                "that end before it; the metrics pool the folds",
                "registered_model_train_end": trained.train_end.isoformat(),
                "labels": "accepted incident windows",
            },
            metrics=_metrics(cand_score),
            baseline_metrics=_metrics(inc_score),
            comparisons={"mttd_minutes": {"verdict": verdict.value, "against": baseline_name}},
            decision=verdict,
            attribution=attribution,
            notes=f"{cand_score.incidents} holdout incidents, {cand_score.days:.0f} days"
            + _overlap_note(ws, champion[0] if champion else None, start)
            + (f"; {scope_note}" if scope_note else ""),
        ),
    )
    insight_ids = sorted(
        {
            s.provenance.insight_id
            for g in accepted.values()
            for s in g
            if s.id in set(trained.signal_ids) and s.provenance.insight_id
        }
    )
    experiment = registry.record_experiment(
        ws,
        ExperimentCreate(
            hypothesis="Signals from reviews make detection faster and quieter than "
            f"{baseline_name}",
            insight_ids=insight_ids,
            action_item_ids=detect_actions(ws, accepted, set(trained.signal_ids)),
            task=ModelTask.METRIC_ANOMALY,
            baseline_version_id=champion[0] if champion else None,
            candidate_version_id=version.id,
            evaluation_id=evaluation.id,
            data_range={"holdout_start": start.isoformat(), "holdout_end": end.isoformat()},
            decision=verdict,
            notes="awaiting human approval",
        ),
    )
    note("done", 5, 5)
    return LearnResult(
        version.id,
        baseline_name,
        cand_score,
        inc_score,
        verdict,
        evaluation.id,
        experiment.id,
        cut.signal_set.version,
        attribution,
        notes=[scope_note] if scope_note else [],
    )
