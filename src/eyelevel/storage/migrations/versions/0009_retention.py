"""retention: how long a company keeps resolved conversations

- ``companies.retention_days``: NULL keeps resolved conversations forever; else the daily
  ``retention.run`` job deletes a conversation resolved (and unchanged) for that many days,
  with every row that belongs to it (docs/privacy.md, *Retention*).
- Indexes that let that job find and delete its rows without scanning a company:
  ``ix_conversations_company_status_updated`` (the due conversations: resolved, last changed
  before the cut-off), ``ix_events_company_conversation`` (a conversation's events) and
  ``ix_webhook_deliveries_company_event`` (the deliveries of those events).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("companies", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.create_index(
        "ix_conversations_company_status_updated",
        "conversations",
        ["company_id", "status", "updated_at"],
    )
    op.create_index("ix_events_company_conversation", "events", ["company_id", "conversation_id"])
    op.create_index(
        "ix_webhook_deliveries_company_event", "webhook_deliveries", ["company_id", "event_pos"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_company_event", table_name="webhook_deliveries")
    op.drop_index("ix_events_company_conversation", table_name="events")
    op.drop_index("ix_conversations_company_status_updated", table_name="conversations")
    op.drop_column("companies", "retention_days")
