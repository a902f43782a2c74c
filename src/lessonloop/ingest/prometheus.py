"""Prometheus ``query_range`` responses (JSON, resultType "matrix") -> metric series.

``fetch_query_range`` reads one from a server's HTTP API with the standard library only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request

from lessonloop.errors import InputError
from lessonloop.ingest.series_csv import (
    epoch_problem,
    repeated_times_warning,
    series_from_points,
    series_label,
    value_problem,
)
from lessonloop.ingest.source_documents import (
    MAX_SOURCE_BYTES,
    ImportBatch,
    Located,
    load_json,
)

__all__ = ["parse_query_range", "fetch_query_range", "query_range_url"]


def _series_name(name: str, metric: dict[str, str], single: bool, by_metric: bool) -> str:
    """`name` alone for a single result, else `name:<labels>`; the metric name (``__name__``)
    is one of the labels only when the results do not all share it."""
    if single:
        return name
    labels = ",".join(
        f"{'name' if k == '__name__' else k}={v}"
        for k, v in sorted(metric.items())
        if by_metric or k != "__name__"
    )
    return f"{name}:{series_label(labels)}" if labels else name


def _point(pair: Located) -> tuple[int, float]:
    """(epoch seconds, value) of one ``[timestamp, "value"]`` pair; NaN and ±Inf are refused."""
    if not isinstance(pair.value, list) or len(pair.value) != 2:
        raise pair.error('expected [timestamp, "value"]')
    stamp, raw = pair.value
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or stamp != stamp:
        raise pair.error("timestamp must be a number of seconds")
    problem = epoch_problem(stamp)
    if problem:
        raise pair.error(f"timestamp: {problem}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise pair.error(f"value must be a number in a string, got {raw!r}") from None
    problem = value_problem(value)
    if problem:
        raise pair.error(problem)
    return int(stamp), value


def parse_query_range(data: bytes, source: str, *, name: str) -> ImportBatch:
    """Series from a query_range response: one per result (named by its labels if several)."""
    root = Located(load_json(data, source), source).obj()
    if root.text("status") != "success":
        raise root.error(
            f"Prometheus answered {root.text('status') or 'nothing'}: "
            f"{root.text('error') or 'no error message'}",
            "status",
        )
    body = root.get("data").obj()
    if body.text("resultType") != "matrix":
        raise body.error("expected a range query result (resultType 'matrix')", "resultType")
    results = body.get("result").items()
    metrics = [result.obj().string_map("metric") for result in results]
    by_metric = len({m.get("__name__") for m in metrics}) > 1
    batch = ImportBatch()
    named: dict[str, int] = {}
    for number, (result, metric) in enumerate(zip(results, metrics, strict=True)):
        points = [_point(pair) for pair in result.get("values").items()]
        if not points:
            continue
        series_name = _series_name(name, metric, len(results) == 1, by_metric)
        if series_name in named:
            raise result.error(
                f"results {named[series_name]} and {number} have labels that make the same "
                f"series name {series_name!r} (names ignore case and punctuation)",
                "metric",
            )
        named[series_name] = number
        found = series_from_points(series_name, points)
        if found.timestamps.size < len(points):
            repeats = len(points) - int(found.timestamps.size)
            batch.warnings.append(
                repeated_times_warning(series_name, repeats, f"{source}, result {number}")
            )
        batch.series.append(found)
    if not batch.series:
        raise body.error("the query returned no points", "result")
    return batch


def query_range_url(
    base_url: str, query: str, start: dt.datetime, end: dt.datetime, step: str
) -> str:
    """The /api/v1/query_range URL for a query over [start, end] at `step`."""
    params = urllib.parse.urlencode(
        {"query": query, "start": start.timestamp(), "end": end.timestamp(), "step": step}
    )
    return f"{base_url.rstrip('/')}/api/v1/query_range?{params}"


def fetch_query_range(
    base_url: str,
    query: str,
    start: dt.datetime,
    end: dt.datetime,
    step: str,
    *,
    timeout: float = 30.0,
) -> bytes:
    """The raw JSON of a range query, or an InputError saying why the server did not answer."""
    if not base_url.startswith(("http://", "https://")):
        raise InputError(
            "the Prometheus URL must start with http:// or https://", field="prometheus"
        )
    url = query_range_url(base_url, query, start, end, step)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked
            return bytes(response.read(MAX_SOURCE_BYTES + 1))
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace")
        with contextlib.suppress(ValueError, AttributeError):
            detail = json.loads(detail).get("error", detail)
        raise InputError(f"Prometheus returned HTTP {exc.code}: {detail}", field="query") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InputError(
            f"cannot reach Prometheus at {base_url}: {exc}", field="prometheus"
        ) from None
