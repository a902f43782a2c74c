"""Scoring pages against incidents: delay, recall, false alerts, precision and F1."""

from __future__ import annotations

import datetime as dt

from lessonloop.services.detection_eval import LabelledIncident, merge_episodes, score_period

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_scores_count_delays_misses_and_false_pages() -> None:
    incidents = [
        LabelledIncident("A", at(60), at(120), {"api": (at(60), at(120))}),
        LabelledIncident("B", at(600), at(700), {"db": (at(600), at(700))}),
    ]
    pages = {"api": [at(70), at(2000)], "db": []}
    score = score_period(pages, incidents, T0, at(3 * 1440), grace_minutes=30)
    assert score.delays == {"A": 10.0, "B": float("inf")}
    assert score.mttd_minutes == 10.0 and score.recall == 0.5
    assert score.false_alerts == 1 and score.pages == 2
    assert score.false_alerts_per_day == round(1 / 3, 3)
    assert score.precision == 0.5 and score.f1 == 0.5


def test_a_page_on_another_service_does_not_detect_the_incident() -> None:
    incidents = [LabelledIncident("A", at(60), at(120), {"api": (at(60), at(120))})]
    score = score_period({"db": [at(70)]}, incidents, T0, at(1440))
    assert score.recall == 0.0 and score.false_alerts == 1


def test_merge_episodes_collapses_bursts() -> None:
    assert merge_episodes([at(0), at(10), at(25), at(100)], gap_minutes=30) == [at(0), at(100)]
