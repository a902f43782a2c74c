"""Incidents: what broke, when (in order), and how it was noticed."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from lessonloop.domain.common import DomainModel, Key, Name, UtcDatetime
from lessonloop.domain.enums import DetectionMethod, IncidentStatus, Severity

__all__ = ["IncidentBase", "IncidentCreate", "IncidentUpdate", "IncidentRead", "check_time_order"]

TIME_FIELDS = ("started_at", "detected_at", "mitigated_at", "resolved_at")


def check_time_order(times: dict[str, datetime | None]) -> None:
    """Raise ValueError naming the first pair of incident times that are out of order."""
    present = [(name, times[name]) for name in TIME_FIELDS if times.get(name) is not None]
    for (first, a), (second, b) in zip(present, present[1:], strict=False):
        if a is not None and b is not None and b < a:
            raise ValueError(f"{second} ({b.isoformat()}) is before {first} ({a.isoformat()})")


class IncidentBase(DomainModel):
    key: Key
    title: Name
    severity: Severity = Severity.SEV3
    status: IncidentStatus = IncidentStatus.RESOLVED
    services: list[Key] = Field(default_factory=list)
    started_at: UtcDatetime
    detected_at: UtcDatetime | None = None
    mitigated_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    detection_method: DetectionMethod | None = None
    summary: str = ""
    external_refs: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _times_in_order(self) -> IncidentBase:
        check_time_order({name: getattr(self, name) for name in TIME_FIELDS})
        return self


class IncidentCreate(IncidentBase):
    pass


class IncidentUpdate(DomainModel):
    title: Name | None = None
    severity: Severity | None = None
    status: IncidentStatus | None = None
    services: list[Key] | None = None
    started_at: UtcDatetime | None = None
    detected_at: UtcDatetime | None = None
    mitigated_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    detection_method: DetectionMethod | None = None
    summary: str | None = None
    external_refs: dict[str, str] | None = None
    tags: list[str] | None = None


class IncidentRead(IncidentBase):
    id: int
