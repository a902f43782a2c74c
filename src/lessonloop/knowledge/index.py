"""Keep the search index current: one document per incident, review, insight and action item.

Documents are built by `knowledge.documents`. Indexing is idempotent: a document whose
content hash is unchanged is not rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.knowledge.documents import SavedReview, incident_documents
from lessonloop.knowledge.taxonomy import TaxonomyTerm, cached_terms
from lessonloop.storage import search as search_store
from lessonloop.storage.tables import (
    IncidentRow,
)

__all__ = [
    "IndexOutcome",
    "SavedReview",
    "incident_documents",
    "index_incident",
    "reindex_all",
]


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


def index_incident(
    session: Session,
    incident_key: str,
    terms: list[TaxonomyTerm] | None = None,
    *,
    saved: SavedReview | None = None,
) -> IndexOutcome:
    """Bring the index of one incident up to date; unchanged documents are left alone.

    ``saved``: the incident's review as just saved in this session (fewer queries).
    """
    documents = incident_documents(session, incident_key, terms, saved=saved)
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
