"""Prometheus alerting rules from a metric-anomaly model's learned thresholds and threshold hints.

The artifact's config.json carries the learned rules (the contract is in docs/registry.md)::

    {"rules": [{"service": "checkout", "series": "latency_p99", "metric": "latency_p99_seconds",
                "direction": "above", "threshold": 1.8, "for_minutes": 5,
                "labels": {"severity": "page"},
                "justification": {"reviews": [3], "insights": [11], "evaluation_id": 4}}]}

Each exported rule's annotations name the reviews, insights and evaluation that justify it.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lessonloop.domain.promql import LABEL_NAME, METRIC_NAME, parse_selector, render_selector
from lessonloop.domain.signals import ThresholdHint
from lessonloop.errors import InputError

__all__ = [
    "RuleJustification",
    "LearnedRule",
    "RulesConfig",
    "HintRule",
    "parse_rules_config",
    "promql_expr",
    "series_selector",
    "rule_selector",
    "Selector",
    "RuleFile",
    "alert_name",
    "for_duration",
    "build_rule_groups",
    "render_rules_yaml",
]

_METRIC_NAME = METRIC_NAME
_LABEL_NAME = LABEL_NAME


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


def series_selector(service: str, name: str, labels: Mapping[str, str]) -> str:
    """The PromQL selector of a stored series: from its Prometheus labels (``__name__`` and the
    rest) when it has them, else ``name{service="<service>"}`` (series stored before Lessonloop
    kept labels). ValueError says why there is none."""
    if labels:
        return render_selector(labels)
    if not _METRIC_NAME.fullmatch(name):
        raise ValueError(f"its name {name!r} is not a Prometheus metric name")
    return render_selector({"__name__": name, "service": service})


def _balanced(expr: str) -> bool:
    """Brackets nest and quotes close (outside strings): the least a PromQL expression needs."""
    closing = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for char in expr:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in closing:
            stack.append(closing[char])
        elif char in ")]}" and (not stack or stack.pop() != char):
            return False
    return quote is None and not stack


def rule_selector(metric: str, service: str) -> str:
    """What a learned rule compares: a bare metric name selected with ``{service="…"}``, a
    selector re-written with its values escaped, or an expression in parentheses.
    ValueError when ``metric`` is none of these."""
    if _METRIC_NAME.fullmatch(metric):
        return render_selector({"__name__": metric, "service": service})
    name, brace, _ = metric.partition("{")
    if brace and _METRIC_NAME.fullmatch(name.strip()):
        with contextlib.suppress(ValueError):
            return render_selector(parse_selector(metric))
    if not metric.strip() or not _balanced(metric):
        raise ValueError(f"{metric!r} is neither a metric name, a selector nor an expression")
    return f"({metric})"


def promql_expr(metric: str, service: str, direction: str, threshold: float) -> str:
    """`metric{service="…"} >= threshold` for a bare metric name; an expression is kept as is.

    Inclusive, because a learned threshold is the lowest (highest) value the detector fired
    at: a metric that saturates at exactly that value must still page."""
    return _compare(rule_selector(metric, service), direction, threshold)


def _compare(selector: str, direction: str, threshold: float) -> str:
    comparison = ">=" if direction == "above" else "<="
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


Selector = Callable[[str, str, str | None], str]
"""(service, series, learned metric or None for a hint) -> what the rule compares; ValueError
with the reason when there is nothing valid to compare."""


def _default_selector(service: str, series: str, metric: str | None) -> str:
    return rule_selector(series if metric is None else metric, service)


@dataclass
class RuleFile:
    """A rule-file document, how many rules of each kind it holds, and what was left out."""

    document: dict[str, Any]
    learned: int = 0
    hints: int = 0
    covered: int = 0
    skipped: list[str] = field(default_factory=list)


def build_rule_groups(
    learned: list[LearnedRule],
    hints: list[HintRule],
    *,
    version_id: int,
    evaluation_id: int | None = None,
    selector: Selector = _default_selector,
) -> RuleFile:
    """The rule-file document; a hint on a series that a learned rule covers is left out, and
    so is a rule whose series has no valid PromQL selector (said in ``skipped``)."""
    out = RuleFile({})
    rules: list[dict[str, Any]] = []
    covered: set[tuple[str, str, str]] = set()
    base = {"lessonloop_version": str(version_id)}
    for item in learned:
        try:
            compared = selector(item.service, item.series, item.metric)
        except ValueError as exc:
            out.skipped.append(f"learned rule on {item.service}/{item.series} left out: {exc}")
            continue
        covered.add((item.service, item.series, item.direction))
        evaluation = item.justification.evaluation_id or evaluation_id
        rules.append(
            _rule(
                alert_name(item.service, item.series, item.direction),
                _compare(compared, item.direction, item.threshold),
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
        out.learned += 1
    for entry in hints:
        hint = entry.hint
        if (hint.service, hint.series, hint.direction) in covered:
            out.covered += 1
            continue
        try:
            compared = selector(hint.service, hint.series, None)
        except ValueError as exc:
            out.skipped.append(
                f"threshold hint (signal {entry.signal_id}) on {hint.service}/{hint.series} "
                f"left out: {exc}"
            )
            continue
        covered.add((hint.service, hint.series, hint.direction))
        rules.append(
            _rule(
                alert_name(hint.service, hint.series, hint.direction),
                _compare(compared, hint.direction, hint.value),
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
        out.hints += 1
    out.document = {"groups": [{"name": f"lessonloop-model-{version_id}", "rules": rules}]}
    return out


def render_rules_yaml(document: dict[str, Any], *, header: str = "") -> str:
    """YAML text of a rule file, with an optional comment header."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
