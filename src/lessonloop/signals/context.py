"""What every extractor reads (a stored review, its incident, the stored series) and returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from lessonloop.domain.incidents import IncidentRead
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import SignalCreate, SignalProvenance

__all__ = ["ExtractionInput", "ExtractionProblem", "Extraction", "provenance_for"]


@dataclass(frozen=True)
class ExtractionInput:
    """A review with its incident, and the series stored per service (for window selectors)."""

    review: ReviewRead
    incident: IncidentRead
    series_by_service: dict[str, list[str]] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return list(self.incident.services)


@dataclass(frozen=True)
class ExtractionProblem:
    """Something in a review that looks like a signal but cannot be one; says where and why."""

    field: str
    message: str


@dataclass
class Extraction:
    """Proposals plus the problems found on the way (nothing is dropped silently)."""

    proposals: list[SignalCreate] = field(default_factory=list)
    problems: list[ExtractionProblem] = field(default_factory=list)

    def extend(self, other: Extraction) -> None:
        self.proposals += other.proposals
        self.problems += other.problems


def provenance_for(
    source: ExtractionInput, *, extractor: str, version: str, **where: object
) -> SignalProvenance:
    """Provenance pointing at the review and incident plus ``where`` (field, span, text, ...)."""
    return SignalProvenance.model_validate(
        {
            "incident_key": source.incident.key,
            "review_id": source.review.id,
            "extractor": extractor,
            "extractor_version": version,
            **where,
        }
    )
