"""Extraction on reviews written from the shared public postmortems (pure: no database)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from lessonloop.domain import IncidentRead, InsightRead, ReviewRead, SignalKind, TimelineEvent
from lessonloop.signals.context import ExtractionInput
from lessonloop.signals.extract_structure import extract_structure
from lessonloop.signals.extract_text import extract_text, load_rules

CHOSEN = [
    "b29ba3ed-e3be-48f0-95b4-979e69ced0ab",
    "938b8012-7768-4847-b108-4bd1eb61a931",
    "029b4a8e-0332-4b91-abc3-5f84bdf70094",
    "018edf27-f738-448d-8c46-947cd3b6d5b0",
]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _review_from(path: Path, review_id: int) -> ExtractionInput:
    """A review object from a postmortem: paragraphs become observations, times a timeline."""
    _, front_text, body = path.read_text("utf-8").split("---", 2)
    front = yaml.safe_load(front_text)
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    start, end = front.get("start_time"), front.get("end_time")
    timeline = []
    if start and end:
        timeline = [
            TimelineEvent(
                at=start, kind="key moment", marker="first symptom", text="Visible impact began"
            ),
            TimelineEvent(at=end, kind="repair", marker="mitigated", text="Impact ended"),
        ]
    key = f"PM-{path.stem[:8]}"
    incident = IncidentRead(
        id=review_id, key=key, title=front["title"][:200], services=["web"], started_at=start or NOW
    )
    review = ReviewRead(
        id=review_id,
        incident_key=key,
        title=front["title"][:200],
        status="published",
        summary=front.get("summary") or "",
        timeline=timeline,
        authors=["reader"],
        insights=[
            InsightRead(
                id=review_id * 100 + i,
                review_id=review_id,
                position=i,
                kind="observation",
                text=text,
            )
            for i, text in enumerate(paragraphs)
        ],
        content_hash="0" * 64,
        created_at=NOW,
        updated_at=NOW,
        status_changed_at=NOW,
    )
    return ExtractionInput(review=review, incident=incident)


def test_postmortem_reviews_give_gaps_and_windows_with_exact_spans(shared_datasets) -> None:
    rules = load_rules()
    folder = shared_datasets / "postmortems" / "data"
    gaps, windows = {}, {}
    for n, stem in enumerate(CHOSEN, start=1):
        source = _review_from(folder / f"{stem}.md", n)
        found = extract_text(source, rules)
        found.extend(extract_structure(source))
        for signal in found.proposals:
            p = signal.provenance
            assert p.review_id == n and p.incident_key == source.incident.key
            if p.span is not None and p.field.startswith("insights["):
                index = int(p.field[len("insights[") : p.field.index("]")])
                insight = source.review.insights[index]
                assert p.insight_id == insight.id
                assert insight.text[p.span[0] : p.span[1]] == p.text
            elif p.span is not None:
                assert getattr(source.review, p.field)[p.span[0] : p.span[1]] == p.text
            if signal.kind == SignalKind.INSTRUMENTATION_GAP:
                gaps[stem] = signal
            if signal.kind == SignalKind.INCIDENT_WINDOW:
                windows[stem] = signal
    assert gaps[CHOSEN[0]].payload.missing == "the MongoDB instances"
    assert gaps[CHOSEN[0]].provenance.text == "lack of monitoring on the MongoDB instances"
    assert gaps[CHOSEN[1]].payload.missing == "the release mismatch"
    window = windows[CHOSEN[2]].payload
    assert (window.start, window.end) == (
        dt.datetime(2022, 11, 18, 15, 40, tzinfo=dt.UTC),
        dt.datetime(2022, 11, 18, 16, 12, tzinfo=dt.UTC),
    )
    assert CHOSEN[3] not in gaps  # a security leak with no monitoring statement: nothing invented
