"""Exports: Prometheus rules pass promtool (check and unit tests), Alertmanager passes amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from tests.unit.registry.helpers import freeze_signal_set, require_tool

from lessonloop.domain.enums import ModelTask
from lessonloop.domain.models import ModelVersionCreate
from lessonloop.domain.services import ServiceCreate
from lessonloop.errors import Conflict, InputError
from lessonloop.registry.artifacts import save_artifact
from lessonloop.registry.promtool_tests import rule_unit_test, series_selector
from lessonloop.registry.rules_export import parse_rules_config
from lessonloop.services import registry
from lessonloop.storage import series, services

RULE = {
    "service": "api",
    "series": "latency_p99",
    "metric": "latency_p99_seconds",
    "direction": "above",
    "threshold": 2.0,
    "for_minutes": 5,
    "labels": {"severity": "page"},
    "justification": {"reviews": [3], "insights": [11], "evaluation_id": None},
}
SIGNALS = [
    {
        "kind": "threshold_hint",
        "service": "db",
        "series": "db_connections",
        "direction": "above",
        "value": 90.0,
        "for_minutes": 2,
    },
    {
        "kind": "correlation_rule",
        "source": [{"label": "service", "op": "=", "value": "db"}],
        "target": [{"label": "service", "op": "=", "value": "api"}],
        "window_minutes": 10,
    },
    {
        "kind": "suppression_rule",
        "matchers": [{"label": "alertname", "op": "=", "value": "NightlyBatchSlow"}],
        "condition": "time_of_day",
        "hours_utc": [1, 2, 3],
    },
    {
        "kind": "suppression_rule",
        "matchers": [{"label": "alertname", "op": "=~", "value": "Flap.*"}],
    },
]


def _store(workspace, service: str, name: str, labels: dict[str, str] | None = None) -> None:
    ts = np.arange(3) * 60
    with workspace.transaction() as session:
        if service not in services.ids_by_name(session=session):
            services.create(ServiceCreate(name=service), session=session, actor="t")
        series.put(service, name, ts, np.ones(3), session=session, actor="t", labels=labels)


def _approved_version(
    workspace, tmp_path: Path, rules: list[dict] | None = None, signals: list[dict] | None = None
) -> int:
    digest_dir = tmp_path / "trained"
    save_artifact(digest_dir, {"rules": [RULE] if rules is None else rules})
    _store(workspace, "db", "db_connections")
    with workspace.transaction() as session:
        freeze_signal_set(session, 1, SIGNALS if signals is None else signals, review_id=3)
    version = registry.register_version(
        workspace,
        ModelVersionCreate(task=ModelTask.METRIC_ANOMALY, signal_set_version=1),
        artifact_dir=digest_dir,
    )
    registry.approve_version(workspace, version.id, reason="holdout better", approver="ana")
    return version.id


def test_candidate_export_is_refused(workspace, tmp_path: Path) -> None:
    version = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY)
    )
    with pytest.raises(Conflict, match="only an approved or champion"):
        registry.export_prometheus_rules(workspace, version.id)
    with pytest.raises(Conflict):
        registry.export_alertmanager_config(workspace, version.id)


def learned_threshold(rule: dict) -> float:
    """The number a rule compares with, read back from its expression."""
    return float(rule["expr"].rsplit(" ", 1)[1])


def test_rules_pass_promtool_and_fire_on_the_incident_not_the_noise(
    workspace, tmp_path: Path
) -> None:
    promtool = require_tool("promtool")
    version_id = _approved_version(workspace, tmp_path)
    text = registry.export_prometheus_rules(workspace, version_id).text
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(text)
    check = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    rules = yaml.safe_load(text)["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == [
        "LessonloopApiLatencyP99Above",
        "LessonloopDbDbConnectionsAbove",
    ]
    learned = rules[0]
    assert learned["annotations"]["lessonloop_reviews"] == "review 3"
    assert learned["for"] == "5m"
    # 30 quiet minutes, a 3-minute noise spike (shorter than the learned 'for'), quiet, then a
    # 20-minute incident, then quiet again.
    # The incident sits exactly at the learned threshold (a saturated metric): it must page.
    values = [1.0] * 30 + [3.5] * 3 + [1.0] * 27 + [learned_threshold(learned)] * 20 + [1.0] * 30
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(
        rule_unit_test(
            rules_file.name,
            learned,
            series=series_selector("latency_p99_seconds", {"service": "api"}),
            values_per_minute=values,
            firing_at=[66, 75],
            silent_at=[29, 32, 34, 62, 95],
        )
    )
    run = subprocess.run(
        [promtool, "test", "rules", test_file.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_promtool_unit_test_catches_a_rule_that_fires_on_noise(workspace, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    version_id = _approved_version(workspace, tmp_path, rules=[{**RULE, "for_minutes": 0}])
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(registry.export_prometheus_rules(workspace, version_id).text)
    learned = yaml.safe_load(rules_file.read_text())["groups"][0]["rules"][0]
    values = [1.0] * 30 + [3.5] * 3 + [1.0] * 27
    (tmp_path / "t.yml").write_text(
        rule_unit_test(
            rules_file.name,
            learned,
            series=series_selector("latency_p99_seconds", {"service": "api"}),
            values_per_minute=values,
            firing_at=[],
            silent_at=[31],
        )
    )
    run = subprocess.run(
        [promtool, "test", "rules", "t.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "unmarshal" not in run.stderr and "LessonloopApiLatencyP99Above" in run.stderr


def test_alertmanager_export_passes_amtool(workspace, tmp_path: Path) -> None:
    amtool = require_tool("amtool")
    version_id = _approved_version(workspace, tmp_path)
    text = registry.export_alertmanager_config(workspace, version_id)
    config_file = tmp_path / "alertmanager.yml"
    config_file.write_text(text)
    check = subprocess.run(
        [amtool, "check-config", str(config_file)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    config = yaml.safe_load(text)
    assert config["inhibit_rules"] == [
        {"source_matchers": ['service="db"'], "target_matchers": ['service="api"']}
    ]
    assert config["route"]["routes"][1] == {
        "receiver": "lessonloop-suppressed",
        "matchers": ['alertname=~"Flap.*"'],
    }
    assert "review 3" in text.split("route:")[0]


def test_bad_rules_contract_names_the_field() -> None:
    with pytest.raises(InputError) as caught:
        parse_rules_config({"rules": [{**RULE, "direction": "sideways"}]})
    assert caught.value.field == "rules[0].direction"
    assert caught.value.file == "config.json"
    with pytest.raises(InputError, match="finite"):
        parse_rules_config({"rules": [{**RULE, "threshold": float("nan")}]})


POD = "checkout_latency_by_pod:instance-checkout-7d9f8b-qq91z:8080-job-checkout"
POD_LABELS = {
    "__name__": "checkout_request_latency_p99_ms",
    "instance": "checkout-7d9f8b-qq91z:8080",
    "job": 'check"out\\',
}


def _learned(series_name: str, metric: str | None = None) -> dict:
    return {**RULE, "service": "checkout", "series": series_name, "metric": metric or series_name}


def _promtool_check(text: str, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(text)
    check = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_labelled_query_range_series_exports_its_own_selector(workspace, tmp_path) -> None:
    # Lessonloop names a labelled result NAME:<labels>; the rule selects the Prometheus series.
    _store(workspace, "checkout", POD, POD_LABELS)
    version_id = _approved_version(workspace, tmp_path, rules=[_learned(POD)], signals=[])
    exported = registry.export_prometheus_rules(workspace, version_id)
    (rule,) = yaml.safe_load(exported.text)["groups"][0]["rules"]
    assert rule["expr"] == (
        'checkout_request_latency_p99_ms{instance="checkout-7d9f8b-qq91z:8080",'
        'job="check\\"out\\\\"} >= 2.0'
    )
    assert exported.skipped == []
    _promtool_check(exported.text, tmp_path)


def test_series_without_a_selector_and_unstored_hints_are_left_out_with_the_reason(
    workspace, tmp_path
) -> None:
    _store(workspace, "checkout", "latency:web-1")  # a CSV label split, no --promql
    _store(workspace, "checkout", "latency_p99_ms")  # stored before labels were kept
    hints = [
        {"kind": "threshold_hint", "service": "checkout", "series": "mttd", "value": 400.0},
        {"kind": "threshold_hint", "service": "checkout", "series": "*", "value": 1.0},
        {"kind": "threshold_hint", "service": "checkout", "series": "latency_p99_ms", "value": 3},
        {"kind": "threshold_hint", "service": "db", "series": "db_connections", "value": 90.0},
    ]
    version_id = _approved_version(
        workspace,
        tmp_path,
        rules=[_learned("latency:web-1"), _learned("latency_p99_ms"), _learned("x", "up == 0)")],
        signals=hints,
    )
    exported = registry.export_prometheus_rules(workspace, version_id)
    rules = yaml.safe_load(exported.text)["groups"][0]["rules"]
    assert [r["expr"] for r in rules] == [
        'latency_p99_ms{service="checkout"} >= 2.0',
        'db_connections{service="db"} >= 90.0',
    ]
    first, second, third, fourth = exported.skipped
    assert "checkout/latency:web-1" in first and "--promql" in first
    assert "checkout/x" in second and "'up == 0)'" in second
    assert "checkout/mttd" in third and "not a stored series of checkout" in third
    assert "checkout/*" in fourth
    header = exported.text.split("groups:")[0]
    assert "1 learned rules, 1 threshold hints\n" in header
    assert "# 1 threshold hints not written: a learned rule covers them" in header
    assert "# 4 rules left out:" in header
    _promtool_check(exported.text, tmp_path)
