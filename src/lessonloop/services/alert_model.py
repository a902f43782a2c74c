"""The alert noise and correlation model as a use case: learn a policy from the workspace's
alert history, its incidents and the accepted alert verdicts, suppression and correlation
rules; prove it on the newest alerts against the policy in use; stop at the human gate.

The ground truth is the history itself: an alert belongs to an incident when a source linked
it, or when it fired on one of the incident's services from 30 minutes before the incident
started until it was resolved (`lessonloop.alerting.linking`). Reviewers' statements are
pseudo-firings the data can outweigh; their correlation rules are inhibitions as given.

Example::

    result = learn_alert_policy(ws, holdout_days=28)   # registers a candidate, records the test
    report = alert_noise_report(ws)                    # per family: firings, pages, why
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lessonloop.alerting import (
    DEFAULT_OPEN_FOR,
    AlertNoiseLearner,
    AlertPolicy,
    Firing,
    IncidentSpan,
    Inhibition,
    Prior,
    Verdict,
    family_of,
    link_alerts,
)
from lessonloop.domain.access import Permission
from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import (
    AlertVerdict,
    Decision,
    ModelStatus,
    ModelTask,
    Severity,
    SignalKind,
)
from lessonloop.domain.models import (
    EvaluationCreate,
    ExperimentCreate,
    MetricEstimate,
    ModelVersionCreate,
    ModelVersionRead,
)
from lessonloop.domain.signals import (
    AlertVerdictPayload,
    CorrelationRule,
    Matcher,
    SignalRead,
    SuppressionRule,
)
from lessonloop.errors import InputError
from lessonloop.evaluation.alert_noise import (
    MAX_ADDED_DELAY_MINUTES,
    AlertPeriodScore,
    compare_alert_policies,
    score_alert_period,
)
from lessonloop.registry.alertmanager_export import MAINTENANCE_ALERT
from lessonloop.registry.lifecycle import became_champion
from lessonloop.services import registry, signals
from lessonloop.services.access import require
from lessonloop.services.actions import detect_actions, list_action_items
from lessonloop.services.model_exports import policy_of_version
from lessonloop.services.outputs import save_figure
from lessonloop.services.signals import payloads
from lessonloop.services.workspace import Workspace
from lessonloop.storage import alerts as alert_store
from lessonloop.storage import incidents as incident_store
from lessonloop.storage import models as model_store

__all__ = [
    "AlertDisagreement",
    "AlertHistory",
    "AlertLearnResult",
    "FamilyRow",
    "NoiseReport",
    "alert_history",
    "configured_severity",
    "history_in",
    "parse_incident_severity",
    "severity_in_force",
    "severity_rank",
    "pages_in_force",
    "alert_noise_report",
    "plot_alert_noise",
    "compare_alert_decisions",
    "feedback_of",
    "learn_alert_policy",
    "policy_of_version",
]

Progress = Callable[[str, int, int], None]
NO_MODEL = "every alert pages"
ALERT_KINDS = (SignalKind.ALERT_VERDICT, SignalKind.SUPPRESSION_RULE, SignalKind.CORRELATION_RULE)


@dataclass(frozen=True)
class AlertHistory:
    """Every stored alert as a firing, oldest first, with the incident it belonged to."""

    firings: list[Firing]
    links: list[str | None]
    incidents: list[IncidentSpan]  # those that count as ground truth
    # every stored incident, counted or not: when what reviews say about each became known
    reviewed: list[IncidentSpan] | None = None

    def starts(self) -> list[dt.datetime]:
        return [f.start for f in self.firings]


def alert_history(ws: Workspace, *, incident_severity: Severity | None = None) -> AlertHistory:
    """The workspace's alerts and incidents, linked (see `history_in`)."""
    with ws.transaction() as session:
        return history_in(session, incident_severity=incident_severity)


def history_in(session: Session, *, incident_severity: Severity | None = None) -> AlertHistory:
    """`alert_history` inside a transaction the caller holds. With ``incident_severity`` only
    incidents of that severity or worse (SEV1 is the worst) count: where every page is an
    incident (PagerDuty), the low-severity ones are the pages themselves, not what alerts are
    judged by. An alert its source linked to a left-out incident is then linked by time and
    service like an alert without a link. What reviews of left-out incidents say (an alert is
    noise) still counts, from the end of the incident they are about."""
    alerts = alert_store.list_alerts(session=session)
    stored = incident_store.list_incidents(session=session)
    incidents = [
        i
        for i in stored
        if incident_severity is None
        or severity_rank(i.severity) <= severity_rank(incident_severity)
    ]
    counted = {i.key for i in incidents}
    firings = [
        Firing(
            a.starts_at,
            a.ends_at,
            {"alertname": a.name, **a.labels},
            a.incident_key if a.incident_key in counted else None,
            a.fingerprint,
        )
        for a in alerts
    ]
    every = [
        IncidentSpan(i.key, i.started_at, i.resolved_at or i.mitigated_at, frozenset(i.services))
        for i in stored
    ]
    spans = [span for span in every if span.key in counted]
    return AlertHistory(firings, link_alerts(firings, spans), spans, every)


def severity_rank(severity: Severity | str) -> int:
    """1 for SEV1 (the worst) ... 5 for SEV5."""
    return int(Severity(severity).value[-1])


def parse_incident_severity(value: str | None) -> Severity | None:
    """``--incident-severity`` as given (``SEV2``, ``sev2``, ``2``), or None."""
    if value is None:
        return None
    text = value.strip().upper().removeprefix("SEV")
    try:
        return Severity(f"SEV{text}")
    except ValueError:
        raise InputError(
            f"not a severity: {value!r} (SEV1 ... SEV5; incidents of that severity or worse count)",
            field="--incident-severity",
        ) from None


def configured_severity(version: ModelVersionRead | None) -> Severity | None:
    """The incident severity an alert model was trained with (None: every incident)."""
    value = (version.config or {}).get("incident_severity") if version else None
    return Severity(value) if value else None


def severity_in_force(session: Session) -> Severity | None:
    """The incident severity the champion alert model counts (None: every incident)."""
    return configured_severity(
        model_store.champion_of(ModelTask.ALERT_CORRELATION, session=session)
    )


def said_at(history: AlertHistory) -> dict[str, dt.datetime]:
    """When what a review says about each incident can first be known: the incident's end
    (resolved, else mitigated, else six hours after it started, as the linking reads it).
    A review is written after the incident, never while its alerts still fire."""
    about = history.reviewed if history.reviewed is not None else history.incidents
    return {i.key: i.end or i.start + DEFAULT_OPEN_FOR for i in about}


def statements_before(
    accepted: Mapping[SignalKind, list[SignalRead]],
    history: AlertHistory,
    cut: dt.datetime,
) -> dict[SignalKind, list[SignalRead]]:
    """The statements a team could have made before ``cut``: from reviews of incidents that
    ended before it (a signal without an incident: created before it). A backtest must not
    learn from what reviewers said about the incidents it is tested on, including one that
    started before the cut and was still open at it."""
    ends = said_at(history)

    def known(signal: SignalRead) -> bool:
        key = signal.provenance.incident_key
        if key is not None and key in ends:
            return ends[key] < cut
        return signal.created_at < cut

    return {kind: [s for s in group if known(s)] for kind, group in accepted.items()}


def feedback_of(
    accepted: Mapping[SignalKind, list[SignalRead]],
    incident_ends: Mapping[str, dt.datetime] | None = None,
    *,
    now: dt.datetime | None = None,
) -> tuple[list[Prior], list[Inhibition]]:
    """Reviewers' statements the learner reads: verdicts and suppressions as priors,
    correlation rules (and ``while_firing`` suppressions) as inhibitions. A prior counts from
    the end of the incident whose review made it (`said_at`; else from when the signal was
    stored), and a suppression until it expires. ``maintenance`` and ``while_firing``
    suppressions are inhibitions (their source: ``LessonloopMaintenance``, or the
    ``while_firing`` matchers), left out once expired at ``now``."""
    ends = incident_ends or {}
    now = now or utc_now()
    priors: list[Prior] = []
    rules: list[Inhibition] = []

    def since(signal: SignalRead) -> dt.datetime:
        key = signal.provenance.incident_key
        return ends.get(key or "", signal.created_at)

    for signal, verdict in payloads(accepted, SignalKind.ALERT_VERDICT, AlertVerdictPayload):
        if verdict.verdict in (AlertVerdict.NOISE, AlertVerdict.DUPLICATE):
            priors.append(
                Prior(tuple(verdict.matchers), False, signal_id=signal.id, since=since(signal))
            )
        elif verdict.verdict == AlertVerdict.ACTIONABLE:
            priors.append(
                Prior(tuple(verdict.matchers), True, signal_id=signal.id, since=since(signal))
            )
    for signal, rule in payloads(accepted, SignalKind.SUPPRESSION_RULE, SuppressionRule):
        if rule.condition in ("while_firing", "maintenance"):
            # an inhibition, as the signal export renders it; one that has expired is gone
            if rule.expires_at is not None and rule.expires_at <= now:
                continue
            source = (
                tuple(rule.while_firing)
                if rule.condition == "while_firing"
                else (Matcher(label="alertname", value=MAINTENANCE_ALERT),)
            )
            if source:
                rules.append(Inhibition(source, tuple(rule.matchers), 0, 0.0, signal.id))
            continue
        hours = frozenset(rule.hours_utc) if rule.condition == "time_of_day" else None
        priors.append(
            Prior(
                tuple(rule.matchers),
                False,
                hours,
                signal_id=signal.id,
                since=since(signal),
                until=rule.expires_at,
            )
        )
    for signal, corr in payloads(accepted, SignalKind.CORRELATION_RULE, CorrelationRule):
        rules.append(Inhibition(tuple(corr.source), tuple(corr.target), 0, 0.0, signal.id))
    return priors, rules


def _champion(ws: Workspace) -> ModelVersionRead | None:
    champions = [
        v
        for v in registry.list_versions(ws, task=ModelTask.ALERT_CORRELATION)
        if v.status == ModelStatus.CHAMPION
    ]
    return champions[-1] if champions else None


@dataclass
class AlertLearnResult:
    """A registered alert policy and its comparison with the policy in use on the holdout."""

    candidate_id: int
    baseline: str
    candidate: AlertPeriodScore
    incumbent: AlertPeriodScore
    decision: str
    reason: str
    lost_incidents: list[str]
    evaluation_id: int
    experiment_id: int
    signal_set_version: int | None
    policy: dict[str, Any]
    attribution: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _any_service(matchers: Sequence[Matcher]) -> bool:
    """No exact ``service`` matcher (``service=""``, alerts without the label, is exact)."""
    return not any(m.label == "service" and m.op == "=" for m in matchers)


def silenced_services(policy: AlertPolicy, history: AlertHistory) -> list[str]:
    """The services whose alerts the policy can keep from paging: suppressed families, the
    exact ``service`` of inhibition targets, and the services of stored alerts any target
    matches (``alertname="HighErrorRate"`` silences it on every service it fires on)."""
    found = set(policy.services())
    label_sets = {tuple(sorted(f.labels.items())) for f in history.firings}
    for labels in label_sets:
        plain = dict(labels)
        if plain.get("service") and any(
            all(m.matches(plain) for m in rule.target) for rule in policy.inhibitions
        ):
            found.add(plain["service"])
    return sorted(found - {""})


def training_links(
    history: AlertHistory, train_end: dt.datetime
) -> tuple[list[Firing], list[str | None]]:
    """The firings before ``train_end`` and their links as known then: linked again among
    the incidents that had started (a later incident must not take an alert from an earlier
    one, nor claim an alert that was noise when the model learned)."""
    known = [i for i in history.incidents if i.start < train_end]
    keys = {i.key for i in known}
    firings = [f for f in history.firings if f.start < train_end]
    links = link_alerts(firings, known)
    return firings, [k if k in keys else None for k in links]


def _fit(
    learner: AlertNoiseLearner,
    history: AlertHistory,
    train_end: dt.datetime,
    priors: Sequence[Prior],
    rules: Sequence[Inhibition],
) -> AlertPolicy:
    firings, links = training_links(history, train_end)
    return learner.fit(firings, links, priors=priors, rules=rules)


def _score(
    policy: AlertPolicy, history: AlertHistory, start: dt.datetime, end: dt.datetime, seed: int
) -> AlertPeriodScore:
    verdicts = policy.decide(history.firings)
    return score_alert_period(
        history.starts(),
        [v.kept for v in verdicts],
        history.links,
        start,
        end,
        paged_at=[v.paged_at for v in verdicts],
        seed=seed,
    )


def _metrics(score: AlertPeriodScore) -> dict[str, MetricEstimate]:
    return {name: MetricEstimate.rounded(v, ci) for name, (v, ci) in score.metrics().items()}


def _difference(without: float | None, with_: float | None) -> float | None:
    return None if without is None or with_ is None else round(without - with_, 4)


def _attribute(
    learner: AlertNoiseLearner,
    history: AlertHistory,
    train_end: dt.datetime,
    end: dt.datetime,
    accepted: Mapping[SignalKind, list[SignalRead]],
    full: AlertPeriodScore,
    *,
    top: int,
    seed: int,
) -> list[dict[str, Any]]:
    """Refit without each top insight's statements (and without each kind). Each ``effect_``
    is "without minus with": positive noise, pages or delay effects mean the statements
    lowered them. ``incidents_kept_paging`` is "with minus without": holdout incidents that
    page only because of the statements (negative: incidents they cost)."""
    priors, rules = feedback_of(accepted, said_at(history))
    used = {p.signal_id for p in priors} | {r.signal_id for r in rules}
    by_id = {s.id: s for group in accepted.values() for s in group if s.id in used}
    groups: dict[str, set[int]] = {}
    for signal in by_id.values():
        p = signal.provenance
        name = (
            f"insight {p.insight_id}" if p.insight_id is not None else f"review of {p.incident_key}"
        )
        groups.setdefault(name, set()).add(signal.id)
    chosen = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
    for kind in ALERT_KINDS:
        ids = {s.id for s in accepted.get(kind, []) if s.id in used}
        if ids:
            chosen.append((f"every {kind.value} signal", ids))
    out = []
    for name, ids in chosen:
        policy = _fit(
            learner,
            history,
            train_end,
            [p for p in priors if p.signal_id not in ids],
            [r for r in rules if r.signal_id not in ids],
        )
        ablated = _score(policy, history, train_end, end, seed)
        out.append(
            {
                "group": name,
                "signals": sorted(ids),
                "effect_noise_pages_per_day": round(
                    ablated.noise_pages_per_day - full.noise_pages_per_day, 4
                ),
                "incidents_kept_paging": sum(full.covered.values()) - sum(ablated.covered.values()),
                "effect_pages_per_day": round(ablated.pages_per_day - full.pages_per_day, 4),
                "effect_pages_per_incident": _difference(
                    ablated.pages_per_incident, full.pages_per_incident
                ),
                "effect_added_delay_minutes": _difference(
                    ablated.added_delay_minutes, full.added_delay_minutes
                ),
            }
        )
    return out


PAGE_METRICS = {"pages", "noise_pages", "pages_per_day", "noise_pages_per_day"}


def _page_actions(
    ws: Workspace, known: Mapping[SignalKind, list[SignalRead]], used: set[int | None]
) -> list[int]:
    """The detect action items of the reviews the policy learned from whose expected effect
    is on pages: promoting the policy ships them (``lessonloop outcomes check``)."""
    candidates = set(detect_actions(ws, known, {i for i in used if i is not None}))
    return sorted(
        item.id
        for item in list_action_items(ws)
        if item.id in candidates
        and item.expected_effect is not None
        and item.expected_effect.metric.lower() in PAGE_METRICS
    )


def learn_alert_policy(
    ws: Workspace,
    *,
    holdout_days: float = 28.0,
    holdout_start: dt.datetime | None = None,
    suppress_below: float = 0.1,
    attribution_top: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
    incident_severity: Severity | None = None,
    now: dt.datetime | None = None,
) -> AlertLearnResult:
    """Extract, cut a signal set, learn on the alerts before the last ``holdout_days``, score
    the newest alerts against the champion alert model (else: every alert pages), register
    the candidate and record the evaluation. Nothing is approved here.

    ``holdout_start`` fixes the cut instead (the holdout runs from it to the newest alert).
    ``incident_severity`` counts only incidents that severe or worse (see `history_in`); the
    version records it, and `alerts noise` and outcome checks of its pages use it too. Without
    it, the champion's severity is used, so both are judged by the same incidents.

    ``now`` (default: the time of the run) is when it all happens: the extraction, the signal
    set, the version, its evaluation and experiment record it (a back-fill, ``lessonloop
    demo``), and suppressions that have expired by then are left out.
    """
    require(ws, Permission.TRAIN, "train models")
    if not math.isfinite(holdout_days) or holdout_days < 1:
        raise InputError("must be at least 1 day", field="holdout_days")
    if attribution_top < 0:
        raise InputError("must be 0 or more", field="attribution_top")
    try:
        learner = AlertNoiseLearner(suppress_below=suppress_below)
    except ValueError as exc:
        raise InputError(str(exc), field="suppress_below") from exc
    note = progress or (lambda _d, _n, _t: None)
    # every check before anything is written: a refused run leaves no signal set behind
    champion = _champion(ws)
    inherited = incident_severity is None and configured_severity(champion) is not None
    if inherited:  # judge the candidate by the incidents its champion was judged by
        incident_severity = configured_severity(champion)
    history = alert_history(ws, incident_severity=incident_severity)
    if not history.firings:
        raise InputError(
            "the workspace has no alerts; import them first ('lessonloop import alertmanager "
            "FILE' or 'lessonloop import opsgenie FILE')",
            field="alerts",
        )
    end = max(history.starts()) + dt.timedelta(seconds=1)
    train_end = holdout_start or end - dt.timedelta(days=holdout_days)
    holdout_days = (end - train_end) / dt.timedelta(days=1)
    training = sum(f.start < train_end for f in history.firings)
    if training == 0 or training == len(history.firings):
        first = min(history.starts())
        raise InputError(
            f"the alerts run from {first:%Y-%m-%d} to {end:%Y-%m-%d}: a {holdout_days:g}-day "
            f"holdout leaves {training} alerts to learn from and "
            f"{len(history.firings) - training} to test on; choose a holdout inside the history",
            field="holdout_days",
        )
    note("extract", 0, 5)
    signals.extract_all(ws, now=now)
    cut = signals.cut(ws, now=now)
    accepted = signals.signals_of_set(ws, cut.signal_set.version)
    note("train", 1, 5)
    known = statements_before(accepted, history, train_end)
    held_back = sum(len(accepted.get(k, [])) - len(known.get(k, [])) for k in ALERT_KINDS)
    priors, rules = feedback_of(known, said_at(history), now=now)
    policy = _fit(learner, history, train_end, priors, rules)
    note("evaluate", 2, 5)
    incumbent_policy = policy_of_version(champion) if champion else AlertPolicy()
    baseline = f"champion {champion.id}" if champion else NO_MODEL
    cand = _score(policy, history, train_end, end, seed)
    inc = _score(incumbent_policy, history, train_end, end, seed)
    comparison = compare_alert_policies(cand, inc, seed=seed)
    notes = []
    if not any(training_links(history, train_end)[1]):
        notes.append(
            "no training alert belongs to an incident: nothing can be told apart from noise, "
            "so nothing is suppressed and no inhibition is learned (record the incidents, or "
            "import them from PagerDuty, first)"
        )
    if held_back:
        notes.append(
            f"{held_back} reviewers' alert statements about incidents inside the holdout were "
            "held back from training"
        )
    if incident_severity is not None:
        notes.append(
            f"only {incident_severity.value} incidents or worse count: {len(history.incidents)} "
            "incidents are the ground truth"
            + (
                f" (as for champion {champion.id}; --incident-severity SEV5 counts every incident)"
                if inherited and champion
                else ""
            )
        )
    if champion and champion.training_end and champion.training_end > train_end:
        notes.append(
            f"the champion learned from alerts up to {champion.training_end:%Y-%m-%d}, inside "
            "the holdout: the comparison favours it"
        )
    note("attribute", 3, 5)
    attribution = _attribute(
        learner, history, train_end, end, known, cand, top=attribution_top, seed=seed
    )
    config = policy.to_config()
    used = {p.signal_id for p in priors} | {r.signal_id for r in rules}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "model"
        directory.mkdir()
        (directory / "config.json").write_text(
            json.dumps(config, indent=2, sort_keys=True), encoding="utf-8"
        )
        version = registry.register_version(
            ws,
            ModelVersionCreate(
                task=ModelTask.ALERT_CORRELATION,
                signal_set_version=cut.signal_set.version,
                training_start=min(history.starts()),
                training_end=train_end,
                config={
                    # tier-1 services need two approvers; so does a rule that can silence
                    # alerts of any service (an inhibition target without an exact service)
                    "services": silenced_services(policy, history),
                    "tier1": any(_any_service(r.target) for r in policy.inhibitions),
                    "suppressions": len(policy.suppressions),
                    "inhibitions": len(policy.inhibitions),
                    "threshold": policy.threshold,
                    "signals_used": sorted(i for i in used if i is not None),
                    "learner": policy.learner,
                    "training": policy.training,
                    "incident_severity": incident_severity.value if incident_severity else None,
                },
            ),
            artifact_dir=directory,
            now=now,
        )
    decision = Decision(comparison.verdict)
    evaluation = registry.record_evaluation(
        ws,
        EvaluationCreate(
            model_version_id=version.id,
            baseline_version_id=champion.id if champion else None,
            split={
                "train_end": train_end.isoformat(),
                "holdout_end": end.isoformat(),
                "holdout_days": holdout_days,
                "labels": "alerts linked to incidents (by source, or by service and time)",
                "training_links": "incidents that started before the holdout only",
                "training_statements": "signals about incidents that ended before the "
                f"holdout only ({held_back} alert statements about later incidents held back)",
            },
            metrics=_metrics(cand),
            baseline_metrics=_metrics(inc),
            comparisons={
                "noise_pages_per_day": {
                    "verdict": comparison.noise_verdict,
                    "p_value": round(comparison.noise_p_value, 4),
                    "against": baseline,
                },
                "incidents_lost": {"incidents": comparison.lost_incidents, "against": baseline},
                "incidents_delayed": {
                    "incidents": comparison.delayed_incidents,
                    "more_than_minutes": MAX_ADDED_DELAY_MINUTES,
                    "against": baseline,
                },
            },
            decision=decision,
            attribution=attribution,
            notes="; ".join(
                [
                    f"{len(cand.incidents)} holdout incidents with alerts, {cand.days} days",
                    comparison.reason,
                    *notes,
                ]
            ),
        ),
        now=now,
    )
    insight_ids = sorted(
        {
            s.provenance.insight_id
            for group in known.values()
            for s in group
            if s.id in used and s.provenance.insight_id
        }
    )
    experiment = registry.record_experiment(
        ws,
        ExperimentCreate(
            action_item_ids=_page_actions(ws, known, used),
            hypothesis=f"Alert history and reviewers' verdicts page less for nothing than "
            f"{baseline}, without losing an incident",
            insight_ids=insight_ids,
            task=ModelTask.ALERT_CORRELATION,
            baseline_version_id=champion.id if champion else None,
            candidate_version_id=version.id,
            evaluation_id=evaluation.id,
            data_range={"holdout_start": train_end.isoformat(), "holdout_end": end.isoformat()},
            decision=decision,
            notes="awaiting human approval",
        ),
        now=now,
    )
    note("done", 5, 5)
    return AlertLearnResult(
        version.id,
        baseline,
        cand,
        inc,
        comparison.verdict,
        comparison.reason,
        comparison.lost_incidents,
        evaluation.id,
        experiment.id,
        cut.signal_set.version,
        config,
        attribution,
        notes,
    )


@dataclass(frozen=True)
class FamilyRow:
    """One alert family over a period under a policy."""

    alertname: str
    service: str
    firings: int
    linked: int
    pages: int
    suppressed: int
    inhibited: int
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "alertname": self.alertname,
            "service": self.service,
            "firings": self.firings,
            "linked_to_incidents": self.linked,
            "pages": self.pages,
            "suppressed": self.suppressed,
            "inhibited": self.inhibited,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class NoiseReport:
    """The stored alerts replayed under a policy."""

    policy: str
    families: list[FamilyRow]  # noisiest first
    period: AlertPeriodScore | None  # None when no alert falls in the period
    trained_until: dt.datetime | None  # the policy learned from alerts before this
    every_alert: AlertPeriodScore | None = None  # the same period if every alert paged
    start: dt.datetime | None = None  # the period scored (the stored span inside the range)
    incident_severity: Severity | None = None  # only incidents this severe or worse count


def alert_noise_report(
    ws: Workspace,
    *,
    version_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    incident_severity: Severity | None = None,
) -> NoiseReport:
    """Replay the stored alerts under a policy (``version_id``, else the champion alert
    model, else no model): per family, how often it fired, belonged to an incident and paged.
    Incidents count as the policy's version was trained to count them, unless
    ``incident_severity`` says otherwise.
    """
    if since and until and until <= since:
        raise InputError("--until must be after --since", field="until")
    if version_id is not None:
        version = registry.show_version(ws, version_id).version  # NotFound: exit 4
        policy, name = policy_of_version(version), f"model version {version_id}"
        trained_until = version.training_end
        counted = configured_severity(version)
    else:
        champion = _champion(ws)
        policy = policy_of_version(champion) if champion else AlertPolicy()
        name = f"champion {champion.id}" if champion else NO_MODEL
        trained_until = champion.training_end if champion else None
        counted = configured_severity(champion)
    incident_severity = incident_severity or counted
    history = alert_history(ws, incident_severity=incident_severity)
    verdicts = policy.decide(history.firings)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    chosen = []
    for firing, link, verdict in zip(history.firings, history.links, verdicts, strict=True):
        if (since and firing.start < since) or (until and firing.start >= until):
            continue
        chosen.append((firing, link, verdict))
        row = rows.setdefault(
            family_of(firing.labels),
            {"firings": 0, "linked": 0, "pages": 0, "suppressed": 0, "inhibited": 0, "why": {}},
        )
        row["firings"] += 1
        row["linked"] += link is not None
        if verdict.kept:
            row["pages"] += 1
            if verdict.paged_at is not None:
                why = (
                    "paged late: still firing when its muted hours ended"
                    if verdict.rule is None
                    else "paged late: still firing when what inhibited it stopped"
                )
                row["why"][why] = row["why"].get(why, 0) + 1
        else:
            row["suppressed" if verdict.rule is None else "inhibited"] += 1
            row["why"][verdict.reason] = row["why"].get(verdict.reason, 0) + 1
    out = [
        FamilyRow(
            alertname,
            service,
            r["firings"],
            r["linked"],
            r["pages"],
            r["suppressed"],
            r["inhibited"],
            tuple(f"{n} x {why}" for why, n in sorted(r["why"].items(), key=lambda kv: -kv[1])[:3]),
        )
        for (alertname, service), r in rows.items()
    ]
    out.sort(key=lambda r: (-(r.firings - r.linked), r.alertname, r.service))
    if not chosen:
        return NoiseReport(name, out, None, trained_until, incident_severity=incident_severity)
    # the period is the stored history inside [since, until): days without data do not count
    first, last = history.firings[0].start, history.firings[-1].start + dt.timedelta(seconds=1)
    start = max(since, first) if since else first
    end = min(until, last) if until else last
    score = score_alert_period(
        [f.start for f, _, _ in chosen],
        [v.kept for _, _, v in chosen],
        [link for _, link, _ in chosen],
        start,
        end,
        paged_at=[v.paged_at for _, _, v in chosen],
    )
    every = score_alert_period(
        [f.start for f, _, _ in chosen],
        [True] * len(chosen),
        [link for _, link, _ in chosen],
        start,
        end,
    )
    return NoiseReport(name, out, score, trained_until, every, start, incident_severity)


def plot_alert_noise(report: NoiseReport, out: Path) -> Path:
    """Write a PNG: noise pages per day if every alert paged and under the policy, with a
    7-day mean, and where the policy's training history ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if report.period is None or report.every_alert is None or report.start is None:
        raise InputError("no alerts in that period: nothing to plot", field="--png")
    start = report.start
    first = np.datetime64(start.replace(tzinfo=None), "s")
    days = first + np.arange(report.period.days) * np.timedelta64(1, "D")
    fig, ax = plt.subplots(figsize=(10, 4))
    lines = [(report.every_alert, NO_MODEL, "0.6")]
    if report.policy != NO_MODEL:  # without a policy the two lines are the same line
        lines.append((report.period, report.policy, "tab:blue"))
    for score, label, colour in lines:
        values = np.asarray(score.noise_per_day, dtype=float)
        ax.step(
            days,
            values,
            where="post",
            color=colour,
            alpha=0.45,
            linewidth=0.8,
            label=f"{label} (each day)",
        )
        trailing = np.convolve(values, np.ones(7), mode="full")[: len(values)]
        mean = trailing / np.minimum(np.arange(1, len(values) + 1), 7)  # the first days: fewer
        ax.plot(days, mean, color=colour, linewidth=2, label=f"{label} (7-day mean)")
    trained: Any = (  # matplotlib's stubs type axvline's x as a float; it takes dates
        np.datetime64(report.trained_until.replace(tzinfo=None)) if report.trained_until else None
    )
    if trained is not None and days[0] <= trained <= days[-1]:
        ax.axvline(trained, color="tab:red", linestyle="--", linewidth=1)
        ax.annotate(
            "learned from the alerts left of this line",
            (trained, ax.get_ylim()[1]),
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="tab:red",
        )
    covered = sum(report.period.covered.values())
    ax.set_title(
        f"Noise pages per day under {report.policy} "
        f"(incidents paged {covered} of {len(report.period.incidents)})"
    )
    ax.set_ylabel("pages no incident followed")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0.0)
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        save_figure(fig, out)
    finally:
        plt.close(fig)
    return out


def pages_in_force(session: Session, history: AlertHistory) -> list[bool]:
    """Whether each stored alert paged under the alert policy in force when it fired: the
    alert_correlation version that became champion last before it (by promotion or by a
    rollback to it; none before the first promotion)."""
    promoted = [
        (at, order, version)
        for version in model_store.list_versions(session=session, task=ModelTask.ALERT_CORRELATION)
        for at, order in became_champion(version.id, session=session)
    ]
    promoted.sort(key=lambda item: item[:2])  # a promotion and a rollback in one second
    kept = [True] * len(history.firings)
    decided: dict[int, list[Verdict]] = {}
    for number, (at, _, version) in enumerate(promoted):
        until = promoted[number + 1][0] if number + 1 < len(promoted) else None
        if version.id not in decided:
            decided[version.id] = policy_of_version(version).decide(history.firings)
        verdicts = decided[version.id]
        for i, (firing, verdict) in enumerate(zip(history.firings, verdicts, strict=True)):
            if firing.start >= at and (until is None or firing.start < until):
                kept[i] = verdict.kept
    return kept


@dataclass(frozen=True)
class AlertDisagreement:
    """A stored alert two alert policies decide differently."""

    at: dt.datetime
    alertname: str
    service: str
    incident: str | None
    first: str  # "pages", or why not
    second: str


def compare_alert_decisions(ws: Workspace, first: int, second: int) -> list[AlertDisagreement]:
    """Every stored alert that pages under one alert_correlation version and not the other
    (or pages at another time), oldest first."""
    versions = [registry.show_version(ws, v).version for v in (first, second)]
    policies = [policy_of_version(v) for v in versions]  # refuses other tasks
    history = alert_history(ws)
    one, two = (p.decide(history.firings) for p in policies)

    def said(verdict: Verdict) -> str:
        if not verdict.kept:
            return verdict.reason
        return f"pages at {verdict.paged_at:%H:%M}" if verdict.paged_at else "pages"

    return [
        AlertDisagreement(
            firing.start,
            firing.labels.get("alertname", ""),
            firing.labels.get("service", ""),
            link,
            said(a),
            said(b),
        )
        for firing, link, a, b in zip(history.firings, history.links, one, two, strict=True)
        if (a.kept, a.paged_at) != (b.kept, b.paged_at)
    ]
