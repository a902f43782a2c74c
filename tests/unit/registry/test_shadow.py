"""Shadow comparison: where a candidate's rules and the champion's would decide differently."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lessonloop.domain import ServiceCreate
from lessonloop.domain.enums import ModelTask
from lessonloop.domain.models import ModelVersionCreate
from lessonloop.registry.artifacts import save_artifact
from lessonloop.registry.rules_export import LearnedRule
from lessonloop.registry.shadow import disagreements, firing_mask
from lessonloop.services import registry
from lessonloop.storage import series, services

MINUTE = 60
TS = np.arange(0, 20 * MINUTE, MINUTE, dtype=np.int64)
VALUES = np.array([1.0] * 5 + [5.0] * 3 + [1.0] * 4 + [5.0] * 8, dtype=float)


def _rule(threshold: float, for_minutes: float) -> LearnedRule:
    return LearnedRule(
        service="api",
        series="lat",
        metric="lat",
        direction="above",
        threshold=threshold,
        for_minutes=for_minutes,
    )


def test_for_minutes_delays_firing_like_prometheus() -> None:
    fired = firing_mask(TS, VALUES, _rule(2.0, 4))
    assert not fired[:16].any()  # the 3-minute spike never fires
    assert fired[16:].all()  # the long episode fires once it has held 4 minutes


def test_disagreements_name_the_version_that_fires() -> None:
    found = disagreements(
        "api", "lat", TS, VALUES, ("v1", [_rule(2.0, 0)]), ("v2", [_rule(2.0, 4)])
    )
    assert [(d.start // MINUTE, d.end // MINUTE, d.fired_by) for d in found] == [
        (5, 7, "v1"),
        (12, 15, "v1"),
    ]


def test_compare_decisions_on_stored_series(workspace, tmp_path: Path) -> None:
    with workspace.transaction() as session:
        services.create(ServiceCreate(name="api"), session=session, actor="t")
        series.put("api", "lat", TS, VALUES, session=session, actor="t")
    ids = []
    for name, rule in (("a", _rule(2.0, 0)), ("b", _rule(2.0, 4))):
        save_artifact(
            tmp_path / name,
            {"rules": [rule.model_dump(), {**rule.model_dump(), "series": "nowhere"}]},
        )
        ids.append(
            registry.register_version(
                workspace,
                ModelVersionCreate(task=ModelTask.METRIC_ANOMALY),
                artifact_dir=tmp_path / name,
            ).id
        )
    found, missing = registry.compare_decisions(workspace, ids[0], ids[1])
    assert [d.points for d in found] == [3, 4]
    assert missing == ["api/nowhere"]
    import json

    from tests.factories import invoke_cli

    shown = invoke_cli(
        workspace, "models", "compare", str(ids[0]), str(ids[1]), "--json", actor="t"
    )
    assert shown.exit_code == 0, shown.output
    compared = json.loads(shown.stdout)
    assert compared["metrics"] == {} and compared["no_stored_data"] == ["api/nowhere"]
    assert [(d["points"], d["fired_by"], d["start"]) for d in compared["decisions"]] == [
        (3, found[0].fired_by, "1970-01-01T00:05:00+00:00"),
        (4, found[1].fired_by, "1970-01-01T00:12:00+00:00"),
    ]


def test_decisions_are_only_compared_between_metric_anomaly_versions(workspace) -> None:
    import pytest

    from lessonloop.errors import InputError

    ids = [
        registry.register_version(workspace, ModelVersionCreate(task=task)).id
        for task in (ModelTask.METRIC_ANOMALY, ModelTask.FAILURE_MODE)
    ]
    with pytest.raises(InputError, match="model for failure_mode"):
        registry.compare_decisions(workspace, ids[0], ids[1])


def test_learn_notes_a_champion_trained_inside_the_holdout(workspace) -> None:
    import datetime as dt

    from lessonloop.services.learn import _overlap_note

    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    inside, before = (
        registry.register_version(
            workspace,
            ModelVersionCreate(task=ModelTask.METRIC_ANOMALY, training_end=end),
        ).id
        for end in (start + dt.timedelta(days=10), start - dt.timedelta(days=1))
    )
    assert "inside the holdout" in _overlap_note(workspace, inside, start)
    assert _overlap_note(workspace, before, start) == ""
    assert _overlap_note(workspace, None, start) == ""
