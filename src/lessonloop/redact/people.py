"""People and listed terms: the incident's roster (names, handles) and a configurable term list."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lessonloop.redact.spans import Candidate

__all__ = ["Person", "RosterMatcher", "normalise_name"]

_PEOPLE = 30
_TERMS = 31
_NAME_PART_MIN = 3
# Capitalised words that are also given names or surnames but mostly appear as calendar words
# in incident text ("June" matched 21 times in the public postmortems); they match only as part
# of a full name or handle.
_CALENDAR_WORDS = frozenset(
    {
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december", "monday", "tuesday"),
        *("wednesday", "thursday", "friday", "saturday", "sunday"),
    }
)


@dataclass(frozen=True)
class Person:
    """One responder as the source system knows them: a display name and any handles."""

    name: str
    handles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Keep handles hashable when a list is passed (e.g. straight from JSON)."""
        object.__setattr__(self, "handles", tuple(self.handles))


def normalise_name(value: str) -> str:
    """Lower-case, drop a leading `@` and collapse whitespace: `@Alice  Smith` -> `alice smith`."""
    return " ".join(value.lstrip("@").lower().split())


def _derived_handles(name: str) -> list[str]:
    """Handle spellings commonly built from a full name: alice.smith, alice_smith, alicesmith."""
    parts = normalise_name(name).split()
    if len(parts) < 2:
        return []
    first, last = parts[0], parts[-1]
    return [f"{first}.{last}", f"{first}_{last}", f"{first}-{last}", f"{first}{last}"]


# A word of a name, handle or term: word characters joined by `.` or `-` (alice.smith,
# anne-marie), with an optional leading `@`. Text and phrases are split the same way, so a
# phrase matches a run of words whose separators agree (any whitespace counts as one space).
_WORD = re.compile(r"@?\w+(?:[.-]\w+)*")
_WHITESPACE = re.compile(r"\s+")
_WORD_CHARACTER = re.compile(r"[\w@.-]")
_SUBSTRING_SEARCH_LIMIT = 64


@dataclass(frozen=True)
class _Phrase:
    """One alias, name part or term, split into lower-cased words and separators."""

    words: tuple[str, ...]
    separators: tuple[str, ...]
    kind: str
    value: str
    priority: int
    capitalised_only: bool


def _split(phrase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Lower-cased words of a phrase (leading `@` dropped) and the normalised text between them."""
    matches = list(_WORD.finditer(phrase))
    words = tuple(m.group().lstrip("@").lower() for m in matches)
    separators = tuple(
        _WHITESPACE.sub(" ", phrase[a.end() : b.start()])
        for a, b in zip(matches, matches[1:], strict=False)
    )
    return words, separators


class RosterMatcher:
    """Finds roster names, handles and listed terms in text; every alias maps to one token value.

    Full names, handles and terms match case-insensitively. A single part of a name ("Alice" of
    "Alice Smith") matches only when written with a capital (`Alice`, `ALICE`), because parts such
    as Will or Mark are also ordinary words, and never when it is a month or weekday name; a part
    shared by two people gets its own token. Matching is a dictionary look-up per word, so no
    regex is compiled per roster and long term lists cost little.
    """

    def __init__(
        self,
        people: Iterable[Person],
        terms: Iterable[str] = (),
        *,
        match_name_parts: bool = True,
        derive_handles: bool = True,
    ) -> None:
        self._index: dict[str, list[_Phrase]] = {}
        canonical_of_alias: dict[str, str] = {}
        owners_of_part: dict[str, set[str]] = {}
        for person in people:
            canonical = normalise_name(person.name) or normalise_name(
                person.handles[0] if person.handles else ""
            )
            if not canonical:
                continue
            aliases = [person.name, *person.handles]
            if derive_handles:
                aliases += _derived_handles(person.name)
            for alias in aliases:
                if normalise_name(alias):
                    canonical_of_alias.setdefault(normalise_name(alias), canonical)
            for part in normalise_name(person.name).split():
                if len(part) >= _NAME_PART_MIN and part not in _CALENDAR_WORDS:
                    owners_of_part.setdefault(part, set()).add(canonical)
        for alias, canonical in canonical_of_alias.items():
            self._add(alias, "person", canonical, _PEOPLE, capitalised_only=False)
        if match_name_parts:
            for part, owners in owners_of_part.items():
                if part not in canonical_of_alias:
                    owner = next(iter(owners)) if len(owners) == 1 else part
                    self._add(part, "person", owner, _PEOPLE - 1, capitalised_only=True)
        for term in terms:
            if normalise_name(term):
                self._add(term, "term", normalise_name(term), _TERMS, capitalised_only=False)
        for phrases in self._index.values():
            phrases.sort(key=lambda p: (-len(p.words), -p.priority, p.value))
        self._longest = max((len(p[0].words) for p in self._index.values()), default=1)

    def _add(
        self, phrase: str, kind: str, value: str, priority: int, *, capitalised_only: bool
    ) -> None:
        """Index a phrase under its first word."""
        words, separators = _split(phrase)
        if words:
            entry = _Phrase(words, separators, kind, value, priority, capitalised_only)
            self._index.setdefault(words[0], []).append(entry)

    @staticmethod
    def _matches(text: str, run: list[re.Match[str]], phrase: _Phrase) -> bool:
        """Whether the words starting at run[0] spell `phrase`, with the same separators."""
        if len(run) < len(phrase.words):
            return False
        for position, word in enumerate(phrase.words[1:], start=1):
            if run[position].group().lower() != word:
                return False
            between = text[run[position - 1].end() : run[position].start()]
            if _WHITESPACE.sub(" ", between) != phrase.separators[position - 1]:
                return False
        # a name part counts when capitalised, or as an @mention (`@alice`), which is no word
        mention = run[0].group()
        first = mention.lstrip("@")
        return not phrase.capitalised_only or mention.startswith("@") or first[:1].isupper()

    def _runs(self, text: str) -> Iterator[list[re.Match[str]]]:
        """Word runs that start with an indexed first word, at most as long as its phrases.

        With a short index (a roster), the first words are looked up as substrings of the
        lower-cased text, which is much faster than splitting every word; with a long term list
        (or text whose lower-casing changes its length) every word is looked up instead.
        """
        lowered = text.lower()
        if len(self._index) <= _SUBSTRING_SEARCH_LIMIT and len(lowered) == len(text):
            starts: set[int] = set()
            for first in self._index:
                at = lowered.find(first)
                while at >= 0:
                    starts.add(at - 1 if at > 0 and text[at - 1] == "@" else at)
                    at = lowered.find(first, at + 1)
            for start in sorted(starts):
                if start > 0 and _WORD_CHARACTER.match(text, start - 1):
                    continue
                words = _WORD.finditer(text, start)
                run = list(itertools.islice(words, self._longest))
                if run and run[0].start() == start:
                    yield run
            return
        words_list = list(_WORD.finditer(text))
        for position, word in enumerate(words_list):
            start = word.start()
            if start > 0 and _WORD_CHARACTER.match(text, start - 1):
                continue
            yield words_list[position : position + self._longest]

    def find(self, text: str, *, people: bool = True, terms: bool = True) -> Iterator[Candidate]:
        """Yield person and term candidates in `text`."""
        if not self._index:
            return
        for run in self._runs(text):
            phrases = self._index.get(run[0].group().lstrip("@").lower())
            if not phrases:
                continue
            for phrase in phrases:
                if (phrase.kind == "person" and not people) or (
                    phrase.kind == "term" and not terms
                ):
                    continue
                if not self._matches(text, run, phrase):
                    continue
                end = run[len(phrase.words) - 1].end()
                if end < len(text) and text[end] in "@-":
                    continue
                yield Candidate(run[0].start(), end, phrase.kind, phrase.priority, phrase.value)
                break
