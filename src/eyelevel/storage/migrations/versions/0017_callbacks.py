"""callbacks: callbacks booked by customers, and each company's callback offer

- ``callback_settings``: slot length, business days ahead, lead time, and whether every active
  member takes callbacks (no row: the defaults).
- ``callback_agents``: the agents who take callbacks when not every member does.
- ``callbacks``: one row per booking with its slot, owner, state (booked, calling, done, missed,
  rescheduled, cancelled), the customer's note and the logged outcome. A partial unique index
  lets an agent hold at most one active (booked or calling) callback per slot.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)
ACTIVE = sa.text("state IN ('booked', 'calling')")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "callback_settings",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("days_ahead", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("all_agents", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("callback_settings", "company_id", "companies"),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_callback_settings")),
    )
    op.create_table(
        "callback_agents",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("agent_id", Id, autoincrement=False, nullable=False),
        _fk("callback_agents", "company_id", "companies"),
        _fk("callback_agents", "agent_id", "agents"),
        sa.PrimaryKeyConstraint("company_id", "agent_id", name=op.f("pk_callback_agents")),
    )
    op.create_table(
        "callbacks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("owner_agent_id", Id, nullable=False),
        sa.Column("slot_start", TS, nullable=False),
        sa.Column("slot_end", TS, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("rescheduled_from", sa.BigInteger(), nullable=True),
        sa.Column("replaced_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("callbacks", "company_id", "companies"),
        _fk("callbacks", "conversation_id", "conversations"),
        _fk("callbacks", "customer_id", "customers"),
        _fk("callbacks", "owner_agent_id", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index("ix_callbacks_company_slot", "callbacks", ["company_id", "slot_start"])
    op.create_index(
        "ix_callbacks_company_conversation", "callbacks", ["company_id", "conversation_id"]
    )
    op.create_index(
        "uq_callbacks_owner_slot",
        "callbacks",
        ["company_id", "owner_agent_id", "slot_start"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_callbacks_owner_slot", table_name="callbacks")
    op.drop_index("ix_callbacks_company_conversation", table_name="callbacks")
    op.drop_index("ix_callbacks_company_slot", table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_table("callback_agents")
    op.drop_table("callback_settings")
