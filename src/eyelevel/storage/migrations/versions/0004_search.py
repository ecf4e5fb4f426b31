"""full-text search over message bodies

SQLite: an FTS5 table ``messages_fts`` with external content (the bodies stay in ``messages``
only; the index holds the tokens; its rowid is the message id, and a search joins
``messages`` for the company). The storage layer adds each new message to it
(``SqlMessages.insert``); there are no triggers.

PostgreSQL: a stored generated column ``messages.body_tsv`` (``to_tsvector('german', body)``)
with a GIN index. Stored, because ranking (``ts_rank``) reads the vector of every match: from
the column that is a read, from an expression index it would parse each body again. And an
index on ``(company_id, id)``: frequent words are searched by walking a company's newest
messages backwards (see ``storage/search.py``).

Neither is in ``storage/schema.py`` (they exist on one engine each);
``eyelevel.storage.search.include_object`` keeps them out of schema comparisons.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5("
            "body, content='messages', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        # the existing messages, read from the content table
        op.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE messages ADD COLUMN body_tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('german'::regconfig, body)) STORED"
        )
        op.execute("CREATE INDEX ix_messages_body_tsv ON messages USING gin (body_tsv)")
        # a company's messages newest first: frequent words are searched in that order
        op.execute("CREATE INDEX ix_messages_company_newest ON messages (company_id, id)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS messages_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_company_newest")
        op.execute("DROP INDEX IF EXISTS ix_messages_body_tsv")
        op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS body_tsv")
