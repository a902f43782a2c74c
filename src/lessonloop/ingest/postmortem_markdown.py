"""Postmortems as teams write them: the Google SRE template and front-matter postmortems.

Google SRE template sections (``## Summary``, ``Impact``, ``Root Causes``, ``Trigger``,
``Resolution``, ``Detection``, ``Action Items`` table, ``Lessons Learned`` with ``### What went
well / wrong / Where we got lucky``, ``Timeline``) map onto a review; front matter (``title``,
``start_time``, ``end_time``, ``uuid``, ``url``, ``categories``, ...) onto the incident. Unknown
sections are kept in ``extra_sections`` so nothing written is dropped. Lessonloop's own review
files are recognised by ``is_lessonloop_review`` and read by ``ingest.review_format``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lessonloop.domain.enums import ActionType, Severity, TimelineKind
from lessonloop.domain.incidents import IncidentCreate
from lessonloop.domain.reviews import ReviewCreate, TimelineEvent
from lessonloop.errors import InputError
from lessonloop.ingest.markdown_blocks import Section, decode_text, parse_bullets, split_document
from lessonloop.ingest.pagerduty import incident_key as pagerduty_key
from lessonloop.ingest.postmortem_dates import find_date
from lessonloop.ingest.source_documents import (
    ImportBatch,
    Located,
    build,
    clip,
    parse_time,
    slug_key,
)

__all__ = ["is_lessonloop_review", "parse_postmortem_markdown"]

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_ENTRY = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?:(\d{4}-\d{2}-\d{2})[ T,]+)?"
    r"(\d{1,2}:\d{2}(?::\d{2})?)\s*(?:UTC|Z)?(?:\*\*)?\s*[-:–—]?\s*(.+)$"
)
_META_LINE = re.compile(
    r"^\s*(?:\*\*)?(date|authors?|status|incident|pagerduty)(?:\*\*)?\s*:(?:\*\*)?\s*(.+)$", re.I
)
_ONE_WORD = re.compile(r"\S+").fullmatch  # a body line names a key, not a sentence
_PAGERDUTY_LINK = re.compile(r"^<?https?://[^/\s]*pagerduty\.com/incidents/([A-Za-z0-9]+)", re.I)
_SECTIONS = {
    "summary": "summary",
    "impact": "impact",
    "detection": "detection",
    "root causes": "root_causes",
    "root cause": "root_causes",
    "timeline": "timeline",
    "action items": "action_items",
    "lessons learned": "lessons",
}
_LESSONS = {
    "what went well": "went_well",
    "what went wrong": "went_wrong",
    "where we got lucky": "got_lucky",
}
_KINDS = (
    ("alert", TimelineKind.ALERT),
    ("page", TimelineKind.DETECTION),
    ("detect", TimelineKind.DETECTION),
    ("rollback", TimelineKind.REPAIR),
    ("mitigat", TimelineKind.REPAIR),
    ("resolv", TimelineKind.REPAIR),
    ("deploy", TimelineKind.CHANGE),
    ("decid", TimelineKind.DECISION),
)


def is_lessonloop_review(data: bytes) -> bool:
    """Whether a Markdown file is one of Lessonloop's own review files (front matter marker)."""
    head = data[:4000].decode("utf-8", "replace").replace("\r\n", "\n")
    if not head.startswith("---"):
        return False
    end = head.find("\n---", 3)
    front = head[: end if end > 0 else len(head)]
    return re.search(r"^lessonloop\s*:", front, re.M) is not None


def _subsections(section: Section) -> dict[str, list[str]]:
    parts: dict[str, list[str]] = {"": []}
    current = ""
    for line in section.lines:
        if line.startswith("### "):
            current = line[4:].strip().rstrip(":").lower()
            parts[current] = []
        else:
            parts[current].append(line)
    return parts


def _items(lines: list[str]) -> list[str]:
    bullets = [text for _, text in parse_bullets(Section("", 0, lines))]
    if bullets:
        return bullets
    text = "\n".join(lines).strip()
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _actions(section: Section, source: str) -> list[dict[str, Any]]:
    rows = [
        (section.line + i, line)
        for i, line in enumerate(section.lines, start=1)
        if line.strip().startswith("|")
    ]
    if not rows:
        return [{"title": clip(text, 200)} for text in _items(section.lines)]
    header = [c.lower() for c in _cells(rows[0][1])]
    title_col = next((i for i, c in enumerate(header) if "action" in c or c == "item"), 0)
    found: list[dict[str, Any]] = []
    for number, line in rows[1:]:
        cells = _cells(line)
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue
        if len(cells) != len(header):
            raise InputError(
                f"row has {len(cells)} cells; the header has {len(header)}",
                file=source,
                line=number,
                field="Action Items",
            )
        row = dict(zip(header, cells, strict=True))
        title = cells[title_col]
        if not title:
            continue
        kind = row.get("type", "").strip().lower()
        link = row.get("bug") or row.get("ticket") or row.get("link") or None
        found.append(
            {
                "title": clip(title, 200),
                "type": kind if kind in ActionType._value2member_map_ else "process",
                "owner": clip(row.get("owner", ""), 200) or None,
                "external_link": link,
            }
        )
    return found


def _timeline(section: Section, source: str, day: dt.date | None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for offset, line in enumerate(section.lines, start=1):
        number = section.line + offset
        entry = _ENTRY.match(line)
        if entry is None:
            date = _DATE.search(line)
            if date:
                day = dt.date.fromisoformat(date.group(1))
            elif events and line.strip() and not line.startswith("#"):
                events[-1]["text"] += " " + line.strip()
            continue
        if entry.group(1):
            day = dt.date.fromisoformat(entry.group(1))
        if day is None:
            raise InputError(
                "timeline entry has a time but no date (add a date line first)",
                file=source,
                line=number,
                field="Timeline",
            )
        try:
            clock = dt.time.fromisoformat(
                entry.group(2).zfill(5) if len(entry.group(2)) < 6 else entry.group(2).zfill(8)
            )
        except ValueError:
            raise InputError(
                f"not a time of day: {entry.group(2)}", file=source, line=number, field="Timeline"
            ) from None
        text = entry.group(3).strip()
        lowered = text.lower()
        kind = next((k for word, k in _KINDS if word in lowered), TimelineKind.KEY_MOMENT)
        events.append(
            {
                "at": dt.datetime.combine(day, clock, tzinfo=dt.UTC),
                "kind": kind,
                "text": text,
                "source": "postmortem",
            }
        )
    return events


def _stated_key(value: str) -> str:
    """A stated incident key as the importers store it: lower-cased, and a PagerDuty incident
    link is that incident's key (``pd-<id>``, as ``lessonloop import pagerduty`` stores it)."""
    link = _PAGERDUTY_LINK.match(value.strip())
    return pagerduty_key(link.group(1)) if link else slug_key(value)


def _front_time(front: dict[str, Any], name: str, source: str) -> dt.datetime | None:
    value = front.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return parse_time(
        value if isinstance(value, dt.datetime) else str(value),
        Located(value, source, f"front matter.{name}", 2),
    )


def parse_postmortem_markdown(
    data: bytes, source: str, *, incident_key: str | None = None
) -> ImportBatch:
    """One incident and its review from a postmortem Markdown file."""
    text = decode_text(data, source)
    has_front = text.startswith("---")
    doc = split_document(text if has_front else "---\n---\n" + text, source)
    shift = 0 if has_front else -2
    front = doc.front_matter
    meta = {
        m.group(1).lower(): m.group(2).strip()
        for m in (_META_LINE.match(line) for line in doc.preamble.splitlines())
        if m
    }
    found: dict[str, Any] = {"extra": {}}
    for section in doc.sections:
        section.line += shift
        role = _SECTIONS.get(section.title.lower().rstrip(":"))
        if role is None:
            found["extra"][section.title] = section.text
        else:
            found[role] = section
    started = _front_time(front, "start_time", source) or _front_time(front, "started_at", source)
    stated = {"started_at"} if started is not None else set()
    if started is None and re.search(r"\d:\d\d", str(front.get("date") or "")):
        stated.add("started_at")  # a date with a time of day
    started = started or _front_time(front, "date", source)
    if started is None and meta.get("date") and _DATE.search(meta["date"]):
        started = dt.datetime.fromisoformat(
            _DATE.search(meta["date"]).group(1)  # type: ignore[union-attr]
        ).replace(tzinfo=dt.UTC)
    day = started.date() if started else None
    events = _timeline(found["timeline"], source, day) if "timeline" in found else []
    tags = [
        str(t)
        for t in [*(front.get("categories") or []), *(front.get("keywords") or [])]
        if isinstance(t, str | int) and str(t).strip()
    ]
    if started is None and events:
        started = min(event["at"] for event in events)
    if started is None:
        started = _front_time(front, "source_published_at", source) or find_date(
            " ".join([str(front.get("url") or ""), doc.title or "", text])
        )
        tags.append("start-time-estimated")
    if started is None:
        started = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        tags[-1] = "start-time-unknown"
    ended = _front_time(front, "end_time", source) or _front_time(front, "resolved_at", source)
    if ended is not None and ended < started:
        ended = None
    if ended is not None:
        stated.add("resolved_at")
    if front.get("title") or doc.title:
        stated.add("title")
    title = (
        str(front.get("title") or "")
        or doc.title
        or (f"{front['company']} incident" if front.get("company") else "")
        or source.rsplit("/", 1)[-1]
    )
    summary_text = (
        found["summary"].text
        if "summary" in found
        else str(front.get("summary") or "") or doc.preamble.split("\n\n")[0]
    )
    if "summary" in found and found["summary"].text.strip() or front.get("summary"):
        stated.add("summary")
    stated_key = (
        incident_key
        or str(front.get("incident") or front.get("uuid") or "")
        or str(front.get("pagerduty") or "")
        or next(
            (v for v in (meta.get("incident"), meta.get("pagerduty")) if v and _ONE_WORD(v)), ""
        )
    )
    key = (
        _stated_key(stated_key)
        if stated_key and stated_key.strip()
        else slug_key(f"{title[:60]}-{started.date().isoformat()}", prefix="pm-")
    )
    refs = {
        name: str(front[name])
        for name in ("url", "archive_url", "company", "product", "uuid")
        if front.get(name)
    }
    severity = str(front.get("severity") or "").upper()
    if severity in Severity._value2member_map_:
        stated.add("severity")
    where = Located(None, source, "front matter", 2)
    incident = build(
        IncidentCreate,
        {
            "key": key,
            "title": clip(title, 200),
            "severity": severity if severity in Severity._value2member_map_ else "SEV3",
            "started_at": started,
            "resolved_at": ended,
            "summary": summary_text,
            "external_refs": refs,
            "tags": list(dict.fromkeys(tags))[:50],
        },
        where,
    )
    lessons = _subsections(found["lessons"]) if "lessons" in found else {}
    extra = dict(found["extra"])
    body = doc.preamble if not doc.sections else ""
    if body and body != summary_text:
        extra["Postmortem"] = body
    review: dict[str, Any] = {
        "incident_key": incident.key,
        "title": incident.title,
        "template": "postmortem",
        "authors": [
            a.strip()
            for a in re.split(r",| and ", meta.get("authors", "") or meta.get("author", ""))
            if a.strip()
        ],
        "summary": summary_text,
        "impact": found["impact"].text if "impact" in found else "",
        "detection": found["detection"].text if "detection" in found else "",
        "timeline": [build(TimelineEvent, e, where) for e in events],
        "contributing_factors": _items(found["root_causes"].lines)
        if "root_causes" in found
        else [],
        "action_items": _actions(found["action_items"], source) if "action_items" in found else [],
        "extra_sections": extra,
    }
    for heading, field_name in _LESSONS.items():
        review[field_name] = _items(lessons.get(heading, []))
    if lessons.get("") and "\n".join(lessons[""]).strip():
        extra["Lessons Learned"] = "\n".join(lessons[""]).strip()
    stated.update(name for name in ("impact", "detection") if review[name].strip())
    batch = ImportBatch(
        incidents=[incident],
        reviews=[build(ReviewCreate, review, where)],
        stated={incident.key: frozenset(stated)},
    )
    for author in review["authors"]:
        batch.add_person(author)  # the postmortem's people are the roster, as a source's are
    return batch
