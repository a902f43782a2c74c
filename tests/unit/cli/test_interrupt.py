"""Ctrl-C: one line on stderr, exit code 130, and the unit of work in progress rolled back."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from lessonloop.cli.app import app, main
from lessonloop.services import catalog


def test_ctrl_c_prints_one_line_exits_130_and_rolls_back(
    tmp_path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    assert CliRunner().invoke(app, ["init"]).exit_code == 0

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # after the incident row was written, before the commit

    monkeypatch.setattr(catalog, "index_incident", interrupted)
    argv = ["lessonloop", "incidents", "create", "INC-1", "--title", "t"]
    monkeypatch.setattr(sys, "argv", [*argv, "--started-at", "2026-01-01T00:00Z"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("interrupted: the database transaction in progress was rolled back")
    monkeypatch.undo()
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    listed = CliRunner().invoke(app, ["incidents", "list", "--json"])
    assert listed.exit_code == 0 and listed.output.strip() == "[]"
