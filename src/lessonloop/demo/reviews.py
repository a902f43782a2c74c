"""Post-incident reviews in Lessonloop's Markdown format (docs/review-format.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import yaml

from lessonloop.demo import phrasing
from lessonloop.demo.phrasing import upper_first
from lessonloop.demo.review_context import ReviewContext, minutes_text, when
from lessonloop.demo.review_insights import build_insights
from lessonloop.demo.review_sections import (
    COMPACTION_MATCHER,
    Insight,
    ReviewBody,
    build_alert_rows,
    build_timeline,
)
from lessonloop.demo.timegrid import iso, minute_text

OPTIONAL_SECTIONS = ("Decision points", "Human factors", "What went well", "Where we got lucky")


@dataclass(frozen=True)
class WrittenReview:
    """A review file and what the reviewer got wrong in it (for the ground truth)."""

    path: Path
    incident_key: str
    reviewer_first_symptom: datetime
    defects: list[str]


def _title(ctx: ReviewContext, rng: np.random.Generator) -> str:
    """A human title for the incident."""
    inc = ctx.incident
    svc = upper_first(inc.origin) if inc.origin != "db" else "Database"
    titles = {
        "bad_config_push": [
            f"{svc} p99 latency regression after a config push",
            f"Bad {inc.detail} config on {inc.origin}",
        ],
        "capacity_exhaustion": [f"{svc} ran out of capacity", f"{svc} overload during peak"],
        "dependency_outage": [
            f"{upper_first(inc.detail)} outage broke {inc.origin}",
            f"{svc} errors caused by the {inc.detail}",
        ],
        "memory_leak": [
            f"Memory leak in {inc.origin} slowly degraded latency",
            f"{svc} slowdown from a leaking release",
        ],
        "certificate_expiry": [
            f"Expired TLS certificate on {inc.origin}",
            f"{svc} TLS handshake failures",
        ],
        "dns": ["DNS resolution failures", f"Internal DNS outage after {inc.detail}"],
        "lock_contention": [f"Lock contention on {inc.origin}", "Database stalls from lock waits"],
        "retry_storm": [f"Retry storm against {inc.origin}", f"{svc} overloaded by client retries"],
    }[inc.mode.name]
    return titles[int(rng.integers(0, len(titles)))]


def _reviewer_start(ctx: ReviewContext, rng: np.random.Generator, body: ReviewBody) -> datetime:
    """When the reviewer believes the problem began (sometimes wrong, usually too late)."""
    inc = ctx.incident
    detected = inc.detected_at or inc.start
    gap = (detected - inc.start).total_seconds() / 60.0
    if gap > 20 and rng.random() < 0.15:
        body.defects.append("wrong_first_symptom")
        return inc.start + timedelta(minutes=round(gap * float(rng.uniform(0.4, 0.9))))
    jitter = int(rng.integers(-2, 3)) if rng.random() < 0.4 else 0
    return min(detected, inc.start + timedelta(minutes=jitter))


def _table(header: list[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _bullets(items: list[Insight] | list[str]) -> str:
    """A Markdown bullet list."""
    return "\n".join(i.markdown() if isinstance(i, Insight) else f"- {i}" for i in items)


def _prose(ctx: ReviewContext, rng: np.random.Generator, start: datetime) -> dict[str, str]:
    """Summary, Impact and Detection paragraphs."""
    inc = ctx.incident
    cause = inc.mode.cause.format(what=inc.detail, service=inc.origin)
    downstream = [i.service for i in inc.impacts[1:]]
    duration = minutes_text(inc.mitigated - inc.start)
    summary = (
        f"On {when(inc.start)}, {cause}. {inc.origin} degraded"
        + (f" and the problem spread to {', '.join(downstream)}" if downstream else "")
        + f". We {inc.mode.remediation} about {duration} minutes after it began."
    )
    impact = (
        f"For about {duration} minutes p99 latency on {inc.origin} peaked at "
        f"{ctx.peak_latency_ms:.0f} ms and up to {ctx.peak_error_rate * 100:.1f}% of its "
        "requests failed."
    )
    if downstream:
        impact += f" Callers ({', '.join(downstream)}) saw slower responses and some errors."
    detected = inc.detected_at or inc.start
    lag = minutes_text(detected - start)
    if inc.detection_method == "alert" and inc.first_page is not None:
        detection = (
            f"{inc.first_page.alertname} on {inc.first_page.service} paged "
            f"{lag} minutes after the first symptom."
        )
    elif inc.detection_method == "customer":
        detection = (
            f"Customers reported the problem to support {lag} minutes in; no alert had fired."
        )
    else:
        detection = f"An engineer noticed it on a dashboard {lag} minutes in; nothing paged."
    return {"Summary": summary, "Impact": impact, "Detection": detection}


def _signals(ctx: ReviewContext, body: ReviewBody, start: datetime) -> str:
    """An explicit ``## Signals`` block with a few proposals, as some reviewers write."""
    inc = ctx.incident
    proposals: list[dict[str, object]] = [
        {
            "kind": "incident_window",
            "service": inc.origin,
            "start": iso(start),
            "end": iso(inc.mitigated),
        },
        {"kind": "failure_mode_label", "label": inc.mode.name},
    ]
    if any(row[0] == COMPACTION_MATCHER for row in body.alerts):
        proposals.append(
            {
                "kind": "suppression_rule",
                "matchers": COMPACTION_MATCHER,
                "condition": "time_of_day",
                "hours_utc": [1, 2, 3],
            }
        )
    body.signals = proposals
    return "```yaml\n" + yaml.safe_dump(proposals, sort_keys=False, width=100) + "```"


def _scalar(value: object) -> str:
    """A YAML scalar written the way people write front matter (timestamps unquoted)."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, str) and len(value) == 20 and value.endswith("Z") and value[10] == "T":
        return value
    dumped = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return dumped.removesuffix("\n...").strip()


def _front_matter(front: Mapping[str, object]) -> str:
    """The YAML front matter block, one ``key: value`` a line."""
    return "".join(f"{key}: {_scalar(value)}\n" for key, value in front.items())


def render_review(ctx: ReviewContext, seed: int) -> tuple[str, datetime, list[str]]:
    """The Markdown text of one review; also the reviewer's start time and its defects."""
    inc = ctx.incident
    rng = np.random.default_rng([seed, 8, inc.number])
    body = ReviewBody()
    start = _reviewer_start(ctx, rng, body)
    body.timeline = build_timeline(ctx, start, rng)
    build_alert_rows(ctx, rng, body)
    build_insights(ctx, rng, body)
    if rng.random() < 0.1 and ctx.compaction_noise and ctx.related:
        body.defects.append("wrong_correlation")
        first = ctx.related[0].alert.labels
        body.observations.append(
            Insight(
                "technical",
                f"DiskSpaceHigh on batch-01 and {first['alertname']} on "
                f"{first['service']} fired for the same cause.",
                0.4,
                "chat transcript",
            )
        )
    people = [p.handle for p in inc.responders]
    front = {
        "lessonloop": "review/1",
        "incident": inc.key,
        "review_id": None,
        "template": "default",
        "template_version": 1,
        "title": _title(ctx, rng),
        "severity": inc.severity,
        "services": [i.service for i in inc.impacts if i.attenuation >= 0.3],
        "started_at": iso(start),
        "detected_at": iso(inc.detected_at or start),
        "mitigated_at": iso(inc.mitigated),
        "resolved_at": iso(inc.resolved_at or inc.mitigated),
        "detection_method": inc.detection_method,
        "authors": people[:1],
        "participants": people[1:],
        "tags": list(inc.mode.tags),
        "written_at": iso((inc.resolved_at or inc.mitigated) + timedelta(days=2)),
    }
    sections = _prose(ctx, rng, start)
    sections["Timeline"] = _table(
        ["At (UTC)", "Kind", "Marker", "Actor", "Event"],
        [(minute_text(a), k, m, who, e) for a, k, m, who, e in body.timeline],
    )
    decided = inc.acknowledged_at or start
    sections["Decision points"] = _table(
        ["At (UTC)", "Decision", "Alternatives", "Information available", "Outcome"],
        [
            (
                minute_text(decided + (inc.mitigated - decided) * 0.6),
                upper_first(inc.mode.remediation),
                phrasing.alternatives(inc.mode.name),
                "Dashboards, recent change log",
                "Recovery within minutes",
            )
        ],
    )
    sections["Alerts"] = _table(["Alert", "Verdict", "Reason"], body.alerts)
    sections["Contributing factors"] = _bullets(
        [
            upper_first(inc.mode.cause.format(what=inc.detail, service=inc.origin)) + ".",
            f"No alert on {inc.mode.missing_metric}.",
        ]
    )
    sections["Human factors"] = _bullets(body.human_factors)
    sections["What went well"] = _bullets([phrasing.went_well(rng)])
    sections["What went wrong"] = _bullets(
        [f"Detection took {minutes_text((inc.detected_at or start) - inc.start)} minutes."]
    )
    sections["Where we got lucky"] = _bullets([phrasing.got_lucky(rng)])
    sections["Observations"] = _bullets(body.observations)
    sections["Recommendations"] = _bullets(
        body.recommendations or [Insight("process", "Keep the runbook current.")]
    )
    sections["Action items"] = _table(
        ["Title", "Type", "Owner", "Due", "Priority", "Status", "Expected effect"], body.actions
    )
    if rng.random() < 0.2:
        sections["Signals"] = _signals(ctx, body, start)
        body.defects.append("has_signals_block")
    if rng.random() < 0.15:
        dropped = OPTIONAL_SECTIONS[int(rng.integers(0, len(OPTIONAL_SECTIONS)))]
        del sections[dropped]
        body.defects.append(f"missing_section:{dropped}")
    text = f"---\n{_front_matter(front)}---\n\n# {front['title']}\n"
    for name, content in sections.items():
        text += f"\n## {name}\n\n{content}\n"
    return text, start, body.defects


def write_review(directory: Path, ctx: ReviewContext, seed: int) -> WrittenReview:
    """Write reviews/<incident-key>.md."""
    text, start, defects = render_review(ctx, seed)
    path = directory / f"{ctx.incident.key}.md"
    path.write_text(text, encoding="utf-8")
    return WrittenReview(path, ctx.incident.key, start, defects)
