"""Lessonloop's review Markdown (docs/review-format.md): parse into a review, render back."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.enums import InsightKind
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import AlertNote, DecisionPoint, ReviewCreate, TimelineEvent
from lessonloop.errors import InputError
from lessonloop.ingest.markdown_blocks import (
    Section,
    decode_text,
    escape_cell,
    parse_bullets,
    parse_table,
    split_document,
)
from lessonloop.ingest.templates import ReviewTemplate

__all__ = ["ParsedReview", "parse_review", "render_review", "FORMAT_MARKER", "INCIDENT_FIELDS"]

FORMAT_MARKER = "review/1"
INCIDENT_FIELDS = (
    "title",
    "severity",
    "services",
    "started_at",
    "detected_at",
    "mitigated_at",
    "resolved_at",
    "detection_method",
    "tags",
)
TIMELINE_COLS = ["At (UTC)", "Kind", "Marker", "Actor", "Event"]
DECISION_COLS = ["At (UTC)", "Decision", "Alternatives", "Information available", "Outcome"]
ALERT_COLS = ["Alert", "Verdict", "Reason"]
ACTION_COLS = ["Title", "Type", "Owner", "Due", "Priority", "Status", "Expected effect"]
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_INSIGHT = re.compile(r"^\[(?P<category>[^\]]+)\]\s+(?P<text>.*?)\s*(?P<meta>\{[^{}]*\})?\s*$")


@dataclass
class ParsedReview:
    review: ReviewCreate
    incident: dict[str, Any] = field(default_factory=dict)
    review_id: int | None = None
    written_at: dt.datetime | None = None


def _time(value: str, source: str, line: int, column: str) -> dt.datetime:
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"not a time: {value!r} (use YYYY-MM-DD HH:MM, UTC)",
            file=source,
            line=line,
            field=column,
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _fmt_time(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M" if value.second == 0 else "%Y-%m-%d %H:%M:%S")


def _wrap(exc: ValidationError, source: str, line: int, section: str) -> InputError:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return InputError(
        f"{err['msg']}", file=source, line=line, field=f"{section}.{where}" if where else section
    )


def _insights(section: Section, kind: InsightKind, source: str, human: bool) -> list[InsightCreate]:
    out = []
    for line, text in parse_bullets(section):
        match = _INSIGHT.match(text)
        values: dict[str, Any] = {"kind": kind, "text": text, "human_factor": human}
        tail = text.rsplit("{", 1)[-1] if "{" in text else ""
        if tail and "}" not in tail and ":" in tail:
            raise InputError(
                "the {...} attributes are not closed with '}'",
                file=source,
                line=line,
                field=section.title,
            )
        if match:
            values.update(
                category=match.group("category").strip().lower(), text=match.group("text")
            )
            if match.group("meta"):
                try:
                    meta = yaml.safe_load(match.group("meta"))
                except yaml.YAMLError as exc:
                    raise InputError(
                        "malformed {...} attributes", file=source, line=line, field=section.title
                    ) from exc
                if not isinstance(meta, dict):
                    raise InputError(
                        "attributes must be a {key: value} mapping",
                        file=source,
                        line=line,
                        field=section.title,
                    )
                source_kind = meta.pop("source", None)
                ref = meta.pop("ref", None)
                if source_kind or ref:
                    values["provenance"] = {
                        k: v for k, v in (("source", source_kind), ("ref", ref)) if v
                    }
                values.update(meta)
        try:
            out.append(InsightCreate.model_validate(values))
        except ValidationError as exc:
            raise _wrap(exc, source, line, section.title) from exc
    return out


def _actions(section: Section, source: str, template: ReviewTemplate) -> list[ActionItemCreate]:
    out = []
    for line, row in parse_table(section, source, ACTION_COLS):
        effect = None
        if row["expected effect"]:
            parts = row["expected effect"].split()
            if len(parts) not in (2, 3):
                raise InputError(
                    "expected effect is 'metric direction [service]'",
                    file=source,
                    line=line,
                    field="Expected effect",
                )
            effect = {
                "metric": parts[0],
                "direction": parts[1],
                "service": parts[2] if len(parts) == 3 else None,
            }
        values = {
            "title": row["title"],
            "type": row["type"].lower() or "prevent",
            "owner": row["owner"] or None,
            "due": row["due"] or None,
            "priority": row["priority"].upper() or "P3",
            "status": row["status"].lower() or "open",
            "expected_effect": effect,
        }
        try:
            item = ActionItemCreate.model_validate(values)
        except ValidationError as exc:
            raise _wrap(exc, source, line, "Action items") from exc
        if template.rules.action_items_require_owner and not item.owner:
            raise InputError(
                "every action item needs an owner", file=source, line=line, field="Owner"
            )
        if template.rules.action_items_require_due and item.due is None:
            raise InputError(
                "every action item needs a due date", file=source, line=line, field="Due"
            )
        out.append(item)
    return out


def _signal_fences(
    section: Section, source: str
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The section's fenced blocks (line of the opening fence, body) and the lines outside them."""
    blocks: list[tuple[int, str]] = []
    outside: list[tuple[int, str]] = []
    opened: int | None = None
    body: list[str] = []
    for number, line in enumerate(section.lines, start=section.line + 1):
        if not line.lstrip().startswith("```"):
            if opened is None:
                outside.append((number, line))
            else:
                body.append(line)
        elif opened is not None:
            blocks.append((opened, "\n".join(body)))
            opened = None
        else:
            language = line.strip()[3:].strip().lower()
            if language not in ("", "yaml", "yml"):
                raise InputError(
                    f"Signals blocks are fenced YAML (```yaml), not {language!r}",
                    file=source,
                    line=number,
                    field="Signals",
                )
            opened, body = number, []
    if opened is not None:
        raise InputError(
            "the fenced block is not closed with ```", file=source, line=opened, field="Signals"
        )
    return blocks, outside


def _refuse_signal_prose(outside: list[tuple[int, str]], source: str) -> None:
    """Text outside the fenced blocks would be lost on import, so it is refused."""
    text = _HTML_COMMENT.sub(
        lambda m: "\n" * m.group(0).count("\n"), "\n".join(t for _, t in outside)
    )
    for (number, _), line in zip(outside, text.split("\n"), strict=True):
        if line.strip():
            raise InputError(
                "text outside the fenced YAML block(s) would be lost; move notes to another "
                "section (e.g. '## Signal notes', kept verbatim)",
                file=source,
                line=number,
                field="Signals",
            )


def _signal_block(fence_line: int, body: str, source: str) -> list[dict[str, Any]]:
    """One fenced block's proposals: a YAML list of mappings (an empty block has none)."""
    try:
        blocks = yaml.safe_load(body) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            "malformed YAML in the Signals block",
            file=source,
            line=fence_line + 1 + (mark.line if mark else 0),
            field="Signals",
        ) from exc
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise InputError(
            "the Signals block must be a YAML list of mappings",
            file=source,
            line=fence_line,
            field="Signals",
        )
    return blocks


def _signals(section: Section, source: str) -> list[dict[str, Any]]:
    """Every fenced YAML block's proposals, in order; prose outside the blocks is refused."""
    fenced, outside = _signal_fences(section, source)
    _refuse_signal_prose(outside, source)
    return [b for line, body in fenced for b in _signal_block(line, body, source)]


def _front(front: dict[str, Any], source: str) -> None:
    if front.get("lessonloop") != FORMAT_MARKER:
        raise InputError(
            f"front matter needs 'lessonloop: {FORMAT_MARKER}'",
            file=source,
            line=2,
            field="lessonloop",
        )
    if not front.get("incident"):
        raise InputError(
            "front matter needs the incident key", file=source, line=2, field="incident"
        )


def _front_key_line(text: str, key: str) -> int:
    """The 1-based line of a top-level front matter key (line 2 when not found)."""
    for number, line in enumerate(text.split("\n")[1:], start=2):
        if line.strip() in ("---", "..."):
            break
        if re.match(rf"{re.escape(key)}\s*:", line):
            return number
    return 2


def _written_at(value: Any, text: str, source: str) -> dt.datetime | None:
    """The front matter's written_at as an aware time (UTC when it names no offset), or None."""
    if value is None or value == "":
        return None
    parsed: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise InputError(
            f"written_at is not a date or time: {value!r} (use ISO 8601, "
            "e.g. 2026-03-04T09:00:00Z)",
            file=source,
            line=_front_key_line(text, "written_at"),
            field="written_at",
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _require_sections(
    template: ReviewTemplate, seen: set[str], empty: list[Section], source: str
) -> None:
    """Refuse a file with required sections missing or blank, naming all of them at once."""
    missing = [s.title for s in template.sections if s.required and s.key not in seen]
    problems = [f"missing required section(s): {', '.join(missing)}"] if missing else []
    if empty:
        listed = ", ".join(f"'{s.title}' (line {s.line})" for s in empty)
        problems.append(f"required section(s) empty: {listed}")
    if problems:
        first = empty[0] if empty and not missing else None
        raise InputError(
            "; ".join(problems),
            file=source,
            line=first.line if first else None,
            field=first.title if first else (missing or [""])[0],
        )


def parse_review(data: bytes | str, source: str, template: ReviewTemplate) -> ParsedReview:
    """Parse a review file; any problem is one InputError naming file, line and field."""
    text = decode_text(data, source) if isinstance(data, bytes) else data
    doc = split_document(text, source)
    front = doc.front_matter
    _front(front, source)
    specs = template.by_title()
    values: dict[str, Any] = {
        "incident_key": str(front["incident"]),
        "title": str(front.get("title") or doc.title or front["incident"]),
        "template": template.name,
        "template_version": template.version,
        "authors": [str(a) for a in front.get("authors") or []],
        "participants": [str(a) for a in front.get("participants") or []],
        "source_file": source,
    }
    insights: list[InsightCreate] = []
    extra: dict[str, str] = {}
    seen: set[str] = set()
    empty: list[Section] = []  # required prose sections left blank
    for section in doc.sections:
        spec = specs.get(section.title.lower())
        if spec is None:
            extra[section.title] = section.text
            continue
        if spec.key in seen:
            raise InputError(
                f"section '{section.title}' appears twice",
                file=source,
                line=section.line,
                field=section.title,
            )
        seen.add(spec.key)
        if spec.shape == "prose":
            values[spec.key] = section.text
            if spec.required and not section.text:
                empty.append(section)
        elif spec.shape == "list":
            values[spec.key] = [t for _, t in parse_bullets(section)]
        elif spec.shape == "timeline":
            events = []
            for line, row in parse_table(section, source, TIMELINE_COLS):
                try:
                    events.append(
                        TimelineEvent.model_validate(
                            {
                                "at": _time(row["at (utc)"], source, line, "At (UTC)"),
                                "kind": row["kind"].lower(),
                                "marker": row["marker"].lower() or None,
                                "actor": row["actor"] or None,
                                "text": row["event"],
                            }
                        )
                    )
                except ValidationError as exc:
                    raise _wrap(exc, source, line, "Timeline") from exc
            values["timeline"] = events
        elif spec.shape == "decisions":
            values["decision_points"] = [
                DecisionPoint(
                    at=_time(row["at (utc)"], source, line, "At (UTC)")
                    if row["at (utc)"]
                    else None,
                    decision=row["decision"],
                    alternatives=row["alternatives"],
                    information_available=row["information available"],
                    outcome=row["outcome"],
                )
                for line, row in parse_table(section, source, DECISION_COLS)
            ]
        elif spec.shape == "alerts":
            notes = []
            for line, row in parse_table(section, source, ALERT_COLS):
                try:
                    notes.append(
                        AlertNote.model_validate(
                            {
                                "alert": row["alert"],
                                "verdict": row["verdict"].lower(),
                                "reason": row["reason"],
                            }
                        )
                    )
                except ValidationError as exc:
                    raise _wrap(exc, source, line, "Alerts") from exc
            values["alert_notes"] = notes
        elif spec.shape == "insights":
            kind = (
                InsightKind.RECOMMENDATION
                if spec.key == "recommendations"
                else InsightKind.OBSERVATION
            )
            insights += _insights(section, kind, source, human=spec.key == "human_factors")
        elif spec.shape == "actions":
            values["action_items"] = _actions(section, source, template)
        elif spec.shape == "signals":
            values["signal_blocks"] = _signals(section, source)
    _require_sections(template, seen, empty, source)
    values["insights"] = insights
    values["extra_sections"] = extra
    try:
        review = ReviewCreate.model_validate(values)
    except ValidationError as exc:
        raise _wrap(exc, source, doc.front_matter_line, "front matter") from exc
    incident = {k: front[k] for k in INCIDENT_FIELDS if front.get(k) is not None}
    return ParsedReview(
        review=review,
        incident=incident,
        review_id=front.get("review_id") if isinstance(front.get("review_id"), int) else None,
        written_at=_written_at(front.get("written_at"), text, source),
    )


def _bullets(items: list[str]) -> list[str]:
    return [f"- {item}" for item in items]


def _insight_line(insight: InsightCreate) -> str:
    meta: dict[str, Any] = {
        "confidence": insight.confidence,
        "source": insight.provenance.source.value,
    }
    if insight.provenance.ref:
        meta["ref"] = insight.provenance.ref
    if insight.services:
        meta["services"] = insight.services
    if insight.tags:
        meta["tags"] = insight.tags
    flow = yaml.safe_dump(meta, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return f"- [{insight.category.value}] {' '.join(insight.text.split())} {flow}"


# Table-shaped sections get their header row even when empty, so a reviewer sees the columns.
_EMPTY_TABLES = {
    "timeline": TIMELINE_COLS,
    "decisions": DECISION_COLS,
    "alerts": ALERT_COLS,
    "actions": ACTION_COLS,
}


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(escape_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_review(
    review: ReviewCreate, template: ReviewTemplate, *, front: dict[str, Any] | None = None
) -> str:
    """The review as Markdown in the template's section order (prompts for empty sections)."""
    matter = {
        "lessonloop": FORMAT_MARKER,
        "incident": review.incident_key,
        "template": template.name,
        "template_version": template.version,
        "title": review.title,
        **(front or {}),
        "authors": review.authors,
        "participants": review.participants,
    }
    out = [
        "---",
        yaml.safe_dump(matter, sort_keys=False, allow_unicode=True).strip(),
        "---",
        "",
        f"# {review.title}",
        "",
    ]
    for spec in template.sections:
        body: list[str] = []
        if spec.shape == "prose":
            text = getattr(review, spec.key, "")
            body = [text] if text else []
        elif spec.shape == "list":
            body = _bullets(getattr(review, spec.key, []))
        elif spec.shape == "timeline" and review.timeline:
            body = _table(
                TIMELINE_COLS,
                [
                    [
                        _fmt_time(e.at),
                        e.kind.value,
                        e.marker.value if e.marker else "",
                        e.actor or "",
                        e.text,
                    ]
                    for e in review.timeline
                ],
            )
        elif spec.shape == "decisions" and review.decision_points:
            body = _table(
                DECISION_COLS,
                [
                    [
                        _fmt_time(d.at) if d.at else "",
                        d.decision,
                        d.alternatives,
                        d.information_available,
                        d.outcome,
                    ]
                    for d in review.decision_points
                ],
            )
        elif spec.shape == "alerts" and review.alert_notes:
            body = _table(
                ALERT_COLS, [[a.alert, a.verdict.value, a.reason] for a in review.alert_notes]
            )
        elif spec.shape == "insights":
            chosen = [
                i
                for i in review.insights
                if (spec.key == "human_factors" and i.human_factor)
                or (
                    spec.key == "observations"
                    and not i.human_factor
                    and i.kind == InsightKind.OBSERVATION
                )
                or (
                    spec.key == "recommendations"
                    and not i.human_factor
                    and i.kind == InsightKind.RECOMMENDATION
                )
            ]
            body = [_insight_line(i) for i in chosen]
        elif spec.shape == "actions" and review.action_items:
            body = _table(
                ACTION_COLS,
                [
                    [
                        a.title,
                        a.type.value,
                        a.owner or "",
                        a.due.isoformat() if a.due else "",
                        a.priority.value,
                        a.status.value,
                        a.expected_effect.as_text() if a.expected_effect else "",
                    ]
                    for a in review.action_items
                ],
            )
        elif spec.shape == "signals" and review.signal_blocks:
            dumped = yaml.safe_dump(review.signal_blocks, sort_keys=False).strip()
            body = ["```yaml", dumped, "```"]
        if not body and not spec.required and spec.shape == "signals":
            continue
        out.append(f"## {spec.title}")
        out.append("")
        if body:
            out.extend(body)
        else:  # an empty section: what to write, whether it is required, the table to fill
            must = spec.required and spec.shape == "prose"  # import refuses these blank
            prompt = " ".join(p for p in ("Required." if must else "", spec.prompt) if p)
            out.extend([f"<!-- {prompt} -->"] if prompt else [])
            if spec.shape in _EMPTY_TABLES:
                out.extend(_table(_EMPTY_TABLES[spec.shape], []))
        out.append("")
    for title, text in review.extra_sections.items():
        out += [f"## {title}", "", text, ""] if text else [f"## {title}", ""]
    return "\n".join(out).rstrip() + "\n"
