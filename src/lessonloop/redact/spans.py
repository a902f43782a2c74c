"""Candidate matches, the pattern recogniser that yields them, and overlap resolution."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

__all__ = ["Candidate", "PatternRecogniser", "resolve_overlaps", "PROTECTED_PRIORITY"]

PROTECTED_PRIORITY = 1000


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span a recogniser found: [start, end), kind, normalised value; `keep` spans stay as is.

    Kept spans (existing tokens, allow-listed values) still take part in overlap resolution, so
    nothing inside them is redacted by a lower-priority recogniser.
    """

    start: int
    end: int
    kind: str
    priority: int
    normalised: str
    keep: bool = False

    @property
    def length(self) -> int:
        """Number of characters covered."""
        return self.end - self.start


def _identity(value: str) -> str:
    """Keep the value as matched (secrets are compared byte for byte)."""
    return value


def _always(value: str) -> bool:
    """Accept every match."""
    return True


@dataclass(frozen=True)
class PatternRecogniser:
    """A typed recogniser declared as data: a compiled pattern, a validator and a normaliser.

    `group` names the part of the match that is sensitive (the value of `password=...`, not the
    key); `accept` rejects look-alikes (bad octets, failed Luhn check); `normalise` maps spellings
    of the same value to one string so they share a token. `hints` are substrings of which at
    least one must occur for the pattern to be worth running (lower-case ones are looked up in
    the lower-cased text): a fast `in` test that skips most texts. `gate`, when set, is a
    case-sensitive pattern that must occur in the lower-cased text; it stands in front of
    case-insensitive patterns, which Python's regex engine runs several times slower.
    """

    name: str
    kind: str
    priority: int
    pattern: re.Pattern[str]
    group: int | str = 0
    accept: Callable[[str], bool] = field(default=_always)
    normalise: Callable[[str], str] = field(default=_identity)
    hints: tuple[str, ...] = ()
    hints_ignore_case: bool = False
    gate: re.Pattern[str] | None = None
    _hint_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Compile the hints into one literal alternation (one C-level scan instead of many)."""
        hint_pattern = re.compile("|".join(re.escape(hint) for hint in self.hints))
        object.__setattr__(self, "_hint_pattern", hint_pattern)

    def find(self, text: str, lowered: str | None = None) -> Iterator[Candidate]:
        """Yield a candidate for every accepted match in `text` (`lowered`: text.lower())."""
        if self.hints:
            haystack = text
            if self.hints_ignore_case:
                haystack = lowered if lowered is not None else text.lower()
            if self._hint_pattern.search(haystack) is None:
                return
        if self.gate is not None and (
            self.gate.search(lowered if lowered is not None else text.lower()) is None
        ):
            return
        for match in self.pattern.finditer(text):
            start, end = match.span(self.group)
            if start < 0 or start == end:
                continue
            value = text[start:end]
            if self.accept(value):
                yield Candidate(start, end, self.kind, self.priority, self.normalise(value))


def resolve_overlaps(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep a non-overlapping subset, sorted by position; highest priority, then longest, wins.

    Ties are broken by earliest start and then kind name, so the outcome never depends on the
    order recognisers ran in.
    """
    ranked = sorted(candidates, key=lambda c: (-c.priority, -c.length, c.start, c.kind))
    kept: list[Candidate] = []
    starts: list[int] = []
    ends: list[int] = []
    for candidate in ranked:
        slot = bisect.bisect_right(starts, candidate.start)
        if slot > 0 and ends[slot - 1] > candidate.start:
            continue
        if slot < len(starts) and starts[slot] < candidate.end:
            continue
        starts.insert(slot, candidate.start)
        ends.insert(slot, candidate.end)
        kept.insert(slot, candidate)
    return kept
