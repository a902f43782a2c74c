"""The workspace's failure modes: its taxonomy, its reviewers' labels, and the classifier in use.

The taxonomy names terms as people write them (``retry storm``); signals store a label as a
key (``retry_storm``). Both spellings name one failure mode (`label_words` reads them alike),
so a classifier trained here predicts taxonomy terms, and its suggestions become proposals in
the key form reviewers accept. A label that names no term of the taxonomy (written before the
term was removed, or a typo) is not silently dropped: it is counted in `LabelledTexts.ignored`
and shown by ``learn`` and in the model version's config.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from lessonloop.domain.enums import ModelStatus, ModelTask, SignalKind
from lessonloop.domain.signals import FailureModeLabel, SignalRead, label_words
from lessonloop.knowledge.taxonomy import list_terms
from lessonloop.services import registry, signals
from lessonloop.services.incident_texts import incident_text
from lessonloop.services.precedent_ranking import usable_version, verified_artifact
from lessonloop.services.signals import payloads
from lessonloop.services.workspace import Workspace
from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.taxonomy import Taxonomy

__all__ = [
    "LabelledTexts",
    "models_using_term",
    "canonical_labels",
    "incident_terms",
    "labelled_texts",
    "workspace_classifier",
    "workspace_taxonomy",
]


def workspace_taxonomy(ws: Workspace) -> Taxonomy:
    """The workspace's failure-mode terms (``lessonloop taxonomy``) as a classifier taxonomy."""
    with ws.transaction() as session:
        terms = list_terms(session, "failure_mode")
    return Taxonomy.from_mapping(
        {
            t.value: {"description": t.description, "keywords": list(t.keywords) or [t.value]}
            for t in terms
        }
    )


def canonical_labels(
    labels: set[str] | list[str] | tuple[str, ...], taxonomy: Taxonomy
) -> tuple[tuple[str, ...], list[str]]:
    """(the taxonomy terms the labels name, sorted; the labels that name no term)."""
    by_words = {label_words(term): term for term in taxonomy.labels}
    terms: set[str] = set()
    unknown: list[str] = []
    for label in labels:
        term = by_words.get(label_words(label))
        if term is None:
            unknown.append(label)
        else:
            terms.add(term)
    return tuple(sorted(terms)), sorted(unknown)


@dataclass
class LabelledTexts:
    """Incidents with accepted failure-mode labels, as the classifier learns from them."""

    keys: list[str]
    texts: list[str]
    labels: list[tuple[str, ...]]  # taxonomy terms
    signal_set_version: int | None
    ignored: Counter[str] = field(default_factory=Counter)  # label -> incidents, not in taxonomy


def labelled_texts(
    ws: Workspace, taxonomy: Taxonomy | None = None, *, signal_set: int | None = None
) -> LabelledTexts:
    """Every incident with an accepted failure-mode label in a signal set (default: newest).

    An incident whose labels all lie outside the taxonomy is left out (it would teach the
    model "none of these"), and its labels are counted in ``ignored``.
    """
    taxonomy = taxonomy or workspace_taxonomy(ws)
    version = signal_set or signals.latest_set_version(ws)
    accepted = signals.signals_of_set(ws, version) if version else {}
    terms, ignored = incident_terms(accepted, taxonomy)
    out = LabelledTexts([], [], [], version, ignored)
    for key in sorted(terms):
        out.keys.append(key)
        out.texts.append(incident_text(ws, key))
        out.labels.append(terms[key])
    return out


def incident_terms(
    accepted: Mapping[SignalKind, list[SignalRead]], taxonomy: Taxonomy
) -> tuple[dict[str, tuple[str, ...]], Counter[str]]:
    """Each incident's failure-mode labels as taxonomy terms, and the labels that name none.

    An incident whose labels all lie outside the taxonomy is left out.
    """
    by_incident: dict[str, set[str]] = {}
    for _, label in payloads(accepted, SignalKind.FAILURE_MODE_LABEL, FailureModeLabel):
        by_incident.setdefault(label.incident_key, set()).add(label.label)
    out: dict[str, tuple[str, ...]] = {}
    ignored: Counter[str] = Counter()
    for key, labels in by_incident.items():
        terms, unknown = canonical_labels(labels, taxonomy)
        ignored.update(unknown)
        if terms:
            out[key] = terms
    return out, ignored


def workspace_classifier(ws: Workspace) -> tuple[FailureModeClassifier, int | None]:
    """The registered classifier (champion, else newest approved), else taxonomy keywords.

    Returns the classifier and its model version id (None for the keyword baseline). A
    registered model is read with today's taxonomy, so a term removed since it was trained is
    no longer suggested.
    """
    chosen = usable_version(ws, ModelTask.FAILURE_MODE)
    taxonomy = workspace_taxonomy(ws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if chosen is None:
            return FailureModeClassifier(taxonomy, inner_folds=3).fit([], []), None
        path = verified_artifact(chosen)
        return FailureModeClassifier.load(str(path), taxonomy=taxonomy), chosen.id


def models_using_term(ws: Workspace, term: str) -> list[int]:
    """Failure-mode model versions not retired or rejected that learned ``term`` from
    reviewers' labels: once the term is removed from the taxonomy they no longer suggest it.
    (Versions registered before ``learned_labels`` was recorded count every taxonomy term.)"""
    dead = {ModelStatus.RETIRED, ModelStatus.REJECTED}
    words = label_words(term)

    def learned(config: dict[str, object]) -> set[str]:
        terms = config.get("learned_labels", config.get("labels", []))
        return {label_words(str(x)) for x in terms} if isinstance(terms, list) else set()

    return [
        v.id
        for v in registry.list_versions(ws, task=ModelTask.FAILURE_MODE)
        if v.status not in dead and words in learned(v.config)
    ]
