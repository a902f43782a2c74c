"""Every setting and every CLI command is documented (README or docs/)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from lessonloop.cli.app import app
from lessonloop.settings import SETTINGS_DOC, Settings

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = README + "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").rglob(
    "*.md")))


def _commands(group: object, prefix: str) -> list[str]:
    out = []
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            out += _commands(command, path)
        else:
            out.append(path)
    return out


def test_every_setting_is_in_the_readme() -> None:
    fields = {f"LESSONLOOP_{name.upper()}" for name in Settings.model_fields}
    assert fields == set(SETTINGS_DOC)
    assert [name for name in sorted(fields) if name not in README] == []


def test_every_top_level_command_is_in_the_readme() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    missing = [f"lessonloop {name}" for name in root.commands
               if f"lessonloop {name}" not in README]
    assert missing == []


def test_every_command_is_documented_somewhere() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    missing = [path for path in _commands(root, "lessonloop") if path not in DOCS]
    assert missing == []
