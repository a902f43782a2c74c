"""Property tests: redaction never raises and is idempotent, on any text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessonloop.redact import Person, RedactionPolicy, Redactor

REDACTOR = Redactor(
    RedactionPolicy(
        key=b"p" * 32,
        people=(Person("Alice Smith", ("asmith", "@al")), Person("Bo Li", ("bo.li",))),
        extra_terms=("Nightjar",),
        allow_patterns=(r"10\.0\.0\.1",),
    )
)

# Pieces of the things recognisers look for, so random joins land on their edges.
FRAGMENTS = (
    "a@b.io",
    "@",
    ".",
    ":",
    "::",
    "=",
    "-",
    "/",
    "'",
    '"',
    " ",
    "\n",
    "\\n",
    "<",
    ">",
    "<email:abcdef>",
    "<person:0a1b2c>",
    "password=",
    "token: ",
    "Bearer ",
    "Authorization: Basic ",
    "https://u:",
    "@host",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEAx5Jf3kq9LmN8pQ7rS6tU5vW4",
    "eyJhbGciOiJIUzI1NiJ9",
    "AKIA",
    "Q3EGRZ7UMXLYB2HC",
    "ghp_",
    "xoxb-",
    "+44",
    "(415)",
    "555-0132",
    "4111",
    "1111",
    "10.0.0.1",
    "192.168.1.",
    "2001:db8",
    "fe1e",
    "Alice",
    "smith",
    "asmith",
    "@al",
    "bo.li",
    "Nightjar",
    "hunter2",
    "Summer2024!",
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_never_raises_and_is_idempotent(text: str) -> None:
    once = REDACTOR.redact_text(text)
    assert REDACTOR.redact_text(once.text).text == once.text
    assert once.counts.total >= 0


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=30))
def test_joined_fragments_redact_idempotently(pieces: list[str]) -> None:
    text = "".join(pieces)
    once = REDACTOR.redact_text(text).text
    assert REDACTOR.redact_text(once).text == once


def _full_scan_redactor() -> Redactor:
    """The same policy with the quick skip of unremarkable text switched off."""
    redactor = Redactor(REDACTOR.policy)
    redactor._skip_unremarkable_text = False
    return redactor


FULL_SCAN = _full_scan_redactor()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12))
def test_skipping_unremarkable_text_changes_no_result(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert REDACTOR.redact_text(text) == FULL_SCAN.redact_text(text)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_json_documents_redact_idempotently(document: object) -> None:
    once = REDACTOR.redact_document(document).document
    assert REDACTOR.redact_document(once).document == once


NAME_FRAGMENTS = ("Alice", "alice", "Smith", "SMITH", "asmith", "@al", "al", "bo.li", "Bo", "Li")
SEPARATORS = (" ", "  ", "\n", ".", "-", "@", "'s ", ", ", "x", "_", "İ")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(NAME_FRAGMENTS + SEPARATORS), max_size=16))
def test_roster_substring_search_equals_word_by_word_scan(pieces: list[str]) -> None:
    from lessonloop.redact import people

    text = "".join(pieces)
    matcher = people.RosterMatcher(REDACTOR.policy.people, REDACTOR.policy.extra_terms)
    fast = list(matcher.find(text))
    limit = people._SUBSTRING_SEARCH_LIMIT
    people._SUBSTRING_SEARCH_LIMIT = 0
    try:
        scanned = list(matcher.find(text))
    finally:
        people._SUBSTRING_SEARCH_LIMIT = limit
    assert fast == scanned


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=25))
def test_detect_secrets_gates_over_whole_text_equal_line_by_line(pieces: list[str]) -> None:
    import itertools

    from lessonloop.redact import secrets_scan

    text = "".join(pieces)
    lines = text.split("\n")
    offsets = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    for gate in (secrets_scan._TOKEN_GATE, *secrets_scan._GATE_BY_PLUGIN.values()):
        expected = [index for index, line in enumerate(lines) if gate.search(line)]
        assert gate.line_indexes(text, lines, offsets) == expected
