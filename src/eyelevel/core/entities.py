"""The domain's records: plain frozen dataclasses, independent of storage and of any wire format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from eyelevel.core.ids import (
    AgentId,
    AttachmentId,
    CannedResponseId,
    CompanyId,
    ConversationId,
    ConversationTopicId,
    CustomerId,
    EventPos,
    LabelId,
    MessageId,
    RoutingRuleId,
    TeamId,
    TokenId,
)

MAX_BODY_CHARS = 10_000
MAX_SUBJECT_CHARS = 200
MAX_CLIENT_ID_CHARS = 64
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class Role(StrEnum):
    AGENT = "agent"
    LEAD = "lead"
    ADMIN = "admin"


class Scope(StrEnum):
    """What an API token may do; every operation a token may call names the one it needs."""

    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_WRITE = "conversations:write"
    MESSAGES_WRITE = "messages:write"
    CUSTOMERS_READ = "customers:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    REPORTS_READ = "reports:read"


ALL_SCOPES = frozenset(Scope)


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Channel(StrEnum):
    MESSENGER = "messenger"
    EMAIL = "email"


class MessageKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    NOTE = "note"
    BOT = "bot"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Company:
    id: CompanyId
    slug: str
    name: str
    description: str
    phone: str
    timezone: str
    # weekday ("mon".."sun") -> list of ["HH:MM", "HH:MM"] opening intervals
    business_hours: dict[str, list[list[str]]]
    created_at: datetime
    # the response-time promise shown to customers; None: the company made none
    reply_within_minutes: int | None = None
    # days closed all day: [{"date": "YYYY-MM-DD", "name": "…"}]
    holidays: list[dict[str, str]] = field(default_factory=list)
    # days a resolved conversation is kept before the retention job deletes it; None: forever
    retention_days: int | None = None


@dataclass(frozen=True, slots=True)
class Team:
    id: TeamId
    company_id: CompanyId
    name: str


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent's account. What the agent may do in a company comes from a :class:`Membership`."""

    id: AgentId
    email: str
    name: str
    password_hash: str
    active: bool
    created_at: datetime
    totp_enabled: bool = False
    presence: str = "offline"  # online | away | offline, set by the agent

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0] if self.name else ""


@dataclass(frozen=True, slots=True)
class Membership:
    company_id: CompanyId
    agent_id: AgentId
    role: Role
    active: bool


@dataclass(frozen=True, slots=True)
class Customer:
    """One account across all companies.

    An *anonymous* customer (a website visitor) has no email and no password: the token its
    widget keeps is its only credential, until it claims an email.
    """

    id: CustomerId
    email: str | None
    display_name: str
    password_hash: str
    email_verified: bool
    created_at: datetime
    # erased (docs/privacy.md, *Erasure*): a tombstone that holds no personal data any more
    erased: bool = False

    @property
    def anonymous(self) -> bool:
        return self.email is None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: ConversationId
    company_id: CompanyId
    customer_id: CustomerId
    subject: str
    status: Status
    owner_agent_id: AgentId | None
    owner_team_id: TeamId | None
    snoozed_until: datetime | None
    last_seq: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    # the list's sort key: the last message or the creation (private notes do not count)
    last_activity_at: datetime
    # since when the customer waits for an answer; None: nobody waits
    waiting_since: datetime | None = None
    # the customer was erased while the conversation was under legal hold: restricted
    restricted: bool = False
    # routing (docs/routing.md): the topic the customer chose, where they wrote from, the
    # language of their messenger, and the routing rule that put it where it is
    topic_id: ConversationTopicId | None = None
    channel: str = "messenger"
    language: str | None = None
    routing_rule_id: RoutingRuleId | None = None
    # the open SLA clocks as shown (core/actions/sla.py) and the earliest due time among them
    sla: list[dict[str, Any]] | None = None
    sla_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Message:
    id: MessageId
    company_id: CompanyId
    conversation_id: ConversationId
    seq: int
    kind: MessageKind
    body: str
    author_agent_id: AgentId | None
    author_customer_id: CustomerId | None
    author_name: str
    client_id: str | None
    created_at: datetime
    attachments: tuple[Attachment, ...] = ()
    mentions: tuple[AgentId, ...] = ()  # agents mentioned in a private note, ascending


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message. Images are stored re-encoded (no metadata) with a thumbnail."""

    id: AttachmentId
    company_id: CompanyId
    conversation_id: ConversationId
    message_id: MessageId
    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    storage_key: str
    thumbnail_key: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReadMarker:
    conversation_id: ConversationId
    reader: str  # "customer" or "agent:<id>"
    last_read_seq: int


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: TokenId
    company_id: CompanyId
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    scopes: frozenset[Scope] = ALL_SCOPES
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin change, as admins read it back (append-only)."""

    id: int
    company_id: CompanyId
    actor: str  # "agent:<id>", "token:<id>" or "operator"
    action: str  # e.g. "agent.deactivated", "label.created"
    target: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What a customer may share with companies beyond the display name (None: not given)."""

    customer_id: CustomerId
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One grant or revocation in the customer's consent ledger (append-only)."""

    id: int
    customer_id: CustomerId
    company_id: CompanyId
    action: str  # "grant" | "revoke"
    field: str
    screen: str  # where the customer did it, e.g. "privacy_card"
    text_version: str  # the version of the wording they were shown
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Label:
    """A company-defined, coloured tag on conversations."""

    id: LabelId
    company_id: CompanyId
    name: str
    color: str  # "#rrggbb", lower case


@dataclass(frozen=True, slots=True)
class CannedResponse:
    """A reply template; ``agent_id`` None: company-wide, else one agent's personal one."""

    id: CannedResponseId
    company_id: CompanyId
    agent_id: AgentId | None
    shortcut: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event appended inside a transaction; it gets its stream position on insert.

    ``customer_id`` is set when the conversation's customer is in the audience; ``None`` keeps
    the event inside the company (private notes, internal changes).
    """

    type: str
    company_id: CompanyId
    conversation_id: ConversationId | None
    customer_id: CustomerId | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    pos: EventPos
    type: str
    company_id: CompanyId
    conversation_id: ConversationId | None
    customer_id: CustomerId | None
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TeamSlaPolicy:
    """A team's calendar (None: the company's hours or holidays) and its targets in business
    minutes (None: no promise for that target)."""

    company_id: CompanyId
    team_id: TeamId
    business_hours: dict[str, list[list[str]]] | None = None
    holidays: list[dict[str, str]] | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    reassign_on_breach: bool = False


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class SlaClock:
    """One target's clock on one conversation (a row of ``sla_clocks``)."""

    id: int
    company_id: CompanyId
    conversation_id: ConversationId
    target: str  # core.rules.sla.Target
    team_id: TeamId | None
    target_minutes: int
    state: ClockState
    started_at: datetime
    running_since: datetime | None
    elapsed: timedelta
    paused_at: datetime | None
    paused: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    met_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.PAUSED)


@dataclass(frozen=True, slots=True)
class Rating:
    """A customer's rating of a resolved conversation (CSAT): 1–5 and an optional comment.

    ``agent_id``/``team_id``: who owned the conversation when it was rated (the reports count
    the rating there)."""

    company_id: CompanyId
    conversation_id: ConversationId
    customer_id: CustomerId
    score: int
    comment: str
    agent_id: AgentId | None
    team_id: TeamId | None
    created_at: datetime
    updated_at: datetime
