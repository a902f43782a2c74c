"""Keep the search index current: one document per incident, review, insight and action item.

Every document carries the incident's facets (services, their domains, severity, failure
modes, incident types, tags, alert names) so a filter on any facet finds every kind of
document. Indexing is idempotent: a document whose content hash is unchanged is not rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.common import content_hash
from lessonloop.knowledge.taxonomy import TaxonomyTerm, cached_terms, matching_terms
from lessonloop.storage import search as search_store
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

__all__ = ["IndexOutcome", "incident_documents", "index_incident", "reindex_all"]

LABEL_KINDS = ("failure_mode_label", "remediation_label")


@dataclass(frozen=True)
class IndexOutcome:
    """What one indexing run changed."""

    written: int = 0
    removed: int = 0
    unchanged: int = 0

    def __add__(self, other: IndexOutcome) -> IndexOutcome:
        return IndexOutcome(
            self.written + other.written,
            self.removed + other.removed,
            self.unchanged + other.unchanged,
        )


def _joined(*parts: Any) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, list | tuple):
            out.extend(str(p) for p in part if p)
        elif part:
            out.append(str(part))
    return "\n".join(out)


def _labels(review: ReviewRow | None, session: Session) -> dict[str, list[str]]:
    """Failure-mode and remediation labels a reviewer gave (signal blocks and kept signals)."""
    found: dict[str, list[str]] = {kind: [] for kind in LABEL_KINDS}
    if review is None:
        return found
    for block in review.signal_blocks or []:
        if isinstance(block, dict) and block.get("kind") in LABEL_KINDS and block.get("label"):
            found[block["kind"]].append(str(block["label"]).lower())
    signals = session.execute(
        select(SignalRow.kind, SignalRow.payload).where(
            SignalRow.review_id == review.id,
            SignalRow.kind.in_(LABEL_KINDS),
            SignalRow.status != "rejected",
        )
    )
    for kind, payload in signals:
        if isinstance(payload, dict) and payload.get("label"):
            found[kind].append(str(payload["label"]).lower())
    return {kind: sorted(set(values)) for kind, values in found.items()}


def _review_body(review: ReviewRow, session: Session) -> str:
    timeline = session.scalars(
        select(TimelineEventRow.text)
        .where(TimelineEventRow.review_id == review.id)
        .order_by(TimelineEventRow.position)
    )
    decisions = [
        _joined(d.get("decision"), d.get("alternatives"), d.get("outcome"))
        for d in review.decision_points or []
        if isinstance(d, dict)
    ]
    alerts = [
        _joined(a.get("alert"), a.get("reason"))
        for a in review.alert_notes or []
        if isinstance(a, dict)
    ]
    return _joined(
        review.summary,
        review.impact,
        review.detection,
        list(timeline),
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
    """Explicit labels when there are any, else the terms whose keywords occur in the text."""
    if explicit:
        return sorted(set(explicit)), "label"
    inferred = matching_terms(terms, taxonomy, text)
    return inferred, "keywords" if inferred else "none"


def incident_documents(
    session: Session, incident_key: str, terms: list[TaxonomyTerm] | None = None
) -> list[dict[str, Any]]:
    """The search documents of one incident, ready for ``storage.search.write_documents``."""
    incident = get_incident_row(incident_key, session=session)
    terms = terms if terms is not None else cached_terms(session)
    service_rows = session.execute(
        select(ServiceRow.name, ServiceRow.domain)
        .join(IncidentServiceRow, IncidentServiceRow.service_id == ServiceRow.id)
        .where(IncidentServiceRow.incident_id == incident.id)
        .order_by(IncidentServiceRow.position)
    )
    services, domains = [], []
    for name, domain in service_rows:
        services.append(name)
        if domain:
            domains.append(domain)
    review = session.scalar(select(ReviewRow).where(ReviewRow.incident_id == incident.id))
    tags = [str(t).lower() for t in incident.tags or []]
    labels = _labels(review, session)
    review_body = _review_body(review, session) if review is not None else ""
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
    alert_names = sorted(
        {
            a.name
            for a in session.execute(
                select(AlertRow.name).where(AlertRow.incident_id == incident.id)
            )
            if a.name
        }
        | {
            str(a.get("alert"))
            for a in (review.alert_notes if review is not None else [])
            if isinstance(a, dict) and a.get("alert")
        }
    )
    facets = {
        "service": services,
        "domain": sorted(set(domains)),
        "severity": [incident.severity],
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
        for insight in session.execute(
            select(InsightRow.id, InsightRow.text)
            .where(InsightRow.review_id == review.id)
            .order_by(InsightRow.position)
        ):
            docs.append(("insight", str(insight.id), "", insight.text))
        for action in session.execute(
            select(ActionItemRow.id, ActionItemRow.title, ActionItemRow.type)
            .where(ActionItemRow.review_id == review.id)
            .order_by(ActionItemRow.position)
        ):
            docs.append(
                (
                    "action",
                    str(action.id),
                    action.title,
                    f"{action.type} action item",  # status is read live, never stale
                )
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


def index_incident(
    session: Session, incident_key: str, terms: list[TaxonomyTerm] | None = None
) -> IndexOutcome:
    """Bring the index of one incident up to date; unchanged documents are left alone."""
    documents = incident_documents(session, incident_key, terms)
    existing = search_store.existing_hashes(incident_key, session=session)
    changed = [
        d
        for d in documents
        if existing.get((d["entity_type"], d["entity_id"]), (0, ""))[1] != d["content_hash"]
    ]
    wanted = {(d["entity_type"], d["entity_id"]) for d in documents}
    stale = [key for key in existing if key not in wanted]
    search_store.write_documents(changed, session=session, existing=existing)
    removed = search_store.delete_documents(stale, session=session)
    return IndexOutcome(len(changed), removed, len(documents) - len(changed))


def reindex_all(
    session: Session, progress: Callable[[int, int], None] | None = None
) -> IndexOutcome:
    """Index every incident (oldest first) and drop documents of incidents that are gone."""
    keys = list(
        session.scalars(select(IncidentRow.key).order_by(IncidentRow.started_at, IncidentRow.key))
    )
    terms = cached_terms(session)
    total = IndexOutcome()
    for done, key in enumerate(keys, start=1):
        total = total + index_incident(session, key, terms)
        if progress is not None:
            progress(done, len(keys))
    known = set(keys)
    orphans = session.execute(
        select(
            search_store.search_documents.c.entity_type,
            search_store.search_documents.c.entity_id,
            search_store.search_documents.c.incident_key,
        )
    )
    stale = [(kind, ident) for kind, ident, key in orphans if key not in known]
    removed = search_store.delete_documents(stale, session=session)
    return total + IndexOutcome(removed=removed)
