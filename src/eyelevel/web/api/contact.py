"""Contact consent (docs/privacy.md, *Contact*): the customer's contact preferences per
company, and the company's side: what a customer allows, and starting a conversation for a
topic the customer opted into."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import Field

from eyelevel.core.actions import contact
from eyelevel.core.actions.contact import ContactCard
from eyelevel.core.entities import MAX_BODY_CHARS, MAX_CLIENT_ID_CHARS, MAX_SUBJECT_CHARS, Scope
from eyelevel.core.ids import CustomerId
from eyelevel.core.rules.contact import CHANNELS, TOPICS, ContactPreferences, QuietHours
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import (
    ERRORS,
    CompanyRefOut,
    ConversationOut,
    In,
    MessageOut,
    Out,
    StartedOut,
    problem_response,
)
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["contact"], responses=ERRORS)
Topic = Literal["replies", "updates", "news", "feedback"]
CompanyTopic = Literal["updates", "news"]
Channel = Literal["push", "email"]
assert set(Topic.__args__) == set(TOPICS)  # type: ignore[attr-defined]
assert set(Channel.__args__) == set(CHANNELS)  # type: ignore[attr-defined]
CustId = Annotated[int, Path(ge=1, le=2**62, description="the customer's id")]


class QuietHoursIO(In):
    start: str = Field(max_length=5, description="local time HH:MM", examples=["22:00"])
    end: str = Field(max_length=5, description="local time HH:MM; before start: next day")
    time_zone: str = Field(max_length=64, description="IANA time zone", examples=["Europe/Berlin"])


class ContactIn(In):
    """Only what is given changes; each real change is appended to the consent ledger."""

    topics: dict[Topic, bool] = Field(
        default_factory=dict,
        description="topic → opted in; replies (in your own conversations) cannot be turned off",
        examples=[{"updates": True, "news": False}],
    )
    channels: dict[Channel, bool] = Field(
        default_factory=dict,
        description="channel → notify me this way (none chosen: no notifications)",
        examples=[{"email": True, "push": False}],
    )
    quiet_hours: QuietHoursIO | None = Field(
        default=None, description="the new quiet hours; null removes them; absent: unchanged"
    )
    include_text: bool | None = Field(
        default=None, description="whether notification mails carry the message text"
    )
    language: Literal["de", "en"] | None = Field(
        default=None, description="the language of notification mails"
    )
    screen: str = Field(max_length=40, description="where the customer decided")
    text_version: str = Field(max_length=40, description="the version of the wording shown")


class QuietHoursOut(Out):
    start: str
    end: str
    time_zone: str


class ContactOut(Out):
    company: CompanyRefOut
    topics: list[Topic] = Field(description="opted in (replies: always)")
    channels: list[Channel]
    quiet_hours: QuietHoursOut | None
    include_text: bool
    language: Literal["de", "en"] | None
    updated_at: datetime | None = Field(description="null: never changed (the defaults)")

    @classmethod
    def of(cls, card: ContactCard) -> ContactOut:
        p, c = card.prefs, card.company
        q = p.quiet_hours
        return cls(
            company=CompanyRefOut(id=c.id, slug=c.slug, name=c.name),
            topics=[t for t in TOPICS if t in p.topics],
            channels=[ch for ch in CHANNELS if ch in p.channels],
            quiet_hours=QuietHoursOut(start=q.start, end=q.end, time_zone=q.time_zone)
            if q
            else None,
            include_text=p.include_text,
            language="de" if p.language == "de" else "en" if p.language == "en" else None,
            updated_at=p.updated_at,
        )


class CustomerContactOut(Out):
    """What the company may do; nothing else of the customer's settings."""

    customer_id: int
    topics: list[Topic]
    channels: list[Channel]

    @classmethod
    def of(cls, p: ContactPreferences) -> CustomerContactOut:
        return cls(
            customer_id=p.customer_id,
            topics=[t for t in TOPICS if t in p.topics],
            channels=[ch for ch in CHANNELS if ch in p.channels],
        )


class ContactCustomerIn(In):
    topic: CompanyTopic = Field(description="what it is about; the customer must have opted in")
    subject: str = Field(max_length=MAX_SUBJECT_CHARS, examples=["Ihr Ersatzgerät ist unterwegs"])
    body: str = Field(max_length=MAX_BODY_CHARS + 1000)
    client_id: str | None = Field(default=None, max_length=MAX_CLIENT_ID_CHARS + 100)
    notification_only: bool = Field(
        default=False,
        description="start it resolved: nothing waits in the inbox, a reply reopens it",
    )


@router.get("/me/privacy/{slug}/contact", summary="How this company may contact me (customers)")
async def get_contact(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> ContactOut:
    return ContactOut.of(await contact.contact_card(svc.ctx, principal, slug))


@router.put(
    "/me/privacy/{slug}/contact",
    summary="Choose topics, channels and quiet hours for a company (customers)",
)
async def put_contact(
    slug: Slug, body: ContactIn, svc: Svc, principal: CurrentPrincipal
) -> ContactOut:
    """Unknown topics or channels, a time that is not HH:MM or an unknown time zone are
    ``422 validation_error`` naming the field."""
    set_quiet = "quiet_hours" in body.model_fields_set
    q = body.quiet_hours
    quiet = QuietHours(q.start, q.end, q.time_zone) if q is not None else None
    card = await contact.check_set_contact(
        svc.ctx,
        principal,
        slug,
        topics={str(k): v for k, v in body.topics.items()},
        channels={str(k): v for k, v in body.channels.items()},
        quiet_hours=quiet,
        set_quiet=set_quiet,
        include_text=body.include_text,
        language=body.language,
        screen=body.screen,
        text_version=body.text_version,
    )
    return ContactOut.of(card)


@router.get(
    "/companies/{slug}/customers/{customer_id}/contact",
    summary="What a customer allows this company (topics, channels)",
    openapi_extra=needs(Scope.CUSTOMERS_READ),
)
async def get_customer_contact(
    slug: Slug, customer_id: CustId, svc: Svc, principal: CurrentPrincipal
) -> CustomerContactOut:
    """Company members and tokens; only for a customer who has had a conversation with the
    company (any other reads like a missing one)."""
    prefs = await contact.customer_contact(svc.ctx, principal, slug, CustomerId(customer_id))
    return CustomerContactOut.of(prefs)


@router.post(
    "/companies/{slug}/customers/{customer_id}/conversations",
    status_code=status.HTTP_201_CREATED,
    summary="Start a conversation with a customer for a topic they opted into",
    responses={
        200: {"model": StartedOut, "description": "a repeat of an earlier client_id"},
        403: problem_response(
            "contact_not_permitted: the customer has not opted into this topic from this "
            "company (or forbidden: the caller's role)"
        ),
    },
    openapi_extra=needs(Scope.MESSAGES_WRITE),
)
async def contact_customer(
    slug: Slug,
    customer_id: CustId,
    body: ContactCustomerIn,
    svc: Svc,
    principal: CurrentPrincipal,
    response: Response,
) -> StartedOut:
    """Agents and API tokens of the company, for a customer who has had a conversation with
    it; refused with ``403 contact_not_permitted`` unless the customer opted into the topic.
    The customer is notified on the channels they chose, outside their quiet hours."""
    started = await contact.check_contact_customer(
        svc.ctx,
        principal,
        slug,
        CustomerId(customer_id),
        topic=body.topic,
        subject=body.subject,
        body=body.body,
        client_id=body.client_id,
        notification_only=body.notification_only,
    )
    if started.created:
        svc.metrics.messages.labels(kind=started.message.kind.value).inc()
    else:
        response.status_code = status.HTTP_200_OK
    return StartedOut(
        conversation=ConversationOut.of(
            started.conversation, last=started.message, internals=False, company=started.company
        ),
        message=MessageOut.of(started.message),
    )
