"""Accept / reject / retire / cut / diff / lineage on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from lessonloop.domain import SignalCreate, SignalKind, SignalStatus
from lessonloop.domain.signals import IncidentWindow
from lessonloop.errors import Conflict, InputError
from lessonloop.services import signals as service
from lessonloop.storage import audit
from lessonloop.storage import signal_sets as set_store
from lessonloop.storage import signals as store
from lessonloop.storage.tables import ModelVersionRow, SignalRow, SignalSetRow

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _proposed(ws) -> list:
    return service.extract_review(ws, "INC-2026-0042", use_model=False).created


def _window(ws, series: str = "latency_p99"):
    return next(
        s
        for s in service.list_signals(ws, kind=SignalKind.INCIDENT_WINDOW)
        if s.payload.series == series
    )


def test_invalid_edits_name_the_field_and_change_nothing(demo_ws) -> None:
    _proposed(demo_ws)
    window = _window(demo_ws)
    cases = [
        (["end=2026-03-02T09:00:00Z"], "payload.end"),
        (["service=nowhere"], "payload.service"),
        (["confidence=3"], "confidence"),
    ]
    for edits, field in cases:
        with pytest.raises(InputError) as err:
            service.accept_signal(demo_ws, window.id, edits)
        assert err.value.field == field
    verdict = next(s for s in service.list_signals(demo_ws, kind=SignalKind.ALERT_VERDICT))
    with pytest.raises(InputError) as err:
        service.accept_signal(demo_ws, verdict.id, ['matchers={alertname="x"'])
    assert err.value.field == "payload.matchers"
    assert service.get_signal(demo_ws, window.id) == window
    assert service.get_signal(demo_ws, verdict.id).status == SignalStatus.PROPOSED


def test_unknown_service_is_rejected_on_proposal(demo_ws) -> None:
    data = SignalCreate(
        payload=IncidentWindow(service="ghost", start=T0, end=T0 + dt.timedelta(hours=1))
    )
    with demo_ws.transaction() as session, pytest.raises(InputError) as err:
        store.create_proposal(data, session=session, actor="t")
    assert err.value.field == "payload.service"
    with demo_ws.transaction() as session:
        assert session.scalar(select(func.count(SignalRow.id))) == 0


def test_accept_reject_are_audited_with_reviewer(demo_ws) -> None:
    proposed = _proposed(demo_ws)
    accepted = service.accept_signal(demo_ws, proposed[0].id, ["start=2026-03-02T10:00:00Z"])
    assert accepted.decided_by == "tester" and accepted.decided_at is not None
    assert accepted.payload.start == T0
    assert accepted.content_hash != proposed[0].content_hash
    with pytest.raises(InputError):
        service.reject_signal(demo_ws, proposed[1].id, "  ")
    rejected = service.reject_signal(demo_ws, proposed[1].id, "duplicate of the other window")
    assert rejected.decision_note == "duplicate of the other window"
    with pytest.raises(Conflict):
        service.accept_signal(demo_ws, proposed[1].id)
    with demo_ws.transaction() as session:
        events = audit.list_events(
            session=session, entity_type="signal", entity_id=str(proposed[0].id)
        )
    accept_event = next(e for e in events if e.action == "signal.accept")
    assert accept_event.actor == "tester"
    assert accept_event.before_hash == proposed[0].content_hash
    assert accept_event.after_hash == accepted.content_hash


def test_cut_diff_retire_trace_used_by_export(demo_ws, tmp_path) -> None:
    proposed = _proposed(demo_ws)
    kept = [
        s for s in proposed if s.kind in (SignalKind.INCIDENT_WINDOW, SignalKind.THRESHOLD_HINT)
    ]
    for s in kept:
        service.accept_signal(demo_ws, s.id)
    first = service.cut(demo_ws)
    assert first.created and first.signal_set.version == 1
    assert sorted(first.signal_set.members) == sorted(s.id for s in kept)
    assert service.cut(demo_ws).created is False  # nothing changed: no new version

    gap = next(s for s in proposed if s.kind == SignalKind.INSTRUMENTATION_GAP)
    service.accept_signal(demo_ws, gap.id)
    retired = kept[0]
    service.retire_signal(demo_ws, retired.id, "superseded")
    second = service.cut(demo_ws).signal_set
    assert second.version == 2 and second.parent_version == 1
    change = service.diff(demo_ws, 1, 2)
    assert [s.id for s in change.added] == [gap.id]
    assert [s.id for s in change.removed] == [retired.id]

    old = service.signals_of_set(demo_ws, 1)
    assert retired.id in {s.id for s in old[SignalKind.INCIDENT_WINDOW]}
    assert all(s.status == SignalStatus.ACCEPTED for group in old.values() for s in group)
    assert service.latest_set_version(demo_ws) == 2

    with demo_ws.transaction() as session:
        session.add(
            ModelVersionRow(
                task="metric_anomaly",
                config={},
                signal_set_version=1,
                status="candidate",
                created_at=T0,
                status_changed_at=T0,
            )
        )
    versions, models = service.used_by(demo_ws, retired.id)
    assert versions == [1] and [m.signal_set_version for m in models] == [1]
    assert service.used_by(demo_ws, gap.id)[1] == []

    insight_signal = next(s for s in proposed if s.provenance.insight_id is not None)
    lineage = service.trace(demo_ws, insight_signal.id)
    assert lineage.insight.startswith("The disk alert on batch hosts")
    assert lineage.incident_key == "INC-2026-0042"
    assert lineage.review_title.startswith("Checkout p99")

    paths = service.export(demo_ws, 1, "parquet", tmp_path / "pq")
    assert {p.name for p in paths} == {
        "incident_window.parquet",
        "threshold_hint.parquet",
        "schema.json",
    }
    table = pq.read_table(tmp_path / "pq" / "incident_window.parquet")
    assert table.num_rows == 2 and "start" in table.column_names
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for bad in (a_file, a_file / "below"):
        with pytest.raises(InputError, match="export folder"):
            service.export(demo_ws, 2, "jsonl", bad)
    jsonl = service.export(demo_ws, 2, "jsonl", tmp_path / "js")
    schema = json.loads((tmp_path / "js" / "schema.json").read_text())
    assert schema["signal_set_version"] == 2 and "instrumentation_gap" in schema["kinds"]
    rows = [
        json.loads(x)
        for x in (tmp_path / "js" / "instrumentation_gap.jsonl").read_text().splitlines()
    ]
    assert rows[0]["missing"] == "connection pool saturation"
    assert len(jsonl) == 4


def test_a_failing_cut_writes_nothing(demo_ws, monkeypatch) -> None:
    for s in _proposed(demo_ws)[:2]:
        service.accept_signal(demo_ws, s.id)
    real = set_store.audit.record

    def explode(**kwargs):
        if kwargs.get("action") == "signal_set.cut":
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(set_store.audit, "record", explode)
    with pytest.raises(RuntimeError):
        service.cut(demo_ws)
    with demo_ws.transaction() as session:
        assert session.scalar(select(func.count(SignalSetRow.id))) == 0
    assert service.latest_set_version(demo_ws) is None


def test_nothing_unaccepted_is_ever_in_a_set(demo_ws) -> None:
    proposed = _proposed(demo_ws)
    service.accept_signal(demo_ws, proposed[0].id)
    service.reject_signal(demo_ws, proposed[1].id, "wrong")
    made = service.cut(demo_ws).signal_set
    assert made.members == [proposed[0].id]
    with demo_ws.transaction() as session, pytest.raises(Conflict):
        set_store.cut_set([proposed[2]], "x" * 64, session=session, actor="t", notes=[])
