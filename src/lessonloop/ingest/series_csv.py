"""Metric series from CSV: ``timestamp,value[,label]`` with configurable column names.

Timestamps are ISO 8601 (naive = UTC) or epoch seconds; a label column splits the file into
one series per label value, named ``<name>:<label>``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from lessonloop.errors import InputError
from lessonloop.ingest.source_documents import (
    ImportBatch,
    Located,
    SeriesData,
    decode_utf8,
    parse_time,
    slug_key,
)

__all__ = ["CsvColumns", "parse_series_csv", "series_from_points"]


@dataclass(frozen=True)
class CsvColumns:
    """Header names of the timestamp, value and (optional) label columns."""

    timestamp: str = "timestamp"
    value: str = "value"
    label: str | None = "label"


def series_from_points(name: str, points: list[tuple[int, float]]) -> SeriesData:
    """A series sorted by time; a repeated timestamp keeps the last value read."""
    by_time = dict(points)
    ordered = sorted(by_time.items())
    return SeriesData(
        name=name,
        timestamps=np.array([t for t, _ in ordered], dtype="<i8"),
        values=np.array([v for _, v in ordered], dtype="<f8"),
    )


def _header_index(header: list[str], name: str, source: str, *, required: bool) -> int | None:
    cleaned = [column.strip() for column in header]
    if name in cleaned:
        return cleaned.index(name)
    if required:
        raise InputError(
            f"no column {name!r} in the header ({', '.join(cleaned)})",
            file=source,
            line=1,
            field=name,
        )
    return None


def _epoch_seconds(cells: list[str]) -> np.ndarray | None:
    """Vectorised timestamps for the common shapes (epoch seconds, ISO 8601 in UTC), else None."""
    if all(c.isdigit() for c in cells[:50]):
        try:
            return np.array(cells, dtype=np.int64)
        except ValueError:
            return None
    trimmed = [c[:-1] if c.endswith("Z") else c[:-6] if c.endswith("+00:00") else c for c in cells]
    try:
        stamps = np.array(trimmed, dtype="datetime64[s]")
    except ValueError:
        return None
    if np.isnat(stamps).any():
        return None
    return stamps.astype(np.int64)


def _vectorised(
    rows: list[list[str]], width: int, ts_index: int, value_index: int, name: str
) -> SeriesData | None:
    """The fast path for clean files; None sends the file to the row-by-row path for errors."""
    body = [row for row in rows if any(cell.strip() for cell in row)]
    if not body or any(len(row) != width for row in body):
        return None
    cells = [row[ts_index].strip() for row in body]
    if any(("+" in c[10:] or c.count("-") > 2) and not c.endswith("+00:00") for c in cells):
        return None  # offsets other than UTC: let the careful parser convert them
    times = _epoch_seconds(cells)
    if times is None:
        return None
    try:
        values = np.array([row[value_index] for row in body], dtype=np.float64)
    except ValueError:
        return None
    if np.isinf(values).any():
        return None
    # Sort by time; on a repeated timestamp the last value read wins (as in the careful path).
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    keep = np.append(times[1:] != times[:-1], True)
    return SeriesData(
        name=name, timestamps=times[keep].astype("<i8"), values=values[keep].astype("<f8")
    )


def parse_series_csv(
    data: bytes, source: str, *, name: str, columns: CsvColumns = CsvColumns()
) -> ImportBatch:
    """Series from a CSV file; every bad cell is an InputError naming line and column."""
    text = decode_utf8(data, source)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", file=source) from None
    if not rows:
        raise InputError("empty file: expected a header line", file=source, line=1)
    header = rows[0]
    ts_index = _header_index(header, columns.timestamp, source, required=True)
    value_index = _header_index(header, columns.value, source, required=True)
    label_index = (
        _header_index(header, columns.label, source, required=False) if columns.label else None
    )
    if label_index is None:
        fast = _vectorised(rows[1:], len(header), ts_index or 0, value_index or 0, name)
        if fast is not None:
            return ImportBatch(series=[fast])
    grouped: dict[str, list[tuple[int, float]]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} cells, the header has {len(header)}", file=source, line=line
            )
        where = Located(None, source, columns.timestamp, line)
        moment = parse_time(row[ts_index or 0], where)
        try:
            value = float(row[value_index])  # type: ignore[index]
        except ValueError:
            raise InputError(
                f"not a number: {row[value_index]!r}",  # type: ignore[index]
                file=source,
                line=line,
                field=columns.value,
            ) from None
        if math.isinf(value):
            raise InputError("infinite value", file=source, line=line, field=columns.value)
        label = row[label_index].strip() if label_index is not None else ""
        series_name = f"{name}:{slug_key(label)}" if label else name
        grouped.setdefault(series_name, []).append((int(moment.timestamp()), value))
    if not grouped:
        raise InputError("no data rows after the header", file=source, line=2)
    return ImportBatch(series=[series_from_points(n, p) for n, p in grouped.items()])
