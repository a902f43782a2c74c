"""Files that commands write (results, plots): checked before any work, so a bad path fails
fast; written whole or not at all, their folder created only then (a failed run leaves none),
through a symbolic link to its target."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from lessonloop.errors import InputError

__all__ = ["check_png", "check_target", "save_figure", "write_text_atomically"]


def _resolved(out: Path, field: str) -> Path:
    """`out`, or the file a symbolic link at `out` points to (a loop is an InputError)."""
    if not out.is_symlink():
        return out
    try:
        return out.resolve(strict=False)
    except (OSError, RuntimeError) as error:  # Python 3.11 raises RuntimeError on a loop
        raise InputError(
            f"{out} is a symbolic link that cannot be followed: {error}", field=field
        ) from None


def check_target(out: Path, field: str) -> Path:
    """Validate a file path before any work: not a folder, under a writable folder (the
    nearest existing one is tested; missing ones are created when the file is written)."""
    target = _resolved(out, field)
    if target.is_dir():
        raise InputError(f"{out} is a folder; give a file name", field=field)
    existing = next((p for p in (target.parent, *target.parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{existing} is not a folder", field=field)
    folder = existing if existing is not None else Path.cwd()
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise InputError(
            f"cannot write in folder {folder}: {error.strerror or error}", field=field
        ) from None
    return out


def check_png(out: Path) -> Path:
    """Validate a --png target before any work: a writable ``.png`` file path, not a folder."""
    if out.suffix.lower() != ".png":
        raise InputError(f"the plot file must end in .png: {out}", field="--png")
    return check_target(out, "--png")


def _replace_atomically(out: Path, field: str, write: Any) -> Path:
    """Call ``write(temporary)`` and rename the result into place (the link's target)."""
    target = _resolved(out, field)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(temporary)
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InputError(f"cannot write {out}: {error.strerror or error}", field=field) from None
    return target


def write_text_atomically(out: Path, text: str, field: str = "--out") -> Path:
    """Write text whole or not at all."""
    return _replace_atomically(out, field, lambda path: path.write_text(text, encoding="utf-8"))


def save_figure(fig: Any, out: Path, field: str = "--png") -> Path:
    """Save a Matplotlib figure as PNG, whole or not at all (a reader never sees half of it)."""
    return _replace_atomically(out, field, lambda path: fig.savefig(path, dpi=110, format="png"))
