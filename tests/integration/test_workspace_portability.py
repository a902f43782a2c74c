"""Export → import → export of a whole workspace is byte-identical, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.factories import populate

from lessonloop.errors import Conflict, InputError
from lessonloop.services.portability import export_workspace, import_workspace
from lessonloop.services.workspace import init_workspace
from lessonloop.settings import Settings


def _fresh(database_url_factory, tmp_path: Path, name: str, key: Path | None = None):
    """A new workspace; with ``key`` it shares that redaction key file (a full restore)."""
    return init_workspace(Settings(home=tmp_path / name, database_url=database_url_factory(name),
                                   redaction_key_file=key), actor="tester")


def _edit_line(dump: Path, pick, edit) -> int:
    """Rewrite one JSON line of a dump in place; ``pick`` is its index or a test on its text.

    Returns the line's index (0-based)."""
    import json

    lines = dump.read_text().splitlines()
    number = pick if isinstance(pick, int) else next(i for i, t in enumerate(lines) if pick(t))
    record = json.loads(lines[number])
    edit(record)
    lines[number] = json.dumps(record)
    dump.write_text("\n".join(lines) + "\n")
    return number % len(lines)


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
    target = _fresh(second_database, tmp_path, "copy", workspace.settings.resolved_key_file)
    counts = import_workspace(target, first)
    assert counts["incidents"] == 1000 and counts["reviews"] == 1000
    second = tmp_path / "second.jsonl"
    export_workspace(target, second)
    assert first.read_bytes() == second.read_bytes()
    target.close()


def test_a_restore_under_another_redaction_key_warns_what_to_do(
    workspace, second_database, tmp_path
) -> None:
    import json

    with workspace.transaction() as session:
        populate(session, 2)
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    key = workspace.settings.resolved_key_file.read_bytes()
    assert key.hex() not in dump.read_text() and key.hex()[:16] not in dump.read_text()
    header = json.loads(dump.read_text().splitlines()[0])
    assert len(header["redaction_key_fingerprint"]) == 16

    other = _fresh(second_database, tmp_path, "other")
    warnings: list[str] = []
    counts = import_workspace(other, dump, warnings=warnings)
    assert counts["incidents"] == 2 and len(warnings) == 1
    assert warnings[0].startswith(f"{dump}:1, field 'redaction_key_fingerprint'")
    assert str(other.settings.resolved_key_file) in warnings[0]
    assert "LESSONLOOP_REDACTION_KEY_FILE" in warnings[0]
    other.close()

    same = _fresh(second_database, tmp_path, "same", workspace.settings.resolved_key_file)
    warnings = []
    import_workspace(same, dump, warnings=warnings)
    assert warnings == []
    same.close()


def test_an_export_without_a_key_fingerprint_imports_without_a_warning(
    workspace, second_database, tmp_path
) -> None:

    with workspace.transaction() as session:
        populate(session, 2)
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    _edit_line(dump, 0, lambda header: header.pop("redaction_key_fingerprint"))
    target = _fresh(second_database, tmp_path, "old")
    warnings: list[str] = []
    assert import_workspace(target, dump, warnings=warnings)["incidents"] == 2
    assert warnings == []
    target.close()


def test_import_workspace_prints_the_key_warning_in_one_line_and_exits_0(
    tmp_path, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from lessonloop.cli.app import app

    runner = CliRunner()
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "a"))
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["export", str(tmp_path / "a.jsonl")]).exit_code == 0
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "b"))
    done = runner.invoke(app, ["import-workspace", str(tmp_path / "a.jsonl")])
    assert done.exit_code == 0, done.output
    warning = [line for line in done.output.splitlines() if "warning:" in line]
    assert len(warning) == 1 and "LESSONLOOP_REDACTION_KEY_FILE" in warning[0]


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


def test_model_artifacts_travel_with_the_dump(workspace, second_database, tmp_path) -> None:
    import json
    import shutil

    from lessonloop.domain.enums import ModelTask
    from lessonloop.domain.models import ModelVersionCreate
    from lessonloop.registry.artifacts import save_artifact
    from lessonloop.services import registry

    model = tmp_path / "model"
    save_artifact(model, {"rules": [], "note": "exported"})
    version = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), artifact_dir=model
    )
    first = tmp_path / "first.jsonl"
    export_workspace(workspace, first)
    lines = first.read_text().splitlines()
    assert json.loads(lines[-1])["artifact"] == version.artifact_hash
    assert str(workspace.settings.home) not in first.read_text()  # paths are portable

    target = _fresh(second_database, tmp_path, "copy", workspace.settings.resolved_key_file)
    import_workspace(target, first)
    shutil.rmtree(workspace.settings.artifacts_dir)  # the original is gone
    loaded = registry.load_version_artifact(target, version.id)
    assert loaded.config["note"] == "exported"
    assert loaded.path.is_relative_to(target.settings.artifacts_dir.resolve())
    second = tmp_path / "second.jsonl"
    export_workspace(target, second)
    assert first.read_bytes() == second.read_bytes()
    target.close()


def test_a_tampered_artifact_is_refused_and_nothing_is_written(
    workspace, second_database, tmp_path
) -> None:
    import base64

    from lessonloop.domain.enums import ModelTask
    from lessonloop.domain.models import ModelVersionCreate
    from lessonloop.registry.artifacts import save_artifact
    from lessonloop.services import registry

    model = tmp_path / "model"
    save_artifact(model, {"rules": []})
    registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), artifact_dir=model
    )
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    changed = base64.b64encode(b'{"rules": [1]}').decode()
    last = _edit_line(dump, -1, lambda record: record["files"].update({"config.json": changed}))
    target = _fresh(second_database, tmp_path, "target")
    with pytest.raises(InputError) as info:
        import_workspace(target, dump)
    assert (info.value.line, info.value.field) == (last + 1, "artifact")
    assert not target.settings.artifacts_dir.exists() or not any(
        target.settings.artifacts_dir.iterdir()
    )
    from lessonloop.services import registry as target_registry

    assert target_registry.list_versions(target) == []
    target.close()


def test_an_artifact_changed_on_disk_is_left_out_and_named(workspace, second_database, tmp_path):
    from lessonloop.domain.enums import ModelTask
    from lessonloop.domain.models import ModelVersionCreate
    from lessonloop.registry.artifacts import save_artifact
    from lessonloop.services import registry

    model = tmp_path / "model"
    save_artifact(model, {"rules": []})
    version = registry.register_version(
        workspace, ModelVersionCreate(task=ModelTask.METRIC_ANOMALY), artifact_dir=model
    )
    with (Path(version.artifact_path) / "config.json").open("a") as handle:
        handle.write(" ")
    dump = tmp_path / "dump.jsonl"
    left_out: list[str] = []
    export_workspace(workspace, dump, left_out=left_out)
    assert len(left_out) == 1 and "does not match its recorded hash" in left_out[0]
    target = _fresh(second_database, tmp_path, "target")
    counts = import_workspace(target, dump)  # the backup still restores
    assert counts["model_versions"] == 1
    target.close()


@pytest.mark.parametrize(
    "files",
    [
        {"../x": "eA=="},
        {"/etc/x": "eA=="},
        {"a/./b": "eA=="},
        {"a": "eA==", "a/b": "eA=="},
        {"config.json": "not base64!"},
        {},
    ],
)
def test_unpacking_refuses_unsafe_or_broken_artifacts(tmp_path, files) -> None:
    from lessonloop.registry.artifacts import unpack_artifact

    with pytest.raises(ValueError):
        unpack_artifact("0" * 64, files, tmp_path / "root")
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())
    assert not (tmp_path / "x").exists()


def test_a_dump_line_that_is_not_an_object_is_refused(workspace, tmp_path) -> None:
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    dump.write_text(dump.read_text() + "5\n")
    with pytest.raises(InputError) as info:
        import_workspace(workspace, dump)
    assert "not a JSON object" in str(info.value)


def test_a_hand_edited_row_that_does_not_fit_is_an_input_error(
    workspace, second_database, tmp_path
) -> None:

    with workspace.transaction() as session:
        populate(session, 2)
    dump = tmp_path / "dump.jsonl"
    export_workspace(workspace, dump)
    # a plain string, not {"$dt": ...}
    plain = {"started_at": "2026-03-02T10:00:00Z"}
    number = _edit_line(
        dump, lambda line: '"table":"incidents"' in line, lambda record: record["row"].update(plain)
    )
    target = _fresh(second_database, tmp_path, "target")
    with pytest.raises(InputError) as info:
        import_workspace(target, dump)
    assert "incidents" in str(info.value) and info.value.line == number + 1
    target.close()
