"""privacy: customer profiles, per-company sharing grants and the consent ledger

- ``customer_profiles``: the fields a customer may share beyond the display name (first and
  last name, phone, postal address); ``customer_numbers``: their number at one company.
- ``sharing_grants``: which field a customer shares with which company, since when.
- ``consent_ledger``: every grant and revocation, append-only: triggers refuse ``UPDATE`` and
  ``DELETE`` on it (on both engines), so no code path, however written, can rewrite it.
  (``TRUNCATE`` on PostgreSQL, a table owner's maintenance command, is not a code path here.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = eyelevel.storage.schema.UtcDateTime(timezone=True)
APPEND_ONLY = "the consent ledger is append-only"


def upgrade() -> None:
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", Id, autoincrement=False, nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_profiles_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    op.create_table(
        "customer_numbers",
        sa.Column("customer_id", Id, autoincrement=False, nullable=False),
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_customer_numbers_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_numbers_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", "company_id", name=op.f("pk_customer_numbers")),
    )
    op.create_table(
        "sharing_grants",
        sa.Column("customer_id", Id, autoincrement=False, nullable=False),
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("granted_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_sharing_grants_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sharing_grants_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", "company_id", "field", name=op.f("pk_sharing_grants")
        ),
    )
    op.create_index(
        "ix_sharing_grants_company_customer", "sharing_grants", ["company_id", "customer_id"]
    )
    op.create_table(
        "consent_ledger",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("customer_id", Id, nullable=False),
        sa.Column("company_id", Id, nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("screen", sa.String(length=40), nullable=False),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_ledger")),
    )
    op.create_index("ix_consent_ledger_customer", "consent_ledger", ["customer_id", "id"])
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER tr_consent_ledger_no_{verb.lower()} BEFORE {verb} "
                f"ON consent_ledger BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER tr_consent_ledger_append_only BEFORE UPDATE OR DELETE "
            "ON consent_ledger FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS tr_consent_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS tr_consent_ledger_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS tr_consent_ledger_append_only ON consent_ledger")
        op.execute("DROP FUNCTION IF EXISTS consent_ledger_append_only()")
    op.drop_index("ix_consent_ledger_customer", table_name="consent_ledger")
    op.drop_table("consent_ledger")
    op.drop_index("ix_sharing_grants_company_customer", table_name="sharing_grants")
    op.drop_table("sharing_grants")
    op.drop_table("customer_numbers")
    op.drop_table("customer_profiles")
