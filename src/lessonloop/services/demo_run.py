"""``lessonloop demo``: the whole learning loop, quarter by quarter, on a generated organisation.

Everything goes through the same services a user runs on real data: the generated files are
imported with the real importers, signals are extracted and reviewed, candidates are trained,
compared with the champion on held-out history, approved, promoted and exported. The ground
truth of the generator is read only to score the report.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from lessonloop.alerting import AlertPolicy
from lessonloop.demo import GeneratedOrg, generate_organisation
from lessonloop.domain.enums import Decision, ModelTask, SignalKind, SignalStatus
from lessonloop.domain.models import EvaluationCreate
from lessonloop.domain.services import ServiceCreate
from lessonloop.domain.signals import FailureModeLabel, SignalRead, label_words
from lessonloop.services import catalog, importing, signals
from lessonloop.services.demo_alerts import alert_quarter
from lessonloop.services.demo_programme import Programme
from lessonloop.services.demo_workspace import acting, staff
from lessonloop.services.detection_eval import (
    LabelledIncident,
    PeriodScore,
    compare_mttd,
    metric_estimates,
    score_period,
)
from lessonloop.services.import_sources import ImportOptions
from lessonloop.services.learn import labelled_incidents, static_pages
from lessonloop.services.learning import (
    detections_by_service,
    load_all_series,
    register_detector,
    train_metric_anomaly,
)
from lessonloop.services.workspace import Workspace

__all__ = ["DemoResult", "run_demo"]

Progress = Callable[[str, int, int], None]
ACCEPT_RATES = {
    SignalKind.INCIDENT_WINDOW: 0.92,
    SignalKind.ALERT_VERDICT: 0.85,
    SignalKind.THRESHOLD_HINT: 0.8,
}
DEFAULT_ACCEPT = 0.6
MINUTE = dt.timedelta(minutes=1)
# A quarter closes on its last evening, starting this long before its end: the quarter's
# alerts come in, its signal set is cut, the candidate that ran in shadow is evaluated, then
# approved and promoted or rejected, the alert policy is learned and decided (all inside the
# quarter, so the last quarter's promotions fall inside the period), and the next candidate,
# which learns from the whole quarter, is trained an hour after it ends (minutes after the
# close begins).
CLOSE_LEAD = dt.timedelta(hours=6)
CLOSE_AT = {
    "alerts": 0,
    "extract": 5,
    "cut": 30,
    "shadow": 60,
    "approve": 90,  # then the second approver 15 minutes later
    "promote": 135,
    "alert policy": 180,  # then its decisions, 30 to 60 minutes later (demo_alerts)
    "train": 420,
}


@dataclass
class DemoResult:
    report: dict[str, Any]
    sources: GeneratedOrg
    log: list[str] = field(default_factory=list)


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _truth_incidents(truth: dict[str, Any]) -> list[LabelledIncident]:
    return [
        LabelledIncident(
            key=i["incident_key"],
            start=_time(i["true_start"]),
            end=_time(i["true_end"]),
            windows={
                s["service"]: (_time(s["true_start"]), _time(s["true_end"])) for s in i["services"]
            },
        )
        for i in truth["incidents"]
    ]


def _closing(quarter_end: dt.datetime, step: str) -> dt.datetime:
    """When a step of the quarter's close happens (``CLOSE_AT``)."""
    return quarter_end - CLOSE_LEAD + CLOSE_AT[step] * MINUTE


def _register_services(ws: Workspace, org: GeneratedOrg, now: dt.datetime) -> None:
    data = yaml.safe_load(org.services_file.read_text())
    entries = data["services"] if isinstance(data, dict) else data
    existing = {s.name for s in catalog.list_services(ws)}
    for entry in entries:
        if entry["name"] not in existing:
            catalog.add_service(
                ws,
                ServiceCreate(
                    name=entry["name"],
                    tier=entry.get("tier", 2),
                    team=entry.get("team"),
                    owner=entry.get("owner"),
                    domain=entry.get("domain"),
                ),
                now=now,
            )
    for entry in entries:
        for target in entry.get("depends_on", []):
            catalog.add_dependency(ws, entry["name"], target, now=now)


def _review_proposals(
    ws: Workspace,
    rng: random.Random,
    log: list[str],
    modes: dict[str, str],
    decided_at: Callable[[SignalRead], dt.datetime],
) -> dict[str, int]:
    """The simulated reviewer: accepts most structured proposals, rejects some, as people do,
    each at its simulated time (``decided_at``).

    A failure-mode label is judged as the review's author would: accepted when it names the
    incident's failure mode (``modes``: incident key -> mode), rejected otherwise.
    """
    funnel = {"proposed": 0, "accepted": 0, "rejected": 0}
    for proposal in signals.list_signals(ws, status=SignalStatus.PROPOSED):
        funnel["proposed"] += 1
        if isinstance(proposal.payload, FailureModeLabel):
            label = proposal.payload
            right = label_words(modes.get(label.incident_key, "")) == label_words(label.label)
        else:
            right = rng.random() < ACCEPT_RATES.get(proposal.kind, DEFAULT_ACCEPT)
        now = decided_at(proposal)
        if right:
            signals.accept_signal(ws, proposal.id, note="demo reviewer", now=now)
            funnel["accepted"] += 1
        else:
            why = (
                "not the failure mode"
                if isinstance(proposal.payload, FailureModeLabel)
                else ("not convinced")
            )
            signals.reject_signal(ws, proposal.id, f"demo reviewer: {why}", now=now)
            funnel["rejected"] += 1
    log.append(f"reviewed {funnel['proposed']} proposals: {funnel['accepted']} accepted")
    return funnel


def _score(
    pages: dict[str, list[dt.datetime]],
    incidents: list[LabelledIncident],
    quarter: dict[str, str],
    seed: int,
) -> PeriodScore:
    return score_period(pages, incidents, _time(quarter["start"]), _time(quarter["end"]), seed=seed)


def _extraction_notes(
    results: list[signals.ReviewExtraction], seen: set[tuple[int, str, str]]
) -> dict[str, int]:
    """Extraction problems first seen this quarter, counted by section (``action_items``...).

    Every quarter re-extracts every review, so a problem is counted once, when its review
    first comes in. The generator writes these reviews, so a ``signal_blocks`` problem is a
    bug of the generator; the others are reviews as people write them (a detect action
    item that names no threshold value).
    """
    counts: dict[str, int] = {}
    for result in results:
        for problem in result.problems:
            key = (result.review_id, problem.field, problem.message)
            if key not in seen:
                seen.add(key)
                section = problem.field.split("[", 1)[0].split(".", 1)[0] or "review"
                counts[section] = counts.get(section, 0) + 1
    return counts


def _insight_count(ws: Workspace) -> int:
    from lessonloop.services.reviews import list_reviews

    return sum(r.insights for r in list_reviews(ws))


def _top_insights(
    ws: Workspace,
    champion: tuple[int, Any, Any],
    series: list[Any],
    truth: list[LabelledIncident],
    end: dt.datetime,
    sources_dir: Path,
    seed: int,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Ablation on held-out quarters: retrain the champion without each review's or insight's
    signals and measure how detection changes against the ground truth."""
    from lessonloop.services.learn import NO_FEEDBACK, attribute_by_insight
    from lessonloop.services.reviews import get_review

    _, trained, accepted = champion
    pages = detections_by_service(
        trained.detector, series, trained.train_end, end, trained.feedback
    )
    full = score_period(pages, truth, trained.train_end, end, seed=seed)
    effects = attribute_by_insight(
        ws, trained, accepted, series, end, truth, full, top=limit, seed=seed
    )
    by_id = {s.id: s for group in accepted.values() for s in group}
    out = []
    for effect in effects:
        first = by_id[effect["signals"][0]].provenance
        key, insight_id = first.incident_key or "", first.insight_id
        text = "the review's timeline markers and alert verdicts"
        if effect["group"] == NO_FEEDBACK:
            key, insight_id = "", None
            text = "all reviews together: the same detectors with their defaults, learning nothing"
        elif effect["group"].startswith("every "):
            key, insight_id, text = "", None, f"{effect['group']} across all reviews"
        elif insight_id is not None and key:
            text = next((i.text for i in get_review(ws, key).insights if i.id == insight_id), text)
        out.append(
            {
                "incident_key": key,
                "insight_id": insight_id,
                "group": effect["group"],
                "text": text,
                "signals_used": len(effect["signals"]),
                "effect_mttd_minutes": effect.get("effect_mttd_minutes"),
                "effect_false_alerts_per_day": effect.get("effect_false_alerts_per_day"),
                "effect_recall": effect.get("effect_recall"),
                "review": str((sources_dir / "reviews" / f"{key}.md").resolve()) if key else "",
            }
        )
    return sorted(
        out,
        key=lambda e: (
            -(abs(e["effect_mttd_minutes"] or 0) * 0.1 + abs(e["effect_false_alerts_per_day"] or 0))
        ),
    )


def _programme(ws: Workspace, truth_incidents: int, as_of: dt.datetime) -> dict[str, Any]:
    """The learning programme's metrics (docs/programme.md) as of the end of the simulated
    period, beside the generator's count."""
    from lessonloop.services.programme import programme_metrics

    metrics = programme_metrics(ws, now=as_of).as_dict()
    return {"incidents (ground truth)": truth_incidents, **metrics}


def _import_reviews(
    ws: Workspace, files: list[Path], programme: Programme, quarter_end: dt.datetime
) -> importing.ImportSummary:
    """Import each review file when its author does (hours after its ``written_at``), extract
    its signal proposals then (in the order `extract_all` takes reviews), and plan what happens
    to it; one summary for all files."""
    from lessonloop.services.reviews import get_review, list_reviews, read_review_file

    summary = importing.ImportSummary()
    imported: dict[str, dt.datetime] = {}
    for path in files:
        at = programme.import_time(read_review_file(ws, path).written_at, quarter_end)
        one = importing.import_files(
            ws, "markdown", [path], options=ImportOptions(create_incident=True, now=at)
        )
        summary.files += one.files
        summary.errors.extend(one.errors)
        for kind, counter in one.outcomes.items():
            for outcome, count in counter.items():
                summary.record(kind, outcome, count)
        if not one.errors:
            imported[path.stem] = at
    for found in list_reviews(ws):
        if found.incident_key in imported:
            at = imported[found.incident_key]
            signals.extract_review(ws, str(found.id), now=at + dt.timedelta(minutes=10))
            incident = catalog.get_incident(ws, found.incident_key)
            ended = incident.resolved_at or incident.started_at
            programme.review_imported(get_review(ws, str(found.id)), at, ended)
    return summary


def _record_shadow(
    ws: Workspace,
    candidate_id: int,
    champion_id: int | None,
    quarter: dict[str, Any],
    shadow: PeriodScore,
    incumbent: PeriodScore,
    verdict: str,
    now: dt.datetime,
) -> None:
    """Record the quarter in shadow as the candidate's evaluation (at `now`), before anyone
    approves it."""
    from lessonloop.services import registry

    registry.record_evaluation(
        ws,
        EvaluationCreate(
            model_version_id=candidate_id,
            baseline_version_id=champion_id,
            split={"kind": "shadow", "start": quarter["start"], "end": quarter["end"]},
            metrics=metric_estimates(shadow),
            baseline_metrics=metric_estimates(incumbent),
            comparisons={
                "mttd_minutes": {
                    "verdict": verdict,
                    "against": f"version {champion_id}" if champion_id else "static alerts",
                }
            },
            decision=Decision(verdict),
            notes="shadow run on the quarter's accepted incident windows",
        ),
        now=now,
    )


def run_demo(
    ws: Workspace,
    sources_dir: Path,
    *,
    quarters: int = 4,
    seed: int = 7,
    step_minutes: int = 5,
    progress: Progress | None = None,
    owner: str | None = None,
) -> DemoResult:
    """Generate the organisation, then run the loop quarter by quarter; returns the report.

    Meant for a fresh workspace (the CLI's is made by ``open_demo_workspace``). The loop runs
    with roles in force (docs/demo-organisation.md) and acts as its own people: `demo`
    contributes, reviews and trains, three approvers approve; `owner` (default: the
    workspace's actor) is made an admin, so it can go on using the workspace afterwards.
    """
    keeper = owner or ws.actor
    with acting(ws, "demo"):
        return _run_loop(
            ws,
            sources_dir,
            quarters=quarters,
            seed=seed,
            step_minutes=step_minutes,
            progress=progress,
            owner=keeper,
        )


def _run_loop(
    ws: Workspace,
    sources_dir: Path,
    *,
    quarters: int,
    seed: int,
    step_minutes: int,
    progress: Progress | None,
    owner: str,
) -> DemoResult:
    note = progress or (lambda _d, _n, _t: None)
    log: list[str] = []
    org = generate_organisation(
        sources_dir, seed=seed, quarters=quarters, step_minutes=step_minutes, progress=progress
    )
    truth = json.loads(org.truth_file.read_text())
    truth_incidents = _truth_incidents(truth)
    modes = {i["incident_key"]: str(i["failure_mode"]) for i in truth["incidents"]}
    quarter_specs = truth["quarters"]
    # The organisation sets up as the period begins: roles, its service catalogue, its metrics.
    begin = _time(quarter_specs[0]["start"])
    staff(ws, owner, now=begin)
    _register_services(ws, org, begin + 5 * MINUTE)
    series_files = sorted(org.series_dir.glob("*/*.csv"))
    for number, path in enumerate(series_files, start=1):
        importing.import_files(
            ws,
            "series",
            [path],
            options=ImportOptions(
                service=path.parent.name, series_name=path.stem, now=begin + 10 * MINUTE
            ),
        )
        note("import series", number, len(series_files))
    series = load_all_series(ws)
    rng = random.Random(seed)
    period_end = _time(quarter_specs[-1]["end"])
    programme = Programme(ws, seed, period_end)
    champion: tuple[int, Any, Any] | None = None  # (version id, trained detector, signals)
    candidate: tuple[int, Any, Any] | None = None
    alert_champion: tuple[int, AlertPolicy] | None = None
    rows: list[dict[str, Any]] = []
    funnel_total = {"insights": 0, "proposed": 0, "accepted": 0, "rejected": 0}
    seen_notes: set[tuple[int, str, str]] = set()
    for index, quarter in enumerate(quarter_specs):
        label, q_end = quarter["label"], _time(quarter["end"])
        note("quarters", index, len(quarter_specs))
        alert_file = org.alerts_dir / f"{label}.jsonl"
        importing.import_files(
            ws, "alertmanager", [alert_file], options=ImportOptions(now=_closing(q_end, "alerts"))
        )
        review_files = [
            p
            for p in org.review_files
            if any(
                i.key == p.stem and _time(quarter["start"]) <= i.start < q_end
                for i in truth_incidents
            )
        ]
        summary = _import_reviews(ws, review_files, programme, q_end)
        outcomes = summary.as_dict().get("outcomes", {}).get("review", {})
        rejected = len(summary.errors)
        log.append(
            f"{label}: {len(review_files)} review files: "
            + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
            + (f", {rejected} rejected (as in life: see the errors)" if rejected else "")
        )
        notes = _extraction_notes(
            signals.extract_all(ws, now=_closing(q_end, "extract")), seen_notes
        )
        if notes:
            log.append(
                f"{label}: extraction notes: "
                + ", ".join(f"{where} {n}" for where, n in sorted(notes.items()))
            )
        funnel_total["insights"] = _insight_count(ws)
        cut_at = _closing(q_end, "cut")
        funnel = _review_proposals(
            ws, rng, log, modes, partial(programme.decision_time, cut=cut_at)
        )
        programme.run_until(q_end)
        for key in ("proposed", "accepted", "rejected"):
            funnel_total[key] += funnel[key]
        cut = signals.cut(ws, now=cut_at)
        accepted = signals.signals_of_set(ws, cut.signal_set.version)
        static = _score(static_pages(ws), truth_incidents, quarter, seed)
        row: dict[str, Any] = {
            "quarter": label,
            "baseline": static.as_dict(),
            "signal_set": cut.signal_set.version,
            "extraction_notes": notes,
        }
        if champion is not None:
            pages = detections_by_service(
                champion[1].detector, series, _time(quarter["start"]), q_end, champion[1].feedback
            )
            row["champion"] = _score(pages, truth_incidents, quarter, seed).as_dict()
            row["champion_version"] = champion[0]
        else:
            row["champion"] = static.as_dict()
            row["champion_version"] = None
        if candidate is not None:
            # The candidate ran in shadow this quarter: judge it on the reviewers' labels.
            labels = labelled_incidents(accepted)
            shadow_pages = detections_by_service(
                candidate[1].detector, series, _time(quarter["start"]), q_end, candidate[1].feedback
            )
            shadow = _score(shadow_pages, labels, quarter, seed)
            incumbent = (
                _score(
                    detections_by_service(
                        champion[1].detector,
                        series,
                        _time(quarter["start"]),
                        q_end,
                        champion[1].feedback,
                    ),
                    labels,
                    quarter,
                    seed,
                )
                if champion
                else _score(static_pages(ws), labels, quarter, seed)
            )
            verdict = compare_mttd(shadow, incumbent, cap_minutes=240, seed=seed)
            fewer_false = shadow.false_alerts_per_day <= incumbent.false_alerts_per_day
            row["shadow"] = {
                "version": candidate[0],
                "verdict": verdict,
                "labels": shadow.as_dict(),
                "incumbent": incumbent.as_dict(),
            }
            from lessonloop.services import registry

            _record_shadow(
                ws,
                candidate[0],
                champion[0] if champion else None,
                quarter,
                shadow,
                incumbent,
                verdict,
                _closing(q_end, "shadow"),
            )
            if (
                verdict != "worse"
                and fewer_false
                and (shadow.mttd_minutes or 1e9) <= (incumbent.mttd_minutes or 1e9)
            ):
                # Tier-1 services need two approvers: the SRE lead and the service owner.
                approve_at = _closing(q_end, "approve")
                for approver in ("demo-sre-lead", "demo-service-owner"):
                    state = registry.approve_version(
                        ws,
                        candidate[0],
                        approver=approver,
                        reason=f"shadow {label}: MTTD {verdict}, "
                        f"{shadow.false_alerts_per_day} false alerts/day",
                        now=approve_at,
                    )
                    if state.version.status.value == "approved":
                        break
                    approve_at += 15 * MINUTE
                with acting(ws, "demo-sre-lead"):
                    registry.promote_version(ws, candidate[0], now=_closing(q_end, "promote"))
                champion = candidate
                row["promoted"] = candidate[0]
                log.append(f"{label}: promoted model version {candidate[0]}")
            else:
                registry.reject_version(
                    ws,
                    candidate[0],
                    reason=f"shadow {label}: {verdict}",
                    approver="demo-approver",
                    now=_closing(q_end, "approve"),
                )
        if index > 0:
            # the alert policy learned from the quarters before, tested on this one
            row["alerts"], alert_champion = alert_quarter(
                ws,
                quarter,
                truth,
                alert_champion,
                log,
                seed=seed,
                now=_closing(q_end, "alert policy"),
            )
        if index + 1 < len(quarter_specs):
            trained = train_metric_anomaly(ws, accepted, train_end=q_end, series=series)
            version = register_detector(
                ws,
                trained,
                signal_set_version=cut.signal_set.version,
                training_start=_time(quarter_specs[0]["start"]),
                series=series,
                signals=accepted,
                now=_closing(q_end, "train"),
            )
            candidate = (version.id, trained, accepted)
            log.append(
                f"{label}: trained candidate {version.id} on signal set "
                f"v{cut.signal_set.version} ({len(trained.signal_ids)} signals used)"
            )
        rows.append(row)
    note("quarters", len(quarter_specs), len(quarter_specs))
    verified = programme.finish(seed)
    log.append(f"outcomes checked as of {period_end:%Y-%m-%d}: {verified} action items verified")
    used = set(champion[1].signal_ids) if champion else set()
    funnel_total["used by the champion"] = len(used)
    top = (
        _top_insights(
            ws,
            champion,
            series,
            truth_incidents,
            _time(quarter_specs[-1]["end"]),
            sources_dir,
            seed,
        )
        if champion
        else []
    )
    report = {
        "quarters": rows,
        "funnel": funnel_total,
        "log": log,
        "top_insights": top,
        "programme": _programme(ws, len(truth_incidents), period_end),
        "champion_version": champion[0] if champion else None,
        "alert_champion_version": alert_champion[0] if alert_champion else None,
        "task": ModelTask.METRIC_ANOMALY.value,
    }
    return DemoResult(report=report, sources=org, log=log)
