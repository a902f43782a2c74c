"""Learning signals: typed, versioned training data with provenance back to a human sentence."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, TypeAdapter, field_validator, model_validator

from lessonloop.domain.common import DomainModel, Key, UtcDatetime
from lessonloop.domain.enums import AlertVerdict, SignalKind, SignalStatus

__all__ = [
    "Matcher",
    "parse_matchers",
    "IncidentWindow",
    "AlertVerdictPayload",
    "ThresholdHint",
    "CorrelationRule",
    "SuppressionRule",
    "FailureModeLabel",
    "RemediationLabel",
    "InstrumentationGap",
    "PrecedentFeedback",
    "SignalPayload",
    "SignalProvenance",
    "SignalCreate",
    "SignalRead",
    "SignalSetRead",
    "payload_adapter",
    "LabelKey",
    "label_key",
    "label_words",
]

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


class Matcher(DomainModel):
    """One Prometheus-style label matcher."""

    label: str
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str

    @model_validator(mode="after")
    def _valid_regex(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {self.value!r}: {exc}") from exc
        return self

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


def parse_matchers(text: str) -> list[Matcher]:
    """Parse ``{a="x", b=~"y.*"}`` or a bare alert name into matchers; ValueError if malformed."""
    text = text.strip()
    if not text:
        raise ValueError("empty matcher")
    if not text.startswith("{"):
        if not re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:.-]*", text):
            raise ValueError(f'not an alert name or {{label="value"}} matchers: {text!r}')
        return [Matcher(label="alertname", op="=", value=text)]
    if not text.endswith("}"):
        raise ValueError(f"matchers must end with '}}': {text!r}")
    body = text[1:-1].strip()
    out: list[Matcher] = []
    pos = 0
    while pos < len(body):
        m = _MATCHER.match(body, pos)
        if not m:
            raise ValueError(f"malformed matcher at {body[pos:]!r}")
        out.append(Matcher(label=m.group(1), op=m.group(2), value=m.group(3)))  # type: ignore[arg-type]
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                raise ValueError(f"expected ',' between matchers at {body[pos:]!r}")
            pos += 1
    if not out:
        raise ValueError("no matchers between braces")
    return out


class _Payload(DomainModel):
    pass


class IncidentWindow(_Payload):
    kind: Literal["incident_window"] = "incident_window"
    service: Key
    series: str = "*"
    start: UtcDatetime
    end: UtcDatetime
    start_source: str = ""
    end_source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> IncidentWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class AlertVerdictPayload(_Payload):
    kind: Literal["alert_verdict"] = "alert_verdict"
    matchers: list[Matcher] = Field(min_length=1)
    verdict: AlertVerdict
    reason: str = ""
    fingerprint: str | None = None


class ThresholdHint(_Payload):
    kind: Literal["threshold_hint"] = "threshold_hint"
    service: Key
    series: str
    direction: Literal["above", "below"] = "above"
    value: float
    for_minutes: float = Field(default=0, ge=0)
    replaces: float | None = None


class CorrelationRule(_Payload):
    kind: Literal["correlation_rule"] = "correlation_rule"
    source: list[Matcher] = Field(min_length=1)
    target: list[Matcher] = Field(min_length=1)
    window_minutes: float = Field(default=15, gt=0)
    topology_edge: bool = False


class SuppressionRule(_Payload):
    kind: Literal["suppression_rule"] = "suppression_rule"
    matchers: list[Matcher] = Field(min_length=1)
    condition: Literal["always", "time_of_day", "maintenance", "while_firing"] = "always"
    hours_utc: list[int] = Field(default_factory=list)
    while_firing: list[Matcher] = Field(default_factory=list)
    expires_at: UtcDatetime | None = None

    @field_validator("hours_utc")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        if any(h < 0 or h > 23 for h in value):
            raise ValueError("hours must be between 0 and 23")
        return sorted(set(value))


_LABEL_PATTERN = r"^[^\W_][\w.:/-]*$"
_LABEL = re.compile(_LABEL_PATTERN)
_WORD = re.compile(r"[^\W_]+")

LabelKey = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=120, pattern=_LABEL_PATTERN
    ),
]
"""A failure-mode or remediation label: like a key, but letters of any script are allowed
(``défaillance_réseau``, ``数据库_故障``), since taxonomy terms may be written in any language."""


def label_key(name: str) -> str:
    """A taxonomy term as a signal label: ``"retry storm"`` becomes ``"retry_storm"``.

    Words are joined by underscores and lower-cased; a name that is already a valid label is
    returned unchanged, so labels people wrote as keys keep their spelling.
    """
    stripped = name.strip()
    if _LABEL.fullmatch(stripped):
        return stripped
    return "_".join(_WORD.findall(stripped.lower()))


def label_words(label: str) -> str:
    """A label read as words, lower case: ``retry_storm``, ``Retry-Storm`` -> ``retry storm``.

    Punctuation separates words, so ``config / secret`` and ``config_secret`` read alike.

    Two labels name the same taxonomy term when their words are equal.
    """
    return " ".join(_WORD.findall(label.lower()))


class _Labelled(_Payload):
    """A label of one incident; a label written as words is stored in its key form."""

    @field_validator("label", mode="before", check_fields=False)
    @classmethod
    def _key_form(cls, value: Any) -> Any:
        return label_key(value) if isinstance(value, str) else value


class FailureModeLabel(_Labelled):
    kind: Literal["failure_mode_label"] = "failure_mode_label"
    incident_key: Key
    label: LabelKey


class RemediationLabel(_Labelled):
    kind: Literal["remediation_label"] = "remediation_label"
    incident_key: Key
    label: LabelKey


class InstrumentationGap(_Payload):
    kind: Literal["instrumentation_gap"] = "instrumentation_gap"
    service: Key | None = None
    missing: str = Field(min_length=1)
    would_have_shown: str = ""


class PrecedentFeedback(_Payload):
    kind: Literal["precedent_feedback"] = "precedent_feedback"
    incident_key: Key
    precedent_key: Key
    helpful: bool


SignalPayload = Annotated[
    IncidentWindow
    | AlertVerdictPayload
    | ThresholdHint
    | CorrelationRule
    | SuppressionRule
    | FailureModeLabel
    | RemediationLabel
    | InstrumentationGap
    | PrecedentFeedback,
    Field(discriminator="kind"),
]

payload_adapter: TypeAdapter[Any] = TypeAdapter(SignalPayload)


class SignalProvenance(DomainModel):
    """Where a signal came from, down to the sentence: insight → review → incident."""

    incident_key: str | None = None
    review_id: int | None = None
    insight_id: int | None = None
    timeline_position: int | None = None
    field: str | None = None
    span: tuple[int, int] | None = None
    text: str | None = None
    extractor: str = "manual"
    extractor_version: str = "1"


class SignalCreate(DomainModel):
    payload: SignalPayload
    provenance: SignalProvenance = Field(default_factory=SignalProvenance)
    confidence: float = Field(default=0.5, ge=0, le=1)
    author: str | None = None
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None

    @property
    def kind(self) -> SignalKind:
        return SignalKind(self.payload.kind)


class SignalRead(SignalCreate):
    id: int
    status: SignalStatus
    content_hash: str
    created_at: UtcDatetime
    decided_by: str | None = None
    decided_at: UtcDatetime | None = None
    decision_note: str | None = None


class SignalSetRead(DomainModel):
    id: int
    version: int
    parent_version: int | None
    content_hash: str
    created_at: UtcDatetime
    created_by: str | None
    members: list[int]
    notes: list[str] = Field(default_factory=list)
