"""email: email as a channel (docs/email.md)

- ``conversations.channel``: where the conversation came from (``messenger``, ``widget``,
  ``email``, ``api``).
- ``company_mail_addresses``: the inbound addresses (``support@…``) of a company; each address
  belongs to at most one company.
- ``email_conversations``: per email conversation the customer's address replies go to and the
  company address it came in on.
- ``email_message_ids``: the ``Message-ID`` of every mail in and out of a conversation, the only
  key threading uses (never subject or time); outbound rows record when the mail left.
- ``email_senders``: the customer an address that has not been verified by any account
  writes as (an email-only customer); verifying the address later adopts that history.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=20), nullable=False, server_default="messenger")
        )
    op.create_table(
        "company_mail_addresses",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_mail_addresses_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_mail_addresses")),
        sa.UniqueConstraint("address", name=op.f("uq_company_mail_addresses_address")),
    )
    op.create_index(
        "ix_company_mail_addresses_company", "company_mail_addresses", ["company_id", "id"]
    )
    op.create_table(
        "email_conversations",
        sa.Column("company_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("inbound_address", sa.String(length=254), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_email_conversations_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_email_conversations_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "conversation_id", name=op.f("pk_email_conversations")
        ),
    )
    op.create_table(
        "email_message_ids",
        sa.Column("company_id", Id, nullable=False),
        sa.Column("ref", sa.String(length=250), nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("message_id", Id, nullable=True),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_email_message_ids_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_email_message_ids_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_email_message_ids_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("company_id", "ref", name=op.f("pk_email_message_ids")),
    )
    op.create_index(
        "ix_email_message_ids_conversation",
        "email_message_ids",
        ["company_id", "conversation_id", "created_at"],
    )
    op.create_index(
        "ix_email_message_ids_message", "email_message_ids", ["company_id", "message_id"]
    )
    op.create_table(
        "email_senders",
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_email_senders_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_email_senders")),
    )
    op.create_index("ix_email_senders_customer", "email_senders", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_email_senders_customer", table_name="email_senders")
    op.drop_table("email_senders")
    op.drop_index("ix_email_message_ids_message", table_name="email_message_ids")
    op.drop_index("ix_email_message_ids_conversation", table_name="email_message_ids")
    op.drop_table("email_message_ids")
    op.drop_table("email_conversations")
    op.drop_index("ix_company_mail_addresses_company", table_name="company_mail_addresses")
    op.drop_table("company_mail_addresses")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("channel")
