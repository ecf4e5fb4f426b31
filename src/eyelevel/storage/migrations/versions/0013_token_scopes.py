"""token scopes: what each API token may do, and an optional expiry

- ``api_tokens.scopes``: the token's scopes, space-separated (``conversations:read
  messages:write``). Tokens made before scopes existed could do everything their company's
  admins can through the API, so they get every scope there was.
- ``api_tokens.expires_at``: NULL never expires; after that time the token is refused like a
  revoked one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# the scopes of the first release, fixed here: later scopes are never granted by this migration
_ALL_SCOPES = (
    "conversations:read conversations:write customers:read messages:write reports:read "
    "webhooks:manage"
)


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("scopes", sa.String(length=200), nullable=True))
    op.add_column(
        "api_tokens",
        sa.Column("expires_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=True),
    )
    op.execute(sa.text("UPDATE api_tokens SET scopes = :all").bindparams(all=_ALL_SCOPES))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("scopes", existing_type=sa.String(length=200), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
