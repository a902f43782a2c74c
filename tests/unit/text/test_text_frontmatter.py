"""Front-matter reader: the subset postmortems use, and precise errors for broken files."""

from __future__ import annotations

import pytest

from lessonloop.errors import InputError
from lessonloop.text.frontmatter import parse_front_matter, parse_postmortem, with_document_text

GOOD = """---
uuid: 1
title: "Clock skew: leap second"
categories:
- time
- 'cloud'
keywords: [ntp, "leap, second"]
company: Example
summary: A leap second made
  clocks jump.
notes: |
  line one
  line two
---

First paragraph of the body.

Second paragraph.
"""


def test_parses_scalars_lists_quotes_and_blocks() -> None:
    mapping, body, body_line = parse_front_matter(GOOD, "good.md")
    assert mapping["title"] == "Clock skew: leap second"
    assert mapping["categories"] == ["time", "cloud"]
    assert mapping["keywords"] == ["ntp", "leap, second"]
    assert mapping["summary"] == "A leap second made clocks jump."
    assert mapping["notes"] == "line one\nline two"
    assert body.strip().startswith("First paragraph")
    assert body_line == 15


def test_document_text_is_title_and_summary() -> None:
    document = parse_postmortem(GOOD, "good.md")
    assert document.text == "Clock skew: leap second\nA leap second made clocks jump."
    assert document.categories == ("time", "cloud")
    assert document.is_labeled


def test_all_fields_text_adds_keywords_and_body_and_bad_mode_is_rejected() -> None:
    document = parse_postmortem(GOOD, "good.md")
    assert with_document_text(document, "title+summary") is document
    full = with_document_text(document, "all-fields")
    assert full.text.startswith(document.text)
    assert "ntp leap, second" in full.text
    assert full.text.endswith("Second paragraph.")
    assert full.categories == document.categories
    with pytest.raises(InputError):
        with_document_text(document, "body-only")


def test_missing_summary_uses_first_body_paragraph_and_empty_categories_are_unlabeled() -> None:
    text = "---\ntitle: Outage\ncategories: []\n---\n\n# Heading\n\nThe disk  filled up.\n\nMore.\n"
    document = parse_postmortem(text, "x.md")
    assert document.text == "Outage\nThe disk filled up."
    assert not document.is_labeled


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("no front matter\n", 1),
        ("---\ntitle: x\n", 1),
        ("---\ntitle: x\n- stray\n---\n", 3),
        ("---\ntitle: x\n  nested: {a: 1}\n---\n", 3),
        ("---\ntitle: x\nbad line here\n---\n", 3),
        ("---\ntitle: 'unterminated\n---\n", 2),
        ("---\ntitle: x\ntitle: y\n---\n", 3),
        ("---\nref: &anchor value\n---\n", 2),
        ("---\ntitle: x\ncategories:\n  - name: security\n---\n", 4),
    ],
)
def test_broken_front_matter_names_file_and_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as error:
        parse_postmortem(text, "broken.md")
    assert error.value.file == "broken.md"
    assert error.value.line == line
    assert "broken.md:" in str(error.value)


def test_a_quoted_list_item_may_contain_a_colon() -> None:
    text = '---\ntitle: x\nkeywords:\n  - "db: primary"\n---\n\nBody.\n'
    document = parse_postmortem(text, "x.md")
    assert document.title == "x"


def test_an_indented_fence_inside_a_block_value_does_not_close_the_front_matter() -> None:
    text = "---\ntitle: t\nsummary: |\n  before\n  ---\n  after\ncategories: [cloud]\n---\nbody"
    document = parse_postmortem(text, "x.md")
    assert document.summary == "before\n---\nafter"
    assert document.categories == ("cloud",)
    assert document.body == "body"


@pytest.mark.parametrize("value", ["null", "~", "NULL", "null  # not labelled yet"])
def test_null_categories_are_no_categories(value: str) -> None:
    document = parse_postmortem(f"---\ntitle: t\ncategories: {value}\n---\n", "x.md")
    assert document.categories == ()
    assert not document.is_labeled


def test_quoted_null_is_a_string() -> None:
    mapping, _, _ = parse_front_matter("---\nowner: 'null'\nother: ~\n---\n", "x.md")
    assert mapping == {"owner": "null", "other": None}


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        ("categories: [null]", 3),
        ("categories: [cloud, ~]", 3),
        ("categories:\n- cloud\n- ~", 5),
        ("categories:\n- NULL  # not labelled yet", 4),
    ],
)
def test_a_null_list_item_is_refused_naming_file_line_and_field(lines: str, line: int) -> None:
    with pytest.raises(InputError, match="null") as error:
        parse_postmortem(f"---\ntitle: t\n{lines}\n---\n", "x.md")
    assert (error.value.file, error.value.line, error.value.field) == ("x.md", line, "categories")


def test_a_quoted_null_list_item_is_a_string() -> None:
    document = parse_postmortem("---\ncategories: ['null']\nkeywords:\n- \"~\"\n---\n", "x.md")
    assert (document.categories, document.keywords) == (("null",), ("~",))


def test_categories_written_as_one_value_with_commas_are_refused() -> None:
    text = "---\ntitle: t\n\ncategories: cloud, config-change\n---\n"
    with pytest.raises(InputError, match=r"\[cloud, config-change\]") as error:
        parse_postmortem(text, "x.md")
    assert (error.value.file, error.value.line, error.value.field) == ("x.md", 4, "categories")


def test_categories_are_lower_case_and_unique() -> None:
    document = parse_postmortem("---\ncategories: [Cloud, cloud, TIME]\n---\n", "x.md")
    assert document.categories == ("cloud", "time")
