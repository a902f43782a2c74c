"""Remediation suggestions from precedents: what fixed similar incidents, and did it work?

Each precedent votes for its remediation labels with its similarity to the query, weighted by
the evidence that the remedy worked: a resolved action item whose outcome was verified as an
improvement counts most, an open one little, one verified as ineffective or harmful counts
against the remedy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lessonloop.errors import InputError
from lessonloop.text.precedents import Precedent, PrecedentDocument, PrecedentRetriever

__all__ = [
    "ActionItemRecord",
    "IncidentRemediation",
    "RemediationSuggestion",
    "SupportingIncident",
    "RemediationRecommender",
    "rank_remediations",
]

OUTCOMES = ("improved", "no_change", "worse")
STATUSES = ("open", "in_progress", "resolved", "wont_fix")


@dataclass(frozen=True)
class ActionItemRecord:
    """A follow-up action of a past incident and, once checked, whether it worked."""

    title: str
    remediation: str
    status: str = "open"
    verified_outcome: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InputError(f"unknown status {self.status!r}", field="status")
        if self.verified_outcome is not None and self.verified_outcome not in OUTCOMES:
            raise InputError(f"unknown outcome {self.verified_outcome!r}", field="verified_outcome")


@dataclass(frozen=True)
class IncidentRemediation:
    """What was done about one past incident: remediation labels and action items."""

    incident_id: str
    remediations: tuple[str, ...] = ()
    action_items: tuple[ActionItemRecord, ...] = ()


@dataclass(frozen=True)
class SupportingIncident:
    """A precedent behind a suggestion, with its similarity and the evidence it adds."""

    incident_id: str
    similarity: float
    evidence_weight: float
    action_items: tuple[str, ...]


@dataclass(frozen=True)
class RemediationSuggestion:
    """A remediation with its score and the incidents that support it."""

    remediation: str
    score: float
    supporting: tuple[SupportingIncident, ...]


@dataclass(frozen=True)
class OutcomeWeights:
    """How much each kind of evidence says "this remedy works"."""

    labelled_only: float = 0.5
    open_item: float = 0.3
    resolved_unverified: float = 0.7
    verified_improved: float = 1.0
    verified_no_change: float = -0.2
    verified_worse: float = -1.0
    wont_fix: float = 0.0


def _evidence_weight(items: Sequence[ActionItemRecord], weights: OutcomeWeights) -> float:
    """Best-supported verdict among one incident's action items for one remedy."""
    if not items:
        return weights.labelled_only
    verdicts = []
    for item in items:
        if item.verified_outcome == "improved":
            verdicts.append(weights.verified_improved)
        elif item.verified_outcome == "no_change":
            verdicts.append(weights.verified_no_change)
        elif item.verified_outcome == "worse":
            verdicts.append(weights.verified_worse)
        elif item.status == "resolved":
            verdicts.append(weights.resolved_unverified)
        elif item.status == "wont_fix":
            verdicts.append(weights.wont_fix)
        else:
            verdicts.append(weights.open_item)
    verified = [v for v, i in zip(verdicts, items, strict=True) if i.verified_outcome]
    return sum(verified) / len(verified) if verified else max(verdicts)


def rank_remediations(
    precedents: Sequence[Precedent],
    history: Mapping[str, IncidentRemediation],
    *,
    weights: OutcomeWeights | None = None,
    k: int = 5,
) -> list[RemediationSuggestion]:
    """Aggregate precedents' remedies into ranked suggestions (negative totals are dropped)."""
    weights = weights or OutcomeWeights()
    totals: dict[str, float] = {}
    support: dict[str, list[SupportingIncident]] = {}
    for precedent in precedents:
        record = history.get(precedent.incident_id)
        if record is None:
            continue
        similarity = max(precedent.text_score, 0.0)
        remedies = set(record.remediations) | {i.remediation for i in record.action_items}
        for remedy in sorted(remedies):
            items = [i for i in record.action_items if i.remediation == remedy]
            evidence = _evidence_weight(items, weights)
            totals[remedy] = totals.get(remedy, 0.0) + similarity * evidence
            support.setdefault(remedy, []).append(
                SupportingIncident(
                    precedent.incident_id,
                    round(similarity, 4),
                    evidence,
                    tuple(i.title for i in items),
                )
            )
    ranked = sorted((r for r in totals if totals[r] > 0), key=lambda r: (-totals[r], r))
    return [
        RemediationSuggestion(
            r, round(totals[r], 4), tuple(sorted(support[r], key=lambda s: -s.similarity))
        )
        for r in ranked[:k]
    ]


class RemediationRecommender:
    """Find precedents for a new incident and rank the remedies that worked for them."""

    def __init__(
        self,
        *,
        precedents_considered: int = 10,
        weights: OutcomeWeights | None = None,
        retriever: PrecedentRetriever | None = None,
    ) -> None:
        self.precedents_considered = precedents_considered
        self.weights = weights
        self.retriever = retriever

    def fit(
        self, documents: Sequence[PrecedentDocument], history: Sequence[IncidentRemediation]
    ) -> RemediationRecommender:
        """Index past incidents and remember what was done about each."""
        self.retriever_ = (self.retriever or PrecedentRetriever()).fit(documents)
        self.history_ = {record.incident_id: record for record in history}
        return self

    def recommend(self, text: str, *, k: int = 5) -> list[RemediationSuggestion]:
        """Ranked remedies for a new incident described by ``text``."""
        precedents = self.retriever_.search(text, k=self.precedents_considered)
        return rank_remediations(precedents, self.history_, weights=self.weights, k=k)
