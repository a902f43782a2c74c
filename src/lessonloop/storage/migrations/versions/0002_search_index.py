"""search index: documents, facets, FTS5 (SQLite) or tsvector + GIN (PostgreSQL)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lessonloop.storage.types
from lessonloop.storage.search import POSTGRES_DDL, SQLITE_DDL, SQLITE_DROP

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.String(length=120), nullable=False),
        sa.Column("incident_key", sa.String(length=120), nullable=False),
        sa.Column("started_at", lessonloop.storage.types.UtcDateTime(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("facets", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_documents"),
        sa.UniqueConstraint("entity_type", "entity_id", name="uq_search_documents_entity"),
    )
    op.create_index("ix_search_documents_incident_key", "search_documents", ["incident_key"])
    op.create_index("ix_search_documents_started_at", "search_documents", ["started_at"])
    op.create_table(
        "search_facets",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["search_documents.id"],
            ondelete="CASCADE",
            name="fk_search_facets_document_id_search_documents",
        ),
        sa.PrimaryKeyConstraint("document_id", "facet", "value", name="pk_search_facets"),
    )
    op.create_index("ix_search_facets_lookup", "search_facets", ["facet", "value", "document_id"])
    ddl = SQLITE_DDL if op.get_bind().dialect.name == "sqlite" else POSTGRES_DDL
    for statement in ddl:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_index("ix_search_facets_lookup", table_name="search_facets")
    op.drop_table("search_facets")
    op.drop_index("ix_search_documents_started_at", table_name="search_documents")
    op.drop_index("ix_search_documents_incident_key", table_name="search_documents")
    op.drop_table("search_documents")
