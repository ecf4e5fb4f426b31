"""sla: business calendars and response-time targets per team, SLA clocks per conversation

- ``team_sla_policies``: per team its calendar (weekly hours and holidays; NULL: the company's)
  and its targets in business minutes (first response, next response, resolution; NULL: none),
  and whether a breach hands the conversation back to the team queue.
- ``sla_clocks``: one row per conversation and started target: its due time, how much business
  time it used and was paused, when it warned, was breached, met or cancelled (the record the
  reports are computed from, docs/sla.md).
- ``conversations.sla`` (the open clocks, as the inbox and the customer see them) and
  ``conversations.sla_due_at`` (the earliest due time among them: sort=due) with its index.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "team_sla_policies",
        sa.Column("company_id", Id, nullable=False),
        sa.Column("team_id", Id, nullable=False),
        sa.Column("business_hours", sa.JSON(), nullable=True),
        sa.Column("holidays", sa.JSON(), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("reassign_on_breach", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_team_sla_policies_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_sla_policies_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("company_id", "team_id", name=op.f("pk_team_sla_policies")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("team_id", Id, nullable=True),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("running_since", TS, nullable=True),
        sa.Column("elapsed_us", sa.BigInteger(), nullable=False),
        sa.Column("paused_at", TS, nullable=True),
        sa.Column("paused_us", sa.BigInteger(), nullable=False),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("warn_at", TS, nullable=True),
        sa.Column("warned_at", TS, nullable=True),
        sa.Column("breached_at", TS, nullable=True),
        sa.Column("met_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_sla_clocks_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_clocks_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    op.create_index(
        "ix_sla_clocks_company_conversation", "sla_clocks", ["company_id", "conversation_id", "id"]
    )
    op.create_index("ix_sla_clocks_company_started", "sla_clocks", ["company_id", "started_at"])
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("sla", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("sla_due_at", TS, nullable=True))
    op.create_index(
        "ix_conversations_company_status_due",
        "conversations",
        ["company_id", "status", "sla_due_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_company_status_due", table_name="conversations")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("sla_due_at")
        batch_op.drop_column("sla")
    op.drop_index("ix_sla_clocks_company_started", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_company_conversation", table_name="sla_clocks")
    op.drop_table("sla_clocks")
    op.drop_table("team_sla_policies")
