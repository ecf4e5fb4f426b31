"""The schema, as SQLAlchemy Core tables. Alembic migrations are the source of truth on disk;
this module mirrors them (a test compares the two).

``company_id`` leads every key and index of a company-owned table, so the schema can later be
distributed by tenant without redesign.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that are still SQLite rowid aliases (SQLite only aliases "INTEGER PRIMARY KEY").
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = UtcDateTime()

companies = Table(
    "companies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(50), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("phone", String(40), nullable=False, default=""),
    Column("timezone", String(64), nullable=False),
    Column("business_hours", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("reply_within_minutes", Integer),
    # [{"date": "YYYY-MM-DD", "name": "…"}]: closed all day
    Column("holidays", JSON, nullable=False, default=lambda: []),
    # days a resolved conversation is kept (migration 0009); NULL: forever
    Column("retention_days", Integer),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("company_id", "name"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
    # TOTP second factor: the base32 secret; enabled once a first code confirmed it
    Column("totp_secret", String(64)),
    Column("totp_enabled_at", TS),
    # set by the agent: online | away | offline
    Column("presence", String(10), nullable=False, default="offline"),
    Column("presence_at", TS),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True),
    Column("code_hash", String(64), primary_key=True),
    Column("used_at", TS),
)

memberships = Table(
    "memberships",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True),
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
    Index("ix_memberships_agent", "agent_id"),
)

team_members = Table(
    "team_members",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True),
    Column("team_id", Id, ForeignKey("teams.id"), primary_key=True),
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", String(10), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("accepted_at", TS),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), unique=True),  # NULL: an anonymous visitor
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("email_verified_at", TS),
    Column("created_at", TS, nullable=False),
)

# What a customer may share with companies, beyond the display name everyone sees
# (docs/privacy.md). One row per customer; NULL: not filled in.
customer_profiles = Table(
    "customer_profiles",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True, autoincrement=False),
    Column("first_name", String(100)),
    Column("last_name", String(100)),
    Column("phone", String(40)),
    Column("address", String(500)),
    Column("updated_at", TS, nullable=False),
)

# the customer's number at one company (the company sees it only when granted)
customer_numbers = Table(
    "customer_numbers",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True, autoincrement=False),
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("number", String(60), nullable=False),
)

# which profile fields a customer shares with which company, since when
sharing_grants = Table(
    "sharing_grants",
    metadata,
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True, autoincrement=False),
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("field", String(20), primary_key=True),
    Column("granted_at", TS, nullable=False),
    Index("ix_sharing_grants_company_customer", "company_id", "customer_id"),
)

# every grant and revocation, append-only (triggers refuse UPDATE and DELETE, migration 0006);
# no foreign keys: the record outlives the account as a pseudonymous entry
consent_ledger = Table(
    "consent_ledger",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", Id, nullable=False),
    Column("company_id", Id, nullable=False),
    Column("action", String(10), nullable=False),  # grant | revoke
    Column("field", String(20), nullable=False),
    Column("screen", String(40), nullable=False),  # where the customer did it
    Column("text_version", String(40), nullable=False),  # the wording shown to them
    Column("created_at", TS, nullable=False),
    Index("ix_consent_ledger_customer", "customer_id", "id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("owner_agent_id", Id, ForeignKey("agents.id")),
    Column("owner_team_id", Id, ForeignKey("teams.id")),
    Column("snoozed_until", TS),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("last_activity_at", TS, nullable=False),
    Column("last_message_at", TS),
    # since when the customer waits for an answer (their oldest unanswered message); NULL: not
    Column("waiting_since", TS),
    Index("ix_conversations_company_activity", "company_id", "last_activity_at", "id"),
    Index("ix_conversations_company_status", "company_id", "status", "last_activity_at"),
    Index("ix_conversations_customer_activity", "customer_id", "last_activity_at", "id"),
    # the retention job's due conversations: resolved and unchanged since a cut-off (0009)
    Index("ix_conversations_company_status_updated", "company_id", "status", "updated_at"),
    # the inbox views, each read in its sort order (sort=waiting: waiting_since IS NULL, the
    # tail, continues newest activity first in the same index); they also serve the counts
    Index(
        "ix_conversations_company_status_waiting",
        "company_id",
        "status",
        "waiting_since",
        "last_activity_at",
        "id",
    ),
    Index(
        "ix_conversations_company_status_agent",
        "company_id",
        "status",
        "owner_agent_id",
        "last_activity_at",
        "id",
    ),
    Index(
        "ix_conversations_company_status_agent_waiting",
        "company_id",
        "status",
        "owner_agent_id",
        "waiting_since",
        "last_activity_at",
        "id",
    ),
    Index(
        "ix_conversations_company_status_team",
        "company_id",
        "status",
        "owner_team_id",
        "last_activity_at",
        "id",
    ),
    Index(
        "ix_conversations_company_status_team_waiting",
        "company_id",
        "status",
        "owner_team_id",
        "waiting_since",
        "last_activity_at",
        "id",
    ),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("body", Text, nullable=False),
    Column("author_agent_id", Id, ForeignKey("agents.id")),
    Column("author_customer_id", Id, ForeignKey("customers.id")),
    Column("author_name", String(100), nullable=False),
    Column("client_id", String(64)),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("company_id", "conversation_id", "seq"),
    UniqueConstraint("company_id", "conversation_id", "client_id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("storage_key", String(100), nullable=False),
    Column("thumbnail_key", String(100)),
    Column("created_at", TS, nullable=False),
    Index("ix_attachments_company_message", "company_id", "message_id"),
)

read_markers = Table(
    "read_markers",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), primary_key=True),
    Column("reader", String(40), primary_key=True),
    Column("last_read_seq", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("pos", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("type", String(50), nullable=False),
    Column("conversation_id", Id),
    Column("customer_id", Id),
    Column("payload", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_events_company_pos", "company_id", "pos"),
    Index("ix_events_customer_pos", "customer_id", "pos"),
    Index("ix_events_company_conversation", "company_id", "conversation_id"),  # retention
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS),
    Column("last_used_at", TS),
    Column("scopes", String(200), nullable=False),  # space-separated, e.g. "reports:read"
    Column("expires_at", TS),
    Index("ix_api_tokens_company", "company_id", "id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("principal_id", Id, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("user_agent", String(200), nullable=False, default=""),
    Index("ix_sessions_principal", "kind", "principal_id"),
)

mentions = Table(
    "mentions",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True),
    Column("message_id", Id, ForeignKey("messages.id"), primary_key=True),
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_mentions_company_agent", "company_id", "agent_id", "created_at"),
)

# Derived tables, kept by triggers in the transaction that changes their source (migration
# 0005), so every write path (actions, the seed's bulk load, later deletions) keeps them true.

# how many conversations a company has per status and owner (0: no agent / no team): the
# sidebar's counts read these few rows instead of counting the conversations
conversation_counts = Table(
    "conversation_counts",
    metadata,
    Column("company_id", Id, primary_key=True, autoincrement=False),
    Column("status", String(10), primary_key=True),
    Column("owner_agent_id", Id, primary_key=True, autoincrement=False),
    Column("owner_team_id", Id, primary_key=True, autoincrement=False),
    Column("n", Integer, nullable=False),
)

# per agent and conversation the newest note mentioning that agent: the Mentions view reads
# a page of it in order (newest mention first) and joins the conversations by primary key
conversation_mentions = Table(
    "conversation_mentions",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True, autoincrement=False),
    Column(
        "conversation_id",
        Id,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("mentioned_at", TS, nullable=False),
    Index(
        "ix_conversation_mentions_newest",
        "company_id",
        "agent_id",
        "mentioned_at",
        "conversation_id",
    ),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("color", String(7), nullable=False),  # "#rrggbb"
    Column("created_at", TS, nullable=False),
    UniqueConstraint("company_id", "name"),
)

conversation_labels = Table(
    "conversation_labels",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), primary_key=True),
    Column("label_id", Id, ForeignKey("labels.id"), primary_key=True),
    Index("ix_conversation_labels_label", "company_id", "label_id", "conversation_id"),
)

canned_responses = Table(
    "canned_responses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id")),  # NULL: company-wide; else personal
    Column("shortcut", String(50), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_canned_responses_company", "company_id", "agent_id", "shortcut"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("actor", String(40), nullable=False),  # "agent:<id>", "token:<id>", "operator"
    Column("action", String(60), nullable=False),  # e.g. "agent.deactivated"
    Column("target", String(80), nullable=False, default=""),
    Column("data", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_audit_log_company", "company_id", "id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("run_at", TS, nullable=False),
    Column("locked_until", TS),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(60)),
    Column("created_at", TS, nullable=False),
    Index("ix_jobs_run_at", "run_at"),
)

# -- webhooks (migration 0007) -----------------------------------------------------------------

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("include_notes", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(20)),
    # a shared secret (it must sign), so kept as is, like a password the server presents
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100)),
    Column("previous_secret_until", TS),
    Column("failing_since", TS),
    Column("start_pos", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_webhook_endpoints_company", "company_id", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("msg_id", String(40), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("event_pos", BigInteger),
    Column("payload", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("tries", Integer, nullable=False),
    Column("next_attempt_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_webhook_deliveries_endpoint", "company_id", "endpoint_id", "id"),
    Index("ix_webhook_deliveries_company_event", "company_id", "event_pos"),  # retention
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("delivery_id", Id, ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at", TS, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("response", String(1024), nullable=False),
    Column("error", String(40)),
    Index("ix_webhook_attempts_delivery", "company_id", "delivery_id", "id"),
)

# the relay's position in the event stream (one row, "webhooks")
stream_cursors = Table(
    "stream_cursors",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("pos", BigInteger, nullable=False),
)

# -- the customer's data exports (migration 0008) ---------------------------------------------

# one row per requested export: pending → ready (a ZIP in the file store for 24 hours) →
# expired (the file deleted), or failed; the row holds no personal data (docs/privacy.md)
data_exports = Table(
    "data_exports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("state", String(10), nullable=False),  # pending | ready | failed | expired
    Column("storage_key", String(100)),  # while ready
    Column("size", BigInteger),
    Column("created_at", TS, nullable=False),
    Column("ready_at", TS),
    Column("expires_at", TS),
    Index("ix_data_exports_customer", "customer_id", "id"),
)
