"""Markdown building blocks with line numbers: front matter, level-2 sections, tables, bullets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from lessonloop.errors import InputError

__all__ = [
    "Section",
    "Document",
    "split_document",
    "parse_table",
    "parse_bullets",
    "escape_cell",
    "MAX_BYTES",
    "decode_text",
]

MAX_BYTES = 5 * 1024 * 1024
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")


@dataclass
class Section:
    title: str
    line: int  # 1-based line of the heading
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The section's text without template prompts (HTML comments)."""
        return _COMMENT.sub("", "\n".join(self.lines)).strip()


@dataclass
class Document:
    front_matter: dict[str, Any]
    front_matter_line: int
    title: str | None
    preamble: str
    sections: list[Section]


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text of a file within the size limit, or an InputError saying why not."""
    if len(data) > MAX_BYTES:
        raise InputError(
            f"file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_BYTES / 2**20:.0f} MiB",
            file=source,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", file=source, line=line
        ) from exc
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _front_matter(lines: list[str], source: str) -> tuple[dict[str, Any], int]:
    if not lines or lines[0].strip() != "---":
        raise InputError(
            "missing YAML front matter (the file must start with '---')", file=source, line=1
        )
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise InputError("front matter is not closed by a '---' line", file=source, line=1)
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise InputError(
            f"malformed YAML front matter: {getattr(exc, 'problem', exc)}", file=source, line=line
        ) from exc
    if not isinstance(data, dict):
        raise InputError("front matter must be a YAML mapping", file=source, line=2)
    return data, end + 1


def split_document(text: str, source: str) -> Document:
    lines = text.split("\n")
    front, end = _front_matter(lines, source)
    title: str | None = None
    preamble: list[str] = []
    sections: list[Section] = []
    in_fence = False
    for number, line in enumerate(lines[end:], start=end + 1):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            sections.append(Section(title=heading.group(1).strip(), line=number))
        elif sections:
            sections[-1].lines.append(line)
        elif line.startswith("# ") and title is None:
            title = line[2:].strip()
        else:
            preamble.append(line)
    return Document(front, 2, title, "\n".join(preamble).strip(), sections)


def _cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    parts = re.split(r"(?<!\\)\|", body)
    return [p.strip().replace("\\|", "|").replace("<br>", "\n") for p in parts]


def escape_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", "<br>")


def parse_table(
    section: Section, source: str, columns: list[str]
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a pipe table as {column: text}, with their line numbers; headers must match."""
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    wanted = [c.lower() for c in columns]
    for offset, line in enumerate(section.lines, start=1):
        number = section.line + offset
        if not line.strip().startswith("|"):
            if line.strip() and header is not None and _COMMENT.sub("", line).strip():
                raise InputError(
                    "text after the table; keep one table per section",
                    file=source,
                    line=number,
                    field=section.title,
                )
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            missing = [c for c in wanted if c not in header]
            if missing:
                raise InputError(
                    f"table needs columns {columns}; missing {missing}",
                    file=source,
                    line=number,
                    field=section.title,
                )
            continue
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue
        if [c.lower() for c in cells] == header:  # the header again: a table pasted under it
            continue
        if len(cells) != len(header):
            raise InputError(
                f"row has {len(cells)} cells; the header has {len(header)}",
                file=source,
                line=number,
                field=section.title,
            )
        rows.append((number, {col: cells[header.index(col)] for col in wanted}))
    return rows


def parse_bullets(section: Section) -> list[tuple[int, str]]:
    """Bullet items with their line numbers; indented continuation lines join the item."""
    items: list[tuple[int, str]] = []
    for offset, line in enumerate(section.lines, start=1):
        match = _BULLET.match(line)
        if match:
            items.append((section.line + offset, match.group(1).strip()))
        elif items and line.startswith((" ", "\t")) and line.strip():
            number, text = items[-1]
            items[-1] = (number, f"{text} {line.strip()}")
    return items
