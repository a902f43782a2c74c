"""The alert noise and correlation model end to end: learn, gate, replay, ship (both engines)."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess

import pytest
import yaml
from tests.factories import invoke_cli
from tests.unit.registry.helpers import require_tool

from lessonloop.domain import IncidentCreate, ServiceCreate
from lessonloop.domain.alerts import AlertCreate
from lessonloop.domain.enums import AlertVerdict, ModelTask
from lessonloop.domain.signals import (
    AlertVerdictPayload,
    CorrelationRule,
    Matcher,
    SignalCreate,
    SignalProvenance,
    SuppressionRule,
)
from lessonloop.errors import InputError, NotFound
from lessonloop.services import registry, signals
from lessonloop.services.alert_model import alert_noise_report, learn_alert_policy
from lessonloop.storage import alerts as alert_store
from lessonloop.storage import incidents, services
from lessonloop.storage import signals as signal_store

T0 = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)
DAYS = 70


def _alert(name: str, service: str, at: dt.datetime, minutes: float = 30) -> AlertCreate:
    return AlertCreate(
        fingerprint=f"{name}-{service}-{at:%Y%m%d%H%M}",
        name=name,
        labels={"alertname": name, "service": service, "severity": "page"},
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=minutes),
    )


def _accept(session, payload, incident_key: str) -> int:
    made, _ = signal_store.create_proposal(
        SignalCreate(
            payload=payload,
            provenance=SignalProvenance(incident_key=incident_key, extractor="test"),
        ),
        session=session,
        actor="t",
    )
    signal_store.accept(made.id, session=session, actor="t")
    return made.id


def seed(ws, *, verdicts: bool = True) -> None:
    """Ten weeks: a disk alert every night at 02:00 that no incident followed; a weekly
    incident on api, paged by HighErrorRate/api and, two minutes later, its symptom
    HighLatency/web; a reviewer's noise verdict and correlation rule."""
    with ws.transaction() as session:
        for name in ("api", "web", "batch"):
            services.create(ServiceCreate(name=name), session=session, actor="t")
        for day in range(DAYS):
            alert_store.upsert(
                _alert("DiskSpaceHigh", "batch", T0 + dt.timedelta(days=day, hours=2)),
                session=session,
                actor="t",
            )
            if day % 7 != 3:
                continue
            start = T0 + dt.timedelta(days=day, hours=14)
            incidents.create(
                IncidentCreate(
                    key=f"INC-{day}",
                    title="API errors",
                    services=["api", "web"],
                    started_at=start,
                    resolved_at=start + dt.timedelta(hours=2),
                ),
                session=session,
                actor="t",
            )
            alert_store.upsert(
                _alert("HighErrorRate", "api", start + dt.timedelta(minutes=5)),
                session=session,
                actor="t",
            )
            alert_store.upsert(  # the symptom clears with its cause
                _alert("HighLatency", "web", start + dt.timedelta(minutes=7), 25),
                session=session,
                actor="t",
            )
        if verdicts:
            _accept(
                session,
                AlertVerdictPayload(
                    matchers=[Matcher(label="alertname", value="DiskSpaceHigh")],
                    verdict=AlertVerdict.NOISE,
                    reason="compaction fills the disk every night",
                ),
                "INC-3",
            )
            _accept(
                session,
                CorrelationRule(
                    source=[Matcher(label="alertname", value="HighErrorRate")],
                    target=[Matcher(label="alertname", value="HighLatency")],
                ),
                "INC-3",
            )


def test_learning_pages_less_for_nothing_and_keeps_every_incident(workspace) -> None:
    seed(workspace)
    result = learn_alert_policy(workspace, holdout_days=21)
    assert result.baseline == "every alert pages"
    assert result.decision == "better" and result.lost_incidents == []
    c, b = result.candidate, result.incumbent
    assert c.noise_pages_per_day == 0 and b.noise_pages_per_day == pytest.approx(1.0, abs=0.05)
    assert c.incident_coverage == b.incident_coverage == 1.0
    assert c.pages_per_incident == 1.0 and b.pages_per_incident == 2.0  # the symptom is inhibited
    suppressed = [(s["alertname"], s["hours"]) for s in result.policy["suppressions"]]
    assert suppressed == [("DiskSpaceHigh", [0, 1, 2, 3])]
    version = registry.show_version(workspace, result.candidate_id).version
    assert version.task == ModelTask.ALERT_CORRELATION and version.status.value == "candidate"
    assert version.signal_set_version == result.signal_set_version
    # the reviewer's rule silences HighLatency on any service: two approvers, like tier 1
    assert version.config["tier1"] is True and "web" in version.config["services"]
    evaluation = registry.show_version(workspace, result.candidate_id).evaluations[-1]
    assert evaluation.metrics["noise_pages_per_day"].value == 0
    assert evaluation.decision.value == "better"
    groups = {a["group"]: a for a in result.attribution}
    assert {"every alert_verdict signal", "every correlation_rule signal"} <= set(groups)
    # without the correlation rule the symptom is still inhibited by the learned rule
    assert groups["every correlation_rule signal"]["incidents_kept_paging"] == 0


def test_the_cli_runs_the_gate_replays_and_ships_what_was_tested(workspace, tmp_path) -> None:
    seed(workspace)
    refused = invoke_cli(
        workspace, "learn", "--task", "alert-correlation", "--profile", "standard", actor="t"
    )
    assert (
        refused.exit_code == 2
        and "--profile does not apply" in refused.output
        and "field '--profile'" in refused.output
    )
    ran = invoke_cli(
        workspace,
        "learn",
        "--task",
        "alert-correlation",
        "--holdout-days",
        "21",
        "--json",
        actor="t",
    )
    assert ran.exit_code == 0, ran.output
    out = json.loads(ran.output)
    assert out["task"] == "alert-correlation" and out["decision"] == "better"
    assert out["candidate_metrics"]["noise_pages_per_day"] == 0
    candidate = out["candidate"]
    assert (
        invoke_cli(
            workspace, "models", "approve", str(candidate), "--reason", "quiet nights", actor="ana"
        ).exit_code
        == 0
    )
    early = invoke_cli(workspace, "models", "promote", str(candidate), actor="ana")
    assert early.exit_code != 0  # a rule that can silence any service needs two approvers
    assert (
        invoke_cli(
            workspace, "models", "approve", str(candidate), "--reason", "agreed", actor="ben"
        ).exit_code
        == 0
    )
    assert invoke_cli(workspace, "models", "promote", str(candidate), actor="ana").exit_code == 0
    report = invoke_cli(workspace, "alerts", "noise", "--json", actor="t")
    assert report.exit_code == 0, report.output
    found = json.loads(report.output)
    assert found["policy"] == f"champion {candidate}"
    assert found["includes_training_history"] is True and found["trained_until"]
    disk = next(f for f in found["families"] if f["alertname"] == "DiskSpaceHigh")
    assert (disk["firings"], disk["pages"], disk["suppressed"]) == (DAYS, 0, DAYS)
    assert found["period"]["incidents_covered"] == found["period"]["incidents"] == 10
    exported = invoke_cli(workspace, "export-rules", "alertmanager", str(candidate), actor="t")
    assert exported.exit_code == 0, exported.output
    config = yaml.safe_load(exported.output)
    assert config["route"]["routes"][0]["matchers"] == [
        'alertname="DiskSpaceHigh"',
        'service="batch"',
    ]
    assert config["time_intervals"][0]["time_intervals"][0]["times"] == [
        {"start_time": "00:00", "end_time": "04:00"}
    ]
    assert {
        "source_matchers": ['alertname="HighErrorRate"'],
        "target_matchers": ['alertname="HighLatency"'],
    } in config["inhibit_rules"]
    assert "belonged to an incident 0 times" in exported.output
    amtool = require_tool("amtool")
    path = tmp_path / "alertmanager.yml"
    path.write_text(exported.output)
    check = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # the next candidate is compared with the champion, not with "every alert pages"
    again = learn_alert_policy(workspace, holdout_days=21)
    assert again.baseline == f"champion {candidate}"
    assert again.decision == "not distinguishable"
    compared = invoke_cli(
        workspace, "models", "compare", str(candidate), str(again.candidate_id), actor="t"
    )
    assert compared.exit_code == 0, compared.output
    assert "Alerts the two policies decide differently (0)" in compared.output


def test_without_verdicts_the_history_alone_decides(workspace) -> None:
    from lessonloop.services.alert_model import compare_alert_decisions

    seed(workspace, verdicts=False)
    result = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    assert [s["alertname"] for s in result.policy["suppressions"]] == ["DiskSpaceHigh"]
    assert result.attribution == []
    # a stricter policy suppresses nothing: the two differ on every nightly disk alert
    strict = learn_alert_policy(
        workspace, holdout_days=21, attribution_top=0, suppress_below=0.0001
    )
    differ = compare_alert_decisions(workspace, result.candidate_id, strict.candidate_id)
    assert {d.alertname for d in differ} == {"DiskSpaceHigh"} and len(differ) == DAYS
    assert differ[0].first.startswith("suppressed") and differ[0].second == "pages"
    shown = invoke_cli(
        workspace,
        "models",
        "compare",
        str(result.candidate_id),
        str(strict.candidate_id),
        "--limit",
        "5",
        actor="t",
    )
    assert shown.exit_code == 0, shown.output
    assert f"({DAYS}, the newest 5 shown: --limit)" in " ".join(shown.output.split())
    assert len(re.findall(r"^│ 20\d\d-", shown.output, flags=re.M)) == 5  # one per row
    args = ("models", "compare", str(result.candidate_id), str(strict.candidate_id))
    as_json = invoke_cli(workspace, *args, "--limit", "5", "--json", actor="t")
    assert as_json.exit_code == 0, as_json.output
    alerts = json.loads(as_json.stdout)["alerts"]  # every one: --limit is for the table
    assert len(alerts) == DAYS and alerts[0]["at"] == differ[0].at.isoformat()
    assert (alerts[0]["alertname"], alerts[0]["second"]) == ("DiskSpaceHigh", "pages")


def test_what_reviewers_said_about_holdout_incidents_is_not_learned(workspace) -> None:
    seed(workspace, verdicts=False)
    plain = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    with workspace.transaction() as session:
        late = _accept(
            session,
            AlertVerdictPayload(
                matchers=[Matcher(label="alertname", value="HighErrorRate")],
                verdict=AlertVerdict.NOISE,
            ),
            "INC-66",  # started inside the 21-day holdout
        )
    again = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    assert again.policy["suppressions"] == plain.policy["suppressions"]
    version = registry.show_version(workspace, again.candidate_id)
    assert late not in version.version.config["signals_used"]
    assert (
        "1 alert statements about later incidents held back"
        in version.evaluations[-1].split["training_statements"]
    )


def test_maintenance_and_expired_suppressions_are_read_as_the_export_renders_them(
    workspace,
) -> None:
    seed(workspace, verdicts=False)
    disk = [Matcher(label="alertname", value="DiskSpaceHigh")]
    with workspace.transaction() as session:
        maintenance = _accept(
            session, SuppressionRule(matchers=disk, condition="maintenance"), "INC-3"
        )
        _accept(
            session,
            SuppressionRule(
                matchers=disk,
                condition="while_firing",
                while_firing=[Matcher(label="alertname", value="Compaction")],
                expires_at=T0 + dt.timedelta(days=1),
            ),
            "INC-10",
        )
    result = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    rules = [(r["source"], r["signal_id"]) for r in result.policy["inhibitions"]]
    assert (
        [{"label": "alertname", "op": "=", "value": "LessonloopMaintenance"}],
        maintenance,
    ) in rules
    assert not any(r[0][0]["value"] == "Compaction" for r in rules)  # expired


def test_a_holdout_without_incidents_gets_no_verdict(workspace) -> None:
    seed(workspace)
    with workspace.transaction() as session:
        for day in range(DAYS, DAYS + 30):  # a quiet month: the disk alert only
            alert_store.upsert(
                _alert("DiskSpaceHigh", "batch", T0 + dt.timedelta(days=day, hours=2)),
                session=session,
                actor="t",
            )
    result = learn_alert_policy(workspace, holdout_days=25, attribution_top=0)
    assert result.candidate.incidents == []
    assert result.decision == "not distinguishable" and "no incident" in result.reason


def test_bad_requests_name_the_field_and_register_nothing(workspace, tmp_path) -> None:
    with pytest.raises(InputError) as empty:
        learn_alert_policy(workspace)
    assert empty.value.field == "alerts"
    seed(workspace)
    with pytest.raises(InputError) as long:
        learn_alert_policy(workspace, holdout_days=400)
    assert long.value.field == "holdout_days" and "0 alerts to learn from" in str(long.value)
    assert signals.latest_set_version(workspace) is None  # refused before anything is written
    for bad in (0.0, float("nan"), float("inf")):
        with pytest.raises(InputError):
            learn_alert_policy(workspace, holdout_days=bad)
    with pytest.raises(InputError) as loss:
        learn_alert_policy(workspace, suppress_below=1.5)
    assert loss.value.field == "suppress_below"
    assert registry.list_versions(workspace, task=ModelTask.ALERT_CORRELATION) == []
    with pytest.raises(NotFound, match="unknown model version 99"):
        alert_noise_report(workspace, version_id=99)
    with pytest.raises(InputError) as order:
        alert_noise_report(workspace, since=T0 + dt.timedelta(days=2), until=T0)
    assert order.value.field == "until"
    whole = alert_noise_report(workspace).period
    wider = alert_noise_report(
        workspace, since=T0 - dt.timedelta(days=300), until=T0 + dt.timedelta(days=900)
    ).period
    assert whole is not None and wider is not None  # days without stored alerts do not count
    assert wider.noise_pages_per_day == whole.noise_pages_per_day > 0.9
    quiet = invoke_cli(workspace, "alerts", "noise", "--since", "2030-01-01", actor="t")
    assert quiet.exit_code == 0 and "no alerts in that period" in quiet.output
    assert "plot" not in quiet.output
    plot = tmp_path / "quiet.png"
    args = ("alerts", "noise", "--since", "2030-01-01", "--png", str(plot))
    unplotted = invoke_cli(workspace, *args, actor="t")
    assert unplotted.exit_code == 0
    assert "no alerts in that period; no plot written" in unplotted.output
    assert not plot.exists()
    wrong = invoke_cli(workspace, "alerts", "noise", "--since", "yesterday", actor="t")
    assert wrong.exit_code == 2 and "not a date or time" in wrong.output


def test_the_noise_report_plots_every_alert_against_the_policy(workspace, tmp_path) -> None:
    seed(workspace)
    report = alert_noise_report(workspace)
    assert report.every_alert is not None and report.period is not None
    assert report.every_alert.noise_pages == report.period.noise_pages  # no policy yet
    plot = tmp_path / "plots" / "noise.png"
    made = invoke_cli(workspace, "alerts", "noise", "--png", str(plot), actor="t")
    assert made.exit_code == 0, made.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    refused = invoke_cli(workspace, "alerts", "noise", "--png", str(tmp_path / "n.txt"), actor="t")
    assert refused.exit_code == 2 and "--png" in refused.output
    assert not (tmp_path / "n.txt").exists()


def test_pages_count_under_the_policy_in_force_when_each_alert_fired(workspace) -> None:
    from lessonloop.domain.actions import ExpectedEffect
    from lessonloop.domain.common import utc_now
    from lessonloop.services.alert_model import history_in, pages_in_force
    from lessonloop.services.outcomes import _measure

    seed(workspace)
    result = learn_alert_policy(workspace, holdout_days=21, attribution_top=0)
    for approver in ("ana", "ben"):  # the reviewer's rule can silence any service
        registry.approve_version(
            workspace, result.candidate_id, approver=approver, reason="quiet nights"
        )
    registry.promote_version(workspace, result.candidate_id)
    tomorrow = utc_now().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    with workspace.transaction() as session:
        for day in range(10):  # the nights after the promotion
            alert_store.upsert(
                _alert("DiskSpaceHigh", "batch", tomorrow + dt.timedelta(days=day, hours=2)),
                session=session,
                actor="t",
            )
    with workspace.transaction() as session:
        history = history_in(session)
        kept = pages_in_force(session, history)
        disk = [
            keep
            for f, keep in zip(history.firings, kept, strict=True)
            if f.labels["alertname"] == "DiskSpaceHigh"
        ]
        assert disk == [True] * DAYS + [False] * 10  # paged before the promotion, not after
        effect = ExpectedEffect(metric="noise_pages_per_day", direction="down", service="batch")
        before = _measure(effect, "batch", T0 + dt.timedelta(days=40), 10, session)
        after = _measure(effect, "batch", tomorrow, 10, session)
    assert before.tolist() == [1.0] * 10 and after.tolist() == [0.0] * 10


def test_a_version_rolled_back_to_is_in_force_in_each_of_its_periods(workspace, monkeypatch):
    from lessonloop.services import alert_model
    from lessonloop.storage import models as model_store

    seed(workspace)
    first = learn_alert_policy(workspace, holdout_days=21, attribution_top=0).candidate_id
    second = learn_alert_policy(workspace, holdout_days=21, attribution_top=0).candidate_id
    learned = alert_model.policy_of_version
    monkeypatch.setattr(  # the second version pages every alert
        alert_model,
        "policy_of_version",
        lambda v: alert_model.AlertPolicy() if v.id == second else learned(v),
    )
    day = [T0 + dt.timedelta(days=d) for d in (10, 20, 30)]
    # first promoted on day 10, second on day 20, rolled back to first on day 30
    periods = {first: [(day[0], 1), (day[2], 3)], second: [(day[1], 2)]}
    monkeypatch.setattr(
        alert_model, "became_champion", lambda vid, *, session: periods.get(vid, [])
    )
    with workspace.transaction() as session:
        assert {v.id for v in model_store.list_versions(session=session)} >= {first, second}
        history = alert_model.history_in(session)
        kept = alert_model.pages_in_force(session, history)
    disk = {
        f.start.date(): keep
        for f, keep in zip(history.firings, kept, strict=True)
        if f.labels["alertname"] == "DiskSpaceHigh"
    }
    assert disk[(T0 + dt.timedelta(days=5)).date()] is True  # before any promotion
    assert disk[(T0 + dt.timedelta(days=15)).date()] is False  # the first version
    assert disk[(T0 + dt.timedelta(days=25)).date()] is True  # the second, which keeps it
    assert disk[(T0 + dt.timedelta(days=35)).date()] is False  # the first again
    # for real, a promotion and a rollback within one second: the rollback wins
    monkeypatch.undo()
    monkeypatch.setattr(
        alert_model,
        "policy_of_version",
        lambda v: alert_model.AlertPolicy() if v.id == second else learned(v),
    )
    from lessonloop.domain.common import utc_now

    for version in (first, second):
        for approver in ("ana", "ben"):
            registry.approve_version(workspace, version, approver=approver, reason="ok")
        registry.promote_version(workspace, version)
    registry.rollback_task(workspace, ModelTask.ALERT_CORRELATION, reason="too loud")
    later = utc_now() + dt.timedelta(days=1)
    with workspace.transaction() as session:
        alert_store.upsert(
            _alert("DiskSpaceHigh", "batch", later.replace(hour=2)), session=session, actor="t"
        )
    with workspace.transaction() as session:
        history = alert_model.history_in(session)
        kept = alert_model.pages_in_force(session, history)
    assert kept[-1] is False  # the first version, rolled back to, is in force


def test_what_the_holdout_holds_never_reaches_training() -> None:
    from lessonloop.alerting import Firing, IncidentSpan, link_alerts
    from lessonloop.domain.enums import SignalKind
    from lessonloop.domain.signals import SignalRead
    from lessonloop.services.alert_model import AlertHistory, statements_before, training_links

    cut = T0 + dt.timedelta(days=10)
    near = Firing(cut - dt.timedelta(minutes=5), None, {"alertname": "X", "service": "api"})
    spans = [
        IncidentSpan("INC-TRAIN", cut - dt.timedelta(hours=1), None, frozenset({"api"})),
        IncidentSpan("INC-HOLD", cut + dt.timedelta(minutes=10), None, frozenset({"api"})),
        # started before the cut, still open at it: what its review says comes after the cut
        IncidentSpan(
            "INC-OPEN",
            cut - dt.timedelta(minutes=2),
            cut + dt.timedelta(hours=4),
            frozenset({"db"}),
        ),
    ]
    history = AlertHistory([near], link_alerts([near], spans), spans)
    assert history.links == ["INC-HOLD"]  # the nearest incident, which is in the holdout
    firings, links = training_links(history, cut)
    assert firings == [near] and links == ["INC-TRAIN"]  # as it was known at the cut

    def said(key: str, sid: int) -> SignalCreate:
        made = SignalCreate(
            payload=AlertVerdictPayload(
                matchers=[Matcher(label="alertname", value="X")], verdict=AlertVerdict.NOISE
            ),
            provenance=SignalProvenance(incident_key=key, extractor="test"),
        )
        return SignalRead(
            **made.model_dump(),
            id=sid,
            status="accepted",
            content_hash=str(sid),
            created_at=cut - dt.timedelta(days=30),
        )

    accepted = {
        SignalKind.ALERT_VERDICT: [said("INC-TRAIN", 1), said("INC-OPEN", 2), said("INC-HOLD", 3)]
    }
    known = statements_before(accepted, history, cut)
    # INC-TRAIN is open-ended: known six hours after it started, past the cut too
    assert [s.id for s in known[SignalKind.ALERT_VERDICT]] == []
    later = statements_before(accepted, history, cut + dt.timedelta(hours=6))
    assert [s.id for s in later[SignalKind.ALERT_VERDICT]] == [1, 2]
