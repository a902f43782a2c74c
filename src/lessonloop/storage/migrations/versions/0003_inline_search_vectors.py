"""search index: keep PostgreSQL's tsvector and the short columns inline (STORAGE MAIN)

A search reads the ``tsvector`` of every document it checks or ranks. A document's vector is
usually over 2 kB, so by default PostgreSQL moved it out of line (each read a TOAST index
lookup plus two chunk reads, several times slower for a broad query at 100,000 documents),
and, the row still being over the 2 kB target, the title and facets too. With STORAGE MAIN
only the body (read for the ten snippets shown) goes out of line. Existing rows are rewritten
so the change applies to them. SQLite (FTS5) is unchanged.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INLINE_COLUMNS = (
    "tsv",
    "title",
    "facets",
    "incident_key",
    "entity_type",
    "entity_id",
    "content_hash",
)


def _set_storage(strategy: str) -> None:
    clauses = ", ".join(f"ALTER COLUMN {name} SET STORAGE {strategy}" for name in INLINE_COLUMNS)
    op.execute(f"ALTER TABLE search_documents {clauses}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_storage("MAIN")
    # an update rewrites each row (and recomputes its generated vector) under the new storage
    op.execute("UPDATE search_documents SET title = title")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_storage("EXTENDED")
