"""Window novelty (a sequence detector) and the learner that may trust it."""

from __future__ import annotations

import numpy as np

from lessonloop.detectors import LabelWindow, RecordAwareEnsemble, SeriesFeedback, SurpriseEnsemble
from lessonloop.detectors.seq_learner import SampledSequenceEnsemble, SequenceAwareEnsemble
from lessonloop.detectors.seq_window import (
    WindowNovelty,
    block_summaries,
    window_novelty_feature,
)


def calm_after(seed: int, quiet_from: int, n_rows: int = 4000) -> np.ndarray:
    """A daily-like sine whose noise almost disappears from `quiet_from` (no spike, no shift)."""
    rng = np.random.default_rng(seed)
    rows = np.arange(n_rows)
    noise = np.where(rows < quiet_from, 1.0, 0.05) * rng.normal(0.0, 1.0, n_rows)
    return 10.0 + 5.0 * np.sin(2 * np.pi * rows / 288) + noise


def test_block_summaries_are_means_and_spreads_of_complete_blocks() -> None:
    means, spreads = block_summaries(np.array([1.0, 3.0, 5.0, 5.0, 9.0]), 2)
    np.testing.assert_allclose(means, [2.0, 5.0])
    np.testing.assert_allclose(spreads, [1.0, 0.0])


def test_feature_is_zero_on_short_constant_and_exactly_repeating_series() -> None:
    assert np.all(window_novelty_feature(np.arange(100.0)) == 0.0)
    assert np.all(window_novelty_feature(np.full(3000, 4.0)) == 0.0)
    assert window_novelty_feature(np.empty(0)).size == 0
    pattern = np.tile(np.r_[np.zeros(20), np.full(5, 10.0)], 200)
    assert np.all(window_novelty_feature(pattern) == 0.0)


def test_a_broken_pattern_is_novel_and_scored_where_its_window_completes() -> None:
    pattern = np.tile(np.r_[np.zeros(20), np.full(5, 10.0)], 200)
    pattern[3020:3025] = 0.0
    feature = window_novelty_feature(pattern)
    assert np.all(feature[:3020] == 0.0)
    first = int(np.flatnonzero(feature)[0])
    assert first == 3023


def test_appending_rows_never_changes_earlier_scores() -> None:
    values = calm_after(1, 2500)
    full = window_novelty_feature(values)
    for cut in (300, 301, 1234, 2501, 3999):
        np.testing.assert_array_equal(window_novelty_feature(values[:cut]), full[:cut])


def test_window_novelty_finds_noise_that_disappears_where_spike_and_shift_do_not() -> None:
    values = calm_after(7, 3000)
    assert SurpriseEnsemble().detect(values, start_row=2000).size == 0
    found = WindowNovelty(floor=1.0).detect(values, start_row=2000)
    assert np.any((found >= 3000) & (found < 3100))


def quieting(seed: int) -> SeriesFeedback:
    """A labelled change of regime (noise disappears) that only window novelty sees."""
    values = calm_after(seed, 3000)
    return SeriesFeedback(f"q{seed}", values, 3800, (LabelWindow(2950, 3150),), warmup=400)


def test_learner_trusts_window_novelty_when_feedback_shows_it_catches_what_others_miss() -> None:
    training = [quieting(seed) for seed in range(6)]
    unseen = quieting(9).values
    floors = (1.0, 2.0, 3.0)
    learner = SequenceAwareEnsemble(floors=floors).fit(training)
    assert "window" in learner.config_["members"]
    found = learner.detect(unseen, start_row=400)
    assert np.any((found >= 3000) & (found <= 3150))
    without_window = RecordAwareEnsemble(floors=floors).fit(training).detect(unseen, start_row=400)
    assert not np.any((without_window >= 3000) & (without_window <= 3150))


def test_learner_without_labels_keeps_the_ensemble_defaults() -> None:
    unlabelled = [
        SeriesFeedback(f"u{seed}", calm_after(seed, 10_000, 3000), 2500, warmup=400)
        for seed in range(3)
    ]
    learner = SequenceAwareEnsemble().fit(unlabelled)
    assert learner.config_["members"] == ["spike", "shift"]
    assert learner.config_["floor"] == 3.0 and learner.config_["debounce"] == 200


def test_bad_hyper_parameters_and_empty_feedback_are_input_errors() -> None:
    import pytest

    from lessonloop.detectors.rolling import trailing_mean
    from lessonloop.detectors.seq_window import WindowNovelty
    from lessonloop.errors import InputError

    for bad in ({"block": 0}, {"length": -1}, {"horizon": 8}, {"memory": 0}, {"debounce": -5}):
        with pytest.raises(InputError) as caught:
            WindowNovelty(**bad)
        assert caught.value.field == next(iter(bad))
    with pytest.raises(InputError):
        trailing_mean(np.arange(10.0), 0)
    for learner in (RecordAwareEnsemble(), SequenceAwareEnsemble()):
        with pytest.raises(InputError) as caught:
            learner.fit([])
        assert caught.value.field == "series"


def test_sampled_references_are_an_upper_bound_of_the_exact_nearest_window() -> None:
    values = calm_after(3, 2500)
    exact = window_novelty_feature(values)
    np.testing.assert_array_equal(window_novelty_feature(values, stride=1), exact)
    sampled = window_novelty_feature(values, stride=4)
    assert np.all(sampled >= exact - 1e-12)
    assert np.any(sampled > exact + 1e-9)


def test_sampled_references_keep_earlier_scores_when_rows_are_appended() -> None:
    values = calm_after(2, 2500)
    full = window_novelty_feature(values, stride=4)
    for cut in (301, 1234, 2501, 3999):
        np.testing.assert_array_equal(window_novelty_feature(values[:cut], stride=4), full[:cut])


def test_sampled_learner_trusts_window_novelty_like_the_exact_one() -> None:
    training = [quieting(seed) for seed in range(6)]
    learner = SampledSequenceEnsemble(floors=(1.0, 2.0, 3.0)).fit(training)
    assert "window" in learner.config_["members"]
    found = learner.detect(quieting(9).values, start_row=400)
    assert np.any((found >= 3000) & (found <= 3150))
