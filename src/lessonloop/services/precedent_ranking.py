"""Triage's precedents from the registered precedent model, explained by the knowledge base.

The model used is the champion, else the newest approved version (never an unapproved
candidate). It supplies the ranker (its settings and the reviewer verdicts it learned from its
signal set); it is re-indexed over today's incidents so that incidents newer than the model
are never missed; a verdict reorders precedents but never hides one the text matches. Only
incidents that started before the one being triaged are eligible.
Verdicts accepted outside the model's signal set (given after it was cut) re-rank on top, each
counted once; verdicts of the set are already in the model and are not applied again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lessonloop.domain.enums import ModelStatus, ModelTask, SignalKind, SignalStatus
from lessonloop.domain.models import ModelVersionRead
from lessonloop.domain.signals import PrecedentFeedback
from lessonloop.knowledge.precedents import PrecedentResults
from lessonloop.registry.artifacts import verify_artifact
from lessonloop.services import knowledge, registry, signals
from lessonloop.services.precedent_model import precedent_documents, precedent_training_data
from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents as incident_store
from lessonloop.text.precedents import PrecedentRetriever

__all__ = ["model_precedents", "rerank_with_feedback", "usable_version", "verified_artifact"]


def usable_version(ws: Workspace, task: ModelTask) -> ModelVersionRead | None:
    """The task's champion, else its newest approved version, else none.

    Candidates are never used: what on-call sees changes only after a person approved it.
    """
    versions = [v for v in registry.list_versions(ws, task=task) if v.artifact_path]
    for status in (ModelStatus.CHAMPION, ModelStatus.APPROVED):
        chosen = [v for v in versions if v.status == status]
        if chosen:
            return chosen[-1]
    return None


def verified_artifact(version: ModelVersionRead) -> Path:
    """The version's artifact folder, after checking its content hash."""
    path = Path(version.artifact_path or "")
    verify_artifact(path, version.artifact_hash or "")
    return path


def rerank_with_feedback(
    results: PrecedentResults, feedback: list[PrecedentFeedback], query_key: str | None
) -> PrecedentResults:
    """Raise precedents reviewers found helpful and lower the others.

    Feedback on this very incident counts fully; feedback given for other incidents counts a
    little (a precedent that helped elsewhere is more likely to help again).
    """
    for precedent in results.precedents:
        about = [f for f in feedback if f.precedent_key == precedent.incident_key]
        if not about:
            continue
        direct = sum(1 if f.helpful else -1 for f in about if f.incident_key == query_key)
        general = sum(1 if f.helpful else -1 for f in about if f.incident_key != query_key)
        factor = min(3.0, max(0.1, 1 + 0.6 * direct + 0.15 * general))
        # a model's score can be negative (a learned not-helpful verdict): dividing keeps
        # "helpful raises, not helpful lowers" true there too
        score = precedent.score
        precedent.score = round(score * factor if score >= 0 else score / factor, 4)
        helpful = sum(f.helpful for f in about)
        precedent.why.append(
            f"reviewers marked it helpful {helpful} time(s), not helpful "
            f"{len(about) - helpful} time(s)"
        )
    results.precedents.sort(key=lambda p: -p.score)
    return results


def _unlearned_verdicts(ws: Workspace, model: ModelVersionRead) -> list[PrecedentFeedback]:
    """Accepted verdicts that are not members of the model's signal set."""
    learned: set[int] = set()
    if model.signal_set_version is not None:
        members = signals.signals_of_set(ws, model.signal_set_version)
        learned = {s.id for s in members.get(SignalKind.PRECEDENT_FEEDBACK, [])}
    accepted = signals.list_signals(
        ws, status=SignalStatus.ACCEPTED, kind=SignalKind.PRECEDENT_FEEDBACK
    )
    return [
        s.payload
        for s in accepted
        if s.id not in learned and isinstance(s.payload, PrecedentFeedback)
    ]


def _eligible(ws: Workspace, incident_key: str) -> set[str]:
    """Incidents that started before this one."""
    with ws.transaction() as session:
        query = incident_store.get(incident_key, session=session)
        everyone = incident_store.list_incidents(session=session)
    return {i.key for i in everyone if i.key != incident_key and i.started_at < query.started_at}


def model_precedents(
    ws: Workspace,
    incident_key: str | None,
    text: str,
    label_probabilities: Mapping[str, float],
    *,
    limit: int = 5,
) -> tuple[PrecedentResults, int] | None:
    """Precedents ranked by the registered model and its version id; None without a model.

    For an incident, only incidents that started before it are eligible; for free text
    (``incident_key`` None), every incident is. ``text`` is redacted already (triage redacts
    a query once) or stored text.
    """
    model = usable_version(ws, ModelTask.PRECEDENT)
    if model is None:
        return None
    retriever = PrecedentRetriever.load(verified_artifact(model))
    data = precedent_training_data(ws)
    retriever.fit(precedent_documents(data, data.keys))
    eligible = _eligible(ws, incident_key) if incident_key else set(data.keys)
    hits = [
        hit
        for hit in retriever.search(
            text,
            k=len(data.keys),
            exclude=[k for k in data.keys if k not in eligible],
            label_probabilities=dict(label_probabilities),
        )
        if hit.text_score > 0 or hit.label_score > 0  # a verdict reorders, never hides
    ][: limit * 2]
    found = knowledge.find_precedents(
        ws,
        incident_key=incident_key,
        text=None if incident_key else text,
        limit=max(1, len(hits)),
        only=[h.incident_id for h in hits],
        redacted=True,
    )
    details = {p.incident_key: p for p in found.precedents}
    ordered = []
    for hit in hits:
        precedent = details.get(hit.incident_id)
        if precedent is None:  # not in the search index yet (``lessonloop search --reindex``)
            continue
        precedent.score = round(hit.score, 4)
        precedent.why.append(f"ranked by precedent model version {model.id}")
        if hit.feedback_adjustment:
            precedent.why.append(
                f"the model learned reviewer verdicts ({hit.feedback_adjustment:+.2f})"
            )
        ordered.append(precedent)
    found.precedents = ordered
    found = rerank_with_feedback(found, _unlearned_verdicts(ws, model), incident_key)
    found.precedents = found.precedents[:limit]
    return found, model.id
