"""``lessonloop triage``: failure-mode suggestions, precedents and remediations for an incident."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from lessonloop.cli.common import console, handle_errors, print_json, print_table, workspace


def evidence(keyword_hits: Sequence[str], top_terms: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` keyword hits and top terms, each shown once."""
    return ", ".join(list(dict.fromkeys([*keyword_hits, *top_terms]))[:limit])


def register(app: typer.Typer) -> None:
    app.command("triage")(triage)


@handle_errors
def triage(
    incident: Annotated[str, typer.Argument(help="Incident key.")],
    limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What kind of failure this looks like, what happened before, and what worked."""
    from lessonloop.services.triage import triage as run_triage

    report = run_triage(workspace(), incident, limit=limit)
    if as_json:
        print_json({"incident": report.incident_key, "model_version": report.model_version,
                    "precedent_model_version": report.precedent_model_version,
                    "suggestions": [{**vars(s), "reviewers": report.decided.get(s.label)}
                                    for s in report.suggestions],
                    "decided": report.decided,
                    "precedents": report.precedents,
                    "remediations": [{"remediation": r.remediation, "score": r.score,
                                      "supporting": [vars(x) for x in r.supporting]}
                                     for r in report.remediations]})
        return
    model = (f"model version {report.model_version}" if report.model_version
             else "taxonomy keywords (no trained model yet)")
    print_table(f"Failure modes for {incident} ({model})",
                ["label", "probability", "suggested", "reviewers", "evidence"],
                [(s.label, f"{s.probability:.2f}", "yes" if s.suggested else "",
                  report.decided.get(s.label, ""),
                  evidence(s.keyword_hits, s.top_terms)) for s in report.suggestions
                 if s.suggested or s.probability >= 0.2 or s.label in report.decided])
    shown = {s.label for s in report.suggestions}
    outside = {label: status for label, status in report.decided.items() if label not in shown}
    if outside:
        named = ", ".join(f"{label} ({status})" for label, status in sorted(outside.items()))
        console.print(f"reviewers' labels that name no term of the taxonomy: {named}",
                      highlight=False, markup=False)
    ranked_by = (f"precedent model version {report.precedent_model_version}"
                 if report.precedent_model_version else "knowledge base + reviewer verdicts")
    print_table(f"Precedents ({ranked_by})", ["incident", "score", "why", "what was done"],
                [(p.incident_key, f"{p.score:.2f}", "; ".join(p.why[:3]),
                  ", ".join(p.remediations) or "; ".join(
                      f"{a.title} ({'done' if a.completed else a.status})" for a in p.actions[:2]))
                 for p in report.precedents.precedents])
    print_table("Remediations from the precedents (done and verified count most)",
                ["remediation", "score", "supported by"],
                [(r.remediation, f"{r.score:.2f}", ", ".join(x.incident_id for x in r.supporting))
                 for r in report.remediations])
    console.print("[dim]Suggestions are proposals: accept labels with 'lessonloop signals'.[/]")
