"""The knowledge-base commands: taxonomy through the real console script, search and
precedents through Typer's runner (on a root app that mounts them with ``register``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import typer
from tests.integration.test_search_engines import build_corpus
from typer.testing import CliRunner

from lessonloop.cli import common
from lessonloop.cli.knowledge import app as taxonomy_app
from lessonloop.cli.knowledge import register

LESSONLOOP = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "lessonloop"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LESSONLOOP), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_taxonomy_commands_end_to_end(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LESSONLOOP_HOME": str(tmp_path / "home"),
        "LESSONLOOP_DATABASE_URL": database_url,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    assert _run(env, "init").returncode == 0
    listed = _run(env, "taxonomy", "list", "failure_mode", "--json")
    assert listed.returncode == 0, listed.stderr
    values = {t["value"] for t in json.loads(listed.stdout)}
    assert {"bad config push", "memory leak", "certificate expiry", "dns"} <= values
    added = _run(
        env,
        "taxonomy",
        "add",
        "failure_mode",
        "Thundering  Herd",
        "--keyword",
        "herd",
        "--description",
        "Clients stampede",
    )
    assert added.returncode == 0, added.stderr
    again = _run(env, "taxonomy", "add", "failure_mode", "thundering herd")
    assert again.returncode != 0 and "already has" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    for alike in ("thundering_herd", "Thundering-Herd", "data_corruption"):
        same = _run(env, "taxonomy", "add", "failure_mode", alike)
        assert same.returncode == 5 and "already has the term" in same.stderr, alike
    unknown = _run(env, "taxonomy", "add", "colours", "red")
    assert unknown.returncode != 0 and "unknown taxonomy" in unknown.stderr
    assert _run(env, "taxonomy", "remove", "failure_mode", "dns").returncode == 0
    missing = _run(env, "taxonomy", "remove", "failure_mode", "dns")
    assert missing.returncode != 0 and "has no term" in missing.stderr
    final = {
        t["value"]
        for t in json.loads(_run(env, "taxonomy", "list", "--json").stdout)
        if t["taxonomy"] == "failure_mode"
    }
    assert "thundering herd" in final and "dns" not in final


@pytest.fixture
def cli(workspace, monkeypatch):
    """A runner and root app on the test workspace."""
    build_corpus(workspace)
    monkeypatch.setenv("LESSONLOOP_HOME", str(workspace.settings.home))
    monkeypatch.setenv("LESSONLOOP_DATABASE_URL", workspace.settings.resolved_database_url)
    # Global options left by an earlier in-process CLI run must not override this workspace.
    for name in ("_settings", "home", "database_url", "actor"):
        monkeypatch.setattr(common.state, name, None)
    root = typer.Typer()
    register(root)
    root.add_typer(taxonomy_app, name="taxonomy")
    return CliRunner(), root


def test_search_and_precedents_commands(cli) -> None:
    runner, root = cli
    found = runner.invoke(root, ["search", "config push", "--service", "payments", "--json"])
    assert found.exit_code == 0, found.output
    data = json.loads(found.output)
    assert {h["incident_key"] for h in data["hits"]} == {"INC-1", "INC-4"}
    assert "service" in data["facets"]
    table = runner.invoke(root, ["search", 'NEAR("config" -push*', "--limit", "3"])
    assert table.exit_code == 0, table.output
    assert "INC-" in table.output
    bad = runner.invoke(root, ["search", "config", "--service", "nope"])
    assert bad.exit_code != 0 and "unknown service 'nope'" in bad.output
    bad_date = runner.invoke(root, ["search", "config", "--since", "yesterday"])
    assert bad_date.exit_code != 0 and "not a date" in bad_date.output
    precedents = runner.invoke(root, ["precedents", "INC-4", "--json"])
    assert precedents.exit_code == 0, precedents.output
    assert json.loads(precedents.output)["precedents"][0]["incident_key"] == "INC-1"
    shown = runner.invoke(root, ["precedents", "--text", "memory leak in search pods"])
    assert shown.exit_code == 0 and "INC-2" in shown.output and "why:" in shown.output
    assert runner.invoke(root, ["precedents"]).exit_code != 0
    unknown = runner.invoke(root, ["precedents", "INC-404"])
    assert unknown.exit_code != 0 and "unknown incident" in unknown.output
    meh = runner.invoke(root, ["precedents", "INC-4", "--feedback", "meh", "--precedent", "INC-1"])
    assert meh.exit_code != 0 and "got 'meh'" in meh.output
    lonely = runner.invoke(root, ["precedents", "INC-4", "--precedent", "INC-1"])
    assert lonely.exit_code != 0 and "only used with --feedback" in lonely.output
    later = runner.invoke(
        root, ["precedents", "INC-1", "--feedback", "helpful", "--precedent", "INC-4"]
    )
    assert later.exit_code != 0 and "must have started before" in later.output
    given = runner.invoke(
        root, ["precedents", "INC-4", "--feedback", "helpful", "--precedent", "INC-1", "--json"]
    )
    assert given.exit_code == 0, given.output
    assert json.loads(given.output)["helpful"] is True


def test_reindex_option_and_taxonomy_change_reindexes(cli) -> None:
    runner, root = cli
    rebuilt = runner.invoke(root, ["search", "--reindex", "--json"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (
        runner.invoke(
            root, ["taxonomy", "add", "failure_mode", "resolver flap", "--keyword", "flapped"]
        ).exit_code
        == 0
    )
    found = runner.invoke(root, ["search", "", "--failure-mode", "resolver flap", "--json"])
    assert found.exit_code == 0, found.output
    assert {h["incident_key"] for h in json.loads(found.output)["hits"]} == {"INC-5"}


def test_taxonomy_remove_finds_the_term_as_add_does(cli, workspace) -> None:
    from lessonloop.services.audit_trail import audit_trail
    from lessonloop.storage.tables import TaxonomyTermRow

    runner, root = cli
    removed = runner.invoke(root, ["taxonomy", "remove", "failure_mode", "Data-Corruption"])
    assert removed.exit_code == 0, removed.output
    assert removed.output.strip() == "removed failure_mode: data corruption"
    with workspace.transaction() as session:  # as an older workspace may hold them
        session.add(TaxonomyTermRow(taxonomy="failure_mode", value="retry-storm", keywords=[]))
    both = runner.invoke(root, ["taxonomy", "remove", "failure_mode", "Retry_Storm"])
    assert both.exit_code == 5
    assert "has the terms 'retry storm' and 'retry-storm'" in both.output
    exact = runner.invoke(root, ["taxonomy", "remove", "failure_mode", "retry-storm"])
    assert exact.exit_code == 0 and exact.output.strip() == "removed failure_mode: retry-storm"
    events = audit_trail(workspace, entity="taxonomy")
    assert [e.entity_id for e in events] == [
        "failure_mode:retry-storm",
        "failure_mode:data corruption",
    ]
