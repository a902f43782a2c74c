"""Optional mirror of model versions, parameters, metrics and lineage tags to MLflow.

Needs the ``mlflow`` extra (mlflow-skinny); it is imported only when a mirror is requested, so
Lessonloop never depends on it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from lessonloop.domain.models import EvaluationRead, ModelVersionRead
from lessonloop.errors import ConfigurationError

__all__ = ["import_mlflow", "version_params", "version_tags", "mirror_version"]


def import_mlflow() -> ModuleType:
    """The mlflow module, or ConfigurationError telling the user to install the extra."""
    try:
        return importlib.import_module("mlflow")
    except ImportError as exc:
        raise ConfigurationError(
            "mirroring to MLflow needs the optional extra: pip install 'lessonloop[mlflow]' "
            "(mlflow-skinny)"
        ) from exc


def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = str(value)[:500]


def version_params(version: ModelVersionRead) -> dict[str, str]:
    """The version's config flattened to MLflow parameters (rules lists are summarised)."""
    params: dict[str, str] = {}
    config = {
        k: (f"{len(v)} items" if isinstance(v, list) else v) for k, v in version.config.items()
    }
    _flat("", config, params)
    return params


def version_tags(version: ModelVersionRead) -> dict[str, str]:
    """Lineage tags: task, status, signal set, training range, artifact hash, parent."""
    return {
        "lessonloop.version_id": str(version.id),
        "lessonloop.task": version.task.value,
        "lessonloop.status": version.status.value,
        "lessonloop.signal_set_version": str(version.signal_set_version),
        "lessonloop.training_start": str(version.training_start),
        "lessonloop.training_end": str(version.training_end),
        "lessonloop.artifact_hash": str(version.artifact_hash),
        "lessonloop.parent_id": str(version.parent_id),
    }


def mirror_version(
    tracking_uri: str,
    version: ModelVersionRead,
    evaluations: list[EvaluationRead],
    *,
    experiment_name: str = "lessonloop",
) -> str:
    """Log one run per version (params, metrics with interval bounds, tags); return its run id.

    Uses an explicit client, so MLflow's process-wide tracking URI is left untouched.
    """
    mlflow = import_mlflow()
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(experiment_name)
    )
    run = client.create_run(experiment_id, run_name=f"{version.task.value}-v{version.id}")
    run_id = str(run.info.run_id)
    for key, value in version_params(version).items():
        client.log_param(run_id, key, value)
    for key, value in version_tags(version).items():
        client.set_tag(run_id, key, value)
    for evaluation in evaluations:
        client.set_tag(
            run_id, f"lessonloop.evaluation.{evaluation.id}.decision", evaluation.decision.value
        )
        for name, estimate in evaluation.metrics.items():
            for suffix, metric in (
                ("", estimate.value),
                ("_low", estimate.low),
                ("_high", estimate.high),
            ):
                if metric is not None:
                    client.log_metric(run_id, f"{name}{suffix}", metric, step=evaluation.id)
    client.set_terminated(run_id)
    return run_id
