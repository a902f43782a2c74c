"""``lessonloop learn``: train a candidate from accepted signals and stop at the human gate."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    console,
    handle_errors,
    print_json,
    print_table,
    progress_bar,
    say_warning,
)


def register(app: typer.Typer) -> None:
    app.command("learn")(learn)


@handle_errors
def learn(
    holdout_days: Annotated[
        float | None, typer.Option(help="Held-out history, in days (default 28).")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Operator preference: standard (default), reward_low_FP_rate, reward_low_FN_rate."
        ),
    ] = None,
    attribution_top: Annotated[
        int | None, typer.Option(min=0, help="Insights to ablate (default 5).")
    ] = None,
    folds: Annotated[int | None, typer.Option(min=1, help="Rolling backtest windows.")] = None,
    task: Annotated[
        str, typer.Option(help="metric-anomaly, alert-correlation, failure-mode or precedent")
    ] = "metric-anomaly",
    suppress_below: Annotated[
        float | None,
        typer.Option(
            help="alert-correlation: suppress an alert family in a block of hours when its "
            "estimated share of firings that belonged to an incident is below this (default "
            "0.1)."
        ),
    ] = None,
    incident_severity: Annotated[
        str | None,
        typer.Option(
            help="alert-correlation: count only incidents this severe or worse (SEV1..SEV5) "
            "as what alerts are judged by, e.g. where every PagerDuty page is an incident."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Extract proposals, cut a signal set, train a candidate, evaluate it on held-out history.

    Stops at the human gate: approve and promote with 'lessonloop models'.
    """
    from lessonloop.errors import InputError

    given = {
        "--holdout-days": holdout_days,
        "--profile": profile,
        "--attribution-top": attribution_top,
        "--folds": folds,
        "--suppress-below": suppress_below,
        "--incident-severity": incident_severity,
    }
    allowed = {
        "metric-anomaly": {"--holdout-days", "--profile", "--attribution-top", "--folds"},
        "alert-correlation": {
            "--holdout-days",
            "--attribution-top",
            "--suppress-below",
            "--incident-severity",
        },
        "failure-mode": set(),
        "precedent": set(),
    }
    if task not in allowed:
        raise InputError(
            "choose metric-anomaly, alert-correlation, failure-mode or precedent", field="task"
        )
    refused = [k for k, v in given.items() if v is not None and k not in allowed[task]]
    if refused:
        takes = ", ".join(sorted(allowed[task])) or "no options of its own"
        why = (
            " (its backtest holds out the newest 25 % of incidents)"
            if task in ("failure-mode", "precedent")
            else ""
        )
        raise InputError(
            f"{', '.join(refused)} {'does' if len(refused) == 1 else 'do'} not apply to "
            f"--task {task}; it takes {takes}{why}",
            field=refused[0],
        )
    if task == "failure-mode":
        _learn_failure_modes(as_json)
        return
    if task == "precedent":
        _learn_precedents(as_json)
        return
    if task == "alert-correlation":
        _learn_alert_policy(
            28.0 if holdout_days is None else holdout_days,
            0.1 if suppress_below is None else suppress_below,
            5 if attribution_top is None else attribution_top,
            as_json,
            incident_severity,
        )
        return
    from lessonloop.cli.common import workspace
    from lessonloop.services.learn import learn as run_learn

    with progress_bar() as update:
        result = run_learn(
            workspace(),
            holdout_days=28.0 if holdout_days is None else holdout_days,
            profile=profile or "standard",
            attribution_top=5 if attribution_top is None else attribution_top,
            folds=folds or 1,
            progress=update,
        )
    if as_json:
        print_json(
            {
                **_common_json(
                    "metric-anomaly",
                    result.candidate_id,
                    result.baseline,
                    result.decision.value,
                    (result.candidate.as_dict(), result.incumbent.as_dict()),
                    result.evaluation_id,
                    result.signal_set_version,
                ),
                "experiment": result.experiment_id,
                "attribution": result.attribution,
                "notes": result.notes,
            }
        )
        return
    c, b = result.candidate, result.incumbent
    print_table(
        f"Candidate {result.candidate_id} (signal set v{result.signal_set_version}) "
        f"against {result.baseline} on the holdout",
        ["metric", "candidate", "95% interval", result.baseline, "95% interval"],
        [
            ("MTTD (min)", c.mttd_minutes, c.mttd_ci, b.mttd_minutes, b.mttd_ci),
            ("recall", c.recall, c.recall_ci, b.recall, b.recall_ci),
            (
                "false alerts/day",
                c.false_alerts_per_day,
                c.false_alerts_ci,
                b.false_alerts_per_day,
                b.false_alerts_ci,
            ),
        ],
    )
    console.print(f"paired test on detection delay: [bold]{result.decision.value}[/]")
    for line in result.notes:
        say_warning(line)
    print_table(
        "What taught it (ablation: metric without the insight minus with it)",
        ["insight", "signals", "MTTD effect (min)", "false alerts/day effect"],
        [
            (
                a["group"],
                len(a["signals"]),
                a.get("effect_mttd_minutes"),
                a.get("effect_false_alerts_per_day"),
            )
            for a in result.attribution
        ],
    )
    console.print(
        f"Human gate: 'lessonloop models approve {result.candidate_id} --reason ...' "
        f"then 'lessonloop models promote {result.candidate_id}'."
    )


def _common_json(
    task: str,
    candidate: int,
    against: str,
    decision: str,
    metrics: tuple[dict[str, Any], dict[str, Any]],
    evaluation: int,
    signal_set: int | None,
) -> dict[str, Any]:
    """The keys every task's `learn --json` shares, so scripts read one shape."""
    return {
        "task": task,
        "candidate": candidate,
        "against": against,
        "decision": decision,
        "candidate_metrics": metrics[0],
        "baseline_metrics": metrics[1],
        "evaluation": evaluation,
        "signal_set": signal_set,
    }


def _text_task_json(task: str, metric: str, result: Any, own: str) -> dict[str, Any]:
    """`learn --json` of the failure-mode and precedent tasks: the shared keys, the holdout
    size and the task's own key `own` (their results name their fields alike)."""
    return {
        **_common_json(
            task,
            result.candidate_id,
            result.baseline,
            result.decision,
            ({metric: result.metrics}, {metric: result.baseline_metrics}),
            result.evaluation_id,
            result.signal_set_version,
        ),
        "holdout_incidents": result.holdout_incidents,
        own: getattr(result, own),
    }


def _learn_failure_modes(as_json: bool) -> None:
    from lessonloop.cli.common import workspace
    from lessonloop.services.triage import learn_failure_modes

    result = learn_failure_modes(workspace())
    if as_json:
        print_json(_text_task_json("failure-mode", "example_f1", result, "ignored_labels"))
        return
    print_table(
        f"Failure-mode candidate {result.candidate_id} against {result.baseline} on the "
        f"{result.holdout_incidents} newest labelled incidents",
        ["metric", "candidate", "95% interval", result.baseline, "95% interval"],
        [
            (
                "example F1",
                result.metrics["value"],
                (result.metrics["low"], result.metrics["high"]),
                result.baseline_metrics["value"],
                (result.baseline_metrics["low"], result.baseline_metrics["high"]),
            )
        ],
    )
    if result.ignored_labels:
        console.print(
            "[yellow]accepted labels that name no failure mode of the taxonomy (not learned; "
            "add the term with 'lessonloop taxonomy add' or correct the label):[/] "
            + escape(", ".join(f"{label} ({n})" for label, n in result.ignored_labels.items()))
        )
    console.print(
        f"paired test: [bold]{result.decision}[/]; approve with 'lessonloop models "
        f"approve {result.candidate_id} --reason ...'"
    )


def _learn_precedents(as_json: bool) -> None:
    from lessonloop.cli.common import workspace
    from lessonloop.services.precedent_model import learn_precedents

    result = learn_precedents(workspace())
    if as_json:
        print_json(_text_task_json("precedent", "precision_at_5", result, "feedback_used"))
        return
    c, b = result.metrics, result.baseline_metrics
    print_table(
        f"Precedent retriever {result.candidate_id} (signal set v{result.signal_set_version}, "
        f"{result.feedback_used} verdicts) against {result.baseline} on the "
        f"{result.holdout_incidents} newest incidents",
        ["metric", "candidate", "95% interval", result.baseline, "95% interval"],
        [("precision@5", c["value"], (c["low"], c["high"]), b["value"], (b["low"], b["high"]))],
    )
    console.print(
        f"paired test: [bold]{result.decision}[/]; approve with 'lessonloop models "
        f"approve {result.candidate_id} --reason ...'"
    )


def _learn_alert_policy(
    holdout_days: float,
    suppress_below: float,
    attribution_top: int,
    as_json: bool,
    incident_severity: str | None = None,
) -> None:
    from lessonloop.cli.common import workspace
    from lessonloop.services.alert_model import learn_alert_policy, parse_incident_severity

    severity = parse_incident_severity(incident_severity)

    with progress_bar() as update:
        result = learn_alert_policy(
            workspace(),
            holdout_days=holdout_days,
            suppress_below=suppress_below,
            attribution_top=attribution_top,
            progress=update,
            incident_severity=severity,
        )
    c, b = result.candidate.as_dict(), result.incumbent.as_dict()
    if as_json:
        print_json(
            {
                **_common_json(
                    "alert-correlation",
                    result.candidate_id,
                    result.baseline,
                    result.decision,
                    (c, b),
                    result.evaluation_id,
                    result.signal_set_version,
                ),
                "experiment": result.experiment_id,
                "reason": result.reason,
                "lost_incidents": result.lost_incidents,
                "policy": result.policy,
                "attribution": result.attribution,
                "notes": result.notes,
            }
        )
        return
    rows = [
        (label, c[key], c.get(f"{key}_ci"), b[key], b.get(f"{key}_ci"))
        for label, key in (
            ("noise pages/day", "noise_pages_per_day"),
            ("pages/day", "pages_per_day"),
            ("incidents paged", "incident_coverage"),
            ("pages per incident", "pages_per_incident"),
            ("incident alerts paged", "relevant_recall"),
            ("added delay (min)", "added_delay_minutes"),
        )
    ]
    print_table(
        f"Alert policy {result.candidate_id} (signal set v{result.signal_set_version}: "
        f"{len(result.policy['suppressions'])} suppressions, "
        f"{len(result.policy['inhibitions'])} inhibitions) against {result.baseline} on the "
        f"holdout ({c['days']} days, {c['incidents']} incidents with alerts)",
        ["metric", "candidate", "95% interval", result.baseline, "95% interval"],
        rows,
    )
    console.print(f"verdict: [bold]{result.decision}[/] ({escape(str(result.reason))})")
    for line in result.notes:
        console.print(f"[yellow]note:[/] {escape(line)}")
    print_table("The policy", ["rule", "alerts", "when", "because"], _policy_rows(result.policy))
    print_table(
        "What taught it (ablation: noise and delay without the statements minus with them)",
        [
            "insight",
            "signals",
            "noise pages/day",
            "incidents they kept paging",
            "added delay (min)",
        ],
        [
            (
                a["group"],
                len(a["signals"]),
                a["effect_noise_pages_per_day"],
                a["incidents_kept_paging"],
                a["effect_added_delay_minutes"],
            )
            for a in result.attribution
        ],
    )
    console.print(
        f"Human gate: 'lessonloop models approve {result.candidate_id} --reason ...', then "
        f"'lessonloop models promote {result.candidate_id}' and "
        f"'lessonloop export-rules alertmanager {result.candidate_id}'."
    )


def _family(alertname: str, service: str) -> str:
    return f"{alertname}/{service or '(no service)'}"


def _matchers(side: list[dict[str, str]]) -> str:
    return ", ".join(f'{m["label"]}{m["op"]}"{m["value"]}"' for m in side)


def _hours(hours: list[int]) -> str:
    spans: list[list[int]] = []
    for hour in sorted(hours):
        if spans and spans[-1][1] == hour:
            spans[-1][1] = hour + 1
        else:
            spans.append([hour, hour + 1])
    return ", ".join(f"{a:02d}-{b:02d}" for a, b in spans) + " UTC"


def _policy_rows(policy: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Every suppression, inhibition and protected family of an alert policy, with why."""
    rows = [
        (
            "suppress",
            _family(s["alertname"], s["service"]),
            _hours(s["hours"]),
            f"{s['relevant']} of {s['firings']} firings with an incident "
            f"(P = {s['p_relevant']:.3f})"
            + (f"; {len(s['signal_ids'])} reviewers' noise statements" if s["signal_ids"] else ""),
        )
        for s in policy["suppressions"]
    ]
    rows += [
        (
            f"inhibit #{number}",  # the number of the exported inhibit rule
            f"{_matchers(r['target'])} while {_matchers(r['source'])} fires",
            "always",
            f"signal {r['signal_id']}"
            if r["signal_id"] is not None
            else f"together {r['support']} times ({r['confidence']:.0%} of the target's firings)",
        )
        for number, r in enumerate(policy["inhibitions"])
    ]
    rows += [
        (
            "protect",
            _family(p["alertname"], p["service"]),
            _hours(p["hours"]),
            f"kept so that {p['only_page_of']} pages (sooner)"
            if "only_page_of" in p
            else f"source of inhibit #{p['inhibits_with_rule']}",
        )
        for p in policy["training"].get("protected", [])
    ]
    rows += [
        (
            "missed",
            incident,
            "",
            "no timely page on the training history: only reviewers' rules hold it back",
        )
        for incident in policy["training"].get("incidents_missed_by_reviewer_rules", [])
    ]
    return rows
