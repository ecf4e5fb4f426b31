"""push: web push (VAPID keys and the customers' push subscriptions)

- ``push_keys``: the server's VAPID key pair (one row, id 1), made on first start and shared by
  every process (docs/operations.md, *Web push*).
- ``push_subscriptions``: one browser's push endpoint (unique) with the browser's keys
  (``p256dh``, ``auth``), the customer's label for the device, its language, and when a push
  last got through; 404/410 from the push service deletes the row (docs/privacy.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("private_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_keys")),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_success_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_push_subscriptions_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index("ix_push_subscriptions_customer", "push_subscriptions", ["customer_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_push_subscriptions_customer", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_table("push_keys")
