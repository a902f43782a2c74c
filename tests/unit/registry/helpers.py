"""Shared test helpers: external tools that must exist under CI, and frozen signal sets."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from lessonloop.domain.common import content_hash, utc_now
from lessonloop.storage.tables import SignalRow, SignalSetMemberRow, SignalSetRow


def require_tool(name: str) -> str:
    """Path of an external tool; missing it fails under CI=true and skips locally."""
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"{name} is required under CI (apt-get install prometheus prometheus-alertmanager)"
        )
    pytest.skip(f"{name} not installed")


def freeze_signal_set(
    session, version: int, payloads: list[dict[str, Any]], review_id: int | None = None
) -> None:
    """Store accepted signals and a signal set holding their snapshots."""
    now = utc_now()
    members = []
    for payload in payloads:
        row = SignalRow(
            kind=payload["kind"],
            payload=payload,
            provenance={},
            confidence=0.9,
            author="t",
            status="accepted",
            content_hash=content_hash(payload),
            created_at=now,
        )
        session.add(row)
        session.flush()
        members.append(row)
    set_row = SignalSetRow(
        version=version,
        parent_version=None,
        content_hash="0" * 64,
        created_at=now,
        created_by="t",
        notes=[],
    )
    session.add(set_row)
    session.flush()
    for row in members:
        snapshot = {
            "id": row.id,
            "status": "accepted",
            "payload": row.payload,
            "provenance": {"review_id": review_id, "insight_id": None},
        }
        session.add(
            SignalSetMemberRow(
                set_id=set_row.id, signal_id=row.id, signal_hash=row.content_hash, snapshot=snapshot
            )
        )
    session.flush()
