"""An Alertmanager configuration from accepted correlation and suppression signals.

- correlation_rule: the source alerts are the cause, the target alerts the symptom; the symptom
  is inhibited while the cause fires.
- suppression_rule ``always``: a route that sends the matching alerts to a silent receiver;
  ``time_of_day``: a route muted during the listed UTC hours; ``while_firing``: an inhibit rule
  whose source is the ``while_firing`` matchers; ``maintenance``: an inhibit rule whose source is
  the alert ``LessonloopMaintenance`` (raise it during maintenance windows).
- a suppression whose ``expires_at`` has passed is left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml

from lessonloop.domain.signals import CorrelationRule, Matcher, SuppressionRule

__all__ = [
    "DEFAULT_RECEIVER",
    "SILENT_RECEIVER",
    "MAINTENANCE_ALERT",
    "SourcedRule",
    "matcher_text",
    "hour_ranges",
    "build_alertmanager_config",
    "render_alertmanager_yaml",
]

DEFAULT_RECEIVER = "default"
SILENT_RECEIVER = "lessonloop-suppressed"
MAINTENANCE_ALERT = "LessonloopMaintenance"


@dataclass(frozen=True)
class SourcedRule:
    """A correlation or suppression payload with the signal and review it came from."""

    payload: CorrelationRule | SuppressionRule
    signal_id: int | None = None
    review_id: int | None = None
    insight_id: int | None = None
    learned: str = ""  # how a learned rule was found, instead of a signal

    def origin(self) -> str:
        if self.learned:
            return self.learned
        parts = [f"signal {self.signal_id}" if self.signal_id else "signal (unsaved)"]
        if self.review_id:
            parts.append(f"review {self.review_id}")
        if self.insight_id:
            parts.append(f"insight {self.insight_id}")
        return ", ".join(parts)


def matcher_text(matcher: Matcher) -> str:
    """Alertmanager's matcher syntax, e.g. ``service="db"`` or ``alertname=~"Disk.*"``."""
    escaped = matcher.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{matcher.label}{matcher.op}"{escaped}"'


def hour_ranges(hours: list[int]) -> list[tuple[int, int]]:
    """Contiguous [start, end) hour ranges covering the given UTC hours."""
    ranges: list[tuple[int, int]] = []
    for hour in sorted(set(hours)):
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + 1)
        else:
            ranges.append((hour, hour + 1))
    return ranges


def _matchers(matchers: list[Matcher]) -> list[str]:
    return [matcher_text(m) for m in matchers]


def _suppression(rule: SuppressionRule, index: int, config: dict[str, Any]) -> str:
    target = _matchers(rule.matchers)
    if rule.condition == "always":
        config["route"]["routes"].append({"receiver": SILENT_RECEIVER, "matchers": target})
        return f"route {len(config['route']['routes']) - 1}"
    if rule.condition == "time_of_day":
        name = f"lessonloop-quiet-{index}"
        times = [
            {"start_time": f"{a:02d}:00", "end_time": f"{b:02d}:00"}
            for a, b in hour_ranges(rule.hours_utc)
        ]
        config["time_intervals"].append({"name": name, "time_intervals": [{"times": times}]})
        config["route"]["routes"].append(
            {"receiver": DEFAULT_RECEIVER, "matchers": target, "mute_time_intervals": [name]}
        )
        return f"route {len(config['route']['routes']) - 1}"
    source = (
        _matchers(rule.while_firing)
        if rule.condition == "while_firing"
        else [f'alertname="{MAINTENANCE_ALERT}"']
    )
    config["inhibit_rules"].append({"source_matchers": source, "target_matchers": target})
    return f"inhibit rule {len(config['inhibit_rules']) - 1}"


def build_alertmanager_config(
    rules: list[SourcedRule],
    *,
    now: dt.datetime,
    group_by: tuple[str, ...] = ("alertname", "service"),
) -> tuple[dict[str, Any], list[str]]:
    """The config document and one provenance line per emitted element."""
    config: dict[str, Any] = {
        "route": {"receiver": DEFAULT_RECEIVER, "group_by": list(group_by), "routes": []},
        "receivers": [{"name": DEFAULT_RECEIVER}, {"name": SILENT_RECEIVER}],
        "inhibit_rules": [],
        "time_intervals": [],
    }
    notes: list[str] = []
    for index, item in enumerate(rules):
        payload = item.payload
        if isinstance(payload, CorrelationRule):
            config["inhibit_rules"].append(
                {
                    "source_matchers": _matchers(payload.source),
                    "target_matchers": _matchers(payload.target),
                }
            )
            notes.append(
                f"inhibit rule {len(config['inhibit_rules']) - 1}: from {item.origin()}"
            )
            continue
        if payload.expires_at is not None and payload.expires_at <= now:
            notes.append(
                f"skipped: suppression from {item.origin()} expired "
                f"{payload.expires_at.isoformat()}"
            )
            continue
        where = _suppression(payload, index, config)
        notes.append(f"{where}: {payload.condition} suppression from {item.origin()}")
    for key in ("routes",):
        if not config["route"][key]:
            del config["route"][key]
    for key in ("inhibit_rules", "time_intervals"):
        if not config[key]:
            del config[key]
    return config, notes


def render_alertmanager_yaml(config: dict[str, Any], notes: list[str], *, header: str) -> str:
    """YAML text with a comment header linking each element to its signal and review."""
    lines = [*header.splitlines(), *notes]
    comment = "".join(f"# {line}\n" for line in lines)
    return comment + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
