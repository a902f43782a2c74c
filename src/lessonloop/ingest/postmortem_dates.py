"""A best-effort incident date from free text (URL paths, titles, prose) for undated postmortems."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["find_date"]

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_PATTERNS = (
    (re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b"), ("y", "m", "d")),
    (re.compile(r"/((?:19|20)\d\d)/(\d\d?)/(\d\d?)(?:/|\b)"), ("y", "m", "d")),
    (
        re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I),
        ("m", "d", "y"),
    ),
    (
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+((?:19|20)\d\d)\b", re.I),
        ("d", "m", "y"),
    ),
    (re.compile(rf"\b({_MONTH})[-\s](\d{{1,2}})[-\s]((?:19|20)\d\d)\b", re.I), ("m", "d", "y")),
    (re.compile(r"/((?:19|20)\d\d)/(\d\d)/"), ("y", "m")),
)


def _number(part: str, value: str) -> int:
    return _MONTHS[value.lower()] if part == "m" and not value.isdigit() else int(value)


def find_date(text: str) -> dt.datetime | None:
    """The first plausible calendar date in `text` (midnight UTC), trying precise forms first."""
    for pattern, parts in _PATTERNS:
        for match in pattern.finditer(text):
            values = {
                part: _number(part, value)
                for part, value in zip(parts, match.groups(), strict=True)
            }
            try:
                return dt.datetime(values["y"], values["m"], values.get("d", 1), tzinfo=dt.UTC)
            except ValueError:
                continue
    return None
