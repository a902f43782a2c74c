"""Review import through the service layer: idempotent, and all-or-nothing on bad input."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from lessonloop.domain import IncidentCreate, ServiceCreate
from lessonloop.errors import Conflict, InputError
from lessonloop.services import reviews as review_service
from lessonloop.storage import incidents, services
from lessonloop.storage.dump import export_rows

GOOD = (Path(__file__).parent.parent / "unit" / "ingest" / "test_review_format.py")


def _good_text() -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("fmt", GOOD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.GOOD.replace("title: Checkout slow", "title: Checkout slow\nservices: [checkout]")


def _snapshot(ws) -> str:
    with ws.transaction() as session:
        return "\n".join(export_rows(session))


@pytest.fixture
def seeded(workspace):
    with workspace.transaction() as session:
        services.create(ServiceCreate(name="checkout"), session=session, actor="t")
        incidents.create(IncidentCreate(key="INC-7", title="Checkout slow", services=["checkout"],
                                        started_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)),
                         session=session, actor="t")
    return workspace


AS_OF = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)


def test_reimport_updates_never_duplicates(seeded, tmp_path) -> None:
    path = tmp_path / "r.md"
    path.write_text(_good_text())
    first, outcome = review_service.import_review(seeded, path, as_of=AS_OF)
    assert outcome == "created"
    assert review_service.import_review(seeded, path)[1] == "unchanged"
    path.write_text(_good_text().replace("Checkout was slow.", "Checkout was very slow."))
    second, outcome = review_service.import_review(seeded, path)
    assert outcome == "updated" and second.id == first.id
    assert len(review_service.list_reviews(seeded)) == 1
    # The front matter corrected the incident's start (the review says when it really began).
    with seeded.transaction() as session:
        assert incidents.get("INC-7", session=session).started_at.minute == 12


BAD_CASES = {
    "malformed yaml": lambda s: s.replace("title: Checkout slow", "title: [oops"),
    "missing section": lambda s: s.replace("## Impact\nSome users.\n", ""),
    "unknown incident": lambda s: s.replace("incident: INC-7", "incident: INC-404"),
    "times out of order": lambda s: s.replace(
        "started_at: 2026-03-02T10:12:00Z",
        "started_at: 2026-03-02T10:12:00Z\ndetected_at: 2026-03-01T00:00:00Z"),
    "due date in the past": lambda s: s.replace("2026-04-01", "2026-03-01"),
    "unknown service": lambda s: s.replace("services: [checkout]", "services: [nope]"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_review_changes_nothing(seeded, tmp_path, case: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(BAD_CASES[case](_good_text()))
    before = _snapshot(seeded)
    with pytest.raises((InputError, Conflict)) as info:
        review_service.import_review(seeded, path, as_of=AS_OF)
    assert str(path) in str(info.value)
    assert _snapshot(seeded) == before


def test_non_utf8_and_oversized_files_change_nothing(seeded, tmp_path) -> None:
    before = _snapshot(seeded)
    latin = tmp_path / "latin.md"
    latin.write_bytes(_good_text().encode().replace(b"slow", b"lent\xe9"))
    with pytest.raises(InputError, match="not UTF-8"):
        review_service.import_review(seeded, latin)
    huge = tmp_path / "huge.md"
    with huge.open("wb") as handle:
        handle.write(_good_text().encode())
        handle.write(io.BytesIO(b"z" * (50 * 1024 * 1024)).getvalue())
    with pytest.raises(InputError, match="limit"):
        review_service.import_review(seeded, huge)
    assert _snapshot(seeded) == before


def test_new_review_file_round_trips_through_import(seeded, tmp_path) -> None:
    path = tmp_path / "INC-7.md"
    path.write_text(_good_text())
    review_service.import_review(seeded, path, as_of=AS_OF)
    written = review_service.new_review_file(seeded, "INC-7", tmp_path / "again.md")
    again, outcome = review_service.import_review(seeded, written)
    assert outcome == "unchanged"
    assert [i.text for i in again.insights] == ["The 800 ms threshold paged 20 minutes late."]
