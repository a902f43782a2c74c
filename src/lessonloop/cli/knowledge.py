"""``lessonloop search``, ``lessonloop precedents`` and ``lessonloop taxonomy``."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from lessonloop.cli.common import (
    console,
    handle_errors,
    print_json,
    print_table,
    progress_bar,
    workspace,
)
from lessonloop.errors import InputError
from lessonloop.services import knowledge
from lessonloop.services.knowledge import SearchFilters, SearchResults

__all__ = ["app", "register", "search", "precedents"]

app = typer.Typer(
    help="List and edit the taxonomies (failure modes, remediations, ...).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripting.")]
_MARKED = re.compile(r"\*\*(.+?)\*\*")


def _highlight(snippet: str) -> Text:
    """A snippet whose matches are marked ``**like this**``, the matches in bold yellow; the
    rest is shown as written (no markup, no emoji codes)."""
    text = Text()
    for number, part in enumerate(_MARKED.split(snippet)):
        text.append(part, style="bold yellow" if number % 2 else "")
    return text


def _read_text(path: Path) -> str:
    """The text of a file, or of standard input for ``-``; a clear error if it is not text."""
    source = "standard input" if str(path) == "-" else str(path)
    try:
        data: Any = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        return str(data.decode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}", field="text-file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source} is not UTF-8 text (byte {exc.start})", field="text-file"
        ) from exc


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not a date: {value!r} (use YYYY-MM-DD)", field="--since") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _render(results: SearchResults) -> None:
    how = {"all": "all terms", "any": "any term (no document had all)", "none": "newest first"}
    console.print(f"{results.total} matching documents ({how[results.match]})")
    print_table(
        "Results",
        ["incident", "type", "title", "snippet", "score"],
        [
            (
                hit.incident_key,
                hit.entity_type,
                hit.title or hit.incident_title,
                _highlight(hit.snippet),
                f"{hit.score:.3f}",
            )
            for hit in results.hits
        ],
    )
    for facet, values in sorted(results.facets.items()):
        shown = ", ".join(f"{escape(v)} ({n})" for v, n in values[:8])
        console.print(f"[bold]{facet}[/]: {shown}", highlight=False)


@handle_errors
def search(
    query: Annotated[str, typer.Argument(help="Words to look for (syntax is ignored).")] = "",
    service: Annotated[list[str] | None, typer.Option("--service")] = None,
    severity: Annotated[list[str] | None, typer.Option("--severity")] = None,
    failure_mode: Annotated[list[str] | None, typer.Option("--failure-mode")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
    entity_type: Annotated[
        list[str] | None, typer.Option("--type", help="incident, review, insight or action.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Incidents started on or after.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 10,
    reindex: Annotated[bool, typer.Option(help="Rebuild the search index first.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Full-text search over incidents, reviews, insights and action items, with facets."""
    ws = workspace()
    if reindex:
        with progress_bar(quiet=as_json) as update:
            outcome = knowledge.reindex(ws, progress=lambda d, t: update("indexing", d, t))
        if not as_json:
            console.print(
                f"index: {outcome.written} written, {outcome.removed} removed, "
                f"{outcome.unchanged} unchanged"
            )
    filters = SearchFilters(
        service=service or [],
        severity=severity or [],
        failure_mode=failure_mode or [],
        tag=tag or [],
        entity_type=entity_type or [],
        since=_since(since),
    )
    results = knowledge.search_knowledge(ws, query, filters, limit=limit)
    if as_json:
        print_json(results)
        return
    _render(results)
    if results.total == 0 and knowledge.has_cjk(query):
        console.print(
            "[yellow]Full-text search matches Chinese, Japanese and Korean text only as whole "
            "runs between spaces or punctuation; 'lessonloop precedents --text' matches it by "
            "character pairs.[/]"
        )


@handle_errors
def precedents(
    incident: Annotated[str | None, typer.Argument(help="Incident key.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Describe a situation.")] = None,
    text_file: Annotated[
        Path | None,
        typer.Option("--text-file", help="Read the situation from a file ('-': standard input)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 5,
    feedback: Annotated[
        str | None,
        typer.Option(
            "--feedback", help="helpful or not-helpful: your verdict on --precedent for INCIDENT"
        ),
    ] = None,
    precedent: Annotated[
        str | None, typer.Option(help="The precedent the feedback is about.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Similar past incidents: why they match and what was done about them.

    Ranked as `lessonloop triage` ranks them: by the approved precedent model when there is
    one, else by the knowledge base re-ranked by reviewers' verdicts.
    """
    from lessonloop.services.triage import find_precedents, record_precedent_feedback

    if text is not None and text_file is not None:
        raise InputError("give --text or --text-file, not both", field="text-file")
    if text_file is not None:
        text = _read_text(text_file)
    if not incident and text is None:
        raise InputError("give an INCIDENT key, --text or --text-file", field="incident")
    if feedback is not None:
        if feedback not in ("helpful", "not-helpful"):
            raise InputError(
                f"--feedback is helpful or not-helpful, got {feedback!r}", field="feedback"
            )
        if not incident or not precedent or text is not None:
            raise InputError(
                "--feedback needs INCIDENT and --precedent KEY (and no --text)", field="feedback"
            )
        signal_id, created = record_precedent_feedback(
            workspace(), incident, precedent, feedback == "helpful"
        )
        if as_json:
            print_json(
                {
                    "signal_id": signal_id,
                    "created": created,
                    "incident": incident,
                    "precedent": precedent,
                    "helpful": feedback == "helpful",
                }
            )
        elif created:
            console.print(f"recorded precedent feedback as signal {signal_id}")
        else:
            console.print(
                f"the same verdict is already recorded as signal {signal_id}; nothing changed"
            )
        return
    if precedent:
        raise InputError("--precedent is only used with --feedback", field="precedent")
    found, model_id = find_precedents(workspace(), incident_key=incident, text=text, limit=limit)
    if as_json:
        print_json({**found.model_dump(mode="json"), "precedent_model_version": model_id})
        return
    console.print(
        f"[dim]ranked by precedent model version {model_id}[/]"
        if model_id
        else "[dim]ranked by the knowledge base and reviewer verdicts[/]"
    )
    if not found.precedents:
        console.print("[dim]no earlier incident looks similar[/]")
    for rank, p in enumerate(found.precedents, start=1):
        started = p.started_at.date() if p.started_at else ""
        console.print(
            f"[bold]{rank}. {escape(p.incident_key)}[/] {escape(p.title)} "
            f"({p.severity}, {started}) score {p.score:.2f}",
            highlight=False,
        )
        for reason in p.why:
            console.print(f"   why: {escape(reason)}", highlight=False)
        if p.remediations:
            console.print(
                f"   remediation: {escape(', '.join(p.remediations))} "
                f"[dim]({p.remediation_source})[/]",
                highlight=False,
            )
        for action in p.actions:
            mark = "[green]done[/]" if action.completed else f"[yellow]{action.status}[/]"
            console.print(f"   action: {escape(action.title)} — {mark}", highlight=False)


@app.command("list")
@handle_errors
def taxonomy_list(
    name: Annotated[
        str | None, typer.Argument(help="failure_mode, remediation, human_factor or incident_type.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the taxonomy terms (defaults are seeded on first use)."""
    terms = knowledge.list_taxonomy(workspace(), name)
    if as_json:
        print_json(
            [
                {
                    "taxonomy": t.taxonomy,
                    "value": t.value,
                    "description": t.description,
                    "keywords": list(t.keywords),
                }
                for t in terms
            ]
        )
        return
    print_table(
        "Taxonomy",
        ["taxonomy", "value", "description", "keywords"],
        [(t.taxonomy, t.value, t.description, ", ".join(t.keywords)) for t in terms],
    )


@app.command("add")
@handle_errors
def taxonomy_add(
    name: str,
    value: str,
    description: Annotated[str, typer.Option()] = "",
    keyword: Annotated[
        list[str] | None,
        typer.Option("--keyword", help="Word or phrase that suggests the term; 'prefix*' allowed."),
    ] = None,
) -> None:
    """Add a term to a taxonomy (and re-index)."""
    term = knowledge.add_taxonomy_term(
        workspace(), name, value, description=description, keywords=tuple(keyword or ())
    )
    console.print(f"added {term.taxonomy}: {escape(term.value)}", highlight=False)


@app.command("remove")
@handle_errors
def taxonomy_remove(name: str, value: str) -> None:
    """Remove a term from a taxonomy (and re-index); VALUE is matched as labels are."""
    from lessonloop.services.failure_modes import models_using_term

    ws = workspace()
    removed = knowledge.remove_taxonomy_term(ws, name, value)
    console.print(f"removed {name}: {escape(removed)}", highlight=False)
    if name == "failure_mode" and (versions := models_using_term(ws, removed)):
        console.print(
            f"[yellow]failure-mode model version(s) {', '.join(map(str, versions))} learned "
            f"{escape(repr(removed))}; they no longer suggest it (labels naming it are ignored by "
            "the next 'lessonloop learn --task failure-mode')[/]"
        )


def register(root: typer.Typer) -> None:
    """Mount the top-level ``search`` and ``precedents`` commands on the root application."""
    root.command("search")(search)
    root.command("precedents")(precedents)
