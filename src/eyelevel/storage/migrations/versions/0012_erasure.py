"""erasure: the customer deletes their account; companies may hold conversations

- ``customers.erased_at``: set when the account was erased. The row stays as a tombstone
  without any personal data (no email, no password, an empty display name), so the ids that
  other rows keep (a held conversation, the consent ledger) stay consistent.
- ``conversations.restricted_at``: set when the customer was erased while the conversation was
  under legal hold; such a conversation is left out of every list and search and readable by
  the company's admins only, until the hold is lifted (then it is deleted).
- ``legal_holds``: the company's conversations under legal hold, with the reason and who set
  it (docs/privacy.md, *Erasure*).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from eyelevel.storage.schema import TS, Id

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("erased_at", TS, nullable=True))
    op.add_column("conversations", sa.Column("restricted_at", TS, nullable=True))
    op.create_table(
        "legal_holds",
        sa.Column("company_id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name="fk_legal_holds_company_id_companies"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_legal_holds_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("company_id", "conversation_id", name="pk_legal_holds"),
    )


def downgrade() -> None:
    op.drop_table("legal_holds")
    op.drop_column("conversations", "restricted_at")
    op.drop_column("customers", "erased_at")
