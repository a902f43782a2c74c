"""Planted secrets and personal data in every import format: none may survive redaction."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from tests.unit.redact.redact_planted_corpus import EXTRA_TERMS, FORMATS, ROSTER
from tests.unit.redact.redact_planted_formats import PlantedDocument, all_strings, build_corpus

from lessonloop.redact import RedactionCounts, RedactionPolicy, Redactor

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
TOKEN = re.compile(r"<([a-z_0-9]+):([0-9a-f]{6})>")


def _policy(key: bytes) -> RedactionPolicy:
    return RedactionPolicy(key=key, people=ROSTER, extra_terms=EXTRA_TERMS)


@pytest.fixture(scope="module")
def corpus() -> list[PlantedDocument]:
    return build_corpus()


@pytest.fixture(scope="module")
def redacted(corpus: list[PlantedDocument]) -> list[object]:
    redactor = Redactor(_policy(KEY))
    return [redactor.redact_document(item.document).document for item in corpus]


def test_corpus_plants_at_least_200_items_in_every_format(corpus: list[PlantedDocument]) -> None:
    planted = [item for document in corpus for item in document.planted]
    assert len(planted) >= 200
    kinds_by_format = {
        source: {item.kind for d in corpus if d.source == source for item in d.planted}
        for source in FORMATS
    }
    every_kind = {item.kind for item in planted}
    assert len(every_kind) >= 17
    assert all(kinds == every_kind for kinds in kinds_by_format.values())


def test_no_planted_value_or_distinctive_part_survives(
    corpus: list[PlantedDocument], redacted: list[object]
) -> None:
    leaks = []
    for document, output in zip(corpus, redacted, strict=True):
        text = "\n".join(all_strings(output)).lower()
        for item in document.planted:
            for fragment in item.distinctive:
                if fragment.lower() in text:
                    leaks.append((document.source, item.kind, fragment))
    assert leaks == []


def test_counts_cover_every_planted_kind(corpus: list[PlantedDocument]) -> None:
    redactor = Redactor(_policy(KEY))
    counts = RedactionCounts.combine(redactor.redact_document(d.document).counts for d in corpus)
    planted = Counter(item.kind for d in corpus for item in d.planted)
    for kind, number in planted.items():
        assert counts.by_kind.get(kind, 0) >= number * (0.5 if kind == "person" else 1), kind
    rendered = repr(counts) + repr(counts.as_dict())
    assert "@" not in rendered and "-----" not in rendered


def test_same_value_gets_same_token_across_documents(
    corpus: list[PlantedDocument], redacted: list[object]
) -> None:
    """A person appearing in several formats is one token everywhere: joins still work."""
    redactor = Redactor(_policy(KEY))
    person_token = redactor.redact_text(ROSTER[0].name).text
    sources = {
        document.source
        for document, output in zip(corpus, redacted, strict=True)
        if any(person_token in text for text in all_strings(output))
    }
    assert len(sources) >= 3
    assert redactor.redact_text(f"@{ROSTER[0].handles[0]}").text == person_token


def test_changing_the_key_changes_every_token(corpus: list[PlantedDocument]) -> None:
    first = Redactor(_policy(KEY))
    second = Redactor(_policy(OTHER_KEY))
    for document in corpus[:10]:
        tokens_a = TOKEN.findall(
            "\n".join(all_strings(first.redact_document(document.document).document))
        )
        tokens_b = TOKEN.findall(
            "\n".join(all_strings(second.redact_document(document.document).document))
        )
        assert [kind for kind, _ in tokens_a] == [kind for kind, _ in tokens_b]
        assert all(a != b for (_, a), (_, b) in zip(tokens_a, tokens_b, strict=True))


def test_redacting_redacted_documents_changes_nothing(redacted: list[object]) -> None:
    redactor = Redactor(_policy(KEY))
    for output in redacted:
        again = redactor.redact_document(output)
        assert again.document == output
        assert again.counts.total == 0


def test_quick_skip_of_unremarkable_text_misses_no_planted_item(
    corpus: list[PlantedDocument],
) -> None:
    quick = Redactor(_policy(KEY))
    full = Redactor(_policy(KEY))
    full._skip_unremarkable_text = False
    for document in corpus:
        for item in document.planted:
            assert quick.redact_text(item.sentence) == full.redact_text(item.sentence)
