"""audit trail: an index on (entity_type, entity_id)

The history of one object (a model version in `models show`, an action item's last import
when a review is re-imported) is read by entity; without an index each such read scanned the
whole audit trail, which grows with every change.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
