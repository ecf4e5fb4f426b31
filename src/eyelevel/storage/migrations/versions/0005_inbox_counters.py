"""inbox counters: conversation counts and mention threads, kept by triggers

Two derived tables (``storage/schema.py``) that make the sidebar's counts and the Mentions
view independent of how many conversations and notes a company has:

- ``conversation_counts``: conversations per (company, status, owner agent, owner team);
  ``0`` stands for "no agent" / "no team". Triggers on ``conversations`` add one on insert,
  move one on a change of company, status or owner, and take one away on delete.
- ``conversation_mentions``: per (company, agent, conversation) the newest mention's time.
  Triggers on ``mentions`` raise it on insert and lower (or remove) it on delete.

Triggers, not application code, because every path that writes those tables must keep them
true: the actions, the seed's bulk load (``COPY`` fires row triggers too), and later
deletions (retention, erasure). They run inside the writing transaction. On PostgreSQL a
moved count locks its two counter rows in key order, so two transactions moving
conversations between the same two owners cannot deadlock on them.

The index ``ix_mentions_company_agent_conversation`` served the old grouped Mentions query
and goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import eyelevel.storage.schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE = [
    """
    CREATE TRIGGER tr_conversations_count_insert AFTER INSERT ON conversations
    BEGIN
      INSERT INTO conversation_counts (company_id, status, owner_agent_id, owner_team_id, n)
      VALUES (NEW.company_id, NEW.status, coalesce(NEW.owner_agent_id, 0),
              coalesce(NEW.owner_team_id, 0), 1)
      ON CONFLICT (company_id, status, owner_agent_id, owner_team_id) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER tr_conversations_count_update
    AFTER UPDATE OF company_id, status, owner_agent_id, owner_team_id ON conversations
    WHEN OLD.company_id IS NOT NEW.company_id OR OLD.status IS NOT NEW.status
      OR OLD.owner_agent_id IS NOT NEW.owner_agent_id
      OR OLD.owner_team_id IS NOT NEW.owner_team_id
    BEGIN
      UPDATE conversation_counts SET n = n - 1
      WHERE company_id = OLD.company_id AND status = OLD.status
        AND owner_agent_id = coalesce(OLD.owner_agent_id, 0)
        AND owner_team_id = coalesce(OLD.owner_team_id, 0);
      INSERT INTO conversation_counts (company_id, status, owner_agent_id, owner_team_id, n)
      VALUES (NEW.company_id, NEW.status, coalesce(NEW.owner_agent_id, 0),
              coalesce(NEW.owner_team_id, 0), 1)
      ON CONFLICT (company_id, status, owner_agent_id, owner_team_id) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER tr_conversations_count_delete AFTER DELETE ON conversations
    BEGIN
      UPDATE conversation_counts SET n = n - 1
      WHERE company_id = OLD.company_id AND status = OLD.status
        AND owner_agent_id = coalesce(OLD.owner_agent_id, 0)
        AND owner_team_id = coalesce(OLD.owner_team_id, 0);
    END
    """,
    """
    CREATE TRIGGER tr_mentions_thread_insert AFTER INSERT ON mentions
    BEGIN
      INSERT INTO conversation_mentions (company_id, agent_id, conversation_id, mentioned_at)
      VALUES (NEW.company_id, NEW.agent_id, NEW.conversation_id, NEW.created_at)
      ON CONFLICT (company_id, agent_id, conversation_id)
      DO UPDATE SET mentioned_at = max(mentioned_at, excluded.mentioned_at);
    END
    """,
    """
    CREATE TRIGGER tr_mentions_thread_delete AFTER DELETE ON mentions
    BEGIN
      DELETE FROM conversation_mentions
      WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
        AND conversation_id = OLD.conversation_id
        AND NOT EXISTS (SELECT 1 FROM mentions
          WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
            AND conversation_id = OLD.conversation_id);
      UPDATE conversation_mentions SET mentioned_at = (
        SELECT max(created_at) FROM mentions
        WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
          AND conversation_id = OLD.conversation_id)
      WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
        AND conversation_id = OLD.conversation_id;
    END
    """,
]

POSTGRES = [
    """
    CREATE FUNCTION conversation_counts_add(
      p_company bigint, p_status text, p_agent bigint, p_team bigint, p_delta integer
    ) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO conversation_counts (company_id, status, owner_agent_id, owner_team_id, n)
      VALUES (p_company, p_status, coalesce(p_agent, 0), coalesce(p_team, 0), p_delta)
      ON CONFLICT (company_id, status, owner_agent_id, owner_team_id)
      DO UPDATE SET n = conversation_counts.n + EXCLUDED.n;
    END $$
    """,
    """
    CREATE FUNCTION conversation_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM conversation_counts_add(
          NEW.company_id, NEW.status, NEW.owner_agent_id, NEW.owner_team_id, 1);
      ELSIF TG_OP = 'DELETE' THEN
        PERFORM conversation_counts_add(
          OLD.company_id, OLD.status, OLD.owner_agent_id, OLD.owner_team_id, -1);
      ELSIF (OLD.company_id, OLD.status, coalesce(OLD.owner_agent_id, 0),
             coalesce(OLD.owner_team_id, 0))
          < (NEW.company_id, NEW.status, coalesce(NEW.owner_agent_id, 0),
             coalesce(NEW.owner_team_id, 0)) THEN
        -- the two counter rows are locked in key order: no deadlock between two moves
        PERFORM conversation_counts_add(
          OLD.company_id, OLD.status, OLD.owner_agent_id, OLD.owner_team_id, -1);
        PERFORM conversation_counts_add(
          NEW.company_id, NEW.status, NEW.owner_agent_id, NEW.owner_team_id, 1);
      ELSE
        PERFORM conversation_counts_add(
          NEW.company_id, NEW.status, NEW.owner_agent_id, NEW.owner_team_id, 1);
        PERFORM conversation_counts_add(
          OLD.company_id, OLD.status, OLD.owner_agent_id, OLD.owner_team_id, -1);
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_conversations_count_insert AFTER INSERT OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversation_counts_keep()
    """,
    """
    CREATE TRIGGER tr_conversations_count_update
    AFTER UPDATE OF company_id, status, owner_agent_id, owner_team_id ON conversations
    FOR EACH ROW WHEN (OLD.company_id IS DISTINCT FROM NEW.company_id
      OR OLD.status IS DISTINCT FROM NEW.status
      OR OLD.owner_agent_id IS DISTINCT FROM NEW.owner_agent_id
      OR OLD.owner_team_id IS DISTINCT FROM NEW.owner_team_id)
    EXECUTE FUNCTION conversation_counts_keep()
    """,
    """
    CREATE FUNCTION conversation_mentions_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO conversation_mentions
          (company_id, agent_id, conversation_id, mentioned_at)
        VALUES (NEW.company_id, NEW.agent_id, NEW.conversation_id, NEW.created_at)
        ON CONFLICT (company_id, agent_id, conversation_id) DO UPDATE
        SET mentioned_at = greatest(conversation_mentions.mentioned_at, EXCLUDED.mentioned_at);
      ELSE
        DELETE FROM conversation_mentions
        WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
          AND conversation_id = OLD.conversation_id
          AND NOT EXISTS (SELECT 1 FROM mentions
            WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
              AND conversation_id = OLD.conversation_id);
        UPDATE conversation_mentions SET mentioned_at = (
          SELECT max(created_at) FROM mentions
          WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
            AND conversation_id = OLD.conversation_id)
        WHERE company_id = OLD.company_id AND agent_id = OLD.agent_id
          AND conversation_id = OLD.conversation_id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER tr_mentions_thread AFTER INSERT OR DELETE ON mentions
    FOR EACH ROW EXECUTE FUNCTION conversation_mentions_keep()
    """,
]


def upgrade() -> None:
    op.create_table(
        "conversation_counts",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("owner_agent_id", Id, autoincrement=False, nullable=False),
        sa.Column("owner_team_id", Id, autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "company_id",
            "status",
            "owner_agent_id",
            "owner_team_id",
            name=op.f("pk_conversation_counts"),
        ),
    )
    op.create_table(
        "conversation_mentions",
        sa.Column("company_id", Id, autoincrement=False, nullable=False),
        sa.Column("agent_id", Id, autoincrement=False, nullable=False),
        sa.Column("conversation_id", Id, autoincrement=False, nullable=False),
        sa.Column(
            "mentioned_at", eyelevel.storage.schema.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_conversation_mentions_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_conversation_mentions_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_mentions_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "agent_id", "conversation_id", name=op.f("pk_conversation_mentions")
        ),
    )
    op.create_index(
        "ix_conversation_mentions_newest",
        "conversation_mentions",
        ["company_id", "agent_id", "mentioned_at", "conversation_id"],
    )
    op.drop_index("ix_mentions_company_agent_conversation", table_name="mentions")
    # what is there already
    op.execute(
        "INSERT INTO conversation_counts (company_id, status, owner_agent_id, owner_team_id, n) "
        "SELECT company_id, status, coalesce(owner_agent_id, 0), coalesce(owner_team_id, 0), "
        "count(*) FROM conversations GROUP BY company_id, status, "
        "coalesce(owner_agent_id, 0), coalesce(owner_team_id, 0)"
    )
    op.execute(
        "INSERT INTO conversation_mentions (company_id, agent_id, conversation_id, mentioned_at) "
        "SELECT company_id, agent_id, conversation_id, max(created_at) FROM mentions "
        "GROUP BY company_id, agent_id, conversation_id"
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "tr_conversations_count_insert",
            "tr_conversations_count_update",
            "tr_conversations_count_delete",
            "tr_mentions_thread_insert",
            "tr_mentions_thread_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS tr_mentions_thread ON mentions")
        op.execute("DROP TRIGGER IF EXISTS tr_conversations_count_update ON conversations")
        op.execute("DROP TRIGGER IF EXISTS tr_conversations_count_insert ON conversations")
        op.execute("DROP FUNCTION IF EXISTS conversation_mentions_keep()")
        op.execute("DROP FUNCTION IF EXISTS conversation_counts_keep()")
        op.execute(
            "DROP FUNCTION IF EXISTS conversation_counts_add(bigint, text, bigint, bigint, integer)"
        )
    op.create_index(
        "ix_mentions_company_agent_conversation",
        "mentions",
        ["company_id", "agent_id", "conversation_id", "created_at"],
    )
    op.drop_index("ix_conversation_mentions_newest", table_name="conversation_mentions")
    op.drop_table("conversation_mentions")
    op.drop_table("conversation_counts")
