"""Use cases for reviews: write a blank review file, import it, show it, move it through review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from lessonloop.domain.access import Permission
from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import ReviewStatus
from lessonloop.domain.incidents import IncidentCreate, IncidentRead, IncidentUpdate
from lessonloop.domain.reviews import ReviewCreate, ReviewRead, ReviewSummary
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.ingest.markdown_blocks import decode_text, split_document
from lessonloop.ingest.review_format import ParsedReview, parse_review, render_review
from lessonloop.ingest.templates import ReviewTemplate, load_template
from lessonloop.knowledge.index import SavedReview, index_incident
from lessonloop.services.access import require
from lessonloop.services.import_redaction import ImportRedactor, review_redactor
from lessonloop.services.workspace import Workspace
from lessonloop.storage import audit, incidents, reviews
from lessonloop.storage.review_children import removed_insights
from lessonloop.storage.tables import ReviewRow

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

ImportOutcome = Literal["created", "updated", "unchanged", "reopened"]
"""``reopened``: an approved or published review whose content changed, now back in draft."""


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


def _check_due_dates(
    parsed: ParsedReview, as_of: dt.datetime | None, source: str, stored: ReviewRead | None
) -> None:
    """Refuse an action item due before the review was written (on every import).

    Without `written_at`, a due date the stored review already has passes again: it was
    checked on the day it was first imported.
    """
    reference = (as_of or parsed.written_at or dt.datetime.now(dt.UTC)).date()
    checked = (
        {item.due for item in stored.action_items}
        if stored is not None and parsed.written_at is None
        else set()
    )
    for item in parsed.review.action_items:
        if item.due is not None and item.due < reference and item.due not in checked:
            raise InputError(
                f"action item '{item.title}' is due {item.due}, before the review "
                f"was written ({reference})",
                file=source,
                field="Due",
            )


def _text_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _shown(texts: list[str], limit: int = 3) -> str:
    """The first few texts, quoted and shortened, and how many more there are."""
    quoted = [repr(t if len(t) <= 60 else t[:57] + "...") for t in texts[:limit]]
    more = f" and {len(texts) - limit} more" if len(texts) > limit else ""
    return ", ".join(quoted) + more


def _refuse_removals(
    parsed: ParsedReview, stored: ReviewRead, *, session: Any, source: str
) -> None:
    """Refuse a re-import that would remove timeline events another import added.

    A review file import stores its events with source `review`; an event with another source
    (`chat`, `pagerduty`, ...) came from a source import since the review was last imported
    from a file, so a file without it was most likely written before it and removing it would
    lose it silently. Then the insights the file would remove are named too (chat candidates
    come with those events). An event is in the file when an event there has its text or its
    time (an edited event); an insight as `sync_insights` matches it. Removing what people
    wrote in the file (no source event missing) stays a plain edit.
    """
    texts = {_text_key(event.text) for event in parsed.review.timeline}
    times = {event.at for event in parsed.review.timeline}
    events = [
        event.text
        for event in stored.timeline
        if event.source != "review" and _text_key(event.text) not in texts and event.at not in times
    ]
    if not events:
        return
    insights = removed_insights(stored.id, parsed.review, session=session)
    lost = [
        f"{count} {noun}{'' if count == 1 else 's'} ({_shown(found)})"
        for count, noun, found in (
            (len(events), "timeline event", events),
            (len(insights), "insight", insights),
        )
        if count
    ]
    them = "it" if len(events) + len(insights) == 1 else "them"
    raise InputError(
        f"the stored review of {stored.incident_key} has {' and '.join(lost)} that this file "
        f"does not; importing it would remove {them} (added by another import after the file "
        f"was written?). Write the current review with `lessonloop review new "
        f"{stored.incident_key} --out NEW.md`, carry your edits over and import that, or, to "
        f"remove {them}, `lessonloop review import {source} --allow-removals`",
        file=source,
        field="Timeline",
    )


def _incident_for(
    ws: Workspace,
    parsed: ParsedReview,
    *,
    create_incident: bool,
    session: Any,
    now: dt.datetime | None = None,
) -> tuple[IncidentRead, bool]:
    """The review's incident (corrected by the front matter, or created from it) and whether
    it was created just now."""
    source = parsed.review.source_file or "<review>"
    key = parsed.review.incident_key
    try:
        existing = incidents.get(key, session=session)
    except NotFound:
        if not create_incident:
            raise InputError(
                f"unknown incident {key!r} (create it first, or import with --create-incident)",
                file=source,
                line=2,
                field="incident",
            ) from None
        return _create_incident(ws, parsed, session=session, now=now), True
    if not parsed.incident:
        return existing, False
    try:
        changes = IncidentUpdate.model_validate(parsed.incident)
        current = existing.model_dump(include=set(parsed.incident))
        if changes.title is not None and changes.title != existing.title:
            # a title a person wrote wins over a tool's (services.importing: <field>_from)
            refs = {**existing.external_refs, "title_from": "review"}
            changes = changes.model_copy(update={"external_refs": refs})
        if changes.model_dump(exclude_unset=True) != {
            k: v for k, v in current.items() if k in changes.model_fields_set
        }:
            return incidents.update(key, changes, session=session, actor=ws.actor), False
    except ValueError as exc:
        raise InputError(_first_error(exc), file=source, line=2, field="front matter") from exc
    except InputError as exc:
        raise exc.located(file=source, line=2) from exc
    except NotFound as exc:
        raise InputError(str(exc), file=source, line=2, field="services") from exc
    return existing, False


def _create_incident(
    ws: Workspace, parsed: ParsedReview, *, session: Any, now: dt.datetime | None = None
) -> IncidentRead:
    """A new incident from the review's front matter (--create-incident)."""
    source = parsed.review.source_file or "<review>"
    if "started_at" not in parsed.incident:
        raise InputError(
            "--create-incident needs started_at in the front matter",
            file=source,
            line=2,
            field="started_at",
        )
    try:
        return incidents.create(
            IncidentCreate.model_validate(
                {"key": parsed.review.incident_key, "title": parsed.review.title, **parsed.incident}
            ),
            session=session,
            actor=ws.actor,
            now=now,
        )
    except ValueError as exc:
        raise InputError(_first_error(exc), file=source, line=2, field="front matter") from exc
    except NotFound as exc:
        raise InputError(str(exc), file=source, line=2, field="services") from exc


def _back_to_draft(
    ws: Workspace,
    review: ReviewRead,
    before: ReviewRead,
    *,
    session: Any,
    now: dt.datetime | None = None,
) -> ReviewRead:
    """An approved or published review whose content a re-import changed, back to draft
    (audited): the approval was of the earlier content."""
    row = session.get(ReviewRow, review.id)
    now = now or utc_now()
    row.status = ReviewStatus.DRAFT.value
    row.status_changed_at = now
    row.status_changed_by = ws.actor
    row.published_at = None
    session.flush()
    audit.record(
        session=session,
        actor=ws.actor,
        action="review.reopened",
        entity_type="review",
        entity_id=review.id,
        before_hash=before.content_hash,
        after_hash=review.content_hash,
        details={
            "from": before.status.value,
            "to": ReviewStatus.DRAFT.value,
            "reason": "content changed by re-import",
            "file": review.source_file,
        },
        at=now,
    )
    return review.model_copy(
        update={
            "status": ReviewStatus.DRAFT,
            "status_changed_at": now,
            "status_changed_by": ws.actor,
            "published_at": None,
        }
    )


def import_parsed_review(
    ws: Workspace,
    parsed: ParsedReview,
    *,
    as_of: dt.datetime | None = None,
    create_incident: bool = False,
    session: Any = None,
    redactor: ImportRedactor | None = None,
    allow_removals: bool = False,
    now: dt.datetime | None = None,
) -> tuple[ReviewRead, ImportOutcome]:
    """Redact and store a parsed review and the incident facts its front matter corrects.

    ``redactor`` (default: one with the file's authors and participants as the roster) lets
    an importer count the redactions in its summary. ``now`` (default: the time of the run)
    is when the import happened: a back-fill of reviews written earlier (``lessonloop demo``)
    stamps the review, its action items, a created incident and their audit events with it.

    All or nothing; a published review whose content changes goes back to draft. A re-import
    that would remove stored timeline events or insights the file does not have is refused
    unless ``allow_removals``.
    """
    if session is None:
        require(ws, Permission.CONTRIBUTE, "import reviews")
        with ws.transaction() as own:
            return import_parsed_review(
                ws,
                parsed,
                as_of=as_of,
                create_incident=create_incident,
                session=own,
                redactor=redactor,
                allow_removals=allow_removals,
                now=now,
            )
    clean = (redactor or review_redactor(ws.settings, parsed)).review(parsed)
    key = clean.review.incident_key
    stored, new_incident = _incident_for(
        ws, clean, create_incident=create_incident, session=session, now=now
    )
    # an incident created just now has no review yet: no need to ask the database
    before = None if new_incident else reviews.get_by_incident(key, session=session)
    _check_due_dates(clean, as_of, clean.review.source_file or "<review>", before)
    if before is not None and not allow_removals:
        _refuse_removals(
            clean, before, session=session, source=clean.review.source_file or "<review>"
        )
    review, saved = reviews.save(
        clean.review, session=session, actor=ws.actor, incident_id=stored.id, now=now
    )
    outcome: ImportOutcome = saved
    signed_off = (ReviewStatus.APPROVED, ReviewStatus.PUBLISHED)
    if before is not None and saved == "updated" and before.status in signed_off:
        review = _back_to_draft(ws, review, before, session=session, now=now)
        outcome = "reopened"
    written = SavedReview(
        stored, review, new_review=outcome == "created", new_incident=new_incident
    )
    index_incident(session, key, saved=written)
    return review, outcome


def import_review(
    ws: Workspace,
    path: Path,
    *,
    as_of: dt.datetime | None = None,
    create_incident: bool = False,
    allow_removals: bool = False,
    now: dt.datetime | None = None,
) -> tuple[ReviewRead, ImportOutcome]:
    """Parse, redact and store a review file: all of it, or nothing (``now``: see
    `import_parsed_review`)."""
    require(ws, Permission.CONTRIBUTE, "import reviews")  # before reading: a refusal is final
    parsed = read_review_file(ws, path)
    return import_parsed_review(
        ws,
        parsed,
        as_of=as_of,
        create_incident=create_incident,
        allow_removals=allow_removals,
        now=now,
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


def advance_review(
    ws: Workspace, ref: str, target: ReviewStatus, *, now: dt.datetime | None = None
) -> ReviewRead:
    """Move a review one step along its workflow, at `now` (default: the time of the run)."""
    if target is ReviewStatus.IN_REVIEW:
        require(ws, Permission.CONTRIBUTE, "submit reviews")
    else:
        require(ws, Permission.REVIEW, f"move reviews to {target.value}")
    review = get_review(ws, ref)
    with ws.transaction() as session:
        return reviews.transition(review.id, target, session=session, actor=ws.actor, now=now)
