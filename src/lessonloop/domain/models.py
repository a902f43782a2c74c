"""Model versions, their evaluations and the experiments that justify a change."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lessonloop.domain.common import DomainModel, UtcDatetime
from lessonloop.domain.enums import Decision, ModelStatus, ModelTask

__all__ = [
    "ModelVersionCreate",
    "ModelVersionRead",
    "MetricEstimate",
    "EvaluationCreate",
    "EvaluationRead",
    "ExperimentCreate",
    "ExperimentRead",
]


class ModelVersionCreate(DomainModel):
    task: ModelTask
    config: dict[str, Any] = Field(default_factory=dict)
    signal_set_version: int | None = None
    training_start: UtcDatetime | None = None
    training_end: UtcDatetime | None = None
    artifact_path: str | None = None
    artifact_hash: str | None = None
    parent_id: int | None = None


class ModelVersionRead(ModelVersionCreate):
    id: int
    status: ModelStatus
    created_at: UtcDatetime
    created_by: str | None = None
    status_changed_at: UtcDatetime


class MetricEstimate(DomainModel):
    """A metric with its bootstrap interval."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @classmethod
    def rounded(
        cls, value: float | None, interval: tuple[float, float] | None, digits: int = 4
    ) -> MetricEstimate:
        """A value and its (low, high) interval, each rounded; None stays None."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, digits)

        low, high = interval if interval else (None, None)
        return cls(value=r(value), low=r(low), high=r(high))


class EvaluationCreate(DomainModel):
    model_version_id: int
    baseline_version_id: int | None = None
    split: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, MetricEstimate] = Field(default_factory=dict)
    baseline_metrics: dict[str, MetricEstimate] = Field(default_factory=dict)
    comparisons: dict[str, dict[str, Any]] = Field(default_factory=dict)
    decision: Decision = Decision.NOT_DISTINGUISHABLE
    attribution: list[dict[str, Any]] = Field(default_factory=list)
    notes: str = ""


class EvaluationRead(EvaluationCreate):
    id: int
    created_at: UtcDatetime


class ExperimentCreate(DomainModel):
    hypothesis: str = Field(min_length=1)
    insight_ids: list[int] = Field(default_factory=list)
    action_item_ids: list[int] = Field(default_factory=list)
    task: ModelTask
    baseline_version_id: int | None = None
    candidate_version_id: int | None = None
    evaluation_id: int | None = None
    data_range: dict[str, str] = Field(default_factory=dict)
    decision: Decision | None = None
    notes: str = ""


class ExperimentRead(ExperimentCreate):
    id: int
    created_at: UtcDatetime
