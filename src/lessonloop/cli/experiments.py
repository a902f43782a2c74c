"""``lessonloop experiments``: the record of every model change tried, misses included."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import console, handle_errors, print_json, print_table, workspace
from lessonloop.domain.enums import ModelTask
from lessonloop.services import registry

app = typer.Typer(
    help="Experiments: hypothesis, versions, data range, decision.", no_args_is_help=True
)


@app.command("list")
@handle_errors
def list_(
    task: Annotated[ModelTask | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List experiments, oldest first."""
    found = registry.list_experiments(workspace(), task=task)
    if as_json:
        print_json(found)
        return
    print_table(
        "Experiments",
        ["id", "task", "baseline", "candidate", "decision", "hypothesis"],
        [
            (
                e.id,
                e.task.value,
                e.baseline_version_id,
                e.candidate_version_id,
                e.decision.value if e.decision else "-",
                e.hypothesis,
            )
            for e in found
        ],
    )


@app.command("show")
@handle_errors
def show(experiment_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One experiment in full."""
    found = registry.get_experiment(workspace(), experiment_id)
    if as_json:
        print_json(found)
        return
    console.print(
        f"[bold]experiment {found.id}[/] ({found.task.value}): {escape(found.hypothesis)}"
    )
    console.print(
        f"baseline {found.baseline_version_id}, candidate "
        f"{found.candidate_version_id}, evaluation {found.evaluation_id}"
    )
    console.print(f"insights {found.insight_ids}, action items {found.action_item_ids}")
    console.print(
        f"data range {escape(str(found.data_range))}; "
        f"decision {found.decision.value if found.decision else '-'}"
    )
    if found.notes:
        console.print(found.notes, markup=False)
