"""The demo end to end: the loop learns, and the HTML report shows the JSON's numbers."""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser

import pytest
from tests.integration.test_cli_end_to_end import LESSONLOOP


class _Report(HTMLParser):
    """Collects figure ids, table cells and the embedded JSON of the report."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[str] = []
        self.cells: list[str] = []
        self.data = ""
        self._in_cell = self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "figure":
            self.figures.append(attributes.get("id") or "")
        self._in_cell = tag == "td"
        self._in_data = tag == "script" and attributes.get("id") == "report-data"

    def handle_endtag(self, tag: str) -> None:
        self._in_cell = self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells.append(data)
        if self._in_data:
            self.data += data


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    root = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONLOOP_")}
    result = subprocess.run(
        [LESSONLOOP, "demo", "--quarters", "3", "--step-minutes", "30", "--workspace",
         str(root / "ws"), "--out", str(root / "r.json"), "--html", str(root / "r.html")],
        env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "2025Q3: MTTD" in result.stdout
    return json.loads((root / "r.json").read_text()), (root / "r.html").read_text(), root


def test_report_json_has_the_documented_shape(demo_run) -> None:
    report, *_ = demo_run
    assert [q["quarter"] for q in report["quarters"]] == ["2025Q1", "2025Q2", "2025Q3"]
    for row in report["quarters"]:
        for who in ("baseline", "champion"):
            assert {"mttd_minutes", "mttd_ci", "false_alerts_per_day", "false_alerts_ci",
                    "recall"} <= set(row[who])
        assert "champion_version" in row
    assert report["top_insights"] and report["programme"]
    assert report["funnel"]["accepted"] <= report["funnel"]["proposed"]


def test_the_programme_is_one_a_team_could_have_run(demo_run) -> None:
    """Reviews signed off days to weeks after their incident, items closed and overdue as of
    the end of the simulated period, insights rated, signals decided hours after proposal."""
    report, *_ = demo_run
    programme = report["programme"]
    assert programme["as_of"].startswith(report_end(report))
    reviews = programme["reviews"]
    status = reviews["by_status"]
    assert status["published"] > reviews["reviews"] / 2 and status["draft"] < reviews["reviews"] / 4
    assert 3 < reviews["days_to_signoff_median"] < 30
    assert reviews["days_to_signoff_p90"] >= reviews["days_to_signoff_median"]
    insights = programme["insights"]
    assert 0.3 < insights["rubric_coverage_share"] < 0.8
    assert all(v is not None for v in insights["rubric_mean_by_axis"].values())
    assert 0.2 < insights["recommendations_with_action_item_share"] < 1
    items = programme["action_items"]
    assert items["done"] > items["open"] and items["wont_do"] > 0
    assert 0 < items["overdue"] <= items["open"] < items["action_items"] / 3
    assert items["days_to_close_median"] > 1
    assert items["detect_done"] > 0 and items["detect_done_verified_share"] is not None
    assert programme["signals"]["hours_to_decision_median"] > 1
    assert programme["recurrence"]["repeats_after_review"] > 0


def report_end(report: dict) -> str:
    """The date the simulated period ends: the end of the last quarter (13 weeks each)."""
    import datetime as dt

    end = dt.date(2025, 1, 6) + dt.timedelta(weeks=13 * len(report["quarters"]))
    return end.isoformat()


def _utc(text: str):
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _demo_cli(root):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONLOOP_")}
    env["LESSONLOOP_HOME"] = str(root / "ws")

    def cli(*args: str) -> str:
        done = subprocess.run([LESSONLOOP, *args], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return cli


def _promotions(row: dict) -> int:
    """The quarter's promotions: its model candidate's and its alert policy's."""
    return bool(row.get("promoted")) + bool(row.get("alerts", {}).get("promoted"))


def _demo_events(cli) -> list[dict]:
    """The audit trail of the demo's people (other tests act as the OS user)."""
    events = json.loads(cli("audit", "--json", "--limit", "100000"))
    return [e for e in events if e["actor"].startswith(("demo", "policy:"))]


def test_the_registry_history_is_the_organisation_s(demo_run) -> None:
    """Signal sets, model versions, evaluations, approvals and promotions happen in the
    simulated year, each quarter's at its close: every promotion inside the period, after its
    version was registered, evaluated and approved; each quarter's range holds its own."""
    import datetime as dt

    report, _, root = demo_run
    cli = _demo_cli(root)
    start, end = _utc("2025-01-06T00:00:00Z"), _utc(f"{report_end(report)}T00:00:00Z")
    events = _demo_events(cli)
    assert events and all(start <= _utc(e["at"]) <= end for e in events)
    times = [_utc(e["at"]) for e in events]
    assert times == sorted(times, reverse=True)  # `lessonloop audit`: newest first, by time
    promotions = [e for e in events if e["action"] == "model.promote"]
    assert len(promotions) == sum(_promotions(row) for row in report["quarters"]) > 0
    for event in promotions:
        at = _utc(event["at"])
        assert start <= at < end
        shown = json.loads(cli("models", "show", event["entity_id"], "--json"))
        assert _utc(shown["version"]["created_at"]) < at
        assert any(_utc(e["created_at"]) < at for e in shown["evaluations"]), event
        assert shown["approvals"] and all(_utc(a["at"]) < at for a in shown["approvals"])
    for number, row in enumerate(report["quarters"]):
        since = start + dt.timedelta(weeks=13 * number)
        until = since + dt.timedelta(weeks=13)
        section = json.loads(cli("programme", "report", "--since", since.date().isoformat(),
                                 "--until", until.date().isoformat(), "--json"))
        assert section["signals"]["signal_sets_cut"] == 1, row["quarter"]
        assert section["models"]["promotions"] == _promotions(row), row["quarter"]
        assert section["models"]["promoted_with_prior_evaluation"] == _promotions(row)


def test_the_trend_counts_the_promotions_in_the_simulated_year(demo_run) -> None:
    report, _, root = demo_run
    points = json.loads(_demo_cli(root)("programme", "trend", "--until", report_end(report),
                                        "--json"))
    assert [p["period"] for p in points][:3] == ["2025Q1", "2025Q2", "2025Q3"]
    assert sum(p["promotions"] for p in points) == sum(map(_promotions, report["quarters"]))


def test_attribution_shows_what_the_reviews_bought_together(demo_run) -> None:
    """Single reviews rarely change the learner's choice; the row without any feedback does."""
    report, page, _ = demo_run
    rows = {i["group"]: i for i in report["top_insights"]}
    together = rows["every signal (no feedback: the detectors' defaults)"]
    assert together["signals_used"] == max(i["signals_used"] for i in rows.values())
    assert together["effect_false_alerts_per_day"] > 0  # the defaults page more often
    assert "all reviews together" in page


def test_every_signals_block_the_generator_writes_is_accepted_by_the_extractor(demo_run):
    report, *_ = demo_run
    notes = [row["extraction_notes"] for row in report["quarters"]]
    assert all("signal_blocks" not in n for n in notes), notes
    assert sum(n.get("action_items", 0) for n in notes) > 0  # the notes are counted at all


def test_the_loop_beats_the_static_setup_by_the_last_quarter(demo_run) -> None:
    report, *_ = demo_run
    last = report["quarters"][-1]
    assert last["champion_version"] is not None, "no model was promoted"
    base, champ = last["baseline"], last["champion"]
    assert champ["mttd_minutes"] <= base["mttd_minutes"] / 2
    assert champ["false_alerts_per_day"] <= base["false_alerts_per_day"] / 2
    assert champ["false_alerts_ci"][1] < base["false_alerts_ci"][0]


def test_the_alert_policy_is_tested_on_each_next_quarter_against_the_truth(demo_run) -> None:
    report, page, _ = demo_run
    first, *later = report["quarters"]
    assert "alerts" not in first  # nothing to learn from before the first quarter
    promoted = []
    for row in later:
        alerts = row["alerts"]
        truth = alerts["truth"]
        # the candidate never sees this quarter, and every alert paging is the floor for noise
        every = truth["every_alert_pages"]
        assert every["incidents_covered"] == every["incidents"] > 0
        for who in ("in_use", "candidate"):
            assert truth[who]["noise_pages_per_day"] <= every["noise_pages_per_day"]
        if alerts.get("promoted"):
            promoted.append(alerts["promoted"])
            assert alerts["decision"] == "better"
            assert truth["candidate"]["noise_pages_per_day"] < every["noise_pages_per_day"] / 2
    assert promoted, "no alert policy was promoted"
    assert report["alert_champion_version"] == promoted[-1]
    assert "Alert noise (scored on the generator" in page


def test_html_holds_every_plot_and_the_json_numbers(demo_run) -> None:
    report, page, _ = demo_run
    parser = _Report()
    parser.feed(page)
    assert parser.figures == [
        "plot-mttd",
        "plot-false_alerts",
        "plot-recall",
        "plot-funnel",
        "plot-alert_noise",
    ]
    assert page.count("<svg") == len(parser.figures)
    assert "<link" not in page and 'src="http' not in page  # opens without a network
    assert json.loads(parser.data) == report
    for row in report["quarters"]:
        for who in ("baseline", "champion"):
            assert str(row[who]["mttd_minutes"]) in parser.cells
            assert str(row[who]["false_alerts_per_day"]) in parser.cells


def test_learn_approve_promote_export_on_the_demo_workspace(demo_run) -> None:
    import shutil

    *_, root = demo_run
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONLOOP_")}
    env["LESSONLOOP_HOME"] = str(root / "ws")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([LESSONLOOP, *args], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        return done

    learned = json.loads(cli("learn", "--holdout-days", "15", "--folds", "2",
                             "--attribution-top", "2", "--json").stdout)
    version = str(learned["candidate"])
    assert learned["decision"] in ("better", "worse", "not distinguishable")
    assert learned["task"] == "metric-anomaly" and learned["signal_set"] >= 1
    assert learned["candidate_metrics"]["mttd_ci"] is not None
    assert learned["candidate_metrics"]["days"] == 30.0  # two rolling 15-day windows
    assert learned["candidate_metrics"]["precision"] is not None
    shown = json.loads(cli("models", "show", version, "--json").stdout)
    split = shown["evaluations"][0]["split"]
    assert len(split["fold_spans"]) == 2
    # the registered model is the last fold's, and the split says so
    assert split["registered_model_train_end"][:19] == shown["version"]["training_end"][:19]
    assert split["registered_model_train_end"] > split["train_end"]
    for bad in ("nan", "inf", "-5"):
        refused_days = subprocess.run([LESSONLOOP, "learn", "--holdout-days", bad], env=env,
                                      capture_output=True, text=True, timeout=120)
        assert refused_days.returncode == 2 and "holdout_days" in refused_days.stderr
    refused = subprocess.run([LESSONLOOP, "export-rules", "prometheus", version], env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "approved" in refused.stderr
    cli("models", "shadow", version)
    report = json.loads(cli("models", "shadow-report", version, "--json").stdout)
    assert report["status"] == "shadow" and report["notes"] == []
    assert report["start"][:19].replace(" ", "T") == shown["version"]["training_end"][:19]
    assert report["verdict"] in ("better", "worse", "not distinguishable")
    assert report["shadow"]["days"] > 0 and report["against"].startswith("champion")
    early_replay = json.loads(
        cli("models", "shadow-report", version, "--since", "2025-01-01", "--json").stdout
    )
    assert early_replay["notes"] and "flatters it" in early_replay["notes"][0]
    last_hour = report["end"][:13] + ":00:00+00:00"  # no incident starts in the final hour
    quiet = json.loads(
        cli("models", "shadow-report", version, "--since", last_hour, "--json").stdout
    )
    assert any("no accepted incident window" in note for note in quiet["notes"])
    assert quiet["evaluation"] is None  # a report is kept only when asked
    kept = json.loads(cli("models", "shadow-report", version, "--record", "--json").stdout)
    evaluations = json.loads(cli("models", "show", version, "--json").stdout)["evaluations"]
    assert evaluations[-1]["id"] == kept["evaluation"]
    assert evaluations[-1]["split"]["kind"] == "shadow"
    assert evaluations[-1]["decision"] == kept["verdict"]
    first = cli("models", "approve", version, "--reason", "faster and quieter on the holdout")
    assert f"evidence: evaluation {kept['evaluation']} ({kept['verdict']})" in first.stdout
    # The model pages tier-1 services: one approval is not enough, and the same person twice
    # does not count.
    assert "1 of 2 approvals" in first.stdout
    early = subprocess.run([LESSONLOOP, "models", "promote", version], env=env,
                           capture_output=True, text=True, timeout=120)
    assert early.returncode != 0
    # The demo runs with roles in force and makes whoever ran it an admin: a second approver
    # needs the role first.
    stranger = subprocess.run([LESSONLOOP, "--actor", "second-approver", "models", "approve",
                               version, "--reason", "agreed"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert stranger.returncode == 6 and "approver, admin" in stranger.stderr
    cli("roles", "grant", "second-approver", "approver", "--reason", "service owner")
    cli("--actor", "second-approver", "models", "approve", version, "--reason", "agreed")
    cli("models", "promote", version)
    # Promotion ships the "detect" action items of the reviews the model learned from.
    experiment = shown["experiments"][0]
    assert experiment["action_item_ids"]
    checked = json.loads(cli("outcomes", "check", "--json").stdout)
    shipped = {r["action_id"]: r["evidence"].get("shipped_by") for r in checked}
    # ... unless an item records its own shipping time (the demo's owners ship what they close)
    own = {i["id"] for i in json.loads(cli("actions", "list", "--json").stdout) if i["shipped_at"]}
    assert {shipped.get(i) for i in experiment["action_item_ids"] if i in shipped} == {
        f"model version {version} promoted", *(["action item shipped_at"] if own else [])
    }
    assert all(shipped[i] == "action item shipped_at" for i in own if i in shipped)
    rules = root / "rules.yaml"
    cli("export-rules", "prometheus", version, "--out", str(rules))
    text = rules.read_text()
    assert "lessonloop_reviews" in text and "expr:" in text
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("promtool is required under CI")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    checked = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_triage_and_precedent_feedback_on_the_demo_workspace(demo_run) -> None:
    *_, root = demo_run
    cli = _demo_cli(root)
    incidents = json.loads(cli("incidents", "list", "--json"))
    latest = incidents[-1]["key"]
    report = json.loads(cli("triage", latest, "--json"))
    assert report["suggestions"] and report["precedents"]["precedents"]
    assert all(s["probability"] >= 0 for s in report["suggestions"])
    before = [p["incident_key"] for p in report["precedents"]["precedents"]]
    cli("precedents", latest, "--feedback", "not-helpful", "--precedent", before[0])
    cli("precedents", latest, "--feedback", "not-helpful", "--precedent", before[0])  # idempotent
    after = json.loads(cli("precedents", latest, "--limit", "50", "--json"))["precedents"]
    demoted = next(p for p in after if p["incident_key"] == before[0])
    assert any("not helpful 1 time(s)" in reason for reason in demoted["why"])
    assert demoted["score"] < report["precedents"]["precedents"][0]["score"]
    learned = json.loads(cli("learn", "--task", "failure-mode", "--json"))
    assert learned["decision"] in ("better", "worse", "not distinguishable")
    assert learned["task"] == "failure-mode" and learned["signal_set"] >= 1
    assert 0.0 <= learned["candidate_metrics"]["example_f1"]["value"] <= 1.0
