"""The closed vocabularies of Lessonloop's domain: severities, statuses and kinds."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Severity",
    "IncidentStatus",
    "DetectionMethod",
    "ReviewStatus",
    "TimelineKind",
    "TimelineMarker",
    "InsightKind",
    "InsightCategory",
    "ProvenanceSource",
    "ActionType",
    "ActionStatus",
    "Priority",
    "AlertVerdict",
    "SignalKind",
    "SignalStatus",
    "ModelTask",
    "ModelStatus",
    "Decision",
]


class Severity(StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"
    SEV5 = "SEV5"


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class DetectionMethod(StrEnum):
    ALERT = "alert"
    CUSTOMER = "customer"
    HUMAN = "human"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in review"
    APPROVED = "approved"
    PUBLISHED = "published"


class TimelineKind(StrEnum):
    DETECTION = "detection"
    DIAGNOSIS = "diagnosis"
    REPAIR = "repair"
    DECISION = "decision"
    COMMUNICATION = "communication"
    ALERT = "alert"
    CHANGE = "change"
    KEY_MOMENT = "key moment"


class TimelineMarker(StrEnum):
    """A reviewer's statement about what a timeline moment means for the incident window."""

    FIRST_SYMPTOM = "first symptom"
    DETECTED = "detected"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class InsightKind(StrEnum):
    OBSERVATION = "observation"  # descriptive: what happened, what people saw
    RECOMMENDATION = "recommendation"  # prescriptive: what should change


class InsightCategory(StrEnum):
    TECHNICAL = "technical"
    COGNITIVE_BIAS = "cognitive bias"
    COMMUNICATION = "communication"
    INFORMATION_SILO = "information silo"
    TOOLING = "tooling"
    PROCESS = "process"


class ProvenanceSource(StrEnum):
    INTERVIEW = "interview"
    CHAT_TRANSCRIPT = "chat transcript"
    RUNBOOK_UPDATE = "runbook update"
    REVIEW_MEETING = "review meeting"
    TICKET = "ticket"


class ActionType(StrEnum):
    DETECT = "detect"
    MITIGATE = "mitigate"
    PREVENT = "prevent"
    PROCESS = "process"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in progress"
    DONE = "done"
    WONT_DO = "wont do"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class AlertVerdict(StrEnum):
    ACTIONABLE = "actionable"
    NOISE = "noise"
    DUPLICATE = "duplicate"
    LATE = "late"
    MISSED = "missed"


class SignalKind(StrEnum):
    INCIDENT_WINDOW = "incident_window"
    ALERT_VERDICT = "alert_verdict"
    THRESHOLD_HINT = "threshold_hint"
    CORRELATION_RULE = "correlation_rule"
    SUPPRESSION_RULE = "suppression_rule"
    FAILURE_MODE_LABEL = "failure_mode_label"
    REMEDIATION_LABEL = "remediation_label"
    INSTRUMENTATION_GAP = "instrumentation_gap"
    PRECEDENT_FEEDBACK = "precedent_feedback"


class SignalStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETIRED = "retired"


class ModelTask(StrEnum):
    METRIC_ANOMALY = "metric_anomaly"
    ALERT_CORRELATION = "alert_correlation"
    FAILURE_MODE = "failure_mode"
    PRECEDENT = "precedent"


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    SHADOW = "shadow"
    APPROVED = "approved"
    CHAMPION = "champion"
    RETIRED = "retired"
    REJECTED = "rejected"


class Decision(StrEnum):
    """An evaluation's verdict on a candidate against the champion."""

    BETTER = "better"
    WORSE = "worse"
    NOT_DISTINGUISHABLE = "not distinguishable"
