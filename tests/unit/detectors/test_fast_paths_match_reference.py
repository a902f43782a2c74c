"""The learner's shared and batched computations equal the plain one-at-a-time ones, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from lessonloop.detectors import LabelWindow, OperatorProfile, SeriesFeedback, make_detector
from lessonloop.detectors.basic import novelty_feature, shift_feature, spike_feature
from lessonloop.detectors.candidate_grid import SurpriseRatios
from lessonloop.detectors.ensemble import member_features, member_surprise
from lessonloop.detectors.learners import combined_surprise, labelled_utility
from lessonloop.detectors.rolling import TrailingStatistics, previous_occurrences, trailing_max
from lessonloop.detectors.thresholding import (
    SeriesUtilities,
    WindowUtility,
    debounce,
    debounce_sorted,
)

MEMBERS = ("novelty", "record", "shift", "spike")


def reference_debounce(
    rows: np.ndarray, quiet: int, heights: np.ndarray | None, escalation: float
) -> np.ndarray:
    """The original loop: keep a row, skip its quiet period unless a row is much louder."""
    kept, position = [], 0
    while position < rows.size:
        kept.append(int(rows[position]))
        after = int(np.searchsorted(rows, rows[position] + quiet, side="left"))
        if heights is not None and np.isfinite(escalation):
            window = heights[position + 1 : after]
            louder = np.flatnonzero(window >= escalation * heights[position])
            after = position + 1 + int(louder[0]) if louder.size else after
        position = after
    return np.asarray(kept, dtype=np.int64)


def series(seed: int, size: int = 1500) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.normal(0.0, 1.0, size)) + 5.0 * np.sin(np.arange(size) / 30.0)
    values[rng.integers(200, size, 4)] += rng.normal(0.0, 25.0, 4)
    return values


@pytest.mark.parametrize("seed", range(40))
def test_debounce_matches_the_reference_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = np.unique(rng.integers(0, 400, int(rng.integers(0, 80))))
    heights = rng.choice([1.0, 1.5, 3.0, 4.5, 9.0], rows.size) * rng.uniform(0.9, 1.1, rows.size)
    for quiet in (1, 7, 40, 150):
        for escalation in (2.0, 3.0, float("inf")):
            expected = reference_debounce(rows, quiet, heights, escalation)
            got = debounce(rows, quiet, peaks=heights, escalation=escalation)
            assert got.tolist() == expected.tolist()
        assert debounce(rows, quiet).tolist() == reference_debounce(rows, quiet, None, 3.0).tolist()


def test_long_walks_match_the_reference_loop() -> None:
    rng = np.random.default_rng(11)
    rows = np.unique(rng.integers(0, 200_000, 20_000))
    heights = rng.choice([1.0, 2.0, 3.5, 8.0], rows.size)
    for quiet in (1, 30, 200):
        expected = reference_debounce(rows, quiet, heights, 3.0)
        assert debounce(rows, quiet, peaks=heights, escalation=3.0).tolist() == expected.tolist()


def test_segments_far_apart_are_debounced_independently_in_one_call() -> None:
    rng = np.random.default_rng(7)
    stride, sets = 1000, []
    for _ in range(5):
        rows = np.unique(rng.integers(0, 600, 60))
        sets.append((rows, int(rng.choice([20, 50, 300])), rng.uniform(1.0, 5.0, rows.size)))
    laid = np.concatenate([rows + k * stride for k, (rows, _, _) in enumerate(sets)])
    quiet = np.concatenate([np.full(rows.size, q) for rows, q, _ in sets])
    found = debounce_sorted(laid, quiet, np.concatenate([h for _, _, h in sets]), 3.0)
    for k, (rows, q, h) in enumerate(sets):
        alone = debounce(rows, q, peaks=h, escalation=3.0) + k * stride
        assert found[(found >= k * stride) & (found < (k + 1) * stride)].tolist() == alone.tolist()


def test_batched_utilities_equal_one_call_per_detection_set() -> None:
    profile = OperatorProfile(1.0, 2.0, 0.11)
    windows = [[LabelWindow(100, 140), LabelWindow(400, 450)], [], [LabelWindow(50, 60)]]
    utilities = [WindowUtility(w, profile, start_row=20, end_row=600) for w in windows]
    laid_out = SeriesUtilities(utilities, gap=301)
    rng = np.random.default_rng(3)
    stride = laid_out.value.size + 301
    sets = [np.unique(rng.integers(0, laid_out.value.size, 40)) for _ in range(4)]
    batched = laid_out.per_segment(
        np.concatenate([s + k * stride for k, s in enumerate(sets)]), stride, len(sets)
    )
    for k, positions in enumerate(sets):
        assert batched[k].tolist() == laid_out(positions).tolist()


def test_shared_rolling_statistics_equal_separate_ones() -> None:
    values = series(1)
    shared = TrailingStatistics(values)
    for window in (1, 8, 128, 256, 512):
        mean, std = TrailingStatistics(values.copy()).mean_std(window)
        assert np.array_equal(shared.mean_std(window)[0], mean)
        assert np.array_equal(shared.mean_std(window)[1], std)
    assert np.array_equal(spike_feature(values, 128, shared), spike_feature(values.copy(), 128))
    assert np.array_equal(
        shift_feature(values, 8, 256, shared), shift_feature(values.copy(), 8, 256)
    )
    assert np.array_equal(
        novelty_feature(values, 512, 5, 3, shared), novelty_feature(values.copy(), 512, 5, 3)
    )


def test_doubled_trailing_maxima_and_ratios_equal_per_series_surprise() -> None:
    features = [member_features(series(seed), MEMBERS, 128, 8, 256) for seed in (2, 3, 4)]
    ratios = SurpriseRatios(features, memories=(300, 600))
    for memory in (300, 600):
        for member in MEMBERS:
            alone = np.concatenate(
                [member_surprise(member, f[member], memory, 0.0) for f in features]
            )
            assert np.array_equal(ratios.ratio(member, memory), alone)
        for k, f in enumerate(features):
            for floor in (0.0, 2.0, 3.0):
                members = ("spike", "shift", "record")
                expected = combined_surprise(f, members, memory, floor)
                assert np.array_equal(ratios.series_combined(k, members, memory, floor), expected)
    plain = np.concatenate([trailing_max(f["spike"], 600) for f in features])
    assert np.array_equal(SurpriseRatios(features).trailing_max("spike", 600), plain)


def test_small_codes_sort_like_wide_ones() -> None:
    codes = np.random.default_rng(5).integers(0, 125, 3000)
    wide = previous_occurrences(codes + 2**40)
    assert np.array_equal(previous_occurrences(codes), wide)


def test_learner_utility_table_equals_candidate_by_candidate_reference() -> None:
    items = []
    for k, seed in enumerate((11, 12, 13)):
        values = series(seed, 2500)
        windows = (LabelWindow(900, 960), LabelWindow(1400, 1460)) if k != 1 else ()
        items.append(SeriesFeedback(f"s{k}", values, 1800, windows, warmup=300))
    learner = make_detector("record_aware_ensemble")
    features = [member_features(s.values[: s.feedback_end], MEMBERS, 128, 8, 256) for s in items]
    configs = learner._candidates()
    table = learner._utility_table(configs, features, items)
    profile = OperatorProfile(learner.tp_weight, learner.fn_weight, learner.fp_weight)
    for row, config in enumerate(configs):
        for k, (f, item) in enumerate(zip(features, items, strict=True)):
            scores = combined_surprise(f, config["members"], config["memory"], config["floor"])
            expected = labelled_utility(
                scores,
                item,
                config["threshold"],
                config["debounce"],
                profile,
                escalation=learner.escalation,
            )
            assert table[row, k] == pytest.approx(expected, abs=1e-9)
