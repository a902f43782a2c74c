"""Use cases for learning signals: extract proposals, list them, accept, reject, retire.

Set use cases (check, cut, diff, trace, used_by, export, signals_of_set, latest_set_version) live
in :mod:`lessonloop.services.signal_sets` and are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from sqlalchemy.orm import Session

from lessonloop.domain.access import Permission
from lessonloop.domain.enums import SignalKind, SignalStatus
from lessonloop.domain.signals import (
    FailureModeLabel,
    SignalRead,
    label_words,
    parse_matchers,
)
from lessonloop.errors import InputError
from lessonloop.knowledge.documents import LABEL_KINDS
from lessonloop.knowledge.index import index_incident
from lessonloop.services.access import require
from lessonloop.services.signal_config import (
    AutoAcceptPolicy,
    SignalConfig,
    load_config,
    series_by_service,
)
from lessonloop.services.signal_sets import (
    CutResult,
    Trace,
    check,
    cut,
    diff,
    export,
    latest_set_version,
    list_sets,
    signals_of_set,
    signals_to_cut,
    trace,
    used_by,
)
from lessonloop.services.workspace import Workspace
from lessonloop.signals.context import Extraction, ExtractionInput, ExtractionProblem
from lessonloop.signals.extract_model import (
    MODEL_EXTRACTOR,
    SuggestsFailureModes,
    extract_model,
)
from lessonloop.signals.extract_structure import extract_structure
from lessonloop.signals.extract_text import extract_text, load_rules
from lessonloop.storage import incidents, reviews
from lessonloop.storage import signals as store

__all__ = [
    "AutoAcceptPolicy",
    "SignalConfig",
    "load_config",
    "ReviewExtraction",
    "extract_review",
    "extract_all",
    "list_signals",
    "get_signal",
    "accept_signal",
    "reject_signal",
    "retire_signal",
    "check",
    "cut",
    "CutResult",
    "diff",
    "Trace",
    "trace",
    "used_by",
    "export",
    "signals_of_set",
    "signals_to_cut",
    "latest_set_version",
    "list_sets",
    "parse_edits",
    "payloads",
]

P = TypeVar("P")


def payloads(
    signals: Mapping[SignalKind, list[SignalRead]], kind: SignalKind, cls: type[P]
) -> list[tuple[SignalRead, P]]:
    """The signals of one kind with their payloads typed as ``cls``."""
    return [(s, s.payload) for s in signals.get(kind, []) if isinstance(s.payload, cls)]


_MATCHER_FIELDS = {"matchers", "source", "target", "while_firing"}


@dataclass
class ReviewExtraction:
    review_id: int
    incident_key: str
    created: list[SignalRead] = field(default_factory=list)
    existing: list[SignalRead] = field(default_factory=list)
    auto_accepted: list[int] = field(default_factory=list)
    problems: list[ExtractionProblem] = field(default_factory=list)


def _extract_one(
    ws: Workspace,
    review_id: int,
    session: Session,
    config: SignalConfig,
    classifier: SuggestsFailureModes | None,
    use_model: bool,
    model_version: str = "keywords",
    now: dt.datetime | None = None,
) -> ReviewExtraction:
    review = reviews.get(review_id, session=session)
    source = ExtractionInput(
        review=review,
        incident=incidents.get(review.incident_key, session=session),
        series_by_service=series_by_service(session),
    )
    found = Extraction()
    found.extend(extract_structure(source))
    found.extend(extract_text(source, load_rules(ws.settings.home / "patterns.yaml")))
    if use_model and classifier is not None:
        found.extend(extract_model(source, classifier, version=model_version))
    result = ReviewExtraction(review.id, review.incident_key, problems=found.problems)
    labelled = _labels_of(review.id, session)
    for proposal in found.proposals:
        payload = proposal.payload
        if proposal.provenance.extractor == MODEL_EXTRACTOR and isinstance(
            payload, FailureModeLabel
        ):
            # A model suggestion a reviewer has already seen (from any extractor or an
            # earlier model version, accepted or rejected) is not proposed again.
            seen = labelled.get((payload.incident_key, label_words(payload.label)))
            if seen is not None:
                if seen.provenance.extractor == MODEL_EXTRACTOR and seen not in result.created:
                    result.existing.append(seen)
                continue
        try:
            signal, created = store.create_proposal(
                proposal, session=session, actor=ws.actor, now=now
            )
        except InputError as exc:
            result.problems.append(ExtractionProblem(proposal.provenance.field or "", str(exc)))
            continue
        (result.created if created else result.existing).append(signal)
        if isinstance(signal.payload, FailureModeLabel):
            labelled[(signal.payload.incident_key, label_words(signal.payload.label))] = signal
        if created and config.auto_accept.allows(signal):
            store.accept(
                signal.id,
                session=session,
                actor=f"policy:auto-accept ({ws.actor})",
                note="auto-accepted by the workspace policy",
                now=now,
            )
            result.auto_accepted.append(signal.id)
            _reindex_labelled(signal, session)
    return result


def _labels_of(review_id: int, session: Session) -> dict[tuple[str, str], SignalRead]:
    """Failure-mode labels proposed from a review, by (incident, label read as words)."""
    return {
        (s.payload.incident_key, label_words(s.payload.label)): s
        for s in store.list_signals(
            session=session, kind=SignalKind.FAILURE_MODE_LABEL, review_id=review_id
        )
        if isinstance(s.payload, FailureModeLabel)
    }


def extract_review(
    ws: Workspace,
    ref: str,
    *,
    classifier: SuggestsFailureModes | None = None,
    use_model: bool = True,
    now: dt.datetime | None = None,
) -> ReviewExtraction:
    """Propose signals from one review (by id or incident key); re-running never duplicates.

    New proposals are made at ``now`` (default: the time of the run)."""
    require(ws, Permission.CONTRIBUTE, "extract signals")
    from lessonloop.services.reviews import get_review

    review_id = get_review(ws, ref).id
    config = load_config(ws)
    classifier, version = _model(ws, classifier, use_model)
    with ws.transaction() as session:
        return _extract_one(ws, review_id, session, config, classifier, use_model, version, now)


def extract_all(
    ws: Workspace,
    *,
    classifier: SuggestsFailureModes | None = None,
    use_model: bool = True,
    now: dt.datetime | None = None,
) -> list[ReviewExtraction]:
    """Propose signals from every review (see `extract_review`)."""
    require(ws, Permission.CONTRIBUTE, "extract signals")
    config = load_config(ws)
    classifier, version = _model(ws, classifier, use_model)
    with ws.transaction() as session:
        ids = [r.id for r in reviews.list_reviews(session=session)]
        return [
            _extract_one(ws, i, session, config, classifier, use_model, version, now)
            for i in ids
        ]


def _model(
    ws: Workspace, classifier: SuggestsFailureModes | None, use_model: bool
) -> tuple[SuggestsFailureModes | None, str]:
    """The classifier whose suggestions become failure-mode proposals, and its version.

    By default the workspace's own: the approved or champion model over the workspace
    taxonomy, else that taxonomy's keywords, so proposals use the terms reviewers see.
    """
    if not use_model:
        return None, ""
    if classifier is not None:
        return classifier, "given"
    from lessonloop.services.failure_modes import workspace_classifier

    model, version_id = workspace_classifier(ws)
    return model, f"model-version-{version_id}" if version_id else "keywords"


def list_signals(
    ws: Workspace, *, status: SignalStatus | None = None, kind: SignalKind | None = None
) -> list[SignalRead]:
    with ws.transaction() as session:
        return store.list_signals(session=session, status=status, kind=kind)


def get_signal(ws: Workspace, signal_id: int) -> SignalRead:
    with ws.transaction() as session:
        return store.get(signal_id, session=session)


def parse_edits(pairs: list[str]) -> dict[str, Any]:
    """``field=value`` pairs from the command line; matcher fields take ``{a="b"}`` text."""
    edits: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"an edit is field=value, got {pair!r}", field="edit")
        if name in _MATCHER_FIELDS:
            try:
                edits[name] = [m.model_dump() for m in parse_matchers(raw)]
            except ValueError as exc:
                raise InputError(str(exc), field=f"payload.{name}") from exc
            continue
        try:
            edits[name] = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            edits[name] = raw
    return edits


def _reindex_labelled(signal: SignalRead, session: Session) -> SignalRead:
    """A decided failure-mode or remediation label changes its incident's search facets."""
    key = getattr(signal.payload, "incident_key", None) or signal.provenance.incident_key
    if signal.kind.value in LABEL_KINDS and key:
        index_incident(session, key)
    return signal


def accept_signal(
    ws: Workspace,
    signal_id: int,
    edits: list[str] | None = None,
    note: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> SignalRead:
    """Accept a proposal (optionally edited); the reviewer and time (`now`, default: the time
    of the run) go into the audit trail."""
    require(ws, Permission.REVIEW, "accept signals")
    changes = parse_edits(edits or [])
    with ws.transaction() as session:
        signal = store.accept(
            signal_id, session=session, actor=ws.actor, edits=changes, note=note, now=now
        )
        return _reindex_labelled(signal, session)


def reject_signal(
    ws: Workspace, signal_id: int, why: str, *, now: dt.datetime | None = None
) -> SignalRead:
    """Reject a proposal with the reason, at `now` (default: the time of the run)."""
    require(ws, Permission.REVIEW, "reject signals")
    with ws.transaction() as session:
        signal = store.reject(signal_id, why, session=session, actor=ws.actor, now=now)
        return _reindex_labelled(signal, session)


def retire_signal(ws: Workspace, signal_id: int, why: str) -> SignalRead:
    """Retire an accepted signal: out of future sets, still in the sets that contained it."""
    require(ws, Permission.REVIEW, "retire signals")
    with ws.transaction() as session:
        signal = store.retire(signal_id, why, session=session, actor=ws.actor)
        return _reindex_labelled(signal, session)
