"""Lossless workspace dump: every table's rows as JSON lines, in a fixed order, and back."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from lessonloop.domain.common import canonical_json
from lessonloop.errors import Conflict, InputError
from lessonloop.storage.tables import Base

__all__ = ["FORMAT", "Rewrite", "count_rows", "export_rows", "import_rows"]

FORMAT = "lessonloop-workspace/1"
BATCH = 2000
# Tables a fresh workspace already fills with defaults; the dump's rows replace them.
REPLACED_ON_IMPORT = ("taxonomy_terms",)


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.astimezone(dt.UTC).isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$dt":
            return dt.datetime.fromisoformat(inner)
        if key == "$date":
            return dt.date.fromisoformat(inner)
        if key == "$b64":
            return base64.b64decode(inner)
    return value


def count_rows(session: Session) -> int:
    """Rows a dump of this workspace will hold (for progress displays)."""
    return sum(session.scalar(select(func.count()).select_from(t)) or 0 for t in _tables())


Rewrite = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(table name, row) -> the row as written or read; lets callers make paths portable."""


def export_rows(
    session: Session,
    progress: Callable[[int], None] | None = None,
    *,
    rewrite: Rewrite | None = None,
    header: dict[str, Any] | None = None,
) -> Iterator[str]:
    """Yield the dump line by line: a header (with ``header``'s fields added), then each
    table's rows ordered by primary key."""
    tables = _tables()
    counts = {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
    yield canonical_json({**(header or {}), "format": FORMAT, "tables": counts})
    for table in tables:
        names = [c.name for c in table.columns]
        for row in session.execute(select(table).order_by(*table.primary_key.columns)):
            record = {name: _encode(value) for name, value in zip(names, row, strict=True)}
            if rewrite is not None:
                record = rewrite(table.name, record)
            yield canonical_json({"table": table.name, "row": record})
            if progress:
                progress(1)


def _parse(lines: Iterable[str], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc.msg}", file=source, line=number) from exc
        if not isinstance(record, dict):
            raise InputError("not a JSON object", file=source, line=number)
        yield number, record


def import_rows(
    session: Session,
    stream: IO[str],
    source: str,
    progress: Callable[[int], None] | None = None,
    *,
    rewrite: Rewrite | None = None,
    extra: Callable[[dict[str, Any], int], None] | None = None,
) -> dict[str, int]:
    """Load a dump into an empty workspace inside the caller's transaction; counts per table.

    Lines after the table rows that are not rows (e.g. model artifacts) go to ``extra``
    with their line number; without it they are an error.
    """
    tables = {t.name: t for t in _tables()}
    for table in tables.values():
        if table.name in REPLACED_ON_IMPORT:
            continue
        if session.scalar(select(func.count()).select_from(table)):
            raise Conflict(
                f"the workspace is not empty (table {table.name} has rows); "
                "import a workspace dump into a fresh workspace"
            )
    for name in REPLACED_ON_IMPORT:  # a fresh workspace's seeded defaults give way to the dump's
        session.execute(delete(tables[name]))
    parsed = _parse(stream, source)
    first = next(parsed, None)
    if first is None or first[1].get("format") != FORMAT:
        raise InputError(
            f"not a Lessonloop workspace dump (expected format {FORMAT})",
            file=source,
            line=1,
            field="format",
        )
    counts: dict[str, int] = {}
    pending: dict[str, list[dict[str, Any]]] = {}
    lines: dict[str, list[int]] = {}

    def flush(name: str) -> None:
        if pending.get(name):
            try:
                session.execute(insert(tables[name]), pending[name])
            except (StatementError, AttributeError, TypeError, ValueError) as exc:
                first, last = lines[name][0], lines[name][-1]
                cause = getattr(exc, "orig", None) or exc
                raise InputError(
                    f"rows of table {name} on lines {first}-{last} do not fit the schema "
                    f"({type(cause).__name__}: {str(cause).splitlines()[0][:200]})",
                    file=source,
                    line=first,
                    field="row",
                ) from None
            pending[name], lines[name] = [], []

    order = list(tables)
    last_index = 0
    extras = False
    for number, record in parsed:
        if "table" not in record and "artifact" in record and extra is not None:
            for name in order[last_index:]:
                flush(name)
            last_index, extras = len(order), True
            extra(record, number)
            continue
        if extras:
            raise InputError("table rows after the artifacts", file=source, line=number)
        name = str(record.get("table"))
        if name not in tables or not isinstance(record.get("row"), dict):
            raise InputError(f"unknown table {name!r}", file=source, line=number, field="table")
        index = order.index(name)
        if index < last_index:
            raise InputError("rows out of table order", file=source, line=number, field="table")
        if index > last_index:
            for earlier in order[last_index:index]:
                flush(earlier)
            last_index = index
        columns = {c.name for c in tables[name].columns}
        row = record["row"]
        unknown = set(row) - columns
        if unknown:
            raise InputError(
                f"unknown column(s) {sorted(unknown)} for table {name}",
                file=source,
                line=number,
                field="row",
            )
        if rewrite is not None:
            row = rewrite(name, row)
        pending.setdefault(name, []).append({k: _decode(v) for k, v in row.items()})
        lines.setdefault(name, []).append(number)
        counts[name] = counts.get(name, 0) + 1
        if len(pending[name]) >= BATCH:
            flush(name)
        if progress:
            progress(1)
    for name in order:
        flush(name)
    if session.get_bind().dialect.name == "postgresql":
        _reset_sequences(session)
    return counts


def _reset_sequences(session: Session) -> None:
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
                )
            )
