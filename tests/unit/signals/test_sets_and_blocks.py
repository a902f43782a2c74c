"""Pure parts: set hashing (property test), diffs, signal-block validation problems."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from lessonloop.domain import IncidentRead, ReviewRead, SignalStatus
from lessonloop.domain.signals import InstrumentationGap, SignalCreate, SignalRead
from lessonloop.signals.context import ExtractionInput
from lessonloop.signals.extract_structure import extract_structure
from lessonloop.signals.sets import diff_sets, set_hash
from lessonloop.storage.signals import signal_hash

NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def _signal(i: int, missing: str) -> SignalRead:
    data = SignalCreate(payload=InstrumentationGap(missing=missing))
    return SignalRead(
        **data.model_dump(),
        id=i,
        status=SignalStatus.ACCEPTED,
        content_hash=signal_hash(data),
        created_at=NOW,
    )


texts = st.lists(st.text(min_size=1, max_size=20), min_size=0, max_size=12)


@given(texts, st.randoms())
def test_same_accepted_signals_always_give_the_same_hash(missing, rnd) -> None:
    signals = [_signal(i, m) for i, m in enumerate(missing)]
    shuffled = list(signals)
    rnd.shuffle(shuffled)
    rebuilt = [_signal(i + 1000, m) for i, m in enumerate(missing)]  # new ids, same content
    assert set_hash(signals) == set_hash(shuffled) == set_hash(rebuilt)


@given(texts, st.text(min_size=1, max_size=20))
def test_a_different_signal_changes_the_hash(missing, extra) -> None:
    signals = [_signal(i, m) for i, m in enumerate(missing)]
    assert set_hash(signals) != set_hash([*signals, _signal(99, extra)])


def test_diff_reports_added_removed_changed() -> None:
    a = [_signal(1, "x"), _signal(2, "y")]
    b = [_signal(2, "y2"), _signal(3, "z")]
    diff = diff_sets(a, b)
    assert [s.id for s in diff.added] == [3]
    assert [s.id for s in diff.removed] == [1]
    assert [(x.payload.missing, y.payload.missing) for x, y in diff.changed] == [("y", "y2")]


def test_bad_signal_blocks_become_problems_naming_the_field() -> None:
    blocks = [
        {
            "kind": "incident_window",
            "service": "api",
            "start": "2026-03-02T11:00:00Z",
            "end": "2026-03-02T10:00:00Z",
        },
        {"kind": "alert_verdict", "verdict": "noise", "matchers": '{alertname="x"'},
        {"kind": "threshold_hint", "service": "api", "series": "p99", "value": "lots"},
        {"kind": "instrumentation_gap", "missing": "queue depth"},
    ]
    review = ReviewRead(
        id=1,
        incident_key="INC-1",
        title="t",
        status="draft",
        signal_blocks=blocks,
        content_hash="0" * 64,
        created_at=NOW,
        updated_at=NOW,
        status_changed_at=NOW,
    )
    incident = IncidentRead(id=1, key="INC-1", title="t", started_at=NOW)
    result = extract_structure(ExtractionInput(review=review, incident=incident))
    assert [p.field for p in result.problems] == [
        "signal_blocks[0].end",
        "signal_blocks[1].matchers",
        "signal_blocks[2].value",
    ]
    assert [s.payload.missing for s in result.proposals] == ["queue depth"]
