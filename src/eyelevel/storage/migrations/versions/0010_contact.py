"""contact: contact preferences per customer and company, company-started conversations'
topics, and the notification rows of the email (and push) pipeline

- ``contact_preferences``: the topics a customer opted into with one company, the channels
  (push, email), quiet hours in the customer's time zone, whether mails include the text,
  and the mails' language. No row means the defaults (replies, by email).
- ``contact_starts``: the topic (updates, news) a company started a conversation for.
- ``notifications``: one row per company message and channel, unique, so nothing is sent
  twice; its state says whether it was sent, read first, or dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contact_preferences",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("customer_id", Id, autoincrement=False, nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("include_text", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contact_preferences_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contact_preferences_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("company_id", "customer_id", name=op.f("pk_contact_preferences")),
    )
    op.create_index("ix_contact_preferences_customer", "contact_preferences", ["customer_id"])
    op.create_table(
        "contact_starts",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("conversation_id", Id, autoincrement=False, nullable=False),
        sa.Column("topic", sa.String(length=10), nullable=False),
        sa.Column("started_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_contact_starts_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_contact_starts_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("company_id", "conversation_id", name=op.f("pk_contact_starts")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("message_id", Id, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_notifications_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "company_id",
            "message_id",
            "channel",
            name=op.f("uq_notifications_company_id_message_id_channel"),
        ),
    )
    op.create_index(
        "ix_notifications_conversation",
        "notifications",
        ["company_id", "conversation_id", "channel", "state"],
    )
    op.create_index("ix_notifications_claim", "notifications", ["claim"])


def downgrade() -> None:
    op.drop_index("ix_notifications_claim", table_name="notifications")
    op.drop_index("ix_notifications_conversation", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("contact_starts")
    op.drop_index("ix_contact_preferences_customer", table_name="contact_preferences")
    op.drop_table("contact_preferences")
