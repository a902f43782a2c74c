"""``lessonloop programme report`` end to end through the real console script."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.integration.test_cli_end_to_end import _fill, run


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The console script's environment: a fresh workspace on each engine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONLOOP_")}
    env.update(LESSONLOOP_HOME=str(tmp_path / "home"), LESSONLOOP_DATABASE_URL=database_url,
               LESSONLOOP_ACTOR="cli-tester", COLUMNS="200")
    return env


def _workspace(env: dict[str, str], tmp_path: Path) -> None:
    """Two incidents on checkout; INC-1 has an imported review with one open action item."""
    run(env, "init")
    run(env, "services", "add", "checkout")
    run(env, "incidents", "create", "INC-1", "--title", "Checkout slow", "--started-at",
        "2026-11-20T10:00Z", "--service", "checkout", "--severity", "SEV2")
    run(env, "incidents", "create", "INC-2", "--title", "Checkout down", "--started-at",
        "2026-11-25T08:00Z", "--service", "checkout", "--severity", "SEV1")
    review_file = tmp_path / "INC-1.md"
    run(env, "review", "new", "INC-1", "--out", str(review_file))
    _fill(review_file)
    run(env, "review", "import", str(review_file))


def test_report_json_html_and_bad_dates(cli_env: dict[str, str], tmp_path: Path) -> None:
    _workspace(cli_env, tmp_path)
    data = json.loads(run(cli_env, "programme", "report", "--json").stdout)
    assert (data["reviews"]["incidents"], data["reviews"]["reviews"]) == (2, 1)
    assert data["reviews"]["coverage_by_severity"] == {
        "SEV1": {"incidents": 1, "reviewed": 0, "share": 0.0},
        "SEV2": {"incidents": 1, "reviewed": 1, "share": 1.0},
    }
    assert data["insights"]["by_kind"] == {"observation": 1, "recommendation": 0}
    items = data["action_items"]
    assert (items["action_items"], items["open"], items["overdue"]) == (1, 1, 0)
    assert items["with_owner_and_due_share"] == 1.0
    assert data["since"] is None and data["models"]["versions"] == 0
    later = json.loads(run(cli_env, "programme", "report", "--as-of", "2099-01-02",
                           "--json").stdout)
    assert later["as_of"] == "2099-01-02T00:00:00+00:00"
    assert later["action_items"]["overdue"] == 1  # open, and due the day before

    ranged = json.loads(run(cli_env, "programme", "report", "--since", "2026-11-21",
                            "--until", "2026-12-01T00:00Z", "--json").stdout)
    assert ranged["reviews"]["incidents"] == 1 and ranged["reviews"]["reviews"] == 0
    assert ranged["since"] == "2026-11-21T00:00:00+00:00"

    page = tmp_path / "out" / "programme.html"
    shown = run(cli_env, "programme", "report", "--html", str(page)).stdout
    assert "Reviews" in shown and "coverage_share" in shown and "50.0%" in shown
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<table id="recurrence">' in text
    assert "coverage_by_severity.SEV2.reviewed" in text
    assert "<link" not in text and "http" not in text  # opens without a network
    assert not list(page.parent.glob(".*.tmp"))

    for option, value in (("--since", "last tuesday"), ("--until", "2026-02-30"),
                          ("--as-of", "soon")):
        refused = run(cli_env, "programme", "report", option, value, ok=False)
        assert refused.returncode == 2, refused.stderr
        assert option in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    backwards = run(cli_env, "programme", "report", "--since", "2026-12-01", "--until",
                    "2026-11-01", ok=False)
    assert backwards.returncode == 2 and "--until" in backwards.stderr
    folder = run(cli_env, "programme", "report", "--html", str(tmp_path), ok=False)
    assert folder.returncode == 2 and "--html" in folder.stderr


def test_trend_by_month_with_a_plot(cli_env: dict[str, str], tmp_path: Path) -> None:
    _workspace(cli_env, tmp_path)
    plot = tmp_path / "plots" / "trend.png"
    points = json.loads(run(cli_env, "programme", "trend", "--by", "month", "--until",
                            "2027-01-01", "--png", str(plot), "--json").stdout)
    assert [(p["period"], p["incidents"], p["review_coverage_share"]) for p in points] == [
        ("2026-11", 2, 0.5), ("2026-12", 0, None)]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    quarters = json.loads(run(cli_env, "programme", "trend", "--until", "2027-01-01",
                              "--json").stdout)
    assert [(p["period"], p["action_items"]) for p in quarters] == [("2026Q4", 1)]
    shown = run(cli_env, "programme", "trend", "--until", "2027-01-01").stdout
    assert "2026Q4" in shown and "50%" in shown
    for args, field in ((("--by", "week"), "by"), (("--png", str(tmp_path / "t.svg")), "--png"),
                        (("--by", "month", "--since", "2000-01-01"), "by")):
        refused = run(cli_env, "programme", "trend", *args, ok=False)
        assert refused.returncode == 2 and field in refused.stderr, refused.stderr
