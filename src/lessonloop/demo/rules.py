"""The organisation's pre-existing static alert rules and their evaluation on the series.

Each CSV series ``series/<service>/<metric>.csv`` stands for the Prometheus series
``<metric>{service=..., host=..., team=...}`` (saturation also carries ``resource=cpu|disk``).
Rules are fixed thresholds with a ``for:`` duration, evaluated at every sample as Prometheus
would: a condition must hold at consecutive evaluations for ``for`` before the alert fires.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from lessonloop.demo.org import Service
from lessonloop.demo.series import SeriesSet


@dataclass(frozen=True)
class Rule:
    """One alerting rule: ``metric{matchers} op threshold`` held for ``for_minutes``."""

    group: str
    alert: str
    metric: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value), op in = != =~ !~
    op: str  # ">" or "<"
    threshold: float
    for_minutes: int
    severity: str
    summary: str
    description: str

    @property
    def expr(self) -> str:
        """The PromQL expression, e.g. ``latency_p99_ms{service="checkout"} > 800``."""
        inner = ", ".join(f'{label}{op}"{value}"' for label, op, value in self.matchers)
        selector = f"{self.metric}{{{inner}}}" if inner else self.metric
        return f"{selector} {self.op} {format_number(self.threshold)}"

    def holds(self, value: float) -> bool:
        """Whether the threshold condition is true for one sample."""
        return bool(value > self.threshold if self.op == ">" else value < self.threshold)

    def selects(self, labels: dict[str, str]) -> bool:
        """Whether this rule's selector matches a series with ``labels``."""
        for label, op, value in self.matchers:
            actual = labels.get(label, "")
            if op == "=" and actual != value or op == "!=" and actual == value:
                return False
            if op in ("=~", "!~") and (re.fullmatch(value, actual) is None) == (op == "=~"):
                return False
        return True


@dataclass(frozen=True)
class Episode:
    """One firing of one alert on one series: fires at ``fire_index``, clears at ``end_index``."""

    rule: Rule
    service: str
    labels: dict[str, str]
    fire_index: int
    end_index: int | None  # None: still firing when the data ends
    value: float


def format_number(value: float) -> str:
    """Render a threshold the way a person writes it (800, 0.05, 85)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def series_labels(service: Service, metric: str) -> dict[str, str]:
    """The Prometheus labels of one generated series."""
    labels = {"service": service.name, "host": service.host, "team": service.team}
    if metric == "saturation":
        labels["resource"] = service.saturation_resource
    return labels


def static_rules() -> list[Rule]:
    """The hand-written thresholds the organisation had before Lessonloop (imperfect)."""
    latency_thresholds = {
        "edge": 600,
        "api-gateway": 550,
        "auth": 400,
        "checkout": 800,
        "payments": 1500,
        "search": 625,
        "catalog": 450,
        "db": 120,
        "cache": 20,
        "queue": 150,
        "dns": 80,
    }
    rules = [
        Rule(
            "latency",
            "HighLatencyP99",
            "latency_p99_ms",
            (("service", "=", name),),
            ">",
            float(limit),
            10,
            "page",
            "p99 latency above {{ $value }} ms on {{ $labels.service }}",
            f"p99 latency of {name} is above {limit} ms.",
        )
        for name, limit in latency_thresholds.items()
    ]
    rules += [
        Rule(
            "errors",
            "HighErrorRate",
            "error_rate",
            (("service", "!=", "dns"),),
            ">",
            0.05,
            10,
            "page",
            "Error rate {{ $value }} on {{ $labels.service }}",
            "More than 5% of requests to {{ $labels.service }} fail.",
        ),
        Rule(
            "errors",
            "DNSFailures",
            "error_rate",
            (("service", "=", "dns"),),
            ">",
            0.02,
            5,
            "page",
            "DNS resolution failures on {{ $labels.host }}",
            "More than 2% of DNS queries fail.",
        ),
        Rule(
            "saturation",
            "CPUSaturationHigh",
            "saturation",
            (("resource", "=", "cpu"),),
            ">",
            90.0,
            15,
            "page",
            "CPU above 90% on {{ $labels.host }}",
            "{{ $labels.service }} has used more than 90% CPU for 15 minutes.",
        ),
        Rule(
            "saturation",
            "DiskSpaceHigh",
            "saturation",
            (("resource", "=", "disk"),),
            ">",
            85.0,
            10,
            "page",
            "Disk {{ $value }}% full on {{ $labels.host }}",
            "Disk usage on {{ $labels.host }} is above 85%.",
        ),
        Rule(
            "traffic",
            "TrafficDrop",
            "throughput_rps",
            (("service", "=", "edge"),),
            "<",
            600.0,
            10,
            "page",
            "Edge traffic dropped to {{ $value }} rps",
            "Requests reaching the edge fell below 600 per second.",
        ),
    ]
    return rules


def render_annotation(text: str, labels: dict[str, str], value: float) -> str:
    """Expand ``{{ $labels.x }}`` and ``{{ $value }}`` as Prometheus does when it sends an alert."""
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), text)
    return text.replace("{{ $value }}", f"{value:.4g}")


def write_rules_yaml(path: Path, rules: list[Rule]) -> None:
    """Write prometheus-rules.yaml in Prometheus' rule-file format."""
    groups: dict[str, list[dict[str, object]]] = {}
    for rule in rules:
        groups.setdefault(rule.group, []).append(
            {
                "alert": rule.alert,
                "expr": rule.expr,
                "for": f"{rule.for_minutes}m",
                "labels": {"severity": rule.severity},
                "annotations": {"summary": rule.summary, "description": rule.description},
            }
        )
    doc = {"groups": [{"name": name, "rules": items} for name, items in groups.items()]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=120), encoding="utf-8")


def condition_runs(held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indexes of each run of True in a boolean array."""
    padded = np.concatenate(([False], held, [False])).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def evaluate_rule_on(
    rule: Rule, values: np.ndarray, step_minutes: int, offset: int = 0, open_end: bool = True
) -> list[tuple[int, int | None, float]]:
    """Firings of ``rule`` on one series: (fire index, end index or None, value at firing)."""
    held = values > rule.threshold if rule.op == ">" else values < rule.threshold
    starts, ends = condition_runs(held)
    wait = math.ceil(rule.for_minutes / step_minutes)
    firings = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        fire = start + wait
        if fire < end:
            still = open_end and end == len(values)
            firings.append((offset + fire, None if still else offset + end, float(values[fire])))
    return firings


def evaluate_rules(
    rules: list[Rule], series: SeriesSet, services: tuple[Service, ...], step_minutes: int
) -> list[Episode]:
    """Every firing of every rule on every matching series, ordered by firing time."""
    episodes = []
    for service in services:
        for metric, values in series[service.name].items():
            labels = series_labels(service, metric)
            for rule in rules:
                if rule.metric != metric or not rule.selects(labels):
                    continue
                alert_labels = {"alertname": rule.alert, **labels, "severity": rule.severity}
                for fire, end, value in evaluate_rule_on(rule, values, step_minutes):
                    episodes.append(Episode(rule, service.name, alert_labels, fire, end, value))
    episodes.sort(key=lambda e: (e.fire_index, e.labels["alertname"], e.service))
    return episodes
