"""The precedent retriever as a registered model: fitted on the workspace's incidents plus the
reviewers' accepted precedent verdicts of one signal set, so a version can say which verdicts
taught it; evaluated on the newest incidents against plain BM25.

Example::

    version = train_precedent_retriever(ws)       # ModelTask.PRECEDENT, signal set lineage
    result = learn_precedents(ws)                 # time-based precision@5 vs plain BM25
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lessonloop.domain.access import Permission
from lessonloop.domain.enums import ModelTask, SignalKind
from lessonloop.domain.models import (
    ModelVersionCreate,
    ModelVersionRead,
)
from lessonloop.domain.signals import FailureModeLabel, PrecedentFeedback
from lessonloop.errors import InputError
from lessonloop.evaluation.bootstrap import bootstrap_interval, paired_comparison
from lessonloop.services import registry, signals
from lessonloop.services.access import require
from lessonloop.services.incident_texts import incident_text
from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents as incident_store
from lessonloop.text.precedents import PrecedentDocument, PrecedentRetriever

__all__ = [
    "PrecedentLearnResult",
    "PrecedentTrainingData",
    "fit_precedent_retriever",
    "learn_precedents",
    "precedent_documents",
    "precedent_training_data",
    "train_precedent_retriever",
]

PRECISION_AT = 5


@dataclass(frozen=True)
class PrecedentTrainingData:
    """Incidents oldest first, their text, services and accepted labels, and the verdicts."""

    keys: list[str]
    texts: dict[str, str]
    titles: dict[str, str]
    services: dict[str, set[str]]
    labels: dict[str, set[str]]
    feedback: list[PrecedentFeedback]
    signal_set_version: int | None


@dataclass(frozen=True)
class PrecedentLearnResult:
    """A registered retriever and its time-based comparison with plain BM25."""

    candidate_id: int
    baseline: str
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    decision: str
    evaluation_id: int
    holdout_incidents: int
    feedback_used: int
    signal_set_version: int | None


def precedent_training_data(ws: Workspace) -> PrecedentTrainingData:
    """Everything the retriever learns from, as of the newest signal set."""
    version = signals.latest_set_version(ws)
    accepted = signals.signals_of_set(ws, version) if version else {}
    labels: dict[str, set[str]] = {}
    for signal in accepted.get(SignalKind.FAILURE_MODE_LABEL, []):
        if isinstance(signal.payload, FailureModeLabel):
            labels.setdefault(signal.payload.incident_key, set()).add(signal.payload.label)
    feedback = [s.payload for s in accepted.get(SignalKind.PRECEDENT_FEEDBACK, [])]
    with ws.transaction() as session:
        incidents = incident_store.list_incidents(session=session)
    keys = [i.key for i in incidents]
    return PrecedentTrainingData(
        keys=keys,
        texts={k: incident_text(ws, k) for k in keys},
        titles={i.key: i.title for i in incidents},
        services={i.key: set(i.services) for i in incidents},
        labels={k: labels.get(k, set()) for k in keys},
        feedback=[f for f in feedback if isinstance(f, PrecedentFeedback)],
        signal_set_version=version,
    )


def precedent_documents(
    data: PrecedentTrainingData, keys: Sequence[str]
) -> list[PrecedentDocument]:
    """What the retriever indexes for each incident: title, the rest of its text, labels."""
    return [
        PrecedentDocument(
            incident_id=key,
            title=data.titles[key],
            summary=data.texts[key].removeprefix(data.titles[key]).strip(),
            labels=tuple(sorted(data.labels[key])),
        )
        for key in keys
    ]


def fit_precedent_retriever(
    data: PrecedentTrainingData, keys: Sequence[str], *, use_feedback: bool = True
) -> tuple[PrecedentRetriever, int]:
    """Index ``keys``; add the verdicts whose query and precedent are both among them."""
    retriever = PrecedentRetriever().fit(precedent_documents(data, keys))
    indexed = set(keys)
    used = 0
    for verdict in data.feedback if use_feedback else []:
        if verdict.incident_key in indexed and verdict.precedent_key in indexed:
            retriever.add_feedback(
                data.texts[verdict.incident_key], verdict.precedent_key, helpful=verdict.helpful
            )
            used += 1
    return retriever, used


def train_precedent_retriever(
    ws: Workspace, data: PrecedentTrainingData | None = None
) -> ModelVersionRead:
    """Fit on every incident plus the newest set's verdicts; register a PRECEDENT candidate."""
    require(ws, Permission.TRAIN, "train models")
    data = data or precedent_training_data(ws)
    if not data.keys:
        raise InputError("the workspace has no incidents to index yet", field="incidents")
    retriever, used = fit_precedent_retriever(data, data.keys)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "model"
        retriever.save(directory)
        return registry.register_version(
            ws,
            ModelVersionCreate(
                task=ModelTask.PRECEDENT,
                signal_set_version=data.signal_set_version,
                config={
                    "backend": retriever.backend,
                    "incidents": len(data.keys),
                    "feedback_used": used,
                },
            ),
            artifact_dir=directory,
        )


def _relevant(data: PrecedentTrainingData, query: str, candidate: str) -> bool:
    """Shares an accepted failure-mode label or an affected service with the query."""
    return bool(data.labels[query] & data.labels[candidate]) or bool(
        data.services[query] & data.services[candidate]
    )


def _precision_per_query(
    retriever: PrecedentRetriever, data: PrecedentTrainingData, queries: Sequence[str]
) -> list[float]:
    out = []
    for query in queries:
        found = retriever.search(data.texts[query], k=PRECISION_AT)
        out.append(sum(_relevant(data, query, p.incident_id) for p in found) / PRECISION_AT)
    return out


def _estimate(values: list[float], seed: int) -> dict[str, Any]:
    interval = bootstrap_interval(np.asarray(values, dtype=float), seed=seed, n_resamples=1000)
    return {
        "value": round(interval.estimate, 4),
        "low": round(interval.low, 4),
        "high": round(interval.high, 4),
    }


def learn_precedents(
    ws: Workspace, *, holdout_share: float = 0.25, seed: int = 0
) -> PrecedentLearnResult:
    """Cut a signal set, backtest on the newest incidents, register the retriever fitted on all.

    The holdout's own verdicts never reach the candidate: only verdicts whose query incident
    and precedent both started before the holdout are used in the backtest.
    """
    require(ws, Permission.TRAIN, "train models")
    if not 0 < holdout_share < 1:
        raise InputError("holdout share must be between 0 and 1", field="holdout_share")
    with ws.transaction() as session:
        total = len(incident_store.list_incidents(session=session))
    cut_at = int(round(total * (1 - holdout_share)))
    if cut_at < PRECISION_AT or total - cut_at < 2:
        raise InputError(
            f"only {total} incidents: with holdout share {holdout_share} the backtest would "
            f"index the oldest {cut_at} (it needs {PRECISION_AT}) and query the newest "
            f"{total - cut_at} (it needs 2); record more incidents first",
            field="incidents",
        )
    signals.extract_all(ws)
    signals.cut(ws)
    data = precedent_training_data(ws)
    past, queries = data.keys[:cut_at], data.keys[cut_at:]
    candidate, used = fit_precedent_retriever(data, past)
    baseline, _ = fit_precedent_retriever(data, past, use_feedback=False)
    candidate_values = _precision_per_query(candidate, data, queries)
    baseline_values = _precision_per_query(baseline, data, queries)
    verdict = paired_comparison(candidate_values, baseline_values, seed=seed).verdict
    model = train_precedent_retriever(ws, data)
    metrics, baseline_metrics = _estimate(candidate_values, seed), _estimate(baseline_values, seed)
    name = f"precision_at_{PRECISION_AT}"
    evaluation_id = registry.record_backtest(
        ws,
        registry.Backtest(
            task=ModelTask.PRECEDENT,
            candidate_id=model.id,
            baseline_id=None,
            baseline="plain BM25",
            metric=name,
            candidate=metrics,
            incumbent=baseline_metrics,
            verdict=verdict,
            split={
                "train_incidents": len(past),
                "holdout_incidents": len(queries),
                "rule": "newest incidents by start time",
                "feedback_used": used,
                "relevant": "shares an accepted failure-mode label or a service",
            },
            hypothesis="Reviewers' precedent verdicts rank precedents better than plain BM25",
            signal_set_version=data.signal_set_version,
        ),
    )
    return PrecedentLearnResult(
        model.id,
        "plain BM25",
        metrics,
        baseline_metrics,
        verdict,
        evaluation_id,
        len(queries),
        used,
        data.signal_set_version,
    )
