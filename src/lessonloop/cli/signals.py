"""``lessonloop signals``: extract, review, check, cut, diff, trace and export learning signals."""

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
    signal_set_version,
    workspace,
)
from lessonloop.domain.enums import SignalKind, SignalStatus
from lessonloop.domain.signals import SignalRead
from lessonloop.errors import InputError
from lessonloop.services import signals as service
from lessonloop.services.signal_sets import QualityReport

app = typer.Typer(
    help="Learning signals: propose, accept, cut versioned sets, trace, export.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripting.")]


def _summary(signal: SignalRead) -> str:
    payload = signal.payload.model_dump(mode="json", exclude={"kind"})
    return ", ".join(f"{k}={v}" for k, v in payload.items() if v not in (None, "", [], False))


def _where(signal: SignalRead) -> str:
    p = signal.provenance
    span = f"[{p.span[0]}:{p.span[1]}]" if p.span else ""
    return f"{p.incident_key or ''} {p.field or ''}{span}".strip()


@app.command("extract")
@handle_errors
def extract(
    review: Annotated[str | None, typer.Argument(help="Review id or incident key.")] = None,
    all_reviews: Annotated[bool, typer.Option("--all", help="Every review.")] = False,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Skip the failure-mode classifier.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Propose signals from REVIEW (or --all); proposals wait for a reviewer's decision."""
    if (review is None) == (not all_reviews):
        raise InputError("give one REVIEW or --all", field="review")
    ws = workspace()
    results = (
        service.extract_all(ws, use_model=not no_model)
        if all_reviews
        else [service.extract_review(ws, review or "", use_model=not no_model)]
    )
    if as_json:
        print_json(
            [
                {
                    "review_id": r.review_id,
                    "incident": r.incident_key,
                    "created": [s.id for s in r.created],
                    "existing": [s.id for s in r.existing],
                    "auto_accepted": r.auto_accepted,
                    "problems": [{"field": p.field, "message": p.message} for p in r.problems],
                }
                for r in results
            ]
        )
        return
    for r in results:
        console.print(
            f"review {r.review_id} ({escape(str(r.incident_key))}): {len(r.created)} proposed, "
            f"{len(r.existing)} already known, {len(r.auto_accepted)} auto-accepted",
            highlight=False,
        )
        for problem in r.problems:
            console.print(
                f"  [yellow]skipped[/] {escape(problem.field)}: {escape(problem.message)}",
                highlight=False,
            )


@app.command("list")
@handle_errors
def list_(
    status: Annotated[SignalStatus | None, typer.Option(help="proposed, accepted, ...")] = None,
    kind: Annotated[SignalKind | None, typer.Option(help="Signal kind.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List signals by status and kind."""
    found = service.list_signals(workspace(), status=status, kind=kind)
    if as_json:
        print_json(found)
        return
    print_table(
        "Signals",
        ["id", "kind", "status", "conf", "from", "payload"],
        [
            (s.id, s.kind.value, s.status.value, f"{s.confidence:.2f}", _where(s), _summary(s))
            for s in found
        ],
    )


@app.command("accept")
@handle_errors
def accept(
    signal_id: Annotated[int, typer.Argument(metavar="ID")],
    edit: Annotated[
        list[str] | None,
        typer.Option(
            "--edit", help="field=value (repeatable), e.g. value=400 or end=2026-03-02T11:00:00Z"
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept in the audit trail).")] = None,
) -> None:
    """Accept a proposed signal, optionally correcting fields."""
    signal = service.accept_signal(workspace(), signal_id, edit or [], note)
    console.print(
        f"signal {signal.id} accepted by {escape(str(signal.decided_by))}: "
        f"{escape(_summary(signal))}",
        highlight=False,
    )


@app.command("reject")
@handle_errors
def reject(
    signal_id: Annotated[int, typer.Argument(metavar="ID")],
    why: Annotated[str, typer.Option("--why", help="Why it is wrong.")],
) -> None:
    """Reject a proposed signal with a reason."""
    signal = service.reject_signal(workspace(), signal_id, why)
    by = escape(str(signal.decided_by))
    console.print(f"signal {signal.id} rejected by {by}", highlight=False)


@app.command("retire")
@handle_errors
def retire(
    signal_id: Annotated[int, typer.Argument(metavar="ID")],
    why: Annotated[str, typer.Option("--why", help="Why it no longer holds.")],
) -> None:
    """Retire an accepted signal (it stays in the sets that contained it)."""
    signal = service.retire_signal(workspace(), signal_id, why)
    by = escape(str(signal.decided_by))
    console.print(f"signal {signal.id} retired by {by}", highlight=False)


def _print_report(report: QualityReport) -> None:
    print_table(
        "Quality findings",
        ["check", "severity", "finding"],
        [(f.check, f.severity, f.message) for f in report.findings],
    )
    coverage = ", ".join(f"{k} {v:.0%}" for k, v in report.coverage.items()) or "no incidents"
    kappa = "n/a" if report.kappa is None else f"{report.kappa:.2f}"
    console.print(
        f"window coverage by severity: {coverage}; reviewer agreement (kappa): {kappa}",
        highlight=False,
    )


@app.command("check")
@handle_errors
def check(as_json: JsonOpt = False) -> None:
    """Run the quality checks a cut would run; exits 1 when a finding would block the cut."""
    report = service.check(workspace())
    if as_json:
        print_json(
            {
                "findings": [f.__dict__ for f in report.findings],
                "coverage": report.coverage,
                "kappa": report.kappa,
            }
        )
    else:
        _print_report(report)
    if report.blocking:
        raise typer.Exit(code=1)


@app.command("cut")
@handle_errors
def cut() -> None:
    """Cut an immutable, content-hashed set of all accepted, valid signals."""
    result = service.cut(workspace())
    _print_report(result.report)
    s = result.signal_set
    verb = "cut" if result.created else "unchanged since"
    console.print(
        f"{verb} signal set v{s.version} ({len(s.members)} signals, "
        f"{'parent v' + str(s.parent_version) if s.parent_version else 'first set'}, "
        f"hash {s.content_hash[:12]})",
        highlight=False,
    )


@app.command("sets")
@handle_errors
def sets(as_json: JsonOpt = False) -> None:
    """List signal set versions."""
    found = service.list_sets(workspace())
    if as_json:
        print_json(found)
        return
    print_table(
        "Signal sets",
        ["version", "parent", "signals", "hash", "by", "at"],
        [
            (
                s.version,
                s.parent_version,
                len(s.members),
                s.content_hash[:12],
                s.created_by,
                s.created_at,
            )
            for s in found
        ],
    )


@app.command("diff")
@handle_errors
def diff(
    old: Annotated[int, typer.Argument(parser=signal_set_version, metavar="OLD")],
    new: Annotated[int, typer.Argument(parser=signal_set_version, metavar="NEW")],
    as_json: JsonOpt = False,
) -> None:
    """Signals added, removed and changed between set versions OLD and NEW (3 or v3)."""
    result = service.diff(workspace(), old, new)
    if as_json:
        print_json(
            {
                "added": result.added,
                "removed": result.removed,
                "changed": [{"before": a, "after": b} for a, b in result.changed],
            }
        )
        return
    rows = (
        [("+", s.id, s.kind.value, _summary(s)) for s in result.added]
        + [("-", s.id, s.kind.value, _summary(s)) for s in result.removed]
        + [("~", b.id, b.kind.value, _summary(b)) for _, b in result.changed]
    )
    print_table(f"v{old} → v{new}", ["", "id", "kind", "payload"], rows)


@app.command("trace")
@handle_errors
def trace(
    signal_id: Annotated[int, typer.Argument(metavar="SIGNAL")], as_json: JsonOpt = False
) -> None:
    """Where a signal came from: text span → insight → review → incident."""
    t = service.trace(workspace(), signal_id)
    if as_json:
        print_json(
            {
                "signal": t.signal,
                "insight": t.insight,
                "review_id": t.review_id,
                "review_title": t.review_title,
                "incident_key": t.incident_key,
                "incident_title": t.incident_title,
                "sets": t.sets,
            }
        )
        return
    p = t.signal.provenance
    console.print(
        f"signal {t.signal.id} {t.signal.kind.value} ({t.signal.status.value}): "
        f"{escape(_summary(t.signal))}",
        highlight=False,
    )
    console.print(
        f"  from {p.field or '-'} {p.span or ''} by {p.extractor} v{p.extractor_version}"
        f": {escape(repr(p.text or ''))}",
        highlight=False,
    )
    if t.insight:
        console.print(f"  insight: {escape(str(t.insight))}", highlight=False)
    console.print(f"  review {t.review_id}: {escape(str(t.review_title))}", highlight=False)
    console.print(f"  incident {t.incident_key}: {escape(str(t.incident_title))}", highlight=False)
    console.print(
        f"  in signal sets: {', '.join(f'v{v}' for v in t.sets) or 'none'}", highlight=False
    )


@app.command("used-by")
@handle_errors
def used_by(
    signal_id: Annotated[int, typer.Argument(metavar="SIGNAL")], as_json: JsonOpt = False
) -> None:
    """Model versions trained on a signal set that contains SIGNAL."""
    versions, models = service.used_by(workspace(), signal_id)
    if as_json:
        print_json({"sets": versions, "model_versions": models})
        return
    console.print(
        f"signal {signal_id} is in sets: {', '.join(f'v{v}' for v in versions) or 'none'}",
        highlight=False,
    )
    print_table(
        "Model versions",
        ["id", "task", "set", "status"],
        [(m.id, m.task.value, m.signal_set_version, m.status.value) for m in models],
    )


@app.command("export")
@handle_errors
def export(
    version: Annotated[int, typer.Argument(parser=signal_set_version, metavar="VERSION")],
    directory: Annotated[Path, typer.Argument(metavar="DIR")],
    fmt: Annotated[str, typer.Option("--format", help="parquet or jsonl")] = "parquet",
) -> None:
    """Write set VERSION (3 or v3) as one file per kind plus schema.json into DIR."""
    paths = service.export(workspace(), version, fmt, directory)  # type: ignore[arg-type]
    console.print(f"wrote {len(paths)} files to {escape(str(directory))}", highlight=False)
