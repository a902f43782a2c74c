"""Review import stores no raw sensitive value: every free-text field is redacted first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from lessonloop.domain import ServiceCreate
from lessonloop.domain.signals import parse_matchers, payload_adapter
from lessonloop.redact import TOKEN_PATTERN
from lessonloop.services import importing, knowledge
from lessonloop.services import reviews as review_service
from lessonloop.services.import_sources import ImportOptions
from lessonloop.services.portability import export_workspace
from lessonloop.storage import incidents, services

PLACES = ("title", "tags", "reason", "owner", "heading", "signal", "matcher", "insight")


def _values(place: int) -> dict[str, str]:
    """An email, an IPv4, a password and an AWS key id, distinct for each place."""
    letter = "ABCDEFGHIJ"[place]
    return {
        "email": f"zq{place}leaker@corp{place}.io",
        "ipv4": f"172.{41 + place}.{213 + place}.{157 + place}",
        "password": f"Pw{place}Sekret{place}xyz",
        "aws": f"AKIAQ{letter}LPMN5HHHFPZAM{letter}",
    }


def _line(place: int) -> str:
    found = _values(place)
    return (
        f"ask {found['email']} on {found['ipv4']} password={found['password']} key {found['aws']}"
    )


def _review_text() -> str:
    at = {name: _line(number) for number, name in enumerate(PLACES)}
    return f"""---
lessonloop: review/1
incident: INC-11
title: "Outage, {at["title"]}"
severity: SEV3
services: [db]
started_at: '2026-03-02T04:42:00Z'
authors: [dave]
participants: [erin]
tags: ["{at["tags"]}", plain-tag]
written_at: 2026-03-03T00:00:00Z
---

## Summary

Summary mentions dave.

## Impact

Writes failed.

## Detection

Paged.

## Timeline

| At (UTC) | Kind | Marker | Actor | Event |
|---|---|---|---|---|
| 2026-03-02 04:42 | detection | first symptom | dave | disk filled |
| 2026-03-02 05:00 | repair | resolved | erin | fixed |

## Contributing factors

- A full disk.

## Alerts

| Alert | Verdict | Reason |
|---|---|---|
| DiskFull | noise | {at["reason"]} |
| {{alertname="DiskFull", instance="{_values(6)["ipv4"]}:9100"}} | late | paged late |

## Observations

- [technical] The disk filled. {{confidence: 0.5, source: ticket, tags: ["{at["insight"]}"]}}

## Action items

| Title | Type | Owner | Due | Priority | Status | Expected effect |
|---|---|---|---|---|---|---|
| Fix disk | prevent | {at["owner"]} | 2099-01-01 | P3 | open | |
| Grow disk | prevent | erin | 2099-01-01 | P3 | open | |
| Watch disk | detect | ana | 2099-01-01 | P3 | open | |

## Notes for {at["heading"]}

Nothing else.

## Signals

```yaml
- kind: instrumentation_gap
  service: db
  missing: "disk metric, {at["signal"]}"
  would_have_shown: "{at["signal"]}"
- kind: alert_verdict
  matchers: '{{alertname="DiskFull", instance="{_values(6)["ipv4"]}"}}'
  verdict: noise
  reason: "{at["signal"]}"
```
"""


def _raw_values() -> list[str]:
    return [value for place in range(len(PLACES)) for value in _values(place).values()]


def _every_stored_text(ws, tmp_path: Path) -> str:
    """Every row of every table (search index included) and the workspace dump, as text."""
    dump = tmp_path / "dump.jsonl"
    export_workspace(ws, dump)
    parts = [dump.read_text(encoding="utf-8")]
    with ws.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            parts += [repr(tuple(row)) for row in rows]
    return "\n".join(parts)


def _import_markdown(ws, path: Path) -> None:
    summary = importing.import_files(
        ws, "markdown", [path], options=ImportOptions(create_incident=True)
    )
    assert summary.ok and summary.outcomes["review"] == {"created": 1}


def _import_review(ws, path: Path) -> None:
    assert review_service.import_review(ws, path, create_incident=True)[1] == "created"


@pytest.fixture(params=["review import", "import markdown"])
def imported(request, workspace, tmp_path):
    """The leaky review imported by `lessonloop review import` or `lessonloop import markdown`."""
    with workspace.transaction() as session:
        services.create(ServiceCreate(name="db"), session=session, actor="t")
    path = tmp_path / "leak.md"
    path.write_text(_review_text(), encoding="utf-8")
    importer = _import_review if request.param == "review import" else _import_markdown
    importer(workspace, path)
    return workspace, review_service.get_review(workspace, "INC-11")


def test_no_raw_value_reaches_any_table(imported, tmp_path) -> None:
    ws, _ = imported
    stored = _every_stored_text(ws, tmp_path)
    assert "<email:" in stored and "<aws_key:" in stored
    leaked = [value for value in _raw_values() if value in stored]
    assert leaked == []


def test_search_and_facets_find_no_raw_value(imported) -> None:
    ws, _ = imported
    found_by_token = 0
    for value in _raw_values():
        results = knowledge.search_knowledge(ws, value, limit=50)
        # the query is redacted as the import was: a raw value can find the documents that
        # hold its token, but no result ever contains the value itself
        shown = results.model_dump_json(include={"hits", "facets"})
        assert value not in shown
        found_by_token += results.total > 0 and results.query.startswith("<")
    assert found_by_token > 0
    everything = knowledge.search_knowledge(ws, "", limit=50).model_dump_json()
    assert not [value for value in _raw_values() if value in everything]


def test_structured_values_stay_usable(imported) -> None:
    ws, review = imported
    with ws.transaction() as session:
        incident = incidents.get("INC-11", session=session)
    assert incident.title.startswith("Outage, ask <email:") and incident.services == ["db"]
    assert "plain-tag" in incident.tags
    assert incident.started_at == dt.datetime(2026, 3, 2, 4, 42, tzinfo=dt.UTC)
    # matchers keep their labels and operators; only the values are tokens
    first, second = (note.alert for note in review.alert_notes)
    assert first == "DiskFull"
    assert [(m.label, m.op) for m in parse_matchers(second)] == [
        ("alertname", "="),
        ("instance", "="),
    ]
    assert parse_matchers(second)[1].value.startswith("<ipv4:")
    gap, verdict = review.signal_blocks
    assert payload_adapter.validate_python(gap).service == "db"
    assert gap["missing"].startswith("disk metric, ask <email:")
    checked = payload_adapter.validate_python(
        {**verdict, "matchers": [m.model_dump() for m in parse_matchers(verdict["matchers"])]}
    )
    assert checked.kind == "alert_verdict" and checked.verdict == "noise"
    # owners follow the roster policy: a participant becomes a person token, like everywhere
    # else; a name not on the roster stays; an email in the owner cell is a token
    owners = [item.owner for item in review.action_items]
    assert owners[0] is not None and owners[0].startswith("ask <email:")
    assert TOKEN_PATTERN.fullmatch(owners[1] or "") and owners[1] == review.participants[0]
    assert owners[2] == "ana"
    (heading,) = review.extra_sections
    assert heading.startswith("Notes for ask <email:")


def test_the_front_matter_title_is_counted_once(tmp_path) -> None:
    from tests.factories import review_file_text

    from lessonloop.ingest.review_format import parse_review
    from lessonloop.ingest.templates import load_template
    from lessonloop.services.import_redaction import review_redactor
    from lessonloop.settings import Settings

    text = review_file_text().replace(
        "title: Checkout slow", "title: Checkout slow, ask zq@corp.io"
    )
    parsed = parse_review(text, "r.md", load_template("default"))
    redactor = review_redactor(Settings(home=tmp_path), parsed)
    clean = redactor.review(parsed)
    assert clean.incident["title"] == clean.review.title and "zq@corp.io" not in clean.review.title
    assert redactor.counts.as_dict() == {"email": 1}


def test_an_escaped_address_in_a_regex_matcher_is_redacted_and_still_matches(tmp_path) -> None:
    import re

    from lessonloop.domain.signals import parse_matchers
    from lessonloop.services.import_redaction import ImportRedactor
    from lessonloop.settings import Settings

    redactor = ImportRedactor(Settings(home=tmp_path), {})
    stored_label = redactor.text("10.0.0.5:9100")  # as an alert import stores the label
    cleaned = redactor.matchers(r'{instance=~"10\.0\.0\.5:.*", host=~"batch-.*"}')
    matcher = cleaned.split("instance")[1].split(",")[0]
    assert "<ipv4:" in matcher  # the token's hex digits may contain "10"; the address may not
    assert not re.search(r"10\\?\.0\\?\.0\\?\.5", matcher)
    instance, host = parse_matchers(cleaned)
    assert re.fullmatch(instance.value, stored_label) and host.value == "batch-.*"


def test_precedents_query_is_redacted_once_into_the_tokens_an_import_stores(
    workspace, tmp_path, monkeypatch
) -> None:
    from lessonloop.knowledge import precedents
    from lessonloop.services.import_redaction import ImportRedactor
    from lessonloop.services.triage import find_precedents

    path = tmp_path / "pm.md"
    path.write_text(
        "# Checkout rollback\n\n**Date:** 2026-03-02\n**Authors:** Dana Whitfield\n\n"
        "## Summary\n\nDana Whitfield (dana.whitfield@example.org) rolled back checkout.\n",
        encoding="utf-8",
    )
    assert importing.import_files(workspace, "markdown", [path]).ok
    with workspace.transaction() as session:
        (incident,) = incidents.list_incidents(session=session)
    stored = incident.summary
    person, email = TOKEN_PATTERN.findall(stored)
    assert person.startswith("<person:") and email.startswith("<email:")
    # what a reader copies from the stored text, with the raw address typed in
    query = stored.replace(email, "dana.whitfield@example.org")
    passes: list[str] = []
    searched: list[str | None] = []
    redact_text, rank = ImportRedactor.text, precedents.find_precedents

    def counted(self, value: str) -> str:
        passes.append(value)
        return redact_text(self, value)

    def recorded(session, **kwargs):
        searched.append(kwargs.get("text"))
        return rank(session, **kwargs)

    monkeypatch.setattr(ImportRedactor, "text", counted)
    monkeypatch.setattr(precedents, "find_precedents", recorded)
    find_precedents(workspace, text=query)
    assert passes == [query]  # one redaction pass: a second could alter the first's tokens
    assert searched == [stored]  # the tokens the import stored, person and email alike
