"""``lessonloop review``: write, import, show and move post-incident reviews through review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    console,
    handle_errors,
    print_json,
    print_table,
    say_error,
    workspace,
)
from lessonloop.domain.enums import ReviewStatus
from lessonloop.services import reviews

app = typer.Typer(help="Write, import and publish post-incident reviews.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripting.")]


@app.command("new")
@handle_errors
def new(
    incident: str,
    template: Annotated[str, typer.Option(help="Template name or YAML file.")] = "default",
    out: Annotated[Path | None, typer.Option(help="Where to write the file.")] = None,
) -> None:
    """Write a review file for INCIDENT to fill in."""
    path = reviews.new_review_file(
        workspace(), incident, out or Path(f"{incident}.md"), template=template
    )
    console.print(
        f"[green]wrote[/] {escape(str(path))}: fill it in, then "
        f"'lessonloop review import {escape(str(path))}'"
    )


@app.command("import")
@handle_errors
def import_(
    files: Annotated[list[Path], typer.Argument(help="Review Markdown files.")],
    create_incident: Annotated[
        bool, typer.Option(help="Create the incident from the front matter when it does not exist.")
    ] = False,
    allow_removals: Annotated[
        bool,
        typer.Option(
            help="Remove stored timeline events and insights the file does not have "
            "(without it, such a re-import is refused, naming them)."
        ),
    ] = False,
) -> None:
    """Import review files (each file all or nothing; re-import updates, never duplicates)."""
    from lessonloop.errors import LessonloopError, PermissionDenied

    ws = workspace()
    rejected = 0
    for path in files:
        try:
            review, outcome = reviews.import_review(
                ws, path, create_incident=create_incident, allow_removals=allow_removals
            )
        except PermissionDenied:
            raise  # no file would go in: exit 6 once
        except LessonloopError as exc:  # one bad file does not stop the others
            say_error(str(exc))
            rejected += 1
            continue
        console.print(
            f"{outcome} review {review.id} for {escape(review.incident_key)} "
            f"from {escape(str(path))} "
            f"({len(review.insights)} insights, {len(review.action_items)} actions)"
        )
    if rejected:
        raise typer.Exit(code=2)


@app.command("list")
@handle_errors
def list_(status: Annotated[str | None, typer.Option()] = None, as_json: JsonOpt = False) -> None:
    """List reviews with their status."""
    found = reviews.list_reviews(workspace(), status)
    if as_json:
        print_json(found)
        return
    print_table(
        "Reviews",
        ["id", "incident", "status", "insights", "actions", "title"],
        [
            (r.id, r.incident_key, r.status.value, r.insights, r.action_items, r.title)
            for r in found
        ],
    )


@app.command("show")
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="Review id or incident key.")], as_json: JsonOpt = False
) -> None:
    """Show a review: status, timeline, insights and action items."""
    review = reviews.get_review(workspace(), ref)
    if as_json:
        print_json(review)
        return
    console.print(
        f"[bold]{escape(review.title)}[/] ({escape(review.incident_key)}, review {review.id}, "
        f"{review.status.value})",
        highlight=False,
    )
    if review.summary:
        console.print(review.summary, highlight=False, markup=False)
    print_table(
        "Timeline",
        ["at (UTC)", "kind", "marker", "event"],
        [
            (
                e.at.strftime("%Y-%m-%d %H:%M"),
                e.kind.value,
                e.marker.value if e.marker else "",
                e.text,
            )
            for e in review.timeline
        ],
    )
    print_table(
        "Insights",
        ["id", "kind", "category", "text"],
        [(i.id, i.kind.value, i.category.value, i.text) for i in review.insights],
    )
    print_table(
        "Action items",
        ["id", "title", "type", "owner", "due", "status"],
        [
            (a.id, a.title, a.type.value, a.owner, a.due, a.status.value)
            for a in review.action_items
        ],
    )


def _advance(ref: str, target: ReviewStatus) -> None:
    review = reviews.advance_review(workspace(), ref, target)
    console.print(
        f"review {review.id} is now [bold]{review.status.value}[/] "
        f"(by {escape(str(review.status_changed_by))})"
    )


@app.command("submit")
@handle_errors
def submit(ref: str) -> None:
    """Draft → in review."""
    _advance(ref, ReviewStatus.IN_REVIEW)


@app.command("approve")
@handle_errors
def approve(ref: str) -> None:
    """In review → approved."""
    _advance(ref, ReviewStatus.APPROVED)


@app.command("publish")
@handle_errors
def publish(ref: str) -> None:
    """Approved → published."""
    _advance(ref, ReviewStatus.PUBLISHED)
