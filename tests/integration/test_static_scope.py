"""A detector is compared with the static alerts it could replace: those on services it scores."""

from __future__ import annotations

import datetime as dt

import numpy as np

from lessonloop.domain import ServiceCreate
from lessonloop.domain.alerts import AlertCreate
from lessonloop.services.learn import scoped_static_pages, static_pages
from lessonloop.storage import alerts as alert_store
from lessonloop.storage import series as series_store
from lessonloop.storage import services

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _alert(name: str, labels: dict[str, str], at: dt.datetime) -> AlertCreate:
    return AlertCreate(
        fingerprint=f"{name}-{at:%d%H}",
        name=name,
        labels=labels,
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=10),
    )


def test_static_alerts_outside_the_detectors_scope_are_left_out_and_counted(workspace) -> None:
    with workspace.transaction() as session:
        for name in ("api", "batch"):
            services.create(ServiceCreate(name=name), session=session, actor="t")
        stamps = np.array([int((T0 + dt.timedelta(hours=h)).timestamp()) for h in range(48)])
        series_store.put("api", "latency", stamps, np.ones(48), session=session, actor="t")
        for day in range(3):
            at = T0 + dt.timedelta(days=day, hours=2)
            alert_store.upsert(
                _alert("HighLatency", {"service": "api"}, at), session=session, actor="t"
            )
            alert_store.upsert(
                _alert("DiskSpaceHigh", {"service": "batch"}, at), session=session, actor="t"
            )
            alert_store.upsert(
                _alert("NodeDown", {"job": "node", "instance": "h1"}, at),
                session=session,
                actor="t",
            )
    with workspace.transaction() as session:
        stored = [series_store.get("api", "latency", session=session)]
    assert set(static_pages(workspace)) == {"api", "batch", ""}
    kept, note = scoped_static_pages(workspace, stored, T0, T0 + dt.timedelta(days=2))
    assert set(kept) == {"api"} and len(kept["api"]) == 3
    assert note.startswith("4 static alert episodes in the holdout are outside")
    assert "batch 2" in note and "no service label 2" in note
    everything_covered, quiet = scoped_static_pages(
        workspace, stored, T0 + dt.timedelta(days=9), T0 + dt.timedelta(days=10)
    )
    assert set(everything_covered) == {"api"} and quiet == ""
