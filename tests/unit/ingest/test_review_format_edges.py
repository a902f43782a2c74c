"""Review format edges: written_at in every YAML spelling, and nothing in Signals dropped."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.factories import review_file_text

from lessonloop.errors import InputError
from lessonloop.ingest.review_format import parse_review
from lessonloop.ingest.templates import load_template

TEMPLATE = load_template("default")

BASE = review_file_text(
    started_at="'2026-03-02T10:12:00Z'",
    front="written_at: WRITTEN\n",
    actions="| Lower the threshold | detect | ana | 2026-04-01 | P2 | open | mttd down checkout |",
)
WRITTEN_LINE = 7
GAP = """- kind: instrumentation_gap
  service: checkout
  missing: queue depth
  would_have_shown: the backlog"""
LABEL = """- kind: failure_mode_label
  label: retry storm"""


def _parse(written: str = "2026-03-04T09:00:00Z", signals: str | None = None):
    text = BASE.replace("WRITTEN", written)
    if signals is not None:
        text += f"\n## Signals\n{signals}\n"
    return parse_review(text, "r.md", TEMPLATE)


def _line_of(signals: str, needle: str) -> int:
    """The file line of the first Signals line containing needle."""
    text = BASE + f"\n## Signals\n{signals}\n"
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-03-04T09:00:00Z", dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)),
        ("'2026-03-04T09:00:00Z'", dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)),
        ('"2026-03-04T11:00:00+02:00"', dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)),
        ("'2026-03-04'", dt.datetime(2026, 3, 4, tzinfo=dt.UTC)),
        ("2026-03-04", dt.datetime(2026, 3, 4, tzinfo=dt.UTC)),
        ("2026-03-04 09:00:00", dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)),
        ("'2026-03-04 09:00'", dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC)),
        ("''", None),
        ("", None),
    ],
)
def test_written_at_is_read_quoted_or_not(written: str, expected: dt.datetime | None) -> None:
    parsed = _parse(written)
    assert parsed.written_at == expected
    assert parsed.written_at is None or parsed.written_at.tzinfo is not None


@pytest.mark.parametrize("written", ["soon", "'next week'", "12", "[2026-03-04]", "'2026-13-01'"])
def test_unreadable_written_at_is_refused_where_it_is(written: str) -> None:
    with pytest.raises(InputError) as info:
        _parse(written)
    assert (info.value.file, info.value.line, info.value.field) == (
        "r.md",
        WRITTEN_LINE,
        "written_at",
    )


def test_every_signals_block_is_kept_in_order() -> None:
    signals = f"\n```yaml\n{GAP}\n```\n\n```yml\n{LABEL}\n```\n\n```\n```\n"
    blocks = _parse(signals=signals).review.signal_blocks
    assert [b["kind"] for b in blocks] == ["instrumentation_gap", "failure_mode_label"]


def test_template_prompts_around_signals_blocks_are_fine() -> None:
    signals = f"\n<!-- Optional: explicit\nsignals -->\n\n```yaml\n{LABEL}\n```\n"
    assert _parse(signals=signals).review.signal_blocks == [
        {"kind": "failure_mode_label", "label": "retry storm"}
    ]


@pytest.mark.parametrize(
    ("signals", "needle", "message"),
    [
        (f"\nAgreed in the meeting.\n\n```yaml\n{GAP}\n```\n", "Agreed", "outside"),
        (f"\n```yaml\n{GAP}\n```\nand one more thing\n", "one more", "outside"),
        (f"\n```yaml\n{GAP}\n", "```yaml", "not closed"),
        (f"\n```json\n{GAP}\n```\n", "```json", "fenced YAML"),
        (f"\n```yaml\n{GAP}\n```\n\n```yaml\n- kind: [\n  x\n```\n", "  x", "malformed"),
        ("\n```yaml\nkind: x\n```\n", "```yaml", "list of mappings"),
    ],
)
def test_signals_problems_are_located(signals: str, needle: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        _parse(signals=signals)
    assert (info.value.file, info.value.field) == ("r.md", "Signals")
    assert info.value.line == _line_of(signals, needle)
