"""The redaction key: created once, kept in a file outside the database."""

from __future__ import annotations

import os
import secrets

from lessonloop.settings import Settings

__all__ = ["ensure_redaction_key", "read_redaction_key"]


def ensure_redaction_key(settings: Settings) -> bytes:
    """Return the workspace's redaction key, creating a random one (mode 0600) if missing."""
    path = settings.resolved_key_file
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def read_redaction_key(settings: Settings) -> bytes:
    return ensure_redaction_key(settings)
