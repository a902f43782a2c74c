"""The MLflow mirror is optional: a clear error without the extra, lineage tags when present."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import ModelVersionRead
from lessonloop.errors import ConfigurationError
from lessonloop.registry import mlflow_mirror

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
VERSION = ModelVersionRead(
    id=3,
    task=ModelTask.METRIC_ANOMALY,
    status=ModelStatus.CHAMPION,
    config={"alpha": 0.5, "rules": [{}, {}], "window": {"rows": 30}},
    signal_set_version=2,
    artifact_hash="ab" * 32,
    created_at=NOW,
    status_changed_at=NOW,
)


def test_missing_extra_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ConfigurationError, match=r"lessonloop\[mlflow\]"):
        mlflow_mirror.mirror_version("sqlite:///x.db", VERSION, [])


def test_params_and_tags_carry_lineage() -> None:
    params = mlflow_mirror.version_params(VERSION)
    assert params == {"alpha": "0.5", "rules": "2 items", "window.rows": "30"}
    tags = mlflow_mirror.version_tags(VERSION)
    assert tags["lessonloop.signal_set_version"] == "2"
    assert tags["lessonloop.status"] == "champion"


def test_mirror_into_a_local_sqlite_tracking_store(tmp_path) -> None:
    """Runs when the optional extra is installed (mlflow-skinny); the store is a local file."""
    mlflow = pytest.importorskip("mlflow")
    from lessonloop.domain.enums import Decision
    from lessonloop.domain.models import EvaluationRead, MetricEstimate

    evaluation = EvaluationRead(
        id=1,
        model_version_id=3,
        decision=Decision.BETTER,
        metrics={"nab": MetricEstimate(value=61.0, low=55.0, high=66.0)},
        created_at=NOW,
    )
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = mlflow_mirror.mirror_version(uri, VERSION, [evaluation])
    run = mlflow.MlflowClient(tracking_uri=uri).get_run(run_id)
    assert run.data.params == {"alpha": "0.5", "rules": "2 items", "window.rows": "30"}
    assert run.data.metrics == {"nab": 61.0, "nab_low": 55.0, "nab_high": 66.0}
    assert run.data.tags["lessonloop.signal_set_version"] == "2"
    assert run.data.tags["lessonloop.evaluation.1.decision"] == "better"
