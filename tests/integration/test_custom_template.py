"""Custom review templates as YAML: their sections, required fields and rules are honoured."""

from __future__ import annotations

import datetime as dt

import pytest

from lessonloop.domain import IncidentCreate, ServiceCreate
from lessonloop.errors import InputError
from lessonloop.ingest.templates import load_template
from lessonloop.services import reviews as review_service
from lessonloop.storage import incidents, services

LIGHT = """
name: light
version: 2
description: A short review for SEV3 and below.
rules: {action_items_require_owner: true, action_items_require_due: false}
sections:
  - {key: summary, title: What happened, shape: prose, required: true, prompt: "Two lines."}
  - {key: observations, title: Learned, shape: insights, required: true}
  - {key: action_items, title: Follow-ups, shape: actions, required: false}
"""


def test_custom_template_from_the_workspace_folder(workspace, tmp_path) -> None:
    folder = workspace.settings.home / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "light.yaml").write_text(LIGHT)
    with workspace.transaction() as session:
        services.create(ServiceCreate(name="api"), session=session, actor="t")
        incidents.create(IncidentCreate(key="INC-9", title="Blip", services=["api"],
                                        started_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC)),
                         session=session, actor="t")
    path = review_service.new_review_file(workspace, "INC-9", tmp_path / "r.md",
                                          template="light")
    text = path.read_text()
    assert "## What happened" in text and "## Timeline" not in text
    assert "template: light" in text and "template_version: 2" in text
    with pytest.raises(InputError, match="What happened"):
        review_service.import_review(workspace, path)
    text = text.replace("## What happened\n", "## What happened\n\nA short blip.\n")
    text = text.replace("## Learned\n", "## Learned\n\n- [process] Nobody owned the alert.\n")
    text = text.replace("## Follow-ups\n", "## Follow-ups\n\n| Title | Type | Owner | Due | "
                        "Priority | Status | Expected effect |\n|---|---|---|---|---|---|---|\n"
                        "| Assign an owner | process | ana |  | P3 | open | |\n")
    path.write_text(text)
    review, outcome = review_service.import_review(workspace, path)
    assert outcome == "created" and review.template == "light" and review.template_version == 2
    assert review.summary == "A short blip." and review.action_items[0].due is None


def test_a_broken_template_is_a_located_error(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nsections:\n  - {key: a, title: A, shape: poem}\n")
    with pytest.raises(InputError) as info:
        load_template(str(bad))
    assert info.value.file == str(bad) and "sections" in (info.value.field or "")
