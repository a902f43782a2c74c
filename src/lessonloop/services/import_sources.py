"""Which parser reads which source kind, and the options an import takes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from lessonloop.errors import InputError
from lessonloop.ingest.alertmanager import parse_alertmanager
from lessonloop.ingest.chat import parse_chat_jsonl, parse_slack_folder
from lessonloop.ingest.markdown_blocks import MAX_BYTES as MARKDOWN_MAX_BYTES
from lessonloop.ingest.opsgenie import parse_opsgenie
from lessonloop.ingest.pagerduty import parse_pagerduty
from lessonloop.ingest.postmortem_markdown import is_lessonloop_review, parse_postmortem_markdown
from lessonloop.ingest.prometheus import parse_query_range
from lessonloop.ingest.series_csv import CsvColumns, parse_series_csv
from lessonloop.ingest.source_documents import ImportBatch, read_source_bytes
from lessonloop.services.reviews import read_review_file
from lessonloop.services.workspace import Workspace

__all__ = ["SOURCES", "ImportOptions", "parse_source"]

SOURCES = ("pagerduty", "opsgenie", "alertmanager", "chat", "markdown", "series")


@dataclass(frozen=True)
class ImportOptions:
    """Options of `lessonloop import`; which apply depends on the source kind."""

    service: str | None = None
    incident: str | None = None
    create_incident: bool = False
    series_name: str | None = None
    columns: CsvColumns = CsvColumns()
    promql: str | None = None
    """The PromQL selector of the imported series (`metric{label="value"}`), else None."""
    now: dt.datetime | None = None
    """When the import happened (default: the time of the run): a back-fill of reviews written
    earlier (`lessonloop demo`) stamps each with its own time; alerts, series and the services
    an import creates record it in their audit events."""


def _markdown(ws: Workspace, path: Path, options: ImportOptions) -> ImportBatch:
    data = read_source_bytes(path, max_bytes=MARKDOWN_MAX_BYTES)
    if is_lessonloop_review(data):
        return ImportBatch(lessonloop_reviews=[read_review_file(ws, path)])
    return parse_postmortem_markdown(data, str(path), incident_key=options.incident)


def _series(path: Path, options: ImportOptions) -> ImportBatch:
    data = read_source_bytes(path)
    name = options.series_name or path.stem
    text = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark says nothing of the format
    if text.lstrip()[:1] == b"{":  # a query_range response (a CSV header may start with '[')
        return parse_query_range(text, str(path), name=name)
    return parse_series_csv(data, str(path), name=name, columns=options.columns)


def parse_source(ws: Workspace, kind: str, path: Path, options: ImportOptions) -> ImportBatch:
    """Read and parse one input of a source kind into an ImportBatch (nothing stored yet)."""
    source = str(path)
    if kind == "chat":
        if not options.incident:
            raise InputError(
                "a chat export is attached to an incident: pass --incident KEY",
                file=source,
                field="incident",
            )
        if path.is_dir():
            return parse_slack_folder(path, incident_key=options.incident)
        return parse_chat_jsonl(read_source_bytes(path), source, incident_key=options.incident)
    if kind == "markdown":
        return _markdown(ws, path, options)
    if kind == "series":
        return _series(path, options)
    parsers = {
        "pagerduty": parse_pagerduty,
        "opsgenie": parse_opsgenie,
        "alertmanager": parse_alertmanager,
    }
    batch = parsers[kind](read_source_bytes(path), source)
    if kind == "alertmanager" and options.incident:
        batch.alerts = [
            a.model_copy(update={"incident_key": a.incident_key or options.incident})
            for a in batch.alerts
        ]
    return batch
