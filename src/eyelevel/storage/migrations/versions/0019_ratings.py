"""ratings: customers rate resolved conversations (CSAT)

- ``conversation_ratings``: one rating (1–5, a comment) per conversation, replaced when the
  customer rates again, with the agent and team that owned the conversation then (reports
  count it there). Asked for only when the customer opted into feedback requests (the contact
  topic ``feedback``, docs/privacy.md).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversation_ratings",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("conversation_id", Id, autoincrement=False, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("agent_id", Id, nullable=True),
        sa.Column("team_id", Id, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_conversation_ratings_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_ratings_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_conversation_ratings_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "conversation_id", name=op.f("pk_conversation_ratings")
        ),
    )
    op.create_index(
        "ix_conversation_ratings_company_created",
        "conversation_ratings",
        ["company_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_ratings_company_created", table_name="conversation_ratings")
    op.drop_table("conversation_ratings")
