"""Prometheus ``query_range`` responses (JSON, resultType "matrix") -> metric series.

``fetch_query_range`` reads one from a server's HTTP API with the standard library only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
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

__all__ = [
    "MAX_POINTS_PER_QUERY",
    "fetch_query_range",
    "fetch_query_range_in_chunks",
    "parse_query_range",
    "query_range_url",
    "step_seconds",
]

# Prometheus refuses a range query of more than 11,000 points per series ("exceeded maximum
# resolution of 11,000 points per timeseries"); longer ranges are read in chunks of this many.
MAX_POINTS_PER_QUERY = 11_000
CHUNK_POINTS = 10_000
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


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
        found = series_from_points(series_name, points, metric)
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


def step_seconds(step: str) -> float:
    """A query_range step in seconds: a number (``15``, ``0.5``) or a Prometheus duration
    (``30s``, ``5m``, ``1h30m``)."""
    text = step.strip()
    with contextlib.suppress(ValueError):
        seconds = float(text)
        if seconds > 0 and seconds == seconds and seconds != float("inf"):
            return seconds
        raise InputError(f"the step must be positive: {step!r}", field="step")
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise InputError(
            f"not a step: {step!r} (seconds, or a duration such as 30s, 5m, 1h30m)", field="step"
        )
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise InputError(f"the step must be positive: {step!r}", field="step")
    return seconds


def fetch_query_range_in_chunks(
    base_url: str,
    query: str,
    start: dt.datetime,
    end: dt.datetime,
    step: str,
    *,
    timeout: float = 30.0,
) -> bytes:
    """Like ``fetch_query_range``, but a range of more than 11,000 steps (which Prometheus
    refuses) is read as consecutive queries of 10,000 steps whose results are joined, series by
    series, into one query_range document. A chunk the server answers with anything but a
    matrix is returned as it is, so the parser reports it."""
    seconds = step_seconds(step)
    if (end - start).total_seconds() / seconds + 1 <= MAX_POINTS_PER_QUERY:
        return fetch_query_range(base_url, query, start, end, step, timeout=timeout)
    joined: dict[str, dict[str, object]] = {}
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + dt.timedelta(seconds=seconds * (CHUNK_POINTS - 1)))
        raw = fetch_query_range(base_url, query, chunk_start, chunk_end, step, timeout=timeout)
        try:
            body = json.loads(raw)
            results = body["data"]["result"]
            usable = body.get("status") == "success" and body["data"].get("resultType") == "matrix"
        except (ValueError, KeyError, TypeError):
            return raw
        if not usable or not isinstance(results, list):
            return raw
        for result in results:
            metric = result.get("metric", {}) if isinstance(result, dict) else {}
            key = json.dumps(metric, sort_keys=True)
            entry = joined.setdefault(key, {"metric": metric, "values": []})
            values = result.get("values", []) if isinstance(result, dict) else []
            entry["values"].extend(values)  # type: ignore[attr-defined]
        chunk_start = chunk_end + dt.timedelta(seconds=seconds)
    document = {
        "status": "success",
        "data": {"resultType": "matrix", "result": list(joined.values())},
    }
    return json.dumps(document).encode()
