"""``lessonloop models``: the human gate: list, show, diff, approve, promote, roll back."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from lessonloop.cli.common import console, handle_errors, print_json, print_table, workspace
from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.errors import InputError
from lessonloop.services import registry

if TYPE_CHECKING:
    from lessonloop.services.workspace import Workspace

app = typer.Typer(
    help="Model versions: review, approve, promote and roll back.", no_args_is_help=True
)

Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit trail).")]


@app.command("list")
@handle_errors
def list_(
    task: Annotated[ModelTask | None, typer.Option()] = None,
    status: Annotated[ModelStatus | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List model versions, oldest first."""
    found = registry.list_versions(workspace(), task=task, status=status)
    if as_json:
        print_json(found)
        return
    print_table(
        "Model versions",
        ["id", "task", "status", "signal set", "created", "by"],
        [
            (
                v.id,
                v.task.value,
                v.status.value,
                v.signal_set_version,
                v.created_at.date(),
                v.created_by,
            )
            for v in found
        ],
    )


@app.command("show")
@handle_errors
def show(version_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A version with its approvals, evaluations, experiments and history."""
    details = registry.show_version(workspace(), version_id)
    if as_json:
        print_json(
            {
                "version": details.version,
                "approvals": details.approval.approvals,
                "required_approvers": details.approval.required,
                "evaluations": details.evaluations,
                "experiments": details.experiments,
                "history": details.history,
            }
        )
        return
    v = details.version
    console.print(
        f"[bold]model version {v.id}[/] {v.task.value}: {v.status.value}; signal set "
        f"{v.signal_set_version}; artifact {v.artifact_hash or '-'}"
    )
    trained = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("profile", v.config.get("profile")),
            ("training from", v.training_start),
            ("to", v.training_end),
        )
        if value
    )
    if trained:
        console.print(trained, highlight=False, markup=False)
    console.print(
        f"approvals: {len(details.approval.approvers)} of {details.approval.required} required"
    )
    print_table(
        "Approvals",
        ["at", "who", "decision", "reason"],
        [(a.at, a.approver, a.decision, a.reason) for a in details.approval.approvals],
    )
    for evaluation in details.evaluations:
        print_table(
            f"Evaluation {evaluation.id}: {evaluation.decision.value}",
            ["metric", "value", "95% low", "95% high"],
            [(k, m.value, m.low, m.high) for k, m in evaluation.metrics.items()],
        )
    print_table(
        "Experiments",
        ["id", "hypothesis", "decision", "insights", "action items", "notes"],
        [
            (
                e.id,
                e.hypothesis,
                e.decision.value if e.decision else "",
                len(e.insight_ids),
                len(e.action_item_ids),
                e.notes,
            )
            for e in details.experiments
        ],
    )
    print_table(
        "History",
        ["at", "actor", "action", "details"],
        [(e.at, e.actor, e.action, e.details or "") for e in details.history],
    )


@app.command("diff")
@handle_errors
def diff(first: int, second: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Fields that differ between two versions (config, lineage, latest metrics)."""
    changes = registry.diff_versions(workspace(), first, second)
    if as_json:
        print_json({"first": first, "second": second, "differences": _sides(changes)})
        return
    print_table(
        f"Model {first} vs {second}",
        ["field", str(first), str(second)],
        [(k, a, b) for k, (a, b) in changes.items()],
    )


@app.command("approve")
@handle_errors
def approve(version_id: int, reason: Reason) -> None:
    """Approve a version as the acting user (--actor / LESSONLOOP_ACTOR)."""
    ws = workspace()
    state = registry.approve_version(ws, version_id, reason=reason)
    console.print(
        f"model version {version_id}: {len(state.approvers)} of {state.required} "
        f"approvals; status {state.version.status.value}"
    )
    evaluations = registry.show_version(ws, version_id).evaluations
    if evaluations:
        newest = evaluations[-1]
        console.print(f"evidence: evaluation {newest.id} ({newest.decision.value})")
    else:
        console.print(
            "[yellow]warning:[/] no evaluation is recorded for this version: approved without "
            "evidence (the audit trail records it; 'lessonloop learn' or 'lessonloop models "
            "shadow-report ID --record' record one)"
        )


@app.command("reject")
@handle_errors
def reject(version_id: int, reason: Reason) -> None:
    """Reject a version, recording who and why."""
    version = registry.reject_version(workspace(), version_id, reason=reason)
    console.print(f"model version {version.id}: {version.status.value}")


@app.command("shadow")
@handle_errors
def shadow(version_id: int) -> None:
    """Put a candidate in shadow: it pages no one; 'models shadow-report' shows how it does."""
    version = registry.shadow_version(workspace(), version_id)
    console.print(
        f"model version {version.id}: {version.status.value} (see 'lessonloop models "
        f"shadow-report {version.id}')"
    )


@app.command("shadow-report")
@handle_errors
def shadow_report_cmd(
    version_id: int,
    since: Annotated[
        str | None, typer.Option(help="Start of the replay (default: the end of its training).")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Keep the report as the version's evaluation (evidence for approvers)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay a metric-anomaly version beside the champion on data it never learned from."""
    from lessonloop.services.shadow_report import record_shadow_report, shadow_report

    start = None
    if since is not None:
        try:
            start = dt.datetime.fromisoformat(since)
        except ValueError:
            raise InputError(f"not a time: {since!r} (ISO 8601)", field="--since") from None
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    ws = workspace()
    report = shadow_report(ws, version_id, since=start)
    evaluation = record_shadow_report(ws, report).id if record else None
    if as_json:
        print_json(
            {
                "version": report.version_id,
                "status": report.status,
                "start": report.start,
                "end": report.end,
                "against": report.baseline,
                "shadow": report.shadow.as_dict(),
                "incumbent": report.incumbent.as_dict(),
                "verdict": report.verdict.value,
                "signal_set": report.signal_set_version,
                "notes": report.notes,
                "evaluation": evaluation,
            }
        )
        return
    print_table(
        f"Version {report.version_id} ({report.status}) against {report.baseline}, "
        f"{report.start:%Y-%m-%d} to {report.end:%Y-%m-%d}, on the reviewers' incident windows "
        + (
            f"(signal set v{report.signal_set_version})"
            if report.signal_set_version
            else "(no signal set yet)"
        ),
        ["metric", f"v{report.version_id}", report.baseline],
        [
            ("MTTD (min)", report.shadow.mttd_minutes, report.incumbent.mttd_minutes),
            (
                "false alerts/day",
                report.shadow.false_alerts_per_day,
                report.incumbent.false_alerts_per_day,
            ),
            ("recall", report.shadow.recall, report.incumbent.recall),
            ("incidents", report.shadow.incidents, report.incumbent.incidents),
        ],
    )
    console.print(f"paired test on detection delay: [bold]{report.verdict.value}[/]")
    for note in report.notes:
        console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    if evaluation is not None:
        console.print(f"recorded as evaluation {evaluation} of version {report.version_id}")


@app.command("promote")
@handle_errors
def promote(
    version_id: int,
    expect_champion: Annotated[
        int | None, typer.Option(help="Fail unless this is still the champion (0 = expect none).")
    ] = None,
) -> None:
    """Make an approved version champion; the old champion retires in the same transaction."""
    ws = workspace()
    if expect_champion is None:
        version = registry.promote_version(ws, version_id)
    else:
        version = registry.promote_version(
            ws, version_id, expected_champion_id=expect_champion or None
        )
    console.print(f"model version {version.id} is now the {version.task.value} champion")


@app.command("rollback")
@handle_errors
def rollback(task: ModelTask, reason: Reason) -> None:
    """Reinstate the champion that the current champion replaced."""
    version = registry.rollback_task(workspace(), task, reason=reason)
    console.print(f"model version {version.id} is the {task.value} champion again")


@app.command("compare")
@handle_errors
def compare(
    first: int,
    second: int,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, help="Alert-correlation: show at most this many alerts (newest)."
        ),
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Where two versions decide differently (metric-anomaly: on stored series;
    alert-correlation: on stored alerts), and their latest metrics."""
    ws = workspace()
    changes = registry.diff_versions(ws, first, second)
    metrics = {k: v for k, v in changes.items() if k.startswith("metrics.")}
    if as_json:
        print_json(_comparison(ws, first, second, metrics))
        return
    print_table(
        f"Metrics: model {first} vs {second}",
        ["metric", str(first), str(second)],
        [(k.removeprefix("metrics."), a, b) for k, (a, b) in metrics.items()],
    )
    tasks = {registry.show_version(ws, v).version.task.value for v in (first, second)}
    if tasks == {"alert_correlation"}:
        from lessonloop.services.alert_model import compare_alert_decisions

        differ = compare_alert_decisions(ws, first, second)
        shown = differ[-limit:]
        print_table(
            f"Alerts the two policies decide differently ({len(differ)}"
            + (f", the newest {len(shown)} shown: --limit" if len(shown) < len(differ) else "")
            + ")",
            ["at", "alert", "service", "incident", str(first), str(second)],
            [
                (
                    f"{d.at:%Y-%m-%d %H:%M}",
                    d.alertname,
                    d.service or "-",
                    d.incident or "-",
                    d.first,
                    d.second,
                )
                for d in shown
            ],
        )
        return
    found, missing = registry.compare_decisions(ws, first, second)
    print_table(
        "Decisions that differ",
        ["service", "series", "from", "to", "points", "only fired by"],
        [(d.service, d.series, _at(d.start), _at(d.end), d.points, d.fired_by) for d in found],
    )
    if missing:
        console.print(f"[dim]no stored data for: {escape(', '.join(missing))}[/]")


def _sides(changes: dict[str, tuple[Any, Any]]) -> dict[str, dict[str, Any]]:
    """``{field: (a, b)}`` as JSON: ``{field: {"first": a, "second": b}}``."""
    return {k: {"first": a, "second": b} for k, (a, b) in changes.items()}


def _comparison(
    ws: Workspace, first: int, second: int, metrics: dict[str, tuple[Any, Any]]
) -> dict[str, Any]:
    """`models compare --json`: the metrics that differ and every decision that does (all of
    them: --limit is for the table)."""
    out: dict[str, Any] = {
        "first": first,
        "second": second,
        "metrics": _sides({k.removeprefix("metrics."): v for k, v in metrics.items()}),
    }
    tasks = {registry.show_version(ws, v).version.task.value for v in (first, second)}
    if tasks == {"alert_correlation"}:
        from lessonloop.services.alert_model import compare_alert_decisions

        differ = compare_alert_decisions(ws, first, second)
        out["alerts"] = [{**asdict(d), "at": d.at.isoformat()} for d in differ]
        return out
    found, missing = registry.compare_decisions(ws, first, second)
    out["decisions"] = [{**asdict(d), "start": _at(d.start), "end": _at(d.end)} for d in found]
    out["no_stored_data"] = missing
    return out


def _at(epoch_seconds: int) -> str:
    return dt.datetime.fromtimestamp(epoch_seconds, tz=dt.UTC).isoformat()


@app.command("mirror")
@handle_errors
def mirror(
    version_id: int,
    tracking_uri: Annotated[
        str, typer.Option(help="MLflow tracking URI, e.g. sqlite:///mlflow.db")
    ],
) -> None:
    """Mirror a version to MLflow (needs the optional 'mlflow' extra)."""
    run_id = registry.mirror_to_mlflow(workspace(), version_id, tracking_uri)
    console.print(f"model version {version_id} mirrored to MLflow run {run_id}")
