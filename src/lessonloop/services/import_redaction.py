"""Redaction of imported domain objects: every free-text field, with the source's roster."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from lessonloop.domain.signals import parse_matchers
from lessonloop.ingest.review_format import ParsedReview
from lessonloop.ingest.source_documents import Roster, clip
from lessonloop.redact import TOKEN_PATTERN, Person, RedactionCounts, RedactionPolicy, Redactor
from lessonloop.services.keys import read_redaction_key
from lessonloop.settings import Settings

__all__ = ["ImportRedactor", "TEXT_FIELDS", "redact_query", "review_redactor"]

Model = TypeVar("Model", bound=BaseModel)

TEXT_FIELDS = frozenset(
    {
        "title",
        "summary",
        "impact",
        "detection",
        "text",
        "actor",
        "owner",
        "authors",
        "participants",
        "contributing_factors",
        "went_well",
        "went_wrong",
        "got_lucky",
        "extra_sections",
        "decision",
        "alternatives",
        "information_available",
        "outcome",
        "reason",
        "author",
        "ref",
        "labels",
        "annotations",
        "name",
        "tags",
    }
)
"""Field names whose string values (or lists / maps of strings) are free text to redact."""
_NESTED = frozenset(
    {"timeline", "decision_points", "alert_notes", "insights", "action_items", "provenance"}
)
_NAME_FIELDS = frozenset({"title", "name", "actor", "owner"})
"""Fields stored in 200-character columns: clipped when redaction made them longer."""
_MATCHER_FIELDS = frozenset({"matchers", "source", "target", "while_firing"})
"""Signal-block fields that hold Prometheus-style matchers written as text."""
_INCIDENT_TEXT = frozenset({"title", "tags"})
"""Incident facts in a review's front matter that are free text (the rest are keys and times)."""


def _unique(key: str, taken: dict[str, Any]) -> str:
    """`key`, or `key~2`, `key~3`... when two keys redact to the same text."""
    candidate, number = key, 1
    while candidate in taken:
        number += 1
        candidate = f"{key}~{number}"
    return candidate


class ImportRedactor:
    """One Redactor for one input file (its roster), counting what it replaced by kind."""

    def __init__(self, settings: Settings, roster: Roster) -> None:
        people = tuple(Person(name, handles) for name, handles in sorted(roster.items()))
        policy = RedactionPolicy(key=read_redaction_key(settings), people=people)
        self._redactor = Redactor(policy)
        self._counts: Counter[str] = Counter()

    @property
    def counts(self) -> RedactionCounts:
        return RedactionCounts(dict(sorted(self._counts.items())))

    def text(self, value: str) -> str:
        """The redacted text, counting replacements."""
        if not value:
            return value
        result = self._redactor.redact_text(value)
        self._counts.update(result.counts.by_kind)
        return result.text

    def _value(self, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, BaseModel):
            return self.text(value)
        if isinstance(value, list):
            return [self._value(item) for item in value]
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                name = _unique(self.text(key), out) if isinstance(key, str) else key
                out[name] = self._value(item)
            return out
        return value

    def _walk(self, data: dict[str, Any], skip: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in skip:
                out[key] = value
            elif key in _NESTED and isinstance(value, list):
                out[key] = [self._walk(v, skip) if isinstance(v, dict) else v for v in value]
            elif key in _NESTED and isinstance(value, dict):
                out[key] = self._walk(value, skip)
            elif key in TEXT_FIELDS:
                out[key] = self._value(value)
                if key in _NAME_FIELDS and isinstance(out[key], str) and len(out[key]) > 200:
                    out[key] = clip(out[key], 200)
            else:
                out[key] = value
        return out

    def model(self, obj: Model, *, skip: frozenset[str] = frozenset()) -> Model:
        """A copy of a domain object with every free-text field redacted."""
        data = self._walk(obj.model_dump(mode="json"), skip)
        for name in ("title", "name", "actor"):
            if isinstance(data.get(name), str):
                data[name] = clip(data[name], 200)
        return type(obj).model_validate(data)

    def matchers(self, text: str) -> str:
        """An alert name or `{label="value"}` matchers with each value redacted.

        Label names and operators stay, so the result still parses as matchers; text that
        does not parse as matchers is redacted as prose.
        """
        try:
            found = parse_matchers(text)
        except ValueError:
            return self.text(text)
        values = [self._matcher_value(m.op, m.value) for m in found]
        if values == [m.value for m in found]:
            return text
        return (
            "{"
            + ", ".join(f'{m.label}{m.op}"{v}"' for m, v in zip(found, values, strict=True))
            + "}"
        )

    def _matcher_value(self, op: str, value: str) -> str:
        """A matcher value redacted; in a regular expression ``\\.`` is read as a dot first,
        so an escaped address (``10\\.0\\.0\\.5``) is recognised (and then matches the token
        the alert imports stored)."""
        if op not in ("=~", "!~"):
            return self.text(value)
        plain = value.replace("\\.", ".")
        redacted = self.text(plain)
        return value if redacted == plain else redacted

    def signal_block(self, block: dict[str, Any]) -> dict[str, Any]:
        """A review's explicit signal proposal with every string redacted (matchers kept usable).

        Keys, times, enum values and numbers contain nothing the recognisers find and come
        back unchanged; credential-named fields are tokenised whole, as in documents.
        """
        out: dict[str, Any] = {}
        for key, value in block.items():
            if key in _MATCHER_FIELDS and isinstance(value, str):
                out[key] = self.matchers(value)
                continue
            result = self._redactor.redact_document({key: value})
            self._counts.update(result.counts.by_kind)
            for name, item in cast(dict[str, Any], result.document).items():
                out[_unique(str(name), out)] = item
        return out

    def review(self, parsed: ParsedReview) -> ParsedReview:
        """A parsed review file with every free-text value redacted.

        That is the review and the incident facts its front matter corrects (title, tags);
        alert matchers and signal-block keys, times and enum values stay usable.
        """
        data = self._walk(parsed.review.model_dump(mode="json"), frozenset())
        data["alert_notes"] = [
            {**note, "alert": self.matchers(note["alert"])} for note in data["alert_notes"]
        ]
        data["signal_blocks"] = [self.signal_block(block) for block in data["signal_blocks"]]
        raw = parsed.review.model_dump(mode="json")
        incident = {
            # the front matter's title is also the review's: redacted (and counted) once
            key: (data[key] if value == raw.get(key) else self._value(value))
            if key in _INCIDENT_TEXT
            else value
            for key, value in parsed.incident.items()
        }
        if isinstance(incident.get("title"), str):
            incident["title"] = clip(incident["title"], 200)
        review = type(parsed.review).model_validate(data)
        return replace(parsed, review=review, incident=incident)


def review_redactor(settings: Settings, parsed: ParsedReview) -> ImportRedactor:
    """The redactor for one review file: its authors and participants are the roster."""
    names = (*parsed.review.authors, *parsed.review.participants)
    roster: Roster = {name: () for name in names if not TOKEN_PATTERN.search(name)}
    return ImportRedactor(settings, roster)



def person_token(settings: Settings, name: str) -> str:
    """The token a review import stores for `name` when it is on the review's roster."""
    if not name.strip() or TOKEN_PATTERN.search(name):
        return name
    return ImportRedactor(settings, {name.strip(): ()}).text(name.strip())


def redact_query(settings: Settings, text: str) -> str:
    """A search or precedent query redacted as imports are, so a raw value finds its token."""
    return ImportRedactor(settings, {}).text(text)
