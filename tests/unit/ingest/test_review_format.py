"""The review Markdown format: round trips, and one located error for each kind of bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories import review_file_text

from lessonloop.domain import (
    ActionItemCreate,
    AlertNote,
    DecisionPoint,
    InsightCreate,
    ReviewCreate,
    TimelineEvent,
)
from lessonloop.domain.enums import (
    ActionStatus,
    ActionType,
    AlertVerdict,
    InsightCategory,
    InsightKind,
    Priority,
    TimelineKind,
    TimelineMarker,
)
from lessonloop.errors import InputError
from lessonloop.ingest.review_format import parse_review, render_review
from lessonloop.ingest.templates import load_template

TEMPLATE = load_template("default")
T0 = dt.datetime(2026, 3, 2, 10, 12, tzinfo=dt.UTC)

words = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), max_codepoint=0x24F),
    min_size=1,
    max_size=8,
)
sentence = st.lists(words, min_size=1, max_size=8).map(" ".join)
minutes = st.integers(min_value=0, max_value=60 * 24 * 30)


@st.composite
def reviews(draw: st.DrawFn) -> ReviewCreate:
    timeline = [
        TimelineEvent(
            at=T0 + dt.timedelta(minutes=draw(minutes)),
            kind=draw(st.sampled_from(list(TimelineKind))),
            marker=draw(st.none() | st.sampled_from(list(TimelineMarker))),
            actor=draw(st.none() | words),
            text=draw(sentence),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    insights = [
        InsightCreate(
            kind=draw(st.sampled_from(list(InsightKind))),
            text=draw(sentence),
            category=draw(st.sampled_from(list(InsightCategory))),
            confidence=draw(st.sampled_from([0.1, 0.5, 0.85, 1.0])),
            services=draw(st.lists(st.sampled_from(["api", "db"]), max_size=2, unique=True)),
        )
        for _ in range(draw(st.integers(1, 4)))
    ]
    human = [
        InsightCreate(
            kind=InsightKind.OBSERVATION,
            text=draw(sentence),
            human_factor=True,
            category=InsightCategory.COMMUNICATION,
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    actions = [
        ActionItemCreate(
            title=draw(sentence),
            type=draw(st.sampled_from(list(ActionType))),
            owner=draw(words),
            due=dt.date(2026, 4, 1) + dt.timedelta(days=draw(st.integers(0, 300))),
            priority=draw(st.sampled_from(list(Priority))),
            status=draw(st.sampled_from(list(ActionStatus))),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return ReviewCreate(
        incident_key="INC-7",
        title=draw(sentence),
        summary=draw(sentence),
        impact=draw(sentence),
        detection=draw(sentence),
        timeline=timeline,
        decision_points=[
            DecisionPoint(at=T0, decision=draw(sentence), alternatives=draw(sentence))
        ],
        alert_notes=[
            AlertNote(
                alert='{alertname="DiskFull", host=~"batch-.*"}',
                verdict=draw(st.sampled_from(list(AlertVerdict))),
                reason=draw(sentence),
            )
        ],
        contributing_factors=[draw(sentence)],
        went_well=draw(st.lists(sentence, max_size=2)),
        insights=human + insights,
        action_items=actions,
        signal_blocks=draw(
            st.sampled_from([[], [{"kind": "instrumentation_gap", "missing": "queue depth"}]])
        ),
        extra_sections=draw(st.sampled_from([{}, {"Appendix": "raw notes"}])),
    )


def _ordered(review: ReviewCreate) -> ReviewCreate:
    """The file groups insights by section: human factors, observations, recommendations."""
    order = {
        (True, InsightKind.OBSERVATION): 0,
        (False, InsightKind.OBSERVATION): 1,
        (False, InsightKind.RECOMMENDATION): 2,
        (True, InsightKind.RECOMMENDATION): 0,
    }
    ordered = sorted(review.insights, key=lambda i: order[(i.human_factor, i.kind)])
    return review.model_copy(update={"insights": ordered})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reviews())
def test_markdown_round_trip_is_lossless(review: ReviewCreate) -> None:
    review = _ordered(review)
    text = render_review(review, TEMPLATE)
    parsed = parse_review(text, "r.md", TEMPLATE)
    assert parsed.review.model_dump(exclude={"source_file"}) == review.model_dump(
        exclude={"source_file"}
    )
    assert render_review(parsed.review, TEMPLATE) == text


GOOD = review_file_text(
    services=None,
    observation="- [technical] The 800 ms threshold paged 20 minutes late. "
    "{confidence: 0.8, source: interview}",
    actions="| Lower the threshold | detect | ana | 2026-04-01 | P2 | open | mttd down checkout |",
)


def test_good_file_parses_with_provenance_and_effect() -> None:
    parsed = parse_review(GOOD, "good.md", TEMPLATE)
    insight = parsed.review.insights[0]
    assert insight.confidence == 0.8 and insight.provenance.source.value == "interview"
    assert insight.text == "The 800 ms threshold paged 20 minutes late."
    effect = parsed.review.action_items[0].expected_effect
    assert effect is not None and (effect.metric, effect.direction, effect.service) == (
        "mttd",
        "down",
        "checkout",
    )
    assert parsed.incident["started_at"] == T0.replace(minute=12)


@pytest.mark.parametrize(
    ("mutate", "line", "field", "message"),
    [
        (lambda s: s.replace("title: Checkout slow", "title: [unclosed"), 5, None, "YAML"),
        (lambda s: s.replace("## Impact\nSome users.\n", ""), None, "Impact", "missing"),
        (lambda s: s.replace("| ana |", "|  |"), 31, "Owner", "owner"),
        (lambda s: s.replace("2026-03-02 10:12 |", "yesterday |"), 20, "At (UTC)", "time"),
        (lambda s: s.replace("| key moment |", "| panic |"), 20, "Timeline.kind", "Input"),
        (
            lambda s: s.replace("confidence: 0.8", "confidence: 3"),
            26,
            "Observations.confidence",
            "less than or equal",
        ),
        (lambda s: s.replace("lessonloop: review/1\n", ""), 2, "lessonloop", "lessonloop"),
        (
            lambda s: s.replace("| open | mttd down checkout |", "| open |"),
            31,
            "Action items",
            "cells",
        ),
    ],
)
def test_bad_input_names_line_and_field(mutate, line, field, message) -> None:
    with pytest.raises(InputError) as info:
        parse_review(mutate(GOOD), "bad.md", TEMPLATE)
    err = info.value
    assert err.file == "bad.md"
    assert message.lower() in str(err).lower()
    if line is not None:
        assert err.line == line
    if field is not None:
        assert err.field == field


def test_every_blank_or_missing_required_section_is_named_at_once() -> None:
    blank = GOOD.replace("## Impact\nSome users.\n", "## Impact\n").replace(
        "## Detection\nPaged late.\n", ""
    )
    blank = blank.replace("## Summary\nCheckout was slow.\n", "## Summary\n")
    with pytest.raises(InputError) as info:
        parse_review(blank, "bad.md", TEMPLATE)
    message = str(info.value)
    assert "missing required section(s): Detection" in message
    assert "'Summary' (line" in message and "'Impact' (line" in message
    assert info.value.field == "Detection"


def test_non_utf8_and_huge_files_are_rejected_with_the_file_named() -> None:
    with pytest.raises(InputError, match="not UTF-8") as info:
        parse_review(GOOD.encode() + b"\xff\xfe", "latin.md", TEMPLATE)
    assert info.value.file == "latin.md" and info.value.line == 32
    with pytest.raises(InputError, match="limit is 5 MiB"):
        parse_review(b"x" * (50 * 1024 * 1024), "huge.md", TEMPLATE)


def test_an_empty_review_shows_each_tables_columns_and_which_prose_is_required() -> None:
    """What `review new` writes: a reviewer sees the columns to fill, and the empty file
    still parses (tables without rows)."""
    empty = ReviewCreate(incident_key="INC-1", title="Checkout slow")
    text = render_review(empty, TEMPLATE)
    sections = {
        block.split("\n", 1)[0]: block.split("\n", 1)[1] for block in text.split("\n## ")[1:]
    }
    assert "| At (UTC) | Kind | Marker | Actor | Event |" in sections["Timeline"]
    assert "| Alert | Verdict | Reason |" in sections["Alerts"]
    assert (
        "| Title | Type | Owner | Due | Priority | Status | Expected effect |"
        in sections["Action items"]
    )
    assert "<!-- Required. Who was affected" in sections["Impact"]
    assert "Required." not in sections["Timeline"]  # only blank prose is refused on import
    parsed = parse_review(text.replace("<!-- Required.", "Filled. <!--"), "r.md", TEMPLATE)
    assert parsed.review.timeline == [] and parsed.review.action_items == []


def test_a_table_pasted_under_the_templates_header_keeps_its_rows() -> None:
    """`review new` writes each table's header; a reviewer pasting a whole table (header,
    separator, rows) under it gets the rows, not an error about the second header."""
    empty = ReviewCreate(incident_key="INC-1", title="Checkout slow")
    text = render_review(empty, TEMPLATE).replace("<!-- Required.", "Filled. <!--")
    pasted = (
        "| At (UTC) | Kind | Marker | Actor | Event |\n|---|---|---|---|---|\n"
        "| 2026-11-20 10:00 | key moment | first symptom | | p99 rose |\n"
    )
    header = "| At (UTC) | Kind | Marker | Actor | Event |\n|---|---|---|---|---|\n"
    assert header in text
    text = text.replace(header, header + pasted, 1)
    (event,) = parse_review(text, "r.md", TEMPLATE).review.timeline
    assert event.text == "p99 rose"
