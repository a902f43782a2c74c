"""The redaction key: created once, kept in a file outside the database."""

from __future__ import annotations

from lessonloop.redact import key_fingerprint, load_or_create_key
from lessonloop.settings import Settings

__all__ = ["ensure_redaction_key", "read_redaction_key", "redaction_key_fingerprint"]


def ensure_redaction_key(settings: Settings) -> bytes:
    """Return the workspace's redaction key, creating a random one (mode 0600) if missing."""
    path = settings.resolved_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    return load_or_create_key(path)


def read_redaction_key(settings: Settings) -> bytes:
    return ensure_redaction_key(settings)


def redaction_key_fingerprint(settings: Settings) -> str:
    """A fingerprint of the workspace's redaction key that does not reveal it."""
    return key_fingerprint(read_redaction_key(settings))
