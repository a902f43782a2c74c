"""Failure-mode labels proposed by the text classifier (always proposals, never auto-accepted)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import ValidationError

from lessonloop.domain.signals import FailureModeLabel, SignalCreate
from lessonloop.signals.context import (
    Extraction,
    ExtractionInput,
    ExtractionProblem,
    provenance_for,
)

__all__ = [
    "SuggestsFailureModes",
    "extract_model",
    "review_text",
    "MODEL_EXTRACTOR",
]

MODEL_EXTRACTOR = "model.failure_mode"


class _Suggestion(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def probability(self) -> float: ...
    @property
    def suggested(self) -> bool: ...


class SuggestsFailureModes(Protocol):
    """What extraction needs from a classifier: ``suggest(text)`` → ranked suggestions."""

    def suggest(self, text: str) -> Sequence[_Suggestion]: ...


def review_text(source: ExtractionInput) -> str:
    """The review's prose, as the classifier reads it (title, summary, factors, insights)."""
    review = source.review
    parts = [
        review.title,
        review.summary,
        review.impact,
        review.detection,
        *review.contributing_factors,
        *(i.text for i in review.insights),
    ]
    return "\n".join(p for p in parts if p)


def extract_model(
    source: ExtractionInput, classifier: SuggestsFailureModes | None, *, version: str = "keywords"
) -> Extraction:
    """One failure_mode_label proposal per label the classifier suggests for the review."""
    out = Extraction()
    if classifier is None:
        return out
    text = review_text(source)
    for suggestion in classifier.suggest(text):
        if not suggestion.suggested:
            continue
        try:
            payload = FailureModeLabel(incident_key=source.incident.key, label=suggestion.label)
        except ValidationError:
            # a taxonomy term no label can name (no letter or digit at all): say so, go on
            out.problems.append(
                ExtractionProblem(
                    "review", f"suggested failure mode {suggestion.label!r} cannot be a label"
                )
            )
            continue
        out.proposals.append(
            SignalCreate(
                payload=payload,
                confidence=round(min(max(suggestion.probability, 0.0), 1.0), 4),
                provenance=provenance_for(
                    source, extractor=MODEL_EXTRACTOR, version=version, field="review"
                ),
            )
        )
    return out
