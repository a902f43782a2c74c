"""Property: any workspace survives export → import → export byte for byte."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessonloop.domain import (
    ActionItemCreate,
    IncidentCreate,
    InsightCreate,
    ReviewCreate,
    ServiceCreate,
    TimelineEvent,
)
from lessonloop.services.portability import export_workspace, import_workspace
from lessonloop.services.workspace import init_workspace
from lessonloop.settings import Settings
from lessonloop.storage import incidents, reviews, series, services

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               min_size=1, max_size=40).filter(lambda s: s.strip())
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@st.composite
def workspaces(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 4))
    return {
        "incidents": [
            {"title": draw(text), "summary": draw(text), "minutes": draw(st.integers(0, 10**6)),
             "insight": draw(text), "action": draw(text), "event": draw(text),
             "confidence": draw(st.floats(0, 1)),
             "values": draw(st.lists(st.floats(allow_nan=True, allow_infinity=False,
                                               width=64), min_size=1, max_size=20))}
            for _ in range(n)
        ]
    }


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(workspaces())
def test_export_import_export_is_identical_for_any_content(data: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = init_workspace(Settings(home=root / "a"), actor="prop")
        with source.transaction() as session:
            services.create(ServiceCreate(name="svc"), session=session, actor="prop")
            for number, item in enumerate(data["incidents"]):
                key = f"INC-{number}"
                start = T0 + dt.timedelta(minutes=item["minutes"])
                incidents.create(IncidentCreate(key=key, title=item["title"][:200],
                                                summary=item["summary"], services=["svc"],
                                                started_at=start), session=session, actor="p")
                reviews.save(ReviewCreate(
                    incident_key=key, title=item["title"][:200],
                    timeline=[TimelineEvent(at=start, kind="alert", text=item["event"])],
                    insights=[InsightCreate(kind="observation", text=item["insight"],
                                            confidence=item["confidence"])],
                    action_items=[ActionItemCreate(title=item["action"][:200], owner="o",
                                                   due=dt.date(2026, 1, 1))]),
                    session=session, actor="p")
                stamps = [1_700_000_000 + 60 * i for i in range(len(item["values"]))]
                import numpy as np

                series.put("svc", f"m{number}", np.array(stamps), np.array(item["values"]),
                           session=session, actor="t")
        first, second = root / "1.jsonl", root / "2.jsonl"
        export_workspace(source, first)
        target = init_workspace(Settings(home=root / "b",  # restored with the source's key
                                         redaction_key_file=source.settings.resolved_key_file),
                                actor="prop")
        import_workspace(target, first)
        export_workspace(target, second)
        assert first.read_bytes() == second.read_bytes()
        source.close()
        target.close()
