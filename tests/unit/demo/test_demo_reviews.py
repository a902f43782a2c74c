"""Generated reviews follow docs/review-format.md and carry the lessons the loop learns from."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from lessonloop.demo.generate import GeneratedOrg

KINDS = {
    "detection",
    "diagnosis",
    "repair",
    "decision",
    "communication",
    "alert",
    "change",
    "key moment",
}
MARKERS = {"", "first symptom", "detected", "mitigated", "resolved"}
VERDICTS = {"actionable", "noise", "duplicate", "late", "missed"}
CATEGORIES = {
    "technical",
    "cognitive bias",
    "communication",
    "information silo",
    "tooling",
    "process",
}
ALWAYS = [
    "Summary",
    "Impact",
    "Detection",
    "Timeline",
    "Alerts",
    "Observations",
    "Recommendations",
    "Action items",
]
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$")


def _split(path: Path) -> tuple[dict[str, object], dict[str, str]]:
    text = path.read_text()
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    sections = dict(re.findall(r"^## (.+?)\n\n(.*?)(?=\n## |\Z)", body, flags=re.S | re.M))
    return yaml.safe_load(head), sections


def _table(text: str, columns: int) -> list[list[str]]:
    rows = [line for line in text.strip().splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    assert all(len(r) == columns for r in cells), cells
    return cells[2:]


def test_front_matter_matches_the_format_and_the_pagerduty_key(small_org: GeneratedOrg) -> None:
    pd = json.loads(small_org.pagerduty_incidents_file.read_text())["incidents"]
    keys = {i["incident_key"] for i in pd}
    services = {s["name"] for s in yaml.safe_load(small_org.services_file.read_text())["services"]}
    assert len(small_org.review_files) == small_org.incidents
    for path in small_org.review_files:
        front, _ = _split(path)
        assert front["lessonloop"] == "review/1"
        assert front["incident"] == path.stem and front["incident"] in keys
        assert front["review_id"] is None and front["template"] == "default"
        assert re.fullmatch(r"SEV[1-5]", str(front["severity"]))
        assert set(front["services"]) <= services  # type: ignore[arg-type]
        times = [front[k] for k in ("started_at", "detected_at", "mitigated_at", "resolved_at")]
        assert all(t.tzinfo is not None for t in times)  # type: ignore[union-attr]
        assert times == sorted(times)  # type: ignore[type-var]
        assert front["detection_method"] in ("alert", "customer", "human")


def test_sections_tables_and_insights_follow_the_format(small_org: GeneratedOrg) -> None:
    for path in small_org.review_files:
        _, sections = _split(path)
        assert set(ALWAYS) <= set(sections), path.name
        timeline = _table(sections["Timeline"], 5)
        assert all(TIME.match(r[0]) and r[1] in KINDS and r[2] in MARKERS for r in timeline)
        assert [r[0] for r in timeline] == sorted(r[0] for r in timeline)
        assert sum(r[2] == "first symptom" for r in timeline) == 1
        assert all(r[1] in VERDICTS and r[0] for r in _table(sections["Alerts"], 3))
        for name in ("Observations", "Recommendations"):
            for line in sections[name].strip().splitlines():
                match = re.match(r"^- \[([a-z ]+)\] (.+?)( \{.*\})?$", line)
                assert match and match.group(1) in CATEGORIES, line
                if match.group(3):
                    meta = yaml.safe_load(match.group(3))
                    assert 0 <= meta.get("confidence", 0.5) <= 1
        for row in _table(sections["Action items"], 7):
            assert row[1] in ("detect", "mitigate", "prevent", "process")
            assert row[2] and re.fullmatch(r"\d{4}-\d\d-\d\d", row[3])
            assert row[4] in ("P1", "P2", "P3", "P4")
            assert row[5] in ("open", "in progress", "done", "wont do")
            assert row[6] == "" or re.fullmatch(r"[a-z_]+ (up|down) [a-z-]+", row[6])
        if "Signals" in sections:
            block = re.search(r"```yaml\n(.*?)```", sections["Signals"], flags=re.S)
            assert block and isinstance(yaml.safe_load(block.group(1)), list)


def test_reviews_carry_threshold_noise_and_gap_lessons(small_org: GeneratedOrg) -> None:
    text = "\n".join(p.read_text() for p in small_org.review_files)
    assert re.search(r"threshold", text)
    assert re.search(r"compaction", text)
    assert re.search(r"no metric for|not instrumented|Nothing told us about", text)
    assert '{alertname="DiskSpaceHigh", host=~"batch-.*"} | noise' in text


def test_alert_cells_name_alerts_that_were_generated(small_org: GeneratedOrg) -> None:
    fired = set()
    for line in small_org.alert_files[0].read_text().splitlines():
        for alert in json.loads(line)["alerts"]:
            fired.add((alert["labels"]["alertname"], alert["labels"]["service"]))
    names = {name for name, _ in fired}
    for path in small_org.review_files:
        _, sections = _split(path)
        for cell, verdict, _ in _table(sections["Alerts"], 3):
            if verdict == "missed":
                continue
            match = re.match(r'\{alertname="(\w+)", service="([\w-]+)"\}', cell)
            if match:
                assert (match.group(1), match.group(2)) in fired, cell
            elif not cell.startswith("{"):
                assert cell in names


def test_some_reviews_are_imperfect_as_in_life(small_org: GeneratedOrg) -> None:
    truth = json.loads(small_org.truth_file.read_text())
    defects = [d for i in truth["incidents"] for d in i["review_defects"]]
    assert defects, "every review is perfect; real ones are not"
    for incident in truth["incidents"]:
        if "wrong_first_symptom" in incident["review_defects"]:
            assert incident["review_first_symptom"] > incident["true_start"]
