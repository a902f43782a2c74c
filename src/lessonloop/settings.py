"""One typed settings object, read from ``LESSONLOOP_*`` variables and checked at start-up.

Nothing else in Lessonloop reads ``os.environ``: build a :class:`Settings` (or call
:func:`load_settings`) and pass it in.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lessonloop.errors import ConfigurationError

__all__ = ["Settings", "load_settings", "SETTINGS_DOC"]

SETTINGS_DOC: dict[str, str] = {
    "LESSONLOOP_HOME": "workspace folder (database, artifacts, redaction key); "
    "default ./.lessonloop",
    "LESSONLOOP_DATABASE_URL": "SQLAlchemy URL; default sqlite:///<home>/lessonloop.db; "
    "PostgreSQL as postgresql+psycopg://user:pass@host:port/db",
    "LESSONLOOP_REDACTION_KEY_FILE": "file holding the secret key for redaction tokens; "
    "default <home>/redaction.key (kept outside the database)",
    "LESSONLOOP_DASK_SCHEDULER": "address of a Dask scheduler for parallel work; "
    "default: local processes",
    "LESSONLOOP_LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR; default WARNING",
    "LESSONLOOP_ACTOR": "who is acting, recorded in the audit trail; default the OS user",
}


class Settings(BaseSettings):
    """Where the workspace lives, which database it uses and how work is run."""

    model_config = SettingsConfigDict(env_prefix="LESSONLOOP_", extra="ignore")

    home: Path = Field(default=Path(".lessonloop"))
    database_url: str | None = None
    redaction_key_file: Path | None = None
    dask_scheduler: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    actor: str | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not (value.startswith("sqlite") or value.startswith("postgresql")):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the workspace folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'lessonloop.db').resolve()}"

    @property
    def resolved_key_file(self) -> Path:
        return self.redaction_key_file or (self.home / "redaction.key")

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    @property
    def resolved_actor(self) -> str:
        """The configured actor with its spaces collapsed; blank means the OS user."""
        named = " ".join((self.actor or "").split())
        if named:
            return named
        import getpass

        try:
            return getpass.getuser()
        except Exception:  # noqa: BLE001 - no user database in some containers
            return "unknown"

    def configure_logging(self) -> None:
        logging.basicConfig(level=self.log_level, format="%(levelname)s %(name)s: %(message)s")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (plus explicit overrides), or raise ConfigurationError."""
    try:
        clean = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"LESSONLOOP_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
