"""`incidents list --since` takes a date or a time, like every other --since."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lessonloop.cli.app import app


def test_since_takes_a_plain_date_and_a_time_without_offset_as_utc(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    for key, started in (("INC-1", "2026-07-31T23:30Z"), ("INC-2", "2026-08-01T10:00Z")):
        made = runner.invoke(
            app, ["incidents", "create", key, "--title", key, "--started-at", started]
        )
        assert made.exit_code == 0, made.output

    def keys(*since: str) -> list[str]:
        done = runner.invoke(app, ["incidents", "list", "--json", *since])
        assert done.exit_code == 0, done.output
        return [i["key"] for i in json.loads(done.output)]

    assert keys("--since", "2026-08-01") == ["INC-2"]
    assert keys("--since", "2026-07-31T23:00") == ["INC-1", "INC-2"]
    assert keys("--since", "2026-08-01T11:00+02:00") == ["INC-2"]
    refused = runner.invoke(app, ["incidents", "list", "--since", "August"])
    assert refused.exit_code == 2 and "--since" in refused.output
