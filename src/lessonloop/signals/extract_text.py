"""Signals from review prose with rules that are data (patterns.yaml, extensible by the user)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lessonloop.domain.enums import AlertVerdict, SignalKind
from lessonloop.domain.signals import (
    AlertVerdictPayload,
    CorrelationRule,
    InstrumentationGap,
    Matcher,
    SignalCreate,
    SuppressionRule,
    ThresholdHint,
    parse_matchers,
)
from lessonloop.errors import InputError
from lessonloop.signals.context import (
    Extraction,
    ExtractionInput,
    ExtractionProblem,
    provenance_for,
)

__all__ = ["TextRule", "load_rules", "extract_text", "parse_threshold_sentence", "TEXT_VERSION"]

TEXT_VERSION = "1"
_KINDS = {
    SignalKind.THRESHOLD_HINT,
    SignalKind.ALERT_VERDICT,
    SignalKind.CORRELATION_RULE,
    SignalKind.INSTRUMENTATION_GAP,
}
_WHERE = {"insight", "prose", "action"}
_MINUTES = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "second": 1 / 60,
    "m": 1,
    "min": 1,
    "minute": 1,
    "h": 60,
    "hour": 60,
}


@dataclass(frozen=True)
class TextRule:
    """One pattern: which kind it proposes, where it looks, and its kind-specific options."""

    name: str
    kind: SignalKind
    pattern: re.Pattern[str]
    confidence: float
    where: frozenset[str]
    options: dict[str, Any] = field(default_factory=dict)


def _rule(raw: Any, source: str, index: int) -> TextRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("pattern"):
        raise InputError("a rule needs a name and a pattern", file=source, field=where)
    options = dict(raw)
    try:
        kind = SignalKind(options.pop("kind", ""))
    except ValueError:
        kind = None
    if kind not in _KINDS:
        raise InputError(
            f"kind must be one of {sorted(k.value for k in _KINDS)}",
            file=source,
            field=f"{where}.kind",
        )
    try:
        pattern = re.compile(options.pop("pattern"), re.IGNORECASE | re.VERBOSE)
    except re.error as exc:
        raise InputError(
            f"invalid regular expression: {exc}", file=source, field=f"{where}.pattern"
        ) from exc
    confidence = options.pop("confidence", 0.5)
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise InputError(
            "confidence must be between 0 and 1", file=source, field=f"{where}.confidence"
        )
    places = frozenset(options.pop("where", sorted(_WHERE)))
    if not places <= _WHERE:
        raise InputError(
            f"where must be among {sorted(_WHERE)}", file=source, field=f"{where}.where"
        )
    return TextRule(
        name=str(options.pop("name")),
        kind=kind,
        pattern=pattern,
        confidence=float(confidence),
        where=places,
        options=options,
    )


def _rules_in(text: str, source: str) -> list[TextRule]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", file=source) from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise InputError(
            "a pattern file is a mapping with a 'rules' list", file=source, field="rules"
        )
    return [_rule(raw, source, i) for i, raw in enumerate(data.get("rules") or [])]


@functools.lru_cache(maxsize=1)
def _shipped_rules() -> tuple[TextRule, ...]:
    shipped = resources.files("lessonloop.signals").joinpath("patterns.yaml").read_text("utf-8")
    return tuple(_rules_in(shipped, "lessonloop/signals/patterns.yaml"))


@functools.lru_cache(maxsize=16)
def _user_rules(path: str, mtime_ns: int, size: int) -> tuple[TextRule, ...]:
    """A user's pattern file, parsed once per version of it (its time and size are the key)."""
    return tuple(_rules_in(Path(path).read_text("utf-8"), path))


def load_rules(user_file: Path | None = None) -> list[TextRule]:
    """The shipped rules, with the user's rules added (a rule with the same name replaces).

    Each file is parsed once per version (extraction asks for the rules once per review).
    """
    rules = {rule.name: rule for rule in _shipped_rules()}
    if user_file is not None and user_file.is_file():
        stat = user_file.stat()
        for rule in _user_rules(str(user_file), stat.st_mtime_ns, stat.st_size):
            rules[rule.name] = rule
    return list(rules.values())


def _minutes(number: str | None, unit: str | None) -> float:
    if not number:
        return 0.0
    base = (unit or "m").lower().rstrip("s") or "s"
    return float(number) * _MINUTES.get(base, 1.0)


def _threshold_values(match: re.Match[str]) -> dict[str, Any]:
    groups = match.groupdict()
    direction = (groups.get("direction") or "above").lower()
    return {
        "value": float(groups["value"]),
        "direction": "below" if direction in ("below", "under") else "above",
        "for_minutes": _minutes(groups.get("for"), groups.get("for_unit")),
        "replaces": float(groups["old"]) if groups.get("old") else None,
    }


def parse_threshold_sentence(
    text: str,
    rules: list[TextRule] | None = None,
) -> tuple[dict[str, Any], tuple[int, int]] | None:
    """Threshold values and the span they came from, from the first threshold rule that matches."""
    for rule in rules or load_rules():
        if rule.kind != SignalKind.THRESHOLD_HINT:
            continue
        match = rule.pattern.search(text)
        if match:
            return _threshold_values(match), match.span()
    return None


def _alert_matchers(name: str, scope: str | None, scope_label: str) -> list[Matcher]:
    matchers = (
        parse_matchers(name)
        if any(c.isupper() for c in name[1:])
        else [Matcher(label="alertname", op="=~", value=f"(?i).*{re.escape(name)}.*")]
    )
    if scope:
        matchers.append(Matcher(label=scope_label, op="=~", value=f"{re.escape(scope)}.*"))
    return matchers


def _with_service(alert: str, service: str | None) -> list[Matcher]:
    """Matchers for "DiskFull on storage": the alert name, plus the service when named."""
    matchers = parse_matchers(alert)
    if service:
        matchers.append(Matcher(label="service", op="=", value=service))
    return matchers


def _payloads(rule: TextRule, match: re.Match[str], services: list[str]) -> list[Any]:
    groups = match.groupdict()
    if rule.kind == SignalKind.THRESHOLD_HINT:
        if not services:
            raise ValueError("no service to apply the threshold to")
        series = re.sub(r"\W+", "_", (groups.get("series") or "").strip().lower()) or "*"
        return [ThresholdHint(service=services[0], series=series, **_threshold_values(match))]
    if rule.kind == SignalKind.ALERT_VERDICT:
        matchers = _alert_matchers(
            groups["alert"], groups.get("scope"), str(rule.options.get("scope_label", "host"))
        )
        condition = groups.get("condition")
        reason = match.group(0) if not condition else f"during {condition.strip()}"
        out: list[Any] = [
            AlertVerdictPayload(
                matchers=matchers,
                reason=reason,
                verdict=AlertVerdict(rule.options.get("verdict", "noise")),
            )
        ]
        if rule.options.get("suppression"):
            out.append(
                SuppressionRule(
                    matchers=matchers, condition="maintenance" if condition else "always"
                )
            )
        return out
    if rule.kind == SignalKind.CORRELATION_RULE:
        return [
            CorrelationRule(
                source=_with_service(groups["a"], groups.get("a_service")),
                target=_with_service(groups["b"], groups.get("b_service")),
                window_minutes=float(rule.options.get("window_minutes", 15)),
            )
        ]
    return [
        InstrumentationGap(
            service=services[0] if services else None,
            missing=groups["missing"].strip(),
            would_have_shown=str(groups.get("what") or ""),
        )
    ]


def _texts(source: ExtractionInput) -> Iterator[tuple[str, str, str, int | None, list[str]]]:
    """(place, field path, text, insight id, services) for every piece of prose in a review."""
    review, services = source.review, source.services
    for i, insight in enumerate(review.insights):
        yield (
            "insight",
            f"insights[{i}].text",
            insight.text,
            insight.id,
            (list(insight.services) or services),
        )
    for name in ("summary", "detection", "impact"):
        yield "prose", name, getattr(review, name), None, services
    for name in ("contributing_factors", "went_wrong", "went_well", "got_lucky"):
        for i, text in enumerate(getattr(review, name)):
            yield "prose", f"{name}[{i}]", text, None, services
    for i, item in enumerate(review.action_items):
        effect = item.expected_effect
        yield (
            "action",
            f"action_items[{i}].title",
            item.title,
            None,
            ([effect.service] if effect and effect.service else services),
        )


def extract_text(source: ExtractionInput, rules: list[TextRule] | None = None) -> Extraction:
    """Proposals from every rule match, each pointing at its field and character span."""
    out = Extraction()
    chosen = rules if rules is not None else load_rules()
    author = source.review.authors[0] if source.review.authors else None
    for place, path, text, insight_id, services in _texts(source):
        for rule in chosen:
            if place not in rule.where or not text:
                continue
            if place == "action" and rule.kind == SignalKind.THRESHOLD_HINT:
                continue  # detect actions become threshold hints in extract_structure
            for match in rule.pattern.finditer(text):
                try:
                    payloads = _payloads(rule, match, services)
                except (ValueError, ValidationError) as exc:
                    out.problems.append(ExtractionProblem(path, f"{rule.name}: {exc}"))
                    continue
                provenance = provenance_for(
                    source,
                    extractor=f"text.{rule.name}",
                    version=TEXT_VERSION,
                    field=path,
                    insight_id=insight_id,
                    span=match.span(),
                    text=match.group(0),
                )
                out.proposals += [
                    SignalCreate(
                        payload=p, provenance=provenance, confidence=rule.confidence, author=author
                    )
                    for p in payloads
                ]
    return out
