"""`import series` options: a 0/1 'label' column need not split the file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lessonloop.cli.app import app

FLAGGED = "timestamp,value,label\n2026-01-01T00:00:00Z,1,0\n2026-01-01T00:05:00Z,9,1\n"


def test_no_label_column_keeps_flagged_rows_in_one_series(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    data = tmp_path / "flags.csv"
    data.write_text(FLAGGED)
    split = runner.invoke(app, ["import", "series", str(data), "--service", "a", "--json"])
    assert json.loads(split.output)["outcomes"]["series"] == {"created": 2}
    whole = runner.invoke(
        app, ["import", "series", str(data), "--service", "b", "--no-label-column", "--json"]
    )
    summary = json.loads(whole.output)
    assert summary["outcomes"]["series"] == {"created": 1}
    assert summary["outcomes"]["series point"] == {"read": 2}
    both = runner.invoke(
        app,
        [
            "import",
            "series",
            str(data),
            "--service",
            "c",
            "--label-column",
            "label",
            "--no-label-column",
        ],
    )
    assert both.exit_code == 2 and "not both" in both.output
    empty = runner.invoke(
        app, ["import", "series", str(data), "--service", "c", "--label-column", ""]
    )
    assert empty.exit_code == 2 and "--no-label-column" in empty.output


def test_a_service_name_that_cannot_be_stored_is_named_as_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    data = tmp_path / "ok.csv"
    data.write_text("timestamp,value\n2026-01-01T00:00:00Z,1\n")
    done = runner.invoke(app, ["import", "series", str(data), "--service", "bad name!"])
    assert done.exit_code == 2
    assert "field '--service': 'bad name!' is not a service name" in " ".join(done.output.split())
