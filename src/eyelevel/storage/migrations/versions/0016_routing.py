"""routing: conversation topics, routing rules and auto-assignment inside teams

- ``conversation_topics``: the company's list of topics a customer picks when writing
  (ordered by ``position``; inactive ones are kept for the conversations that carry them;
  ``opens_complaint``: such a conversation is a complaint case from the start).
- ``routing_rules``: ordered rules (conditions → target team), first match wins.
- ``routing_settings``: per company, whether a topic is required and the default team.
- ``teams.auto_assign``, ``teams.max_open`` (open conversations per agent) and
  ``teams.last_assigned_agent_id`` (the round robin's position); the team row is the lock that
  serializes auto-assignment in a team.
- ``team_members.max_open``: an agent's own capacity in that team (NULL: the team's).
- ``conversations.topic_id``, ``language`` and ``routing_rule_id`` (the rule that routed it;
  NULL: none matched or routed by hand); ``conversations.channel`` comes from 0014. No foreign
  keys on the added columns (SQLite cannot add them to an existing table); the actions keep
  them consistent.
- ``ix_conversations_company_team_queue``: a team's queue, oldest first.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversation_topics",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "company_id",
            _ID,
            sa.ForeignKey("companies.id", name="fk_conversation_topics_company_id_companies"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("opens_complaint", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_topics"),
        sa.UniqueConstraint("company_id", "name", name="uq_conversation_topics_company_id_name"),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "company_id",
            _ID,
            sa.ForeignKey("companies.id", name="fk_routing_rules_company_id_companies"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column(
            "team_id",
            _ID,
            sa.ForeignKey("teams.id", name="fk_routing_rules_team_id_teams"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_rules"),
    )
    op.create_index("ix_routing_rules_company", "routing_rules", ["company_id", "position"])
    op.create_table(
        "routing_settings",
        sa.Column(
            "company_id",
            _ID,
            sa.ForeignKey("companies.id", name="fk_routing_settings_company_id_companies"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("topic_required", sa.Boolean(), nullable=False),
        sa.Column(
            "default_team_id",
            _ID,
            sa.ForeignKey("teams.id", name="fk_routing_settings_default_team_id_teams"),
        ),
        sa.PrimaryKeyConstraint("company_id", name="pk_routing_settings"),
    )
    op.add_column(
        "teams",
        sa.Column("auto_assign", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("teams", sa.Column("max_open", sa.Integer(), nullable=False, server_default="5"))
    op.add_column("teams", sa.Column("last_assigned_agent_id", _ID, nullable=True))
    op.add_column("team_members", sa.Column("max_open", sa.Integer(), nullable=True))
    op.add_column("conversations", sa.Column("topic_id", _ID, nullable=True))
    op.add_column("conversations", sa.Column("language", sa.String(length=20), nullable=True))
    op.add_column("conversations", sa.Column("routing_rule_id", _ID, nullable=True))
    op.create_index(
        "ix_conversations_company_team_queue",
        "conversations",
        ["company_id", "owner_team_id", "status", "owner_agent_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_company_team_queue", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("routing_rule_id")
        batch.drop_column("language")
        batch.drop_column("topic_id")
    with op.batch_alter_table("team_members") as batch:
        batch.drop_column("max_open")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("last_assigned_agent_id")
        batch.drop_column("max_open")
        batch.drop_column("auto_assign")
    op.drop_table("routing_settings")
    op.drop_index("ix_routing_rules_company", table_name="routing_rules")
    op.drop_table("routing_rules")
    op.drop_table("conversation_topics")
