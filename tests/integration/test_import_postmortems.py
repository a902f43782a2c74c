"""All 171 shared postmortems import with zero errors (on both engines)."""

from __future__ import annotations

from sqlalchemy import func, select

from lessonloop.services.importing import import_files
from lessonloop.storage.tables import IncidentRow, ReviewRow


def test_shared_postmortems_import_cleanly_and_idempotently(workspace, shared_datasets):
    files = sorted((shared_datasets / "postmortems" / "data").glob("*.md"))
    assert len(files) == 171
    summary = import_files(workspace, "markdown", files)
    assert summary.errors == []
    assert summary.outcomes["incident"]["created"] == len(files)
    again = import_files(workspace, "markdown", files)
    assert again.errors == [] and again.outcomes["incident"] == {"unchanged": len(files)}
    with workspace.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == len(files)
        assert session.scalar(select(func.count()).select_from(ReviewRow)) == len(files)
