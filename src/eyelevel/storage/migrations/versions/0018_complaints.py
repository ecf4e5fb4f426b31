"""complaints: complaint cases, their trail, and the company's goodwill policy

- ``goodwill_rules``: the company's ordered rules: conditions (days since purchase, amount,
  categories, earlier goodwill in the last months) → remedies an agent may grant directly, up
  to an amount; anything else needs a lead's approval (docs/complaints.md).
- ``complaint_cases``: one case per conversation with its facts, state, pending approval and
  the granted remedy's promise (text, due date).
- ``complaint_steps``: the append-only trail of every step (who, what, which rule).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "goodwill_rules",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("max_days_since_purchase", sa.Integer(), nullable=True),
        sa.Column("max_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("max_prior_goodwill", sa.Integer(), nullable=True),
        sa.Column("prior_months", sa.Integer(), nullable=False),
        sa.Column("agent_remedies", sa.JSON(), nullable=False),
        sa.Column("agent_max_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_goodwill_rules_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goodwill_rules")),
    )
    op.create_index("ix_goodwill_rules_company", "goodwill_rules", ["company_id", "position"])
    op.create_table(
        "complaint_cases",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("requested_remedy", sa.String(length=20), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("granted_remedy", sa.String(length=20), nullable=True),
        sa.Column("granted_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("promise", sa.String(length=200), nullable=False),
        sa.Column("promise_due", sa.Date(), nullable=True),
        sa.Column("pending_remedy", sa.String(length=20), nullable=True),
        sa.Column("pending_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("fulfilled_at", TS, nullable=True),
        sa.Column("overdue_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_complaint_cases_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_complaint_cases_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_complaint_cases_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_cases")),
        sa.UniqueConstraint(
            "company_id",
            "conversation_id",
            name=op.f("uq_complaint_cases_company_id_conversation_id"),
        ),
    )
    op.create_index(
        "ix_complaint_cases_company_state",
        "complaint_cases",
        ["company_id", "state", "promise_due"],
    )
    op.create_index(
        "ix_complaint_cases_company_customer",
        "complaint_cases",
        ["company_id", "customer_id", "decided_at"],
    )
    op.create_table(
        "complaint_steps",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("case_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("remedy", sa.String(length=20), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("rule_id", Id, nullable=True),
        sa.Column("rule_name", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_complaint_steps_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_steps_case_id_complaint_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_steps")),
    )
    op.create_index(
        "ix_complaint_steps_company_case", "complaint_steps", ["company_id", "case_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_complaint_steps_company_case", table_name="complaint_steps")
    op.drop_table("complaint_steps")
    op.drop_index("ix_complaint_cases_company_customer", table_name="complaint_cases")
    op.drop_index("ix_complaint_cases_company_state", table_name="complaint_cases")
    op.drop_table("complaint_cases")
    op.drop_index("ix_goodwill_rules_company", table_name="goodwill_rules")
    op.drop_table("goodwill_rules")
