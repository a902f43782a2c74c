"""``lessonloop outcomes``: did the shipped action items work?"""

from __future__ import annotations

from typing import Annotated

import typer

from lessonloop.cli.common import handle_errors, print_json, print_table, workspace
from lessonloop.services import outcomes

app = typer.Typer(
    help="Check shipped action items against their expected effect.", no_args_is_help=True
)


@app.command("check")
@handle_errors
def check(
    window_days: Annotated[int, typer.Option(min=1, help="Days before and after shipping.")] = 28,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Mark each action item verified / not verified / too early, with the evidence stored."""
    results = outcomes.check_outcomes(workspace(), window_days=window_days)
    if as_json:
        print_json(
            [
                {
                    "action_id": r.action_id,
                    "title": r.title,
                    "verdict": r.verdict,
                    "evidence": r.evidence,
                }
                for r in results
            ]
        )
        return
    print_table(
        "Outcomes",
        ["action", "title", "verdict", "why"],
        [(r.action_id, r.title, r.verdict, r.evidence.get("reason", "")) for r in results],
    )
