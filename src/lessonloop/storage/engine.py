"""Engines, sessions and migrations for a workspace database (SQLite by default, or PostgreSQL)."""

from __future__ import annotations

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
]

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take effect
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at the start: two writers then queue instead of failing mid-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and serialised writers."""
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
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

    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
