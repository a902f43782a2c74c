"""``lessonloop export-rules``: ship an approved model back into operations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    check_out,
    err_console,
    handle_errors,
    say_warning,
    workspace,
    write_atomically,
)
from lessonloop.services import registry

app = typer.Typer(
    help="Export an approved model as Prometheus rules or Alertmanager config.",
    no_args_is_help=True,
)

Out = Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")]


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    write_atomically(check_out(out), text)
    err_console.print(f"wrote {escape(str(out))}")


@app.command("prometheus")
@handle_errors
def prometheus(version_id: int, out: Out = None) -> None:
    """Alerting rules YAML from a metric-anomaly version (approved or champion only). A rule
    with no valid PromQL selector is left out, with a warning saying why."""
    rules = registry.export_prometheus_rules(workspace(), version_id)
    for note in rules.skipped:
        say_warning(note)
    _emit(rules.text, out)


@app.command("alertmanager")
@handle_errors
def alertmanager(version_id: int, out: Out = None) -> None:
    """Alertmanager inhibit rules, muted routes and time intervals: an alert-correlation
    version's tested policy, else the version's correlation and suppression signals. A file
    to merge into your configuration (docs/alert-noise.md)."""
    _emit(registry.export_alertmanager_config(workspace(), version_id), out)
