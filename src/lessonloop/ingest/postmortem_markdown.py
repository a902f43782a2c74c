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

from lessonloop.domain.enums import ActionType, TimelineKind
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
    r"^\s*(?:\*\*)?(date|authors?|status|incident|pagerduty|severity|"
    r"(?:affected |impacted )?services?(?: affected| impacted)?)(?:\*\*)?\s*:(?:\*\*)?\s*(.+)$",
    re.I,
)
_SEVERITY = re.compile(r"\s*(?:sev(?:erity)?[\s_-]*)?([1-5])\s*", re.I)
_CELL_TIME = re.compile(r"(?:\d{4}-\d{2}-\d{2}[ T,]+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:UTC|Z)?")
_DATE_ONLY = re.compile(r"[\W_]*\d{4}-\d{2}-\d{2}[\W_]*(?:UTC[\W_]*)?")
_CHECKBOX = re.compile(r"^\[([ xX])\]\s+")
_FACTS = re.compile(r"\s*\(((?:[^()]*?:[^()]*))\)\s*$")
_HANDLE_OR_DATE = re.compile(r"@\S+|\d{4}-\d{2}-\d{2}")
_ACTION_STATUS = {
    "open": "open",
    "todo": "open",
    "to do": "open",
    "not started": "open",
    "planned": "open",
    "in progress": "in progress",
    "in-progress": "in progress",
    "started": "in progress",
    "doing": "in progress",
    "done": "done",
    "closed": "done",
    "complete": "done",
    "completed": "done",
    "fixed": "done",
    "wont do": "wont do",
    "won't do": "wont do",
    "won't fix": "wont do",
    "wontfix": "wont do",
    "cancelled": "wont do",
    "canceled": "wont do",
}
_ONE_WORD = re.compile(r"\S+").fullmatch  # a body line names a key, not a sentence
_PAGERDUTY_LINK = re.compile(r"^<?https?://[^/\s]*pagerduty\.com/incidents/([A-Za-z0-9]+)", re.I)
_SECTIONS = {
    "summary": "summary",
    "impact": "impact",
    "detection": "detection",
    "root causes": "root_causes",
    "root cause": "root_causes",
    "contributing factors": "root_causes",
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


def _facts(
    item: dict[str, Any], given: dict[str, str], where: tuple[str, int, str], warnings: list[str]
) -> bool:
    """Owner, due date, status, type and link of an action item; False if one was not usable."""
    source, number, field = where
    usable = True
    for name, value in given.items():
        value = value.strip()
        if not value:
            continue
        if name == "owner":
            item["owner"] = clip(value, 200)
        elif name == "link":
            item["external_link"] = value
        elif name == "type" and value.lower() in ActionType._value2member_map_:
            item["type"] = value.lower()
        elif name == "due" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                item["due"] = dt.date.fromisoformat(value)
            except ValueError:
                usable = False
        elif name == "status" and value.lower() in _ACTION_STATUS:
            item["status"] = _ACTION_STATUS[value.lower()]
        else:
            usable = False
        if not usable:
            warnings.append(
                f"{source}: line {number}: {field}: {name} {value!r} is not understood "
                "(due: YYYY-MM-DD; status: open, in progress, done, wont do); the item is "
                "imported without it and the section is kept as written in extra_sections"
            )
            return False
    return usable


def _fact_name(header: str) -> str | None:
    header = header.strip().lower()
    for name, words in (
        ("owner", ("owner", "assignee", "who")),
        ("due", ("due",)),
        ("status", ("status", "state")),
        ("type", ("type",)),
        ("link", ("bug", "ticket", "link", "issue")),
    ):
        if any(word in header for word in words):
            return name
    return None


def _checklist_item(text: str) -> tuple[str, dict[str, str]]:
    """'[x] Title (owner: @bob, due: 2026-09-01)' or '[ ] Title — @bob — 2026-09-01'."""
    given: dict[str, str] = {}
    box = _CHECKBOX.match(text)
    if box:
        text = text[box.end() :]
        if box.group(1).lower() == "x":
            given["status"] = "done"
    facts = _FACTS.search(text)
    if facts:
        pairs = [part.split(":", 1) for part in facts.group(1).split(",")]
        if all(len(p) == 2 and _fact_name(p[0]) for p in pairs):
            given.update({_fact_name(p[0]) or "": p[1].strip() for p in pairs})
            text = text[: facts.start()]
    parts = re.split(r"\s+[—–-]\s+", text.strip())
    while len(parts) > 1 and _HANDLE_OR_DATE.fullmatch(parts[-1].strip()):
        value = parts.pop().strip()
        given["due" if value[0].isdigit() else "owner"] = value
    return " — ".join(parts).strip(), given


def _actions(
    section: Section, source: str, warnings: list[str]
) -> tuple[list[dict[str, Any]], bool]:
    """Action items from a pipe table or a (checklist) list, and whether all was understood."""
    rows = [
        (section.line + i, line)
        for i, line in enumerate(section.lines, start=1)
        if line.strip().startswith("|")
    ]
    if not rows:
        found: list[dict[str, Any]] = []
        complete = True
        numbered = parse_bullets(section) or [
            (section.line + 1, text) for text in _items(section.lines)
        ]
        for number, text in numbered:
            title, given = _checklist_item(text)
            item: dict[str, Any] = {"title": clip(title or text, 200)}
            complete &= _facts(item, given, (source, number, "Action Items"), warnings)
            found.append(item)
        return found, complete and not _loose_lines(section)
    header = [c.lower() for c in _cells(rows[0][1])]
    title_col = next((i for i, c in enumerate(header) if "action" in c or c == "item"), 0)
    facts = {i: _fact_name(c) for i, c in enumerate(header) if i != title_col}
    complete = all(name for name in facts.values()) and not _loose_lines(section)
    found = []
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
        title = cells[title_col]
        if not title:
            continue
        item = {"title": clip(title, 200), "type": "process"}
        given = {name: cells[i] for i, name in facts.items() if name}
        complete &= _facts(item, given, (source, number, "Action Items"), warnings)
        found.append(item)
    return found, complete


def _loose_lines(section: Section) -> bool:
    """Whether a list or table section has text outside its items (kept then as written)."""
    for line in section.lines:
        bare = line.strip()
        if (
            bare
            and not bare.startswith(("|", "<!--"))
            and not re.match(r"[-*+]\s", bare)
            and not line.startswith((" ", "\t"))  # a continuation of an item
        ):
            return True
    return False


def _table_entry(cells: list[str], header: list[str]) -> str | None:
    """A timeline table row as an entry line ('TIME text'), or None when it has no time."""
    at = next((i for i, c in enumerate(cells) if _CELL_TIME.fullmatch(c)), None)
    if at is None:
        return None
    named = [
        i
        for i, name in enumerate(header)
        if i != at and any(w in name for w in ("event", "what", "description", "text"))
    ]
    text = " — ".join(cells[i] for i in (named or range(len(cells))) if i != at and cells[i])
    return f"{cells[at]} {text}" if text else None


def _timeline(
    section: Section, source: str, day: dt.date | None
) -> tuple[list[dict[str, Any]], bool]:
    """Timeline entries, and whether every line was placed (else the section is kept too)."""
    events: list[dict[str, Any]] = []
    placed = True
    header: list[str] | None = None
    for offset, line in enumerate(section.lines, start=1):
        number = section.line + offset
        if line.strip().startswith("|"):
            cells = _cells(line)
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            row = _table_entry(cells, header or [])
            if row is None and header is None:
                header = [c.lower() for c in cells]
                continue
            if row is None:
                placed = False
                continue
            line = row
        entry = _ENTRY.match(line)
        if entry is None:
            date = _DATE.search(line)
            if date:
                day = dt.date.fromisoformat(date.group(1))
                placed &= _DATE_ONLY.fullmatch(line.strip()) is not None
            elif events and line.strip() and not line.startswith("#"):
                events[-1]["text"] += " " + line.strip()
            elif line.strip() and not line.strip().startswith("<!--"):
                placed = False
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
    return events, placed


def _stated_key(value: str) -> str:
    """A stated incident key as the importers store it: lower-cased, and a PagerDuty incident
    link is that incident's key (``pd-<id>``, as ``lessonloop import pagerduty`` stores it)."""
    link = _PAGERDUTY_LINK.match(value.strip())
    return pagerduty_key(link.group(1)) if link else slug_key(value)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _line_of(text: str, name: str, in_front: bool) -> int:
    """The line of a front-matter field or a body fact line (1 when not found)."""
    pattern = re.compile(rf"^\s*(?:\*\*)?{name}(?:\*\*)?\s*:", re.I)
    lines = text.splitlines()
    if in_front:  # the field is in front matter when it is there
        end = next((n for n, line in enumerate(lines[1:], 1) if line.strip() == "---"), 0)
        lines = lines[:end] if any(pattern.match(line) for line in lines[:end]) else lines
    return next((n for n, line in enumerate(lines, 1) if pattern.match(line)), 1)


def _severity(value: Any, where: tuple[str, int, str], warnings: list[str]) -> str | None:
    """SEV1..SEV5 from 'SEV2', 'sev-2', 'Sev 2' or 2; anything else is warned about."""
    if value in (None, ""):
        return None
    match = _SEVERITY.fullmatch(str(value))
    if match:
        return f"SEV{match.group(1)}"
    source, number, field = where
    warnings.append(
        f"{source}: line {number}: {field}: {str(value)[:40]!r} is not a severity "
        "(SEV1..SEV5); the incident is imported as SEV3, or keeps its stored severity"
    )
    return None


def _services(value: Any) -> list[str]:
    """Service keys from a front-matter list, or a 'checkout, db' line."""
    names = value if isinstance(value, list) else re.split(r",|\band\b", str(value or ""))
    return list(dict.fromkeys(slug_key(str(n)) for n in names if str(n).strip(" `*")))


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
    meta: dict[str, str] = {}
    loose: list[str] = []  # preamble lines that are not facts read here
    for line in doc.preamble.splitlines():
        fact = _META_LINE.match(line)
        name = fact.group(1).lower() if fact else ""
        name = "services" if "service" in name else name
        if fact and name not in meta:
            meta[name] = fact.group(2).strip()
        if name in ("", "status"):
            loose.append(line)
    warnings: list[str] = []
    found: dict[str, Any] = {"extra": {}}
    for section in doc.sections:
        section.line += shift
        heading = re.sub(r"\s*\(.*\)\s*$", "", section.title.lower().rstrip(":")).strip()
        role = _SECTIONS.get(heading) or _LESSONS.get(heading)
        if role is None or role in found:  # a second section of one kind is kept as written
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
    events, placed = _timeline(found["timeline"], source, day) if "timeline" in found else ([], 1)
    if not placed:  # lines that are not entries: the section is kept as written too
        found["extra"][found["timeline"].title] = found["timeline"].text
    if (  # a date without a time: the incident starts with its first timeline entry that day
        day is not None
        and "started_at" not in stated
        and started == _midnight(day)
        and any(event["at"].date() == day for event in events)
    ):
        started = min(event["at"] for event in events)
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
    severity = _severity(
        front.get("severity") or meta.get("severity"),
        (source, _line_of(text, "severity", has_front), "severity"),
        warnings,
    )
    if severity:
        stated.add("severity")
    services = _services(front.get("services") or meta.get("services"))
    if services:
        stated.add("services")
    where = Located(None, source, "front matter", 2)
    incident = build(
        IncidentCreate,
        {
            "key": key,
            "title": clip(title, 200),
            "severity": severity or "SEV3",
            "services": services,
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
    body = doc.preamble if not doc.sections else "\n".join(loose).strip()
    if body and body != summary_text:
        extra["Postmortem"] = body
    authors: list[Any] = front["authors"] if isinstance(front.get("authors"), list) else []
    review: dict[str, Any] = {
        "incident_key": incident.key,
        "title": incident.title,
        "template": "postmortem",
        "authors": [str(a).strip() for a in authors if str(a).strip()]
        or [
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
        "action_items": [],
        "extra_sections": extra,
    }
    if "action_items" in found:
        review["action_items"], understood = _actions(found["action_items"], source, warnings)
        if not understood:
            extra[found["action_items"].title] = found["action_items"].text
    for heading, field_name in _LESSONS.items():
        review[field_name] = [
            *_items(lessons.get(heading, [])),
            *(_items(found[field_name].lines) if field_name in found else []),
        ]
    if lessons.get("") and "\n".join(lessons[""]).strip():
        extra["Lessons Learned"] = "\n".join(lessons[""]).strip()
    stated.update(name for name in ("impact", "detection") if review[name].strip())
    batch = ImportBatch(
        incidents=[incident],
        reviews=[build(ReviewCreate, review, where)],
        services=services,
        warnings=warnings,
        stated={incident.key: frozenset(stated)},
    )
    for author in review["authors"]:
        batch.add_person(author)  # the postmortem's people are the roster, as a source's are
    return batch
