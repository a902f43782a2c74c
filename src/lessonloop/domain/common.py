"""Building blocks shared by every schema: the base model, UTC datetimes, keys and hashing."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, StringConstraints

__all__ = [
    "REDACTION_TOKEN",
    "DomainModel",
    "UtcDatetime",
    "Key",
    "Name",
    "utc_now",
    "content_hash",
    "canonical_json",
]

# A value redaction replaced (``<person:2528e2>``, ``<email:7f3a2c>``): a stand-in, not words.
# The same pattern as lessonloop.redact.TOKEN_PATTERN (redact imports nothing of the project's;
# a test keeps the two equal).
REDACTION_TOKEN = re.compile(r"<[a-z][a-z0-9_]{0,31}:[0-9a-f]{4,64}>")


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC; naive datetimes are rejected."""

Key = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
    ),
]
"""An external key: incident keys, service names, fingerprints."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

_WS = re.compile(r"\s+")


class DomainModel(BaseModel):
    """Base of every schema: unknown fields are errors, enum values are stored as strings."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True)


def utc_now() -> datetime:
    """The current time in UTC, truncated to whole seconds (what the stores keep)."""
    return datetime.now(UTC).replace(microsecond=0)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same content always gives the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), default=_default, ensure_ascii=False
    )


def content_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
