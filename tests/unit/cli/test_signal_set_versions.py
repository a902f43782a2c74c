"""A signal set version is taken as shown (`v3`) or bare (`3`), wherever a command takes one."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lessonloop.cli.app import app


@pytest.mark.parametrize(
    "args",
    [
        ["signals", "diff", "v1", "v2"],
        ["signals", "diff", "1", "V2"],
        ["signals", "export", "v1", "out"],
        ["detect", "train", "--signals", "v1"],
    ],
)
def test_a_v_prefixed_version_is_looked_up(tmp_path, monkeypatch, args) -> None:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    done = runner.invoke(app, args)
    assert done.exit_code == 4, done.output  # parsed, then not found in an empty workspace
    assert "unknown signal set version 1" in done.output


@pytest.mark.parametrize("value", ["vx", "v", "1.5", "v 2", "²"])
def test_anything_else_is_refused_naming_the_argument(tmp_path, monkeypatch, value) -> None:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("COLUMNS", "200")
    done = CliRunner().invoke(app, ["signals", "diff", value, "2"])
    assert done.exit_code == 2
    assert "OLD" in done.output and "not a signal set version" in done.output
