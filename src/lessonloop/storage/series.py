"""Metric series, stored as packed arrays (one row per series, not one per point)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.errors import NotFound
from lessonloop.storage import audit
from lessonloop.storage.services import get_row as get_service_row
from lessonloop.storage.tables import SeriesRow, ServiceRow

__all__ = [
    "StoredSeries",
    "delete",
    "get",
    "labels_by_series",
    "list_for_service",
    "list_series",
    "put",
]


@dataclass(frozen=True)
class StoredSeries:
    """A series as the models see it: epoch seconds (int64) and values (float64)."""

    service: str
    name: str
    timestamps: np.ndarray
    values: np.ndarray
    source: str = ""
    # Which Prometheus series this is: ``__name__`` and the other labels; empty when unknown.
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.service}/{self.name}"


def _digest(timestamps: np.ndarray, values: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(timestamps.astype("<i8").tobytes())
    h.update(values.astype("<f8").tobytes())
    return h.hexdigest()


def _to_utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)


def put(
    service: str,
    name: str,
    timestamps: np.ndarray,
    values: np.ndarray,
    *,
    session: Session,
    actor: str,
    source: str = "",
    merge: bool = True,
    labels: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> Literal["created", "updated", "unchanged"]:
    """Store a series; with ``merge`` new points are merged into the stored ones by timestamp.
    A new series and a changed one each write an audit event (``series:SERVICE/NAME``, the
    points' content hash before and after). ``labels`` (the series' Prometheus identity)
    replace the stored ones; None keeps them. The audit event is at `now` (default: the time of
    the run)."""
    service_row = get_service_row(service, session=session)
    ts = np.asarray(timestamps, dtype="<i8")
    vals = np.asarray(values, dtype="<f8")
    row = session.scalar(
        select(SeriesRow).where(SeriesRow.service_id == service_row.id, SeriesRow.name == name)
    )
    if row is not None and merge:
        old_ts = np.frombuffer(row.timestamps, dtype="<i8")
        old_vals = np.frombuffer(row.values, dtype="<f8")
        all_ts = np.concatenate([old_ts, ts])
        all_vals = np.concatenate([old_vals, vals])
        # Later points win on equal timestamps: keep the last occurrence of each.
        order = np.argsort(all_ts, kind="stable")
        all_ts, all_vals = all_ts[order], all_vals[order]
        keep = np.append(all_ts[1:] != all_ts[:-1], True)
        ts, vals = all_ts[keep], all_vals[keep]
    digest = _digest(ts, vals)
    relabel = row is not None and labels is not None and dict(row.labels or {}) != labels
    if row is not None and row.content_hash == digest and not relabel:
        return "unchanged"
    fields = dict(
        start=_to_utc(ts[0]),
        end=_to_utc(ts[-1]),
        n_points=int(ts.size),
        timestamps=ts.tobytes(),
        values=vals.tobytes(),
        content_hash=digest,
    )
    details: dict[str, object] = {"points": int(ts.size), "source": source}
    if labels:
        details["labels"] = dict(labels)
    if row is None:
        session.add(
            SeriesRow(
                service_id=service_row.id,
                name=name,
                source=source,
                labels=dict(labels or {}),
                **fields,
            )
        )
        _audit("series.create", service, name, None, digest, details, session, actor, now)
        session.flush()
        return "created"
    before = row.content_hash
    for key, value in fields.items():
        setattr(row, key, value)
    row.source = source or row.source
    if relabel:
        row.labels = dict(labels or {})
    _audit("series.update", service, name, before, digest, details, session, actor, now)
    session.flush()
    return "updated"


def _audit(
    action: str,
    service: str,
    name: str,
    before: str | None,
    after: str | None,
    details: dict[str, object],
    session: Session,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="series",
        entity_id=f"{service}/{name}",
        before_hash=before,
        after_hash=after,
        details={"service": service, "name": name, **details},
        at=now,
    )


def delete(service: str, name: str, *, session: Session, actor: str) -> StoredSeries:
    """Remove a stored series (audited with its content hash); returns what was removed."""
    service_row = get_service_row(service, session=session)
    row = session.scalar(
        select(SeriesRow).where(SeriesRow.service_id == service_row.id, SeriesRow.name == name)
    )
    if row is None:
        raise NotFound(f"no series {name!r} for service {service!r}")
    removed = _load(row, service)
    details: dict[str, object] = {
        "points": row.n_points,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "source": row.source,
    }
    _audit("series.delete", service, name, row.content_hash, None, details, session, actor)
    session.delete(row)
    session.flush()
    return removed


def _load(row: SeriesRow, service: str) -> StoredSeries:
    return StoredSeries(
        service=service,
        name=row.name,
        timestamps=np.frombuffer(row.timestamps, dtype="<i8").copy(),
        values=np.frombuffer(row.values, dtype="<f8").copy(),
        source=row.source,
        labels={str(k): str(v) for k, v in (row.labels or {}).items()},
    )


def get(service: str, name: str, *, session: Session) -> StoredSeries:
    service_row = get_service_row(service, session=session)
    row = session.scalar(
        select(SeriesRow).where(SeriesRow.service_id == service_row.id, SeriesRow.name == name)
    )
    if row is None:
        raise NotFound(f"no series {name!r} for service {service!r}")
    return _load(row, service)


def list_for_service(service: str, *, session: Session) -> list[StoredSeries]:
    service_row = get_service_row(service, session=session)
    rows = session.scalars(
        select(SeriesRow).where(SeriesRow.service_id == service_row.id).order_by(SeriesRow.name)
    )
    return [_load(row, service) for row in rows]


def list_series(*, session: Session) -> list[tuple[str, str, int, dt.datetime, dt.datetime]]:
    """(service, name, points, start, end) for every stored series, without loading points."""
    query = (
        select(ServiceRow.name, SeriesRow.name, SeriesRow.n_points, SeriesRow.start, SeriesRow.end)
        .join(ServiceRow, ServiceRow.id == SeriesRow.service_id)
        .order_by(ServiceRow.name, SeriesRow.name)
    )
    return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def labels_by_series(*, session: Session) -> dict[tuple[str, str], dict[str, str]]:
    """(service, name) -> the stored Prometheus labels of every series, without loading points."""
    query = select(ServiceRow.name, SeriesRow.name, SeriesRow.labels).join(
        ServiceRow, ServiceRow.id == SeriesRow.service_id
    )
    return {
        (service, name): {str(k): str(v) for k, v in (labels or {}).items()}
        for service, name, labels in session.execute(query)
    }
