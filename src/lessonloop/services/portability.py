"""Export a whole workspace to JSON lines and import it into a fresh one, byte for byte."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from lessonloop.errors import InputError
from lessonloop.services.workspace import Workspace
from lessonloop.storage.dump import count_rows, export_rows, import_rows

__all__ = ["export_workspace", "import_workspace"]

Progress = Callable[[str, int, int], None]


def export_workspace(ws: Workspace, path: Path, progress: Progress | None = None) -> int:
    """Write the dump atomically (temp file, then rename); returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle,
            ws.transaction() as session,
        ):
            total = count_rows(session)
            for line in export_rows(session):
                handle.write(line + "\n")
                rows += 1
                if progress is not None and rows % 500 == 0:
                    progress("export", rows, total)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows - 1


def _expected_rows(path: Path) -> int:
    """The row count the dump's header announces (0 when it cannot be read)."""
    import json

    try:
        with path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline())
        return int(sum(header.get("tables", {}).values()))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def import_workspace(ws: Workspace, path: Path, progress: Progress | None = None
                     ) -> dict[str, int]:
    """Load a dump into this (empty) workspace in one transaction: all rows or none."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path)) from exc
    with handle:
        try:
            with ws.transaction() as session:
                done = [0]
                expected = _expected_rows(path)

                def step(n: int) -> None:
                    done[0] += n
                    if progress is not None and done[0] % 500 == 0:
                        progress("import", done[0], expected)

                counts = import_rows(session, handle, str(path), progress=step)
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path)) from exc
    # No audit event of its own: the dump restores the source's audit trail verbatim, and an
    # extra row would break export -> import -> export identity. The search index is derived
    # data, not part of the dump: rebuild it.
    from lessonloop.services.knowledge import reindex

    reindex(ws)
    return counts
