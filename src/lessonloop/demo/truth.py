"""truth.json: what really happened, for checks, tests and the report's ground-truth column."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from lessonloop.demo.attribution import AlertTruth
from lessonloop.demo.incidents import Incident
from lessonloop.demo.reviews import WrittenReview
from lessonloop.demo.series import Baseline
from lessonloop.demo.timegrid import TimeGrid, iso


def _incident_truth(
    incident: Incident, review: WrittenReview, pagerduty_id: str | None, grid: TimeGrid
) -> dict[str, object]:
    """Ground truth for one incident."""
    page = incident.first_page
    delay = None if page is None else round((page.at - incident.start).total_seconds() / 60.0, 1)
    return {
        "incident_key": incident.key,
        "quarter": grid.quarter_label(incident.quarter),
        "failure_mode": incident.mode.name,
        "origin_service": incident.origin,
        "cause_detail": incident.detail,
        "true_start": iso(incident.start),
        "true_end": iso(max(incident.service_end(i) for i in incident.impacts)),
        "services": [
            {
                "service": i.service,
                "hop": i.hop,
                "attenuation": i.attenuation,
                "true_start": iso(incident.service_start(i)),
                "true_end": iso(incident.service_end(i)),
            }
            for i in incident.impacts
        ],
        "static_first_page": None
        if page is None
        else {"alertname": page.alertname, "service": page.service, "at": iso(page.at)},
        "static_detection_delay_minutes": delay,
        "customer_report_at": None if incident.customer_at is None else iso(incident.customer_at),
        "human_notice_at": None if incident.human_at is None else iso(incident.human_at),
        "detected_at": iso(incident.detected_at or incident.start),
        "detection_method": incident.detection_method,
        "acknowledged_at": iso(incident.acknowledged_at or incident.start),
        "mitigated_at": iso(incident.mitigated),
        "resolved_at": iso(incident.resolved_at or incident.mitigated),
        "severity": incident.severity,
        "pagerduty_incident_id": pagerduty_id,
        "review_file": f"reviews/{review.path.name}",
        "review_first_symptom": iso(review.reviewer_first_symptom),
        "review_defects": review.defects,
    }


def _alert_truth(truth: AlertTruth) -> dict[str, object]:
    """Ground truth for one alert episode."""
    alert = truth.alert
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.labels["alertname"],
        "service": alert.labels["service"],
        "host": alert.labels["host"],
        "starts_at": iso(alert.starts_at),
        "ends_at": None if alert.ends_at is None else iso(alert.ends_at),
        "incident_key": truth.incident_key,
        "role": truth.role,
        "is_noise": truth.is_noise,
        "noise_cause": truth.noise_cause,
    }


def static_baseline(
    incidents: list[Incident], truths: list[AlertTruth], grid: TimeGrid
) -> list[dict[str, object]]:
    """Per quarter: how the static setup did (detection delay, recall, false alerts a day)."""
    rows = []
    for quarter in range(grid.quarters):
        mine = [i for i in incidents if i.quarter == quarter]
        delays = [
            (i.first_page.at - i.start).total_seconds() / 60.0
            for i in mine
            if i.first_page is not None
        ]
        noise = [
            t
            for t in truths
            if t.is_noise and min(grid.quarters - 1, grid.quarter_of(t.alert.starts_at)) == quarter
        ]
        rows.append(
            {
                "quarter": grid.quarter_label(quarter),
                "incidents": len(mine),
                "detected_by_static_alert": len(delays),
                "static_recall": round(len(delays) / len(mine), 3) if mine else None,
                "median_static_delay_minutes": round(statistics.median(delays), 1)
                if delays
                else None,
                "false_alerts": len(noise),
                "false_alerts_per_day": round(len(noise) / 91.0, 3),
            }
        )
    return rows


def write_truth(
    path: Path,
    *,
    seed: int,
    grid: TimeGrid,
    incidents: list[Incident],
    reviews: dict[str, WrittenReview],
    pagerduty_ids: dict[str, str],
    truths: list[AlertTruth],
    baseline: Baseline,
) -> None:
    """Write truth.json (never read by the loop except for the report's ground-truth column)."""
    doc = {
        "generator": {
            "name": "lessonloop.demo",
            "format": 1,
            "seed": seed,
            "quarters": grid.quarters,
            "step_minutes": grid.step_minutes,
            "start": iso(grid.at(0)),
            "end": iso(grid.end),
        },
        "quarters": [
            {
                "label": grid.quarter_label(q),
                "start": iso(grid.quarter_start(q)),
                "end": iso(grid.quarter_start(q + 1)),
            }
            for q in range(grid.quarters)
        ],
        "static_baseline": static_baseline(incidents, truths, grid),
        "incidents": [
            _incident_truth(i, reviews[i.key], pagerduty_ids.get(i.key), grid) for i in incidents
        ],
        "alerts": [_alert_truth(t) for t in truths],
        "deploys": [
            {
                "service": d.service,
                "at": iso(d.at),
                "latency_factor": d.latency_factor,
                "cpu_shift": d.cpu_shift,
            }
            for d in baseline.deploys
        ],
        "compaction_windows": [
            {
                "service": c.service,
                "start": iso(c.start),
                "end": iso(c.end),
                "peak_percent": c.peak_percent,
            }
            for c in baseline.compactions
        ],
    }
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
