"""Schemas and enums of Lessonloop's domain; imports nothing else of Lessonloop."""

from lessonloop.domain.actions import (
    ActionItemCreate,
    ActionItemRead,
    ActionItemUpdate,
    ExpectedEffect,
)
from lessonloop.domain.alerts import AlertCreate, AlertRead
from lessonloop.domain.audit import ApprovalCreate, ApprovalRead, AuditEventRead
from lessonloop.domain.common import DomainModel, canonical_json, content_hash, utc_now
from lessonloop.domain.enums import (
    ActionStatus,
    ActionType,
    AlertVerdict,
    Decision,
    DetectionMethod,
    IncidentStatus,
    InsightCategory,
    InsightKind,
    ModelStatus,
    ModelTask,
    Priority,
    ProvenanceSource,
    ReviewStatus,
    Severity,
    SignalKind,
    SignalStatus,
    TimelineKind,
    TimelineMarker,
)
from lessonloop.domain.incidents import IncidentCreate, IncidentRead, IncidentUpdate
from lessonloop.domain.insights import InsightCreate, InsightRead, Provenance, QualityRubric
from lessonloop.domain.models import (
    EvaluationCreate,
    EvaluationRead,
    ExperimentCreate,
    ExperimentRead,
    MetricEstimate,
    ModelVersionCreate,
    ModelVersionRead,
)
from lessonloop.domain.reviews import (
    AlertNote,
    DecisionPoint,
    ReviewCreate,
    ReviewRead,
    ReviewSummary,
    TimelineEvent,
)
from lessonloop.domain.services import ServiceCreate, ServiceRead, ServiceUpdate
from lessonloop.domain.signals import (
    Matcher,
    SignalCreate,
    SignalProvenance,
    SignalRead,
    SignalSetRead,
    parse_matchers,
    payload_adapter,
)

__all__ = [name for name in dir() if not name.startswith("_")]
