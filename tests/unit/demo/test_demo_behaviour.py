"""Determinism, input checks and the imperfections of the static alerting the loop must fix."""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from pathlib import Path

import pytest

from lessonloop.demo.alertmanager import fingerprint
from lessonloop.demo.generate import GeneratedOrg, generate_organisation
from lessonloop.demo.org import build_services
from lessonloop.demo.timegrid import TimeGrid
from lessonloop.errors import Conflict, InputError


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_same_seed_gives_byte_identical_folder(
    small_org: GeneratedOrg, small_settings: dict[str, int], tmp_path: Path
) -> None:
    again = generate_organisation(tmp_path / "again", **small_settings)
    assert _tree(again.root) == _tree(small_org.root)


def test_other_seed_gives_other_organisation(
    small_org: GeneratedOrg, small_settings: dict[str, int], tmp_path: Path
) -> None:
    other = generate_organisation(tmp_path / "other", **{**small_settings, "seed": 12})
    assert _tree(other.root)["truth.json"] != _tree(small_org.root)["truth.json"]


def test_regenerating_over_a_previous_demo_replaces_it(tmp_path: Path) -> None:
    first = generate_organisation(tmp_path / "d", seed=3, quarters=1, step_minutes=30)
    (first.reviews_dir / "stale.md").write_text("old")
    calls: list[tuple[str, int, int]] = []
    generate_organisation(
        tmp_path / "d", seed=3, quarters=1, step_minutes=30, progress=lambda *c: calls.append(c)
    )
    assert not (first.reviews_dir / "stale.md").exists()
    assert {"incidents", "reviews", "series files"} <= {stage for stage, _, _ in calls}
    assert all(0 <= done <= total for _, done, total in calls)


def test_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(Conflict):
        generate_organisation(tmp_path, quarters=1, step_minutes=30)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [("quarters", {"quarters": 0}), ("step_minutes", {"step_minutes": 7}), ("seed", {"seed": -1})],
)
def test_bad_settings_are_input_errors(tmp_path: Path, field: str, kwargs: dict[str, int]) -> None:
    with pytest.raises(InputError) as caught:
        generate_organisation(tmp_path / "x", **kwargs)
    assert caught.value.field == field


def test_demo_help_names_exactly_the_step_minutes_the_generator_accepts() -> None:
    import re

    from typer.testing import CliRunner

    from lessonloop.cli.app import app
    from lessonloop.demo.generate import _validate

    shown = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "300"}).output
    help_line = next(line for line in shown.splitlines() if "--step-minutes" in line)
    named = {int(n) for n in re.findall(r"\d+", help_line.split("resolution", 1)[1])}
    accepted = set()
    for minutes in range(1, 61):
        try:
            _validate(1, minutes, 0)
        except InputError:
            continue
        accepted.add(minutes)
    assert named == accepted


def test_default_size_stays_under_six_million_points() -> None:
    series = sum(len(s.metrics) for s in build_services())
    assert series * TimeGrid(4, 5).n < 6_000_000


def test_fingerprint_is_fnv1a_of_sorted_labels_and_stable() -> None:
    assert fingerprint({}) == "cbf29ce484222325"  # the FNV-1a 64-bit offset basis
    labels = {"alertname": "HighLatencyP99", "service": "checkout", "severity": "page"}
    assert fingerprint(labels) == fingerprint(dict(reversed(list(labels.items()))))
    assert fingerprint(labels) != fingerprint({**labels, "service": "search"})


def test_fingerprints_are_the_same_for_the_same_labels_across_payloads(
    small_org: GeneratedOrg,
) -> None:
    seen: dict[str, str] = {}
    for line in small_org.alert_files[0].read_text().splitlines():
        for alert in json.loads(line)["alerts"]:
            key = json.dumps(alert["labels"], sort_keys=True)
            assert seen.setdefault(key, alert["fingerprint"]) == alert["fingerprint"]
            assert alert["fingerprint"] == fingerprint(alert["labels"])
    assert len(seen) > 3


def _first_alert_delays(org: GeneratedOrg) -> dict[str, list[float]]:
    """Minutes from true start to the first alert on an affected service, per failure mode."""
    starts = []
    for line in org.alert_files[0].read_text().splitlines():
        for alert in json.loads(line)["alerts"]:
            if alert["status"] == "firing":
                starts.append((_ts(alert["startsAt"]), alert["labels"]["service"]))
    truth = json.loads(org.truth_file.read_text())
    delays: dict[str, list[float]] = {}
    for incident in truth["incidents"]:
        begin, end = _ts(incident["true_start"]), _ts(incident["true_end"])
        affected = {s["service"] for s in incident["services"]}
        fired = [t for t, svc in starts if svc in affected and begin <= t <= end]
        if fired:
            minutes = (min(fired) - begin).total_seconds() / 60
            delays.setdefault(incident["failure_mode"], []).append(minutes)
    return delays


def test_static_alerts_page_later_on_slow_failure_modes(small_org: GeneratedOrg) -> None:
    delays = _first_alert_delays(small_org)
    slow = statistics.median(delays["memory_leak"] + delays.get("capacity_exhaustion", []))
    fast = statistics.median(delays["bad_config_push"])
    assert slow > 2 * fast
    assert statistics.median(delays["memory_leak"]) > 45


def test_static_alerts_are_noisy_on_nightly_compaction(small_org: GeneratedOrg) -> None:
    truth = json.loads(small_org.truth_file.read_text())
    noise = [a for a in truth["alerts"] if a["is_noise"]]
    real = [a for a in truth["alerts"] if not a["is_noise"]]
    assert real and len(noise) > len(real)
    compaction = [a for a in noise if a["alertname"] == "DiskSpaceHigh"]
    assert all(a["host"].startswith("batch-") for a in compaction)
    assert all(0 <= _ts(a["starts_at"]).hour <= 5 for a in compaction)
    assert len(compaction) > 45  # most of the quarter's 91 nights page at least once
    assert any(a["noise_cause"] == "daily_peak" for a in noise)
