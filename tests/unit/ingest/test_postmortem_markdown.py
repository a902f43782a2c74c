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
