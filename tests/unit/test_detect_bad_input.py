"""`lessonloop detect` on bad input: signal set 0, --png targets, --json, the terminal plot,
the default model version, non-detector versions and series with NaN values."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lessonloop.cli.app import app
from lessonloop.cli.common import console
from lessonloop.cli.detect import MAX_WIDTH, sparkline
from lessonloop.detectors import SurpriseEnsemble
from lessonloop.domain import ServiceCreate
from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import ModelVersionCreate
from lessonloop.errors import InputError, NotFound
from lessonloop.services import registry, signals
from lessonloop.services.detection import ScoredSeries, score_series, train_on_signal_set
from lessonloop.storage import series as series_store
from lessonloop.storage import services as service_store

T0 = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp())
STEP = 300
N = 600


def _store(ws, name: str, stamps: np.ndarray, values: np.ndarray) -> None:
    with ws.transaction() as session:
        series_store.put("checkout", name, stamps, values, session=session, actor="t")


def _register(ws, tmp_path: Path, task: ModelTask = ModelTask.METRIC_ANOMALY) -> int:
    folder = tmp_path / f"artifact-{task.value}-{len(registry.list_versions(ws))}"
    SurpriseEnsemble().save(folder)
    version = registry.register_version(ws, ModelVersionCreate(task=task), artifact_dir=folder)
    return version.id


@pytest.fixture
def ws(tmp_path: Path):
    """A SQLite workspace with series checkout/{errors, gappy, flat, one, nanny}, one model."""
    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    url = f"sqlite:///{tmp_path / 'lessonloop.db'}"
    workspace = init_workspace(Settings(home=tmp_path / "home", database_url=url), actor="t")
    with workspace.transaction() as session:
        service_store.create(ServiceCreate(name="checkout", tier=3), session=session, actor="t")
    rng = np.random.default_rng(3)
    stamps = T0 + STEP * np.arange(N, dtype=np.int64)
    values = 10 + rng.normal(0, 0.3, N)
    values[450] += 40
    _store(workspace, "errors", stamps, values)
    keep = np.r_[0:200, 400:N]
    _store(workspace, "gappy", stamps[keep], values[keep])
    _store(workspace, "flat", stamps[:300], np.full(300, 3.0))
    _store(workspace, "one", stamps[:1], np.array([2.0]))
    with_nan = values.copy()
    with_nan[7] = np.nan
    _store(workspace, "nanny", stamps, with_nan)
    _register(workspace, tmp_path)
    yield workspace
    workspace.close()


def _invoke(ws, *args: str):
    base = ["--home", str(ws.settings.home), "--database-url", ws.settings.resolved_database_url]
    return CliRunner().invoke(app, [*base, *args])


# 1. --signals 0 is a version like any other, not "the newest"


def test_train_on_signal_set_zero_is_unknown(ws) -> None:
    signals.cut(ws)
    with pytest.raises(NotFound, match="unknown signal set version 0"):
        train_on_signal_set(ws, 0)
    result = _invoke(ws, "detect", "train", "--signals", "0")
    assert result.exit_code == NotFound.exit_code
    assert "unknown signal set version 0" in result.output


# 2. --png is checked before scoring and the path reported is the one written


@pytest.mark.parametrize("name", ["plot", "plot.txt", "folder.png", "afile/plot.png"])
def test_bad_png_target_is_refused_before_scoring(ws, tmp_path: Path, name: str) -> None:
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "afile").write_text("not a folder")
    result = _invoke(ws, "detect", "score", "checkout/errors", "--png", str(tmp_path / name))
    assert result.exit_code == InputError.exit_code, result.output
    assert "'--png'" in result.output
    assert "detections with model version" not in result.output
    assert not (tmp_path / f"{name}.png").exists()
    assert not list(tmp_path.rglob("plot*"))


def test_png_in_a_missing_folder_is_written_where_reported(ws, tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "Plot.PNG"
    result = _invoke(ws, "detect", "score", "checkout/errors", "--png", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"\x89PNG")
    assert f"plot: {target}" in result.output


# 3. --json prints one JSON document, the plot path inside it


def test_json_with_png_is_one_json_document(ws, tmp_path: Path) -> None:
    target = tmp_path / "p.png"
    result = _invoke(ws, "detect", "score", "checkout/errors", "--json", "--png", str(target))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["plot"] == str(target)
    assert target.is_file()
    assert document["version"] == 1
    assert document["version_chosen_as"].startswith("newest candidate")


# 4. the terminal plot: bars and marks on one time axis, visible lowest bar, no dangling colon


def _scored(stamps: np.ndarray, values: np.ndarray, detections: list[int]) -> ScoredSeries:
    times = [dt.datetime.fromtimestamp(int(stamps[r]), dt.UTC) for r in detections]
    return ScoredSeries("checkout", "x", 1, stamps, values, values, 1.0, times, [], "champion")


def test_bars_and_marks_share_the_time_axis_and_gaps_stay_blank() -> None:
    stamps = T0 + STEP * np.r_[0:100, 300:400].astype(np.int64)
    values = np.ones(stamps.size)
    values[150] = 50.0
    bars, marks = sparkline(_scored(stamps, values, [150]), 80)
    assert len(bars) == len(marks) == 80
    assert marks.index("^") == bars.index("█")
    assert "   " in bars.strip(), "the gap in time should show as blank columns"


@pytest.mark.parametrize("n_points", [1, 5, 300])
def test_constant_and_tiny_series_draw_a_visible_line(n_points: int) -> None:
    stamps = T0 + STEP * np.arange(n_points, dtype=np.int64)
    bars, _ = sparkline(_scored(stamps, np.full(n_points, 3.0), []), 80)
    assert bars == "▁" * min(n_points, 80)


def test_terminal_output_fits_the_console_and_has_no_dangling_colon(ws) -> None:
    result = _invoke(ws, "detect", "score", "checkout/flat")
    assert result.exit_code == 0, result.output
    bars, marks, *summary = result.stdout.splitlines()
    assert bars == "▁" * min(console.width, MAX_WIDTH, 300)
    assert marks.strip() == ""
    text = " ".join(summary)
    assert text.startswith("0 detections with model version 1 (newest candidate")
    assert not text.rstrip().endswith(":")


# 5. the default version skips rejected/retired ones; --version must be a detector


def test_default_version_prefers_approved_and_skips_rejected(ws, tmp_path: Path) -> None:
    second = _register(ws, tmp_path)
    third = _register(ws, tmp_path)
    registry.reject_version(ws, third, reason="worse", approver="ana")
    scored = score_series(ws, "checkout/errors")
    assert (scored.version_id, scored.chosen_as.split(",")[0]) == (second, "newest candidate")
    registry.approve_version(ws, 1, reason="fine", approver="ana")
    scored = score_series(ws, "checkout/errors")
    assert (scored.version_id, scored.chosen_as) == (1, "newest approved")
    result = _invoke(ws, "detect", "score", "checkout/errors")
    assert "model version 1 (newest approved)" in result.stdout


def test_only_rejected_versions_is_not_found(ws) -> None:
    registry.reject_version(ws, 1, reason="bad", approver="ana")
    assert registry.list_versions(ws)[0].status == ModelStatus.REJECTED
    with pytest.raises(NotFound, match="rejected or retired"):
        score_series(ws, "checkout/errors")


def test_version_of_another_task_is_an_input_error(ws, tmp_path: Path) -> None:
    other = _register(ws, tmp_path, ModelTask.PRECEDENT)
    with pytest.raises(InputError) as caught:
        score_series(ws, "checkout/errors", version_id=other)
    assert caught.value.message == (
        f"version {other} is a model for precedent, not a metric anomaly detector"
    )
    result = _invoke(ws, "detect", "score", "checkout/errors", "--version", str(other))
    assert result.exit_code == InputError.exit_code
    assert "unknown detector" not in result.output


# 6. NaN values are reported with the series and the first bad timestamp


def test_nan_series_is_named_with_its_first_bad_timestamp(ws) -> None:
    bad_at = dt.datetime.fromtimestamp(T0 + 7 * STEP, dt.UTC).isoformat()
    with pytest.raises(InputError) as caught:
        score_series(ws, "checkout/nanny")
    assert "checkout/nanny" in str(caught.value) and bad_at in str(caught.value)
    assert caught.value.line is None
    signals.cut(ws)
    with pytest.raises(InputError) as caught:
        train_on_signal_set(ws, None)
    assert "checkout/nanny" in str(caught.value) and bad_at in str(caught.value)


# 7. a service name may hold '/'


def test_a_service_with_a_slash_in_its_name_is_scored(ws) -> None:
    with ws.transaction() as session:
        service_store.create(ServiceCreate(name="team/api", tier=3), session=session, actor="t")
        stamps = T0 + STEP * np.arange(N, dtype=np.int64)
        series_store.put("team/api", "cpu", stamps, np.ones(N), session=session, actor="t")
    scored = score_series(ws, "team/api/cpu")
    assert (scored.service, scored.name) == ("team/api", "cpu")
    with pytest.raises(NotFound, match="no series 'nope' for service 'checkout'"):
        score_series(ws, "checkout/nope")
    with pytest.raises(NotFound, match="no series 'cpuu' for service 'team/api'"):
        score_series(ws, "team/api/cpuu")  # the longest service that exists is named
    with pytest.raises(NotFound, match="unknown service 'nobody'"):
        score_series(ws, "nobody/cpu")
    with ws.transaction() as session:
        service_store.create(ServiceCreate(name="team", tier=3), session=session, actor="t")
        series_store.put("team", "api/cpu", stamps, np.ones(N), session=session, actor="t")
    with pytest.raises(InputError, match="names two stored series"):
        score_series(ws, "team/api/cpu")


# 8. the training end: the newest point, named; a stray future point is flagged; --until


def test_a_stray_future_point_is_flagged_and_until_ends_the_training_data(tmp_path) -> None:
    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    url = f"sqlite:///{tmp_path / 'stray.db'}"
    ws = init_workspace(Settings(home=tmp_path / "stray", database_url=url), actor="t")
    with ws.transaction() as session:
        service_store.create(ServiceCreate(name="checkout", tier=3), session=session, actor="t")
    stamps = T0 + STEP * np.arange(N, dtype=np.int64)
    values = 10 + np.random.default_rng(1).normal(0, 0.3, N)
    _store(ws, "errors", stamps, values)
    stray = stamps.copy()
    stray[-1] = T0 + 400 * 86400
    _store(ws, "stray", stray, values)
    signals.cut(ws)  # no incident windows: training stops, naming the end it would have used
    notes: list[str] = []
    stray_end = dt.datetime.fromtimestamp(int(stray[-1]), dt.UTC)
    with pytest.raises(InputError, match=re.escape(f"windows before {stray_end.isoformat()}")):
        train_on_signal_set(ws, None, notes=notes)
    assert "(checkout/stray)" in notes[0]
    assert notes[1].startswith("warning: checkout/stray ends") and "--until" in notes[1]
    until = dt.datetime.fromtimestamp(int(stamps[-1]), dt.UTC)
    with pytest.raises(InputError, match=re.escape(f"windows before {until.isoformat()}")):
        train_on_signal_set(ws, None, train_end=until.replace(tzinfo=None))
    ws.close()


def test_detect_series_lists_what_detect_score_takes(ws) -> None:
    listed = _invoke(ws, "detect", "series", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["ref"] for r in rows] == [
        "checkout/errors",
        "checkout/flat",
        "checkout/gappy",
        "checkout/nanny",
        "checkout/one",
    ]
    assert rows[0]["points"] == N
    assert _invoke(ws, "detect", "score", rows[0]["ref"]).exit_code == 0
    assert _invoke(ws, "detect", "series", "--service", "nope").exit_code == NotFound.exit_code


def test_a_wrong_series_name_is_named_before_a_missing_model(tmp_path) -> None:
    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    url = f"sqlite:///{tmp_path / 'nomodel.db'}"
    ws = init_workspace(Settings(home=tmp_path / "nomodel", database_url=url), actor="t")
    with ws.transaction() as session:
        service_store.create(ServiceCreate(name="checkout", tier=3), session=session, actor="t")
    with pytest.raises(NotFound, match="no series 'nope' for service 'checkout'"):
        score_series(ws, "checkout/nope")
    ws.close()


def test_the_plot_leaves_a_gap_blank(ws) -> None:
    from lessonloop.services.detection import _broken_at_gaps

    scored = score_series(ws, "checkout/gappy")
    times, values, scores = _broken_at_gaps(scored)
    assert values.size == scored.values.size + 1
    (hole,) = np.flatnonzero(np.isnan(values))
    assert np.isnan(scores[hole]) and times[hole - 1] < times[hole] < times[hole + 1]
    steady = score_series(ws, "checkout/errors")
    assert not np.isnan(_broken_at_gaps(steady)[1]).any()


def test_png_folders_appear_only_when_a_plot_is_written(ws, tmp_path) -> None:
    from lessonloop.services.outputs import check_target

    target = tmp_path / "new" / "sub" / "p.png"
    failed = _invoke(ws, "detect", "score", "checkout/nope", "--png", str(target))
    assert failed.exit_code == NotFound.exit_code
    assert not (tmp_path / "new").exists()
    done = _invoke(ws, "detect", "score", "checkout/errors", "--png", str(target))
    assert done.exit_code == 0, done.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match="cannot be followed"):
        check_target(loop, "--png")
