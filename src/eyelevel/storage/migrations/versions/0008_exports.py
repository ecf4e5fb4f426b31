"""exports: the customer's data exports (a ZIP kept 24 hours in the file store)

- ``data_exports``: one row per requested export with its state (pending, ready, failed,
  expired), the file's key and size while it is kept, and when it is due to expire.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_exports",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("storage_key", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ready_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_data_exports_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index("ix_data_exports_customer", "data_exports", ["customer_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_data_exports_customer", table_name="data_exports")
    op.drop_table("data_exports")
