"""Engines, sessions and migrations for a workspace database (SQLite by default, or PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from lessonloop.errors import ConfigurationError

__all__ = [
    "make_engine",
    "make_sessionmaker",
    "transaction",
    "upgrade_database",
    "downgrade_database",
    "schema_revision",
    "head_revision",
    "database_busy",
    "READ_ONLY",
    "SQLITE_BUSY_TIMEOUT_S",
]

MIGRATIONS = Path(__file__).with_name("migrations")

SQLITE_BUSY_TIMEOUT_S = 60.0
"""How long a SQLite command waits for another command's write lock before giving up."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take effect
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "lessonloop_read_only"
"""Execution option for a connection that only reads: on SQLite it begins without the write
lock (WAL readers see the last commit and neither wait for nor block a writer)."""


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at the start: two writers then queue instead of failing mid-way.
    # A connection marked READ_ONLY reads a WAL snapshot instead and waits for nobody.
    conn.exec_driver_sql(
        "BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE"
    )


def database_busy(exc: BaseException) -> bool:
    """SQLite gave up waiting for another connection's write lock (``database is locked``)."""
    from sqlalchemy.exc import OperationalError

    orig = getattr(exc, "orig", None)
    return (
        isinstance(exc, OperationalError)
        and isinstance(orig, sqlite3.OperationalError)
        and "database is locked" in str(orig)
    )


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and serialised writers."""
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if url.startswith("postgresql"):
        try:
            return create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigurationError(
                "PostgreSQL needs the driver: pip install 'lessonloop[postgres]'"
            ) from exc
    raise ConfigurationError(f"unsupported database URL scheme: {url.split(':', 1)[0]}")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together, or rolled back entirely on any error."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    """Apply every Alembic migration up to the newest one."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")


def downgrade_database(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision`` (an Alembic revision id, or "base")."""
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest migration's revision: a database already there needs no upgrade."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
