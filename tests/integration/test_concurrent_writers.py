"""Two processes writing into one SQLite workspace at once lose and corrupt nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text

from lessonloop.services.workspace import init_workspace, open_workspace
from lessonloop.settings import Settings
from lessonloop.storage import incidents

WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from lessonloop.domain import IncidentCreate, ReviewCreate, InsightCreate
    from lessonloop.services.workspace import open_workspace
    from lessonloop.settings import Settings
    from lessonloop.storage import incidents, reviews
    prefix, home = sys.argv[1], sys.argv[2]
    ws = open_workspace(Settings(home=home), actor=prefix)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(150):
        with ws.transaction() as session:  # one import = one transaction
            key = f"{prefix}-{i}"
            incidents.create(IncidentCreate(key=key, title="t", services=["api"],
                                            started_at=t0), session=session, actor=prefix)
            reviews.save(ReviewCreate(incident_key=key, title="r", insights=[
                InsightCreate(kind="observation", text=f"insight {i}")]),
                session=session, actor=prefix)
""")


def test_two_processes_import_into_one_sqlite_workspace(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    ws = init_workspace(Settings(home=home), actor="setup")
    from lessonloop.domain import ServiceCreate
    from lessonloop.storage import services

    with ws.transaction() as session:
        services.create(ServiceCreate(name="api"), session=session, actor="setup")
    ws.close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, prefix, str(home)],
                              stderr=subprocess.PIPE, text=True) for prefix in ("A", "B")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    ws = open_workspace(Settings(home=home))
    with ws.transaction() as session:
        keys = {i.key for i in incidents.list_incidents(session=session)}
        assert keys == {f"{p}-{i}" for p in "AB" for i in range(150)}
        n_insights = session.execute(text("SELECT count(*) FROM insights")).scalar_one()
        assert n_insights == 300
        assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    ws.close()
