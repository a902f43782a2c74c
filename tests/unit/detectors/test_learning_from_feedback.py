"""Thresholding, the operator utility, and what the learners take from feedback."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lessonloop.detectors import (
    FalsePositiveVerdict,
    FeedbackCalibratedEnsemble,
    LabelWindow,
    OperatorProfile,
    SeriesFeedback,
    ThresholdHint,
    debounce,
    detections_from_scores,
    operator_utility,
)


def test_debounce_keeps_first_and_skips_the_quiet_period() -> None:
    assert debounce([5, 6, 7, 20, 24, 26], 10).tolist() == [5, 20]
    assert debounce([7, 5, 5], 0).tolist() == [5, 7]


def test_detections_from_scores_respects_start_and_end() -> None:
    scores = np.array([0, 2, 0, 2, 2, 0, 2, 0], dtype=float)
    assert detections_from_scores(scores, 1.0).tolist() == [1, 3, 4, 6]
    assert detections_from_scores(scores, 1.0, debounce_rows=3, start_row=2).tolist() == [3, 6]
    assert detections_from_scores(scores, 1.0, end_row=5).tolist() == [1, 3, 4]


def test_operator_utility_rewards_early_hits_and_charges_misses_and_noise() -> None:
    windows = [LabelWindow(100, 199)]
    profile = OperatorProfile(1.0, 2.0, 0.5)
    assert operator_utility([100], windows, profile, end_row=1000) == pytest.approx(1.0)
    assert operator_utility([], windows, profile, end_row=1000) == pytest.approx(-2.0)
    assert operator_utility([50], windows, profile, end_row=1000) == pytest.approx(-0.5 - 2.0)
    late = operator_utility([190], windows, profile, end_row=1000)
    assert 0 < late < operator_utility([120], windows, profile, end_row=1000)


def test_feedback_types_are_frozen_and_hints_checked() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LabelWindow(1, 2).start_index = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        ThresholdHint("sideways", 1.0)


def noisy_feedback(seed: int, name: str, group: str = "g") -> SeriesFeedback:
    """A series with frequent small bursts (noise) and a labelled large shift."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, 3000)
    values[rng.integers(300, 2900, 30)] += rng.uniform(3.0, 5.0, 30)
    values[1200:] += 8.0
    verdicts = tuple(FalsePositiveVerdict(int(r)) for r in range(400, 1100, 70))
    return SeriesFeedback(
        name, values, 2000, (LabelWindow(1190, 1300),), verdicts, warmup=300, group=group
    )


def test_learner_never_does_worse_than_defaults_on_its_feedback_and_keeps_params() -> None:
    data = [noisy_feedback(seed, f"s{seed}") for seed in range(4)]
    learner = FeedbackCalibratedEnsemble()
    before = learner.get_params()
    learner.fit(data)
    assert learner.get_params() == before
    assert learner.config_["utility"] >= learner.config_["default_utility"]


def test_verdicts_raise_the_threshold_of_noisy_series() -> None:
    data = [
        noisy_feedback(1, "noisy"),
        dataclasses.replace(noisy_feedback(2, "quiet"), verdicts=()),
    ]
    learner = FeedbackCalibratedEnsemble(suppression_strengths=(0.5,)).fit(data)
    noisy, quiet = learner.decision_threshold(data[0]), learner.decision_threshold(data[1])
    assert quiet == pytest.approx(learner.config_["threshold"])
    assert noisy == pytest.approx(quiet * (1 + 0.5 * 10 / 15))


def test_threshold_hint_boosts_scores_beyond_it() -> None:
    item = noisy_feedback(3, "hinted")
    learner = FeedbackCalibratedEnsemble(hint_boost=2.0).fit([item])
    hinted = dataclasses.replace(item, hints=(ThresholdHint("above", 6.0),))
    plain, boosted = learner.score(item.values, item), learner.score(item.values, hinted)
    beyond = item.values > 6.0
    np.testing.assert_allclose(boosted[beyond], 2.0 * plain[beyond])
    np.testing.assert_array_equal(boosted[~beyond], plain[~beyond])


def test_group_configuration_needs_enough_labelled_windows() -> None:
    data = [noisy_feedback(seed, f"s{seed}", group="small") for seed in range(2)]
    learner = FeedbackCalibratedEnsemble(min_group_windows=3).fit(data)
    assert learner.group_configs_ == {}
    assert learner.config_for(data[0]) is learner.config_
