"""Alerts as Alertmanager, PagerDuty or Opsgenie delivered them, merged by fingerprint."""

from __future__ import annotations

from pydantic import Field, model_validator

from lessonloop.domain.common import DomainModel, Key, UtcDatetime

__all__ = ["AlertBase", "AlertCreate", "AlertRead"]


class AlertBase(DomainModel):
    fingerprint: Key
    source: str = "alertmanager"
    name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None = None
    incident_key: Key | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> AlertBase:
        if self.ends_at is not None and self.ends_at < self.starts_at:
            raise ValueError("ends_at is before starts_at")
        return self


class AlertCreate(AlertBase):
    pass


class AlertRead(AlertBase):
    id: int
