"""Rating insights on the quality rubric: service, re-import rules, portability and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.factories import review_file_text, seed_checkout_incident

from lessonloop.domain.access import Role
from lessonloop.errors import InputError, NotFound, PermissionDenied
from lessonloop.services import insights as insight_service
from lessonloop.services import reviews as review_service
from lessonloop.services.access import grant_role
from lessonloop.services.portability import export_workspace, import_workspace
from lessonloop.services.workspace import Workspace, init_workspace
from lessonloop.settings import Settings
from lessonloop.storage import audit

AS_OF = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
OBSERVATION = "- [technical] The checkout threshold paged late."
RECOMMENDATION = "- [process] Alert on the SLO burn rate. {services: [checkout]}"
BURN_RATE = "| Add burn-rate alert | detect | ana | 2026-04-01 | P2 | open | |"
LESSONLOOP = shutil.which("lessonloop") or str(Path(__file__).parents[2] / ".venv/bin/lessonloop")


def _text(
    observation: str = OBSERVATION,
    recommendation: str | None = RECOMMENDATION,
    summary: str = "Checkout was slow.",
) -> str:
    insights = observation
    if recommendation is not None:
        insights += f"\n\n## Recommendations\n{recommendation}"
    return review_file_text(observation=insights, actions=BURN_RATE, summary=summary)


def _import(ws: Workspace, path: Path, text: str) -> str:
    path.write_text(text)
    return review_service.import_review(ws, path, as_of=AS_OF)[1]


@pytest.fixture
def imported(workspace, tmp_path):
    """INC-7's review with an observation (position 0) and a recommendation (position 1)."""
    seed_checkout_incident(workspace)
    path = tmp_path / "INC-7.md"
    _import(workspace, path, _text())
    found = insight_service.list_insights(workspace)
    return workspace, path, {i.kind.value: i.id for i in found}


def _events(ws: Workspace, insight_id: int, action: str) -> list:
    with ws.transaction() as session:
        found = audit.list_events(session=session, entity_type="insight", entity_id=str(insight_id))
    return [event for event in found if event.action == action]


# the service


def test_list_filters_by_incident_kind_and_rating(imported) -> None:
    ws, _, ids = imported
    listed = insight_service.list_insights(ws, incident="INC-7")
    assert [(i.kind.value, i.incident_key, i.position) for i in listed] == [
        ("observation", "INC-7", 0),
        ("recommendation", "INC-7", 1),
    ]
    only = insight_service.list_insights(ws, kind="recommendation")
    assert [i.id for i in only] == [ids["recommendation"]]
    insight_service.rate_insight(ws, ids["observation"], relevance=0.4)
    assert [i.id for i in insight_service.list_insights(ws, unrated=True)] == [
        ids["recommendation"]
    ]
    with pytest.raises(NotFound, match="INC-404"):
        insight_service.list_insights(ws, incident="INC-404")


def test_show_puts_suggestions_beside_an_empty_rating(imported) -> None:
    ws, _, ids = imported
    shown = insight_service.show_insight(ws, ids["recommendation"])
    assert shown.incident_key == "INC-7"
    assert shown.rubric.model_dump() == {
        "relevance": None,
        "timeliness": None,
        "breadth": None,
        "actionability": None,
    }
    assert shown.suggested.actionability.score == 0.8
    assert "Add burn-rate alert" in shown.suggested.actionability.reason
    assert shown.suggested.breadth.score == 1.0
    assert shown.suggested.relevance.score is None
    assert shown.suggested.relevance.reason == "needs a person"
    assert (
        insight_service.show_insight(ws, ids["observation"]).suggested.actionability.score is None
    )
    with pytest.raises(NotFound, match="unknown insight 999"):
        insight_service.show_insight(ws, 999)


def test_rating_stores_given_axes_keeps_the_others_and_is_audited(imported) -> None:
    ws, _, ids = imported
    first = insight_service.rate_insight(ws, ids["observation"], relevance=0.9, breadth=0.2)
    second = insight_service.rate_insight(
        ws, ids["observation"], breadth=0.6, timeliness=1, note="re-read the timeline"
    )
    assert (first.rubric.relevance, first.rubric.breadth) == (0.9, 0.2)
    rubric = second.rubric
    assert (rubric.relevance, rubric.timeliness, rubric.breadth) == (0.9, 1.0, 0.6)
    assert rubric.actionability is None
    assert rubric.rated_by == "tester" and rubric.rated_at is not None
    stored = insight_service.show_insight(ws, ids["observation"]).rubric
    assert stored == rubric
    events = _events(ws, ids["observation"], "insight.rate")
    assert len(events) == 2
    latest = events[0]
    assert latest.actor == "tester"
    assert latest.before_hash and latest.after_hash and latest.before_hash != latest.after_hash
    assert latest.details["scores"] == {"breadth": 0.6, "timeliness": 1.0}
    assert latest.details["note"] == "re-read the timeline"
    assert events[1].after_hash == latest.before_hash


@pytest.mark.parametrize(
    ("field", "value"), [("relevance", 1.5), ("timeliness", -0.1), ("breadth", float("nan"))]
)
def test_a_score_outside_zero_to_one_is_refused_naming_the_field(imported, field, value) -> None:
    ws, _, ids = imported
    with pytest.raises(InputError) as caught:
        insight_service.rate_insight(ws, ids["observation"], **{field: value})
    assert caught.value.field == field
    assert not _events(ws, ids["observation"], "insight.rate")


def test_an_empty_rating_and_an_unknown_insight_are_refused(imported) -> None:
    ws, _, ids = imported
    with pytest.raises(InputError, match="at least one score"):
        insight_service.rate_insight(ws, ids["observation"], note="nothing")
    with pytest.raises(NotFound, match="unknown insight 999"):
        insight_service.rate_insight(ws, 999, relevance=0.5)
    # an observation has no capture time and no relevance evidence: only breadth is suggested
    only_breadth = insight_service.rate_insight(ws, ids["observation"], accept_suggested=True)
    assert only_breadth.rubric.breadth == 1.0
    assert only_breadth.rubric.relevance is None and only_breadth.rubric.actionability is None


def test_accepting_suggestions_fills_only_the_axes_not_given(imported) -> None:
    ws, _, ids = imported
    rated = insight_service.rate_insight(
        ws, ids["recommendation"], breadth=0.3, accept_suggested=True
    )
    rubric = rated.rubric
    assert (rubric.breadth, rubric.actionability) == (0.3, 0.8)  # breadth given, not 1.0
    assert rubric.relevance is None and rubric.timeliness is None  # no suggestion: skipped
    (event,) = _events(ws, ids["recommendation"], "insight.rate")
    assert event.details["accepted_suggestions"] == ["actionability"]


def test_rating_needs_the_review_role_once_roles_are_in_force(imported) -> None:
    ws, _, ids = imported
    grant_role(ws, "tester", Role.ADMIN)
    grant_role(ws, "vic", Role.VIEWER)
    viewer = Workspace(ws.settings, actor="vic")
    with pytest.raises(PermissionDenied, match="rate insights"):
        insight_service.rate_insight(viewer, ids["observation"], relevance=0.5)
    viewer.close()
    assert insight_service.rate_insight(ws, ids["observation"], relevance=0.5).rubric.relevance


# re-importing the review


def test_reimport_with_the_same_text_keeps_the_rating(imported) -> None:
    ws, path, ids = imported
    insight_service.rate_insight(ws, ids["observation"], relevance=0.7, timeliness=0.9)
    insight_service.rate_insight(ws, ids["recommendation"], actionability=1.0)
    respaced = "- [technical] The   checkout threshold PAGED late."
    assert _import(ws, path, _text(observation=respaced, summary="Much slower.")) == "updated"
    by_id = {i.id: i for i in insight_service.list_insights(ws)}
    assert by_id[ids["observation"]].text == "The   checkout threshold PAGED late."
    assert (
        by_id[ids["observation"]].rubric.relevance,
        by_id[ids["observation"]].rubric.timeliness,
    ) == (
        0.7,
        0.9,
    )
    assert by_id[ids["observation"]].rubric.rated_by == "tester"
    assert by_id[ids["recommendation"]].rubric.actionability == 1.0
    assert not _events(ws, ids["observation"], "insight.rating_cleared")


def test_reimport_with_changed_text_clears_the_rating_with_an_audit_event(imported) -> None:
    ws, path, ids = imported
    rated = insight_service.rate_insight(ws, ids["observation"], relevance=0.7)
    insight_service.rate_insight(ws, ids["recommendation"], actionability=1.0)
    changed = "- [technical] The checkout threshold paged twenty minutes late."
    assert _import(ws, path, _text(observation=changed)) == "updated"
    by_id = {i.id: i for i in insight_service.list_insights(ws)}
    assert by_id[ids["observation"]].rubric.relevance is None
    assert by_id[ids["observation"]].rubric.rated_by is None
    assert by_id[ids["recommendation"]].rubric.actionability == 1.0  # its text did not change
    (event,) = _events(ws, ids["observation"], "insight.rating_cleared")
    assert event.details["reason"] == "text changed"
    assert event.details["position"] == 0
    assert event.actor == ws.actor  # who re-imported the file
    review = review_service.get_review(ws, "INC-7")
    assert event.details["review_id"] == review.id
    assert event.details["rubric"] == rated.rubric.model_dump(mode="json")


def test_reimport_without_the_insight_records_its_rating_going(imported) -> None:
    ws, path, ids = imported
    insight_service.rate_insight(ws, ids["recommendation"], actionability=1.0)
    assert _import(ws, path, _text(recommendation=None)) == "updated"
    assert [i.id for i in insight_service.list_insights(ws)] == [ids["observation"]]
    (event,) = _events(ws, ids["recommendation"], "insight.rating_cleared")
    assert event.details["reason"] == "insight removed"
    assert event.details["rubric"]["actionability"] == 1.0


def test_an_insight_inserted_above_keeps_the_others_ids_and_ratings(imported) -> None:
    ws, path, ids = imported
    insight_service.rate_insight(ws, ids["observation"], relevance=0.7)
    insight_service.rate_insight(ws, ids["recommendation"], actionability=1.0)
    earlier = "- [communication] Nobody owned the status page."
    assert _import(ws, path, _text(observation=f"{earlier}\n{OBSERVATION}")) == "updated"
    after = {i.text: i for i in insight_service.list_insights(ws)}
    moved = after["The checkout threshold paged late."]
    assert (moved.id, moved.position, moved.rubric.relevance) == (ids["observation"], 1, 0.7)
    rec = next(i for i in after.values() if i.kind.value == "recommendation")
    assert (rec.id, rec.position, rec.rubric.actionability) == (ids["recommendation"], 2, 1.0)
    new = after["Nobody owned the status page."]
    assert new.position == 0 and new.id not in ids.values() and new.rubric.relevance is None
    for insight_id in ids.values():
        assert not _events(ws, insight_id, "insight.rating_cleared")


def test_an_insight_edited_while_another_is_inserted_keeps_its_id(imported) -> None:
    ws, path, ids = imported
    earlier = "- [communication] Nobody owned the status page."
    edited = "- [technical] The checkout threshold paged far too late."
    assert _import(ws, path, _text(observation=f"{earlier}\n{edited}")) == "updated"
    after = {i.text: i for i in insight_service.list_insights(ws)}
    assert after["The checkout threshold paged far too late."].id == ids["observation"]
    assert after["Nobody owned the status page."].id not in ids.values()


def test_an_identical_reimport_changes_nothing(imported) -> None:
    ws, path, ids = imported
    insight_service.rate_insight(ws, ids["observation"], breadth=0.5)
    assert _import(ws, path, _text()) == "unchanged"
    assert insight_service.show_insight(ws, ids["observation"]).rubric.breadth == 0.5


# the workspace export


def test_export_and_import_keep_ratings(imported, tmp_path) -> None:
    ws, _, ids = imported
    rated = insight_service.rate_insight(ws, ids["recommendation"], relevance=0.25, note="n")
    first = tmp_path / "first.jsonl"
    export_workspace(ws, first)
    target = init_workspace(
        Settings(
            home=tmp_path / "copy",  # restored with the source's key
            redaction_key_file=ws.settings.resolved_key_file,
        ),
        actor="tester",
    )
    try:
        import_workspace(target, first)
        copied = insight_service.show_insight(target, ids["recommendation"])
        assert copied.rubric == rated.rubric
        second = tmp_path / "second.jsonl"
        export_workspace(target, second)
        assert first.read_bytes() == second.read_bytes()
    finally:
        target.close()


# the command line


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [LESSONLOOP, *args], env=env, capture_output=True, text=True, timeout=120
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONLOOP_")}
    env.update(
        LESSONLOOP_HOME=str(tmp_path / "home"),
        LESSONLOOP_DATABASE_URL=database_url,
        LESSONLOOP_ACTOR="cli-rater",
        COLUMNS="200",
    )
    return env


def test_cli_lists_shows_and_rates(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "init")
    run(cli_env, "services", "add", "checkout", "--team", "shop")
    run(
        cli_env,
        "incidents",
        "create",
        "INC-7",
        "--title",
        "Checkout slow",
        "--started-at",
        "2026-03-02T10:00Z",
        "--service",
        "checkout",
    )
    review = tmp_path / "INC-7.md"
    review.write_text(_text().replace("2026-04-01", "2099-04-01"))
    run(cli_env, "review", "import", str(review))

    listed = json.loads(run(cli_env, "insights", "list", "--json").stdout)
    assert [(i["kind"], i["incident_key"]) for i in listed] == [
        ("observation", "INC-7"),
        ("recommendation", "INC-7"),
    ]
    recommendation = listed[1]["id"]
    only = json.loads(
        run(
            cli_env, "insights", "list", "--incident", "INC-7", "--kind", "recommendation", "--json"
        ).stdout
    )
    assert [i["id"] for i in only] == [recommendation]
    table = run(cli_env, "insights", "list").stdout
    assert "Alert on the SLO burn rate." in table and "R:-" in table

    shown = json.loads(run(cli_env, "insights", "show", str(recommendation), "--json").stdout)
    assert shown["rubric"]["actionability"] is None
    assert shown["suggested"]["actionability"]["score"] == 0.8
    assert shown["suggested"]["relevance"] == {"score": None, "reason": "needs a person"}
    human = run(cli_env, "insights", "show", str(recommendation)).stdout
    assert "suggested" in human and "needs a person" in human and "Add burn-rate alert" in human

    bad = run(cli_env, "insights", "rate", str(recommendation), "--relevance", "1.5", ok=False)
    assert bad.returncode == 2 and "relevance" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    word = run(cli_env, "insights", "rate", str(recommendation), "--breadth", "lots", ok=False)
    assert word.returncode == 2 and "--breadth" in word.stderr
    empty = run(cli_env, "insights", "rate", str(recommendation), ok=False)
    assert empty.returncode == 2 and "at least one score" in empty.stderr
    missing = run(cli_env, "insights", "rate", "999", "--relevance", "0.5", ok=False)
    assert missing.returncode == 4 and "unknown insight 999" in missing.stderr
    unknown = run(cli_env, "insights", "show", "999", ok=False)
    assert unknown.returncode == 4 and "unknown insight 999" in unknown.stderr

    said = run(
        cli_env,
        "insights",
        "rate",
        str(recommendation),
        "--relevance",
        "0.6",
        "--accept-suggested",
        "--note",
        "checked with the team",
    ).stdout
    assert f"insight {recommendation}" in said and "R:0.60" in said and "A:0.80" in said
    after = json.loads(run(cli_env, "insights", "show", str(recommendation), "--json").stdout)
    assert after["rubric"]["relevance"] == 0.6 and after["rubric"]["actionability"] == 0.8
    assert after["rubric"]["breadth"] == 1.0 and after["rubric"]["timeliness"] is None
    assert after["rubric"]["rated_by"] == "cli-rater"
    unrated = json.loads(run(cli_env, "insights", "list", "--unrated", "--json").stdout)
    assert [i["id"] for i in unrated] == [listed[0]["id"]]
