"""Scoring alert policies: pages, noise, coverage, and the comparison's verdict."""

from __future__ import annotations

import datetime as dt

import pytest

from lessonloop.evaluation.alert_noise import compare_alert_policies, score_alert_period

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def at(day: float) -> dt.datetime:
    return T0 + dt.timedelta(days=day)


STARTS = [at(0.1), at(0.2), at(1.5), at(1.6), at(2.5), at(3.2), at(9)]
LINKS = [None, "A", "A", None, "B", None, None]  # the last is outside the period


def test_counts_rates_coverage_and_delay() -> None:
    kept = [True, False, True, False, True, True, True]
    score = score_alert_period(STARTS, kept, LINKS, T0, at(4))
    assert (score.days, score.firings, score.pages, score.noise_pages) == (4, 6, 4, 2)
    assert score.noise_pages_per_day == 0.5 and score.pages_per_day == 1.0
    assert score.incidents == ["A", "B"] and score.incident_coverage == 1.0
    assert score.relevant_recall == pytest.approx(2 / 3)
    assert score.pages_by_incident == {"A": 1, "B": 1}
    assert score.delay_by_incident["A"] == pytest.approx(1.3 * 24 * 60)
    assert score.added_delay_minutes == pytest.approx(1.3 * 24 * 60 / 2)
    assert list(score.noise_per_day) == [1, 0, 0, 1]
    assert score.as_dict()["incidents_covered"] == 2


def test_incidents_come_before_noise() -> None:
    everything = score_alert_period(STARTS, [True] * 7, LINKS, T0, at(4))
    quiet = score_alert_period(
        STARTS, [False, False, False, False, True, False, False], LINKS, T0, at(4)
    )
    found = compare_alert_policies(quiet, everything)
    assert found.verdict == "worse" and found.lost_incidents == ["A"]
    found = compare_alert_policies(everything, quiet)
    assert found.gained_incidents == ["A"] and found.verdict == "better"
    assert "missed" in found.reason and found.noise_verdict == "not distinguishable"


def test_fewer_noise_pages_are_better_only_when_the_days_say_so() -> None:
    starts = [at(d + 0.5) for d in range(30)] + [at(d + 0.6) for d in range(0, 30, 5)]
    links = [None] * 30 + [f"I{d}" for d in range(0, 30, 5)]
    base = score_alert_period(starts, [True] * 36, links, T0, at(30))
    cand = score_alert_period(starts, [False] * 30 + [True] * 6, links, T0, at(30))
    assert compare_alert_policies(cand, base).verdict == "better"
    few = score_alert_period(starts, [d != 3 for d in range(30)] + [True] * 6, links, T0, at(30))
    assert compare_alert_policies(few, base).verdict == "not distinguishable"
    with pytest.raises(ValueError, match="same period"):
        compare_alert_policies(cand, score_alert_period(starts, [True] * 36, links, T0, at(20)))


def test_bad_periods_and_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one entry per firing"):
        score_alert_period(STARTS, [True], LINKS, T0, at(4))
    with pytest.raises(ValueError, match="end after"):
        score_alert_period(STARTS, [True] * 7, LINKS, at(4), T0)


def test_coverage_has_an_exact_interval_and_no_incident_means_no_verdict() -> None:
    starts = [at(d + 0.5) for d in range(10)] + [at(d + 0.6) for d in range(5)]
    links = [None] * 10 + [f"I{d}" for d in range(5)]
    score = score_alert_period(starts, [True] * 15, links, T0, at(10))
    low, high = score.intervals["coverage"]
    assert score.incident_coverage == 1.0 and low == pytest.approx(0.478, abs=0.001)
    assert high == 1.0
    quiet = score_alert_period(starts[:10], [False] * 10, [None] * 10, T0, at(10))
    loud = score_alert_period(starts[:10], [True] * 10, [None] * 10, T0, at(10))
    found = compare_alert_policies(quiet, loud)
    assert found.noise_verdict == "better" and found.verdict == "not distinguishable"
    assert "no incident in the holdout" in found.reason


def test_a_late_page_counts_as_delay_and_rates_use_the_exact_span() -> None:
    starts, links = [at(0.1), at(0.2)], ["A", None]
    late = [at(0.1) + dt.timedelta(minutes=100), None]
    score = score_alert_period(starts, [True, True], links, T0, at(0.5), paged_at=late)
    assert score.delay_by_incident["A"] == 100
    assert score.noise_pages_per_day == pytest.approx(2.0)  # one noise page in half a day
    with pytest.raises(ValueError, match="paged_at"):
        score_alert_period(starts, [True, True], links, T0, at(1), paged_at=[None])


def test_paging_for_an_incident_much_later_than_the_baseline_is_worse() -> None:
    starts = [at(d + 0.5) for d in range(30)] + [at(d + 0.6) for d in range(0, 30, 5)]
    links = [None] * 30 + [f"I{d}" for d in range(0, 30, 5)]
    kept = [False] * 30 + [True] * 6
    base = score_alert_period(starts, [True] * 36, links, T0, at(30))
    late = [None] * 30 + [at(0.6) + dt.timedelta(minutes=200)] + [None] * 5
    slow = score_alert_period(starts, kept, links, T0, at(30), paged_at=late)
    found = compare_alert_policies(slow, base)
    assert found.verdict == "worse" and found.delayed_incidents == ["I0"]
    assert "more than 15 minutes later" in found.reason
    assert compare_alert_policies(slow, base, max_added_delay_minutes=240).verdict == "better"
    close = [None] * 30 + [at(0.6) + dt.timedelta(minutes=10)] + [None] * 5
    quick = score_alert_period(starts, kept, links, T0, at(30), paged_at=close)
    assert compare_alert_policies(quick, base).verdict == "better"
