"""What a redaction returns: the redacted text or document and counts by kind (never values)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Detection", "DocumentRedaction", "RedactionCounts", "RedactionResult"]


@dataclass(frozen=True)
class RedactionCounts:
    """How many values of each kind were replaced; never the values themselves."""

    by_kind: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Freeze the mapping: results are cached and shared between callers."""
        object.__setattr__(self, "by_kind", MappingProxyType(dict(self.by_kind)))

    def __repr__(self) -> str:
        """Show the counts as a plain dict."""
        return f"RedactionCounts({dict(self.by_kind)!r})"

    @property
    def total(self) -> int:
        """All replacements, whatever their kind."""
        return sum(self.by_kind.values())

    def __add__(self, other: RedactionCounts) -> RedactionCounts:
        """Counts of two calls together (for an import summary)."""
        merged = Counter(self.by_kind)
        merged.update(other.by_kind)
        return RedactionCounts(dict(sorted(merged.items())))

    @classmethod
    def combine(cls, counts: Iterable[RedactionCounts]) -> RedactionCounts:
        """Sum any number of counts, e.g. one per field of an import."""
        merged: Counter[str] = Counter()
        for item in counts:
            merged.update(item.by_kind)
        return cls(dict(sorted(merged.items())))

    def as_dict(self) -> dict[str, int]:
        """A plain, sorted copy for JSON summaries."""
        return dict(sorted(self.by_kind.items()))


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and the counts of what was replaced."""

    text: str
    counts: RedactionCounts


@dataclass(frozen=True)
class Detection:
    """Where a value was found and what kind it is (slice the text yourself to see it)."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class DocumentRedaction:
    """A redacted copy of a JSON-like document and the counts of what was replaced."""

    document: object
    counts: RedactionCounts
