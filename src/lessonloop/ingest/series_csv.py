"""Metric series from CSV: ``timestamp,value[,label]`` with configurable column names.

Timestamps are ISO 8601 (naive = UTC) or epoch seconds, in the years 1000-2200, stored to the
second; values are finite numbers within +-1e100. A label column splits the file into one series
per label value, named ``<name>:<label>``. Rows that repeat a series' timestamp keep the last
value read, and the batch says how many there were.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from lessonloop.domain.promql import LABEL_NAME
from lessonloop.errors import InputError
from lessonloop.ingest.source_documents import (
    ImportBatch,
    Located,
    SeriesData,
    decode_utf8,
    parse_time,
    slug_key,
)

__all__ = [
    "CsvColumns",
    "csv_records",
    "parse_series_csv",
    "series_from_points",
    "series_label",
    "repeated_times_warning",
    "epoch_problem",
    "value_problem",
    "MAX_ABS_VALUE",
]

DEFAULT_LABEL = "label"
_MIN_SECONDS = int(dt.datetime(1000, 1, 1, tzinfo=dt.UTC).timestamp())
_MAX_SECONDS = int(dt.datetime(2200, 1, 1, tzinfo=dt.UTC).timestamp())
_NUMBER = re.compile(r"-?\d+(?:\.\d*)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LABEL_KEY_LENGTH = 120
MAX_ABS_VALUE = 1e100  # beyond it, the squares in rolling variances overflow a float
_FINER_UNITS = (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9))


@dataclass(frozen=True)
class CsvColumns:
    """Header names of the timestamp, value and label columns.

    The label column is optional under its default name ``label``; a column the user named
    (any other name, or ``label_required``) must exist.
    """

    timestamp: str = "timestamp"
    value: str = "value"
    label: str | None = DEFAULT_LABEL
    label_required: bool = False


def _shown(seconds: float) -> str:
    if abs(seconds) >= 1e30:
        return "a huge number"
    return str(int(seconds)) if seconds == int(seconds) else repr(float(seconds))


def epoch_problem(seconds: float) -> str | None:
    """Why a number cannot be epoch seconds in the years 1970-2200, or None if it can."""
    if seconds < 0:
        return f"{_shown(seconds)} is negative: give epoch seconds (since 1970) or ISO 8601"
    if seconds < _MAX_SECONDS:
        return None
    for unit, factor in _FINER_UNITS:
        if seconds < _MAX_SECONDS * factor:
            return f"{_shown(seconds)} is after 2200 as epoch seconds: looks like epoch {unit}"
    return f"{_shown(seconds)} is after 2200 as epoch seconds (allowed: years 1000-2200)"


def value_problem(value: float) -> str | None:
    """Why a value cannot be stored (NaN or infinite), or None for a finite number."""
    if math.isnan(value):
        return "NaN value (not a number); only finite numbers can be imported"
    if math.isinf(value):
        return "infinite value"
    if abs(value) > MAX_ABS_VALUE:
        return f"{value!r} is beyond +-1e100, too large to score (rescale the series)"
    return None


def series_label(label: str) -> str:
    """The series-name suffix of a label: its slug, cut to 120 characters with a hash of the
    whole label when cut, so two long labels never share a name."""
    whole = slug_key(label, limit=None)
    if len(whole) <= _LABEL_KEY_LENGTH:
        return whole
    digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:8]
    return f"{whole[: _LABEL_KEY_LENGTH - 9].rstrip('-._:/')}-{digest}"


def repeated_times_warning(name: str, repeats: int, where: str) -> str:
    """The warning for rows that repeated a series' timestamp (the last value read was kept)."""
    rows = "row repeats" if repeats == 1 else "rows repeat"
    return (
        f"series {name!r}: {repeats} {rows} an earlier timestamp to the second (first at "
        f"{where}); the last value read at each time was kept"
    )


def series_from_points(
    name: str, points: list[tuple[int, float]], labels: dict[str, str] | None = None
) -> SeriesData:
    """A series sorted by time; a repeated timestamp keeps the last value read."""
    by_time = dict(points)
    ordered = sorted(by_time.items())
    return SeriesData(
        name=name,
        timestamps=np.array([t for t, _ in ordered], dtype="<i8"),
        values=np.array([v for _, v in ordered], dtype="<f8"),
        labels=dict(labels or {}),
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
    if all(c.isascii() and c.isdigit() for c in cells):
        try:
            return np.array(cells, dtype=np.int64)
        except (ValueError, OverflowError):
            return None
    if not all(_ISO_DATE.match(c) for c in cells):
        return None  # numpy would read "2025" as a year and "now" as the clock
    trimmed = [c[:-1] if c.endswith("Z") else c[:-6] if c.endswith("+00:00") else c for c in cells]
    try:
        stamps = np.array(trimmed, dtype="datetime64[s]")
    except ValueError:
        return None
    if np.isnat(stamps).any():
        return None
    return stamps.astype(np.int64)


def _vectorised(
    rows: list[list[str]],
    lines: list[int],
    width: int,
    columns: tuple[int, int],
    name: str,
    source: str,
) -> ImportBatch | None:
    """The fast path for clean files; None sends the file to the row-by-row path for errors.

    ``columns`` are the timestamp and value indexes, ``lines`` where each row starts.
    """
    ts_index, value_index = columns
    # a row with something in it ("".join(row).strip() is any(c.strip() for c in row), faster)
    kept = [(line, row) for line, row in zip(lines, rows, strict=True) if "".join(row).strip()]
    body = [row for _, row in kept]
    if not body or any(len(row) != width for row in body):
        return None
    cells = [row[ts_index].strip() for row in body]
    if any(("+" in c[10:] or c.count("-") > 2) and not c.endswith("+00:00") for c in cells):
        return None  # offsets other than UTC: let the careful parser convert them
    times = _epoch_seconds(cells)
    if times is None or times.min() < _MIN_SECONDS or times.max() >= _MAX_SECONDS:
        return None
    try:
        values = np.array([row[value_index] for row in body], dtype=np.float64)
    except ValueError:
        return None
    if not (np.abs(values) <= MAX_ABS_VALUE).all():  # NaN, infinite or too large
        return None
    # Sort by time (rows of one time stay in file order); the last value read at a time wins
    # and the rows repeating an earlier time are counted, as in the careful path.
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    repeat = times[1:] == times[:-1]
    batch = ImportBatch()
    if repeat.any():
        first = int(order[1:][repeat].min())  # the first row, in file order, that repeats
        batch.warnings.append(
            repeated_times_warning(name, int(repeat.sum()), f"{source}:{kept[first][0]}")
        )
        last = np.append(~repeat, True)
        times, values = times[last], values[last]
    batch.series.append(
        SeriesData(name=name, timestamps=times.astype("<i8"), values=values.astype("<f8"))
    )
    return batch


def csv_records(lines: Iterable[str], source: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on; a malformed record is an InputError there.

    A quoted cell may hold line breaks, so records are not lines: the reader's ``line_num``
    counts the lines read so far, which makes a record start one line after the last one ended.
    """
    reader = csv.reader(lines)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            detail = str(exc).split(" - ")[0]
            if reader.line_num > start:
                detail += f" (in the record on lines {start}-{reader.line_num})"
            raise InputError(f"malformed CSV: {detail}", file=source, line=start) from None
        yield start, row
        start = reader.line_num + 1


def _read_rows(text: str, source: str) -> tuple[list[list[str]], list[int]]:
    """The CSV rows and the line each starts on; a malformed record is an InputError."""
    if '"' not in text:
        # No quotes, so no record spans lines: record k starts on line k + 1, and the reader
        # runs at C speed (a metrics export has millions of rows). Any complaint of the
        # reader goes to the record-by-record path, which names the line.
        try:
            rows = list(csv.reader(io.StringIO(text)))
        except csv.Error:
            pass
        else:
            return rows, list(range(1, len(rows) + 1))
    records = list(csv_records(io.StringIO(text), source))
    return [row for _, row in records], [line for line, _ in records]


def _row_seconds(cell: str, where: Located) -> int:
    """Epoch seconds of one timestamp cell (ISO 8601 or epoch seconds, years 1000-2200)."""
    text = cell.strip()
    if _NUMBER.fullmatch(text):
        problem = epoch_problem(float(text))
        if problem:
            raise where.error(problem)
    return math.floor(parse_time(text, where).timestamp())  # as the fast path: floor, not toward 0


def parse_series_csv(
    data: bytes, source: str, *, name: str, columns: CsvColumns = CsvColumns()
) -> ImportBatch:
    """Series from a CSV file; every bad cell is an InputError naming line and column."""
    rows, lines = _read_rows(decode_utf8(data, source), source)
    if not rows:
        raise InputError("empty file: expected a header line", file=source, line=1)
    header = rows[0]
    ts_index = _header_index(header, columns.timestamp, source, required=True)
    value_index = _header_index(header, columns.value, source, required=True)
    label_index = (
        _header_index(
            header,
            columns.label,
            source,
            required=columns.label_required or columns.label != DEFAULT_LABEL,
        )
        if columns.label
        else None
    )
    if label_index is None:
        fast = _vectorised(
            rows[1:], lines[1:], len(header), (ts_index or 0, value_index or 0), name, source
        )
        if fast is not None:
            return fast
    grouped: dict[str, dict[int, float]] = {}
    labels: dict[str, tuple[str, int]] = {}  # series name -> the label that made it, its line
    repeats: dict[str, tuple[int, int]] = {}  # series name -> rows repeating a time, first line
    for line, row in zip(lines[1:], rows[1:], strict=True):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} cells, the header has {len(header)}", file=source, line=line
            )
        where = Located(None, source, columns.timestamp, line)
        seconds = _row_seconds(row[ts_index or 0], where)
        try:
            value = float(row[value_index])  # type: ignore[index]
        except ValueError:
            raise InputError(
                f"not a number: {row[value_index]!r}",  # type: ignore[index]
                file=source,
                line=line,
                field=columns.value,
            ) from None
        problem = value_problem(value)
        if problem:
            raise InputError(problem, file=source, line=line, field=columns.value)
        label = row[label_index].strip() if label_index is not None else ""
        series_name = f"{name}:{series_label(label)}" if label else name
        first_label, first_line = labels.setdefault(series_name, (label, line))
        if first_label != label:
            raise InputError(
                f"labels {first_label!r} (line {first_line}) and {label!r} make the same series "
                f"name {series_name!r}: names ignore case and punctuation, so make them differ "
                "in letters or digits",
                file=source,
                line=line,
                field=columns.label,
            )
        points = grouped.setdefault(series_name, {})
        if seconds in points:
            count, at = repeats.get(series_name, (0, line))
            repeats[series_name] = (count + 1, at)
        points[seconds] = value
    if not grouped:
        raise InputError("no data rows after the header", file=source, line=2)
    # A label column the user named is a Prometheus label: its value becomes a matcher.
    as_label = columns.label if columns.label_required and columns.label else None
    if as_label is not None and not LABEL_NAME.fullmatch(as_label):
        as_label = None
    batch = ImportBatch(
        series=[
            series_from_points(
                n,
                list(p.items()),
                {as_label: labels[n][0]} if as_label is not None and labels[n][0] else None,
            )
            for n, p in grouped.items()
        ]
    )
    batch.warnings += [
        repeated_times_warning(n, count, f"{source}:{at}") for n, (count, at) in repeats.items()
    ]
    return batch
