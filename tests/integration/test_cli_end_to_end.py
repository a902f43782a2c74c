"""The real console script, end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

LESSONLOOP = shutil.which("lessonloop") or str(Path(__file__).parents[2] / ".venv/bin/lessonloop")


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([LESSONLOOP, *args], env=env, capture_output=True, text=True,
                            timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LESSONLOOP_")}
    env.update(LESSONLOOP_HOME=str(tmp_path / "home"), LESSONLOOP_DATABASE_URL=database_url,
               LESSONLOOP_ACTOR="cli-tester", COLUMNS="200")
    return env


def _fill(path: Path) -> None:
    text = path.read_text()
    text = text.replace("## Summary\n\n<!--", "## Summary\n\nCheckout was slow.\n<!--")
    text = text.replace("## Impact\n\n<!--", "## Impact\n\n5% of checkouts failed.\n<!--")
    text = text.replace("## Detection\n\n<!--", "## Detection\n\nPaged 20 minutes late.\n<!--")
    text = text.replace("## Timeline\n\n<!--", "## Timeline\n\n"
                        "| At (UTC) | Kind | Marker | Actor | Event |\n|---|---|---|---|---|\n"
                        "| 2026-11-20 10:00 | key moment | first symptom | | p99 rose |\n<!--")
    text = text.replace("## Contributing factors\n\n<!--",
                        "## Contributing factors\n\n- A config push.\n<!--")
    text = text.replace("## Observations\n\n<!--", "## Observations\n\n"
                        "- [technical] The 800 ms threshold paged 20 minutes late.\n<!--")
    text = text.replace("## Action items\n\n<!--", "## Action items\n\n"
                        "| Title | Type | Owner | Due | Priority | Status | Expected effect |\n"
                        "|---|---|---|---|---|---|---|\n"
                        "| Lower the threshold | detect | ana | 2099-01-01 | P2 | open | |\n<!--")
    path.write_text(text)


def test_walkthrough(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "init")
    run(cli_env, "services", "add", "db", "--tier", "1")
    run(cli_env, "services", "add", "checkout", "--depends-on", "db")
    listed = json.loads(run(cli_env, "services", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["checkout", "db"]
    assert listed[0]["depends_on"] == ["db"]
    run(cli_env, "incidents", "create", "INC-1", "--title", "Checkout slow", "--started-at",
        "2026-11-20T10:00Z", "--service", "checkout", "--severity", "SEV2")
    shown = json.loads(run(cli_env, "incidents", "show", "INC-1", "--json").stdout)
    assert shown["severity"] == "SEV2" and shown["services"] == ["checkout"]

    review_file = tmp_path / "INC-1.md"
    run(cli_env, "review", "new", "INC-1", "--out", str(review_file))
    blank = run(cli_env, "review", "import", str(review_file), ok=False)
    assert blank.returncode != 0 and "Summary" in blank.stderr
    assert len(blank.stderr.strip().splitlines()) == 1
    _fill(review_file)
    assert "created" in run(cli_env, "review", "import", str(review_file)).stdout
    assert "unchanged" in run(cli_env, "review", "import", str(review_file)).stdout
    for step in ("submit", "approve", "publish"):
        run(cli_env, "review", step, "INC-1")
    review = json.loads(run(cli_env, "review", "show", "INC-1", "--json").stdout)
    assert review["status"] == "published" and review["status_changed_by"] == "cli-tester"

    items = json.loads(run(cli_env, "actions", "list", "--owner", "ana", "--json").stdout)
    assert [i["title"] for i in items] == ["Lower the threshold"]
    run(cli_env, "actions", "update", str(items[0]["id"]), "--status", "done")
    done = json.loads(run(cli_env, "actions", "list", "--status", "done", "--json").stdout)
    assert done[0]["completed_at"] is not None

    dump = tmp_path / "ws.jsonl"
    run(cli_env, "export", str(dump))
    assert dump.read_text().count("\n") > 10


def test_errors_are_one_red_line_and_non_zero(cli_env: dict[str, str]) -> None:
    missing = run(cli_env, "incidents", "list", ok=False)
    assert missing.returncode != 0 and "lessonloop init" in missing.stderr
    run(cli_env, "init")
    bad = run(cli_env, "incidents", "create", "INC-2", "--title", "x", "--started-at",
              "2026-11-20T10:00", ok=False)
    assert bad.returncode == 2 and "UTC offset" in bad.stderr
    assert "Traceback" not in bad.stderr
    order = run(cli_env, "incidents", "create", "INC-3", "--title", "x", "--started-at",
                "2026-11-20T10:00Z", "--detected-at", "2026-11-20T09:00Z", ok=False)
    assert order.returncode == 2 and "before started_at" in order.stderr
    unknown = run(cli_env, "incidents", "show", "INC-404", ok=False)
    assert unknown.returncode == 4 and "INC-404" in unknown.stderr
