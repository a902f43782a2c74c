"""What every CLI command shares: the workspace from global options, rendering and errors."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from lessonloop.errors import Conflict, InputError, LessonloopError, broken_constraint
from lessonloop.services.outputs import check_target, write_text_atomically
from lessonloop.services.workspace import (
    Workspace,
    busy_timeout_s,
    database_busy,
    open_workspace,
)
from lessonloop.settings import Settings, load_settings

__all__ = [
    "moment",
    "signal_set_version",
    "console",
    "err_console",
    "state",
    "workspace",
    "settings",
    "handle_errors",
    "print_json",
    "print_table",
    "say_error",
    "say_warning",
    "say_interrupted",
    "progress_bar",
    "ProgressCallback",
]

# Emoji codes are off: ':100:' in a file name or an error is text, not a picture. Anything a
# user wrote goes into markup through `escape` (or into tables and say_* lines as plain `Text`),
# never raw. `escape` doubles a trailing backslash, right only when a markup tag follows.
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)
P = ParamSpec("P")
R = TypeVar("R")
ProgressCallback = Callable[[str, int, int], None]


class _State:
    """Global options, filled by the root callback."""

    home: str | None = None
    database_url: str | None = None
    actor: str | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(
                home=self.home, database_url=self.database_url, actor=self.actor
            )
        return self._settings


state = _State()


def settings() -> Settings:
    return state.settings()


def workspace(*, create: bool = False) -> Workspace:
    """The workspace named by the global options and LESSONLOOP_* settings."""
    return open_workspace(settings(), create=create)


def _describe_validation(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"field '{where}': {first['msg']}"


def say_error(message: str) -> None:
    """One red line on stderr; the message is shown as written (no markup, no emoji).

    A `Text`, not escaped markup: `escape` doubles a trailing backslash, which only a tag
    that follows would undo.
    """
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


def say_warning(message: str) -> None:
    """One yellow line on stderr, the message shown as written (a `Text`, as in `say_error`)."""
    err_console.print(
        Text.assemble(("warning:", "bold yellow"), " ", message), highlight=False, soft_wrap=True
    )


def say_interrupted() -> None:
    """What Ctrl-C left behind: each unit of work (`Workspace.transaction`) is committed whole
    or rolled back whole, so only the one in progress is undone."""
    err_console.print(
        "[bold red]interrupted:[/] the database transaction in progress was rolled back; "
        "work the command had already committed (such as files an import finished) is kept",
        highlight=False,
        soft_wrap=True,
    )


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Lessonloop errors into one red line on stderr and a non-zero exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LessonloopError as exc:
            say_error(str(exc))
            raise typer.Exit(code=getattr(exc, "exit_code", 1)) from None
        except ValidationError as exc:
            say_error(_describe_validation(exc))
            raise typer.Exit(code=InputError.exit_code) from None
        except Exception as exc:
            if database_busy(exc):
                say_error(
                    f"the workspace database {_database_name()} is busy: another command has "
                    f"held its write lock for over {busy_timeout_s():g} s; this "
                    "command's transaction in progress was rolled back: run it again when the "
                    "other has finished"
                )
                raise typer.Exit(code=Conflict.exit_code) from None
            if not _concurrent_write(exc):
                raise
            say_error(
                "another command changed the same records at the same time "
                f"({broken_constraint(exc)}); this command's transaction was rolled back: "
                "run it again"
            )
            raise typer.Exit(code=Conflict.exit_code) from None

    return wrapper


def _database_name() -> str:
    """The SQLite file of the workspace in use (the settings are loaded by then)."""
    url = state.settings().resolved_database_url
    return url.split("sqlite:///", 1)[-1]


def _concurrent_write(exc: Exception) -> bool:
    """A unique constraint broken at commit: two processes inserted the same record at once
    (each had checked it was missing). The database kept one; this transaction rolled back."""
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def print_json(value: Any) -> None:
    """Machine-readable output for scripting (``--json``)."""
    sys.stdout.write(json.dumps(_plain(value), indent=2, default=str, ensure_ascii=False) + "\n")


def _cell(value: Any) -> Text:
    """A table cell as plain text; a `Text` (styled on purpose) is kept as it is."""
    return value if isinstance(value, Text) else Text("" if value is None else str(value))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=Text(title), title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    count = 0
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
        count += 1
    if count:
        console.print(table)
    else:
        console.print(f"[dim]{escape(title)}: nothing to show[/]")


@contextmanager
def progress_bar(quiet: bool = False) -> Iterator[ProgressCallback]:
    """A rich progress display; yields ``update(description, done, total)``."""
    if quiet or not sys.stderr.isatty() and not console.is_terminal:
        yield lambda _d, _n, _t: None
        return
    with Progress(
        TextColumn("{task.description}", markup=False),  # file names, as they are
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(description: str, done: int, total: int) -> None:
            if description not in tasks:
                tasks[description] = progress.add_task(description, total=total)
            progress.update(tasks[description], completed=done, total=total)

        yield update


def check_out(out: Path) -> Path:
    """Validate an --out path before any work (see `services.outputs.check_target`)."""
    return check_target(out, "--out")


def write_atomically(out: Path, text: str) -> None:
    """Write text whole or not at all; its folder is created now, a link's target written."""
    write_text_atomically(out, text, "--out")


def signal_set_version(value: str) -> int:
    """A signal set version as given on the command line: ``3`` or ``v3``, as sets are shown."""
    digits = value.strip().removeprefix("v").removeprefix("V")
    if not digits.isascii() or not digits.isdigit():
        raise typer.BadParameter(f"not a signal set version: {value!r} (e.g. 3 or v3)")
    return int(digits)


def moment(value: str | None, option: str) -> dt.datetime | None:
    """A ``--since`` / ``--until`` value: a date (midnight) or an ISO 8601 time; UTC unless
    it names an offset."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"not a date or time: {value!r} (e.g. 2026-11-01 or 2026-11-01T10:00Z)", field=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
