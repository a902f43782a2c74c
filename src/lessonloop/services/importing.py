"""Import use cases: source files -> redacted domain objects, one transaction per file.

Each file is parsed (pure, ``lessonloop.ingest``), redacted with the file's roster, and stored
with the idempotent upserts of the storage layer, all in one transaction: a bad file is
rejected whole and the others still import. ``dry_run`` rolls every transaction back and
reports what would have changed.

Example::

    summary = import_files(ws, "pagerduty", [Path("export.json")], dry_run=True)
    summary.outcomes["incident"]["created"]
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lessonloop.domain.access import Permission
from lessonloop.domain.incidents import IncidentCreate, IncidentUpdate
from lessonloop.domain.promql import parse_selector
from lessonloop.domain.reviews import ReviewCreate
from lessonloop.domain.services import ServiceCreate
from lessonloop.errors import InputError, NotFound, broken_constraint
from lessonloop.ingest.prometheus import (
    fetch_query_range_in_chunks,
    parse_query_range,
    query_range_url,
)
from lessonloop.ingest.series_csv import CsvColumns
from lessonloop.ingest.source_documents import ImportBatch, SeriesData, clip
from lessonloop.knowledge.index import index_incident
from lessonloop.redact import RedactionCounts
from lessonloop.services.access import require
from lessonloop.services.import_redaction import ImportRedactor, review_redactor
from lessonloop.services.import_sources import SOURCES, ImportOptions, parse_source
from lessonloop.services.import_timelines import (
    PostmortemMerge,
    merge_into_review,
    merge_postmortem,
)
from lessonloop.services.reviews import import_parsed_review
from lessonloop.services.workspace import Workspace
from lessonloop.storage import alerts, incidents, series, services
from lessonloop.storage.tables import SERIES_TEXT_LENGTH

__all__ = [
    "CsvColumns",
    "SOURCES",
    "ImportOptions",
    "ImportSummary",
    "ProgressCallback",
    "import_files",
    "import_batch",
    "import_prometheus_series",
]

ProgressCallback = Callable[[str, int, int], None]
_KEEP_FROM_STORED = ("mitigated_at", "detection_method")
# External refs that record when something first happened: a stored value is never replaced
# (PagerDuty drops acknowledgements on resolve; a later export may only know a later time).
_FIRST_KNOWN = ("pagerduty_acknowledged_at",)
_START_TAGS = ("start-time-estimated", "start-time-unknown")
# Text a person writes wins over an alerting tool's generated text: the incident's external ref
# ``<field>_from`` records that a postmortem (or, for the title, a review file) set it, and a
# tool import then keeps it (a tool still fills it when it is empty).
_WRITTEN_BY_PEOPLE = ("title", "summary")


class _DryRun(Exception):
    """Raised inside a transaction to roll a dry run back."""


@dataclass
class ImportSummary:
    """What an import did (or would do): outcomes per object type, redactions, rejections."""

    dry_run: bool = False
    files: int = 0
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    redactions: RedactionCounts = field(default_factory=RedactionCounts)
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def record(self, object_type: str, outcome: str, count: int = 1) -> None:
        self.outcomes.setdefault(object_type, Counter())[outcome] += count

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary; redactions are counts by kind, never values."""
        return {
            "dry_run": self.dry_run,
            "files": self.files,
            "outcomes": {
                kind: dict(sorted(c.items())) for kind, c in sorted(self.outcomes.items())
            },
            "redactions": self.redactions.as_dict(),
            "errors": [str(error) for error in self.errors],
            "warnings": list(self.warnings),
        }


def _check_service(name: str | None) -> None:
    """A --service value that could not be stored is refused before any file is read."""
    if not name:
        return
    try:
        ServiceCreate(name=name)
    except ValidationError:
        raise InputError(
            f"{name!r} is not a service name: letters, digits and . _ : / -, starting with a "
            "letter or digit, at most 120 characters",
            field="--service",
        ) from None


def _check_promql(text: str | None) -> dict[str, str]:
    """The labels of a --promql selector; refused before any file is read when malformed."""
    if text is None:
        return {}
    try:
        return parse_selector(text)
    except ValueError as exc:
        raise InputError(str(exc), field="--promql") from None


def _identity(data: SeriesData, promql: dict[str, str], source: str) -> dict[str, str]:
    """The series' Prometheus labels: --promql's plus those the file gave it."""
    for label, value in data.labels.items():
        if label in promql and promql[label] != value:
            shown = "the metric name" if label == "__name__" else f"label {label!r}"
            raise InputError(
                f"series {data.name!r}: --promql gives {shown} {promql[label]!r}, the file "
                f"gives {value!r}",
                file=source,
                field="--promql",
            )
    return {**promql, **data.labels}


def _ensure_services(
    names: Sequence[str],
    summary: ImportSummary,
    *,
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    for name in dict.fromkeys(names):
        try:
            services.get_row(name, session=session)
            summary.record("service", "unchanged")
        except NotFound:
            services.create(ServiceCreate(name=name), session=session, actor=actor, now=now)
            summary.record("service", "created")


def _with_stored_facts(
    data: IncidentCreate,
    *,
    session: Session,
    stated: frozenset[str] | None = None,
    source: str = "",
    changed: list[str] | None = None,
) -> IncidentCreate:
    """Keep facts a person added in Lessonloop that the source does not know about.

    ``stated`` (a postmortem's): the fields the document states; every other field keeps its
    stored value. The stated fields that change a stored value are appended to ``changed``.
    Without ``stated`` (a tool's export), a title or summary a postmortem set is kept.
    """
    if stated is not None:
        written = {f"{name}_from": "postmortem" for name in _WRITTEN_BY_PEOPLE if name in stated}
        data = data.model_copy(update={"external_refs": {**data.external_refs, **written}})
    try:
        stored = incidents.get(data.key, session=session)
    except NotFound:
        return data
    update: dict[str, Any] = {
        name: getattr(stored, name) for name in _KEEP_FROM_STORED if getattr(data, name) is None
    }
    tags = data.tags
    if stated is None:
        update.update(
            {
                name: getattr(stored, name)
                for name in _WRITTEN_BY_PEOPLE
                if f"{name}_from" in stored.external_refs and getattr(stored, name)
            }
        )
    else:
        update.update(
            {
                name: getattr(stored, name)
                for name in IncidentCreate.model_fields
                if name not in stated and name not in ("key", "tags", "external_refs")
            }
        )
        if "services" in stated:  # a service the source linked stays linked
            update["services"] = list(dict.fromkeys([*stored.services, *data.services]))
        if "started_at" not in stated:  # the stored start stands, it is not an estimate
            tags = [t for t in tags if t not in _START_TAGS or t in stored.tags]
        if changed is not None:
            changed.extend(
                name
                for name in IncidentCreate.model_fields
                if name in stated and {**data.model_dump(), **update}[name] != getattr(stored, name)
            )
    update["tags"] = list(dict.fromkeys([*stored.tags, *tags]))
    kept = {
        name: stored.external_refs[name] for name in _FIRST_KNOWN if name in stored.external_refs
    }
    update["external_refs"] = {**stored.external_refs, **data.external_refs, **kept}
    if not data.services:
        update["services"] = stored.services
    try:
        return IncidentCreate.model_validate({**data.model_dump(), **update})
    except ValidationError as exc:
        raise InputError(
            f"incident {data.key} is already stored and the file's times do not fit its other "
            f"times: {exc.errors()[0]['msg']}",
            file=source,
            field="incident",
        ) from None


def _note_merge(
    summary: ImportSummary, source: str, key: str, incident: list[str], review: PostmortemMerge
) -> None:
    """Say what a postmortem changed in an incident and review that were already stored."""
    if review.status is not None:
        summary.warnings.append(
            f"{source}: the review of incident {key} is {review.status.value}, past draft: "
            "the postmortem's sections and timeline were not added (change the review with "
            "`lessonloop review import` instead)"
        )
    parts = [f"incident {', '.join(incident)}"] if incident else []
    if review.outcome == "updated":
        parts += [f"review {', '.join(review.changed)}"] if review.changed else []
        parts += [f"{review.events} timeline events added"] if review.events else []
    if parts:
        summary.warnings.append(
            f"{source}: incident {key} was already stored; the postmortem changed "
            f"{'; '.join(parts)}. What it does not state was kept."
        )


def import_batch(
    ws: Workspace,
    batch: ImportBatch,
    options: ImportOptions,
    summary: ImportSummary,
    *,
    session: Session,
    source: str,
    progress: ProgressCallback | None = None,
) -> None:
    """Redact and store one parsed file inside the caller's transaction."""
    for key, refusal in batch.stored_incidents.items():
        if not incidents.exists(key, session=session):
            raise refusal
    redactor = ImportRedactor(ws.settings, batch.people)
    actor = ws.actor
    extra_services = [options.service] if options.service else []
    _ensure_services(
        [*batch.services, *extra_services], summary, session=session, actor=actor, now=options.now
    )
    total = (
        len(batch.incidents)
        + len(batch.alerts)
        + len(batch.timelines)
        + len(batch.reviews)
        + len(batch.series)
        + len(batch.lessonloop_reviews)
    )
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(source, done, total)

    changed: dict[str, list[str]] = {}
    for incident in batch.incidents:
        clean = redactor.model(incident)
        stated = batch.stated.get(incident.key)
        if options.service:
            clean = clean.model_copy(update={"services": [options.service]})
            stated = stated | {"services"} if stated is not None else None
        clean = _with_stored_facts(
            clean,
            session=session,
            stated=stated,
            source=source,
            changed=changed.setdefault(clean.key, []),
        )
        upserted = incidents.upsert(clean, session=session, actor=actor)[1]
        summary.record("incident", upserted)
        if upserted != "updated":
            changed[clean.key].clear()
        step()
    for key, refs in batch.incident_refs.items():
        stored = incidents.get(key, session=session)
        missing = {name: value for name, value in refs.items() if name not in stored.external_refs}
        if missing:
            update = IncidentUpdate(external_refs={**stored.external_refs, **missing})
            incidents.update(key, update, session=session, actor=actor)
            summary.record("incident", "updated")
    for alert in batch.alerts:
        clean_alert = redactor.model(alert)
        if options.incident and clean_alert.incident_key is None:
            clean_alert = clean_alert.model_copy(update={"incident_key": options.incident})
        summary.record(
            "alert", alerts.upsert(clean_alert, session=session, actor=actor, now=options.now)
        )
        step()
    for key in dict.fromkeys([*batch.timelines, *batch.candidate_insights]):
        events = [redactor.model(event) for event in batch.timelines.get(key, [])]
        found = [redactor.model(insight) for insight in batch.candidate_insights.get(key, [])]
        merged = merge_into_review(key, events, found, session=session, actor=actor)
        summary.record("review", merged.outcome)
        for kind, verb, added, read in (
            ("timeline event", "imported", merged.events, len(events)),
            ("candidate insight", "proposed", merged.insights, len(found)),
        ):
            if added:
                summary.record(kind, verb, added)
            if read > added:  # already in the review, or the review is past draft
                summary.record(kind, "not added", read - added)
        step()
    for review in batch.reviews:
        key = review.incident_key
        saved = merge_postmortem(
            redactor.model(review),
            batch.stated.get(key, frozenset(ReviewCreate.model_fields)),
            session=session,
            actor=actor,
        )
        summary.record("review", saved.outcome)
        _note_merge(summary, source, key, changed.get(key, []), saved)
        step()
    for parsed in batch.lessonloop_reviews:
        own = review_redactor(ws.settings, parsed)  # the file's people are its roster
        outcome = import_parsed_review(
            ws,
            parsed,
            create_incident=options.create_incident,
            session=session,
            redactor=own,
            now=options.now,
        )
        summary.redactions = summary.redactions + own.counts
        summary.record("review", outcome[1])
        step()
    promql = _check_promql(options.promql)
    selectors: dict[tuple[tuple[str, str], ...], str] = {}
    for data in batch.series:
        if not options.service:
            raise InputError("series need a service (--service)", file=source, field="service")
        if data.timestamps.size == 0:
            raise InputError(f"series {data.name!r} has no points", file=source)
        if len(data.name) > SERIES_TEXT_LENGTH:
            raise InputError(
                f"series name {data.name[:40]!r}... is {len(data.name)} characters; the limit is "
                f"{SERIES_TEXT_LENGTH} (give a shorter --name, or shorter label values)",
                file=source,
                field="name",
            )
        identity = _identity(data, promql, source)
        same = tuple(sorted(identity.items()))
        if identity and same in selectors:
            raise InputError(
                f"series {selectors[same]!r} and {data.name!r} would have the same Prometheus "
                "labels: name the label column (--label-column NAME) so that its values "
                "become label matchers",
                file=source,
                field="--promql",
            )
        selectors[same] = data.name
        summary.record(
            "series",
            series.put(
                options.service,
                data.name,
                data.timestamps,
                data.values,
                session=session,
                actor=actor,
                source=clip(source, SERIES_TEXT_LENGTH),
                # only a whole selector (with a metric name) replaces the stored one: a label
                # column alone, re-imported without --promql, keeps what --promql set before
                labels=identity if "__name__" in identity else None,
                now=options.now,
            ),
        )
        summary.record("series point", "read", int(data.timestamps.size))
        step()
    touched = [
        *(i.key for i in batch.incidents),
        *(a.incident_key for a in batch.alerts if a.incident_key),
        *(a for a in [options.incident] if a and batch.alerts),
        *batch.timelines,
        *batch.candidate_insights,
        *(r.incident_key for r in batch.reviews),
    ]
    for key in dict.fromkeys(touched):
        if incidents.exists(key, session=session):
            index_incident(session, key)
    summary.redactions = summary.redactions + redactor.counts


def _import_one(
    ws: Workspace,
    source_kind: str,
    path: Path,
    options: ImportOptions,
    summary: ImportSummary,
    progress: ProgressCallback | None,
) -> None:
    """Parse and store one file in its own transaction (rolled back on a dry run or error).

    Two imports of the same records at the same moment (two people importing one export into a
    shared PostgreSQL workspace) can both find a record missing and both insert it: the second
    commit then breaks a unique constraint. Its transaction is rolled back whole and the file is
    imported again, which now finds the other's records and updates them (imports are
    idempotent); after ``IMPORT_ATTEMPTS`` the file is rejected, nothing of it stored.
    """
    for attempt in range(1, IMPORT_ATTEMPTS + 1):
        file_summary = ImportSummary(dry_run=summary.dry_run)
        try:
            with ws.transaction() as session:
                batch = parse_source(ws, source_kind, path, options)
                import_batch(
                    ws,
                    batch,
                    options,
                    file_summary,
                    session=session,
                    source=str(path),
                    progress=progress,
                )
                if summary.dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except IntegrityError as exc:
            if attempt < IMPORT_ATTEMPTS:
                continue
            error = InputError(
                f"the database refused a duplicate record ({broken_constraint(exc)}) "
                f"{IMPORT_ATTEMPTS} times; nothing of this file was stored. If another import "
                "of the same records was running, import this file again",
                file=str(path),
            )
            _reject(summary, error)
            return
        except InputError as exc:
            _reject(summary, exc.located(file=str(path)))
            return
        except NotFound as exc:
            _reject(summary, InputError(str(exc), file=str(path)))
            return
        break
    for kind, counter in file_summary.outcomes.items():
        for outcome, count in counter.items():
            summary.record(kind, outcome, count)
    summary.redactions = summary.redactions + file_summary.redactions
    summary.warnings.extend(batch.warnings)
    summary.warnings.extend(file_summary.warnings)
    summary.record("file", "imported")


IMPORT_ATTEMPTS = 3


def _reject(summary: ImportSummary, error: InputError) -> None:
    summary.errors.append(error)
    summary.record("file", "rejected")


def import_files(
    ws: Workspace,
    source_kind: str,
    paths: Sequence[Path],
    *,
    options: ImportOptions | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import files of one source kind, each all or nothing; returns the combined summary."""
    require(ws, Permission.CONTRIBUTE, "import data")
    if source_kind not in SOURCES:
        raise InputError(
            f"unknown source {source_kind!r}; choose one of {', '.join(SOURCES)}", field="SOURCE"
        )
    options = options or ImportOptions()
    _check_service(options.service)
    _check_promql(options.promql)
    summary = ImportSummary(dry_run=dry_run)
    for number, path in enumerate(paths, start=1):
        _import_one(ws, source_kind, path, options, summary, progress)
        summary.files += 1
        if progress is not None:
            progress("files", number, len(paths))
    return summary


def import_prometheus_series(
    ws: Workspace,
    base_url: str,
    query: str,
    start: dt.datetime,
    end: dt.datetime,
    step: str,
    *,
    service: str,
    name: str,
    dry_run: bool = False,
    promql: str | None = None,
) -> ImportSummary:
    """Read a range query from a Prometheus server's HTTP API and store it as series."""
    require(ws, Permission.CONTRIBUTE, "import data")
    _check_service(service)
    _check_promql(promql)
    if end <= start:
        raise InputError("--end must be after --start", field="end")
    source = query_range_url(base_url, query, start, end, step)
    batch = parse_query_range(
        fetch_query_range_in_chunks(base_url, query, start, end, step), source, name=name
    )
    summary = ImportSummary(dry_run=dry_run)
    try:
        with ws.transaction() as session:
            import_batch(
                ws,
                batch,
                ImportOptions(service=service, promql=promql),
                summary,
                session=session,
                source=f"prometheus:{query}",
            )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    summary.files = 1
    summary.warnings.extend(batch.warnings)
    return summary
