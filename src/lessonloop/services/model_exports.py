"""Use cases that ship an approved model back into operations, and shadow comparisons.

Example::

    rules = export_prometheus_rules(ws, version_id)  # Conflict unless approved or champion
    rules.text, rules.skipped  # the YAML; the rules left out and why
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from lessonloop.alerting import AlertPolicy
from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import ModelVersionRead
from lessonloop.domain.signals import (
    CorrelationRule,
    SuppressionRule,
    ThresholdHint,
    payload_adapter,
)
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.registry.alertmanager_export import (
    SourcedRule,
    build_alertmanager_config,
    render_alertmanager_yaml,
)
from lessonloop.registry.artifacts import read_config
from lessonloop.registry.rules_export import (
    HintRule,
    LearnedRule,
    Selector,
    build_rule_groups,
    parse_rules_config,
    render_rules_yaml,
    rule_selector,
    series_selector,
)
from lessonloop.registry.shadow import Disagreement, disagreements
from lessonloop.services.workspace import Workspace
from lessonloop.storage import models as store
from lessonloop.storage import series as series_store

__all__ = [
    "EXPORTABLE",
    "PrometheusRules",
    "export_prometheus_rules",
    "export_alertmanager_config",
    "compare_decisions",
    "policy_of_version",
]

EXPORTABLE = (ModelStatus.APPROVED, ModelStatus.CHAMPION)


def _exportable(version_id: int, session: Session) -> ModelVersionRead:
    version = store.get_version(version_id, session=session)
    if version.status not in EXPORTABLE:
        raise Conflict(
            f"model version {version_id} is {version.status.value}; only an approved "
            "or champion version can be exported (approve it first)"
        )
    return version


def _accepted_payloads(
    version: ModelVersionRead, session: Session
) -> list[tuple[Any, dict[str, Any]]]:
    """(payload, snapshot) of every signal in the version's frozen signal set."""
    if version.signal_set_version is None:
        return []
    found = []
    for snapshot in store.signal_snapshots(version.signal_set_version, session=session):
        if snapshot.get("status", "accepted") != "accepted" or "payload" not in snapshot:
            continue
        found.append((payload_adapter.validate_python(snapshot["payload"]), snapshot))
    return found


def _origin(snapshot: dict[str, Any]) -> dict[str, int | None]:
    provenance = snapshot.get("provenance") or {}
    return {
        "signal_id": snapshot.get("id"),
        "review_id": provenance.get("review_id"),
        "insight_id": provenance.get("insight_id"),
    }


def _latest_evaluation(version_id: int, session: Session) -> int | None:
    evaluations = store.list_evaluations(session=session, version_id=version_id)
    return evaluations[-1].id if evaluations else None


@dataclass
class PrometheusRules:
    """A rule file's text and the rules left out of it, each with why and how to fix it."""

    text: str
    skipped: list[str] = field(default_factory=list)


_FIX = (
    "re-import the series to say which Prometheus series it is (a query_range file or "
    "--prometheus keeps the metric's labels; for CSV add --promql 'metric{label=\"value\"}')"
)


def _stored_selector(stored: dict[tuple[str, str], dict[str, str]]) -> Selector:
    """Selectors from the stored series: a learned rule whose metric is its series' name (as
    Lessonloop writes it) and every threshold hint select the series' Prometheus labels."""

    def selector(service: str, series: str, metric: str | None) -> str:
        if metric is not None and metric != series:
            return rule_selector(metric, service)
        if metric is None and (service, series) not in stored:
            raise ValueError(
                f"{series!r} is not a stored series of {service}; a threshold hint applies to "
                "a stored metric series (an expected effect such as mttd names a programme "
                "metric): import the series, or write the hint in the review's Signals block "
                "naming a stored series"
            )
        try:
            return series_selector(service, series, stored.get((service, series), {}))
        except ValueError as exc:
            raise ValueError(f"no PromQL selector: {exc}; {_FIX}") from None

    return selector


def export_prometheus_rules(ws: Workspace, version_id: int) -> PrometheusRules:
    """Alerting-rules YAML from an approved metric-anomaly version and its threshold hints."""
    with ws.transaction() as session:
        version = _exportable(version_id, session)
        if version.task != ModelTask.METRIC_ANOMALY:
            raise InputError(
                f"model version {version_id} is a model for {version.task.value}; "
                "Prometheus rules come from metric_anomaly models",
                field="task",
            )
        payloads = _accepted_payloads(version, session)
        evaluation_id = _latest_evaluation(version_id, session)
        stored = series_store.labels_by_series(session=session)
    config: dict[str, Any] = {}
    if version.artifact_path and version.artifact_hash:
        config = read_config(Path(version.artifact_path), version.artifact_hash)
    learned = parse_rules_config(config, file=f"{version.artifact_path}/config.json").rules
    hints = [HintRule(hint=p, **_origin(s)) for p, s in payloads if isinstance(p, ThresholdHint)]
    built = build_rule_groups(
        learned,
        hints,
        version_id=version_id,
        evaluation_id=evaluation_id,
        selector=_stored_selector(stored),
    )
    header = (
        f"Prometheus alerting rules exported by Lessonloop from model version "
        f"{version_id} ({version.status.value}), artifact {version.artifact_hash}\n"
        f"{built.learned} learned rules, {built.hints} threshold hints"
    )
    if built.covered:
        header += f"\n{built.covered} threshold hints not written: a learned rule covers them"
    if built.skipped:
        header += f"\n{len(built.skipped)} rules left out:"
        header += "".join(f"\n- {note}" for note in built.skipped)
    return PrometheusRules(render_rules_yaml(built.document, header=header), built.skipped)


def export_alertmanager_config(
    ws: Workspace, version_id: int, *, now: dt.datetime | None = None
) -> str:
    """Alertmanager config (inhibit rules, routes) from the version's correlation and
    suppression signals."""
    with ws.transaction() as session:
        version = _exportable(version_id, session)
        payloads = _accepted_payloads(version, session)
        origins = {s.get("id"): _origin(s) for _, s in payloads}
    if version.task == ModelTask.ALERT_CORRELATION:
        # the policy that was evaluated, exactly: its suppressions and inhibitions
        rules = _policy_rules(policy_of_version(version), origins)
    else:
        rules = [
            _sourced(p, _origin(s))
            for p, s in payloads
            if isinstance(p, CorrelationRule | SuppressionRule)
        ]
    config, notes = build_alertmanager_config(rules, now=now or utc_now())
    header = (
        f"Alertmanager configuration exported by Lessonloop from model version "
        f"{version_id} ({version.task.value}, {version.status.value}), signal set "
        f"{version.signal_set_version}"
    )
    return render_alertmanager_yaml(config, notes, header=header)


def _sourced(
    payload: CorrelationRule | SuppressionRule, origin: dict[str, int | None]
) -> SourcedRule:
    return SourcedRule(
        payload,
        signal_id=origin.get("signal_id"),
        review_id=origin.get("review_id"),
        insight_id=origin.get("insight_id"),
    )


def _policy_rules(
    policy: AlertPolicy, origins: dict[Any, dict[str, int | None]]
) -> list[SourcedRule]:
    """An alert policy's rules for Alertmanager, each with where it came from."""
    rules: list[SourcedRule] = []
    for s in policy.suppressions:
        whole_day = len(s.hours) == 24
        quiet = SuppressionRule(
            matchers=s.matchers(),
            condition="always" if whole_day else "time_of_day",
            hours_utc=[] if whole_day else list(s.hours),
        )
        why = f"the history: {s.history_text()} (P = {s.p_relevant:.3f})"
        if s.signal_ids:
            shown = ", ".join(str(i) for i in s.signal_ids[:5])
            more = f", ... ({len(s.signal_ids)} in all)" if len(s.signal_ids) > 5 else ""
            why += f"; reviewers said noise: signals {shown}{more}"
        rules.append(SourcedRule(quiet, learned=why))
    for r in policy.inhibitions:
        payload = CorrelationRule(source=list(r.source), target=list(r.target))
        if r.signal_id is not None:
            rules.append(_sourced(payload, origins.get(r.signal_id) or {"signal_id": r.signal_id}))
        else:
            rules.append(
                SourcedRule(
                    payload,
                    learned=f"the history: the target fired while the source was firing "
                    f"{r.support} times ({r.confidence:.0%} of its firings), always in the "
                    "same incident",
                )
            )
    return rules


def policy_of_version(version: ModelVersionRead) -> AlertPolicy:
    """A registered alert model's policy, read from its checked artifact."""
    if version.task != ModelTask.ALERT_CORRELATION:
        raise InputError(
            f"model version {version.id} is a model for {version.task.value}, not an "
            "alert_correlation model",
            field="version",
        )
    if not version.artifact_path or not version.artifact_hash:
        raise InputError(f"model version {version.id} has no artifact", field="version")
    config = read_config(Path(version.artifact_path), version.artifact_hash)
    try:
        return AlertPolicy.from_config(config)
    except ValueError as exc:
        raise InputError(f"{version.artifact_path}/config.json: {exc}", field="config") from exc


def _learned_rules(version: ModelVersionRead) -> list[LearnedRule]:
    if not version.artifact_path or not version.artifact_hash:
        return []
    config = read_config(Path(version.artifact_path), version.artifact_hash)
    return parse_rules_config(config, file=f"{version.artifact_path}/config.json").rules


def compare_decisions(
    ws: Workspace, first: int, second: int
) -> tuple[list[Disagreement], list[str]]:
    """Where two versions' learned rules decide differently on the stored series.

    Returns the disagreements and the (service/series) pairs that have no stored data.
    """
    with ws.transaction() as session:
        versions = [store.get_version(v, session=session) for v in (first, second)]
    for version in versions:
        if version.task != ModelTask.METRIC_ANOMALY:
            raise InputError(
                f"model version {version.id} is a model for {version.task.value}; decisions on "
                "stored series are compared between metric_anomaly versions",
                field="version",
            )
    rules = [_learned_rules(v) for v in versions]
    keys = sorted({(r.service, r.series) for side in rules for r in side})
    found: list[Disagreement] = []
    missing: list[str] = []
    with ws.transaction() as session:
        for service, name in keys:
            try:
                stored = series_store.get(service, name, session=session)
            except NotFound:
                missing.append(f"{service}/{name}")
                continue
            found += disagreements(
                service,
                name,
                stored.timestamps,
                stored.values,
                (f"v{first}", [r for r in rules[0] if (r.service, r.series) == (service, name)]),
                (f"v{second}", [r for r in rules[1] if (r.service, r.series) == (service, name)]),
            )
    return found, missing
