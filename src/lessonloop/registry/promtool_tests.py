"""promtool unit-test files that prove an exported rule's behaviour on a known series.

Given the exported rule, one sample per minute and the minutes at which it must (and must not)
fire, write the test document ``promtool test rules`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["rule_unit_test", "series_selector"]


def series_selector(metric: str, labels: dict[str, str]) -> str:
    """``metric{a="x"}`` in promtool's input-series syntax."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _fmt(value: float) -> str:
    return repr(float(value))


def rule_unit_test(
    rule_file: str,
    rule: dict[str, Any],
    *,
    series: str,
    values_per_minute: Sequence[float],
    firing_at: Sequence[int],
    silent_at: Sequence[int],
) -> str:
    """YAML for ``promtool test rules``: `rule` fires at `firing_at` minutes, not at `silent_at`."""
    firing = {
        "exp_labels": dict(rule.get("labels", {})),
        "exp_annotations": dict(rule.get("annotations", {})),
    }
    checks = [
        {"eval_time": f"{m}m", "alertname": rule["alert"], "exp_alerts": [firing]}
        for m in firing_at
    ]
    checks += [
        {"eval_time": f"{m}m", "alertname": rule["alert"], "exp_alerts": []} for m in silent_at
    ]
    document = {
        "rule_files": [rule_file],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": series, "values": " ".join(_fmt(v) for v in values_per_minute)}
                ],
                "alert_rule_test": checks,
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False, width=1000)
