"""What users wrote is printed as written: no Rich markup, no emoji codes, no crash."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lessonloop.cli.app import app

TITLE = "[b]x[/] :100: [/x]"


@pytest.fixture
def runner(tmp_path, monkeypatch) -> CliRunner:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    return runner


def test_titles_keep_brackets_and_colons_in_tables_and_details(runner: CliRunner) -> None:
    created = runner.invoke(
        app, ["incidents", "create", "INC-1", "--title", TITLE, "--started-at", "2026-01-01T00:00Z"]
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["incidents", "list"])
    assert listed.exit_code == 0
    assert TITLE in listed.output
    shown = runner.invoke(app, ["incidents", "show", "INC-1"])
    assert f"title: {TITLE}" in shown.output


def test_an_error_quoting_a_closing_tag_is_one_line_not_a_traceback(
    runner: CliRunner, tmp_path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2026-01-01T00:00:00Z,[/x]\n")
    done = runner.invoke(app, ["import", "series", str(bad), "--service", "s"])
    assert done.exit_code == 2
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert f"{bad}:2, field 'value': not a number: '[/x]'" in done.output


def test_line_100_is_not_an_emoji(runner: CliRunner, tmp_path) -> None:
    rows = "".join(f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00Z,1\n" for i in range(98))
    bad = tmp_path / "line100.csv"
    bad.write_text("timestamp,value\n" + rows + "2026-01-02T00:00:00Z,1,2\n")
    done = runner.invoke(app, ["import", "series", str(bad), "--service", "s"])
    assert done.exit_code == 2
    assert f"{bad}:100: 3 cells, the header has 2" in done.output


def test_a_command_error_keeps_markup_characters(runner: CliRunner) -> None:
    done = runner.invoke(app, ["incidents", "show", "[/b]:100:"])
    assert done.exit_code == 4
    assert "[/b]:100:" in done.output


def test_search_snippets_keep_backslashes_and_colons(runner: CliRunner) -> None:
    title = r"Disk C:\spool filled :100: percent"
    created = runner.invoke(
        app, ["incidents", "create", "INC-2", "--title", title, "--started-at", "2026-01-01T00:00Z"]
    )
    assert created.exit_code == 0, created.output
    for word in ("spool", "percent"):
        found = runner.invoke(app, ["search", word])
        assert found.exit_code == 0, found.output
        assert "💯" not in found.output and ":100:" in found.output


@pytest.mark.parametrize("text", ["C:\\", "[red]x", "a\\[b] :100:"])
def test_errors_and_warnings_print_a_message_as_written(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lessonloop.cli.common import say_error, say_warning

    say_error(f"no file at {text}")
    say_warning(f"odd name {text}")
    assert capsys.readouterr().err == f"error: no file at {text}\nwarning: odd name {text}\n"


def test_a_path_ending_in_a_backslash_ends_the_error_as_written(tmp_path) -> None:
    done = CliRunner().invoke(app, ["bench", "nab", "--corpus", str(tmp_path), "--peers", "C:\\"])
    assert done.exit_code == 2
    assert done.output.strip() == "error: field 'peers': no peers file at C:\\"
