"""Export a whole workspace to JSON lines and import it into a fresh one, byte for byte.

Model artifacts travel with the dump: after the table rows come one line per artifact
(``{"artifact": HASH, "files": {PATH: BASE64}}``), and a model version's ``artifact_path`` is
written as ``artifacts/<name>`` (relative to the workspace home), so the import puts the
artifact in the new workspace and points the version at it.

The redaction key never travels (it is a secret): the header records its fingerprint, and the
import warns when the workspace it restores into has another key.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lessonloop.domain.access import Permission
from lessonloop.domain.common import canonical_json
from lessonloop.errors import InputError, IntegrityError, NotFound
from lessonloop.registry.artifacts import pack_artifact, unpack_artifact, verify_artifact
from lessonloop.services.access import require
from lessonloop.services.keys import redaction_key_fingerprint
from lessonloop.services.workspace import Workspace
from lessonloop.storage.dump import Rewrite, count_rows, export_rows, import_rows

__all__ = ["export_workspace", "import_workspace"]

Progress = Callable[[str, int, int], None]


_VERSIONS = "model_versions"
_FINGERPRINT = "redaction_key_fingerprint"


def _portable(artifacts: dict[str, Path]) -> Rewrite:
    """Rewrite a version's absolute artifact path as ``artifacts/<name>``; note the artifact."""

    def rewrite(table: str, row: dict[str, Any]) -> dict[str, Any]:
        if table != _VERSIONS or not row.get("artifact_path") or not row.get("artifact_hash"):
            return row
        where = Path(row["artifact_path"])
        artifacts[row["artifact_hash"]] = where
        return {**row, "artifact_path": f"artifacts/{where.name}"}

    return rewrite


def _artifact_problem(folder: Path, digest: str) -> str | None:
    """Why an artifact cannot travel (missing, or not matching its hash), or None."""
    try:
        verify_artifact(folder, digest)
    except (NotFound, IntegrityError) as exc:
        return str(exc)
    return None


def export_workspace(
    ws: Workspace,
    path: Path,
    progress: Progress | None = None,
    *,
    left_out: list[str] | None = None,
) -> int:
    """Write the dump atomically (temp file, then rename); returns the number of rows.

    An artifact whose folder is gone or no longer matches its hash is left out (the version's
    rows stay; loading it fails as it did before the export) and named in ``left_out``, so the
    dump always imports.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    artifacts: dict[str, Path] = {}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle,
            ws.transaction() as session,
        ):
            total = count_rows(session)
            header = {_FINGERPRINT: redaction_key_fingerprint(ws.settings)}
            for line in export_rows(session, rewrite=_portable(artifacts), header=header):
                handle.write(line + "\n")
                rows += 1
                if progress is not None and rows % 500 == 0:
                    progress("export", rows, total)
            for digest in sorted(artifacts):
                problem = _artifact_problem(artifacts[digest], digest)
                if problem:
                    if left_out is not None:
                        left_out.append(problem)
                    continue
                files = pack_artifact(artifacts[digest])
                handle.write(canonical_json({"artifact": digest, "files": files}) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows - 1


def _header(path: Path) -> dict[str, Any]:
    """The dump's header line ({} when it cannot be read; the import then says why)."""
    import json

    try:
        with path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline())
    except (OSError, ValueError):
        return {}
    return header if isinstance(header, dict) else {}


def _expected_rows(header: dict[str, Any]) -> int:
    """The row count the dump's header announces (0 when it cannot be read)."""
    try:
        return int(sum(header.get("tables", {}).values()))
    except (AttributeError, TypeError, ValueError):
        return 0


def _key_warning(ws: Workspace, header: dict[str, Any], source: str) -> str | None:
    """Why data imported from now on will not join the restored data, or None.

    A dump from before fingerprints were recorded has none, and is not checked.
    """
    recorded = header.get(_FINGERPRINT)
    if not isinstance(recorded, str) or recorded == redaction_key_fingerprint(ws.settings):
        return None
    key = ws.settings.resolved_key_file
    return (
        f"{source}:1, field '{_FINGERPRINT}': the export was made under another redaction "
        f"key than this workspace's ({key}), so people and values imported from now on get "
        "other tokens than the restored data and will not join it; copy the source "
        f"workspace's redaction key file to {key}, or set LESSONLOOP_REDACTION_KEY_FILE to it, "
        "before importing anything else"
    )


def _local(ws: Workspace) -> Rewrite:
    """A version's portable ``artifacts/<name>`` path as this workspace's absolute path."""
    root = ws.settings.artifacts_dir.resolve()

    def rewrite(table: str, row: dict[str, Any]) -> dict[str, Any]:
        value = row.get("artifact_path") if table == _VERSIONS else None
        if isinstance(value, str) and value.startswith("artifacts/"):
            return {**row, "artifact_path": str(root / value.removeprefix("artifacts/"))}
        return row

    return rewrite


def _artifact_writer(root: Path, source: str) -> Callable[[dict[str, Any], int], None]:
    """Unpack each artifact line of a dump under ``root`` (hash-checked)."""

    def write(record: dict[str, Any], line: int) -> None:
        try:
            unpack_artifact(record.get("artifact"), record.get("files"), root)
        except ValueError as exc:
            raise InputError(str(exc), file=source, line=line, field="artifact") from exc

    return write


def _move_artifacts(staged: Path, root: Path) -> None:
    """Move unpacked artifacts into the workspace (those already there are kept)."""
    root.mkdir(parents=True, exist_ok=True)
    for folder in sorted(staged.iterdir()):
        if not (root / folder.name).exists():
            shutil.move(str(folder), root / folder.name)


def import_workspace(
    ws: Workspace,
    path: Path,
    progress: Progress | None = None,
    *,
    warnings: list[str] | None = None,
) -> dict[str, int]:
    """Load a dump into this (empty) workspace in one transaction: all rows or none.

    Model artifacts in the dump are checked against their hashes and put in this workspace's
    artifact folder, and the model versions point at them. When the dump was exported under
    another redaction key than this workspace's, ``warnings`` gets a line saying what to do.
    """
    require(ws, Permission.ADMINISTER, "restore a workspace export")
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path)) from exc
    with handle, tempfile.TemporaryDirectory(dir=ws.settings.home) as staging:
        try:
            with ws.transaction() as session:
                done = [0]
                header = _header(path)
                expected = _expected_rows(header)

                def step(n: int) -> None:
                    done[0] += n
                    if progress is not None and done[0] % 500 == 0:
                        progress("import", done[0], expected)

                counts = import_rows(
                    session,
                    handle,
                    str(path),
                    progress=step,
                    rewrite=_local(ws),
                    extra=_artifact_writer(Path(staging), str(path)),
                )
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path)) from exc
        # Artifacts are unpacked aside and moved in only once the rows are committed, so a
        # broken dump leaves the workspace as it was.
        _move_artifacts(Path(staging), ws.settings.artifacts_dir)
    # No audit event of its own: the dump restores the source's audit trail verbatim, and an
    # extra row would break export -> import -> export identity. The search index is derived
    # data, not part of the dump: rebuild it.
    from lessonloop.services.knowledge import reindex

    reindex(ws)
    problem = _key_warning(ws, header, str(path))
    if problem and warnings is not None:
        warnings.append(problem)
    return counts
