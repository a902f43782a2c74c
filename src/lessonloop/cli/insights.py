"""``lessonloop insights``: list insights, show their rating beside suggested scores, rate them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import console, handle_errors, print_json, print_table, workspace
from lessonloop.domain.enums import InsightKind
from lessonloop.domain.insights import QualityRubric
from lessonloop.services import insights

app = typer.Typer(help="List, show and rate insights on the quality rubric.", no_args_is_help=True)

AXES = ("relevance", "timeliness", "breadth", "actionability")
Score = Annotated[float | None, typer.Option(help="0 to 1.")]


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _rating(rubric: QualityRubric) -> str:
    return " ".join(f"{axis[0].upper()}:{_score(getattr(rubric, axis))}" for axis in AXES)


@app.command("list")
@handle_errors
def list_(
    incident: Annotated[str | None, typer.Option(help="Only this incident's insights.")] = None,
    kind: Annotated[InsightKind | None, typer.Option()] = None,
    unrated: Annotated[bool, typer.Option(help="Only insights nobody rated yet.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List insights by incident, with their rating (R T B A: the rubric axes)."""
    found = insights.list_insights(workspace(), incident=incident, unrated=unrated, kind=kind)
    if as_json:
        print_json(found)
        return
    print_table(
        "Insights",
        ["id", "incident", "kind", "category", "rating", "text"],
        [
            (
                i.id,
                i.incident_key,
                i.kind.value,
                i.category.value,
                _rating(i.rubric),
                _short(i.text),
            )
            for i in found
        ],
    )


@app.command("show")
@handle_errors
def show(insight_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One insight: its stored rating next to the suggested scores and their reasons."""
    detail = insights.show_insight(workspace(), insight_id)
    if as_json:
        print_json(detail)
        return
    console.print(
        f"[bold]insight {detail.id}[/] ({escape(detail.incident_key)}, {detail.kind.value}, "
        f"{detail.category.value})",
        highlight=False,
    )
    console.print(detail.text, highlight=False, markup=False)
    rated = detail.rubric
    if rated.rated_by:
        when = f" at {rated.rated_at:%Y-%m-%d %H:%M}Z" if rated.rated_at else ""
        console.print(f"rated by {escape(rated.rated_by)}{when}", highlight=False)
    print_table(
        "Rubric (suggestions are heuristics, not ratings)",
        ["axis", "rating", "suggested", "why"],
        [
            (
                axis,
                _score(getattr(rated, axis)),
                _score(getattr(detail.suggested, axis).score),
                getattr(detail.suggested, axis).reason,
            )
            for axis in AXES
        ],
    )


@app.command("rate")
@handle_errors
def rate(
    insight_id: int,
    relevance: Score = None,
    timeliness: Score = None,
    breadth: Score = None,
    actionability: Score = None,
    accept_suggested: Annotated[
        bool, typer.Option(help="Fill the axes not given from the suggested scores.")
    ] = False,
    note: Annotated[str | None, typer.Option(help="Why (kept in the audit trail).")] = None,
) -> None:
    """Rate an insight from 0 to 1 on some rubric axes; the others keep their scores."""
    rated = insights.rate_insight(
        workspace(),
        insight_id,
        relevance=relevance,
        timeliness=timeliness,
        breadth=breadth,
        actionability=actionability,
        note=note,
        accept_suggested=accept_suggested,
    )
    console.print(
        f"insight {rated.id} ({escape(rated.incident_key)}) rated: {_rating(rated.rubric)}",
        highlight=False,
    )
