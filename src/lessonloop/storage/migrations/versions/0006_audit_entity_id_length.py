"""audit events: an entity id long enough for a metric series (SERVICE/NAME)

A series is recorded in the audit trail as `series:SERVICE/NAME`; a service name has up to 120
characters and a series name up to 200, so the id column grows from 120 to 330.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column(
            "entity_id",
            existing_type=sa.String(length=120),
            type_=sa.String(length=330),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Ids longer than 120 characters (series only) would not fit the old column: they are
    # cut, keeping the events (the details hold the whole service and name).
    op.execute(
        "UPDATE audit_events SET entity_id = substr(entity_id, 1, 120) "
        "WHERE length(entity_id) > 120"
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column(
            "entity_id",
            existing_type=sa.String(length=330),
            type_=sa.String(length=120),
            existing_nullable=False,
        )
