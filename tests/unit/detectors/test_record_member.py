"""The `record` member (breaks of a series' all-time range) and the learner that may trust it."""

from __future__ import annotations

import numpy as np

from lessonloop.detectors import (
    FeedbackCalibratedEnsemble,
    LabelWindow,
    RecordAwareEnsemble,
    SeriesFeedback,
    SurpriseEnsemble,
    make_detector,
)
from lessonloop.detectors.basic import record_feature
from lessonloop.detectors.ensemble import member_surprise
from lessonloop.detectors.selection import first_near_best


def test_record_is_the_break_of_the_past_range_as_a_fraction_of_it() -> None:
    values = np.array([0.0, 10.0, 5.0, 12.0, -5.0, 3.0, 30.0])
    feature = record_feature(values, warmup=0)
    np.testing.assert_allclose(feature, [0.0, 0.0, 0.0, 0.2, 5 / 12, 0.0, 18 / 17])


def test_record_is_zero_in_warmup_and_on_constant_series() -> None:
    assert np.all(record_feature(np.arange(10.0), warmup=4)[:4] == 0.0)
    assert np.all(record_feature(np.full(50, 3.0), warmup=0) == 0.0)
    assert record_feature(np.empty(0), warmup=0).size == 0


def test_record_surprise_ignores_small_breaks_and_scores_large_ones_above_one() -> None:
    feature = np.array([0.0, 0.01, 0.2, 2.0])
    scores = member_surprise("record", feature, memory=100, floor=3.0)
    np.testing.assert_allclose(scores, [0.0, 0.0, 1.2, 3.0])


def test_ensemble_with_record_member_fires_when_a_slow_drift_leaves_the_range() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0.0, 1.0, 3000)
    values[2000:2600] += np.linspace(0.0, 10.0, 600)
    plain = SurpriseEnsemble(members=("shift",)).detect(values, start_row=1500)
    with_record = SurpriseEnsemble(members=("shift", "record")).detect(values, start_row=1500)
    assert not np.any((plain >= 2000) & (plain < 2600))
    assert np.any((with_record >= 2000) & (with_record < 2600))


def drifting(seed: int) -> SeriesFeedback:
    """Labelled slow drifts to never-seen levels: hard for spike and shift, easy for records."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, 3000)
    values[1200:1800] += np.linspace(0.0, 10.0, 600)
    values[1800:] += 10.0
    return SeriesFeedback(f"s{seed}", values, 2000, (LabelWindow(1200, 1800),), warmup=300)


def test_learner_trusts_records_when_feedback_shows_they_catch_what_others_miss() -> None:
    data = [drifting(seed) for seed in range(6)]
    record_aware = RecordAwareEnsemble().fit(data)
    plain = FeedbackCalibratedEnsemble().fit(data)
    assert "record" in record_aware.config_["members"]
    assert record_aware.config_["utility"] > plain.config_["utility"]
    assert isinstance(make_detector("record_aware_ensemble"), RecordAwareEnsemble)


def test_one_standard_error_rule_prefers_the_first_of_tied_candidates() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 1.0, 40)
    jitter = rng.normal(0.0, 0.5, 40)
    tied = base + 0.05 + jitter - jitter.mean()  # better by 2 in total, standard error ~3
    worse = base - 3.0 + rng.normal(0.0, 0.5, 40)
    table = np.vstack([base, tied, worse])
    best = int(np.argmax(table.sum(axis=1)))
    assert first_near_best(table, 0.0) == best
    assert first_near_best(table, 1.0) == 0
    assert first_near_best(np.vstack([worse, base]), 1.0) == 1
    assert first_near_best(table[:, :1], 1.0) == int(np.argmax(table[:, 0]))
