"""One shared suite run over every registered detector (adding a detector adds no tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lessonloop.detectors import (
    Detector,
    LabelWindow,
    SeriesFeedback,
    detector_names,
    load_detector,
    make_detector,
)

SPIKE_ROW = 1500
SHIFT_ROW = 3000
N_ROWS = 4000


def planted_series(seed: int) -> np.ndarray:
    """Daily-like sine with noise, a spike at SPIKE_ROW and a level shift from SHIFT_ROW."""
    rng = np.random.default_rng(seed)
    rows = np.arange(N_ROWS)
    values = 50.0 + 5.0 * np.sin(2 * np.pi * rows / 288) + rng.normal(0.0, 1.0, N_ROWS)
    values[SPIKE_ROW] += 25.0
    values[SHIFT_ROW:] += 25.0
    return values


def training_feedback() -> list[SeriesFeedback]:
    """Three series whose early anomalies are labelled (the learners' training data)."""
    items = []
    for seed in (11, 12, 13):
        values = planted_series(seed)
        windows = (LabelWindow(SPIKE_ROW, SPIKE_ROW + 80),)
        items.append(SeriesFeedback(f"s{seed}", values, 2500, windows, warmup=400))
    return items


@pytest.fixture(scope="module")
def fitted() -> dict[str, Detector]:
    feedback = training_feedback()
    return {name: make_detector(name).fit(feedback) for name in detector_names()}


NAMES = detector_names()


def test_registry_holds_base_detectors_and_learners() -> None:
    assert {"rolling_zscore", "level_shift", "surprise_ensemble"} <= set(NAMES)
    assert {"feedback_calibrated_ensemble", "supervised_combiner"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_clone_has_same_params_and_no_shared_state(name: str, fitted) -> None:
    original = fitted[name]
    copy = original.clone()
    assert copy is not original
    assert copy.get_params() == original.get_params()
    assert type(copy) is type(original)
    fresh = make_detector(name)
    values = planted_series(1)
    np.testing.assert_array_equal(copy.score(values), fresh.score(values))


@pytest.mark.parametrize("name", NAMES)
def test_fitting_is_deterministic(name: str, fitted) -> None:
    again = make_detector(name).fit(training_feedback())
    values = planted_series(2)
    np.testing.assert_array_equal(again.score(values), fitted[name].score(values))
    assert again.decision_threshold() == fitted[name].decision_threshold()


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip_gives_identical_scores(name: str, fitted, tmp_path: Path) -> None:
    fitted[name].save(tmp_path / name)
    assert (tmp_path / name / "config.json").is_file()
    assert (tmp_path / name / "state.skops").is_file()
    loaded = load_detector(tmp_path / name)
    values = planted_series(3)
    np.testing.assert_array_equal(loaded.score(values), fitted[name].score(values))
    assert loaded.decision_threshold() == fitted[name].decision_threshold()
    assert loaded.debounce_rows() == fitted[name].debounce_rows()
    assert loaded.get_params() == fitted[name].get_params()


@pytest.mark.parametrize("name", NAMES)
def test_scores_are_causal(name: str, fitted) -> None:
    values = planted_series(4)
    full = fitted[name].score(values)
    assert full.shape == values.shape
    for cut in (1, 2, 700, SPIKE_ROW + 1, 3500):
        np.testing.assert_allclose(fitted[name].score(values[:cut]), full[:cut], rtol=0, atol=0)


PLANTED = {"spike": (SPIKE_ROW, 5), "level_shift": (SHIFT_ROW, 40)}
DECLARED = [(n, kind) for n in NAMES for kind in sorted(make_detector(n).finds)]


def test_every_detector_declares_a_planted_kind_it_finds() -> None:
    for name in NAMES:
        assert make_detector(name).finds & set(PLANTED), name


@pytest.mark.parametrize(("name", "kind"), DECLARED)
def test_planted_anomaly_is_found(name: str, kind: str, fitted) -> None:
    """Each detector declares in `finds` the planted kinds it must find."""
    anomaly_row, tolerance = PLANTED[kind]
    values = planted_series(5)
    found = fitted[name].detect(values, start_row=anomaly_row - 20)
    assert found.size, "nothing detected"
    assert anomaly_row <= found[0] <= anomaly_row + tolerance


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_input_is_rejected(name: str, fitted) -> None:
    from lessonloop.errors import InputError

    with pytest.raises(InputError):
        fitted[name].score(np.array([1.0, np.nan, 2.0]))


def test_loading_a_broken_or_unknown_detector_is_an_input_error(tmp_path: Path) -> None:
    from lessonloop.errors import InputError

    with pytest.raises(InputError):
        load_detector(tmp_path / "nothing-here")
    make_detector("surprise_ensemble").save(tmp_path / "ok")
    (tmp_path / "ok" / "state.skops").unlink()
    with pytest.raises(InputError, match="state file missing"):
        load_detector(tmp_path / "ok")
    with pytest.raises(InputError, match="unknown detector"):
        make_detector("no_such_detector")
