"""Event metrics and bootstrap / paired comparisons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonloop.evaluation import (
    bootstrap_interval,
    event_metrics,
    minutes_since_epoch,
    paired_comparison,
    time_to_detect,
)


def test_event_metrics_counts_detections_delays_and_noise() -> None:
    incidents = [(100.0, 160.0), (1000.0, 1100.0), (2000.0, 2010.0)]
    alerts = [90.0, 112.0, 1030.0, 1500.0, 2500.0]
    metrics = event_metrics(incidents, alerts, observed_minutes=2880.0)
    assert metrics.detected == 2
    assert metrics.recall == pytest.approx(2 / 3)
    assert metrics.precision == pytest.approx(2 / 5)
    assert metrics.false_alerts == 3
    assert metrics.false_alerts_per_day == pytest.approx(1.5)
    assert metrics.mttd_minutes == pytest.approx((12 + 30) / 2)
    assert math.isnan(metrics.time_to_detect[2])


def test_early_tolerance_counts_an_alert_just_before_the_start() -> None:
    delays = time_to_detect([(100.0, 160.0)], [95.0], early_tolerance_minutes=10.0)
    assert delays[0] == 0.0


def test_no_detection_gives_nan_mttd_and_zero_f1() -> None:
    metrics = event_metrics([(0.0, 10.0)], [], observed_minutes=1440.0)
    assert math.isnan(metrics.mttd_minutes)
    assert metrics.f1 == 0.0


def test_minutes_since_epoch() -> None:
    assert minutes_since_epoch(["1970-01-01T01:00"])[0] == 60.0


def test_bootstrap_interval_contains_mean_and_is_seeded() -> None:
    values = np.random.default_rng(1).normal(5.0, 1.0, size=50)
    first = bootstrap_interval(values, seed=3)
    assert first.low < first.estimate < first.high
    assert first == bootstrap_interval(values, seed=3)


def test_paired_comparison_verdicts() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(0.0, 1.0, size=40)
    assert paired_comparison(base + 1.0 + rng.normal(0, 0.1, 40), base).verdict == "better"
    assert paired_comparison(base - 1.0, base).verdict == "worse"
    noise = base + rng.normal(0.0, 1.0, size=40)
    assert paired_comparison(noise, base).verdict == "not distinguishable"
    lower_wins = paired_comparison(base - 1.0, base, higher_is_better=False)
    assert lower_wins.verdict == "better"


def test_paired_comparison_rejects_mismatched_units() -> None:
    with pytest.raises(ValueError):
        paired_comparison([1.0, 2.0], [1.0])
