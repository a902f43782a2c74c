"""The full-text search index: documents, their facets, and the engine-specific text index.

The index is derived data (rebuilt by ``lessonloop.knowledge.index.reindex_all``), so its
tables live in their own metadata and are not part of the workspace dump. SQLite keeps an
FTS5 table in step with ``search_documents`` through triggers; PostgreSQL keeps a generated
``tsvector`` column with a GIN index, stored inline in the row with the other short columns
(only the body goes out of line; migration 0003), so a search reads no TOAST for the rows it
checks and ranks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from lessonloop.storage.types import JsonType, UtcDateTime

__all__ = [
    "search_metadata",
    "search_documents",
    "search_facets",
    "SQLITE_DDL",
    "POSTGRES_DDL",
    "existing_hashes",
    "write_documents",
    "delete_documents",
]

search_metadata = MetaData()

search_documents = Table(
    "search_documents",
    search_metadata,
    Column("id", Integer, primary_key=True),
    Column("entity_type", String(20), nullable=False),
    Column("entity_id", String(120), nullable=False),
    Column("incident_key", String(120), nullable=False, index=True),
    Column("started_at", UtcDateTime, nullable=True, index=True),
    Column("title", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("facets", JsonType, nullable=False, default=dict),
    Column("content_hash", String(64), nullable=False),
    UniqueConstraint("entity_type", "entity_id", name="uq_search_documents_entity"),
)

search_facets = Table(
    "search_facets",
    search_metadata,
    Column(
        "document_id",
        Integer,
        ForeignKey("search_documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("facet", String(20), primary_key=True),
    Column("value", String(120), primary_key=True),
    Index("ix_search_facets_lookup", "facet", "value", "document_id"),
)

SQLITE_DDL: tuple[str, ...] = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
SQLITE_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TABLE IF EXISTS search_fts",
)

POSTGRES_DDL: tuple[str, ...] = (
    "ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)",
)


@cache
def _documents_of_incident() -> Select[str, str, int, str]:
    """Keys, row ids and hashes of incident ``:incident_key``'s documents (built once)."""
    return select(
        search_documents.c.entity_type,
        search_documents.c.entity_id,
        search_documents.c.id,
        search_documents.c.content_hash,
    ).where(search_documents.c.incident_key == bindparam("incident_key"))


def existing_hashes(
    incident_key: str, *, session: Session
) -> dict[tuple[str, str], tuple[int, str]]:
    """Row id and content hash of each indexed document of an incident, by (type, id)."""
    rows = session.execute(_documents_of_incident(), {"incident_key": incident_key})
    return {(kind, ident): (row_id, digest) for kind, ident, row_id, digest in rows}


def _facet_rows(document_id: int, facets: dict[str, Sequence[str]]) -> list[dict[str, Any]]:
    seen = {
        (name, str(value)[:120])
        for name, values in facets.items()
        if not name.startswith("_")
        for value in values
    }
    return [
        {"document_id": document_id, "facet": name, "value": value} for name, value in sorted(seen)
    ]


def write_documents(
    documents: Sequence[dict[str, Any]],
    *,
    session: Session,
    existing: dict[tuple[str, str], tuple[int, str]] | None = None,
) -> int:
    """Insert or replace documents (keyed by entity type and id) and their facet rows.

    ``existing`` (from ``existing_hashes``) saves a lookup per document. Facet names starting
    with ``_`` are kept in the document's JSON only (not filterable).
    """
    if existing is None:
        existing = {}
        for doc in documents:
            found = session.scalar(
                select(search_documents.c.id).where(
                    search_documents.c.entity_type == doc["entity_type"],
                    search_documents.c.entity_id == doc["entity_id"],
                )
            )
            if found is not None:
                existing[(doc["entity_type"], doc["entity_id"])] = (found, "")
    ids: list[int] = []
    fresh: list[dict[str, Any]] = []
    for doc in documents:
        known = existing.get((doc["entity_type"], doc["entity_id"]))
        if known is None:
            fresh.append(doc)
            continue
        session.execute(
            update(search_documents).where(search_documents.c.id == known[0]).values(**doc)
        )
        ids.append(known[0])
    if ids:
        session.execute(delete(search_facets).where(search_facets.c.document_id.in_(ids)))
    facet_rows = [
        row
        for doc in documents
        if (doc["entity_type"], doc["entity_id"]) in existing
        for row in _facet_rows(existing[(doc["entity_type"], doc["entity_id"])][0], doc["facets"])
    ]
    if fresh:
        # matched back by key, not by order: one multi-row INSERT on every engine
        created = {
            (kind, ident): row_id
            for row_id, kind, ident in session.execute(
                insert(search_documents).returning(
                    search_documents.c.id,
                    search_documents.c.entity_type,
                    search_documents.c.entity_id,
                ),
                fresh,
            )
        }
        for doc in fresh:
            row_id = created[(doc["entity_type"], doc["entity_id"])]
            facet_rows.extend(_facet_rows(row_id, doc["facets"]))
    if facet_rows:
        session.execute(insert(search_facets), facet_rows)
    return len(documents)


def delete_documents(keys: Iterable[tuple[str, str]], *, session: Session) -> int:
    """Remove documents and their facets by (entity type, entity id)."""
    removed = 0
    for entity_type, entity_id in keys:
        found = session.scalar(
            select(search_documents.c.id).where(
                search_documents.c.entity_type == entity_type,
                search_documents.c.entity_id == entity_id,
            )
        )
        if found is None:
            continue
        session.execute(delete(search_facets).where(search_facets.c.document_id == found))
        session.execute(delete(search_documents).where(search_documents.c.id == found))
        removed += 1
    return removed
