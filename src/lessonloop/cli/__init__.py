"""The command-line interface: thin Typer commands over ``lessonloop.services``.

The commands that live in their own modules are loaded when they are called, not when the
program starts: importing every command would import every service and, through them,
scikit-learn and SciPy, a few seconds before even ``lessonloop incidents list`` could answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from lessonloop.cli.common import say_interrupted

if TYPE_CHECKING:  # Typer ships its own copy of Click; this is its command class
    from typer._click import Command

__all__ = ["COMMANDS", "LazyGroup", "load_command"]

# Top-level names served by other modules, in the order ``--help`` lists them: a module that
# defines ``app`` serves a command group; one that defines ``register(root)`` mounts commands.
COMMANDS: list[tuple[str, str]] = [
    ("review", "lessonloop.cli.review"),
    ("actions", "lessonloop.cli.actions"),
    ("search", "lessonloop.cli.knowledge"),
    ("precedents", "lessonloop.cli.knowledge"),
    ("taxonomy", "lessonloop.cli.knowledge"),
    ("triage", "lessonloop.cli.triage"),
    ("import", "lessonloop.cli.importing"),
    ("signals", "lessonloop.cli.signals"),
    ("insights", "lessonloop.cli.insights"),
    ("learn", "lessonloop.cli.learn"),
    ("models", "lessonloop.cli.models"),
    ("experiments", "lessonloop.cli.experiments"),
    ("export-rules", "lessonloop.cli.exporting"),
    ("outcomes", "lessonloop.cli.outcomes"),
    ("detect", "lessonloop.cli.detect"),
    ("alerts", "lessonloop.cli.alerts"),
    ("bench", "lessonloop.cli.bench"),
    ("programme", "lessonloop.cli.programme"),
    ("roles", "lessonloop.cli.governance"),
    ("audit", "lessonloop.cli.governance"),
    ("demo", "lessonloop.cli.demo"),
]


def load_command(name: str, module_name: str) -> Command:
    """Import ``module_name`` and return its command ``name`` as Click sees it."""
    module = importlib.import_module(module_name)
    if hasattr(module, "register"):
        mounted = typer.Typer()
        module.register(mounted)
        command = typer.main.get_group(mounted).commands.get(name)
        if command is not None:
            return command
    group = typer.main.get_group(module.app)
    group.name = name
    return group


class _Commands(MutableMapping[str, "Command"]):
    """A group's commands by name, each module imported the first time its command is asked
    for: running one command imports only what that command needs. The order is fixed when
    the group is built, loaded or not."""

    def __init__(
        self, loaded: MutableMapping[str, Command], pending: list[tuple[str, str]]
    ) -> None:
        self._entries: dict[str, Command | str] = {**loaded}
        self._entries.update((n, m) for n, m in pending if n not in loaded)

    def __getitem__(self, name: str) -> Command:
        entry = self._entries[name]  # KeyError for an unknown name, as a dict would
        if isinstance(entry, str):
            try:
                entry = load_command(name, entry)
            except KeyError as error:  # not "no such command": the module failed to load
                raise RuntimeError(f"loading the command {name!r} failed: {error!r}") from error
            self._entries[name] = entry
        return entry

    def __setitem__(self, name: str, command: Command) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)


class LazyGroup(TyperGroup):
    """The root group: its own commands, then those of ``COMMANDS``, loaded on first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands, COMMANDS)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; Ctrl-C prints one line on stderr before Typer exits with 130."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            say_interrupted()
            raise
