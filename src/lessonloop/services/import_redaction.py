"""Redaction of imported domain objects: every free-text field, with the source's roster."""

from __future__ import annotations

from collections import Counter
from typing import Any, TypeVar

from pydantic import BaseModel

from lessonloop.ingest.source_documents import Roster, clip
from lessonloop.redact import Person, RedactionCounts, RedactionPolicy, Redactor
from lessonloop.services.keys import read_redaction_key
from lessonloop.settings import Settings

__all__ = ["ImportRedactor", "TEXT_FIELDS"]

Model = TypeVar("Model", bound=BaseModel)

TEXT_FIELDS = frozenset(
    {
        "title",
        "summary",
        "impact",
        "detection",
        "text",
        "actor",
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
    }
)
"""Field names whose string values (or lists / maps of strings) are free text to redact."""
_NESTED = frozenset(
    {"timeline", "decision_points", "alert_notes", "insights", "action_items", "provenance"}
)


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
            return {key: self._value(item) for key, item in value.items()}
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
