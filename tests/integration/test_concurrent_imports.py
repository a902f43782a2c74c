"""Two imports of the same records at once: the loser's commit breaks a unique constraint; its
file is rolled back whole and imported again, finding the winner's records (both engines)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError

from lessonloop.services import importing
from lessonloop.services.importing import import_files
from lessonloop.storage import incidents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
PAGERDUTY = FIXTURES / "pagerduty_export.json"


class _Duplicate(Exception):
    """What psycopg says when another transaction committed the same key first."""

    class diag:  # noqa: N801 - psycopg's attribute name
        constraint_name = "uq_incidents_key"


def _racing(monkeypatch, losses: int) -> list[int]:
    """Make the first `losses` file attempts lose the race at their first incident."""
    calls: list[int] = []
    real = incidents.upsert

    def upsert(data, *, session, actor):
        calls.append(1)
        if len(calls) <= losses:
            raise IntegrityError("INSERT INTO incidents ...", {}, _Duplicate())
        return real(data, session=session, actor=actor)

    monkeypatch.setattr(importing.incidents, "upsert", upsert)
    return calls


def test_a_file_that_loses_a_race_is_imported_again_and_counted_once(
    workspace, monkeypatch
) -> None:
    calls = _racing(monkeypatch, losses=1)
    summary = import_files(workspace, "pagerduty", [PAGERDUTY])
    assert summary.ok, summary.errors
    assert summary.outcomes["incident"] == {"created": 2}  # the lost attempt is not counted
    assert summary.outcomes["file"] == {"imported": 1}
    assert len(calls) == 3  # one lost, then both incidents
    with workspace.transaction() as session:
        assert len(incidents.list_incidents(session=session)) == 2


def test_a_file_that_keeps_losing_is_rejected_with_nothing_stored(workspace, monkeypatch) -> None:
    _racing(monkeypatch, losses=importing.IMPORT_ATTEMPTS)
    summary = import_files(workspace, "pagerduty", [PAGERDUTY])
    (error,) = summary.errors
    assert error.file == str(PAGERDUTY)
    assert "duplicate record (constraint uq_incidents_key) 3 times" in error.message
    assert "import this file again" in error.message
    assert summary.outcomes["file"] == {"rejected": 1} and "incident" not in summary.outcomes
    with workspace.transaction() as session:
        assert incidents.list_incidents(session=session) == []
