"""Outcome checks: verified, not verified (no effect or recurrence) and too early, stored."""

from __future__ import annotations

import datetime as dt

from lessonloop.domain import ActionItemCreate, IncidentCreate, ReviewCreate, ServiceCreate
from lessonloop.domain.actions import ExpectedEffect
from lessonloop.services.outcomes import check_outcomes
from lessonloop.storage import actions, incidents, reviews, services
from lessonloop.storage.tables import ActionItemRow

T0 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
SHIP = T0 + dt.timedelta(days=30)
NOW = SHIP + dt.timedelta(days=40)


def _incident(
    session, key: str, start: dt.datetime, detect_minutes: float, tags: list[str]
) -> None:
    incidents.create(
        IncidentCreate(
            key=key,
            title=f"incident {key}",
            services=["api"],
            started_at=start,
            detected_at=start + dt.timedelta(minutes=detect_minutes),
            tags=tags,
        ),
        session=session,
        actor="t",
    )


def _seed(workspace) -> dict[str, int]:
    with workspace.transaction() as session:
        services.create(ServiceCreate(name="api"), session=session, actor="t")
        _incident(session, "INC-1", T0, 40, ["pool-exhaustion"])
        for day in range(6):  # before shipping: slow detection
            _incident(
                session, f"B-{day}", SHIP - dt.timedelta(days=20 - 3 * day), 35 + day, ["disk"]
            )
        for day in range(6):  # after shipping: fast detection
            _incident(
                session, f"A-{day}", SHIP + dt.timedelta(days=2 + 3 * day), 4 + day % 2, ["disk"]
            )
        _incident(session, "A-again", SHIP + dt.timedelta(days=25), 6, ["pool-exhaustion"])
        effect = ExpectedEffect(metric="mttd", direction="down", service="api")
        items = [
            ActionItemCreate(title="Alert on pool saturation", expected_effect=effect),
            ActionItemCreate(
                title="Stop pool exhaustion",
                expected_effect=ExpectedEffect(metric="incidents", direction="down", service="api"),
            ),
            ActionItemCreate(title="Shipped last week", expected_effect=effect),
            ActionItemCreate(title="Not shipped", expected_effect=effect),
            ActionItemCreate(title="No expected effect"),
        ]
        reviews.save(
            ReviewCreate(incident_key="INC-1", title="pool", action_items=items),
            session=session,
            actor="t",
        )
        ids = {a.title: a.id for a in actions.list_actions(session=session)}
        session.get(ActionItemRow, ids["Alert on pool saturation"]).shipped_at = SHIP
        session.get(ActionItemRow, ids["Stop pool exhaustion"]).shipped_at = SHIP
        session.get(ActionItemRow, ids["Shipped last week"]).shipped_at = NOW - dt.timedelta(days=7)
    return ids


def test_outcomes_are_judged_and_stored_with_evidence(workspace) -> None:
    ids = _seed(workspace)
    results = {r.title: r for r in check_outcomes(workspace, now=NOW)}
    assert "No expected effect" not in results
    saturation = results["Alert on pool saturation"]
    # The faster detection is real, but the same failure mode came back on the same service.
    assert saturation.verdict == "not verified"
    assert saturation.evidence["recurrences"] == ["A-again"]
    assert saturation.evidence["difference"]["high"] < 0
    assert results["Shipped last week"].verdict == "too early"
    assert results["Not shipped"].verdict == "too early"
    with workspace.transaction() as session:
        stored = actions.get_action(ids["Alert on pool saturation"], session=session)
    assert stored.outcome == "not verified"
    assert stored.outcome_evidence["units_after"] == 7


def test_verified_when_the_metric_moves_and_nothing_recurs(workspace) -> None:
    ids = _seed(workspace)
    with workspace.transaction() as session:
        incidents.update("A-again", _no_tags(), session=session, actor="t")
    results = {r.action_id: r for r in check_outcomes(workspace, now=NOW)}
    assert results[ids["Alert on pool saturation"]].verdict == "verified"
    # Incident counts per day did not distinguishably fall: not verified.
    assert results[ids["Stop pool exhaustion"]].verdict == "not verified"


def _no_tags():
    from lessonloop.domain import IncidentUpdate

    return IncidentUpdate(tags=["disk"])


def test_a_person_records_shipping_and_per_day_metric_names_are_understood(workspace) -> None:
    from typer.testing import CliRunner

    from lessonloop.cli.app import app

    ids = _seed(workspace)
    with workspace.transaction() as session:
        reviews.save(
            ReviewCreate(
                incident_key="B-0",
                title="noisy",
                action_items=[
                    ActionItemCreate(
                        title="Quiet the disk alert",
                        expected_effect=ExpectedEffect(
                            metric="false_alerts_per_day", direction="down", service="api"
                        ),
                    )
                ],
            ),
            session=session,
            actor="t",
        )
        quiet = next(a.id for a in actions.list_actions(session=session)
                     if a.title == "Quiet the disk alert")
    runner = CliRunner()
    base = ["--home", str(workspace.settings.home), "--database-url",
            workspace.settings.resolved_database_url, "actions", "update"]
    for item in (ids["Not shipped"], quiet):
        done = runner.invoke(app, [*base, str(item), "--shipped", SHIP.strftime("%Y-%m-%dT%H:%M")])
        assert done.exit_code == 0, done.output
        assert "shipped 2026-02-04 10:00Z" in " ".join(done.stdout.split())
    bad = runner.invoke(app, [*base, str(quiet), "--shipped", "soon"])
    assert bad.exit_code == 2 and "--shipped" in bad.stderr
    results = {r.action_id: r for r in check_outcomes(workspace, now=NOW)}
    assert results[ids["Not shipped"]].evidence["shipped_by"] == "action item shipped_at"
    assert results[ids["Not shipped"]].verdict != "too early"
    # counted as false alerts per day (none here): a measurement, not "no such series"
    assert "no series" not in str(results[quiet].evidence)
    assert results[quiet].verdict == "not verified"
