"""Use cases for reviews: write a blank review file, import it, show it, move it through review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from lessonloop.domain.enums import ReviewStatus
from lessonloop.domain.incidents import IncidentCreate, IncidentUpdate
from lessonloop.domain.reviews import ReviewCreate, ReviewRead, ReviewSummary
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.ingest.markdown_blocks import decode_text, split_document
from lessonloop.ingest.review_format import ParsedReview, parse_review, render_review
from lessonloop.ingest.templates import ReviewTemplate, load_template
from lessonloop.knowledge.index import SavedReview, index_incident
from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents, reviews

__all__ = [
    "new_review_file",
    "read_review_file",
    "import_review",
    "import_parsed_review",
    "get_review",
    "list_reviews",
    "advance_review",
    "ImportOutcome",
]

ImportOutcome = Literal["created", "updated", "unchanged"]


def _template(ws: Workspace, name: str) -> ReviewTemplate:
    return load_template(name, [ws.settings.home / "templates"])


def new_review_file(
    ws: Workspace, incident_key: str, out: Path, *, template: str = "default"
) -> Path:
    """Write a review file to fill in, pre-filled from the incident (and its review, if any)."""
    chosen = _template(ws, template)
    with ws.transaction() as session:
        incident = incidents.get(incident_key, session=session)
        existing = reviews.get_by_incident(incident_key, session=session)
    if out.exists():
        raise Conflict(f"{out} exists; choose another --out or remove it")
    review = (
        existing.to_create()
        if existing
        else ReviewCreate(incident_key=incident.key, title=incident.title, summary=incident.summary)
    )
    front: dict[str, Any] = {
        "review_id": existing.id if existing else None,
        "severity": incident.severity.value,
        "services": incident.services,
    }
    for name in ("started_at", "detected_at", "mitigated_at", "resolved_at"):
        value = getattr(incident, name)
        front[name] = value.isoformat().replace("+00:00", "Z") if value else None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_review(review, chosen, front=front), encoding="utf-8")
    return out


def read_review_file(ws: Workspace, path: Path) -> ParsedReview:
    """Parse a review file against the template its front matter names."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path)) from exc
    except IsADirectoryError as exc:
        raise InputError("is a folder, not a review file", file=str(path)) from exc
    text = decode_text(data, str(path))
    template_name = str(split_document(text, str(path)).front_matter.get("template") or "default")
    return parse_review(text, str(path), _template(ws, template_name))


def _first_error(exc: ValueError) -> str:
    """The first problem of a validation error, with the field it is about."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(exc).splitlines()[0]


def _check_due_dates(parsed: ParsedReview, as_of: dt.datetime | None, source: str) -> None:
    reference = (as_of or parsed.written_at or dt.datetime.now(dt.UTC)).date()
    for item in parsed.review.action_items:
        if item.due is not None and item.due < reference:
            raise InputError(
                f"action item '{item.title}' is due {item.due}, before the review "
                f"was written ({reference})",
                file=source,
                field="Due",
            )


def import_parsed_review(
    ws: Workspace,
    parsed: ParsedReview,
    *,
    as_of: dt.datetime | None = None,
    create_incident: bool = False,
    session: Any = None,
) -> tuple[ReviewRead, ImportOutcome]:
    """Store a parsed review (and the incident facts its front matter corrects) atomically."""
    if session is None:
        with ws.transaction() as own:
            return import_parsed_review(
                ws, parsed, as_of=as_of, create_incident=create_incident, session=own
            )
    source = parsed.review.source_file or "<review>"
    key = parsed.review.incident_key
    try:
        existing = incidents.get(key, session=session)
        stored = existing
    except NotFound:
        if not create_incident:
            raise InputError(
                f"unknown incident {key!r} (create it first, or import with --create-incident)",
                file=source,
                line=2,
                field="incident",
            ) from None
        if "started_at" not in parsed.incident:
            raise InputError(
                "--create-incident needs started_at in the front matter",
                file=source,
                line=2,
                field="started_at",
            ) from None
        try:
            stored = incidents.create(
                IncidentCreate.model_validate(
                    {"key": key, "title": parsed.review.title, **parsed.incident}
                ),
                session=session,
                actor=ws.actor,
            )
        except ValueError as exc:
            raise InputError(_first_error(exc), file=source, line=2, field="front matter") from exc
        except NotFound as exc:
            raise InputError(str(exc), file=source, line=2, field="services") from exc
        existing = None
    if existing is not None and parsed.incident:
        try:
            changes = IncidentUpdate.model_validate(parsed.incident)
            current = existing.model_dump(include=set(parsed.incident))
            if changes.model_dump(exclude_unset=True) != {
                k: v for k, v in current.items() if k in changes.model_fields_set
            }:
                stored = incidents.update(key, changes, session=session, actor=ws.actor)
        except ValueError as exc:
            raise InputError(_first_error(exc), file=source, line=2, field="front matter") from exc
        except InputError as exc:
            raise exc.located(file=source, line=2) from exc
        except NotFound as exc:
            raise InputError(str(exc), file=source, line=2, field="services") from exc
    # an incident created just now has no review yet: no need to ask the database
    is_new = existing is None or not reviews.exists_for_incident(key, session=session)
    if is_new:
        _check_due_dates(parsed, as_of, source)
    saved = reviews.save(parsed.review, session=session, actor=ws.actor, incident_id=stored.id)
    written = SavedReview(
        stored, saved[0], new_review=saved[1] == "created", new_incident=existing is None
    )
    index_incident(session, key, saved=written)
    return saved


def import_review(
    ws: Workspace, path: Path, *, as_of: dt.datetime | None = None, create_incident: bool = False
) -> tuple[ReviewRead, ImportOutcome]:
    """Parse, redact and store a review file: all of it, or nothing."""
    from dataclasses import replace

    from lessonloop.services.import_redaction import ImportRedactor

    parsed = read_review_file(ws, path)
    roster: dict[str, tuple[str, ...]] = {
        name: () for name in (*parsed.review.authors, *parsed.review.participants)
    }
    redactor = ImportRedactor(ws.settings, roster)
    clean = redactor.model(parsed.review, skip=frozenset({"alert_notes"}))
    return import_parsed_review(
        ws, replace(parsed, review=clean), as_of=as_of, create_incident=create_incident
    )


def get_review(ws: Workspace, ref: str) -> ReviewRead:
    """A review by its id or by its incident key."""
    with ws.transaction() as session:
        if ref.isdigit():
            return reviews.get(int(ref), session=session)
        found = reviews.get_by_incident(ref, session=session)
        if found is None:
            raise NotFound(f"incident {ref!r} has no review yet")
        return found


def list_reviews(ws: Workspace, status: str | None = None) -> list[ReviewSummary]:
    with ws.transaction() as session:
        return reviews.list_reviews(session=session, status=status)


def advance_review(ws: Workspace, ref: str, target: ReviewStatus) -> ReviewRead:
    review = get_review(ws, ref)
    with ws.transaction() as session:
        return reviews.transition(review.id, target, session=session, actor=ws.actor)
