"""How a metric-anomaly version would have done beside the champion, on data it never learned.

A version in shadow does not page anyone. Its report replays it over the stored series from the
end of its training (or ``since``) to the newest data, next to what operations actually had
(the champion, else the static alerts), and scores both against the incident windows reviewers
have accepted since: the evidence a person reads before approving it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lessonloop.domain.access import Permission
from lessonloop.domain.enums import Decision, ModelTask
from lessonloop.domain.models import EvaluationCreate, EvaluationRead
from lessonloop.errors import InputError
from lessonloop.services import registry, signals
from lessonloop.services.access import require
from lessonloop.services.detection_eval import (
    PeriodScore,
    compare_mttd,
    metric_estimates,
    score_period,
)
from lessonloop.services.learn import labelled_incidents, scoped_static_pages, version_pages
from lessonloop.services.learning import load_all_series
from lessonloop.services.workspace import Workspace

__all__ = ["ShadowReport", "record_shadow_report", "shadow_report"]


@dataclass
class ShadowReport:
    version_id: int
    status: str
    start: dt.datetime
    end: dt.datetime
    baseline: str
    shadow: PeriodScore
    incumbent: PeriodScore
    verdict: Decision
    signal_set_version: int | None
    notes: list[str] = field(default_factory=list)
    baseline_id: int | None = None


def shadow_report(
    ws: Workspace, version_id: int, *, since: dt.datetime | None = None, seed: int = 0
) -> ShadowReport:
    """Score the version and the incumbent over the same unseen span (see the module doc)."""
    version = registry.show_version(ws, version_id).version
    if version.task != ModelTask.METRIC_ANOMALY:
        raise InputError(
            f"model version {version_id} is a model for {version.task.value}; shadow reports "
            "replay metric_anomaly detectors",
            field="version",
        )
    series = load_all_series(ws)
    if not series:
        raise InputError("the workspace has no metric series", field="series")
    end = max(dt.datetime.fromtimestamp(int(s.timestamps[-1]), dt.UTC) for s in series)
    start = since or version.training_end
    if start is None or start >= end:
        shown = f" ({start:%Y-%m-%d})" if start else ""
        raise InputError(
            f"no stored data after the start{shown}: the version has nothing unseen to run on; "
            "import newer series or give --since",
            field="since",
        )
    pages = version_pages(ws, version, series, start, end)
    if pages is None:
        raise InputError(f"model version {version_id} has no artifact", field="version")
    set_version = signals.latest_set_version(ws)
    accepted = signals.signals_of_set(ws, set_version) if set_version else {}
    labels = labelled_incidents(accepted)
    champion = next(
        (
            v
            for v in registry.list_versions(ws, task=ModelTask.METRIC_ANOMALY)
            if v.status.value == "champion" and v.id != version_id
        ),
        None,
    )
    incumbent_pages = version_pages(ws, champion, series, start, end) if champion else None
    baseline = (
        f"champion {champion.id}" if champion and incumbent_pages is not None else ("static alerts")
    )
    scope_note = ""
    if incumbent_pages is None:
        incumbent_pages, scope_note = scoped_static_pages(ws, series, start, end)
    shadow = score_period(pages, labels, start, end, seed=seed)
    incumbent = score_period(incumbent_pages, labels, start, end, seed=seed)
    verdict = Decision(compare_mttd(shadow, incumbent, cap_minutes=240, seed=seed))
    notes = []
    if version.training_end is not None and start < version.training_end:
        notes.append(
            f"the version learned from labels up to {version.training_end:%Y-%m-%d}; the replay "
            f"starts earlier ({start:%Y-%m-%d}), which flatters it"
        )
    if champion is not None and champion.training_end and start < champion.training_end:
        notes.append(
            f"champion {champion.id} learned from labels up to "
            f"{champion.training_end:%Y-%m-%d}, inside the replay: the comparison favours it"
        )
    if scope_note:
        notes.append(scope_note)
    if not any(start <= incident.start < end for incident in labels):
        notes.append(
            "no accepted incident window falls in the replay: detection delay and recall "
            "cannot be measured, and every page counts as a false alert"
        )
    return ShadowReport(
        version_id,
        version.status.value,
        start,
        end,
        baseline,
        shadow,
        incumbent,
        verdict,
        set_version,
        notes,
        champion.id if baseline.startswith("champion") and champion else None,
    )


def record_shadow_report(ws: Workspace, report: ShadowReport) -> EvaluationRead:
    """Keep a shadow report as the version's evaluation (with its caveats), so an approver and
    the programme metrics see the evidence."""
    require(ws, Permission.TRAIN, "record evaluations")
    against = report.baseline.replace("champion", "version")
    return registry.record_evaluation(
        ws,
        EvaluationCreate(
            model_version_id=report.version_id,
            baseline_version_id=report.baseline_id,
            split={
                "kind": "shadow",
                "start": report.start.isoformat(),
                "end": report.end.isoformat(),
                "signal_set": report.signal_set_version,
            },
            metrics=metric_estimates(report.shadow),
            baseline_metrics=metric_estimates(report.incumbent),
            comparisons={"mttd_minutes": {"verdict": report.verdict.value, "against": against}},
            decision=report.verdict,
            notes="; ".join(["shadow replay", *report.notes]),
        ),
    )
