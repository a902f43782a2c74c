"""Query steps as Prometheus writes them, and how a long range is cut into queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lessonloop.errors import InputError
from lessonloop.ingest import prometheus
from lessonloop.ingest.prometheus import fetch_query_range_in_chunks, step_seconds


@pytest.mark.parametrize(
    ("step", "seconds"),
    [
        ("60", 60.0),
        ("0.5", 0.5),
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1d", 86400),
        ("250ms", 0.25),
    ],
)
def test_steps(step: str, seconds: float) -> None:
    assert step_seconds(step) == pytest.approx(seconds)


@pytest.mark.parametrize("step", ["", "0", "-5", "5x", "m5", "1h 30m", "nan", "0s"])
def test_bad_steps_are_refused_naming_the_step(step: str) -> None:
    with pytest.raises(InputError) as caught:
        step_seconds(step)
    assert caught.value.field == "step"


def test_chunks_cover_the_range_once_and_join_series_by_labels(monkeypatch) -> None:
    asked: list[tuple[float, float]] = []

    def fake_fetch(base_url, query, start, end, step, *, timeout):
        asked.append((start.timestamp(), end.timestamp()))
        first, last = int(start.timestamp()), int(end.timestamp())
        result = [
            {"metric": {"pod": pod}, "values": [[t, str(t % 7)] for t in range(first, last + 1)]}
            for pod in ("a", "b")
        ]
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return json.dumps(body).encode()

    monkeypatch.setattr(prometheus, "fetch_query_range", fake_fetch)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(seconds=25_000)
    joined = json.loads(fetch_query_range_in_chunks("http://x", "q", start, end, "1s"))
    assert len(asked) == 3 and asked[0][1] - asked[0][0] == 9_999
    results = joined["data"]["result"]
    assert [r["metric"] for r in results] == [{"pod": "a"}, {"pod": "b"}]
    times = [t for t, _ in results[0]["values"]]
    assert times == list(range(int(start.timestamp()), int(end.timestamp()) + 1))


def test_a_chunk_the_server_refuses_is_passed_on_for_the_parser_to_report(monkeypatch) -> None:
    refused = json.dumps({"status": "error", "error": "too many samples"}).encode()
    monkeypatch.setattr(prometheus, "fetch_query_range", lambda *a, **k: refused)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    assert fetch_query_range_in_chunks("http://x", "q", start, end, "1s") == refused
