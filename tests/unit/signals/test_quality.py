"""Quality checks catch each planted problem; blocking findings stop a cut and write nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from lessonloop.domain import IncidentCreate, SignalCreate, SignalProvenance
from lessonloop.domain.signals import (
    AlertVerdictPayload,
    IncidentWindow,
    InstrumentationGap,
    parse_matchers,
)
from lessonloop.errors import Conflict
from lessonloop.services import signals as service
from lessonloop.signals.quality import cohens_kappa
from lessonloop.storage import incidents
from lessonloop.storage import signals as store

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
KEY = "INC-2026-0042"


def _accepted(ws, payload, *, author="alice", field="manual", valid_until=None) -> int:
    data = SignalCreate(
        payload=payload,
        author=author,
        valid_until=valid_until,
        provenance=SignalProvenance(incident_key=KEY, field=field),
    )
    with ws.transaction() as session:
        made, _ = store.create_proposal(data, session=session, actor="t")
        store.accept(made.id, session=session, actor="t")
    return made.id


def _plant(ws) -> dict[str, int]:
    ids = {}
    ids["window"] = _accepted(
        ws, IncidentWindow(service="checkout", series="latency_p99", start=T0, end=T0 + H)
    )
    ids["overlap"] = _accepted(
        ws,
        IncidentWindow(service="checkout", series="latency_p99", start=T0 + H / 2, end=T0 + 2 * H),
    )
    ids["noise"] = _accepted(
        ws,
        AlertVerdictPayload(matchers=parse_matchers('{service="checkout"}'), verdict="noise"),
        author="bob",
    )
    ids["second_rater"] = _accepted(
        ws,
        AlertVerdictPayload(matchers=parse_matchers('{service="checkout"}'), verdict="actionable"),
        author="carol",
    )
    ids["no_series"] = _accepted(ws, IncidentWindow(service="payments", start=T0, end=T0 + H))
    ids["expired"] = _accepted(ws, InstrumentationGap(missing="queue depth"), valid_until=T0)
    with ws.transaction() as session:
        incidents.create(
            IncidentCreate(key="INC-2", title="uncovered", severity="SEV1", started_at=T0),
            session=session,
            actor="t",
        )
    return ids


def test_each_planted_problem_is_found(demo_ws) -> None:
    (demo_ws.settings.home / "signals.yaml").write_text("quality: {min_coverage: 0.5}\n")
    ids = _plant(demo_ws)
    report = service.check(demo_ws)
    by_check = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    assert set(by_check) == {
        "conflicting",
        "overlapping",
        "expired",
        "no_series",
        "disagreement",
        "coverage",
    }
    assert {ids["window"], ids["noise"]} <= set(by_check["conflicting"][0].signal_ids)
    assert by_check["conflicting"][0].severity == "block"
    assert by_check["overlapping"][0].signal_ids == (ids["window"], ids["overlap"])
    assert "10:00–2026-03-02 12:00" in by_check["overlapping"][0].message
    assert by_check["expired"][0].signal_ids == (ids["expired"],)
    assert by_check["no_series"][0].signal_ids == (ids["no_series"],)
    assert "kappa" in by_check["disagreement"][0].message
    assert report.coverage == {"SEV1": 0.0, "SEV2": 1.0}
    assert "SEV1" in by_check["coverage"][0].message


def test_blocking_findings_stop_the_cut_and_write_nothing(demo_ws) -> None:
    _plant(demo_ws)
    with pytest.raises(Conflict, match="conflicting"):
        service.cut(demo_ws)
    assert service.latest_set_version(demo_ws) is None


def test_policy_can_downgrade_a_check_and_notes_travel_with_the_set(demo_ws) -> None:
    (demo_ws.settings.home / "signals.yaml").write_text(
        "quality:\n  severities: {conflicting: warn}\n"
    )
    ids = _plant(demo_ws)
    made = service.cut(demo_ws).signal_set
    assert ids["expired"] not in made.members  # expired signals stay out of the set
    assert ids["window"] in made.members
    assert any("merged" in note for note in made.notes)


def test_cohens_kappa_matches_a_worked_example() -> None:
    pairs = (
        [("noise", "noise")] * 20
        + [("noise", "late")] * 5
        + [("late", "noise")] * 10
        + [("late", "late")] * 15
    )
    # p_o = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.4
    assert cohens_kappa(pairs) == pytest.approx(0.4)
    assert cohens_kappa([]) is None
    assert cohens_kappa([("a", "a")]) == 1.0


def test_an_expired_window_is_not_checked_for_overlap_or_series(demo_ws) -> None:
    gone = _accepted(
        demo_ws,
        IncidentWindow(service="checkout", series="latency_p99", start=T0, end=T0 + H),
        valid_until=T0,
    )
    _accepted(
        demo_ws,
        IncidentWindow(service="checkout", series="latency_p99", start=T0 + H / 2, end=T0 + 2 * H),
    )
    _accepted(demo_ws, IncidentWindow(service="payments", start=T0, end=T0 + H), valid_until=T0)
    report = service.check(demo_ws)
    by_check: dict[str, list] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    assert gone in {i for f in by_check["expired"] for i in f.signal_ids}
    assert "overlapping" not in by_check and "no_series" not in by_check
    assert report.notes == []
