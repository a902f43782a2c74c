"""Detections of the learners on fixed generated series match a committed fixture.

The fixture was written before the speed work on the learners: any optimisation must leave
every learned choice and every detection row exactly as they were. Regenerate it only for an
intended change of behaviour: ``python tests/unit/detectors/test_detections_unchanged.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lessonloop.detectors import (
    FalsePositiveVerdict,
    LabelWindow,
    SeriesFeedback,
    SurpriseEnsemble,
    ThresholdHint,
    make_detector,
)

FIXTURE = Path(__file__).with_name("learner_detections.json")
PROFILES = {"standard": (1.0, 1.0, 0.11), "low_fp": (1.0, 1.0, 0.22), "low_fn": (1.0, 2.0, 0.11)}
NO_NOVELTY = (("spike", "shift"), ("shift",), ("spike", "shift", "record"), ("shift", "record"))
LEARNERS: dict[str, tuple[str, dict[str, Any]]] = {
    "feedback_calibrated_ensemble": ("feedback_calibrated_ensemble", {}),
    "record_aware_ensemble": ("record_aware_ensemble", {}),
    "record_aware_no_novelty": ("record_aware_ensemble", {"member_sets": NO_NOVELTY}),
}
ENSEMBLES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all_members": {"members": ("spike", "shift", "novelty", "record"), "floor": 2.0},
    "records": {"members": ("shift", "record"), "memory": 2000, "debounce": 400},
}


def generated_series(
    seed: int, kinds: tuple[int, ...], noisy: int, n_rows: int = 3000
) -> tuple[np.ndarray, list[LabelWindow]]:
    """Seasonal noise with planted anomalies of `kinds` (spike, shift, drift, burst) + noise."""
    rng = np.random.default_rng(seed)
    rows = np.arange(n_rows)
    values = 20.0 + 4.0 * np.sin(2 * np.pi * rows / 144) + rng.normal(0.0, 1.0, n_rows)
    windows = []
    for start in sorted(rng.choice(np.arange(500, n_rows - 200, 250), size=5, replace=False)):
        kind = int(rng.choice(kinds))
        if kind == 0:
            values[start] += rng.uniform(6.0, 20.0)
        elif kind == 1:
            values[start:] += rng.uniform(3.0, 10.0)
        elif kind == 2:
            values[start : start + 150] += np.linspace(0.0, rng.uniform(8.0, 16.0), 150)
        else:
            values[start : start + 60] += rng.normal(0.0, 5.0, 60)
        windows.append(LabelWindow(int(start) - 40, int(start) + 60))
    noise = rng.choice(n_rows, size=noisy, replace=False)
    values[noise] += rng.choice([-1.0, 1.0], noise.size) * rng.uniform(5.0, 9.0, noise.size)
    return values, windows


def corpus() -> list[SeriesFeedback]:
    """Twelve series in three groups, with labels, verdicts on baseline alerts and one hint."""
    items = []
    baseline = SurpriseEnsemble(floor=2.0, debounce=20)
    kinds = {"alpha": (0, 1, 3), "beta": (2,), "gamma": (1, 2)}
    for k in range(12):
        group = ("alpha", "beta", "gamma")[k % 3]
        values, windows = generated_series(100 + k, kinds[group], 4 if k % 4 else 30)
        split = 1800 + 50 * k
        known = tuple(w for w in windows if w.end_index < split)
        alerts = baseline.detect(values, start_row=300)
        verdicts = tuple(
            FalsePositiveVerdict(int(r))
            for r in alerts[alerts < split]
            if not any(w.start_index <= r <= w.end_index for w in known)
        )
        hints = (ThresholdHint("above", float(np.quantile(values, 0.995))),) if k == 4 else ()
        items.append(SeriesFeedback(f"s{k}", values, split, known, verdicts, hints, 300, group))
    return items


def current_outputs() -> dict[str, Any]:
    """Learned configurations and detections of every learner and ensemble on the corpus."""
    items = corpus()
    outputs: dict[str, Any] = {}
    for name, (detector, params) in LEARNERS.items():
        for profile, (tp, fn, fp) in PROFILES.items():
            for min_group_windows in (4, 100):
                learner = make_detector(
                    detector,
                    **params,
                    tp_weight=tp,
                    fn_weight=fn,
                    fp_weight=fp,
                    min_group_windows=min_group_windows,
                ).fit(items)
                detections = {
                    item.series_id: learner.detect(
                        item.values, feedback=item, start_row=item.warmup
                    ).tolist()
                    for item in items
                }
                outputs[f"{name}/{profile}/groups{min_group_windows}"] = {
                    "config": _rounded(learner.config_),
                    "group_configs": _rounded(learner.group_configs_),
                    "strength": learner.strength_,
                    "multipliers": learner.multipliers_,
                    "detections": detections,
                }
    for label, params in ENSEMBLES.items():
        ensemble = SurpriseEnsemble(**params)
        outputs[f"surprise_ensemble/{label}"] = {
            item.series_id: ensemble.detect(item.values, start_row=item.warmup).tolist()
            for item in items
        }
    return outputs


def _rounded(value: Any) -> Any:
    """Configurations with utilities rounded (sums of floats; the choice itself is exact)."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 6)
    return value


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    return json.loads(json.dumps(current_outputs()))


def test_fixture_covers_learned_choices_beyond_the_defaults() -> None:
    recorded = json.loads(FIXTURE.read_text())
    learned = [v for k, v in recorded.items() if not k.startswith("surprise_ensemble")]
    assert any(entry["group_configs"] for entry in learned)
    assert any(entry["strength"] > 0 for entry in learned)
    assert len({json.dumps(entry["config"], sort_keys=True) for entry in learned}) > 1


KEYS = [
    f"{name}/{profile}/groups{groups}"
    for name in LEARNERS
    for profile in PROFILES
    for groups in (4, 100)
] + [f"surprise_ensemble/{label}" for label in ENSEMBLES]


@pytest.mark.parametrize("key", KEYS)
def test_detections_and_choices_match_the_fixture(key: str, outputs: dict[str, Any]) -> None:
    assert outputs[key] == json.loads(FIXTURE.read_text())[key]


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(current_outputs(), indent=None, sort_keys=True) + "\n")
