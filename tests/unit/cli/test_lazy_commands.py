"""The command line loads a command's module when that command runs, not at start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from lessonloop.cli import COMMANDS, load_command
from lessonloop.cli.app import app

HEAVY = ["sklearn", "scipy", "matplotlib", "skops", "joblib", "lessonloop.detectors"]


def _loaded_after(code: str) -> list[str]:
    """The heavy packages in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    return [name for name in HEAVY if name in modules]


def test_starting_the_command_line_imports_no_model_library() -> None:
    assert _loaded_after("import lessonloop.cli.app") == []


@pytest.mark.parametrize(
    "name",
    ["review", "search", "outcomes", "alerts", "models", "signals", "import", "programme", "audit"],
)
def test_commands_that_train_nothing_import_no_model_library(name: str) -> None:
    code = (
        "import lessonloop.cli.app\nfrom lessonloop.cli import COMMANDS, load_command\n"
        f"load_command({name!r}, dict(COMMANDS)[{name!r}])"
    )
    assert _loaded_after(code) == []


def test_a_command_loads_only_its_own_module() -> None:
    code = (
        "import typer\nfrom lessonloop.cli.app import app\n"
        "root = typer.main.get_command(app)\nroot.commands['review']"
    )
    probe = (
        f"{code}\nimport sys\n"
        "print(sorted(m for m in sys.modules if m.startswith('lessonloop.cli.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == str(
        ["lessonloop.cli.app", "lessonloop.cli.common", "lessonloop.cli.review"]
    )


def test_every_listed_command_loads_under_its_name() -> None:
    root = typer.main.get_command(app)
    names = list(root.commands)  # type: ignore[attr-defined]
    assert names[:5] == ["init", "export", "import-workspace", "services", "incidents"]
    assert names[5:] == [name for name, _ in COMMANDS]
    for name, module in COMMANDS:
        command = load_command(name, module)
        assert command.name == name
        assert command.help


def test_the_root_help_lists_every_command_and_unknown_ones_get_a_suggestion() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["--help"], terminal_width=200)
    assert shown.exit_code == 0
    listed = [
        line.split()[1]
        for line in shown.output.splitlines()
        if line.startswith("│ ") and len(line.split()) > 2 and line.split()[1].islower()
    ]
    for name, _ in COMMANDS:
        assert name in listed
    wrong = runner.invoke(app, ["reveiw"])
    assert wrong.exit_code == 2
    assert "No such command 'reveiw'" in wrong.output
    assert "'review'" in wrong.output


def test_a_lazy_group_runs_its_subcommands(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LESSONLOOP_HOME", str(tmp_path / "ws"))
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["services", "add", "checkout"]).exit_code == 0
    listed = runner.invoke(app, ["models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == []
    audit = runner.invoke(app, ["audit", "--json"])
    assert audit.exit_code == 0, audit.output
    assert [(row["action"], row["entity_id"]) for row in json.loads(audit.output)] == [
        ("service.create", "checkout")
    ]


def test_loading_keeps_the_order_and_a_broken_module_is_not_a_missing_command(
    monkeypatch,
) -> None:
    root = typer.main.get_command(app)
    before = list(root.commands)  # type: ignore[attr-defined]
    root.commands["demo"]  # type: ignore[attr-defined]
    assert list(root.commands) == before  # type: ignore[attr-defined]

    def broken(name: str, module: str):
        raise KeyError("SOME_SETTING")

    monkeypatch.setattr("lessonloop.cli.load_command", broken)
    fresh = typer.main.get_command(app)
    with pytest.raises(RuntimeError, match="loading the command 'bench' failed"):
        fresh.get_command(None, "bench")  # type: ignore[attr-defined,arg-type]
    assert "bench" in fresh.list_commands(None)  # type: ignore[attr-defined,arg-type]


def test_running_a_light_command_imports_no_model_library(tmp_path) -> None:
    code = (
        "import os, sys\n"
        f"os.environ['LESSONLOOP_HOME'] = {str(tmp_path / 'ws')!r}\n"
        "from lessonloop.cli.app import app\n"
        "for args in (['init'], ['incidents', 'list'], ['audit']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as done:\n"
        "        assert done.code in (0, None), (args, done.code)"
    )
    assert _loaded_after(code) == []
