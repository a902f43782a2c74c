"""roles: who may change what once a workspace is shared

A workspace without role grants stays open, so existing workspaces behave as before until an
administrator makes the first grant.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lessonloop.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("person_key", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_at", lessonloop.storage.types.UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
        sa.UniqueConstraint("person_key", "role", name="uq_role_grants_identity"),
    )
    op.create_index("ix_role_grants_person_key", "role_grants", ["person_key"])


def downgrade() -> None:
    op.drop_index("ix_role_grants_person_key", table_name="role_grants")
    op.drop_table("role_grants")
