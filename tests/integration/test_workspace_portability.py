"""Export → import → export of a whole workspace is byte-identical, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.factories import populate

from lessonloop.errors import Conflict, InputError
from lessonloop.services.portability import export_workspace, import_workspace
from lessonloop.services.workspace import init_workspace
from lessonloop.settings import Settings


def _fresh(database_url_factory, tmp_path: Path, name: str):
    return init_workspace(Settings(home=tmp_path / name, database_url=database_url_factory(name)),
                          actor="tester")


@pytest.fixture
def second_database(database_url: str, postgres_server_url, tmp_path: Path):
    """A factory of further empty databases on the same engine as ``database_url``."""
    from tests.conftest import _fresh_postgres_database

    def make(name: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name / 'db.sqlite'}"
        return _fresh_postgres_database(postgres_server_url)

    return make


def test_export_import_export_is_byte_identical(workspace, second_database, tmp_path) -> None:
    with workspace.transaction() as session:
        populate(session, 1000)
    first = tmp_path / "first.jsonl"
    export_workspace(workspace, first)
    target = _fresh(second_database, tmp_path, "copy")
    counts = import_workspace(target, first)
    assert counts["incidents"] == 1000 and counts["reviews"] == 1000
    second = tmp_path / "second.jsonl"
    export_workspace(target, second)
    assert first.read_bytes() == second.read_bytes()
    target.close()


def test_import_into_non_empty_workspace_is_refused(workspace, tmp_path) -> None:
    with workspace.transaction() as session:
        populate(session, 3)
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    with pytest.raises(Conflict, match="not empty"):
        import_workspace(workspace, dump)


def test_a_broken_dump_writes_nothing(workspace, second_database, tmp_path) -> None:
    with workspace.transaction() as session:
        populate(session, 5)
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    lines = dump.read_text().splitlines()
    lines[-1] = lines[-1][:-5]  # truncate the last record
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    target = _fresh(second_database, tmp_path, "target")
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    export_workspace(target, before)
    with pytest.raises(InputError) as info:
        import_workspace(target, broken)
    assert info.value.line == len(lines) and info.value.file == str(broken)
    export_workspace(target, after)
    assert after.read_bytes() == before.read_bytes()  # nothing was written
    assert '"incidents":0' in after.read_text().splitlines()[0]
    target.close()
