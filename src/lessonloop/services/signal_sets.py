"""Use cases for signal sets: quality checks, cut, diff, trace, used-by, export, training reads."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.access import Permission
from lessonloop.domain.common import utc_now
from lessonloop.domain.enums import SignalKind, SignalStatus
from lessonloop.domain.models import ModelVersionRead
from lessonloop.domain.signals import SignalRead, SignalSetRead, label_words
from lessonloop.errors import Conflict, InputError
from lessonloop.knowledge.taxonomy import list_terms
from lessonloop.services.access import require
from lessonloop.services.signal_config import SignalConfig, load_config, series_by_service
from lessonloop.services.workspace import Workspace
from lessonloop.signals.export import ExportFormat, export_signals
from lessonloop.signals.quality import QualityInput, QualityReport, run_checks
from lessonloop.signals.sets import SetDiff, diff_sets, set_hash
from lessonloop.storage import incidents, reviews
from lessonloop.storage import signal_sets as set_store
from lessonloop.storage import signals as store
from lessonloop.storage.tables import IncidentRow, InsightRow

__all__ = [
    "QualityReport",
    "check",
    "cut",
    "CutResult",
    "list_sets",
    "diff",
    "Trace",
    "trace",
    "used_by",
    "export",
    "signals_of_set",
    "signals_to_cut",
    "latest_set_version",
]


def _quality(
    session: Session, config: SignalConfig, now: dt.datetime | None = None
) -> tuple[list[SignalRead], QualityReport]:
    now = now or utc_now()
    accepted = store.list_signals(session=session, status=SignalStatus.ACCEPTED)
    known = {row.key: row.severity for row in session.scalars(select(IncidentRow))}
    words = {
        name: {label_words(t.value) for t in list_terms(session, name)}
        for name in ("failure_mode", "remediation")
    }
    report = run_checks(
        QualityInput(accepted, known, series_by_service(session), now, words), config.quality
    )
    expired = {i for f in report.findings if f.check == "expired" for i in f.signal_ids}
    return [s for s in accepted if s.id not in expired], report


def check(ws: Workspace) -> QualityReport:
    """Run the quality checks on what a cut would contain now."""
    config = load_config(ws)
    with ws.transaction() as session:
        return _quality(session, config)[1]


@dataclass
class CutResult:
    signal_set: SignalSetRead
    created: bool
    report: QualityReport


def cut(ws: Workspace, *, now: dt.datetime | None = None) -> CutResult:
    """Cut version N+1 of all accepted, valid signals, atomically; blocked by blocking findings.

    The cut happens at ``now`` (default: the time of the run): what has expired by then is
    left out, and the set and its audit event record it (a back-fill, ``lessonloop demo``)."""
    require(ws, Permission.TRAIN, "cut signal sets")
    config = load_config(ws)
    with ws.transaction() as session:
        members, report = _quality(session, config, now)
        if report.blocking:
            lines = "; ".join(f"[{f.check}] {f.message}" for f in report.blocking)
            raise Conflict(f"cut blocked by {len(report.blocking)} finding(s): {lines}")
        digest = set_hash(members)
        latest = set_store.latest_version(session=session)
        if latest is not None:
            previous = set_store.get_set(latest, session=session)
            if previous.content_hash == digest:
                return CutResult(previous, False, report)
        made = set_store.cut_set(
            members, digest, session=session, actor=ws.actor, notes=report.notes, now=now
        )
        return CutResult(made, True, report)


def list_sets(ws: Workspace) -> list[SignalSetRead]:
    with ws.transaction() as session:
        return set_store.list_sets(session=session)


def diff(ws: Workspace, old: int, new: int) -> SetDiff:
    with ws.transaction() as session:
        return diff_sets(
            set_store.set_members(old, session=session), set_store.set_members(new, session=session)
        )


@dataclass(frozen=True)
class Trace:
    """A signal's lineage back to the human sentence: insight → review → incident."""

    signal: SignalRead
    insight: str | None
    review_id: int | None
    review_title: str | None
    incident_key: str | None
    incident_title: str | None
    sets: list[int]


def trace(ws: Workspace, signal_id: int) -> Trace:
    with ws.transaction() as session:
        signal = store.get(signal_id, session=session)
        p = signal.provenance
        insight = session.get(InsightRow, p.insight_id) if p.insight_id is not None else None
        review = reviews.get(p.review_id, session=session) if p.review_id is not None else None
        incident = incidents.get(p.incident_key, session=session) if p.incident_key else None
        return Trace(
            signal,
            insight.text if insight else None,
            review.id if review else None,
            review.title if review else None,
            incident.key if incident else None,
            incident.title if incident else None,
            set_store.sets_containing(signal_id, session=session),
        )


def used_by(ws: Workspace, signal_id: int) -> tuple[list[int], list[ModelVersionRead]]:
    """The set versions holding a signal and the model versions trained on any of them."""
    with ws.transaction() as session:
        versions = set_store.sets_containing(signal_id, session=session)
        return versions, set_store.model_versions_using(versions, session=session)


def export(ws: Workspace, version: int, fmt: ExportFormat, directory: Path) -> list[Path]:
    if fmt not in ("parquet", "jsonl"):
        raise InputError(f"format is parquet or jsonl, not {fmt!r}", field="format")
    with ws.transaction() as session:
        chosen = set_store.get_set(version, session=session)
        members = set_store.set_members(version, session=session)
    return export_signals(members, directory, fmt, version=version, set_hash=chosen.content_hash)


def _by_kind(members: list[SignalRead]) -> dict[SignalKind, list[SignalRead]]:
    grouped: dict[SignalKind, list[SignalRead]] = defaultdict(list)
    for signal in members:
        grouped[signal.kind].append(signal)
    return dict(grouped)


def signals_of_set(ws: Workspace, version: int) -> dict[SignalKind, list[SignalRead]]:
    """The accepted signals of a set version (as cut), grouped by kind: training data."""
    with ws.transaction() as session:
        members = set_store.set_members(version, session=session)
    return _by_kind(members)


def signals_to_cut(ws: Workspace) -> dict[SignalKind, list[SignalRead]]:
    """The signals a cut would hold now, grouped by kind: to check a task's data before a cut."""
    config = load_config(ws)
    with ws.transaction() as session:
        members = _quality(session, config)[0]
    return _by_kind(members)


def latest_set_version(ws: Workspace) -> int | None:
    with ws.transaction() as session:
        return set_store.latest_version(session=session)
