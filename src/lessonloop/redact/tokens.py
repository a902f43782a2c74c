"""Keyed, consistent replacement tokens (`<email:7f3a2c>`) and the key file they depend on."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import stat
import tempfile
from pathlib import Path

from lessonloop.errors import ConfigurationError

__all__ = ["KEY_BYTES", "TOKEN_PATTERN", "format_token", "key_fingerprint", "load_or_create_key"]

KEY_BYTES = 32
TOKEN_PATTERN = re.compile(r"<[a-z][a-z0-9_]{0,31}:[0-9a-f]{4,64}>")


def format_token(kind: str, normalised_value: str, key: bytes, hex_length: int = 6) -> str:
    """Return `<kind:hex>`, hex being the first characters of HMAC-SHA256(key, value)."""
    digest = hmac.new(key, normalised_value.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"<{kind}:{digest[:hex_length]}>"


def key_fingerprint(key: bytes) -> str:
    """Tell two keys apart without revealing either: HMAC-SHA256(key, a fixed label), 16 hex.

    A workspace export records it so a restore can say when its own key differs.
    """
    label = b"lessonloop redaction key fingerprint"
    return hmac.new(key, label, hashlib.sha256).hexdigest()[:16]


def _create_key_file(key_path: Path) -> None:
    """Write a random key beside `key_path`, then hard-link it into place.

    The link either succeeds whole or finds a file already there, so a concurrent reader never
    sees a half-written key and two processes starting together end up with the same key.
    """
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=key_path.parent, prefix=".redaction-key-")
    try:
        with os.fdopen(descriptor, "wb") as key_file:
            key_file.write(os.urandom(KEY_BYTES))
            key_file.flush()
            os.fsync(key_file.fileno())
        with contextlib.suppress(FileExistsError):  # another process won; read its key
            os.link(temporary, key_path)
    finally:
        os.unlink(temporary)


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """Read the redaction key at `path`, creating a random 32-byte key file (mode 0600) if missing.

    The key must live outside the database: whoever holds it can confirm a guessed value by
    recomputing its token. A key file that other users can read is refused.
    """
    key_path = Path(path)
    if not key_path.exists():
        try:
            _create_key_file(key_path)
        except OSError as error:
            raise ConfigurationError(
                f"cannot create redaction key file {key_path}: {error}"
            ) from None
    if not key_path.is_file():
        raise ConfigurationError(f"redaction key path {key_path} is not a file")
    mode = stat.S_IMODE(key_path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"redaction key file {key_path} is accessible by other users "
            f"(mode {mode:o}); run: chmod 600 {key_path}"
        )
    key = key_path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"redaction key file {key_path} holds {len(key)} bytes, expected {KEY_BYTES}"
        )
    return key
