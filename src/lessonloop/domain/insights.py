"""Insights: the unit of human learning, descriptive or prescriptive, with provenance."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from lessonloop.domain.common import DomainModel, Key, UtcDatetime
from lessonloop.domain.enums import InsightCategory, InsightKind, ProvenanceSource

__all__ = ["Provenance", "QualityRubric", "InsightBase", "InsightCreate", "InsightRead"]


class Provenance(DomainModel):
    source: ProvenanceSource = ProvenanceSource.REVIEW_MEETING
    ref: str | None = None
    author: str | None = None
    captured_at: UtcDatetime | None = None


class QualityRubric(DomainModel):
    """Scores from 0 to 1 on the four rubric axes; None where nobody rated it yet.

    ``rated_by`` and ``rated_at`` say who last rated the insight and when; dumps leave them
    out while unset, so an unrated insight serialises (and hashes) as it always did.
    """

    relevance: float | None = Field(default=None, ge=0, le=1)
    timeliness: float | None = Field(default=None, ge=0, le=1)
    breadth: float | None = Field(default=None, ge=0, le=1)
    actionability: float | None = Field(default=None, ge=0, le=1)
    rated_by: str | None = None
    rated_at: UtcDatetime | None = None

    @model_serializer(mode="wrap")
    def _without_unset_rater(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in ("rated_by", "rated_at"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


class InsightBase(DomainModel):
    kind: InsightKind
    text: str = Field(min_length=1)
    category: InsightCategory = InsightCategory.TECHNICAL
    provenance: Provenance = Field(default_factory=Provenance)
    confidence: float = Field(default=0.7, ge=0, le=1)
    services: list[Key] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    rubric: QualityRubric = Field(default_factory=QualityRubric)
    human_factor: bool = False


class InsightCreate(InsightBase):
    pass


class InsightRead(InsightBase):
    id: int
    review_id: int
    position: int
