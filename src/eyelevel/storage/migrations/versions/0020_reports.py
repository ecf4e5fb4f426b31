"""reports: an index for the conversations a company started in a period

The reports (docs/reports.md) read a company's conversations by ``created_at`` range; no new
table: every number is computed from conversations, messages, events and ``sla_clocks``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-25 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_conversations_company_created", "conversations", ["company_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_company_created", table_name="conversations")
