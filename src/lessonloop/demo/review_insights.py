"""Insights (observations, recommendations, human factors) and action items of a review."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from lessonloop.demo import phrasing
from lessonloop.demo.phrasing import upper_first
from lessonloop.demo.review_context import ReviewContext, minutes_text, nice_number
from lessonloop.demo.review_sections import COMPACTION_MATCHER, Insight, ReviewBody, reviewer_meta
from lessonloop.demo.rules import format_number


def _prevention(mode: str, service: str, detail: str) -> str:
    """The action item that should stop this failure mode from recurring."""
    return {
        "bad_config_push": f"Validate {service} config changes in CI before rollout",
        "capacity_exhaustion": f"Add autoscaling headroom for {service}",
        "dependency_outage": f"Add a fallback for the {detail}",
        "memory_leak": f"Add a memory soak test to the {service} release pipeline",
        "certificate_expiry": f"Automate certificate renewal for {service}",
        "dns": "Stage DNS zone changes behind a canary resolver",
        "lock_contention": f"Review long-running transactions on {service}",
        "retry_storm": f"Add jittered backoff to {service} clients",
    }[mode]


def _insight(
    rng: np.random.Generator, category: str, text: str, services: list[str], tags: list[str]
) -> Insight:
    """An insight with reviewer-style metadata."""
    confidence, source = reviewer_meta(rng)
    return Insight(category, text, confidence, source, services, tags)


def build_insights(ctx: ReviewContext, rng: np.random.Generator, body: ReviewBody) -> None:
    """Observations, recommendations, human factors and action items from the facts."""
    inc = ctx.incident
    pages = [t for t in ctx.related if t.alert.labels["severity"] == "page"]
    lead = inc.responders[0].handle
    owner_of = {name: s.owner for name, s in ctx.services.items()}
    due = (inc.resolved_at or inc.mitigated) + timedelta(days=int(rng.integers(14, 45)))
    status = ("open", "in progress", "done", "wont do")

    def action(title: str, kind: str, owner: str, priority: str, effect: str) -> None:
        state = status[int(rng.choice(4, p=[0.45, 0.25, 0.25, 0.05]))]
        body.actions.append((title, kind, owner, due.strftime("%Y-%m-%d"), priority, state, effect))

    body.observations.append(
        _insight(
            rng,
            "technical",
            f"This was a {inc.mode.label} in {inc.origin}: "
            + inc.mode.cause.format(what=inc.detail, service=inc.origin)
            + ".",
            [inc.origin],
            [inc.mode.name],
        )
    )
    if pages and ctx.is_late(pages[0]):
        truth = pages[0]
        service, metric = truth.alert.episode.service, truth.alert.episode.rule.metric
        rule = truth.alert.episode.rule
        word, unit = phrasing.METRIC_WORDS[metric]
        threshold = (
            f"{format_number(rule.threshold)} {unit}".strip()
            if unit != "%"
            else f"{format_number(rule.threshold)}%"
        )
        suggested = nice_number(ctx.normal_peak.get((service, metric), rule.threshold) * 1.15)
        slots = {
            "threshold": threshold,
            "service": service,
            "metric": word,
            "alert": truth.alert.labels["alertname"],
            "delay": minutes_text(ctx.delay_minutes(truth)),
            "suggested": f"{format_number(suggested)} {unit}".strip(),
        }
        body.observations.append(
            _insight(
                rng,
                "technical",
                phrasing.late_threshold(rng, **slots),
                [service],
                [metric, "threshold"],
            )
        )
        body.recommendations.append(
            _insight(
                rng,
                "tooling",
                phrasing.band_recommendation(rng, **slots),
                [service],
                [metric, "threshold"],
            )
        )
        action(
            f"Replace the static {word} threshold on {service}",
            "detect",
            owner_of[service],
            "P2",
            f"mttd down {service}",
        )
    distinct: list[tuple[str, str]] = []
    for truth in pages:
        pair = (truth.alert.labels["alertname"], truth.alert.episode.service)
        if pair not in distinct and pair[1] not in {p[1] for p in distinct}:
            distinct.append(pair)
    if len(distinct) >= 2 and rng.random() < 0.8:
        slots = {
            "first": distinct[0][0],
            "first_service": distinct[0][1],
            "second": distinct[1][0],
            "second_service": distinct[1][1],
        }
        body.observations.append(
            _insight(
                rng,
                "technical",
                phrasing.same_cause(rng, **slots),
                [distinct[0][1], distinct[1][1]],
                ["correlation"],
            )
        )
        body.recommendations.append(
            _insight(
                rng,
                "process",
                phrasing.group_recommendation(rng, **slots),
                [distinct[0][1], distinct[1][1]],
                ["correlation"],
            )
        )
    if any(row[0] == COMPACTION_MATCHER for row in body.alerts):
        body.observations.append(
            _insight(
                rng,
                "tooling",
                phrasing.compaction_noise(rng),
                ["compaction", "ledger-export"],
                ["noise", "disk"],
            )
        )
        body.recommendations.append(
            _insight(
                rng,
                "tooling",
                phrasing.compaction_recommendation(rng),
                ["compaction", "ledger-export"],
                ["noise", "disk"],
            )
        )
        body.human_factors.append(
            Insight(
                "process",
                f"{lead} had been paged {phrasing.times_text(len(ctx.compaction_noise))} "
                "overnight by "
                "batch disk alerts before this incident (alert fatigue).",
            )
        )
        action(
            "Suppress DiskSpaceHigh on batch hosts during compaction",
            "detect",
            owner_of["compaction"],
            "P3",
            "false_alerts_per_day down compaction",
        )
    if ctx.peak_noise and any(
        row[2] == "Fires at the normal afternoon peak" for row in body.alerts
    ):
        labels = ctx.peak_noise[0].alert.labels
        rule = ctx.peak_noise[0].alert.episode.rule
        body.observations.append(
            _insight(
                rng,
                "tooling",
                phrasing.peak_noise(
                    rng,
                    alert=labels["alertname"],
                    service=labels["service"],
                    threshold=f"{format_number(rule.threshold)} ms",
                ),
                [labels["service"]],
                ["noise", "latency"],
            )
        )
        action(
            f"Make the {labels['service']} latency alert aware of the daily peak",
            "detect",
            owner_of[labels["service"]],
            "P3",
            f"false_alerts_per_day down {labels['service']}",
        )
    if rng.random() < 0.7:
        missing = inc.mode.missing_metric
        body.observations.append(
            _insight(
                rng,
                "information silo",
                phrasing.missing_metric(
                    rng, metric=missing, metric_title=upper_first(missing), service=inc.origin
                ),
                [inc.origin],
                ["instrumentation"],
            )
        )
        action(
            f"Export {missing} for {inc.origin} and alert on it",
            "detect",
            owner_of[inc.origin],
            "P2",
            "",
        )
    if inc.detection_method == "customer":
        body.observations.append(
            _insight(
                rng,
                "process",
                "Customers told us before any alert did.",
                [inc.origin],
                ["detection"],
            )
        )
    action(
        _prevention(inc.mode.name, inc.origin, inc.detail),
        "prevent",
        owner_of[inc.origin],
        "P2",
        f"mttr down {inc.origin}",
    )
    body.human_factors.append(
        Insight(
            str(rng.choice(["cognitive bias", "communication"])),
            str(
                rng.choice(
                    [
                        f"We first suspected {inc.impacts[-1].service} and lost time there.",
                        "The incident channel had two parallel threads for the first 20 minutes.",
                        f"{lead} was alone for the first part of the incident.",
                        "Nobody was sure who owned the decision to roll back.",
                    ]
                )
            ),
        )
    )
    if rng.random() < 0.2:
        body.observations.append(Insight("process", phrasing.vague(rng)))
        body.defects.append("vague_insight")
