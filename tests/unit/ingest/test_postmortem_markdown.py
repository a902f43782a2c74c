"""Postmortem Markdown shapes teams write: keys, timelines, sections, action items."""

from __future__ import annotations

import pytest

from lessonloop.ingest.postmortem_markdown import parse_postmortem_markdown


def _parse(text: str, **options):
    return parse_postmortem_markdown(text.encode(), "pm.md", **options)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("---\nincident: PD-Q2ZPX1TUFSVBOR\n---\n# Outage\n", {}),
        ("---\nincident: https://acme.pagerduty.com/incidents/Q2ZPX1TUFSVBOR\n---\n# Outage\n", {}),
        (
            "---\npagerduty: https://acme.pagerduty.com/incidents/Q2ZPX1TUFSVBOR\n---\n# Outage\n",
            {},
        ),
        ("# Outage\n\nDate: 2024-03-05\nIncident: PD-Q2ZPX1TUFSVBOR\n\n## Summary\n\nx\n", {}),
        (
            "# Outage\n\n**Date:** 2024-03-05\n"
            "**PagerDuty:** https://acme.pagerduty.com/incidents/Q2ZPX1TUFSVBOR\n\n"
            "## Summary\n\nx\n",
            {},
        ),
        ("# Outage\n", {"incident_key": "PD-Q2ZPX1TUFSVBOR"}),
    ],
    ids=["upper-case", "url", "pagerduty-field", "incident-line", "pagerduty-line", "option"],
)
def test_stated_incident_key_is_stored_as_the_importers_store_it(text, options):
    batch = _parse(text, **options)
    assert [i.key for i in batch.incidents] == ["pd-q2zpx1tufsvbor"]
    assert [r.incident_key for r in batch.reviews] == ["pd-q2zpx1tufsvbor"]


TABLE_TIMELINE = """---
title: "Checkout 5xx after deploy"
incident: PD-QC4CA42X
date: 2026-08-13
severity: SEV1
services: [checkout]
authors: [carol]
---

# Checkout 5xx after deploy

## Summary

Release 2.32 of checkout returned 5xx for 7% of requests for two hours.

## Timeline

| Time (UTC) | Event |
|---|---|
| 2026-08-13 22:32 | Deploy of checkout 2.32 starts |
| 2026-08-13 22:40 | PagerDuty pages on-call: HighErrorRate |
| 2026-08-14 00:20 | Rollback to 2.31 completed |
| 2026-08-14 00:33 | Error rate back to baseline, resolved |

## Action items

- [ ] Add canary analysis on 5xx rate before full rollout (owner: @bob, due: 2026-09-30)
- [x] Document how to unlock the deploy pipeline (owner: @carol, due: 2026-08-20)
- [ ] Page when checkout error rate is above 2% for 5 minutes — @alice — 2026-09-01
"""

BODY_FACTS = """# Postmortem: Checkout latency – DB connection pool exhausted (PD #1200)

**Date:** 2026-08-07
**Authors:** Alice Smith, Bob Jones
**Severity:** SEV2
**Services affected:** checkout, db
**PagerDuty:** https://acme.pagerduty.com/incidents/QCFCD20X

## Summary

A config push reduced the checkout service's database connection pool from 50 to 10.

## Timeline (all times UTC)

2026-08-07

- 22:45 — Config push of checkout-config v412 (pool size 50 → 10)
- 22:54 — PagerDuty pages on-call (HighLatencyP99)
- 23:55 — Latency back to normal, incident resolved

## What went well

- Rollback of config was one command and took 2 minutes.

## What went wrong

- The latency alert fired only after 9 minutes.

## Where we got lucky

- It happened on a weekday evening, not during a sale.

## Action items

| Action | Owner | Due | Status |
|---|---|---|---|
| Add a pool-saturation alert for checkout | @alice | 2026-08-31 | Done |
| Lint prod vs staging overlays in CI | @bob | 2026-09-15 | In progress |
| Lower HighLatencyP99 threshold to 600 ms for 5m | Alice Smith | 2026-08-21 | Open |
"""


def test_table_timeline_is_read():
    (review,) = _parse(TABLE_TIMELINE).reviews
    assert [(e.at.isoformat(), e.text) for e in review.timeline] == [
        ("2026-08-13T22:32:00+00:00", "Deploy of checkout 2.32 starts"),
        ("2026-08-13T22:40:00+00:00", "PagerDuty pages on-call: HighErrorRate"),
        ("2026-08-14T00:20:00+00:00", "Rollback to 2.31 completed"),
        ("2026-08-14T00:33:00+00:00", "Error rate back to baseline, resolved"),
    ]
    assert review.extra_sections == {}


def test_timeline_heading_with_a_note_and_level_two_lessons_are_recognised():
    (review,) = _parse(BODY_FACTS).reviews
    assert len(review.timeline) == 3
    assert review.went_well == ["Rollback of config was one command and took 2 minutes."]
    assert review.went_wrong == ["The latency alert fired only after 9 minutes."]
    assert review.got_lucky == ["It happened on a weekday evening, not during a sale."]
    assert review.extra_sections == {}


def test_services_and_severity_from_front_matter_or_body_lines():
    front = _parse(TABLE_TIMELINE)
    body = _parse(BODY_FACTS)
    assert front.incidents[0].services == ["checkout"] and front.services == ["checkout"]
    assert front.incidents[0].severity.value == "SEV1"
    assert body.incidents[0].services == ["checkout", "db"] and body.services == ["checkout", "db"]
    assert body.incidents[0].severity.value == "SEV2"
    assert body.incidents[0].key == "pd-qcfcd20x"
    assert {"services", "severity"} <= body.stated["pd-qcfcd20x"]


def test_severity_that_is_not_one_is_warned_about():
    batch = _parse("---\nseverity: critical\n---\n# Outage\n")
    assert batch.incidents[0].severity.value == "SEV3"
    assert "severity" not in batch.stated[batch.incidents[0].key]
    (warning,) = batch.warnings
    assert "pm.md" in warning and "line 2" in warning and "critical" in warning


def test_checklist_action_items_give_owner_due_and_status():
    items = _parse(TABLE_TIMELINE).reviews[0].action_items
    assert [(i.title, i.owner, str(i.due), i.status.value) for i in items] == [
        ("Add canary analysis on 5xx rate before full rollout", "@bob", "2026-09-30", "open"),
        ("Document how to unlock the deploy pipeline", "@carol", "2026-08-20", "done"),
        ("Page when checkout error rate is above 2% for 5 minutes", "@alice", "2026-09-01", "open"),
    ]


def test_action_item_table_due_and_status_columns_are_read():
    items = _parse(BODY_FACTS).reviews[0].action_items
    assert [(i.owner, str(i.due), i.status.value) for i in items] == [
        ("@alice", "2026-08-31", "done"),
        ("@bob", "2026-09-15", "in progress"),
        ("Alice Smith", "2026-08-21", "open"),
    ]


def test_action_item_due_that_is_not_a_date_is_kept_and_warned_about():
    text = "# Outage\n\n## Action Items\n\n- [ ] Fix it (owner: ann, due: next sprint)\n"
    batch = _parse(text)
    (item,) = batch.reviews[0].action_items
    assert item.title == "Fix it" and item.owner == "ann" and item.due is None
    assert "due: next sprint" in batch.reviews[0].extra_sections["Action Items"]
    (warning,) = batch.warnings
    assert "pm.md" in warning and "line 5" in warning and "due" in warning


def test_a_date_line_does_not_move_the_start_before_the_first_timeline_time():
    text = (
        "# DB lock\n\nDate: 2026-10-14\n\n## Timeline\n"
        "* **20:36** Migration starts\n* **21:59** Resolved\n"
    )
    (incident,) = _parse(text).incidents
    assert incident.started_at.isoformat() == "2026-10-14T20:36:00+00:00"


def test_timeline_lines_that_are_not_entries_are_kept():
    text = (
        "# Outage\n\nDate: 2026-10-14\n\n## Timeline\n\n"
        "We do not know exactly when it began; the on-call log was lost.\n\n"
        "- 20:36 Migration starts\n"
    )
    (review,) = _parse(text).reviews
    assert len(review.timeline) == 1
    assert "the on-call log was lost" in review.extra_sections["Timeline"]
