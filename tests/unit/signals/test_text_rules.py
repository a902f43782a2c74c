"""The shipped text rules on single sentences, and user pattern files that are wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessonloop.domain import SignalKind
from lessonloop.errors import InputError
from lessonloop.signals.extract_text import load_rules, parse_threshold_sentence


def _first(text: str, kind: SignalKind):
    for rule in load_rules():
        match = rule.pattern.search(text)
        if rule.kind == kind and match:
            return rule.name, match
    return None


@pytest.mark.parametrize(
    ("text", "kind", "groups"),
    [
        (
            "The disk alert on batch hosts is noise during compaction.",
            SignalKind.ALERT_VERDICT,
            {"alert": "disk", "scope": "batch", "condition": "compaction"},
        ),
        (
            "Disk alerts on batch hosts during nightly compaction are noise.",
            SignalKind.ALERT_VERDICT,
            {"alert": "Disk", "scope": "batch"},
        ),
        (
            "HighErrorRate on checkout and LatencyP99 on payments fired for the same cause.",
            SignalKind.CORRELATION_RULE,
            {
                "a": "HighErrorRate",
                "a_service": "checkout",
                "b": "LatencyP99",
                "b_service": "payments",
            },
        ),
        (
            "We had no metric for queue depth.",
            SignalKind.INSTRUMENTATION_GAP,
            {"missing": "queue depth"},
        ),
        (
            "A lack of monitoring on the MongoDB instances caused the load to go unnoticed.",
            SignalKind.INSTRUMENTATION_GAP,
            {"missing": "the MongoDB instances"},
        ),
    ],
)
def test_shipped_rules_read_the_statements(text, kind, groups) -> None:
    found = _first(text, kind)
    assert found is not None
    _, match = found
    assert {k: match.group(k) for k in groups} == groups


def test_threshold_sentence_values() -> None:
    values, span = parse_threshold_sentence("paged at 800 ms; should fire at 400 ms for 5 minutes")
    assert values == {"value": 400.0, "direction": "above", "for_minutes": 5.0, "replaces": 800.0}
    assert span == (0, 52)
    below, _ = parse_threshold_sentence("Page when free memory is below 10% for 2 hours")
    assert (below["direction"], below["value"], below["for_minutes"]) == ("below", 10.0, 120.0)
    assert parse_threshold_sentence("Improve the dashboards") is None


def test_unrelated_sentences_propose_nothing() -> None:
    text = "The team restored service after rolling back the deploy."
    assert all(rule.pattern.search(text) is None for rule in load_rules())


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (
            "rules:\n  - name: x\n    kind: alert_verdict\n    pattern: '(unclosed'\n",
            "rules[0].pattern",
        ),
        ("rules:\n  - name: x\n    kind: bogus\n    pattern: 'a'\n", "rules[0].kind"),
        (
            "rules:\n  - name: x\n    kind: instrumentation_gap\n    pattern: 'a'\n"
            "    confidence: 2\n",
            "rules[0].confidence",
        ),
        ("rules:\n  - kind: instrumentation_gap\n", "rules[0]"),
    ],
)
def test_bad_user_pattern_files_name_the_field(tmp_path: Path, content: str, field: str) -> None:
    path = tmp_path / "patterns.yaml"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        load_rules(path)
    assert err.value.field == field and err.value.file == str(path)


def test_an_edited_user_pattern_file_is_read_again(tmp_path: Path) -> None:
    # The rules are parsed once per version of the file: an edit (or a fix of a broken file)
    # must take effect in the same process.
    path = tmp_path / "patterns.yaml"
    rule = "rules:\n  - name: mine\n    kind: instrumentation_gap\n    pattern: '{}'\n"
    path.write_text(rule.format("dashboard"))
    first = {r.name: r for r in load_rules(path)}["mine"]
    assert first.pattern.search("there was no dashboard")
    path.write_text(rule.format("metrics"))
    second = {r.name: r for r in load_rules(path)}["mine"]
    assert second.pattern.search("missing metrics for the queue")
    assert not second.pattern.search("there was no dashboard")
    path.write_text(rule.format("(unclosed"))
    with pytest.raises(InputError):
        load_rules(path)
    path.unlink()
    assert "mine" not in {r.name for r in load_rules(path)}
