"""agent inbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:07:31.952946
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_audit_log_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_company", ["company_id", "id"], unique=False)

    op.create_table(
        "canned_responses",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("shortcut", sa.String(length=50), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_canned_responses_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_canned_responses_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
    )
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_canned_responses_company", ["company_id", "agent_id", "shortcut"], unique=False
        )

    op.create_table(
        "labels",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("created_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_labels_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_labels_company_id_name")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_recovery_codes_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("agent_id", "code_hash", name=op.f("pk_recovery_codes")),
    )
    op.create_table(
        "conversation_labels",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("label_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_conversation_labels_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_labels_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_conversation_labels_label_id_labels")
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "conversation_id", "label_id", name=op.f("pk_conversation_labels")
        ),
    )
    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_labels_label",
            ["company_id", "label_id", "conversation_id"],
            unique=False,
        )

    op.create_table(
        "mentions",
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_mentions_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_mentions_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_mentions_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_mentions_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("company_id", "message_id", "agent_id", name=op.f("pk_mentions")),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mentions_company_agent", ["company_id", "agent_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_mentions_company_agent_conversation",
            ["company_id", "agent_id", "conversation_id", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "totp_enabled_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("presence", sa.String(length=10), nullable=False, server_default="offline")
        )
        batch_op.add_column(
            sa.Column(
                "presence_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=True
            )
        )

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holidays", sa.JSON(), nullable=False, server_default="[]"))

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "waiting_since", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            "ix_conversations_company_status_waiting",
            ["company_id", "status", "waiting_since", "last_activity_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversations_company_status_agent",
            ["company_id", "status", "owner_agent_id", "last_activity_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversations_company_status_agent_waiting",
            ["company_id", "status", "owner_agent_id", "waiting_since", "last_activity_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversations_company_status_team",
            ["company_id", "status", "owner_team_id", "last_activity_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_conversations_company_status_team_waiting",
            ["company_id", "status", "owner_team_id", "waiting_since", "last_activity_at", "id"],
            unique=False,
        )

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_index("ix_sessions_principal", ["kind", "principal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_principal")
        batch_op.drop_column("user_agent")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_company_status_team_waiting")
        batch_op.drop_index("ix_conversations_company_status_team")
        batch_op.drop_index("ix_conversations_company_status_agent_waiting")
        batch_op.drop_index("ix_conversations_company_status_agent")
        batch_op.drop_index("ix_conversations_company_status_waiting")
        batch_op.drop_column("waiting_since")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("holidays")

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("presence_at")
        batch_op.drop_column("presence")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_company_agent_conversation")
        batch_op.drop_index("ix_mentions_company_agent")

    op.drop_table("mentions")
    with op.batch_alter_table("conversation_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_labels_label")

    op.drop_table("conversation_labels")
    op.drop_table("recovery_codes")
    op.drop_table("labels")
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_canned_responses_company")

    op.drop_table("canned_responses")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_company")

    op.drop_table("audit_log")
