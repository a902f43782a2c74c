"""A postmortem naming a stored incident merges into it: nothing stored is lost (both engines)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from lessonloop.domain.enums import ReviewStatus, TimelineKind, TimelineMarker
from lessonloop.domain.reviews import TimelineEvent
from lessonloop.services.import_timelines import review_as_create
from lessonloop.services.importing import import_files
from lessonloop.services.reviews import new_review_file
from lessonloop.storage import incidents, reviews

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
KEY = "pd-q2zpx1tufsvbor"

POSTMORTEM = """---
title: "Checkout API 5xx: bad release"
incident: pd-q2zpx1tufsvbor
date: 2024-03-05
---

## Summary

Release 7.1 threw on a missing flag.

## Timeline

2024-03-05

- 09:05 Deploy of release 7.1
- 09:40 Rollback to 7.0

## Lessons Learned

### What went well

- Rollback was one command.
"""


def _stored(ws):
    with ws.transaction() as session:
        return incidents.get(KEY, session=session), reviews.get_by_incident(KEY, session=session)


def _pagerduty_incident_with_edited_draft(ws):
    """The PagerDuty fixture imported, then a reviewer's impact text, marker and event added."""
    assert import_files(ws, "pagerduty", [FIXTURES / "pagerduty_export.json"]).ok
    incident, review = _stored(ws)
    draft = review_as_create(review)
    first = draft.timeline[0].model_copy(update={"marker": TimelineMarker.FIRST_SYMPTOM})
    human = TimelineEvent(
        at=dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC),
        kind=TimelineKind.DECISION,
        text="Decided to roll back",
    )
    edited = draft.model_copy(
        update={
            "impact": "About 8% of checkouts failed for 40 minutes.",
            "timeline": [first, *draft.timeline[1:], human],
        }
    )
    with ws.transaction() as session:
        reviews.save(edited, session=session, actor="reviewer")
    return incident


def test_postmortem_keeps_what_it_does_not_state(workspace, tmp_path):
    before = _pagerduty_incident_with_edited_draft(workspace)
    path = tmp_path / "pm.md"
    path.write_text(POSTMORTEM, encoding="utf-8")
    summary = import_files(workspace, "markdown", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["incident"] == {"updated": 1}
    assert summary.outcomes["review"] == {"updated": 1}
    incident, review = _stored(workspace)
    # not stated by the postmortem: stored values stay
    assert incident.severity == before.severity
    assert incident.started_at == before.started_at
    assert incident.detected_at == before.detected_at
    assert incident.resolved_at == before.resolved_at
    assert incident.services == before.services
    assert "start-time-estimated" not in incident.tags
    assert review.impact == "About 8% of checkouts failed for 40 minutes."
    # stated: updated, and the summary says which fields changed
    assert incident.title == "Checkout API 5xx: bad release"
    assert review.summary == "Release 7.1 threw on a missing flag."
    assert review.went_well == ["Rollback was one command."]
    note = next(w for w in summary.warnings if KEY in w)
    assert str(path) in note and "title" in note and "2 timeline events" in note
    # the timeline is merged: 4 PagerDuty events, the reviewer's event and marker, 2 new events
    sources = [e.source for e in review.timeline]
    assert sources.count("pagerduty") == 4 and sources.count("postmortem") == 2
    assert any(e.text == "Decided to roll back" for e in review.timeline)
    assert [e.marker for e in review.timeline if e.marker] == [TimelineMarker.FIRST_SYMPTOM]
    assert review.timeline == sorted(review.timeline, key=lambda e: e.at)
    again = import_files(workspace, "markdown", [path])
    assert again.outcomes["incident"] == {"unchanged": 1}
    assert again.outcomes["review"] == {"unchanged": 1}
    assert not any(KEY in w for w in again.warnings)


def test_postmortem_values_it_states_update_the_stored_ones(workspace, tmp_path):
    _pagerduty_incident_with_edited_draft(workspace)
    path = tmp_path / "pm.md"
    stated = (
        POSTMORTEM.replace(
            "date: 2024-03-05\n",
            "date: 2024-03-05\nseverity: SEV2\nend_time: 2024-03-05T10:30:00Z\n"
            "services: [payments]\n",
        )
        + "\n## Impact\n\nAll checkouts failed.\n"
    )
    path.write_text(stated, encoding="utf-8")
    summary = import_files(workspace, "markdown", [path])
    assert summary.ok, summary.errors
    incident, review = _stored(workspace)
    assert incident.severity.value == "SEV2"
    assert incident.services == ["checkout-api", "payments"]  # a linked service stays linked
    assert summary.outcomes["service"] == {"created": 1}
    assert incident.resolved_at == dt.datetime(2024, 3, 5, 10, 30, tzinfo=dt.UTC)
    assert review.impact == "All checkouts failed."
    note = next(w for w in summary.warnings if KEY in w)
    assert "severity" in note and "resolved_at" in note and "impact" in note


def test_postmortem_leaves_a_review_past_draft_alone(workspace, tmp_path):
    _pagerduty_incident_with_edited_draft(workspace)
    _, review = _stored(workspace)
    with workspace.transaction() as session:
        reviews.transition(review.id, ReviewStatus.IN_REVIEW, session=session, actor="t")
    path = tmp_path / "pm.md"
    path.write_text(POSTMORTEM, encoding="utf-8")
    summary = import_files(workspace, "markdown", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["review"] == {"kept": 1}
    _, after = _stored(workspace)
    assert after.timeline == review.timeline and after.summary == review.summary
    assert any("in review" in w and KEY in w for w in summary.warnings)


def test_postmortem_key_in_capitals_or_as_a_pagerduty_link_is_the_stored_incident(
    workspace, tmp_path
):
    assert import_files(workspace, "pagerduty", [FIXTURES / "pagerduty_export.json"]).ok
    capitals = tmp_path / "capitals.md"
    capitals.write_text(POSTMORTEM.replace(KEY, KEY.upper()), encoding="utf-8")
    link = tmp_path / "link.md"
    link.write_text(
        POSTMORTEM.replace(KEY, "https://acme.pagerduty.com/incidents/Q2ZPX1TUFSVBOR"),
        encoding="utf-8",
    )
    summary = import_files(workspace, "markdown", [capitals, link])
    assert summary.ok, summary.errors
    assert summary.outcomes["incident"] == {"updated": 1, "unchanged": 1}
    with workspace.transaction() as session:
        assert len(incidents.list_incidents(session=session)) == 2


def test_postmortem_services_and_severity_lines_are_stored(workspace, tmp_path):
    path = tmp_path / "pm.md"
    path.write_text(
        "# DB lock\n\n**Date:** 2026-10-14\n**Severity:** SEV2\n"
        "**Services affected:** checkout, db\n\n## Timeline (all times UTC)\n\n"
        "* **20:36** Migration starts\n* **21:59** Resolved\n",
        encoding="utf-8",
    )
    summary = import_files(workspace, "markdown", [path])
    assert summary.ok, summary.errors
    assert summary.outcomes["service"] == {"created": 2}
    with workspace.transaction() as session:
        (incident,) = incidents.list_incidents(session=session)
        review = reviews.get_by_incident(incident.key, session=session)
    assert incident.services == ["checkout", "db"] and incident.severity.value == "SEV2"
    assert incident.started_at == dt.datetime(2026, 10, 14, 20, 36, tzinfo=dt.UTC)
    assert len(review.timeline) == 2


def _pagerduty_export_changed(tmp_path: Path) -> Path:
    """The PagerDuty fixture with a new generated title and description and a later resolve."""
    data = json.loads((FIXTURES / "pagerduty_export.json").read_text(encoding="utf-8"))
    first = data["incidents"][0]
    first.update(
        title="[FIRING:1] CheckoutHigh5xx",
        description="Alert fired on /pay",
        resolved_at="2024-03-05T10:20:00Z",
        last_status_change_at="2024-03-05T10:20:00Z",
    )
    path = tmp_path / "pagerduty_later.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_postmortem_title_and_summary_win_over_alternate_pagerduty_imports(workspace, tmp_path):
    export = FIXTURES / "pagerduty_export.json"
    path = tmp_path / "pm.md"
    path.write_text(POSTMORTEM, encoding="utf-8")
    for source, file in (("pagerduty", export), ("markdown", path)):
        assert import_files(workspace, source, [file]).ok
    for source, file in (("pagerduty", export), ("markdown", path)) * 2:
        again = import_files(workspace, source, [file])
        assert again.ok, again.errors
        assert set(again.outcomes["incident"]) == {"unchanged"}, (source, again.outcomes)
    incident, _ = _stored(workspace)
    assert incident.title == "Checkout API 5xx: bad release"
    assert incident.summary == "Release 7.1 threw on a missing flag."
    # what only the tool knows still changes; the title and summary people wrote stay
    later = import_files(workspace, "pagerduty", [_pagerduty_export_changed(tmp_path)])
    assert later.outcomes["incident"] == {"updated": 1, "unchanged": 1}
    incident, _ = _stored(workspace)
    assert incident.resolved_at == dt.datetime(2024, 3, 5, 10, 20, tzinfo=dt.UTC)
    assert incident.title == "Checkout API 5xx: bad release"
    assert incident.summary == "Release 7.1 threw on a missing flag."


def test_pagerduty_after_a_postmortem_fills_what_the_postmortem_does_not_state(workspace, tmp_path):
    path = tmp_path / "pm.md"
    path.write_text(
        POSTMORTEM.replace("## Summary\n\nRelease 7.1 threw on a missing flag.\n", ""),
        encoding="utf-8",
    )
    assert import_files(workspace, "markdown", [path]).ok
    summary = import_files(workspace, "pagerduty", [FIXTURES / "pagerduty_export.json"])
    assert summary.ok, summary.errors
    incident, _ = _stored(workspace)
    assert incident.title == "Checkout API 5xx: bad release"  # the postmortem's
    assert incident.summary.startswith("5xx on /pay from")  # the postmortem stated none
    again = import_files(workspace, "markdown", [path])
    assert again.outcomes["incident"] == {"unchanged": 1}


def test_a_title_a_reviewer_changed_in_the_review_file_wins_over_pagerduty(workspace, tmp_path):
    export = FIXTURES / "pagerduty_export.json"
    assert import_files(workspace, "pagerduty", [export]).ok
    written = new_review_file(workspace, KEY, tmp_path / "review.md")
    text = written.read_text(encoding="utf-8")
    for old, new in (
        ("title: Checkout API 5xx rate above 5%", "title: Checkout release 7.1 5xx"),
        ("## Impact\n", "## Impact\n\nCheckouts failed.\n"),
        ("## Detection\n", "## Detection\n\nThe 5xx alert.\n"),
    ):
        text = text.replace(old, new)
    written.write_text(text, encoding="utf-8")
    assert import_files(workspace, "markdown", [written]).ok
    again = import_files(workspace, "pagerduty", [export])
    assert again.outcomes["incident"] == {"unchanged": 2}
    incident, _ = _stored(workspace)
    assert incident.title == "Checkout release 7.1 5xx"
