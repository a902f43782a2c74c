"""Re-importing a review: due dates are checked every time; a published review is not
silently replaced."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.factories import review_file_text, seed_checkout_incident, snapshot

from lessonloop.domain.enums import ReviewStatus
from lessonloop.errors import InputError
from lessonloop.services import reviews as review_service
from lessonloop.storage import audit

WRITTEN = "written_at: 2026-03-04T09:00:00Z\n"
AS_OF = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)


def _write(path: Path, *, due: str = "2026-04-01", written: str = WRITTEN) -> Path:
    row = f"| Lower the threshold | detect | ana | {due} | P2 | open | mttd down checkout |"
    path.write_text(
        review_file_text(
            front=written,
            actions=row,
            observation="- [technical] The threshold paged late. "
            "{confidence: 0.8, source: interview}",
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def seeded(workspace):
    seed_checkout_incident(workspace)
    return workspace


def test_due_date_before_written_at_is_refused_on_reimport(seeded, tmp_path) -> None:
    path = _write(tmp_path / "r.md")
    assert review_service.import_review(seeded, path)[1] == "created"
    before = snapshot(seeded)
    _write(path, due="2026-03-01")
    with pytest.raises(InputError, match="due 2026-03-01, before the review was written") as info:
        review_service.import_review(seeded, path)
    assert info.value.file == str(path) and info.value.field == "Due"
    assert snapshot(seeded) == before


def test_without_written_at_only_new_due_dates_must_be_ahead(seeded, tmp_path) -> None:
    path = _write(tmp_path / "r.md", written="")
    assert review_service.import_review(seeded, path, as_of=AS_OF)[1] == "created"
    # months later: the stored due date was checked on first import and passes again
    path.write_text(path.read_text().replace("Checkout was slow.", "Checkout was very slow."))
    assert review_service.import_review(seeded, path)[1] == "updated"
    # a changed due date is checked against today and refused when already past
    before = snapshot(seeded)
    _write(path, due="2026-03-15", written="")
    with pytest.raises(InputError, match="due 2026-03-15"):
        review_service.import_review(seeded, path)
    assert snapshot(seeded) == before


def _publish(ws) -> None:
    for step in (ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED, ReviewStatus.PUBLISHED):
        review_service.advance_review(ws, "INC-7", step)


def test_identical_reimport_leaves_a_published_review_alone(seeded, tmp_path) -> None:
    path = _write(tmp_path / "r.md")
    review_service.import_review(seeded, path)
    _publish(seeded)
    published = review_service.get_review(seeded, "INC-7")
    again, outcome = review_service.import_review(seeded, path)
    assert outcome == "unchanged" and again.status == ReviewStatus.PUBLISHED
    assert again.published_at == published.published_at


def test_changed_reimport_moves_a_published_review_back_to_draft(seeded, tmp_path) -> None:
    path = _write(tmp_path / "r.md")
    review_service.import_review(seeded, path)
    _publish(seeded)
    published = review_service.get_review(seeded, "INC-7")
    path.write_text(path.read_text().replace("Some users.", "Most users."), encoding="utf-8")
    returned, outcome = review_service.import_review(seeded, path)
    stored = review_service.get_review(seeded, "INC-7")
    assert outcome == "reopened" and stored.impact == "Most users."
    for review in (returned, stored):
        assert review.status == ReviewStatus.DRAFT and review.published_at is None
        assert review.status_changed_by == "tester"
    with seeded.transaction() as session:
        events = audit.list_events(session=session, entity_type="review", entity_id=str(stored.id))
    reopened = [e for e in events if e.action == "review.reopened"]
    assert len(reopened) == 1
    assert reopened[0].before_hash == published.content_hash
    assert reopened[0].after_hash == stored.content_hash
    assert reopened[0].details["from"] == "published" and reopened[0].details["to"] == "draft"
    # the usual workflow publishes it again
    _publish(seeded)
    assert review_service.get_review(seeded, "INC-7").status == ReviewStatus.PUBLISHED


def test_changed_reimport_of_an_approved_review_needs_a_new_approval(seeded, tmp_path) -> None:
    path = _write(tmp_path / "r.md")
    review_service.import_review(seeded, path)
    for step in (ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED):
        review_service.advance_review(seeded, "INC-7", step)
    path.write_text(path.read_text().replace("Some users.", "Most users."), encoding="utf-8")
    returned, outcome = review_service.import_review(seeded, path)
    assert outcome == "reopened" and returned.status == ReviewStatus.DRAFT
    with seeded.transaction() as session:
        events = audit.list_events(
            session=session, entity_type="review", entity_id=str(returned.id)
        )
    assert [e.details["from"] for e in events if e.action == "review.reopened"] == ["approved"]


CHAT = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "chat.jsonl"


def test_reimport_that_would_remove_events_and_insights_added_since_is_refused(
    seeded, tmp_path
) -> None:
    """A chat import after the file was written adds events and candidate insights; the old
    file does not have them, so re-importing it is refused, naming them, until asked for."""
    from lessonloop.services.importing import ImportOptions, import_files

    path = _write(tmp_path / "r.md")
    assert review_service.import_review(seeded, path, as_of=AS_OF)[1] == "created"
    chat = import_files(seeded, "chat", [CHAT], options=ImportOptions(incident="INC-7"))
    assert chat.ok, chat.errors
    merged = review_service.get_review(seeded, "INC-7")
    added_events = len(merged.timeline) - 1
    added_insights = len(merged.insights) - 1
    assert added_events > 0 and added_insights > 0
    before = snapshot(seeded)
    with pytest.raises(InputError, match="importing it would remove them") as info:
        review_service.import_review(seeded, path, as_of=AS_OF)
    message = str(info.value)
    assert f"{added_events} timeline events" in message
    assert f"{added_insights} insights" in message
    assert "lessonloop review new INC-7 --out" in message
    assert f"`lessonloop review import {path} --allow-removals`" in message
    assert info.value.file == str(path) and info.value.field == "Timeline"
    assert snapshot(seeded) == before
    # the same file through `lessonloop import markdown` is refused alike
    again = import_files(seeded, "markdown", [path])
    assert [e.field for e in again.errors] == ["Timeline"]
    assert snapshot(seeded) == before
    # asked for, the removal goes ahead as before
    review, outcome = review_service.import_review(seeded, path, as_of=AS_OF, allow_removals=True)
    assert outcome == "updated" and len(review.timeline) == 1 and len(review.insights) == 1


def test_reimport_of_the_current_review_written_out_is_not_refused(seeded, tmp_path) -> None:
    from lessonloop.services.importing import ImportOptions, import_files

    path = _write(tmp_path / "r.md")
    review_service.import_review(seeded, path, as_of=AS_OF)
    import_files(seeded, "chat", [CHAT], options=ImportOptions(incident="INC-7"))
    current = review_service.new_review_file(seeded, "INC-7", tmp_path / "current.md")
    current.write_text(current.read_text().replace("Checkout was slow.", "Checkout was slower."))
    review, outcome = review_service.import_review(seeded, current, as_of=AS_OF)
    assert outcome == "updated" and review.summary == "Checkout was slower."
    # the file has no source column, yet the chat's events stay the chat's: its next import
    # recognises them instead of adding them a second time
    chat_events = [e for e in review.timeline if e.source == "chat"]
    assert chat_events
    again = import_files(seeded, "chat", [CHAT], options=ImportOptions(incident="INC-7"))
    assert again.ok, again.errors
    after = review_service.get_review(seeded, "INC-7")
    assert len(after.timeline) == len(review.timeline)
    same_again = review_service.import_review(seeded, current, as_of=AS_OF)[1]
    assert same_again == "unchanged"
