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
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import false
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
    # auto-assignment (migration 0016): on/off, open conversations per agent, and the round
    # robin's position; the row is the lock that serializes assignment in the team
    Column("auto_assign", Boolean, nullable=False, server_default=false()),
    Column("max_open", Integer, nullable=False, server_default="5"),
    Column("last_assigned_agent_id", Id),
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
    Column("max_open", Integer),  # the agent's own capacity in this team; NULL: the team's
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
    # erased (migration 0012): the row is a tombstone without personal data (docs/privacy.md)
    Column("erased_at", TS),
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
    # the open SLA clocks as the inbox and the customer see them, and the earliest due time
    # among them (sort=due); kept by core/actions/sla.py (migration 0015)
    Column("sla", JSON),
    Column("sla_due_at", TS),
    # the customer was erased while it was under legal hold (migration 0012): left out of
    # lists and search, readable by the company's admins only, deleted when the hold ends
    Column("restricted_at", TS),
    # routing (migration 0016): what the customer chose and where they wrote from, and the
    # rule that routed it (NULL: none matched, or routed by hand); no foreign keys (added later)
    Column("topic_id", Id),
    Column("channel", String(20), nullable=False, server_default="messenger"),
    Column("language", String(20)),
    Column("routing_rule_id", Id),
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
    # not last_activity_at: every message moves it, and this index must not pay for that
    # (sort=due orders ties of the due time, which are rare, by last activity afterwards)
    Index("ix_conversations_company_status_due", "company_id", "status", "sla_due_at", "id"),
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
    # the reports' conversations started in a period (migration 0020)
    Index("ix_conversations_company_created", "company_id", "created_at", "id"),
    # a team's queue (no agent yet), oldest first
    Index(
        "ix_conversations_company_team_queue",
        "company_id",
        "owner_team_id",
        "status",
        "owner_agent_id",
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

# -- complaint cases and the goodwill policy (migration 0018) ----------------------------------

# the company's goodwill policy: ordered rules (conditions → what an agent may grant directly)
goodwill_rules = Table(
    "goodwill_rules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(80), nullable=False),
    Column("max_days_since_purchase", Integer),
    Column("max_amount_cents", BigInteger),
    Column("categories", JSON, nullable=False),  # list of category names; [] = any
    Column("max_prior_goodwill", Integer),
    Column("prior_months", Integer, nullable=False),
    Column("agent_remedies", JSON, nullable=False),  # list of remedies
    Column("agent_max_amount_cents", BigInteger),
    Column("created_at", TS, nullable=False),
    Index("ix_goodwill_rules_company", "company_id", "position"),
)

# one case per conversation; the promise (granted remedy, due date) lives on the case
complaint_cases = Table(
    "complaint_cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("product", String(200), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("purchase_date", Date),
    Column("category", String(80), nullable=False),
    Column("requested_remedy", String(20)),  # NULL: not yet known (opened by a topic)
    Column("amount_cents", BigInteger, nullable=False),
    Column("evidence", JSON, nullable=False),  # attachment ids of the conversation
    Column("granted_remedy", String(20)),
    Column("granted_amount_cents", BigInteger),
    Column("promise", String(200), nullable=False),
    Column("promise_due", Date),
    Column("pending_remedy", String(20)),
    Column("pending_amount_cents", BigInteger),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("decided_at", TS),
    Column("fulfilled_at", TS),
    Column("overdue_at", TS),  # the promise's due date passed before it was kept
    UniqueConstraint("company_id", "conversation_id"),
    Index("ix_complaint_cases_company_state", "company_id", "state", "promise_due"),
    Index("ix_complaint_cases_company_customer", "company_id", "customer_id", "decided_at"),
)

# the case's trail: every step with who, what and which rule allowed it (append-only)
complaint_steps = Table(
    "complaint_steps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("case_id", Id, ForeignKey("complaint_cases.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("actor", String(40), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("remedy", String(20)),
    Column("amount_cents", BigInteger),
    Column("rule_id", Id),  # no FK: the trail outlives a rule's deletion (rule_name keeps it)
    Column("rule_name", String(80), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_complaint_steps_company_case", "company_id", "case_id", "id"),
)

# -- erasure (migration 0012) ------------------------------------------------------------------

# a company's conversations under legal hold: kept (restricted) when their customer is erased,
# and deleted when the hold is lifted (docs/privacy.md, *Erasure*)
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column(
        "conversation_id",
        Id,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("reason", String(500), nullable=False),
    Column("created_by", String(40), nullable=False),  # "agent:<id>", "token:<id>"
    Column("created_at", TS, nullable=False),
)

# -- routing (migration 0016) ------------------------------------------------------------------

# the company's list of topics a customer picks when writing, in the company's words
conversation_topics = Table(
    "conversation_topics",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("opens_complaint", Boolean, nullable=False, server_default=false()),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("company_id", "name"),
)

# ordered rules: conditions (JSON, see core.rules.routing) → a team; the first match wins
routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("conditions", JSON, nullable=False),
    Column("team_id", Id, ForeignKey("teams.id"), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_routing_rules_company", "company_id", "position"),
)

# one row per company that changed a setting; none: no topic required, no default team
routing_settings = Table(
    "routing_settings",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("topic_required", Boolean, nullable=False),
    Column("default_team_id", Id, ForeignKey("teams.id")),
)

# -- email as a channel (migration 0014, docs/email.md) ---------------------------------------

# a company's inbound addresses (support@…); an address belongs to one company at most
company_mail_addresses = Table(
    "company_mail_addresses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("address", String(254), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    Index("ix_company_mail_addresses_company", "company_id", "id"),
)

# per email conversation: the customer's address replies go to, the company address it came to
email_conversations = Table(
    "email_conversations",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column(
        "conversation_id",
        Id,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("address", String(254), nullable=False),
    Column("inbound_address", String(254), nullable=False),
    Column("created_at", TS, nullable=False),
)

# every mail's Message-ID (without <>) in and out of a conversation: the threading key
email_message_ids = Table(
    "email_message_ids",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("ref", String(250), primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("message_id", Id, ForeignKey("messages.id")),  # NULL: a mail kept as no message
    Column("direction", String(3), nullable=False),  # in | out
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),  # out: when the SMTP server accepted it
    Index("ix_email_message_ids_conversation", "company_id", "conversation_id", "created_at"),
    Index("ix_email_message_ids_message", "company_id", "message_id"),
)

# the email-only customer an address writes as, until an account verifies that address
email_senders = Table(
    "email_senders",
    metadata,
    Column("address", String(254), primary_key=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_email_senders_customer", "customer_id"),
)

# -- callbacks (migration 0017) -----------------------------------------------------------------

# a company's callback offer (docs/callbacks.md); no row: the defaults
callback_settings = Table(
    "callback_settings",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("slot_minutes", Integer, nullable=False),
    Column("days_ahead", Integer, nullable=False),
    Column("lead_minutes", Integer, nullable=False),
    Column("all_agents", Boolean, nullable=False),  # every active member takes callbacks
    Column("updated_at", TS, nullable=False),
)

# the agents who take callbacks, when not all do
callback_agents = Table(
    "callback_agents",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True, autoincrement=False),
)

# one row per booked callback; a reschedule ends a row (rescheduled) and books a new one
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("owner_agent_id", Id, ForeignKey("agents.id"), nullable=False),
    Column("slot_start", TS, nullable=False),
    Column("slot_end", TS, nullable=False),
    # booked | calling | done | missed | rescheduled | cancelled
    Column("state", String(12), nullable=False),
    Column("note", Text, nullable=False),
    Column("outcome", String(12)),  # reached | not_reached
    Column("duration_seconds", Integer),
    Column("summary", Text),
    Column("rescheduled_from", BigInteger),
    Column("replaced_by", BigInteger),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_callbacks_company_slot", "company_id", "slot_start"),
    Index("ix_callbacks_company_conversation", "company_id", "conversation_id"),
    # an agent holds at most one active callback per slot: no overbooking even if two
    # bookings raced past the company lock
    Index(
        "uq_callbacks_owner_slot",
        "company_id",
        "owner_agent_id",
        "slot_start",
        unique=True,
        sqlite_where=text("state IN ('booked', 'calling')"),
        postgresql_where=text("state IN ('booked', 'calling')"),
    ),
)

# -- contact consent and notifications (migration 0010) ---------------------------------------

# what a customer allows one company (docs/privacy.md, *Contact*); no row: the defaults
contact_preferences = Table(
    "contact_preferences",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("customer_id", Id, ForeignKey("customers.id"), primary_key=True, autoincrement=False),
    Column("topics", JSON, nullable=False),  # ["replies", "updates", "news"]
    Column("channels", JSON, nullable=False),  # ["push", "email"]
    Column("quiet_start", String(5)),  # "HH:MM", local to time_zone
    Column("quiet_end", String(5)),
    Column("time_zone", String(64)),
    Column("include_text", Boolean, nullable=False),
    Column("language", String(5)),
    Column("updated_at", TS, nullable=False),
    Index("ix_contact_preferences_customer", "customer_id"),
)

# the topic a company started a conversation for (customer-started ones have no row)
contact_starts = Table(
    "contact_starts",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column(
        "conversation_id",
        Id,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("topic", String(10), nullable=False),
    Column("started_by", String(40), nullable=False),  # "agent:<id>" | "token:<id>"
    Column("created_at", TS, nullable=False),
)

# one row per company message and channel (never twice): pending → sending → sent, or read
# (the customer read it first) or dropped (channel turned off, nowhere to send)
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("customer_id", Id, nullable=False),
    Column("conversation_id", Id, nullable=False),
    Column("message_id", Id, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    Column("due_at", TS, nullable=False),
    Column("claim", String(32)),
    Column("locked_until", TS),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    UniqueConstraint("company_id", "message_id", "channel"),
    Index("ix_notifications_conversation", "company_id", "conversation_id", "channel", "state"),
    Index("ix_notifications_claim", "claim"),
)

# -- business calendars and SLA clocks (migration 0015, docs/sla.md) ---------------------------

# per team: its calendar (NULL: the company's hours / holidays) and its targets in business
# minutes (NULL: no promise for that target)
team_sla_policies = Table(
    "team_sla_policies",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column("team_id", Id, ForeignKey("teams.id"), primary_key=True, autoincrement=False),
    Column("business_hours", JSON),
    Column("holidays", JSON),
    Column("first_response_minutes", Integer),
    Column("next_response_minutes", Integer),
    Column("resolution_minutes", Integer),
    Column("reassign_on_breach", Boolean, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# one row per conversation and started target; the record of promises kept and broken
sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=False),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("target", String(20), nullable=False),  # first_response | next_response | resolution
    Column("team_id", Id),  # whose targets (NULL: the company's promise); no key: outlives it
    Column("target_minutes", Integer, nullable=False),
    Column("state", String(10), nullable=False),  # running | paused | met | cancelled
    Column("started_at", TS, nullable=False),
    Column("running_since", TS),  # NULL while paused or closed
    Column("elapsed_us", BigInteger, nullable=False),  # business time used before running_since
    Column("paused_at", TS),
    Column("paused_us", BigInteger, nullable=False),  # wall-clock time spent paused
    Column("due_at", TS),  # NULL while paused
    Column("warn_at", TS),
    Column("warned_at", TS),
    Column("breached_at", TS),
    Column("met_at", TS),
    Column("closed_at", TS),
    Index("ix_sla_clocks_company_conversation", "company_id", "conversation_id", "id"),
    Index("ix_sla_clocks_company_started", "company_id", "started_at"),
)

# -- customer satisfaction (migration 0019) ----------------------------------------------------

# one rating per conversation (a later one replaces it), with who owned the conversation then
conversation_ratings = Table(
    "conversation_ratings",
    metadata,
    Column("company_id", Id, ForeignKey("companies.id"), primary_key=True, autoincrement=False),
    Column(
        "conversation_id",
        Id,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("score", Integer, nullable=False),  # 1..5
    Column("comment", Text, nullable=False),
    Column("agent_id", Id),  # the owner when rated; no key: outlives the agent
    Column("team_id", Id),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_conversation_ratings_company_created", "company_id", "created_at"),
)

# -- web push (migration 0011) ----------------------------------------------------------------

# the server's VAPID key pair (RFC 8292): one row (id 1), made on first start, shared by every
# process; the private key never leaves the database (docs/operations.md)
push_keys = Table(
    "push_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("public_key", String(100), nullable=False),
    Column("private_key", String(100), nullable=False),
    Column("created_at", TS, nullable=False),
)

# one browser's push endpoint per row (the endpoint is unique: a device belongs to the customer
# who subscribed it last); the keys are the browser's (RFC 8291) — docs/privacy.md, *Web push*
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", Id, ForeignKey("customers.id"), nullable=False),
    Column("endpoint", String(2000), nullable=False, unique=True),
    Column("p256dh", String(100), nullable=False),
    Column("auth", String(40), nullable=False),
    Column("label", String(100), nullable=False),
    Column("lang", String(5), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("last_success_at", TS),
    Index("ix_push_subscriptions_customer", "customer_id", "id"),
)
