"""The REST API's request and response shapes (separate from core entities and events)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from eyelevel.core.entities import (
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    MAX_SUBJECT_CHARS,
    ApiToken,
    Company,
    Conversation,
    Message,
    ReadMarker,
    Role,
    Scope,
    Status,
)
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.events import conversation_data, message_data
from eyelevel.core.rules import business_time
from eyelevel.core.rules.hours import is_open
from eyelevel.core.rules.sharing import SharedCustomer


class In(BaseModel):
    """Request bodies: unknown fields are refused, types are not coerced from strings, and no
    string may hold a NUL character (PostgreSQL refuses it in any text; nobody types one)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("a string contains a NUL character")
        return data


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests --------------------------------------------------------------------------------


class SignupIn(In):
    email: str = Field(max_length=254, examples=["kim@example.org"])
    password: str = Field(max_length=256)
    display_name: str = Field(max_length=100, examples=["Kim"])


class LoginIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "agent", "email": "anna@acme.example", "password": "correct horse battery"}
            ]
        }
    )

    kind: Literal["customer", "agent"]
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    otp: str | None = Field(
        default=None,
        max_length=64,
        description="an agent's second factor: a 6-digit TOTP code or a recovery code",
    )


class VerifyIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"token": "the token from the link in the verification mail"}]
        }
    )

    token: str = Field(max_length=300)


class VisitorIn(In):
    display_name: str = Field(default="", max_length=100, examples=["Kim"])


class ClaimIn(In):
    email: str = Field(max_length=254, examples=["kim@example.org"])
    password: str = Field(max_length=256)
    display_name: str = Field(default="", max_length=100)


class AcceptInviteIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "the token from the link in the invitation mail",
                    "name": "Anna Agent",
                    "password": "correct horse battery",
                }
            ]
        }
    )

    token: str = Field(max_length=300)
    name: str = Field(max_length=100)
    password: str = Field(max_length=256)


class InviteIn(In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "anna@acme.example", "role": "agent"}]}
    )

    email: str = Field(max_length=254)
    role: Role = Field(default=Role.AGENT, strict=False)


class TokenIn(In):
    name: str = Field(max_length=100, examples=["Shop system"])
    scopes: list[Annotated[Scope, Strict(False)]] = Field(  # JSON strings into the enum
        min_length=1,
        max_length=len(Scope),
        description="what the token may do; each operation names the scope it needs",
        examples=[["conversations:read", "messages:write"]],
    )
    expires_at: datetime | None = Field(
        default=None,
        strict=False,
        description="refuse the token from this time on (in the future, with a time zone); "
        "null: it does not expire",
        examples=["2027-12-31T23:59:59Z"],
    )


class StartConversationIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "company": "acme",
                    "subject": "Paket",
                    "body": "Hallo, mein Paket fehlt.",
                    "client_id": "c-7f3a",
                }
            ]
        }
    )

    company: str = Field(max_length=50, description="the company's slug")
    subject: str = Field(default="", max_length=MAX_SUBJECT_CHARS)
    body: str = Field(max_length=MAX_BODY_CHARS + 1000)
    client_id: str | None = Field(default=None, max_length=MAX_CLIENT_ID_CHARS + 100)
    topic_id: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="one of the company's active conversation topics (required when the "
        "company says so: GET /companies/{slug}/conversation-topics)",
    )
    channel: Literal["messenger", "widget"] = Field(
        default="messenger", description="where the customer writes from"
    )
    language: str | None = Field(
        default=None,
        max_length=40,
        examples=["de"],
        description="the language of the customer's messenger (a BCP 47 tag)",
    )


class SendIn(In):
    body: str = Field(max_length=MAX_BODY_CHARS + 1000, examples=["Hallo, mein Paket fehlt."])
    client_id: str | None = Field(
        default=None,
        max_length=MAX_CLIENT_ID_CHARS + 100,
        description="idempotency key, unique per conversation; a repeat returns the stored message",
    )
    note: bool = Field(default=False, description="a private note (company principals only)")
    mentions: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list,
        max_length=20,
        description="agent ids a private note mentions (active agents of the company)",
    )


class AssignIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"team_id": 3}]})

    agent_id: int | None = Field(default=None, ge=1, le=2**62)
    team_id: int | None = Field(default=None, ge=1, le=2**62)


class StatusIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "snoozed", "snoozed_until": "2027-01-04T09:00:00Z"}]
        }
    )

    status: Status = Field(strict=False)  # JSON strings into enum and datetime
    snoozed_until: datetime | None = Field(default=None, strict=False)


class ReadIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"seq": 12}]})

    seq: int = Field(ge=0, le=2**31)


# -- responses -------------------------------------------------------------------------------


class HolidayOut(Out):
    date: str = Field(description="YYYY-MM-DD, in the company's time zone")
    name: str


class CompanyOut(Out):
    slug: str
    name: str
    description: str
    phone: str
    timezone: str
    business_hours: dict[str, list[list[str]]] = Field(
        description='weekday ("mon".."sun") → opening intervals ["HH:MM", "HH:MM"], local time'
    )
    open_now: bool = Field(
        description="open at the time of the response, in its time zone (never on a holiday)"
    )
    reply_within_minutes: int | None = Field(
        description="the response-time promise; null when the company made none"
    )
    holidays: list[HolidayOut] = Field(
        default_factory=list, description="days closed all day, ascending by date"
    )
    retention_days: int | None = Field(
        default=None,
        description="days a resolved conversation is kept, then deleted; null: kept for ever",
    )
    reply_by: datetime | None = Field(
        default=None,
        description="when a message written now is answered at the latest, if the promise "
        "holds: reply_within_minutes of business time from now (null without a promise)",
    )

    @classmethod
    def of(cls, c: Company, now: datetime) -> CompanyOut:
        return cls(
            slug=c.slug,
            name=c.name,
            description=c.description,
            phone=c.phone,
            timezone=c.timezone,
            business_hours=c.business_hours,
            open_now=is_open(c.business_hours, c.timezone, now, c.holidays),
            reply_within_minutes=c.reply_within_minutes,
            holidays=[HolidayOut(date=h["date"], name=h["name"]) for h in c.holidays],
            retention_days=c.retention_days,
            reply_by=(
                None
                if c.reply_within_minutes is None
                else business_time.add(
                    business_time.Calendar.of(
                        c.timezone, business_time.counting_hours(c.business_hours), c.holidays
                    ),
                    now,
                    timedelta(minutes=c.reply_within_minutes),
                )
            ),
        )


class AuthorOut(Out):
    type: str
    name: str


class AttachmentOut(Out):
    id: int
    name: str
    content_type: str
    size: int = Field(description="bytes")
    width: int | None
    height: int | None
    thumbnail: bool = Field(description="GET /api/v1/attachments/{id}/thumbnail exists")


class CompanyRefOut(Out):
    id: int
    slug: str
    name: str


class MessageOut(Out):
    id: int
    conversation_id: int
    company_id: int
    seq: int
    kind: str
    body: str
    author: AuthorOut
    client_id: str | None
    created_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)
    mentions: list[int] = Field(
        default_factory=list, description="agent ids a private note mentions ([] otherwise)"
    )

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls.model_validate(message_data(m))


class OwnerOut(Out):
    type: Literal["agent", "team"]
    id: int


class CustomerRefOut(Out):
    """The customer as the company may see them: the display name always, every other field
    only while the customer shares it with this company (null otherwise)."""

    id: int
    name: str = Field(description="the display name the customer chose")
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    customer_number: str | None = Field(default=None, description="their number at this company")
    shared: list[str] = Field(
        default_factory=list, description="the fields the customer shares with this company"
    )
    erased: bool = Field(
        default=False,
        description="the customer deleted their account: nothing of them is left but the id "
        "(a conversation under legal hold keeps its messages)",
    )

    @classmethod
    def of(cls, c: SharedCustomer) -> CustomerRefOut:
        return cls(
            id=c.id,
            name=c.name,
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            address=c.address,
            customer_number=c.customer_number,
            shared=list(c.shared),
            erased=c.erased,
        )


class SlaClockOut(Out):
    """An open SLA clock of a conversation (docs/sla.md)."""

    target: Literal["first_response", "next_response", "resolution"]
    minutes: int = Field(description="the target, in business minutes")
    started_at: datetime
    due_at: datetime | None = Field(description="null while paused (pending or snoozed)")
    warn_at: datetime | None = Field(description="when 80 % of the target is used")
    paused: bool
    warned: bool = Field(description="80 % of the target is used")
    breached_at: datetime | None = Field(description="when the promise was broken")


class ConversationOut(Out):
    id: int
    company_id: int
    customer_id: int
    subject: str
    status: Status
    owner: OwnerOut | None
    snoozed_until: datetime | None
    last_seq: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    last_message: MessageOut | None = None
    read: dict[str, int] = Field(
        default_factory=dict,
        description="highest seq read by 'customer' and by 'company' (any agent)",
    )
    company: CompanyRefOut | None = None
    unread: int = Field(
        default=0, description="messages from the other side after the caller's read marker"
    )
    waiting_since: datetime | None = Field(
        default=None,
        description="company members: since when the customer waits for an answer (their "
        "oldest unanswered message); null when nobody waits, and always for customers",
    )
    customer: CustomerRefOut | None = Field(
        default=None, description="company members, in lists and GET /conversations/{id}"
    )
    labels: list[int] | None = Field(
        default=None,
        description="label ids; company members, in lists and GET /conversations/{id}",
    )
    topic_id: int | None = Field(
        default=None, description="the conversation topic the customer chose (or an agent set)"
    )
    channel: str = Field(
        default="messenger", description="where it was started: messenger, widget, email, api"
    )
    language: str | None = Field(
        default=None, description="company members: the language of the customer's messenger"
    )
    routing_rule_id: int | None = Field(
        default=None,
        description="company members: the routing rule that put it into its team (null: none "
        "matched, or it was routed by hand)",
    )
    sla: list[SlaClockOut] = Field(
        default_factory=list,
        description="the open response-time promises (SLA clocks), soonest due first",
    )

    @classmethod
    def of(
        cls,
        c: Conversation,
        *,
        last: Message | None = None,
        markers: list[ReadMarker] | None = None,
        internals: bool,
        company: Company | None = None,
        unread: int = 0,
        customer: SharedCustomer | None = None,
        labels: Sequence[int] | None = None,
    ) -> ConversationOut:
        """``internals``: the caller may see who owns it, since when the customer waits, the
        customer and the labels (company members, not customers)."""
        read: dict[str, int] = {}
        for m in markers or []:
            side = "customer" if m.reader == "customer" else "company"
            read[side] = max(read.get(side, 0), m.last_read_seq)
        return cls.model_validate(
            {
                **conversation_data(c),
                "last_message": MessageOut.of(last) if last else None,
                "read": read,
                "company": (
                    {"id": company.id, "slug": company.slug, "name": company.name}
                    if company
                    else None
                ),
                "unread": unread,
                "topic_id": c.topic_id,
                "channel": c.channel,
                **({} if internals else {"owner": None}),
                **(
                    {
                        "language": c.language,
                        "routing_rule_id": c.routing_rule_id,
                        "waiting_since": c.waiting_since,
                        "customer": CustomerRefOut.of(customer) if customer else None,
                        "labels": list(labels) if labels is not None else None,
                    }
                    if internals
                    else {}
                ),
            }
        )


class ConversationPage(Out):
    items: list[ConversationOut]
    next_cursor: str | None


class MessagePage(Out):
    items: list[MessageOut]


class StartedOut(Out):
    conversation: ConversationOut
    message: MessageOut


class SessionOut(Out):
    kind: Literal["customer", "agent"]
    csrf_token: str
    expires_at: datetime


class BearerSessionOut(Out):
    """A session for a page without cookies: send ``Authorization: Bearer <token>``."""

    token: str = Field(description="the session secret; shown only in this response")
    expires_at: datetime
    customer_id: int


class ClaimedOut(BearerSessionOut):
    merged: bool = Field(
        description="true: the conversations moved into the existing account of that email"
    )


class MembershipOut(Out):
    company_id: int
    slug: str
    name: str
    role: Role


class MeOut(Out):
    kind: Literal["customer", "agent", "token"]
    id: int
    name: str
    email_verified: bool | None = None
    anonymous: bool | None = Field(default=None, description="a visitor without an account")
    companies: dict[str, str] = Field(
        default_factory=dict, description="company id → role (agents and tokens)"
    )
    memberships: list[MembershipOut] = Field(
        default_factory=list, description="the companies of an agent or token, with slug and role"
    )


class TokenOut(Out):
    id: int
    name: str
    prefix: str = Field(description="the secret's first characters, to recognise it")
    scopes: list[Scope] = Field(description="sorted")
    created_at: datetime
    expires_at: datetime | None = Field(description="null: does not expire")
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="updated at most once a minute")

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        return cls(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            scopes=sorted(t.scopes),
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )


class NewTokenOut(TokenOut):
    token: str = Field(description="the secret; shown only in this response")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "Shop system",
                    "prefix": "elt_Xk3q9a",
                    "scopes": ["conversations:read", "messages:write"],
                    "created_at": "2026-12-06T10:00:00Z",
                    "expires_at": None,
                    "revoked_at": None,
                    "last_used_at": None,
                    "token": "elt_Xk3q9aQ2…",
                }
            ]
        },
    )


class InvitationOut(Out):
    email: str
    role: Role


class TeamOut(Out):
    id: int
    name: str
    agent_ids: list[int]


class AgentOut(Out):
    id: int
    name: str
    role: Role
    active: bool
    presence: Literal["online", "away", "offline"] = "offline"


class StaffOut(Out):
    teams: list[TeamOut]
    agents: list[AgentOut]


class ReadOut(Out):
    moved: bool


class Problem(Out):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None
    scope: str | None = Field(
        default=None, description="insufficient_scope: the scope the API token lacks"
    )


def encode_cursor(at: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise DomainError(ErrorCode.VALIDATION, "invalid cursor", field="cursor") from None


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response entry for a problem-details error."""
    return {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": {}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    status: problem_response(desc)
    for status, desc in {
        400: "Malformed request",
        401: "Not signed in",
        403: "Not allowed",
        404: "Not found (also for objects of another company or customer)",
        409: "Conflict",
        422: "Invalid input",
    }.items()
}
