"""The relational schema of a Lessonloop workspace (SQLAlchemy 2 declarative tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lessonloop.storage.types import JsonType, UtcDateTime

__all__ = [
    "Base",
    "ServiceRow",
    "ServiceDependencyRow",
    "IncidentRow",
    "IncidentServiceRow",
    "AlertRow",
    "ReviewRow",
    "TimelineEventRow",
    "InsightRow",
    "ActionItemRow",
    "SignalRow",
    "SignalSetRow",
    "SignalSetMemberRow",
    "SeriesRow",
    "ModelVersionRow",
    "EvaluationRow",
    "ExperimentRow",
    "ApprovalRow",
    "AuditEventRow",
    "TaxonomyTermRow",
    "RoleGrantRow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UtcDateTime, dict[str, Any]: JsonType, list[Any]: JsonType}


class ServiceRow(Base):
    __tablename__ = "services"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    tier: Mapped[int] = mapped_column(Integer, default=2)
    team: Mapped[str | None] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(200))


class ServiceDependencyRow(Base):
    __tablename__ = "service_dependencies"
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    depends_on_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )


class IncidentRow(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detected_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    mitigated_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    detection_method: Mapped[str | None] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text, default="")
    external_refs: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    tags: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class IncidentServiceRow(Base):
    __tablename__ = "incident_services"
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at", name="uq_alerts_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(120), index=True)
    source: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="", index=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)


class ReviewRow(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), unique=True)
    template: Mapped[str] = mapped_column(String(120))
    template_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    authors: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    participants: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    detection: Mapped[str] = mapped_column(Text, default="")
    contributing_factors: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    went_well: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    went_wrong: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    got_lucky: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    decision_points: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    alert_notes: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    signal_blocks: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    extra_sections: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    source_file: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status_changed_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class TimelineEventRow(Base):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    marker: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="review")


class InsightRow(Base):
    __tablename__ = "insights"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    confidence: Mapped[float] = mapped_column(Float)
    services: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    tags: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    rubric: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    human_factor: Mapped[bool] = mapped_column(Boolean, default=False)


class ActionItemRow(Base):
    __tablename__ = "action_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    due: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), index=True)
    external_link: Mapped[str | None] = mapped_column(Text)
    expected_effect: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    insight_position: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_evidence: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class SignalRow(Base):
    __tablename__ = "signals"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    provenance: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    confidence: Mapped[float] = mapped_column(Float)
    author: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    valid_from: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"), index=True)
    insight_id: Mapped[int | None] = mapped_column(ForeignKey("insights.id"), index=True)


class SignalSetRow(Base):
    __tablename__ = "signal_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    parent_version: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[list[Any]] = mapped_column(JsonType, default=list)


class SignalSetMemberRow(Base):
    __tablename__ = "signal_set_members"
    set_id: Mapped[int] = mapped_column(
        ForeignKey("signal_sets.id", ondelete="CASCADE"), primary_key=True
    )
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id"), primary_key=True)
    signal_hash: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JsonType)


SERIES_TEXT_LENGTH = 200  # a series' name and source; importers check it before storing


class SeriesRow(Base):
    """A metric series stored as two packed arrays (epoch seconds, float64 values)."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("service_id", "name", name="uq_series_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    name: Mapped[str] = mapped_column(String(SERIES_TEXT_LENGTH))
    source: Mapped[str] = mapped_column(String(SERIES_TEXT_LENGTH), default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    end: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    n_points: Mapped[int] = mapped_column(Integer)
    timestamps: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(40), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    signal_set_version: Mapped[int | None] = mapped_column(Integer)
    training_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    training_end: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    artifact_path: Mapped[str | None] = mapped_column(Text)
    artifact_hash: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class EvaluationRow(Base):
    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    baseline_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    split: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    baseline_metrics: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    comparisons: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    decision: Mapped[str] = mapped_column(String(30))
    attribution: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ExperimentRow(Base):
    __tablename__ = "experiments"
    id: Mapped[int] = mapped_column(primary_key=True)
    hypothesis: Mapped[str] = mapped_column(Text)
    insight_ids: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    action_item_ids: Mapped[list[Any]] = mapped_column(JsonType, default=list)
    task: Mapped[str] = mapped_column(String(40))
    baseline_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    candidate_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    data_range: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    decision: Mapped[str | None] = mapped_column(String(30))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ApprovalRow(Base):
    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    approver: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    # the longest is a series: SERVICE/NAME, 120 + 1 + SERIES_TEXT_LENGTH (migration 0006)
    entity_id: Mapped[str] = mapped_column(String(330))
    before_hash: Mapped[str | None] = mapped_column(String(64))
    after_hash: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class TaxonomyTermRow(Base):
    """An editable taxonomy value: failure modes, remediations, human factors, incident types."""

    __tablename__ = "taxonomy_terms"
    __table_args__ = (UniqueConstraint("taxonomy", "value", name="uq_taxonomy_terms_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    taxonomy: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[Any]] = mapped_column(JsonType, default=list)


class RoleGrantRow(Base):
    """One role held by one person (matched case- and space-insensitively by ``person_key``)."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_key", "role", name="uq_role_grants_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person: Mapped[str] = mapped_column(String(200))
    person_key: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(40))
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
