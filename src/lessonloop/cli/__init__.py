"""The command-line interface: thin Typer commands over ``lessonloop.services``."""

from __future__ import annotations

import importlib

import typer

__all__ = ["registry_of_groups", "GROUPS"]

# Command groups that live in their own modules: (name, module). Each module defines ``app``.
GROUPS: list[tuple[str, str]] = [
    ("review", "lessonloop.cli.review"),
    ("actions", "lessonloop.cli.actions"),
    ("models", "lessonloop.cli.models"),
    ("experiments", "lessonloop.cli.experiments"),
    ("export-rules", "lessonloop.cli.exporting"),
    ("outcomes", "lessonloop.cli.outcomes"),
    ("taxonomy", "lessonloop.cli.knowledge"),
    ("import", "lessonloop.cli.importing"),
    ("signals", "lessonloop.cli.signals"),
    ("bench", "lessonloop.cli.bench"),
    ("detect", "lessonloop.cli.detect"),
    ("insights", "lessonloop.cli.insights"),
    ("programme", "lessonloop.cli.programme"),
    ("roles", "lessonloop.cli.governance"),
    ("alerts", "lessonloop.cli.alerts"),
]


def registry_of_groups() -> list[tuple[str, typer.Typer]]:
    return [(name, importlib.import_module(module).app) for name, module in GROUPS]
