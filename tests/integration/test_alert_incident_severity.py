"""Where every page is an incident (PagerDuty), only the severe ones are what alerts are judged
by: --incident-severity (both engines)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.factories import invoke_cli
from tests.integration.test_alert_model import T0, seed

from lessonloop.domain import IncidentCreate
from lessonloop.domain.enums import Severity
from lessonloop.errors import InputError
from lessonloop.services import registry
from lessonloop.services.alert_model import (
    alert_history,
    alert_noise_report,
    learn_alert_policy,
    parse_incident_severity,
    said_at,
)
from lessonloop.storage import incidents


def _every_page_is_an_incident(ws) -> None:
    """Seed without reviewers' verdicts, then a SEV4 'incident' for each nightly disk page."""
    seed(ws, verdicts=False)
    with ws.transaction() as session:
        for day in range(70):
            start = T0 + dt.timedelta(days=day, hours=2)
            incidents.create(
                IncidentCreate(
                    key=f"PD-{day}",
                    title="DiskSpaceHigh on batch",
                    severity=Severity.SEV4,
                    services=["batch"],
                    started_at=start,
                    resolved_at=start + dt.timedelta(minutes=30),
                ),
                session=session,
                actor="t",
            )


def _disk(report) -> tuple[int, int]:
    (row,) = [r for r in report.families if r.alertname == "DiskSpaceHigh"]
    return row.linked, row.pages


def test_pages_that_are_incidents_hide_the_noise_until_only_severe_incidents_count(
    workspace,
) -> None:
    _every_page_is_an_incident(workspace)
    every = alert_noise_report(workspace)
    assert _disk(every) == (70, 70)  # each disk page "belonged to an incident": itself
    plain = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    assert not [s for s in plain.policy["suppressions"] if s["alertname"] == "DiskSpaceHigh"]

    severe = learn_alert_policy(
        workspace, holdout_days=21, attribution_top=0, incident_severity=Severity.SEV3
    )
    suppressed = [s["alertname"] for s in severe.policy["suppressions"]]
    assert suppressed == ["DiskSpaceHigh"]
    assert severe.lost_incidents == [] and severe.candidate.incident_coverage == 1.0
    version = registry.show_version(workspace, severe.candidate_id).version
    assert version.config["incident_severity"] == "SEV3"
    evaluation = registry.show_version(workspace, severe.candidate_id).evaluations[-1]
    assert "only SEV3 incidents or worse count" in evaluation.notes
    # the noise report counts incidents as the version was trained to, unless told otherwise
    as_trained = alert_noise_report(workspace, version_id=severe.candidate_id)
    assert as_trained.incident_severity == Severity.SEV3 and _disk(as_trained) == (0, 0)
    assert _disk(alert_noise_report(workspace, incident_severity=Severity.SEV4)) == (70, 70)


def test_severity_is_given_as_people_write_it() -> None:
    assert parse_incident_severity("sev2") == Severity.SEV2
    assert parse_incident_severity(" 3 ") == Severity.SEV3
    assert parse_incident_severity(None) is None
    with pytest.raises(InputError, match="not a severity: 'P1'") as caught:
        parse_incident_severity("P1")
    assert caught.value.field == "--incident-severity"


def test_the_options_from_the_command_line(workspace) -> None:
    _every_page_is_an_incident(workspace)
    learned = invoke_cli(
        workspace,
        "learn",
        "--task",
        "alert-correlation",
        "--holdout-days",
        "21",
        "--attribution-top",
        "0",
        "--incident-severity",
        "SEV3",
        "--json",
        actor="dan",
    )
    assert learned.exit_code == 0, learned.output
    candidate = json.loads(learned.output)["candidate"]
    shown = invoke_cli(
        workspace, "alerts", "noise", "--version", str(candidate), "--json", actor="dan"
    )
    assert json.loads(shown.output)["incident_severity"] == "SEV3"
    refused = invoke_cli(workspace, "learn", "--incident-severity", "SEV3", actor="dan")
    assert refused.exit_code == 2 and "--incident-severity does not apply" in refused.output
    bad = invoke_cli(workspace, "alerts", "noise", "--incident-severity", "high", actor="dan")
    assert bad.exit_code == 2 and "not a severity: 'high'" in bad.output


def test_what_reviews_of_left_out_incidents_say_still_counts_from_their_end(workspace) -> None:
    _every_page_is_an_incident(workspace)
    severe = alert_history(workspace, incident_severity=Severity.SEV3)
    assert all(not i.key.startswith("PD-") for i in severe.incidents)
    known = said_at(severe)  # a noise verdict in the review of page PD-5 is known when it ended
    assert known["PD-5"] == T0 + dt.timedelta(days=5, hours=2, minutes=30)
    assert known == said_at(alert_history(workspace))


def test_a_plain_learn_counts_incidents_as_the_champion_does(workspace) -> None:
    _every_page_is_an_incident(workspace)
    severe = learn_alert_policy(
        workspace, holdout_days=21, attribution_top=0, incident_severity=Severity.SEV3
    )
    workspace.actor = "ava"
    registry.approve_version(workspace, severe.candidate_id, reason="quiet nights")
    registry.promote_version(workspace, severe.candidate_id)
    workspace.actor = "tester"
    plain = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    version = registry.show_version(workspace, plain.candidate_id).version
    assert version.config["incident_severity"] == "SEV3"
    evaluation = registry.show_version(workspace, plain.candidate_id).evaluations[-1]
    assert f"as for champion {severe.candidate_id}" in evaluation.notes
    every = learn_alert_policy(
        workspace, holdout_days=21, attribution_top=0, incident_severity=Severity.SEV5
    )
    assert (
        registry.show_version(workspace, every.candidate_id).version.config["incident_severity"]
        == "SEV5"
    )
