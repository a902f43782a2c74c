"""Use cases of the knowledge base: search, precedents, taxonomy editing, reindexing."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy.orm import Session

from lessonloop.domain.access import Permission
from lessonloop.knowledge import index, precedents, search, taxonomy
from lessonloop.knowledge.index import IndexOutcome
from lessonloop.knowledge.precedents import PrecedentResults
from lessonloop.knowledge.search import SearchFilters, SearchResults
from lessonloop.knowledge.taxonomy import TaxonomyTerm
from lessonloop.services.access import require
from lessonloop.services.import_redaction import redact_query
from lessonloop.services.workspace import Workspace
from lessonloop.storage import audit
from lessonloop.text.tokens import has_cjk

__all__ = [
    "SearchFilters",
    "SearchResults",
    "PrecedentResults",
    "search_knowledge",
    "find_precedents",
    "reindex",
    "list_taxonomy",
    "add_taxonomy_term",
    "remove_taxonomy_term",
    "has_cjk",
]


def search_knowledge(
    ws: Workspace, query: str, filters: SearchFilters | None = None, *, limit: int = 10
) -> SearchResults:
    """Ranked full-text search over incidents, reviews, insights and action items.

    The query is redacted as imports are (same keyed tokens), so searching for an email, an
    address or a key that was redacted on import finds the documents holding its token; the
    raw value itself is never stored, so it cannot match anything else.
    """
    with ws.transaction() as session:
        return search.search(session, redact_query(ws.settings, query), filters, limit=limit)


def find_precedents(
    ws: Workspace,
    *,
    incident_key: str | None = None,
    text: str | None = None,
    limit: int = 5,
    only: Collection[str] | None = None,
    redacted: bool = False,
) -> PrecedentResults:
    """Similar past incidents for an incident (or free text), with why and what was done.

    ``only`` restricts the candidates to those incidents (see `precedents.find_precedents`).
    The text is redacted as imports are, unless ``redacted`` says the caller did that already
    (redaction runs once: a second pass could alter the first one's tokens).
    """
    query = redact_query(ws.settings, text) if text and not redacted else text
    with ws.transaction() as session:
        return precedents.find_precedents(
            session, incident_key=incident_key, text=query, limit=limit, only=only
        )


def reindex(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> IndexOutcome:
    """Rebuild the search index from the workspace's incidents and reviews."""
    with ws.transaction() as session:
        return index.reindex_all(session, progress=progress)


def list_taxonomy(ws: Workspace, name: str | None = None) -> list[TaxonomyTerm]:
    with ws.transaction() as session:
        return taxonomy.list_terms(session, name)


def _record_edit(
    session: Session, actor: str, action: str, term: str, details: dict[str, Any]
) -> None:
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="taxonomy",
        entity_id=term,
        details=details,
    )


def add_taxonomy_term(
    ws: Workspace, name: str, value: str, *, description: str = "", keywords: tuple[str, ...] = ()
) -> TaxonomyTerm:
    """Add a term and re-index, since keyword-inferred facets may change."""
    require(ws, Permission.ADMINISTER, "edit taxonomies")
    with ws.transaction() as session:
        term = taxonomy.add_term(session, name, value, description=description, keywords=keywords)
        details = {"description": description, "keywords": list(keywords)}
        _record_edit(session, ws.actor, "taxonomy.add", f"{term.taxonomy}:{term.value}", details)
        index.reindex_all(session)
        return term


def remove_taxonomy_term(ws: Workspace, name: str, value: str) -> str:
    """Remove the term spelt like ``value`` and re-index, since keyword-inferred facets may
    change; returns the term as it was stored."""
    require(ws, Permission.ADMINISTER, "edit taxonomies")
    with ws.transaction() as session:
        removed = taxonomy.remove_term(session, name, value)
        _record_edit(session, ws.actor, "taxonomy.remove", f"{name}:{removed}", {})
        index.reindex_all(session)
        return removed
