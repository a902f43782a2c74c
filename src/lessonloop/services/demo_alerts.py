"""The demo's alert noise loop: each quarter, an alert policy learned from the quarters before
is tested on this one, approved and promoted when it pages less for nothing without losing an
incident; the report also scores every policy against the generator's truth.

The truth (which alerts the generator made as noise, which incident an alert came from) is
never shown to the learner: it learns from the stored alerts, the incidents and the reviewers'
signals, like any workspace. It is used here only to check what the learner was told.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lessonloop.alerting import AlertPolicy
from lessonloop.evaluation.alert_noise import score_alert_period
from lessonloop.services import registry
from lessonloop.services.alert_model import AlertHistory, alert_history, learn_alert_policy
from lessonloop.services.demo_workspace import acting
from lessonloop.services.workspace import Workspace

__all__ = ["alert_quarter", "truth_links"]

APPROVERS = ("demo-sre-lead", "demo-service-owner")
STEP = dt.timedelta(minutes=15)  # between the decisions after a policy is learned


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def truth_links(truth: dict[str, Any], history: AlertHistory) -> list[str | None] | None:
    """The generator's incident per stored alert (None for its noise); None when an alert
    cannot be found in the truth file."""
    known = {
        (a["fingerprint"], _time(a["starts_at"])): (
            None if a["is_noise"] else a["incident_key"] or f"unnamed:{a['fingerprint']}"
        )
        for a in truth["alerts"]
    }
    keys = [(firing.fingerprint, firing.start) for firing in history.firings]
    if any(key not in known for key in keys):
        return None
    return [known[key] for key in keys]


def _truth_score(
    policy: AlertPolicy,
    history: AlertHistory,
    links: list[str | None],
    start: dt.datetime,
    end: dt.datetime,
    seed: int,
) -> dict[str, Any]:
    verdicts = policy.decide(history.firings)
    score = score_alert_period(
        history.starts(),
        [v.kept for v in verdicts],
        links,
        start,
        end,
        paged_at=[v.paged_at for v in verdicts],
        seed=seed,
    )
    out = score.as_dict()
    return {
        k: out[k]
        for k in (
            "pages_per_day",
            "noise_pages_per_day",
            "noise_pages_per_day_ci",
            "incidents",
            "incidents_covered",
            "pages_per_incident",
            "added_delay_minutes",
        )
    }


def alert_quarter(
    ws: Workspace,
    quarter: dict[str, str],
    truth: dict[str, Any],
    champion: tuple[int, AlertPolicy] | None,
    log: list[str],
    *,
    seed: int = 0,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], tuple[int, AlertPolicy] | None]:
    """Learn on the quarters before ``quarter``, test on it, promote when better.

    The policy is learned at ``now`` (default: the time of the run), then approved and
    promoted, or rejected, a quarter of an hour apart. Returns the report row and the champion
    after the quarter.
    """
    start, end = _time(quarter["start"]), _time(quarter["end"])
    result = learn_alert_policy(ws, holdout_start=start, attribution_top=3, seed=seed, now=now)

    def later(steps: int) -> dt.datetime | None:
        return now + steps * STEP if now is not None else None

    policy = AlertPolicy.from_config(result.policy)
    history = alert_history(ws)
    links = truth_links(truth, history)
    row: dict[str, Any] = {
        "candidate": result.candidate_id,
        "against": result.baseline,
        "decision": result.decision,
        "reason": result.reason,
        "suppressions": len(policy.suppressions),
        "inhibitions": len(policy.inhibitions),
        "history_labels": {
            "candidate": result.candidate.as_dict(),
            "in_use": result.incumbent.as_dict(),
        },
        "attribution": result.attribution,
    }
    if links is not None:
        row["truth"] = {
            "every_alert_pages": _truth_score(AlertPolicy(), history, links, start, end, seed),
            "in_use": _truth_score(
                champion[1] if champion else AlertPolicy(), history, links, start, end, seed
            ),
            "candidate": _truth_score(policy, history, links, start, end, seed),
        }
    label = quarter["label"]
    if result.decision == "better":
        for step, approver in enumerate(APPROVERS, start=2):
            state = registry.approve_version(
                ws,
                result.candidate_id,
                approver=approver,
                reason=f"{label}: {result.reason}",
                now=later(step),
            )
            if state.version.status.value == "approved":
                break
        with acting(ws, "demo-sre-lead"):
            registry.promote_version(ws, result.candidate_id, now=later(len(APPROVERS) + 2))
        champion = (result.candidate_id, policy)
        row["promoted"] = result.candidate_id
        log.append(f"{label}: promoted alert policy {result.candidate_id} ({result.reason})")
    else:
        registry.reject_version(
            ws,
            result.candidate_id,
            reason=f"{label}: {result.reason}",
            approver="demo-approver",
            now=later(2),
        )
        log.append(f"{label}: rejected alert policy {result.candidate_id} ({result.reason})")
    return row, champion
