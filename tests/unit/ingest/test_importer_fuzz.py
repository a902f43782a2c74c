"""Hypothesis fuzz of every importer: success or one located InputError, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lessonloop.errors import InputError
from lessonloop.ingest.alertmanager import parse_alertmanager
from lessonloop.ingest.chat import parse_chat_jsonl
from lessonloop.ingest.opsgenie import parse_opsgenie
from lessonloop.ingest.pagerduty import parse_pagerduty
from lessonloop.ingest.postmortem_markdown import parse_postmortem_markdown
from lessonloop.ingest.prometheus import parse_query_range
from lessonloop.ingest.series_csv import parse_series_csv

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["2024-03-05T09:12:00Z", "P1", "resolved", "4"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
PARSERS = {
    "pagerduty_export.json": parse_pagerduty,
    "opsgenie_export.json": parse_opsgenie,
    "alertmanager_stream.jsonl": parse_alertmanager,
    "chat.jsonl": lambda data, source: parse_chat_jsonl(data, source, incident_key="inc-1"),
    "google_sre_postmortem.md": parse_postmortem_markdown,
    "error_rate.csv": lambda data, source: parse_series_csv(data, source, name="s"),
}
QUERY_RANGE = json.dumps(
    {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": {"job": "api"}, "values": [[1709629200, "1.5"], [1709629260, "2"]]}
            ],
        },
    }
)


def _outcome(parser: Any, data: bytes) -> None:
    try:
        parser(data, "fuzz.input")
    except InputError as error:
        assert error.file == "fuzz.input"
        assert error.line is not None or error.field is not None or "MB" in error.message


def _mutate(document: Any, path: list[Any], replacement: Any) -> Any:
    """Replace the value found by following `path` indexes into the document (mod sizes)."""
    if not path or not isinstance(document, dict | list) or not document:
        return replacement
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = _mutate(document[key], path[1:], replacement)
    return copy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PARSERS)), document=JSON_VALUES)
def test_random_documents(name: str, document: Any) -> None:
    _outcome(PARSERS[name], json.dumps(document).encode())
    _outcome(parse_query_range_named, json.dumps(document).encode())


def parse_query_range_named(data: bytes, source: str) -> Any:
    return parse_query_range(data, source, name="q")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["pagerduty_export.json", "opsgenie_export.json", "query_range"]),
    path=st.lists(st.integers(0, 50), max_size=6),
    replacement=JSON_VALUES,
)
def test_mutated_json_documents(name: str, path: list[int], replacement: Any) -> None:
    if name == "query_range":
        document, parser = json.loads(QUERY_RANGE), parse_query_range_named
    else:
        document, parser = json.loads((FIXTURES / name).read_text()), PARSERS[name]
    _outcome(parser, json.dumps(_mutate(document, path, replacement)).encode())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(
        ["alertmanager_stream.jsonl", "chat.jsonl", "google_sre_postmortem.md", "error_rate.csv"]
    ),
    position=st.integers(0, 10_000),
    chunk=st.binary(max_size=12),
    cut=st.integers(0, 40),
)
@example(name="error_rate.csv", position=0, chunk=b"\r", cut=0)
def test_mutated_text_documents(name: str, position: int, chunk: bytes, cut: int) -> None:
    data = (FIXTURES / name).read_bytes()
    where = position % (len(data) + 1)
    _outcome(PARSERS[name], data[:where] + chunk + data[where + cut :])


def test_fixtures_parse() -> None:
    for name, parser in PARSERS.items():
        batch = parser((FIXTURES / name).read_bytes(), name)
        assert batch.incidents or batch.alerts or batch.timelines or batch.series
