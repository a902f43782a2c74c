"""Who did what, when and why: approvals and the audit trail."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lessonloop.domain.common import DomainModel, UtcDatetime

__all__ = ["AuditEventRead", "ApprovalCreate", "ApprovalRead"]


class AuditEventRead(DomainModel):
    id: int
    at: UtcDatetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before_hash: str | None = None
    after_hash: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ApprovalCreate(DomainModel):
    model_version_id: int
    approver: str = Field(min_length=1)
    decision: str = Field(pattern="^(approve|reject)$")
    reason: str = Field(min_length=1)


class ApprovalRead(ApprovalCreate):
    id: int
    at: UtcDatetime
