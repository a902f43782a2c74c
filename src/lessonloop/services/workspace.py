"""Opening and creating workspaces: settings + database + migrations, in one object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lessonloop.errors import ConfigurationError
from lessonloop.settings import Settings, load_settings
from lessonloop.storage import engine as engine_module
from lessonloop.storage.engine import (
    database_busy,
    head_revision,
    make_engine,
    make_sessionmaker,
    schema_revision,
    transaction,
    upgrade_database,
)

__all__ = ["Workspace", "init_workspace", "open_workspace", "database_busy", "busy_timeout_s"]


def busy_timeout_s() -> float:
    """How long a SQLite command waits for another's write lock before ``database_busy``."""
    return engine_module.SQLITE_BUSY_TIMEOUT_S


@dataclass
class Workspace:
    """A workspace: where its settings point, its database, and who is acting."""

    settings: Settings
    actor: str = field(default="")

    def __post_init__(self) -> None:
        self.actor = " ".join(self.actor.split()) or self.settings.resolved_actor

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed whole, or rolled back whole."""
        with transaction(self.sessions) as session:
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def init_workspace(settings: Settings | None = None, *, actor: str = "") -> Workspace:
    """Create (or bring up to date) the workspace folder, its redaction key and its database."""
    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
    from lessonloop.services.keys import ensure_redaction_key

    ensure_redaction_key(settings)
    workspace = Workspace(settings, actor=actor)
    upgrade_database(workspace.engine)
    from lessonloop.knowledge.taxonomy import ensure_seeded

    with workspace.transaction() as session:
        ensure_seeded(session)
    return workspace


def open_workspace(
    settings: Settings | None = None, *, actor: str = "", create: bool = False
) -> Workspace:
    """Open an initialised workspace; with ``create`` initialise it first when needed."""
    settings = settings or load_settings()
    url = settings.resolved_database_url
    sqlite_file = url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else None
    if not create and sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        raise ConfigurationError(
            f"no Lessonloop workspace at {settings.home}; run 'lessonloop init' first"
        )
    workspace = Workspace(settings, actor=actor)
    try:
        revision = schema_revision(workspace.engine)
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached at all
        if database_busy(exc):
            raise
        raise ConfigurationError(f"cannot open the database: {exc}") from exc
    if revision is None:
        if create:
            workspace.close()
            return init_workspace(settings, actor=actor)
        raise ConfigurationError(
            f"no Lessonloop workspace at {settings.resolved_database_url.split('@')[-1]}; "
            "run 'lessonloop init' first"
        )
    if revision != head_revision(workspace.engine):  # only then take the write lock
        upgrade_database(workspace.engine)
    return workspace
