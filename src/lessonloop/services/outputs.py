"""Files that commands write (plots): checked before any work, so a bad path fails fast."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lessonloop.errors import InputError

__all__ = ["check_png"]


def check_png(out: Path) -> Path:
    """Validate a --png target before any work: a writable ``.png`` file path, not a folder.

    A missing parent folder is created. Problems raise InputError on the field ``--png``.
    """
    if out.suffix.lower() != ".png":
        raise InputError(f"the plot file must end in .png: {out}", field="--png")
    if out.is_dir():
        raise InputError(f"{out} is a folder; give a file name ending in .png", field="--png")
    _require_writable_folder(out.parent, "--png")
    return out


def _require_writable_folder(folder: Path, field: str) -> None:
    """Create `folder` if missing and check a file can be written in it (else InputError)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{existing} is not a folder", field=field)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(
            f"cannot write in folder {folder}: {error.strerror or error}", field=field
        ) from None
