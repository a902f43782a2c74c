"""Export a signal set for notebooks and feature stores: one file per kind plus a schema file."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from lessonloop.domain.common import canonical_json
from lessonloop.domain.signals import SignalRead
from lessonloop.errors import InputError

__all__ = ["ExportFormat", "export_signals", "flat_record"]

ExportFormat = Literal["parquet", "jsonl"]
_COMMON = (
    "id",
    "kind",
    "confidence",
    "author",
    "valid_from",
    "valid_until",
    "content_hash",
    "decided_by",
    "decided_at",
    "incident_key",
    "review_id",
    "insight_id",
    "extractor",
    "extractor_version",
    "source_field",
    "span_start",
    "span_end",
    "source_text",
)


def flat_record(signal: SignalRead) -> dict[str, Any]:
    """One row: common columns, then payload fields (lists of matchers as their text)."""
    p = signal.provenance
    span = p.span or (None, None)
    row: dict[str, Any] = {
        "id": signal.id,
        "kind": signal.kind.value,
        "confidence": signal.confidence,
        "author": signal.author,
        "valid_from": signal.valid_from,
        "valid_until": signal.valid_until,
        "content_hash": signal.content_hash,
        "decided_by": signal.decided_by,
        "decided_at": signal.decided_at,
        "incident_key": p.incident_key,
        "review_id": p.review_id,
        "insight_id": p.insight_id,
        "extractor": p.extractor,
        "extractor_version": p.extractor_version,
        "source_field": p.field,
        "span_start": span[0],
        "span_end": span[1],
        "source_text": p.text,
    }
    for name, value in signal.payload.model_dump(mode="json").items():
        if name == "kind":
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = "{" + ", ".join(f'{m["label"]}{m["op"]}"{m["value"]}"' for m in value) + "}"
        elif isinstance(value, list):
            value = canonical_json(value)
        row[name] = value
    return row


def _jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, default=str, ensure_ascii=False, sort_keys=True) + "\n")


def _parquet(rows: list[dict[str, Any]], path: Path) -> dict[str, str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows)
    pq.write_table(table, path)
    return {f.name: str(f.type) for f in table.schema}


def _types(rows: list[dict[str, Any]]) -> dict[str, str]:
    types: dict[str, str] = {}
    for row in rows:
        for name, value in row.items():
            if value is not None:
                types.setdefault(name, type(value).__name__)
            else:
                types.setdefault(name, "null")
    return types


def export_signals(
    signals: list[SignalRead], directory: Path, fmt: ExportFormat, *, version: int, set_hash: str
) -> list[Path]:
    """Write ``<kind>.<fmt>`` per kind and ``schema.json``; returns the paths written."""
    if fmt not in ("parquet", "jsonl"):
        raise ValueError(f"unknown format {fmt!r}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"cannot use {directory} as the export folder: {error.strerror or error}",
            field="directory",
        ) from None
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for signal in sorted(signals, key=lambda s: s.id):
        by_kind[signal.kind.value].append(flat_record(signal))
    written, schema = [], {}
    for kind, rows in sorted(by_kind.items()):
        path = directory / f"{kind}.{fmt}"
        if fmt == "parquet":
            columns = _parquet(rows, path)
        else:
            _jsonl(rows, path)
            columns = _types(rows)
        schema[kind] = {"file": path.name, "rows": len(rows), "columns": columns}
        written.append(path)
    schema_path = directory / "schema.json"
    schema_path.write_text(
        json.dumps(
            {
                "signal_set_version": version,
                "content_hash": set_hash,
                "format": fmt,
                "common_columns": list(_COMMON),
                "kinds": schema,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return [*written, schema_path]
