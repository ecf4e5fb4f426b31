"""The narrow boundaries between the domain and the outside world.

``storage`` implements :class:`Database`, the repositories and the :class:`FileStore`,
``realtime`` the :class:`EventBus`, ``jobs`` the :class:`Mailer`, ``eyelevel.media`` the
:class:`MediaProcessor`. Tests use the real SQLite implementation or the
fakes next to each implementation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from eyelevel.core.callbacks import (
    Callback,
    CallbackId,
    CallbackSettings,
    CallbackState,
)
from eyelevel.core.complaints import (
    CaseId,
    CaseState,
    CaseStep,
    ComplaintCase,
    GoodwillRule,
    NewGoodwillRule,
)
from eyelevel.core.entities import (
    Agent,
    ApiToken,
    Attachment,
    AuditEntry,
    CannedResponse,
    Company,
    ConsentEntry,
    Conversation,
    Customer,
    CustomerProfile,
    Event,
    Label,
    Membership,
    Message,
    MessageKind,
    NewEvent,
    Rating,
    ReadMarker,
    Role,
    Scope,
    SlaClock,
    Status,
    Team,
    TeamSlaPolicy,
)
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
from eyelevel.core.push import PushSubscription, PushSubscriptionId, VapidKeys
from eyelevel.core.rules.contact import ContactPreferences
from eyelevel.core.rules.mail import NO_MAIL_POLICY, MailPolicy
from eyelevel.core.rules.routing import (
    Conditions,
    ConversationTopic,
    RoutingRule,
    RoutingSettings,
    TeamAgent,
    TeamAssignment,
)
from eyelevel.core.rules.sharing import SharedCustomer
from eyelevel.core.webhooks import (
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    WebhookEndpointId,
)

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime: ...


class RateCounter(Protocol):
    """Shared counters for rate limits (``realtime.ratestore``: in-process or Redis).

    ``add`` adds ``amount`` (negative: a refund) to ``key`` atomically and returns the new
    total; a key lives at least ``ttl_seconds`` after its first use and may be forgotten after.
    Every process that uses the same store sees the same totals.
    """

    async def add(self, key: str, amount: int, *, ttl_seconds: int) -> int: ...
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    company_id: CompanyId
    email: str
    role: Role
    expires_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    kind: str  # "customer" | "agent"
    principal_id: int
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


class ListSort(StrEnum):
    NEWEST = "newest"  # newest activity first
    WAITING = "waiting"  # the customer waiting longest first; those not waiting follow
    DUE = "due"  # the earliest SLA due time first; those without one follow


class ListPhase(StrEnum):
    """The order a stretch of a conversation list is in (a keyset cursor names it)."""

    ACTIVITY = "activity"  # last_activity_at, id: newest first
    WAITING = "waiting"  # waiting_since, last_activity_at, id: oldest first
    IDLE = "idle"  # sort=waiting's tail, nobody waiting: last_activity_at, id newest first
    MENTION = "mention"  # the agent's newest mention in the conversation, id: newest first
    DUE = "due"  # sla_due_at, last_activity_at, id: earliest due first
    UNDUE = "undue"  # sort=due's tail, no due time: last_activity_at, id newest first


@dataclass(frozen=True, slots=True)
class ListPosition:
    """The sort values of the last row of a page: the next page starts after it."""

    phase: ListPhase
    at: datetime  # the phase's leading sort value
    id: int
    activity: datetime | None = None  # ListPhase.WAITING's tie-break (last_activity_at)


@dataclass(frozen=True, slots=True)
class Listed:
    """One row of a conversation list (``last`` and ``customer``: when asked for)."""

    conversation: Conversation
    position: ListPosition
    last: Message | None = None
    customer: Customer | None = None


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """Read-side filter; tenancy fields come from the principal, never from the client."""

    company_ids: frozenset[CompanyId] | None = None
    customer_id: CustomerId | None = None
    status: Status | None = None
    owner_agent_id: AgentId | None = None
    owner_team_id: TeamId | None = None
    unassigned: bool = False
    label_id: LabelId | None = None
    topic_id: ConversationTopicId | None = None
    mentioning: AgentId | None = None  # with a note that mentions this agent; newest mention first
    sort: ListSort = ListSort.NEWEST
    # keyset cursor: the position of the last row of the previous page, in this sort
    after: ListPosition | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class InboxCounts:
    """The sidebar's numbers for one status (``statuses``: every status of the company)."""

    mine: int
    unassigned: int
    all: int
    mentions: int
    teams: dict[TeamId, int]
    statuses: dict[Status, int]


class AccountRepo(Protocol):
    async def get_customer(self, customer_id: CustomerId) -> Customer | None: ...
    async def get_customer_by_email(self, email: str) -> Customer | None: ...
    async def create_customer(
        self, *, email: str | None, display_name: str, password_hash: str, now: datetime
    ) -> Customer: ...
    async def claim_customer(
        self, customer_id: CustomerId, *, email: str, display_name: str, password_hash: str
    ) -> bool:
        """Give an anonymous customer an email and a password; False if it is not anonymous."""
        ...

    async def merge_customer(self, source: CustomerId, into: CustomerId) -> int:
        """Move ``source``'s conversations, messages and events (payloads included) to
        ``into``, then delete ``source`` and its sessions. Returns the conversations moved."""
        ...

    async def set_customer_verified(self, customer_id: CustomerId, now: datetime) -> None: ...
    async def get_agent(self, agent_id: AgentId) -> Agent | None: ...
    async def get_agent_by_email(self, email: str) -> Agent | None: ...
    async def create_agent(
        self, *, email: str, name: str, password_hash: str, now: datetime
    ) -> Agent: ...
    async def memberships_of(self, agent_id: AgentId) -> list[Membership]: ...
    async def get_membership(
        self, company_id: CompanyId, agent_id: AgentId
    ) -> Membership | None: ...
    async def upsert_membership(
        self, company_id: CompanyId, agent_id: AgentId, role: Role, now: datetime
    ) -> None: ...
    async def create_invitation(
        self,
        *,
        company_id: CompanyId,
        email: str,
        role: Role,
        token_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> Invitation: ...
    async def get_invitation(self, token_hash: str) -> Invitation | None: ...
    async def accept_invitation(self, invitation_id: int, now: datetime) -> None: ...


class CompanyRepo(Protocol):
    async def get(self, company_id: CompanyId) -> Company | None: ...
    async def get_by_slug(self, slug: str) -> Company | None: ...
    async def get_many(self, company_ids: Sequence[CompanyId]) -> list[Company]: ...
    async def search(self, query: str, limit: int) -> list[Company]: ...
    async def create(
        self,
        *,
        slug: str,
        name: str,
        description: str,
        phone: str,
        timezone: str,
        business_hours: dict[str, list[list[str]]],
        reply_within_minutes: int | None,
        now: datetime,
    ) -> Company: ...
    async def create_team(self, company_id: CompanyId, name: str, now: datetime) -> Team: ...
    async def get_team(self, company_id: CompanyId, team_id: TeamId) -> Team | None: ...
    async def get_team_by_name(self, company_id: CompanyId, name: str) -> Team | None: ...
    async def teams_of(self, company_id: CompanyId) -> list[Team]: ...
    async def add_team_member(
        self, company_id: CompanyId, team_id: TeamId, agent_id: AgentId
    ) -> None: ...
    async def team_members(self, company_id: CompanyId) -> dict[TeamId, list[AgentId]]: ...
    async def members(self, company_id: CompanyId) -> list[tuple[Agent, Membership]]: ...
    async def update_profile(self, company_id: CompanyId, values: dict[str, Any]) -> None:
        """Set already validated profile columns (name, slug, description, phone, timezone,
        business_hours, holidays, reply_within_minutes)."""
        ...


class ConversationRepo(Protocol):
    async def get(self, conversation_id: ConversationId) -> Conversation | None: ...
    async def get_for_update(self, conversation_id: ConversationId) -> Conversation | None:
        """Fetch and lock the row until the transaction ends (serializes sends per thread)."""
        ...

    async def create(
        self,
        *,
        company_id: CompanyId,
        customer_id: CustomerId,
        subject: str,
        owner_team_id: TeamId | None,
        now: datetime,
        topic_id: ConversationTopicId | None = None,
        channel: str = "messenger",
        language: str | None = None,
    ) -> Conversation: ...
    async def advance_seq(
        self,
        conversation: Conversation,
        *,
        status: Status,
        now: datetime,
        activity: bool,
        waiting_since: datetime | None,
    ) -> int:
        """Take the next message seq; set the status and ``waiting_since``; bump last activity
        when ``activity``. One statement: unchanged values are not written."""
        ...

    async def set_status(
        self,
        conversation_id: ConversationId,
        status: Status,
        snoozed_until: datetime | None,
        now: datetime,
        *,
        clear_waiting: bool = False,
    ) -> None: ...
    async def set_owner(
        self,
        conversation_id: ConversationId,
        agent_id: AgentId | None,
        team_id: TeamId | None,
        now: datetime,
    ) -> None: ...
    async def open_owned_by(self, company_id: CompanyId, agent_id: AgentId) -> list[Conversation]:
        """The agent's conversations in the company that are not resolved, locked for update."""
        ...

    async def listing(self, flt: ConversationFilter, *, latest: bool = False) -> list[Listed]:
        """A page in the filter's order, each row with its position (for the next cursor).
        ``latest``: with each conversation's newest message (notes included) and its customer,
        read in the same statement (for company members)."""
        ...


class MessageRepo(Protocol):
    async def find_opening(
        self, company_id: CompanyId, customer_id: CustomerId, client_id: str
    ) -> Message | None:
        """The first message of one of the customer's conversations with the company, sent
        with ``client_id`` (a repeated start of a conversation)."""
        ...

    async def get_by_client_id(
        self, conversation: Conversation, client_id: str
    ) -> Message | None: ...
    async def insert(
        self,
        *,
        conversation: Conversation,
        seq: int,
        kind: MessageKind,
        body: str,
        author_agent_id: AgentId | None,
        author_customer_id: CustomerId | None,
        author_name: str,
        client_id: str | None,
        now: datetime,
    ) -> Message: ...
    async def page(
        self,
        conversation: Conversation,
        *,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
        include_notes: bool,
    ) -> list[Message]: ...
    async def last_visible(
        self, conversations: Sequence[Conversation], include_notes: bool
    ) -> dict[ConversationId, Message]: ...
    async def set_read(
        self, conversation: Conversation, reader: str, seq: int, now: datetime
    ) -> bool:
        """Move the reader's marker forward to ``seq``; False when it was already there."""
        ...

    async def read_markers(self, conversation: Conversation) -> list[ReadMarker]: ...
    async def unread_counts(
        self,
        conversations: Sequence[Conversation],
        *,
        reader: str,
        kinds: frozenset[MessageKind],
    ) -> dict[ConversationId, int]:
        """Messages of ``kinds`` after ``reader``'s marker, per conversation (absent: none)."""
        ...


class EventRepo(Protocol):
    async def append(self, event: NewEvent, now: datetime) -> Event: ...
    async def since(
        self,
        pos: EventPos,
        *,
        company_ids: frozenset[CompanyId],
        customer_id: CustomerId | None,
        limit: int,
    ) -> list[Event]:
        """Events after ``pos`` that concern these companies or this customer, oldest first.

        A coarse pre-filter only: callers apply :func:`eyelevel.core.rules.audience.may_receive`.
        """
        ...

    async def after(self, pos: EventPos, limit: int) -> list[Event]: ...
    async def head(self) -> EventPos: ...


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An upload already processed and written to the :class:`FileStore`, not yet recorded."""

    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    storage_key: str
    thumbnail_key: str | None


class AttachmentRepo(Protocol):
    async def insert(self, message: Message, file: StoredFile, now: datetime) -> Attachment: ...
    async def of_messages(
        self, messages: Sequence[Message]
    ) -> dict[MessageId, tuple[Attachment, ...]]: ...
    async def get(self, attachment_id: AttachmentId) -> tuple[Attachment, MessageKind] | None:
        """The attachment and the kind of its message (a note's files stay in the company)."""
        ...


class TeamRepo(Protocol):
    """Changing teams; creating and reading them is on :class:`CompanyRepo`."""

    async def get_by_name(self, company_id: CompanyId, name: str) -> Team | None:
        """Case-insensitive: "Support" and "support" are the same team to people."""
        ...

    async def rename(self, company_id: CompanyId, team_id: TeamId, name: str) -> None: ...
    async def members_of(self, company_id: CompanyId, team_id: TeamId) -> list[AgentId]: ...
    async def set_members(
        self, company_id: CompanyId, team_id: TeamId, agent_ids: Sequence[AgentId]
    ) -> None: ...
    async def count_unresolved(self, company_id: CompanyId, team_id: TeamId) -> int:
        """Conversations owned by the team that are not resolved."""
        ...

    async def release_resolved(
        self, company_id: CompanyId, team_id: TeamId, now: datetime
    ) -> list[ConversationId]:
        """Clear the team as owner of its resolved conversations; returns those whose visible
        owner was the team (no agent owner besides)."""
        ...

    async def delete(self, company_id: CompanyId, team_id: TeamId) -> None:
        """Delete the team and its memberships (no conversation may reference it any more)."""
        ...


class ComplaintRepo(Protocol):
    """Complaint cases, their append-only trail and the goodwill policy (core/complaints.py)."""

    async def rules(self, company_id: CompanyId) -> list[GoodwillRule]:
        """The policy's rules in their order."""
        ...

    async def replace_rules(
        self, company_id: CompanyId, rules: Sequence[NewGoodwillRule], now: datetime
    ) -> list[GoodwillRule]: ...
    async def of_conversation(
        self, company_id: CompanyId, conversation_id: ConversationId, *, for_update: bool = False
    ) -> ComplaintCase | None: ...
    async def get(self, company_id: CompanyId, case_id: CaseId) -> ComplaintCase | None: ...
    async def create(self, values: dict[str, Any]) -> CaseId: ...
    async def update(
        self, company_id: CompanyId, case_id: CaseId, values: dict[str, Any]
    ) -> None: ...
    async def prior_goodwill(
        self, company_id: CompanyId, customer_id: CustomerId, since: datetime, exclude: CaseId
    ) -> int: ...
    async def of_company(
        self, company_id: CompanyId, states: Sequence[CaseState], limit: int
    ) -> list[ComplaintCase]: ...
    async def append_step(self, company_id: CompanyId, values: dict[str, Any]) -> None: ...
    async def steps(self, company_id: CompanyId, case_id: CaseId) -> list[CaseStep]: ...


class RatingRepo(Protocol):
    """Customers' ratings of resolved conversations (CSAT)."""

    async def get(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> Rating | None: ...
    async def save(self, rating: Rating, *, new: bool) -> None:
        """Insert (``new``) or replace the conversation's rating."""
        ...


class LabelRepo(Protocol):
    async def of_company(self, company_id: CompanyId) -> list[Label]: ...
    async def get(self, company_id: CompanyId, label_id: LabelId) -> Label | None: ...
    async def get_by_name(self, company_id: CompanyId, name: str) -> Label | None:
        """Case-insensitive, like people read names."""
        ...

    async def create(
        self, *, company_id: CompanyId, name: str, color: str, now: datetime
    ) -> Label: ...
    async def update(
        self, company_id: CompanyId, label_id: LabelId, *, name: str, color: str
    ) -> None: ...
    async def delete(self, company_id: CompanyId, label_id: LabelId) -> list[ConversationId]:
        """Remove the label from its conversations and delete it; returns those conversations."""
        ...

    async def existing(
        self, company_id: CompanyId, label_ids: Sequence[LabelId]
    ) -> set[LabelId]: ...
    async def of_conversations(
        self, company_id: CompanyId, conversation_ids: Sequence[ConversationId]
    ) -> dict[ConversationId, list[LabelId]]:
        """Label ids per conversation, ascending (absent: none)."""
        ...

    async def set_for_conversation(
        self, conversation: Conversation, label_ids: Sequence[LabelId]
    ) -> None: ...


class CannedRepo(Protocol):
    async def visible_to(
        self, company_id: CompanyId, agent_id: AgentId | None
    ) -> list[CannedResponse]:
        """Company-wide ones and ``agent_id``'s personal ones, by shortcut."""
        ...

    async def get(
        self, company_id: CompanyId, canned_id: CannedResponseId
    ) -> CannedResponse | None: ...
    async def create(
        self,
        *,
        company_id: CompanyId,
        agent_id: AgentId | None,
        shortcut: str,
        body: str,
        now: datetime,
    ) -> CannedResponse: ...
    async def update(
        self,
        company_id: CompanyId,
        canned_id: CannedResponseId,
        *,
        shortcut: str,
        body: str,
        now: datetime,
    ) -> None: ...
    async def delete(self, company_id: CompanyId, canned_id: CannedResponseId) -> None: ...


class AuditRepo(Protocol):
    async def append(
        self,
        *,
        company_id: CompanyId,
        actor: str,
        action: str,
        target: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None: ...
    async def page(
        self, company_id: CompanyId, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]: ...


@dataclass(frozen=True, slots=True)
class SnippetPart:
    """A piece of a search snippet: plain text, ``match`` when it matched the query."""

    text: str
    match: bool


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message found by full-text search, with its customer (for the result list)."""

    message_id: MessageId
    conversation_id: ConversationId
    seq: int
    kind: MessageKind
    parts: tuple[SnippetPart, ...]
    created_at: datetime
    customer_id: CustomerId
    customer_name: str


class SearchRepo(Protocol):
    async def messages(self, company_id: CompanyId, query: str, limit: int) -> list[SearchHit]:
        """The company's messages (notes included) matching ``query``, best match first."""
        ...


class InboxRepo(Protocol):
    """The agent inbox's read side (counts, customers of a page) and mentions in notes."""

    async def counts(
        self, company_id: CompanyId, *, status: Status, agent_id: AgentId | None
    ) -> InboxCounts:
        """Counts for ``status`` (``teams``: only teams that own some); ``statuses``: all."""
        ...

    async def customers(self, customer_ids: Sequence[CustomerId]) -> dict[CustomerId, Customer]: ...

    async def active_agents(
        self, company_id: CompanyId, agent_ids: Sequence[AgentId]
    ) -> set[AgentId]:
        """Those of ``agent_ids`` that are active members of the company (active accounts)."""
        ...

    async def add_mentions(
        self, message: Message, agent_ids: Sequence[AgentId], now: datetime
    ) -> None: ...
    async def mentions_of(
        self, messages: Sequence[Message]
    ) -> dict[MessageId, tuple[AgentId, ...]]:
        """Mentioned agents per message, ascending (absent: none)."""
        ...


class TokenRepo(Protocol):
    async def create(
        self,
        *,
        company_id: CompanyId,
        name: str,
        prefix: str,
        token_hash: str,
        scopes: frozenset[Scope],
        expires_at: datetime | None,
        now: datetime,
    ) -> ApiToken: ...
    async def get_by_hash(self, token_hash: str) -> ApiToken | None: ...
    async def of_company(self, company_id: CompanyId) -> list[ApiToken]: ...
    async def revoke(self, company_id: CompanyId, token_id: TokenId, now: datetime) -> bool: ...
    async def touch(self, token_id: TokenId, now: datetime) -> None: ...


class SessionRepo(Protocol):
    async def create(
        self,
        *,
        id_hash: str,
        kind: str,
        principal_id: int,
        csrf_token: str,
        now: datetime,
        expires_at: datetime,
        user_agent: str = "",
    ) -> None: ...
    async def get(self, id_hash: str) -> SessionRecord | None: ...
    async def delete(self, id_hash: str) -> None: ...


@dataclass(frozen=True, slots=True)
class TotpState:
    """An agent's TOTP secret (None: none), whether it is active, and the newest time step
    accepted so far (codes of that step and earlier are spent)."""

    secret: str | None
    enabled: bool
    last_step: int


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id_hash: str
    created_at: datetime
    expires_at: datetime
    user_agent: str


class AgentSecurityRepo(Protocol):
    """Second factor, recovery codes, presence, sessions by owner, memberships' role and state."""

    async def totp_state(self, agent_id: AgentId) -> TotpState | None: ...
    async def start_totp(self, agent_id: AgentId, secret: str) -> None:
        """Store a new, not yet active secret (refused silently when TOTP is active)."""
        ...

    async def enable_totp(
        self, agent_id: AgentId, *, secret: str, step: int, now: datetime
    ) -> bool:
        """Activate ``secret`` if it is still the pending one; ``step`` is spent."""
        ...

    async def spend_totp_step(self, agent_id: AgentId, *, state: TotpState, step: int) -> bool:
        """Record ``step`` as the newest one used, if ``state`` is still current (so one code
        can never sign in twice, even in two concurrent requests)."""
        ...

    async def disable_totp(self, agent_id: AgentId) -> None:
        """Forget the secret and every recovery code."""
        ...

    async def replace_recovery_codes(
        self, agent_id: AgentId, code_hashes: Sequence[str]
    ) -> None: ...
    async def spend_recovery_code(self, agent_id: AgentId, code_hash: str, now: datetime) -> bool:
        """Mark an unused code used; False when there is no such unused code."""
        ...

    async def set_presence(self, agent_id: AgentId, presence: str, now: datetime) -> None: ...
    async def sessions_of(self, kind: str, principal_id: int, now: datetime) -> list[SessionInfo]:
        """Unexpired sessions, newest first."""
        ...

    async def end_sessions(self, kind: str, principal_id: int) -> int: ...
    async def active_admins(self, company_id: CompanyId) -> list[AgentId]:
        """Admins whose membership and account are active; their rows stay locked until the
        transaction ends (two admins demoting each other at once cannot leave none)."""
        ...

    async def set_membership(
        self, company_id: CompanyId, agent_id: AgentId, *, role: Role, active: bool
    ) -> None: ...


class JobRepo(Protocol):
    async def enqueue(self, kind: str, payload: dict[str, Any], run_at: datetime) -> None: ...
    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Job]: ...
    async def complete(self, job_id: int) -> None: ...
    async def retry(self, job_id: int, run_at: datetime, error_code: str) -> None: ...


class SharingRepo(Protocol):
    """Customer profiles, per-company grants and the consent ledger (docs/privacy.md)."""

    async def profile(self, customer_id: CustomerId) -> CustomerProfile | None: ...
    async def save_profile(self, profile: CustomerProfile, now: datetime) -> None: ...
    async def number(self, customer_id: CustomerId, company_id: CompanyId) -> str | None: ...
    async def set_number(
        self, customer_id: CustomerId, company_id: CompanyId, number: str | None
    ) -> None: ...
    async def grants(
        self, customer_id: CustomerId, company_id: CompanyId
    ) -> dict[str, datetime]: ...
    async def companies_granted(
        self, customer_id: CustomerId, fields: Sequence[str]
    ) -> list[CompanyId]:
        """The companies the customer grants any of ``fields``."""
        ...

    async def grant(
        self, customer_id: CustomerId, company_id: CompanyId, field: str, now: datetime
    ) -> None: ...
    async def revoke(self, customer_id: CustomerId, company_id: CompanyId, field: str) -> None: ...
    async def append_consent(self, entry: ConsentEntry) -> None: ...
    async def ledger(self, customer_id: CustomerId, limit: int) -> list[ConsentEntry]: ...
    async def shared_with(
        self, company_id: CompanyId, customers: Sequence[Customer]
    ) -> dict[CustomerId, SharedCustomer]:
        """What the company sees of each customer, in one statement."""
        ...


@dataclass(frozen=True, slots=True)
class PendingNotification:
    """One claimed row of ``notifications``: a company message to tell the customer about."""

    id: int
    message_id: MessageId
    seq: int


class ContactRepo(Protocol):
    """Contact preferences, company-started conversations' topics, and the notification rows
    (docs/privacy.md, *Contact*)."""

    async def preferences(
        self, customer_id: CustomerId, company_id: CompanyId
    ) -> ContactPreferences | None: ...
    async def save_preferences(self, prefs: ContactPreferences, now: datetime) -> None: ...
    async def allowed(
        self, company_id: CompanyId, customer_ids: Sequence[CustomerId]
    ) -> dict[CustomerId, ContactPreferences]:
        """The stored preferences of these customers for the company (absent: defaults)."""
        ...

    async def has_relationship(self, company_id: CompanyId, customer_id: CustomerId) -> bool:
        """Whether the customer has (had) a conversation with the company."""
        ...

    async def set_topic(
        self, conversation: Conversation, topic: str, started_by: str, now: datetime
    ) -> None: ...
    async def topic_of(self, conversation: Conversation) -> str | None:
        """The topic a company started the conversation for (None: the customer started it)."""
        ...

    async def customer_wrote(self, conversation: Conversation) -> bool: ...
    async def add_notification(
        self, message: Message, customer_id: CustomerId, channel: str, *, due_at: datetime
    ) -> bool:
        """One row per message and channel; False when it exists already (never twice)."""
        ...

    async def settle_read(self, conversation: Conversation, channel: str, seq: int) -> int:
        """Mark waiting rows up to ``seq`` read (they are never sent); returns how many."""
        ...

    async def drop_waiting(self, conversation: Conversation, channel: str) -> int: ...
    async def first_due(self, conversation: Conversation, channel: str) -> datetime | None:
        """The earliest due time of the waiting rows (a lapsed claim counts as waiting)."""
        ...

    async def claim(
        self,
        conversation: Conversation,
        channel: str,
        *,
        claim: str,
        now: datetime,
        lease_until: datetime,
    ) -> list[PendingNotification]:
        """Atomically take every waiting row of the conversation and channel (one batch)."""
        ...

    async def finish(self, claim: str, state: str, now: datetime) -> None:
        """Close a claim: ``sent`` or ``dropped``; ``pending`` hands the rows back."""
        ...


@dataclass(frozen=True, slots=True)
class DataExport:
    """A customer's requested export (docs/privacy.md); the row holds no personal data."""

    id: int
    customer_id: CustomerId
    state: str  # pending | ready | failed | expired (as stored; see actions.exports.state_of)
    storage_key: str | None  # the ZIP's key in the FileStore while ready
    size: int | None
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None


class ExportRepo(Protocol):
    """The customer's data exports."""

    async def lock_customer(self, customer_id: CustomerId) -> None:
        """Lock the customer's row until the transaction ends (one request at a time)."""
        ...

    async def create(self, customer_id: CustomerId, now: datetime) -> DataExport: ...
    async def get(self, export_id: int) -> DataExport | None: ...
    async def of_customer(self, customer_id: CustomerId, limit: int) -> list[DataExport]:
        """Newest first."""
        ...

    async def count_since(self, customer_id: CustomerId, since: datetime) -> int: ...
    async def set_ready(
        self, export_id: int, *, storage_key: str, size: int, now: datetime, expires_at: datetime
    ) -> bool:
        """Mark a pending export ready; False when it is no longer pending."""
        ...

    async def set_state(self, export_id: int, state: str) -> None:
        """Set ``failed`` or ``expired``; the file key is forgotten."""
        ...

    async def numbers(self, customer_id: CustomerId) -> dict[CompanyId, str]:
        """The customer's numbers at every company."""
        ...


class WebhookRepo(Protocol):
    """Webhook endpoints, their deliveries and attempts, and the relay's stream cursor."""

    async def create_endpoint(self, values: dict[str, Any]) -> WebhookEndpoint: ...
    async def endpoint(
        self, company_id: CompanyId, endpoint_id: WebhookEndpointId
    ) -> WebhookEndpoint | None: ...
    async def endpoints_of(self, company_id: CompanyId) -> list[WebhookEndpoint]: ...
    async def update_endpoint(
        self, company_id: CompanyId, endpoint_id: WebhookEndpointId, values: dict[str, Any]
    ) -> None: ...
    async def delete_endpoint(self, company_id: CompanyId, endpoint_id: WebhookEndpointId) -> None:
        """Delete the endpoint with its deliveries and their attempts."""
        ...

    async def enabled_endpoints(
        self, company_ids: Sequence[CompanyId]
    ) -> list[WebhookEndpoint]: ...
    async def cursor(self) -> EventPos | None:
        """The relay's position (None: no endpoint was ever created)."""
        ...

    async def lock_cursor(self) -> EventPos | None:
        """The position, locked until the transaction ends (one relay at a time)."""
        ...

    async def ensure_cursor(self, pos: EventPos) -> None:
        """Create the cursor at ``pos`` unless it exists."""
        ...

    async def set_cursor(self, pos: EventPos) -> None: ...
    async def create_delivery(self, values: dict[str, Any]) -> WebhookDelivery: ...
    async def delivery(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery | None: ...
    async def deliveries(
        self,
        company_id: CompanyId,
        endpoint_id: WebhookEndpointId,
        *,
        before_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
    ) -> list[WebhookDelivery]:
        """Newest first, each with its attempts (newest first)."""
        ...

    async def update_delivery(
        self, delivery_id: WebhookDeliveryId, values: dict[str, Any]
    ) -> None: ...
    async def add_attempt(self, delivery: WebhookDelivery, values: dict[str, Any]) -> None: ...


class RetentionRepo(Protocol):
    """What the retention job reads and deletes (docs/privacy.md, *Retention*)."""

    async def lock_schedule(self) -> None:
        """Serialize the job's scheduling until the transaction ends (PostgreSQL; SQLite has
        one writer anyway)."""
        ...

    async def job_scheduled(self, kind: str, *, after: datetime | None) -> bool:
        """Whether a job of ``kind`` exists (with ``run_at`` after ``after``, if given)."""
        ...

    async def companies(self) -> list[tuple[CompanyId, int]]:
        """Every company that keeps resolved conversations for a limited time, with its days."""
        ...

    async def due(
        self, company_id: CompanyId, before: datetime, limit: int
    ) -> list[ConversationId]:
        """Up to ``limit`` resolved conversations unchanged since before ``before``, locked
        (PostgreSQL: rows another transaction holds are skipped, a later batch takes them)."""
        ...

    async def delete_conversations(
        self, company_id: CompanyId, conversation_ids: Sequence[ConversationId]
    ) -> list[str]:
        """Delete the conversations with every row that belongs to them; returns the file
        store keys of their attachments (the files are deleted by the caller after commit)."""
        ...


@dataclass(frozen=True, slots=True)
class LegalHold:
    """A conversation a company must keep (docs/privacy.md, *Erasure*)."""

    company_id: CompanyId
    conversation_id: ConversationId
    reason: str
    created_by: str  # "agent:<id>", "token:<id>"
    created_at: datetime
    restricted: bool  # its customer was erased meanwhile: deleted when the hold ends


@dataclass(frozen=True, slots=True)
class CustomerConversation:
    company_id: CompanyId
    conversation_id: ConversationId
    held: bool


class ErasureRepo(Protocol):
    """What erasing a customer and legal holds read and write (docs/privacy.md, *Erasure*)."""

    async def lock_customer(self, customer_id: CustomerId) -> Customer | None:
        """The customer, its row locked until the transaction ends (one erasure at a time)."""
        ...

    async def conversations_of(self, customer_id: CustomerId) -> list[CustomerConversation]:
        """Every conversation of the customer with every company, and whether it is held."""
        ...

    async def companies_of(self, customer_id: CustomerId) -> list[CompanyId]:
        """The companies that know the customer: a conversation, a grant or a customer number."""
        ...

    async def restrict(
        self, company_id: CompanyId, conversation_ids: Sequence[ConversationId], now: datetime
    ) -> None:
        """Mark held conversations restricted and delete their events (with the webhook
        deliveries made from them): the stream no longer carries their content."""
        ...

    async def erase_customer(self, customer: Customer, now: datetime) -> list[str]:
        """Delete every row the customer owns (profile, numbers, grants, exports, sessions,
        the customer's events and the jobs naming them, and every table with a foreign key to
        the customer other than conversations and messages) and turn the account into a
        tombstone. Returns the file store keys to delete after the commit."""
        ...

    async def hold(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> LegalHold | None: ...
    async def holds_of(self, company_id: CompanyId, limit: int) -> list[LegalHold]:
        """Newest first."""
        ...

    async def set_hold(
        self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        *,
        reason: str,
        created_by: str,
        now: datetime,
    ) -> None:
        """Create or replace the hold (a new reason)."""
        ...

    async def lift_hold(self, company_id: CompanyId, conversation_id: ConversationId) -> None: ...


class RoutingRepo(Protocol):
    """Conversation topics, routing rules and settings, and auto-assignment's reads and locks
    (``storage.routing`` says in which order it locks)."""

    async def topics_of(self, company_id: CompanyId) -> list[ConversationTopic]: ...
    async def get_topic(
        self, company_id: CompanyId, topic_id: ConversationTopicId
    ) -> ConversationTopic | None: ...
    async def get_topic_by_name(
        self, company_id: CompanyId, name: str
    ) -> ConversationTopic | None: ...
    async def create_topic(
        self,
        company_id: CompanyId,
        *,
        name: str,
        active: bool,
        opens_complaint: bool = False,
        now: datetime,
    ) -> ConversationTopic: ...
    async def update_topic(
        self,
        company_id: CompanyId,
        topic_id: ConversationTopicId,
        *,
        name: str,
        active: bool,
        opens_complaint: bool = False,
    ) -> None: ...
    async def order_topics(
        self, company_id: CompanyId, topic_ids: Sequence[ConversationTopicId]
    ) -> None: ...
    async def topic_used_by_conversations(
        self, company_id: CompanyId, topic_id: ConversationTopicId
    ) -> bool: ...
    async def delete_topic(self, company_id: CompanyId, topic_id: ConversationTopicId) -> None: ...
    async def rules_of(self, company_id: CompanyId) -> list[RoutingRule]: ...
    async def get_rule(
        self, company_id: CompanyId, rule_id: RoutingRuleId
    ) -> RoutingRule | None: ...
    async def create_rule(
        self,
        company_id: CompanyId,
        *,
        name: str,
        enabled: bool,
        conditions: Conditions,
        team_id: TeamId,
        now: datetime,
    ) -> RoutingRule: ...
    async def update_rule(self, rule: RoutingRule, now: datetime) -> None: ...
    async def order_rules(
        self, company_id: CompanyId, rule_ids: Sequence[RoutingRuleId]
    ) -> None: ...
    async def delete_rule(self, company_id: CompanyId, rule_id: RoutingRuleId) -> None: ...
    async def settings(self, company_id: CompanyId) -> RoutingSettings: ...
    async def put_settings(self, settings: RoutingSettings) -> None: ...
    async def team_referenced(self, company_id: CompanyId, team_id: TeamId) -> bool: ...
    async def set_conversation_topic(
        self, conversation_id: ConversationId, topic_id: ConversationTopicId | None, now: datetime
    ) -> None: ...
    async def set_routed(
        self,
        conversation_id: ConversationId,
        team_id: TeamId | None,
        rule_id: RoutingRuleId | None,
        now: datetime,
    ) -> None: ...
    async def rule_names(
        self, company_id: CompanyId, rule_ids: Sequence[RoutingRuleId]
    ) -> dict[RoutingRuleId, str]: ...
    async def team_assignment(self, company_id: CompanyId, team_id: TeamId) -> TeamAssignment: ...
    async def assignments_of(self, company_id: CompanyId) -> dict[TeamId, TeamAssignment]: ...
    async def overrides_of(self, company_id: CompanyId) -> dict[TeamId, dict[AgentId, int]]: ...
    async def set_team_assignment(
        self,
        company_id: CompanyId,
        team_id: TeamId,
        *,
        auto_assign: bool,
        max_open: int,
        overrides: dict[AgentId, int | None],
    ) -> None: ...
    async def lock_teams(
        self, company_id: CompanyId, team_ids: Sequence[TeamId]
    ) -> list[TeamAssignment]: ...
    async def lock_team_agents(
        self, company_id: CompanyId, team_ids: Sequence[TeamId]
    ) -> list[TeamAgent]: ...
    async def open_counts(
        self, company_id: CompanyId, agent_ids: Sequence[AgentId]
    ) -> dict[AgentId, int]: ...
    async def queue(
        self, company_id: CompanyId, team_id: TeamId, limit: int
    ) -> list[Conversation]: ...
    async def set_last_assigned(
        self, company_id: CompanyId, team_id: TeamId, agent_id: AgentId
    ) -> None: ...
    async def auto_teams_of_agent(
        self, company_id: CompanyId, agent_id: AgentId
    ) -> list[TeamId]: ...


@dataclass(frozen=True, slots=True)
class EmailThread:
    """An email conversation's addresses: the customer's (replies go there) and the company's
    it came in on (replies come from it)."""

    company_id: CompanyId
    conversation_id: ConversationId
    address: str
    inbound_address: str


@dataclass(frozen=True, slots=True)
class MailRef:
    """One mail's ``Message-ID`` (without ``<>``) in a conversation."""

    ref: str
    conversation_id: ConversationId
    message_id: MessageId | None
    direction: str  # in | out
    sent_at: datetime | None


class MailRepo(Protocol):
    """Email as a channel (docs/email.md): inbound addresses, threads, Message-IDs, senders."""

    async def address_owner(self, address: str) -> CompanyId | None: ...
    async def addresses_of(self, company_id: CompanyId) -> list[str]:
        """In the order they were added."""
        ...

    async def set_addresses(
        self, company_id: CompanyId, addresses: Sequence[str], now: datetime
    ) -> None:
        """Replace the company's inbound addresses (already checked to be free)."""
        ...

    async def sender(self, address: str) -> CustomerId | None:
        """The email-only customer ``address`` writes as."""
        ...

    async def add_sender(self, address: str, customer_id: CustomerId, now: datetime) -> None: ...
    async def forget_sender(self, address: str) -> None: ...
    async def find_thread(
        self, company_id: CompanyId, refs: Sequence[str]
    ) -> dict[str, ConversationId]:
        """Which of ``refs`` are known in the company, and their conversations."""
        ...

    async def add_ref(
        self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        *,
        ref: str,
        message_id: MessageId | None,
        direction: str,
        now: datetime,
    ) -> None: ...
    async def refs_of(self, company_id: CompanyId, conversation_id: ConversationId) -> list[str]:
        """The conversation's Message-IDs, oldest first."""
        ...

    async def outbound_of(self, company_id: CompanyId, message_id: MessageId) -> MailRef | None: ...
    async def mark_sent(self, company_id: CompanyId, ref: str, now: datetime) -> None: ...
    async def thread(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> EmailThread | None: ...
    async def create_thread(self, thread: EmailThread, now: datetime) -> None: ...


class CallbackRepo(Protocol):
    """Callbacks and each company's callback settings (docs/callbacks.md)."""

    async def settings(self, company_id: CompanyId) -> CallbackSettings:
        """The company's settings (the defaults until an admin saved some)."""
        ...

    async def save_settings(self, settings: CallbackSettings, now: datetime) -> None: ...
    async def lock_company(self, company_id: CompanyId) -> None:
        """Serialize bookings of one company until the transaction ends (PostgreSQL; SQLite
        has one writer anyway), so two customers never book beyond a slot's capacity."""
        ...

    async def capable_agents(self, settings: CallbackSettings) -> list[AgentId]:
        """Active members (active accounts) who take callbacks, ascending."""
        ...

    async def booked_per_slot(
        self, company_id: CompanyId, since: datetime, until: datetime
    ) -> dict[datetime, int]:
        """Active callbacks (booked, calling) per slot start in ``[since, until)``."""
        ...

    async def busy_agents(self, company_id: CompanyId, slot_start: datetime) -> set[AgentId]:
        """Owners of active callbacks in the slot starting at ``slot_start``."""
        ...

    async def open_load(self, company_id: CompanyId, since: datetime) -> dict[AgentId, int]:
        """Active callbacks per owner with a slot ending after ``since``."""
        ...

    async def create(self, values: dict[str, Any]) -> Callback: ...
    async def get(self, callback_id: CallbackId) -> Callback | None: ...
    async def get_for_update(self, callback_id: CallbackId) -> Callback | None: ...
    async def update(self, callback_id: CallbackId, values: dict[str, Any]) -> Callback: ...
    async def of_conversation(self, conversation: Conversation) -> list[Callback]:
        """Newest slot first."""
        ...

    async def active_of_conversation(self, conversation: Conversation) -> Callback | None:
        """The conversation's booked or calling callback, if any."""
        ...

    async def of_company(
        self,
        company_id: CompanyId,
        *,
        since: datetime,
        until: datetime,
        owner_agent_id: AgentId | None,
        states: frozenset[CallbackState] | None,
        limit: int,
    ) -> list[Callback]:
        """Slots starting in ``[since, until)``, earliest first."""


class SlaRepo(Protocol):
    """Team SLA policies and the clocks of conversations (docs/sla.md)."""

    async def policy(self, company_id: CompanyId, team_id: TeamId) -> TeamSlaPolicy | None: ...
    async def policies(self, company_id: CompanyId) -> list[TeamSlaPolicy]: ...
    async def save_policy(self, policy: TeamSlaPolicy, now: datetime) -> None: ...
    async def clocks_of(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> list[SlaClock]: ...
    async def get_clock(self, clock_id: int) -> SlaClock | None: ...
    async def insert_clock(self, clock: SlaClock) -> SlaClock:
        """Stores a new clock (its ``id`` is ignored); returns it with its id."""
        ...

    async def update_clock(self, clock: SlaClock) -> None: ...
    async def set_summary(
        self,
        conversation_id: ConversationId,
        summary: Sequence[dict[str, Any]] | None,
        due_at: datetime | None,
    ) -> None:
        """The conversation's ``sla`` (its open clocks as shown) and ``sla_due_at``."""


class PushRepo(Protocol):
    """The server's VAPID keys and the customers' push subscriptions (docs/privacy.md)."""

    async def keys(self) -> VapidKeys | None: ...
    async def add_keys(self, keys: VapidKeys, now: datetime) -> None:
        """Store the key pair unless one is stored already (the first process to get here
        wins; everyone then reads the same pair)."""
        ...

    async def by_endpoint(self, endpoint: str) -> PushSubscription | None: ...
    async def get(self, subscription_id: PushSubscriptionId) -> PushSubscription | None: ...
    async def of_customer(self, customer_id: CustomerId) -> list[PushSubscription]:
        """Oldest first."""
        ...

    async def add(self, values: dict[str, Any]) -> PushSubscription: ...
    async def update(self, subscription_id: PushSubscriptionId, values: dict[str, Any]) -> None: ...
    async def delete(self, subscription_id: PushSubscriptionId) -> bool:
        """False when it was gone already."""
        ...


@dataclass(frozen=True, slots=True)
class ReportConversation:
    """A conversation as the reports count it (docs/reports.md): its current owner, topic and
    channel, its first customer message and first answer, and its last resolution while it is
    resolved."""

    id: ConversationId
    created_at: datetime
    status: Status
    team_id: TeamId | None
    agent_id: AgentId | None
    topic_id: int | None
    channel: str
    first_customer_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportClock:
    """An SLA clock as the reports count it; ``agent_id`` is its conversation's current owner."""

    id: int
    conversation_id: ConversationId
    target: str
    team_id: TeamId | None
    agent_id: AgentId | None
    state: str
    started_at: datetime
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    elapsed: timedelta


@dataclass(frozen=True, slots=True)
class ReportRating:
    """A customer's rating as the reports count it: under the team and agent that owned the
    conversation when it was rated, in the week it was given."""

    score: int
    team_id: TeamId | None
    agent_id: AgentId | None
    rated_at: datetime


class ReportRepo(Protocol):
    """The raw rows of the company reports, read for a period ``[start, end)``."""

    async def conversations_started(
        self, company_id: CompanyId, start: datetime, end: datetime
    ) -> list[ReportConversation]: ...
    async def clocks_started(
        self, company_id: CompanyId, start: datetime, end: datetime
    ) -> list[ReportClock]: ...
    async def ratings_given(
        self, company_id: CompanyId, start: datetime, end: datetime
    ) -> list[ReportRating]:
        """Ratings given (or last changed) in the period."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Repositories write only through it; ``emit`` appends to the stream."""

    @property
    def accounts(self) -> AccountRepo: ...
    @property
    def companies(self) -> CompanyRepo: ...
    @property
    def conversations(self) -> ConversationRepo: ...
    @property
    def messages(self) -> MessageRepo: ...
    @property
    def events(self) -> EventRepo: ...
    @property
    def attachments(self) -> AttachmentRepo: ...
    @property
    def audit(self) -> AuditRepo: ...
    @property
    def tokens(self) -> TokenRepo: ...
    @property
    def search(self) -> SearchRepo: ...
    @property
    def sessions(self) -> SessionRepo: ...
    @property
    def jobs(self) -> JobRepo: ...
    @property
    def inbox(self) -> InboxRepo: ...
    @property
    def security(self) -> AgentSecurityRepo: ...
    @property
    def teams(self) -> TeamRepo: ...
    @property
    def labels(self) -> LabelRepo: ...
    @property
    def complaints(self) -> ComplaintRepo: ...
    @property
    def ratings(self) -> RatingRepo: ...
    @property
    def canned(self) -> CannedRepo: ...
    @property
    def sharing(self) -> SharingRepo: ...

    @property
    def webhooks(self) -> WebhookRepo: ...
    @property
    def exports(self) -> ExportRepo: ...
    @property
    def retention(self) -> RetentionRepo: ...
    @property
    def erasure(self) -> ErasureRepo: ...
    @property
    def routing(self) -> RoutingRepo: ...
    @property
    def mail(self) -> MailRepo: ...
    @property
    def callbacks(self) -> CallbackRepo: ...
    @property
    def contact(self) -> ContactRepo: ...
    @property
    def sla(self) -> SlaRepo: ...
    @property
    def push(self) -> PushRepo: ...
    @property
    def reports(self) -> ReportRepo: ...

    async def emit(self, event: NewEvent, now: datetime) -> Event:
        """Append an event in this transaction; it is published only after commit."""
        ...


class Database(Protocol):
    async def write(self, name: str, fn: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``fn`` in one named transaction and commit; then publish what it emitted.

        Returns only after the commit, so an acknowledgement built from the result is durable.
        A :class:`~eyelevel.core.errors.DomainError` raised by ``fn`` rolls everything back.
        ``fn`` may await only the unit of work (never the network, a sleep or another task):
        on SQLite it runs to its end in one step on the writer thread.
        """
        ...

    async def read(self, fn: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``fn`` on a read-only snapshot (writes are refused)."""
        ...


class EventBus(Protocol):
    """Fan-out of committed events (and ephemeral ones) to every process.

    Treated as unreliable: subscribers detect gaps by stream position and fill them from the
    database, so a lost publish costs latency, never data.
    """

    async def publish(self, events: Sequence[Event]) -> None: ...
    async def publish_ephemeral(self, event: Event) -> None: ...
    def subscribe(self, handler: Callable[[Sequence[Event], bool], None]) -> None:
        """Register ``handler(events, ephemeral)``; it must not block."""
        ...

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class MailAttachment:
    name: str
    content_type: str  # e.g. "image/jpeg"
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One mail: a plain-text body, optionally an HTML alternative, extra headers and files.

    ``headers`` are added as given (``Message-ID``, ``In-Reply-To``, ``List-Unsubscribe`` …);
    ``To`` and ``Subject`` are set by the mailer, ``From`` too: ``sender`` when given (a
    company's reply: ``"Beispiel GmbH" <support@…>``), else the operator's ``MAIL_FROM``.
    """

    to: str
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    sender: str | None = None
    attachments: tuple[MailAttachment, ...] = ()


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


@dataclass(frozen=True, slots=True)
class NotifiedMessage:
    author_name: str
    body: str | None  # only when the customer chose to get the text
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NotificationBatch:
    """What one channel sends at once: every unread company message of one conversation
    since the last notification (docs/privacy.md, *Notifications*)."""

    channel: str
    customer_id: CustomerId
    email: str | None  # the customer's verified address (None: none, or not verified)
    language: str | None  # "de" | "en" (None: unknown, write both)
    company_id: CompanyId
    company_name: str
    conversation_id: ConversationId
    subject: str | None  # the conversation's subject, only with ``include_text``
    messages: tuple[NotifiedMessage, ...]
    link: str  # the conversation in the messenger
    unsubscribe_url: str  # one click, no login: stops this channel for this company


class ChannelSender(Protocol):
    """One notification channel (``email``, ``push``); registered in ``jobs/channels.py``."""

    async def send(self, batch: NotificationBatch) -> bool:
        """Deliver the batch; False when there is nowhere to deliver it (no verified
        address, no subscription): the rows are dropped. Raising retries with backoff."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What one webhook request came to."""

    status_code: int | None  # None: no HTTP answer
    latency_ms: int
    body: str  # the first bytes of the response body (at most 1 KB)
    retry_after: float | None  # seconds, from a ``Retry-After`` header
    error: str | None  # None for an HTTP answer; else timeout, connect_error, address_forbidden…


class WebhookTransport(Protocol):
    """Sends webhooks only where the SSRF guard allows (``eyelevel.webhooks.transport``)."""

    async def check_url(self, url: str) -> str:
        """The normalised URL, when its scheme is allowed and every address its host resolves
        to is; else :class:`~eyelevel.core.errors.DomainError` (``validation_error`` or
        ``webhook_url_forbidden``)."""
        ...

    async def send(self, url: str, *, headers: dict[str, str], body: bytes) -> WebhookResponse:
        """POST once, checking the resolved address again and connecting to that address;
        redirects are never followed. Never raises for network trouble (see ``error``)."""
        ...


class PushSender(Protocol):
    """Encrypts and sends web push notifications (``eyelevel.push.sender``) through the same
    SSRF guard as webhooks, with the push settings' allow-list."""

    def new_keys(self) -> VapidKeys:
        """A fresh VAPID key pair (P-256)."""
        ...

    async def check_subscription(self, endpoint: str, p256dh: str, auth: str) -> str:
        """The normalised endpoint, when its scheme and every address its host resolves to are
        allowed and the keys are a P-256 point and a 16-byte secret; else
        :class:`~eyelevel.core.errors.DomainError` (``validation_error`` naming the field, or
        ``push_endpoint_forbidden``)."""
        ...

    async def send(
        self,
        subscription: PushSubscription,
        keys: VapidKeys,
        data: bytes,
        *,
        now: datetime,
        ttl_seconds: int,
        topic: str | None,
    ) -> WebhookResponse:
        """Encrypt ``data`` for the subscription (RFC 8291, ``aes128gcm``), sign a VAPID JWT
        for the endpoint's origin (RFC 8292) and POST it once, checking the endpoint's address
        again. Never raises for network trouble (see ``WebhookResponse.error``)."""
        ...


@dataclass(frozen=True, slots=True)
class ProcessedFile:
    """An upload made safe to store and serve (images re-encoded without any metadata)."""

    name: str  # sanitised, its extension matching content_type
    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None  # a small JPEG, for images


class MediaProcessor(Protocol):
    def process(self, data: bytes, *, filename: str) -> ProcessedFile:
        """Check and clean an upload; CPU-bound, so callers run it in a thread.

        Raises :class:`~eyelevel.core.errors.DomainError` with ``unsupported_media_type`` for a
        type that is not accepted and ``invalid_file`` for a file that does not decode.
        """
        ...


class FileStore(Protocol):
    """Bytes by key (``<company id>/<random>.<ext>``, ``exports/<random>.zip``); keys are made
    by the core, never by users."""

    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes | None: ...
    async def delete(self, key: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


class OneTimePasswords(Protocol):
    """Time-based one-time passwords (RFC 6238: 6 digits, 30-second steps)."""

    def new_secret(self) -> str:
        """A new random base32 secret."""
        ...

    def uri(self, secret: str, *, account: str, issuer: str) -> str:
        """The ``otpauth://`` URI an authenticator app scans."""
        ...

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        """The time step (within one step either side of ``at``) whose code is ``code``."""
        ...


@dataclass(frozen=True, slots=True)
class Context:
    """What every action needs, passed explicitly by the composition root (no globals)."""

    db: Database
    bus: EventBus
    clock: Clock
    passwords: PasswordHasher
    media: MediaProcessor
    files: FileStore
    secret_key: str
    public_url: str
    otp: OneTimePasswords
    webhooks: WebhookTransport
    push: PushSender
    mail: MailPolicy = NO_MAIL_POLICY
