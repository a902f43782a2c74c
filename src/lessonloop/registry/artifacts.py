"""Model artifacts: a directory with a readable config.json and a skops state file, content-hashed.

Loading checks the directory's hash first and refuses a mismatch; state is read with skops and an
allow-list of types, so nothing in an artifact can make Lessonloop run code (no pickle, ever).

Example::

    digest = save_artifact(path, {"rules": [...]}, {"thresholds": array})
    loaded = load_artifact(path, expected_hash=digest)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lessonloop.errors import IntegrityError, NotFound

__all__ = [
    "CONFIG_FILE",
    "STATE_FILE",
    "TRUSTED_PREFIXES",
    "LoadedArtifact",
    "directory_hash",
    "save_artifact",
    "store_artifact",
    "verify_artifact",
    "read_config",
    "load_artifact",
    "pack_artifact",
    "unpack_artifact",
]

CONFIG_FILE = "config.json"
STATE_FILE = "state.skops"
TRUSTED_PREFIXES = ("numpy.", "sklearn.", "scipy.sparse.")
"""Type families skops may rebuild from an artifact's state (their own code, never the file's)."""


@dataclass(frozen=True)
class LoadedArtifact:
    """A verified artifact: its config and its learned state (empty when it has none)."""

    path: Path
    content_hash: str
    config: dict[str, Any]
    state: dict[str, Any]


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise NotFound(f"no model artifact at {directory}")
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            raise IntegrityError(f"artifact {directory} contains a symbolic link: {path.name}")
        if path.is_file():
            found.append(path)
    return found


def directory_hash(directory: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in _files(directory):
        relative = path.relative_to(directory).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(relative).to_bytes(8, "big") + relative)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def save_artifact(
    directory: Path, config: dict[str, Any], state: dict[str, Any] | None = None
) -> str:
    """Write config.json (and state.skops when there is state); return the directory hash."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_FILE).write_text(
        json.dumps(config, indent=2, sort_keys=True, default=str) + "\n"
    )
    if state:
        import skops.io  # imported on use: it costs seconds at CLI start-up

        skops.io.dump(state, directory / STATE_FILE)
    return directory_hash(directory)


def store_artifact(source: Path, root: Path) -> tuple[Path, str]:
    """Copy a saved model directory under `root`, named by its hash; return (path, hash)."""
    digest = directory_hash(source)
    target = root / digest[:20]
    if not target.exists():
        staging = root / f".staging-{digest[:20]}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging, symlinks=True)
        staging.replace(target)
    verify_artifact(target, digest)
    return target, digest


def verify_artifact(directory: Path, expected_hash: str) -> None:
    """Raise IntegrityError unless the directory's content hash is `expected_hash`."""
    actual = directory_hash(directory)
    if actual != expected_hash:
        raise IntegrityError(
            f"artifact {directory} does not match its recorded hash "
            f"(expected {expected_hash[:12]}…, found {actual[:12]}…); refusing to load it"
        )


def read_config(directory: Path, expected_hash: str) -> dict[str, Any]:
    """The verified artifact's config.json."""
    verify_artifact(directory, expected_hash)
    return _config(directory)


def _config(directory: Path) -> dict[str, Any]:
    try:
        config = json.loads((directory / CONFIG_FILE).read_text())
    except FileNotFoundError as exc:
        raise IntegrityError(f"artifact {directory} has no {CONFIG_FILE}") from exc
    except json.JSONDecodeError as exc:
        raise IntegrityError(f"artifact {directory}: {CONFIG_FILE} is not JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise IntegrityError(f"artifact {directory}: {CONFIG_FILE} must hold a JSON object")
    return config


def _allowed(type_name: str, trusted: Sequence[str]) -> bool:
    return type_name in trusted or type_name.startswith(TRUSTED_PREFIXES)


def load_artifact(
    directory: Path, expected_hash: str, *, trusted: Sequence[str] = ()
) -> LoadedArtifact:
    """Verify the hash, then read config and state; types outside the allow-list are refused."""
    verify_artifact(directory, expected_hash)
    config = _config(directory)
    state_path = directory / STATE_FILE
    state: dict[str, Any] = {}
    if state_path.exists():
        import skops.io

        try:
            untrusted = skops.io.get_untrusted_types(file=state_path)
        except Exception as exc:  # noqa: BLE001 - skops raises many kinds on a corrupt file
            raise IntegrityError(f"artifact {directory}: unreadable state: {exc}") from exc
        refused = sorted(t for t in untrusted if not _allowed(t, trusted))
        if refused:
            raise IntegrityError(
                f"artifact {directory}: state holds types outside the allow-list: "
                f"{', '.join(refused)}"
            )
        loaded = skops.io.load(state_path, trusted=list(untrusted))
        if not isinstance(loaded, dict):
            raise IntegrityError(f"artifact {directory}: state must be a mapping of names")
        state = loaded
    return LoadedArtifact(directory, expected_hash, config, state)


_HASH = re.compile(r"[0-9a-f]{64}")


def pack_artifact(directory: Path) -> dict[str, str]:
    """The artifact's files as {relative path: base64 content}, in path order."""
    return {
        path.relative_to(directory).as_posix(): base64.b64encode(path.read_bytes()).decode("ascii")
        for path in _files(directory)
    }


def unpack_artifact(content_hash: object, files: object, root: Path) -> Path:
    """Write a packed artifact under ``root`` (named by its hash) after checking that hash.

    Raises ValueError naming what is wrong: a bad hash, an unsafe path, bad base64, or content
    that does not hash to ``content_hash``. Nothing is left behind on failure.
    """
    if not isinstance(content_hash, str) or not _HASH.fullmatch(content_hash):
        raise ValueError("artifact hash must be 64 lower-case hex digits")
    if not isinstance(files, dict) or not files:
        raise ValueError("artifact files must be a non-empty mapping of path to base64")
    staging = root / f".unpack-{content_hash[:20]}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for name, data in files.items():
            parts = str(name).split("/")
            if not isinstance(data, str) or any(p in ("", ".", "..") for p in parts):
                raise ValueError(f"unsafe or empty artifact file {name!r}")
            target = staging.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(data, validate=True))
        if directory_hash(staging) != content_hash:
            raise ValueError(f"artifact content does not match its hash {content_hash[:12]}…")
        path, _ = store_artifact(staging, root)
        return path
    except binascii.Error as exc:
        raise ValueError(f"artifact file is not base64: {exc}") from None
    except OSError as exc:  # e.g. "a" and "a/b" both given: not a folder layout
        raise ValueError(f"artifact files do not form a folder: {exc.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
