"""Prometheus alerting rules from a metric-anomaly model's learned thresholds and threshold hints.

The artifact's config.json carries the learned rules (the contract is in docs/registry.md)::

    {"rules": [{"service": "checkout", "series": "latency_p99", "metric": "latency_p99_seconds",
                "direction": "above", "threshold": 1.8, "for_minutes": 5,
                "labels": {"severity": "page"},
                "justification": {"reviews": [3], "insights": [11], "evaluation_id": 4}}]}

Each exported rule's annotations name the reviews, insights and evaluation that justify it.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lessonloop.domain.signals import ThresholdHint
from lessonloop.errors import InputError

__all__ = [
    "RuleJustification",
    "LearnedRule",
    "RulesConfig",
    "HintRule",
    "parse_rules_config",
    "promql_expr",
    "alert_name",
    "for_duration",
    "build_rule_groups",
    "render_rules_yaml",
]

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleJustification(_Strict):
    """Which reviews and insights taught a rule, and the evaluation that supports it."""

    reviews: list[int | str] = Field(default_factory=list)
    insights: list[int | str] = Field(default_factory=list)
    evaluation_id: int | None = None


class LearnedRule(_Strict):
    """One learned per-series threshold, as a metric-anomaly model writes it in config.json."""

    service: str = Field(min_length=1)
    series: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    direction: Literal["above", "below"]
    threshold: float
    for_minutes: float = Field(default=0, ge=0)
    labels: dict[str, str] = Field(default_factory=dict)
    justification: RuleJustification = Field(default_factory=RuleJustification)

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name in value if not _LABEL_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"invalid Prometheus label names: {', '.join(bad)}")
        return value


class RulesConfig(_Strict):
    """The part of a metric-anomaly artifact's config that exports read."""

    model_config = ConfigDict(extra="ignore")
    rules: list[LearnedRule] = Field(default_factory=list)


class HintRule(_Strict):
    """An accepted threshold-hint signal with where it came from."""

    hint: ThresholdHint
    signal_id: int | None = None
    review_id: int | None = None
    insight_id: int | None = None


def parse_rules_config(config: dict[str, Any], *, file: str = "config.json") -> RulesConfig:
    """Validate the learned-rules contract; one InputError naming the JSON path on bad input."""
    try:
        return RulesConfig.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise InputError(first["msg"], file=file, field=path.lstrip(".")) from exc


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def promql_expr(metric: str, service: str, direction: str, threshold: float) -> str:
    """`metric{service="…"} >= threshold` for a bare metric name; an expression is kept as is.

    Inclusive, because a learned threshold is the lowest (highest) value the detector fired
    at: a metric that saturates at exactly that value must still page."""
    comparison = ">=" if direction == "above" else "<="
    if _METRIC_NAME.fullmatch(metric):
        selector = f"{metric}{{service={_quote(service)}}}"
    else:
        selector = f"({metric})"
    return f"{selector} {comparison} {threshold!r}"


def alert_name(service: str, series: str, direction: str) -> str:
    """A valid Prometheus alert name such as ``LessonloopCheckoutLatencyP99Above``."""
    words = re.split(r"[^A-Za-z0-9]+", f"{service} {series} {direction}")
    return "Lessonloop" + "".join(w[:1].upper() + w[1:] for w in words if w)


def for_duration(minutes: float) -> str:
    """A Prometheus duration: whole minutes as ``5m``, otherwise whole seconds."""
    seconds = round(minutes * 60)
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def _refs(prefix: str, values: list[Any]) -> str:
    return ", ".join(f"{prefix} {v}" for v in values)


def _rule(
    name: str, expr: str, minutes: float, labels: dict[str, str], annotations: dict[str, str]
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if minutes > 0:
        rule["for"] = for_duration(minutes)
    rule["labels"] = labels
    rule["annotations"] = {k: v for k, v in annotations.items() if v}
    return rule


def build_rule_groups(
    learned: list[LearnedRule],
    hints: list[HintRule],
    *,
    version_id: int,
    evaluation_id: int | None = None,
) -> dict[str, Any]:
    """The rule-file document; a hint on a series that a learned rule covers is left out."""
    rules: list[dict[str, Any]] = []
    covered: set[tuple[str, str, str]] = set()
    base = {"lessonloop_version": str(version_id)}
    for item in learned:
        covered.add((item.service, item.series, item.direction))
        evaluation = item.justification.evaluation_id or evaluation_id
        rules.append(
            _rule(
                alert_name(item.service, item.series, item.direction),
                promql_expr(item.metric, item.service, item.direction, item.threshold),
                item.for_minutes,
                {"severity": "warning", **item.labels, "service": item.service, **base},
                {
                    "summary": f"{item.series} on {item.service} is {item.direction} "
                    f"{item.threshold:g} (learned by Lessonloop model {version_id})",
                    "lessonloop_reviews": _refs("review", item.justification.reviews),
                    "lessonloop_insights": _refs("insight", item.justification.insights),
                    "lessonloop_evaluation": f"evaluation {evaluation}" if evaluation else "",
                    "lessonloop_model_version": str(version_id),
                },
            )
        )
    for entry in hints:
        hint = entry.hint
        if (hint.service, hint.series, hint.direction) in covered:
            continue
        if not _METRIC_NAME.fullmatch(hint.series):
            raise InputError(
                f"threshold hint series {hint.series!r} is not a Prometheus metric name",
                field=f"signal {entry.signal_id}.payload.series",
            )
        covered.add((hint.service, hint.series, hint.direction))
        rules.append(
            _rule(
                alert_name(hint.service, hint.series, hint.direction),
                promql_expr(hint.series, hint.service, hint.direction, hint.value),
                hint.for_minutes,
                {"severity": "warning", "service": hint.service, **base},
                {
                    "summary": f"{hint.series} on {hint.service} is {hint.direction} "
                    f"{hint.value:g} (threshold from a post-incident review)",
                    "lessonloop_reviews": f"review {entry.review_id}" if entry.review_id else "",
                    "lessonloop_insights": f"insight {entry.insight_id}"
                    if entry.insight_id
                    else "",
                    "lessonloop_signal": f"signal {entry.signal_id}" if entry.signal_id else "",
                    "lessonloop_evaluation": f"evaluation {evaluation_id}" if evaluation_id else "",
                    "lessonloop_model_version": str(version_id),
                },
            )
        )
    return {"groups": [{"name": f"lessonloop-model-{version_id}", "rules": rules}]}


def render_rules_yaml(document: dict[str, Any], *, header: str = "") -> str:
    """YAML text of a rule file, with an optional comment header."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
