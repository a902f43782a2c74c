"""Small, seeded builders of workspace content for tests (no shared data needed)."""

from __future__ import annotations

import datetime as dt
import random

from lessonloop.domain import (
    ActionItemCreate,
    IncidentCreate,
    InsightCreate,
    ReviewCreate,
    ServiceCreate,
    TimelineEvent,
)
from lessonloop.storage import incidents, reviews, services

SERVICES = ["edge", "api", "checkout", "payments", "db", "cache"]
T0 = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)


def populate(session, n_incidents: int, *, seed: int = 1, actor: str = "factory") -> list[str]:
    """Register services and ``n_incidents`` incidents, each with a review; returns the keys."""
    rng = random.Random(seed)
    for name in SERVICES:
        services.create(ServiceCreate(name=name, tier=rng.randint(1, 3), team="sre"),
                        session=session, actor=actor)
    services.add_dependency("api", "db", session=session, actor=actor)
    keys = []
    for number in range(n_incidents):
        start = T0 + dt.timedelta(hours=7 * number, minutes=rng.randint(0, 59))
        key = f"INC-{number:05d}"
        affected = rng.sample(SERVICES, rng.randint(1, 3))
        incidents.create(IncidentCreate(
            key=key, title=f"{affected[0]} degraded ({rng.choice(['latency', 'errors'])})",
            severity=f"SEV{rng.randint(1, 4)}", services=affected, started_at=start,
            detected_at=start + dt.timedelta(minutes=rng.randint(1, 40)),
            resolved_at=start + dt.timedelta(hours=2), summary="Users saw élevé latency ☕",
            tags=["generated"]), session=session, actor=actor)
        reviews.save(ReviewCreate(
            incident_key=key, title=f"Review of {key}", summary="What happened.",
            timeline=[TimelineEvent(at=start, kind="key moment", marker="first symptom",
                                    text=f"{affected[0]} p99 left its band")],
            insights=[InsightCreate(kind="observation", text="The alert paged late.",
                                    confidence=0.8),
                      InsightCreate(kind="recommendation", text="Alert on the SLO burn rate.")],
            action_items=[ActionItemCreate(title="Add burn-rate alert", type="detect",
                                           owner="ana", due=dt.date(2026, 1, 1))]),
            session=session, actor=actor)
        keys.append(key)
    return keys


def propose_failure_mode(
    session, incident_key: str, label: str, *, review_id: int | None = None, actor: str = "t"
) -> int:
    """Store a proposed failure_mode_label for an incident (from a review if given); its id."""
    from lessonloop.domain.signals import FailureModeLabel, SignalCreate, SignalProvenance
    from lessonloop.storage import signals as signal_store

    made, _ = signal_store.create_proposal(
        SignalCreate(
            payload=FailureModeLabel(incident_key=incident_key, label=label),
            provenance=SignalProvenance(
                incident_key=incident_key, review_id=review_id, extractor="test"
            ),
        ),
        session=session,
        actor=actor,
    )
    return made.id


def accept_failure_mode(
    session, incident_key: str, label: str, *, review_id: int | None = None, actor: str = "t"
) -> int:
    """Store an accepted failure_mode_label for an incident (as a reviewer would); its id."""
    from lessonloop.storage import signals as signal_store

    made = propose_failure_mode(session, incident_key, label, review_id=review_id, actor=actor)
    signal_store.accept(made, session=session, actor=actor)
    return made


def review_file_text(
    *,
    front: str = "",
    started_at: str = "2026-03-02T10:12:00Z",
    summary: str = "Checkout was slow.",
    actions: str = "",
    observation: str = "- [technical] The threshold paged late.",
    services: str | None = "[checkout]",
) -> str:
    """A minimal valid review file for INC-7 on checkout; ``front`` adds front-matter lines
    (each ending in a newline), ``actions`` the action-item table's rows."""
    listed = f"services: {services}\n" if services else ""
    return f"""---
lessonloop: review/1
incident: INC-7
title: Checkout slow
{listed}started_at: {started_at}
{front}---

## Summary
{summary}

## Impact
Some users.

## Detection
Paged late.

## Timeline
| At (UTC) | Kind | Marker | Actor | Event |
|---|---|---|---|---|
| 2026-03-02 10:12 | key moment | first symptom | | p99 left its band |

## Contributing factors
- A config push.

## Observations
{observation}

## Action items
| Title | Type | Owner | Due | Priority | Status | Expected effect |
|---|---|---|---|---|---|---|
{actions}
"""


def seed_checkout_incident(ws, key: str = "INC-7") -> None:
    """The checkout service and incident ``key`` (2026-03-02 10:00 UTC), for review imports."""
    with ws.transaction() as session:
        services.create(ServiceCreate(name="checkout"), session=session, actor="t")
        incidents.create(
            IncidentCreate(
                key=key,
                title="Checkout slow",
                services=["checkout"],
                started_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
            ),
            session=session,
            actor="t",
        )


def snapshot(ws) -> str:
    """The whole workspace as its dump text (to show nothing changed)."""
    from lessonloop.storage.dump import export_rows

    with ws.transaction() as session:
        return "\n".join(export_rows(session))


def invoke_cli(ws, *args: str, actor: str):
    """Run the CLI in process on `ws`'s workspace and database, acting as `actor`."""
    from typer.testing import CliRunner

    from lessonloop.cli.app import app

    base = ["--home", str(ws.settings.home), "--database-url",
            ws.settings.resolved_database_url, "--actor", actor]
    return CliRunner().invoke(app, [*base, *args])
