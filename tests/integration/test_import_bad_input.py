"""Bad input: one located InputError, nothing written, retry never duplicates."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from lessonloop.services.importing import import_files
from lessonloop.storage.tables import AlertRow, IncidentRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def _rows(ws) -> int:
    with ws.transaction() as session:
        return sum(
            int(session.scalar(select(func.count()).select_from(t)))
            for t in (IncidentRow, AlertRow)
        )


def test_bad_field_rejects_the_whole_file_with_its_json_path(workspace, tmp_path):
    export = json.loads((FIXTURES / "pagerduty_export.json").read_text())
    export["incidents"][1]["created_at"] = "yesterday"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(export))
    summary = import_files(workspace, "pagerduty", [bad])
    (error,) = summary.errors
    assert error.file == str(bad) and error.field == "$.incidents[1].created_at"
    assert summary.outcomes == {"file": {"rejected": 1}} and _rows(workspace) == 0


def test_non_utf8_and_oversize_files_give_clear_errors(workspace, tmp_path):
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"version": "4", "alerts": []}\n{"text": "caf\xe9"}\n')
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    summary = import_files(workspace, "alertmanager", [latin, huge])
    first, second = summary.errors
    assert "not UTF-8" in first.message and first.line == 2
    assert "50.0 MiB" in second.message and "limit is 25 MiB" in second.message
    assert _rows(workspace) == 0


def test_a_good_file_after_a_bad_one_still_imports_once(workspace, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"version": "4", "alerts": [{"fingerprint": "x"}]}\n')
    good = FIXTURES / "alertmanager_stream.jsonl"
    summary = import_files(workspace, "alertmanager", [bad, good, good])
    assert len(summary.errors) == 1 and summary.errors[0].field == "$.alerts[0].startsAt"
    assert _rows(workspace) == 2


def test_a_file_of_another_shape_is_refused_naming_the_expected_one(workspace, tmp_path):
    query_range = tmp_path / "latency.json"
    query_range.write_text(
        json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}})
    )
    foo = tmp_path / "foo.json"
    foo.write_text(json.dumps({"foo": 1}))
    summary = import_files(workspace, "alertmanager", [foo, query_range])
    first, second = summary.errors
    assert first.file == str(foo) and first.field == "$.alerts"
    assert "webhook payload" in first.message and "GET /api/v2/alerts" in first.message
    assert second.file == str(query_range) and "import series" in second.message
    opsgenie = import_files(workspace, "opsgenie", [foo])
    (error,) = opsgenie.errors
    assert error.file == str(foo) and error.field == "$.alerts"
    assert "'alerts'" in error.message and "'data'" in error.message
    assert summary.outcomes == {"file": {"rejected": 2}} and _rows(workspace) == 0
