"""Postmortem Markdown with YAML front matter: a strict reader for the subset such files use.

Supported in the front matter: ``key: scalar`` (plain, 'single' or "double" quoted; a plain
``null`` or ``~`` is no value), flow lists ``key: [a, "b"]``, block lists (``key:`` then
``- item`` lines), literal and folded block scalars (``|`` / ``>``), plain scalars continued on
indented lines, comments and blank lines. Only an unindented ``---`` closes the front matter.
Anything else (nested mappings, anchors, tabs for indentation) raises ``InputError`` naming the
file and line, so a broken file is reported instead of half-read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lessonloop.errors import InputError

__all__ = [
    "DOCUMENT_TEXT_MODES",
    "PostmortemDocument",
    "parse_front_matter",
    "parse_postmortem",
    "with_document_text",
]

DOCUMENT_TEXT_MODES = ("title+summary", "all-fields")

_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)\s*:(?:\s+(.*))?$")
_FENCE = "---"
_NULLS = ("null", "Null", "NULL", "~")

FrontMatterValue = str | list[str] | None


@dataclass(frozen=True)
class PostmortemDocument:
    """One postmortem: identity, the text to learn from, and its reviewer labels (if any)."""

    name: str
    title: str
    summary: str
    text: str
    categories: tuple[str, ...]
    lead: str = ""
    company: str = ""
    url: str = ""
    keywords: tuple[str, ...] = ()
    body: str = ""
    metadata: dict[str, FrontMatterValue] = field(default_factory=dict)

    @property
    def is_labeled(self) -> bool:
        """Whether a reviewer assigned at least one category (only these are scored)."""
        return bool(self.categories)


def _unquote(raw: str, name: str, line: int) -> str:
    """Turn one scalar token into its string value."""
    value = raw.strip()
    if not value:
        return ""
    if value[0] == "'":
        if len(value) < 2 or value[-1] != "'":
            raise InputError("unterminated single-quoted string", file=name, line=line)
        return value[1:-1].replace("''", "'")
    if value[0] == '"':
        if len(value) < 2 or value[-1] != '"':
            raise InputError("unterminated double-quoted string", file=name, line=line)
        inner = value[1:-1]
        escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/"}
        return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), inner)
    if value[0] in "&*!{":
        raise InputError(f"unsupported YAML construct {value[0]!r}", file=name, line=line)
    return re.sub(r"\s+#.*$", "", value)


def _list_item(raw: str, name: str, line: int, key: str) -> str:
    """One list item's string; an unquoted null (``null``, ``~``) is refused, since a list of
    strings cannot hold it and reading it as the word "null" would make it a value."""
    if re.sub(r"\s+#.*$", "", raw.strip()) in _NULLS:
        raise InputError(
            f"a null item in the list of {key!r}: leave it out (no values is [])",
            file=name,
            line=line,
            field=key,
        )
    return _unquote(raw, name, line)


def _split_flow_list(raw: str, name: str, line: int, key: str) -> list[str]:
    """Parse ``[a, 'b, c', "d"]`` into its items."""
    inner = raw.strip()
    if not inner.endswith("]"):
        raise InputError("unterminated flow list", file=name, line=line)
    inner = inner[1:-1]
    items: list[str] = []
    current = ""
    quote = ""
    for char in inner:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
    if quote:
        raise InputError("unterminated string in flow list", file=name, line=line)
    if current.strip():
        items.append(current)
    return [_list_item(item, name, line, key) for item in items if item.strip()]


def parse_front_matter(text: str, name: str) -> tuple[dict[str, FrontMatterValue], str, int]:
    """Split a Markdown file into (front matter mapping, body, 1-based line of the body)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != _FENCE:
        raise InputError("file does not start with '---' front matter", file=name, line=1)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == _FENCE)
    except StopIteration:
        raise InputError("front matter is not closed by '---'", file=name, line=1) from None
    mapping: dict[str, FrontMatterValue] = {}
    key: str | None = None
    block_style = ""
    block_lines: list[str] = []
    for index in range(1, end):
        line_no = index + 1
        line = lines[index]
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise InputError("tab used for indentation", file=name, line=line_no)
        stripped = line.strip()
        if block_style and (not stripped or line.startswith((" ", "\t"))):
            block_lines.append(stripped)
            continue
        if block_style and key is not None:
            mapping[key] = _join_block(block_lines, block_style)
            block_style, block_lines = "", []
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") or stripped == "-":
            current = mapping.get(key) if key is not None else None
            if key is None or not isinstance(current, list):
                raise InputError("list item outside a list", file=name, line=line_no)
            item = stripped[1:].strip()
            if item[:1] not in ("'", '"') and (": " in item or item.endswith(":")):
                raise InputError(
                    "a list item that is a mapping is not supported (write the value alone)",
                    file=name,
                    line=line_no,
                    field=key,
                )
            current.append(_list_item(stripped[1:], name, line_no, key))
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            if line.startswith(" ") and ": " in stripped:
                raise InputError("nested mappings are not supported", file=name, line=line_no)
            if line.startswith(" ") and key is not None and isinstance(mapping.get(key), str):
                mapping[key] = f"{mapping[key]} {stripped}".strip()
                continue
            raise InputError(
                f"cannot parse front matter line {stripped[:40]!r}", file=name, line=line_no
            )
        key, raw = match.group(1), (match.group(2) or "").strip()
        if key in mapping:
            raise InputError(f"duplicate key {key!r}", file=name, line=line_no, field=key)
        if raw == "":
            mapping[key] = []
        elif raw.startswith("["):
            mapping[key] = _split_flow_list(raw, name, line_no, key)
        elif raw[0] in "|>":
            block_style, block_lines = raw[0], []
            mapping[key] = ""
        elif re.sub(r"\s+#.*$", "", raw) in _NULLS:
            mapping[key] = None
        else:
            mapping[key] = _unquote(raw, name, line_no)
    if block_style and key is not None:
        mapping[key] = _join_block(block_lines, block_style)
    return mapping, "\n".join(lines[end + 1 :]), end + 2


def _join_block(block_lines: list[str], style: str) -> str:
    """Join a literal (``|``) or folded (``>``) block scalar."""
    while block_lines and not block_lines[-1]:
        block_lines.pop()
    return "\n".join(block_lines) if style == "|" else " ".join(x for x in block_lines if x)


def _as_text(value: FrontMatterValue) -> str:
    """A front-matter value as a string; empty lists (``key:`` alone) read as empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value)
    return value


def _as_tuple(value: FrontMatterValue) -> tuple[str, ...]:
    """A front-matter value that must be a list (a lone scalar becomes a one-item list)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    return tuple(item.strip() for item in value if item.strip())


def _key_line(text: str, key: str) -> int | None:
    """The 1-based line where ``key:`` is written in the front matter."""
    for number, line in enumerate(text.lstrip("\ufeff").splitlines()[1:], start=2):
        match = _KEY_LINE.match(line)
        if match is not None and match.group(1) == key:
            return number
    return None


def _categories(mapping: dict[str, FrontMatterValue], text: str, name: str) -> tuple[str, ...]:
    """The reviewer's categories, lower case; ``a, b`` written as one plain value is refused.

    Labels are matched without regard to case everywhere in Lessonloop, so ``Cloud`` is
    ``cloud``. A comma in a lone value is almost always a list written without brackets.
    """
    value = mapping.get("categories")
    if isinstance(value, str) and "," in value:
        raise InputError(
            f"{value!r} is one category with commas in it; write a list: [{value}]",
            file=name,
            line=_key_line(text, "categories"),
            field="categories",
        )
    return tuple(dict.fromkeys(c.lower() for c in _as_tuple(value)))


def _first_paragraph(body: str) -> str:
    """The first non-heading paragraph of a Markdown body."""
    for block in re.split(r"\n\s*\n", body.strip()):
        cleaned = block.strip()
        if cleaned and not cleaned.startswith(("#", "---")):
            return " ".join(cleaned.split())
    return ""


def parse_postmortem(text: str, name: str) -> PostmortemDocument:
    """Read one postmortem file's content; the learning text is title + summary.

    When ``summary`` is missing the first body paragraph stands in for it (B2 protocol).
    """
    mapping, body, _ = parse_front_matter(text, name)
    title = _as_text(mapping.get("title")).strip()
    summary = _as_text(mapping.get("summary")).strip()
    lead = summary or _first_paragraph(body)
    document_text = "\n".join(part for part in (title, lead) if part)
    return PostmortemDocument(
        name=name,
        title=title,
        summary=summary,
        text=document_text,
        categories=_categories(mapping, text, name),
        lead=lead,
        company=_as_text(mapping.get("company")).strip(),
        url=_as_text(mapping.get("url")).strip(),
        keywords=_as_tuple(mapping.get("keywords")),
        body=body,
        metadata=mapping,
    )


def with_document_text(document: PostmortemDocument, mode: str) -> PostmortemDocument:
    """The document with its learning text rebuilt: "title+summary" (B2) or "all-fields".

    "all-fields" adds the front matter's keywords and product and the (machine-expanded) body;
    it is outside the B2 protocol and only measured to show what longer review text buys.
    """
    if mode == "title+summary":
        return document
    if mode != "all-fields":
        raise InputError(f"unknown document text mode {mode!r}", field="document_text")
    product = _as_text(document.metadata.get("product")).strip()
    parts = (document.text, " ".join(document.keywords), product, document.body.strip())
    return replace(document, text="\n".join(part for part in parts if part))
