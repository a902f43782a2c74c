"""People are tokenised alike by every importer: a Markdown postmortem's authors and
action item owners get the same person tokens as a PagerDuty import of the same people."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from tests.factories import review_file_text, seed_checkout_incident

from lessonloop.redact import TOKEN_PATTERN
from lessonloop.services import actions as action_service
from lessonloop.services import reviews as review_service
from lessonloop.services.importing import ImportOptions, import_files
from lessonloop.storage import reviews

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"

POSTMORTEM = """---
title: Checkout outage
date: 2026-08-07
---

Authors: Dana Whitfield, Bob Jones

## Summary

Dana rolled the config back.

## Action Items

| Action Item | Type | Owner | Bug |
|---|---|---|---|
| Lint overlays | prevent | @dana | JIRA-1 |
| Page on pool size | detect | Dana Whitfield | JIRA-2 |
"""


def _stored_text(ws) -> str:
    """Every row of every table, as text."""
    with ws.engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in inspect(connection).get_table_names()
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).all()
        )


def _dana_token(ws) -> str:
    """The person token a PagerDuty import stores for its responder Dana Whitfield."""
    assert import_files(ws, "pagerduty", [FIXTURES / "pagerduty_export.json"]).ok
    with ws.transaction() as session:
        review = reviews.get_by_incident("pd-q2zpx1tufsvbor", session=session)
    assert review is not None
    actors = {event.actor for event in review.timeline if event.actor}
    tokens = [actor for actor in actors if TOKEN_PATTERN.fullmatch(actor)]
    assert len(tokens) == 1 and tokens[0].startswith("<person:")
    return tokens[0]


def test_postmortem_authors_and_owners_are_tokenised_as_pagerduty_people(workspace, tmp_path):
    dana = _dana_token(workspace)
    path = tmp_path / "outage.md"
    path.write_text(POSTMORTEM, encoding="utf-8")
    summary = import_files(workspace, "markdown", [path])
    assert summary.ok, summary.errors
    stored = _stored_text(workspace)
    for raw in ("Dana Whitfield", "Bob Jones", "@dana", "Dana rolled"):
        assert raw not in stored
    with workspace.transaction() as session:
        review = reviews.get_by_incident("pm-checkout-outage-2026-08-07", session=session)
    assert review is not None
    assert review.authors[0] == dana and review.authors[1].startswith("<person:")
    assert [item.owner for item in review.action_items] == [dana, dana]
    assert review.summary == f"{dana} rolled the config back."
    found = action_service.list_action_items(workspace, owner="Dana Whitfield")
    assert sorted(item.title for item in found) == ["Lint overlays", "Page on pool size"]


def test_a_review_file_owner_written_as_an_author_mention_is_that_author(workspace, tmp_path):
    dana = _dana_token(workspace)
    seed_checkout_incident(workspace)
    row = "| Lower the threshold | detect | @dana | 2099-04-01 | P2 | open | |"
    path = tmp_path / "review.md"
    path.write_text(
        review_file_text(front="authors: [Dana Whitfield]\n", actions=row), encoding="utf-8"
    )
    assert import_files(workspace, "markdown", [path], options=ImportOptions()).ok
    review = review_service.get_review(workspace, "INC-7")
    assert review.authors == [dana] and review.action_items[0].owner == dana
    assert "@dana" not in _stored_text(workspace)
