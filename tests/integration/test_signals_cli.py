"""``lessonloop signals`` end to end through the real console script, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".venv" / "bin" / "lessonloop"
REVIEW = REPO / "tests" / "unit" / "signals" / "data" / "review_checkout.md"


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _cli(env: dict[str, str], *args: str, ok: bool = True, real: bool = False) -> Ran:
    """Run a command in-process, or (``real``) through the installed console script."""
    if real:
        done = subprocess.run(
            [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        ran = Ran(done.returncode, done.stdout, done.stderr)
    else:
        from lessonloop.cli.app import app

        result = CliRunner().invoke(app, list(args), env=env)
        ran = Ran(result.exit_code, result.stdout, result.stderr)
    if ok:
        assert ran.returncode == 0, ran.stderr + ran.stdout
    return ran


def _json(env: dict[str, str], *args: str, real: bool = False):
    return json.loads(_cli(env, *args, "--json", real=real).stdout)


def test_signals_end_to_end(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LESSONLOOP_HOME": str(tmp_path / "home"),
        "LESSONLOOP_DATABASE_URL": database_url,
        "LESSONLOOP_ACTOR": "reviewer-ann",
        "COLUMNS": "200",
    }
    _cli(env, "init")
    for name in ("checkout", "payments"):
        _cli(env, "services", "add", name)
    # The detect action's threshold hint applies to a stored series (its expected effect).
    points = tmp_path / "latency_p99.csv"
    points.write_text("timestamp,value\n2026-03-02T10:00:00Z,1\n2026-03-02T10:01:00Z,2\n")
    _cli(env, "import", "series", str(points), "--service", "checkout")
    _cli(env, "review", "import", str(REVIEW), "--create-incident")

    bad = _cli(env, "signals", "extract", ok=False)
    assert bad.returncode == 2 and "--all" in bad.stderr
    extracted = _json(env, "signals", "extract", "--all", "--no-model", real=True)
    assert extracted[0]["created"] and not extracted[0]["auto_accepted"]
    again = _json(env, "signals", "extract", "INC-2026-0042", "--no-model")
    assert again[0]["created"] == [] and len(again[0]["existing"]) == len(extracted[0]["created"])

    proposed = _json(env, "signals", "list", "--status", "proposed")
    windows = _json(env, "signals", "list", "--status", "proposed", "--kind", "incident_window")
    assert len(windows) == 2 and len(proposed) > len(windows)
    hint = next(s for s in proposed if s["provenance"]["extractor"] == "structure.actions")
    gap = next(s for s in proposed if s["payload"]["kind"] == "instrumentation_gap")
    noise = next(s for s in proposed if s["provenance"]["extractor"] == "text.noise-statement")

    refused = _cli(
        env,
        "signals",
        "accept",
        str(windows[0]["id"]),
        "--edit",
        "end=2026-03-02T09:00:00Z",
        ok=False,
    )
    assert refused.returncode == 2 and "payload.end" in refused.stderr
    _cli(env, "signals", "accept", str(windows[0]["id"]), "--edit", "end=2026-03-02T11:20:00Z")
    _cli(env, "signals", "accept", str(hint["id"]), "--edit", "value=350")
    _cli(env, "signals", "reject", str(noise["id"]), "--why", "the disk alert is real on batch")
    _cli(env, "signals", "check")
    first = _cli(env, "signals", "cut", real=True)
    assert "signal set v1" in first.stdout
    _cli(env, "signals", "accept", str(gap["id"]))
    _cli(env, "signals", "retire", str(hint["id"]), "--why", "threshold moved to SLO burn rate")
    assert "signal set v2" in _cli(env, "signals", "cut").stdout

    change = _json(env, "signals", "diff", "1", "2")
    assert [s["id"] for s in change["added"]] == [gap["id"]]
    assert [s["id"] for s in change["removed"]] == [hint["id"]]
    assert _json(env, "signals", "diff", "v1", "v2") == change  # as `signals sets` shows them
    lineage = _json(env, "signals", "trace", str(windows[0]["id"]))
    assert lineage["incident_key"] == "INC-2026-0042" and lineage["sets"] == [1, 2]
    assert lineage["signal"]["decided_by"] == "reviewer-ann"
    assert lineage["signal"]["payload"]["end"].startswith("2026-03-02T11:20:00")

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO model_versions (task, config, signal_set_version, status, created_at, "
                "status_changed_at) VALUES ('metric_anomaly', '{}', 1, 'candidate', "
                "'2026-03-05 00:00:00', '2026-03-05 00:00:00')"
            )
        )
        actors = {
            row[0]
            for row in conn.execute(
                text(
                    "SELECT actor FROM audit_events WHERE action IN "
                    "('signal.accept', 'signal.reject')"
                )
            )
        }
    engine.dispose()
    assert actors == {"reviewer-ann"}
    used = _json(env, "signals", "used-by", str(hint["id"]))
    assert used["sets"] == [1] and used["model_versions"][0]["signal_set_version"] == 1
    assert _json(env, "signals", "used-by", str(gap["id"]))["model_versions"] == []

    _cli(env, "signals", "export", "1", "--format", "parquet", str(tmp_path / "out"))
    table = pq.read_table(tmp_path / "out" / "threshold_hint.parquet").to_pylist()
    assert table[0]["value"] == 350.0 and table[0]["replaces"] is None
    assert (tmp_path / "out" / "schema.json").is_file()
    _cli(env, "signals", "export", "v2", "--format", "jsonl", str(tmp_path / "js"))
    assert (tmp_path / "js" / "instrumentation_gap.jsonl").is_file()
    wrong = _cli(env, "signals", "export", "1", "--format", "csv", str(tmp_path / "x"), ok=False)
    assert wrong.returncode == 2 and "format" in wrong.stderr
    missing = _cli(env, "signals", "trace", "9999", ok=False)
    assert missing.returncode == 4
