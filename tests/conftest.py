"""Fixtures shared by every test: where the shared data sets are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Under CI, Hypothesis runs a fixed set of examples (no random failures); locally it explores.
settings.register_profile("ci", derandomize=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "default")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LESSONLOOP_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The read-only data sets beside the project; their absence fails the test run."""
    path = SHARED / "datasets"
    if not path.is_dir():
        pytest.fail(f"shared data sets not found at {path}; set LESSONLOOP_SHARED_DIR")
    return path


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server_url() -> str | None:
    """The test PostgreSQL server, or None locally when there is none (a failure under CI)."""
    url = os.environ.get("LESSONLOOP_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but LESSONLOOP_TEST_POSTGRES_URL is not set: PostgreSQL is required")
    return None


def _fresh_postgres_database(server_url: str) -> str:
    import uuid

    from sqlalchemy import create_engine, text

    name = f"ll_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 postgres_server_url: str | None) -> str:
    """A fresh, empty database on each engine: SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lessonloop.db'}"
    if postgres_server_url is None:
        pytest.skip("no PostgreSQL server (set LESSONLOOP_TEST_POSTGRES_URL); required under CI")
    return _fresh_postgres_database(postgres_server_url)


@pytest.fixture
def workspace(database_url: str, tmp_path: Path):
    """An initialised workspace on each engine, acting as 'tester'."""
    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    settings = Settings(home=tmp_path / "home", database_url=database_url)
    ws = init_workspace(settings, actor="tester")
    yield ws
    ws.close()


@pytest.fixture
def session(workspace):
    """A session whose work is rolled back at the end of the test."""
    from sqlalchemy.orm import Session

    connection = workspace.engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield db
    db.close()
    outer.rollback()
    connection.close()
