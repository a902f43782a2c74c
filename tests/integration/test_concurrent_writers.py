"""Two processes writing into one SQLite workspace at once lose and corrupt nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lessonloop.cli.app import app
from lessonloop.services.workspace import init_workspace, open_workspace
from lessonloop.settings import Settings
from lessonloop.storage import engine, incidents

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
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, prefix, str(home)], stderr=subprocess.PIPE, text=True
        )
        for prefix in ("A", "B")
    ]
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


@pytest.fixture
def locked_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace whose SQLite write lock another connection holds (as a long command or a
    suspended one would), with the busy timeout cut so a waiting command gives up at once."""
    home = tmp_path / "ws"
    init_workspace(Settings(home=home)).close()
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_S", 0.1)
    monkeypatch.setenv("LESSONLOOP_HOME", str(home))
    holder = sqlite3.connect(home / "lessonloop.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield home
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_opening_a_workspace_does_not_wait_for_the_write_lock(locked_workspace: Path) -> None:
    ws = open_workspace(Settings(home=locked_workspace))
    assert ws.dialect == "sqlite"
    ws.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["incidents", "create", "INC-1", "--title", "t", "--started-at", "2026-01-01T00:00Z"],
        ["incidents", "list"],
    ],
)
def test_a_command_that_cannot_get_the_write_lock_says_so_in_one_line(
    locked_workspace: Path, argv: list[str]
) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 5, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: the workspace database ")
    assert str(locked_workspace / "lessonloop.db") in result.stderr
    assert "another command has held its write lock" in result.stderr
    assert "run it again" in result.stderr


def test_a_command_that_timed_out_on_the_lock_stored_nothing(locked_workspace: Path) -> None:
    argv = ["incidents", "create", "INC-1", "--title", "t", "--started-at", "2026-01-01T00:00Z"]
    assert CliRunner().invoke(app, argv).exit_code == 5
    ws = open_workspace(Settings(home=locked_workspace))
    with sqlite3.connect(locked_workspace / "lessonloop.db") as reader:
        assert reader.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
        assert reader.execute("SELECT count(*) FROM audit_events").fetchone() == (0,)
    ws.close()
