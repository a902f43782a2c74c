"""`lessonloop import` through the real console script (one call) and through CliRunner."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from lessonloop.cli.app import app
from lessonloop.services.workspace import init_workspace
from lessonloop.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
SCRIPT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "lessonloop"


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LESSONLOOP_HOME": str(home)}
    env.pop("LESSONLOOP_DATABASE_URL", None)
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_import_dry_run_then_real_then_bad_file(tmp_path):
    home = tmp_path / "home"
    init_workspace(Settings(home=home)).close()
    export = str(FIXTURES / "pagerduty_export.json")
    runner = CliRunner()
    dry = runner.invoke(
        app, ["--home", str(home), "import", "pagerduty", export, "--dry-run", "--json"]
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["outcomes"]["incident"] == {"created": 2}
    real = _run(home, "import", "pagerduty", export, "--json")
    summary = json.loads(real.stdout)
    assert summary["outcomes"]["incident"] == {"created": 2}
    assert summary["redactions"] and all(isinstance(v, int) for v in summary["redactions"].values())
    assert "10.20.30.40" not in real.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"incidents": [{"id": "X1"}]}')
    failed = runner.invoke(app, ["--home", str(home), "import", "pagerduty", str(bad)])
    assert failed.exit_code == 2
    assert "field '$.incidents[0].created_at'" in failed.stderr
    assert failed.stderr.count("error:") == 1


def test_cli_series_needs_files_and_a_named_label_column_must_exist(tmp_path):
    home = tmp_path / "home"
    init_workspace(Settings(home=home)).close()
    runner = CliRunner()
    none = runner.invoke(app, ["--home", str(home), "import", "series", "--service", "db"])
    assert none.exit_code == 2
    assert "give one or more CSV" in none.stderr
    data = tmp_path / "hosts.csv"
    data.write_text("timestamp,value,host\n2025-01-01T00:00:00Z,1,a\n2025-01-01T00:00:00Z,2,b\n")
    named = runner.invoke(
        app,
        ["--home", str(home), "import", "series", str(data), "--service", "db",
         "--label-column", "label"],
    )
    assert named.exit_code == 2
    assert "field 'label'" in named.stderr
    split = runner.invoke(
        app,
        ["--home", str(home), "import", "series", str(data), "--service", "db",
         "--label-column", "host", "--json"],
    )
    assert split.exit_code == 0, split.output
    assert json.loads(split.stdout)["outcomes"]["series"] == {"created": 2}
