"""What every importer shares: reading bounded UTF-8 input, typed field access by JSON path,
timestamps, and the ImportBatch of domain objects a source file turns into."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from lessonloop.domain.alerts import AlertCreate
from lessonloop.domain.incidents import IncidentCreate
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import ReviewCreate, TimelineEvent
from lessonloop.errors import InputError
from lessonloop.ingest.review_format import ParsedReview

__all__ = [
    "MAX_SOURCE_BYTES",
    "ImportBatch",
    "SeriesData",
    "Roster",
    "read_source_bytes",
    "decode_utf8",
    "load_json",
    "load_json_lines",
    "Located",
    "build",
    "parse_time",
    "slug_key",
    "clip",
]

MAX_SOURCE_BYTES = 25 * 1024 * 1024
"""Largest single input file accepted (split bigger exports; 25 MB keeps memory bounded)."""

Model = TypeVar("Model", bound=BaseModel)
Roster = dict[str, tuple[str, ...]]
"""People named by the source: display name -> handles (e-mail, user id, @handle)."""


@dataclass(frozen=True)
class SeriesData:
    """One metric series from a source, before storage: epoch seconds and float values."""

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    # The Prometheus labels the source gave the series (``__name__`` for the metric name).
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportBatch:
    """The domain objects one source file maps to, not yet redacted or stored."""

    incidents: list[IncidentCreate] = field(default_factory=list)
    alerts: list[AlertCreate] = field(default_factory=list)
    timelines: dict[str, list[TimelineEvent]] = field(default_factory=dict)
    candidate_insights: dict[str, list[InsightCreate]] = field(default_factory=dict)
    reviews: list[ReviewCreate] = field(default_factory=list)
    series: list[SeriesData] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    people: Roster = field(default_factory=dict)
    lessonloop_reviews: list[ParsedReview] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # imported, but the user should know
    # Incidents the file refers to (by timeline) without holding them: each must be stored
    # already, else the file is refused with its error.
    stored_incidents: dict[str, InputError] = field(default_factory=dict)
    # External refs for stored incidents, each set only where the incident has none by that name.
    incident_refs: dict[str, dict[str, str]] = field(default_factory=dict)
    # per incident key, the incident and review fields a document states (a postmortem): when
    # the incident or review is already stored, only these may change it (see services.importing)
    stated: dict[str, frozenset[str]] = field(default_factory=dict)

    def add_person(self, name: str | None, *handles: str | None) -> None:
        """Put a responder on the roster (merging handles when the name is known)."""
        if not name or not name.strip():
            return
        known = self.people.get(name.strip(), ())
        extra = tuple(h.strip() for h in handles if h and h.strip() and h.strip() not in known)
        self.people[name.strip()] = known + extra


def read_source_bytes(path: Path, *, max_bytes: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of one input file, refusing missing files, folders and oversize files."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    if path.is_dir():
        raise InputError("is a folder, not a file", file=str(path))
    if size > max_bytes:
        raise InputError(
            f"file is {size / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB "
            "(split the export into smaller files)",
            file=str(path),
        )
    return path.read_bytes()


def decode_utf8(data: bytes, source: str) -> str:
    """UTF-8 text (BOM dropped), or an InputError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); re-export as UTF-8",
            file=source,
            line=line,
        ) from None


def load_json(data: bytes, source: str) -> Any:
    """A whole-file JSON document, or an InputError with the line of the syntax error."""
    text = decode_utf8(data, source)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=source, line=exc.lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", file=source) from None


def load_json_lines(data: bytes, source: str) -> list[tuple[int, Any]]:
    """(line number, value) for each non-blank line of a JSON-lines file."""
    text = decode_utf8(data, source)
    found: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", file=source, line=number) from None
        except RecursionError:
            raise InputError("JSON nested too deeply", file=source, line=number) from None
    return found


@dataclass(frozen=True)
class Located:
    """A JSON value with where it came from, so every error names file, line and JSON path."""

    value: Any
    source: str
    path: str = "$"
    line: int | None = None

    def error(self, message: str, name: str | None = None) -> InputError:
        where = f"{self.path}.{name}" if name else self.path
        return InputError(message, file=self.source, line=self.line, field=where)

    def child(self, name: str | int) -> Located:
        path = f"{self.path}[{name}]" if isinstance(name, int) else f"{self.path}.{name}"
        value = self.value[name] if isinstance(name, int) else self.value.get(name)
        return Located(value, self.source, path, self.line)

    def obj(self) -> Located:
        if not isinstance(self.value, dict):
            raise self.error(f"expected a JSON object, got {type(self.value).__name__}")
        return self

    def items(self) -> list[Located]:
        """Children of a JSON array (a missing value is an empty list)."""
        if self.value is None:
            return []
        if not isinstance(self.value, list):
            raise self.error(f"expected a JSON array, got {type(self.value).__name__}")
        return [self.child(index) for index in range(len(self.value))]

    def get(self, name: str) -> Located:
        return self.obj().child(name)

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.obj().value.get(name)
        if value is None or value == "":
            if required:
                raise self.error("is required", name)
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(f"expected a string, got {type(value).__name__}", name)
        return str(value)

    def time(self, name: str, *, required: bool = False) -> dt.datetime | None:
        raw = self.obj().value.get(name)
        if raw is None or raw == "":
            if required:
                raise self.error("is required", name)
            return None
        return parse_time(raw, self.child(name))

    def number(self, name: str) -> float | None:
        raw = self.obj().value.get(name)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.error(f"expected a number, got {type(raw).__name__}", name)
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise self.error("must be a finite number", name)
        return float(raw)

    def string_map(self, name: str) -> dict[str, str]:
        raw = self.obj().value.get(name)
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.error(f"expected an object of strings, got {type(raw).__name__}", name)
        out: dict[str, str] = {}
        for key, value in raw.items():
            if isinstance(value, dict | list):
                raise self.error("values must be strings", f"{name}.{key}")
            out[str(key)] = "" if value is None else str(value)
        return out

    def string_list(self, name: str) -> list[str]:
        raw = self.obj().value.get(name)
        if raw is None:
            return []
        if not isinstance(raw, list) or any(isinstance(v, dict | list) for v in raw):
            raise self.error("expected an array of strings", name)
        return [str(v) for v in raw if v is not None and str(v).strip()]


_EPOCH = re.compile(r"\d{1,12}(?:\.\d*)?")
_MIN_TIME = dt.datetime(1000, 1, 1, tzinfo=dt.UTC)
_MAX_TIME = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def parse_time(raw: object, where: Located) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 text or epoch seconds; naive text is taken as UTC."""
    try:
        if isinstance(raw, bool):
            raise ValueError("a boolean is not a time")
        if isinstance(raw, int | float) or isinstance(raw, str) and _EPOCH.fullmatch(raw.strip()):
            value = dt.datetime.fromtimestamp(float(raw), tz=dt.UTC)
        elif isinstance(raw, str):
            value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        elif isinstance(raw, dt.datetime):
            value = raw
        else:
            raise ValueError(f"expected a time, got {type(raw).__name__}")
    except (ValueError, OverflowError, OSError) as exc:
        raise where.error(f"not a time: {exc}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    if not _MIN_TIME <= value < _MAX_TIME:
        raise where.error(f"time {value.isoformat()} is outside the years 1000-2200")
    return value


def build(model: type[Model], data: dict[str, Any], where: Located) -> Model:
    """Validate a domain object, turning pydantic's errors into one located InputError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or None
        raise where.error(first["msg"], name) from None


_NOT_KEY = re.compile(r"[^A-Za-z0-9._:/-]+")


def slug_key(text: str, *, prefix: str = "", limit: int | None = 120) -> str:
    """A valid Key from free text ('Checkout API' -> 'checkout-api'), at most `limit`
    characters (None: uncut)."""
    slug = _NOT_KEY.sub("-", text.strip().lower()).strip("-._:/")
    return (prefix + slug)[:limit].rstrip("-._:/") or (prefix.rstrip("-") or "unnamed")


def clip(text: str, limit: int) -> str:
    """Text cut to `limit` characters (columns have lengths), marked with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
