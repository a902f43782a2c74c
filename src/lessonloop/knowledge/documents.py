"""The search documents of one incident: the incident, its review, insights and action items.

Every document carries the incident's facets (services, their domains, severity, failure
modes, incident types, tags, alert names) so a filter on any facet finds every kind of
document. Built from the database, or from an incident and review just saved (`SavedReview`:
the same documents with fewer queries; a test checks that both ways agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from lessonloop.domain.common import content_hash
from lessonloop.domain.incidents import IncidentRead
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import label_words
from lessonloop.knowledge.taxonomy import TaxonomyTerm, cached_terms, matching_terms
from lessonloop.storage.incidents import get_row as get_incident_row
from lessonloop.storage.tables import (
    ActionItemRow,
    AlertRow,
    IncidentRow,
    IncidentServiceRow,
    InsightRow,
    ReviewRow,
    ServiceRow,
    SignalRow,
    TimelineEventRow,
)

__all__ = ["LABEL_KINDS", "SavedReview", "incident_documents"]

LABEL_KINDS = ("failure_mode_label", "remediation_label")


@dataclass(frozen=True)
class SavedReview:
    """An incident and its review as just saved, so indexing need not read them back.

    ``new_review`` (no signal can point at it yet) and ``new_incident`` (no alert can) skip
    the queries whose answer is known to be empty.
    """

    incident: IncidentRead
    review: ReviewRead
    new_review: bool = False
    new_incident: bool = False


IncidentLike = IncidentRow | IncidentRead
ReviewLike = ReviewRow | ReviewRead


def _as_dicts(items: Any) -> list[dict[str, Any]]:
    """Stored JSON objects (a row's) or models (a schema's) as JSON dicts."""
    return [
        item.model_dump(mode="json") if isinstance(item, BaseModel) else item
        for item in items or []
        if isinstance(item, dict | BaseModel)
    ]


def _joined(*parts: Any) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, list | tuple):
            out.extend(str(p) for p in part if p)
        elif part:
            out.append(str(part))
    return "\n".join(out)


def _labels(
    review: ReviewLike | None, session: Session, *, has_signals: bool = True
) -> dict[str, list[str]]:
    """Failure-mode and remediation labels a reviewer gave (signal blocks and kept signals)."""
    found: dict[str, list[str]] = {kind: [] for kind in LABEL_KINDS}
    if review is None:
        return found
    for block in _as_dicts(review.signal_blocks):
        if block.get("kind") in LABEL_KINDS and block.get("label"):
            found[block["kind"]].append(str(block["label"]).lower())
    signals = (
        session.execute(
            select(SignalRow.kind, SignalRow.payload).where(
                SignalRow.review_id == review.id,
                SignalRow.kind.in_(LABEL_KINDS),
                SignalRow.status == "accepted",
            )
        )
        if has_signals
        else ()
    )
    for kind, payload in signals:
        if isinstance(payload, dict) and payload.get("label"):
            found[kind].append(str(payload["label"]).lower())
    return {kind: sorted(set(values)) for kind, values in found.items()}


def _timeline_texts(review: ReviewRow, session: Session) -> list[str]:
    return list(
        session.scalars(
            select(TimelineEventRow.text)
            .where(TimelineEventRow.review_id == review.id)
            .order_by(TimelineEventRow.position)
        )
    )


def _review_body(review: ReviewLike, timeline: list[str]) -> str:
    decisions = [
        _joined(d.get("decision"), d.get("alternatives"), d.get("outcome"))
        for d in _as_dicts(review.decision_points)
    ]
    alerts = [_joined(a.get("alert"), a.get("reason")) for a in _as_dicts(review.alert_notes)]
    return _joined(
        review.summary,
        review.impact,
        review.detection,
        timeline,
        decisions,
        review.contributing_factors,
        review.went_well,
        review.went_wrong,
        review.got_lucky,
        alerts,
        list((review.extra_sections or {}).values()),
    )


def _classified(
    terms: list[TaxonomyTerm], taxonomy: str, explicit: list[str], text: str
) -> tuple[list[str], str]:
    """Explicit labels when there are any, else the terms whose keywords occur in the text.

    An explicit label written as a key (``retry_storm``, ``retry-storm``) is shown as the
    taxonomy term it names (``retry storm``), so one failure mode is one facet value.
    """
    if explicit:
        named = {label_words(t.value): t.value for t in terms if t.taxonomy == taxonomy}
        return sorted({named.get(label_words(label), label) for label in explicit}), "label"
    inferred = matching_terms(terms, taxonomy, text)
    return inferred, "keywords" if inferred else "none"


def _children(
    review: ReviewLike, session: Session
) -> tuple[list[str], list[tuple[int, str]], list[tuple[int, str, str]]]:
    """Timeline texts, insights (id, text) and action items (id, title, type), in order."""
    if isinstance(review, ReviewRead):
        return (
            [event.text for event in review.timeline],
            [(insight.id, insight.text) for insight in review.insights],
            [(action.id, action.title, str(action.type)) for action in review.action_items],
        )
    insights = session.execute(
        select(InsightRow.id, InsightRow.text)
        .where(InsightRow.review_id == review.id)
        .order_by(InsightRow.position)
    )
    actions = session.execute(
        select(ActionItemRow.id, ActionItemRow.title, ActionItemRow.type)
        .where(ActionItemRow.review_id == review.id)
        .order_by(ActionItemRow.position)
    )
    return (
        _timeline_texts(review, session),
        [(row_id, text) for row_id, text in insights],
        [(row_id, title, kind) for row_id, title, kind in actions],
    )


def _sources(
    session: Session, incident_key: str, saved: SavedReview | None
) -> tuple[IncidentLike, ReviewLike | None]:
    """The incident and its review: as just saved, or read from the database."""
    if saved is not None and saved.incident.key == incident_key:
        return saved.incident, saved.review
    incident = get_incident_row(incident_key, session=session)
    return incident, session.scalar(select(ReviewRow).where(ReviewRow.incident_id == incident.id))


@cache
def _services_of_incident() -> Select[str, str | None]:
    """Names and domains of incident ``:incident_id``'s services, in order (built once)."""
    return (
        select(ServiceRow.name, ServiceRow.domain)
        .join(IncidentServiceRow, IncidentServiceRow.service_id == ServiceRow.id)
        .where(IncidentServiceRow.incident_id == bindparam("incident_id"))
        .order_by(IncidentServiceRow.position)
    )


def incident_documents(
    session: Session,
    incident_key: str,
    terms: list[TaxonomyTerm] | None = None,
    *,
    saved: SavedReview | None = None,
) -> list[dict[str, Any]]:
    """The search documents of one incident, ready for ``storage.search.write_documents``.

    ``saved`` (the incident's review as just saved) gives the same documents with fewer
    queries.
    """
    incident, review = _sources(session, incident_key, saved)
    terms = terms if terms is not None else cached_terms(session)
    service_rows = session.execute(_services_of_incident(), {"incident_id": incident.id})
    services, domains = [], []
    for name, domain in service_rows:
        services.append(name)
        if domain:
            domains.append(domain)
    tags = [str(t).lower() for t in incident.tags or []]
    labels = _labels(review, session, has_signals=saved is None or not saved.new_review)
    timeline, insights, actions = _children(review, session) if review is not None else ([], [], [])
    review_body = _review_body(review, timeline) if review is not None else ""
    text = _joined(incident.title, incident.summary, review_body)
    explicit_modes = labels["failure_mode_label"] + [
        t.value for t in terms if t.taxonomy == "failure_mode" and t.value in tags
    ]
    failure_modes, mode_source = _classified(terms, "failure_mode", explicit_modes, text)
    incident_types, _ = _classified(
        terms,
        "incident_type",
        [t.value for t in terms if t.taxonomy == "incident_type" and t.value in tags],
        text,
    )
    remediations, remediation_source = _classified(
        terms, "remediation", labels["remediation_label"], review_body
    )
    alert_rows = (
        ()
        if saved is not None and saved.new_incident
        else session.execute(select(AlertRow.name).where(AlertRow.incident_id == incident.id))
    )
    alert_names = sorted(
        {a.name for a in alert_rows if a.name}
        | {
            str(a.get("alert"))
            for a in (_as_dicts(review.alert_notes) if review is not None else [])
            if a.get("alert")
        }
    )
    facets = {
        "service": services,
        "domain": sorted(set(domains)),
        "severity": [str(incident.severity)],
        "failure_mode": failure_modes,
        "incident_type": incident_types,
        "remediation": remediations,
        "tag": tags,
        "alert": alert_names,
    }
    meta = {"_failure_mode_source": mode_source, "_remediation_source": remediation_source}
    docs: list[tuple[str, str, str, str]] = [
        ("incident", incident.key, incident.title, _joined(incident.summary, tags))
    ]
    if review is not None:
        docs.append(("review", incident.key, review.title, review_body))
        docs.extend(("insight", str(row_id), "", said) for row_id, said in insights)
        docs.extend(
            # status is read live, never stale
            ("action", str(row_id), title, f"{kind} action item")
            for row_id, title, kind in actions
        )
    out = []
    for entity_type, entity_id, title, body in docs:
        doc_facets = {**facets, "entity_type": [entity_type]}
        record = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "incident_key": incident.key,
            "started_at": incident.started_at,
            "title": title,
            "body": body,
            "facets": {**doc_facets, **meta},
        }
        record["content_hash"] = content_hash({**record, "started_at": str(incident.started_at)})
        out.append(record)
    return out
