"""Incident triage: failure-mode suggestions with evidence, precedents re-ranked by reviewer
feedback, and remediation suggestions from what worked before.

The classifier learns from accepted ``failure_mode_label`` signals; with none it runs on the
workspace taxonomy's keywords alone (useful on day one). Its suggestions are proposals: they
reach training data only through ``lessonloop signals extract`` and a reviewer's acceptance.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lessonloop.domain.access import Permission
from lessonloop.domain.enums import ModelTask, SignalKind, SignalStatus
from lessonloop.domain.models import ModelVersionCreate, ModelVersionRead
from lessonloop.domain.signals import (
    FailureModeLabel,
    PrecedentFeedback,
    RemediationLabel,
    SignalCreate,
    SignalProvenance,
    label_words,
)
from lessonloop.errors import InputError, NotFound
from lessonloop.knowledge.precedents import PrecedentResults
from lessonloop.services import knowledge, registry, signals
from lessonloop.services.access import require
from lessonloop.services.failure_modes import (
    incident_terms,
    labelled_texts,
    workspace_classifier,
    workspace_taxonomy,
)
from lessonloop.services.import_redaction import redact_query
from lessonloop.services.incident_texts import incident_text
from lessonloop.services.precedent_ranking import (
    model_precedents,
    rerank_with_feedback,
    usable_version,
)
from lessonloop.services.signals import payloads
from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents as incident_store
from lessonloop.storage import reviews as review_store
from lessonloop.storage import signals as signal_store
from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.evidence import FailureModeSuggestion
from lessonloop.text.remediation import (
    ActionItemRecord,
    IncidentRemediation,
    RemediationSuggestion,
    rank_remediations,
)
from lessonloop.text.taxonomy import Taxonomy

__all__ = [
    "TriageReport",
    "incident_text",
    "train_failure_mode_classifier",
    "triage",
    "record_precedent_feedback",
    "rerank_with_feedback",
    "precedents_with_feedback",
    "find_precedents",
]


@dataclass
class TriageReport:
    incident_key: str
    model_version: int | None
    suggestions: list[FailureModeSuggestion]
    precedents: PrecedentResults
    remediations: list[RemediationSuggestion] = field(default_factory=list)
    precedent_model_version: int | None = None
    # reviewers' decisions on this incident's failure-mode labels: taxonomy term -> status
    decided: dict[str, str] = field(default_factory=dict)


def train_failure_mode_classifier(ws: Workspace) -> ModelVersionRead:
    """Fit on accepted failure-mode labels of the newest signal set; register a candidate.

    Labels are read as the workspace taxonomy's terms; labels naming no term are listed in
    the version's config (``ignored_labels``), never silently lost.
    """
    require(ws, Permission.TRAIN, "train models")
    taxonomy = workspace_taxonomy(ws)
    data = labelled_texts(ws, taxonomy)
    classifier = FailureModeClassifier(taxonomy, inner_folds=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(data.texts, data.labels, ids=data.keys)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "model"
        classifier.save(str(directory))
        return registry.register_version(
            ws,
            ModelVersionCreate(
                task=ModelTask.FAILURE_MODE,
                signal_set_version=data.signal_set_version,
                config={
                    "labelled_incidents": len(data.keys),
                    "labels": list(taxonomy.labels),
                    # the terms reviewers' labels taught it (the others: keywords only)
                    "learned_labels": sorted({t for terms in data.labels for t in terms}),
                    "ignored_labels": dict(sorted(data.ignored.items())),
                },
            ),
            artifact_dir=directory,
        )


def _feedback(ws: Workspace) -> list[PrecedentFeedback]:
    """Every accepted precedent verdict."""
    found = signals.list_signals(
        ws, status=SignalStatus.ACCEPTED, kind=SignalKind.PRECEDENT_FEEDBACK
    )
    return [s.payload for s in found if isinstance(s.payload, PrecedentFeedback)]


def record_precedent_feedback(
    ws: Workspace, incident_key: str, precedent_key: str, helpful: bool
) -> tuple[int, bool]:
    """A person's verdict on a suggested precedent, stored as an accepted signal.

    Returns the signal's id and whether it was stored now (False: the same person had given
    the same verdict already, and nothing changed). A precedent must have started before the
    incident. A verdict that reverses one the same person gave on the same pair retires the
    earlier one (people change their minds; they do not count twice). An unknown incident is
    NotFound; an unknown precedent is an InputError on ``precedent``.
    """
    require(ws, Permission.CONTRIBUTE, "record precedent feedback")
    with ws.transaction() as session:
        if not incident_store.exists(incident_key, session=session):
            raise NotFound(f"unknown incident {incident_key!r}")
        if not incident_store.exists(precedent_key, session=session):
            raise InputError(f"unknown incident {precedent_key!r}", field="precedent")
        incident = incident_store.get(incident_key, session=session)
        precedent = incident_store.get(precedent_key, session=session)
        if precedent_key == incident_key or precedent.started_at >= incident.started_at:
            raise InputError(
                f"{precedent_key} is not a precedent of {incident_key}: a precedent must have "
                "started before the incident",
                field="precedent",
            )
        for earlier in signal_store.list_signals(
            session=session, status=SignalStatus.ACCEPTED, kind=SignalKind.PRECEDENT_FEEDBACK
        ):
            verdict = earlier.payload
            if (
                isinstance(verdict, PrecedentFeedback)
                and (verdict.incident_key, verdict.precedent_key) == (incident_key, precedent_key)
                and earlier.author == ws.actor
            ):
                if verdict.helpful == helpful:
                    return earlier.id, False  # the same verdict again changes nothing
                signal_store.retire(
                    earlier.id, "replaced by a later verdict", session=session, actor=ws.actor
                )
        created, _ = signal_store.create_proposal(
            SignalCreate(
                payload=PrecedentFeedback(
                    incident_key=incident_key, precedent_key=precedent_key, helpful=helpful
                ),
                provenance=SignalProvenance(
                    incident_key=incident_key,
                    extractor="precedent feedback",
                    text=f"{precedent_key} {'helpful' if helpful else 'not helpful'}",
                ),
                confidence=1.0,
                author=ws.actor,
            ),
            session=session,
            actor=ws.actor,
            reuse=False,
        )
        signal_store.accept(
            created.id, session=session, actor=ws.actor, note="given directly by the reviewer"
        )
        return created.id, True


MIN_RELATIVE_SCORE = 0.25
_STATUS = {"done": "resolved", "in progress": "in_progress", "wont do": "wont_fix"}
_OUTCOME = {"verified": "improved", "not verified": "no_change"}


def precedents_with_feedback(
    ws: Workspace,
    *,
    incident_key: str | None = None,
    text: str | None = None,
    limit: int = 5,
    redacted: bool = False,
) -> PrecedentResults:
    """Precedents from the knowledge base, re-ranked by what reviewers marked helpful.

    ``redacted``: the text is already redacted (see `knowledge.find_precedents`).
    """
    found = knowledge.find_precedents(
        ws, incident_key=incident_key, text=text, limit=limit * 2, redacted=redacted
    )
    found = rerank_with_feedback(found, _feedback(ws), incident_key)
    found.precedents = found.precedents[:limit]
    return found


def _history(ws: Workspace, keys: list[str]) -> list[IncidentRemediation]:
    version = signals.latest_set_version(ws)
    accepted = signals.signals_of_set(ws, version) if version else {}
    labels: dict[str, list[str]] = {}
    for _, remedy in payloads(accepted, SignalKind.REMEDIATION_LABEL, RemediationLabel):
        labels.setdefault(remedy.incident_key, []).append(remedy.label)
    out = []
    with ws.transaction() as session:
        for key in keys:
            review = review_store.get_by_incident(key, session=session)
            items = tuple(
                ActionItemRecord(
                    title=a.title,
                    remediation=a.title.lower(),
                    status=_STATUS.get(a.status.value, "open"),
                    verified_outcome=_OUTCOME.get(a.outcome or ""),
                )
                for a in (review.action_items if review else [])
            )
            out.append(IncidentRemediation(key, tuple(labels.get(key, [])), items))
    return out


def triage(ws: Workspace, incident_key: str, *, limit: int = 5) -> TriageReport:
    """Suggestions for an incident in progress or under review.

    Precedents come from the registered precedent model when there is one (see
    `precedent_ranking`), else from the knowledge base re-ranked by every accepted verdict.
    """
    classifier, version = workspace_classifier(ws)
    text = incident_text(ws, incident_key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suggestions = classifier.suggest(text)
    found, model_id = _ranked_precedents(ws, incident_key, text, suggestions, limit)
    remediations = _remediations(ws, found)
    decided = _decided_labels(ws, incident_key, [s.label for s in suggestions])
    # A label a reviewer rejected for this incident is shown, but no longer suggested.
    suggestions = [
        replace(s, suggested=False) if decided.get(s.label) == "rejected" else s
        for s in suggestions
    ]
    return TriageReport(incident_key, version, suggestions, found, remediations, model_id, decided)


def _decided_labels(ws: Workspace, incident_key: str, terms: list[str]) -> dict[str, str]:
    """Accepted or rejected failure-mode labels of an incident, by the term they name.

    When reviewers both accepted and rejected a label (two proposals), acceptance wins.
    """
    by_words = {label_words(t): t for t in terms}
    decided: dict[str, str] = {}
    for status in (SignalStatus.REJECTED, SignalStatus.ACCEPTED):
        for signal in signals.list_signals(ws, status=status, kind=SignalKind.FAILURE_MODE_LABEL):
            payload = signal.payload
            if isinstance(payload, FailureModeLabel) and payload.incident_key == incident_key:
                term = by_words.get(label_words(payload.label), payload.label)
                decided[term] = status.value
    return decided


MAX_QUERY_CHARS = 2_000_000  # a 1 MB write-up answers in seconds; 20 MB took over a minute


def find_precedents(
    ws: Workspace, *, incident_key: str | None = None, text: str | None = None, limit: int = 5
) -> tuple[PrecedentResults, int | None]:
    """Precedents of an incident or of free text (or both), as triage ranks them.

    Returns the results and the precedent model version that ranked them (None when the
    knowledge base did, re-ranked by every accepted verdict).
    """
    if not incident_key and not (text or "").strip():
        raise InputError("give an incident key or a non-empty text", field="text")
    if text and len(text) > MAX_QUERY_CHARS:
        raise InputError(
            f"the text is {len(text):,} characters; precedents reads at most "
            f"{MAX_QUERY_CHARS:,} (give the part that describes the incident)",
            field="text",
        )
    text = redact_query(ws.settings, text) if text else text
    query = "\n".join(
        part for part in (incident_text(ws, incident_key) if incident_key else "", text) if part
    )
    classifier, _ = workspace_classifier(ws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suggestions = classifier.suggest(query)
    return _ranked_precedents(ws, incident_key, query, suggestions, limit, text=text)


def _ranked_precedents(
    ws: Workspace,
    incident_key: str | None,
    query: str,
    suggestions: list[FailureModeSuggestion],
    limit: int,
    *,
    text: str | None = None,
) -> tuple[PrecedentResults, int | None]:
    probabilities = {s.label: s.probability for s in suggestions}
    ranked = model_precedents(ws, incident_key, query, probabilities, limit=limit)
    if ranked is not None:
        return ranked
    found = precedents_with_feedback(
        ws, incident_key=incident_key, text=text, limit=limit, redacted=True
    )
    return found, None


def _remediations(ws: Workspace, found: PrecedentResults) -> list[RemediationSuggestion]:
    """Remedies of the precedents as finally ranked (reviewer verdicts included).

    Each precedent weighs by its score relative to the best one (1.0 for the best), and
    precedents under a quarter of the best are left out, so a remedy of a barely similar
    incident cannot top the list. Remediation labels shown by the knowledge base (accepted
    or inferred from keywords) count alongside the signal set's labels.
    """
    best = max((p.score for p in found.precedents), default=0.0)
    close = [p for p in found.precedents if best > 0 and p.score >= best * MIN_RELATIVE_SCORE]
    if not close:
        return []
    from lessonloop.text.precedents import Precedent as TextPrecedent

    ranked: list[Any] = [
        TextPrecedent(
            incident_id=p.incident_key,
            score=p.score / best,
            text_score=p.score / best,
            feedback_adjustment=0.0,
            label_score=0.0,
            matched_terms=tuple(p.shared_terms),
        )
        for p in close
    ]
    history = {}
    for record in _history(ws, [p.incident_key for p in close]):
        shown = next(p.remediations for p in close if p.incident_key == record.incident_id)
        labels = tuple(sorted(set(record.remediations) | set(shown)))
        history[record.incident_id] = IncidentRemediation(
            record.incident_id, labels, record.action_items
        )
    return rank_remediations(ranked, history)


@dataclass
class TriageLearnResult:
    candidate_id: int
    baseline: str
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    decision: str
    evaluation_id: int
    holdout_incidents: int
    ignored_labels: dict[str, int] = field(default_factory=dict)
    signal_set_version: int | None = None


def _f1_per_incident(truth: list[tuple[str, ...]], predicted: list[tuple[str, ...]]) -> list[float]:
    out = []
    for t, p in zip(truth, predicted, strict=True):
        both = len(set(t) & set(p))
        out.append(1.0 if not t and not p else 2 * both / (len(t) + len(p)) if t or p else 0.0)
    return out


def _incumbent_refitted(
    ws: Workspace, taxonomy: Taxonomy, train_keys: set[str]
) -> tuple[FailureModeClassifier, int | None]:
    """The model in use, refitted on the training incidents only, with the labels it had.

    The registered model was fitted on every labelled incident of its signal set, the
    holdout included; scoring it there would flatter it. Refitting it from its own signal
    set, restricted to the candidate's training incidents, compares the two on equal terms:
    the difference is what the newer labels taught. Without a model: the taxonomy keywords.
    """
    current = usable_version(ws, ModelTask.FAILURE_MODE)
    if current is None:
        return FailureModeClassifier(taxonomy, inner_folds=3).fit([], []), None
    known = labelled_texts(ws, taxonomy, signal_set=current.signal_set_version or None)
    rows = [
        (t, labels)
        for k, t, labels in zip(known.keys, known.texts, known.labels, strict=True)
        if k in train_keys
    ]
    texts = [t for t, _ in rows]
    labels = [labels for _, labels in rows]
    return FailureModeClassifier(taxonomy, inner_folds=3).fit(texts, labels), current.id


def learn_failure_modes(
    ws: Workspace, *, holdout_share: float = 0.25, seed: int = 0
) -> TriageLearnResult:
    """Time-based backtest: fit on the older labelled incidents, score the newest share."""
    require(ws, Permission.TRAIN, "train models")
    import numpy as np

    from lessonloop.evaluation.bootstrap import bootstrap_interval, paired_comparison

    signals.extract_all(ws)
    taxonomy = workspace_taxonomy(ws)
    # Checked on what the cut would hold, before cutting: a refused run stores no signal set.
    labelled, unknown = incident_terms(signals.signals_to_cut(ws), taxonomy)
    if len(labelled) < 8:
        ignored = (
            f" ({sum(unknown.values())} labels name no failure mode of the taxonomy: "
            + ", ".join(sorted(unknown))
            + ")"
            if unknown
            else ""
        )
        raise InputError(
            f"only {len(labelled)} incidents have accepted failure-mode labels{ignored}; "
            "accept at least 8 to evaluate a classifier",
            field="signals",
        )
    signals.cut(ws)
    data = labelled_texts(ws, taxonomy)
    keys, texts, clean, version = data.keys, data.texts, data.labels, data.signal_set_version
    with ws.transaction() as session:
        starts = {k: incident_store.get(k, session=session).started_at for k in keys}
    order = sorted(range(len(keys)), key=lambda i: starts[keys[i]])
    cut_at = max(1, int(round(len(order) * (1 - holdout_share))))
    train, test = order[:cut_at], order[cut_at:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        candidate = FailureModeClassifier(taxonomy, inner_folds=3).fit(
            [texts[i] for i in train], [clean[i] for i in train]
        )
        incumbent, incumbent_id = _incumbent_refitted(ws, taxonomy, {keys[i] for i in train})
        cand_pred = candidate.predict([texts[i] for i in test])
        inc_pred = incumbent.predict([texts[i] for i in test])
    truth = [clean[i] for i in test]
    cand_f1 = _f1_per_incident(truth, cand_pred)
    inc_f1 = _f1_per_incident(truth, inc_pred)

    def estimate(values: list[float]) -> dict[str, Any]:
        interval = bootstrap_interval(np.asarray(values), seed=seed, n_resamples=1000)
        return {
            "value": round(interval.estimate, 4),
            "low": round(interval.low, 4),
            "high": round(interval.high, 4),
        }

    verdict = paired_comparison(cand_f1, inc_f1, seed=seed).verdict
    model = train_failure_mode_classifier(ws)
    baseline = (
        f"model version {incumbent_id} (refitted on the same training incidents)"
        if incumbent_id
        else "taxonomy keywords"
    )
    metrics, base_metrics = estimate(cand_f1), estimate(inc_f1)
    evaluation_id = registry.record_backtest(
        ws,
        registry.Backtest(
            task=ModelTask.FAILURE_MODE,
            candidate_id=model.id,
            baseline_id=incumbent_id,
            baseline=baseline,
            metric="example_f1",
            candidate=metrics,
            incumbent=base_metrics,
            verdict=verdict,
            split={
                "train_incidents": len(train),
                "holdout_incidents": len(test),
                "rule": "newest incidents by start time",
            },
            hypothesis="Reviewers' accepted failure-mode labels make triage suggestions more "
            f"accurate than {baseline}",
            signal_set_version=version,
        ),
    )
    return TriageLearnResult(
        model.id,
        baseline,
        metrics,
        base_metrics,
        verdict,
        evaluation_id,
        len(test),
        dict(sorted(data.ignored.items())),
        version,
    )
