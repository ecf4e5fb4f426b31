"""Callbacks (docs/callbacks.md): slots and booking in a conversation, the customer's
reschedule and cancel, the agent's call and outcome, the company's day list and settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import Field

from eyelevel.core.actions import callbacks as actions
from eyelevel.core.actions.callbacks import CallbackView, SlotOffer
from eyelevel.core.callbacks import CallbackId, CallbackSettings
from eyelevel.core.entities import Scope
from eyelevel.core.ids import ConversationId
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, CustomerRefOut, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["callbacks"], responses=ERRORS)
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]
CbId = Annotated[int, Path(ge=1, le=2**62, description="callback id")]
State = Literal["booked", "calling", "done", "missed", "rescheduled", "cancelled"]


class BookIn(In):
    start: datetime = Field(
        strict=False,
        description="the chosen slot's start, as offered by the slots route",
        examples=["2026-01-06T09:00:00Z"],
    )
    phone: str | None = Field(
        default=None,
        max_length=80,
        description="the number to call; saved to the profile and shared with this company "
        "(omit: the profile's number)",
        examples=["+49 30 1234567"],
    )
    note: str = Field(default="", max_length=2000, examples=["Es geht um Rechnung 4711."])


class RescheduleIn(In):
    start: datetime = Field(strict=False, examples=["2026-01-07T14:30:00Z"])


class OutcomeIn(In):
    reached: bool = Field(description="whether the customer was reached")
    duration_seconds: int | None = Field(default=None, ge=0, le=86400, examples=[240])
    summary: str = Field(
        default="",
        max_length=8000,
        description="internal: kept in a private note, never shown to the customer",
        examples=["Rechnung erklärt, Gutschrift zugesagt."],
    )


class SettingsIn(In):
    slot_minutes: int = Field(ge=10, le=240, examples=[30])
    days_ahead: int = Field(ge=1, le=30, description="business days offered", examples=[5])
    lead_minutes: int = Field(
        ge=0, le=10080, description="the earliest slot starts this long from now", examples=[60]
    )
    all_agents: bool = Field(
        description="every active member takes callbacks (else only agent_ids)", examples=[True]
    )
    agent_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=500
    )


class SlotOut(Out):
    start: datetime
    end: datetime
    free: int = Field(description="callback-capable agents not yet booked in this slot")


class SlotsOut(Out):
    timezone: str = Field(description="the company's time zone (show slots in the viewer's)")
    slot_minutes: int
    items: list[SlotOut]

    @classmethod
    def of(cls, offer: SlotOffer) -> SlotsOut:
        return cls(
            timezone=offer.company.timezone,
            slot_minutes=offer.settings.slot_minutes,
            items=[SlotOut(start=s.start, end=s.end, free=s.free) for s in offer.slots],
        )


class OwnerOut(Out):
    id: int
    name: str | None


class CallbackOut(Out):
    id: int
    conversation_id: int
    state: State
    slot_start: datetime
    slot_end: datetime
    note: str = Field(description="the customer's note")
    outcome: Literal["reached", "not_reached"] | None
    duration_seconds: int | None
    rescheduled_from: int | None
    replaced_by: int | None
    created_at: datetime
    updated_at: datetime
    # company members only (null for the customer)
    owner: OwnerOut | None = Field(default=None, description="company members only")
    summary: str | None = Field(default=None, description="company members only")
    customer: CustomerRefOut | None = Field(
        default=None, description="company members only: the phone while the customer shares it"
    )
    subject: str | None = Field(default=None, description="company members only")

    @classmethod
    def of(cls, view: CallbackView) -> CallbackOut:
        c = view.callback
        out = cls(
            id=c.id,
            conversation_id=c.conversation_id,
            state=c.state.value,
            slot_start=c.slot_start,
            slot_end=c.slot_end,
            note=c.note,
            outcome="reached" if c.outcome == "reached" else ("not_reached" if c.outcome else None),
            duration_seconds=c.duration_seconds,
            rescheduled_from=c.rescheduled_from,
            replaced_by=c.replaced_by,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        if view.internal:
            out.owner = OwnerOut(id=c.owner_agent_id, name=view.owner_name)
            out.summary = c.summary
            out.customer = CustomerRefOut.of(view.customer) if view.customer else None
            out.subject = view.subject
        return out


class CallbackList(Out):
    day: date = Field(description="the local day in the company's time zone")
    timezone: str
    items: list[CallbackOut]


class SettingsOut(Out):
    slot_minutes: int
    days_ahead: int
    lead_minutes: int
    all_agents: bool
    agent_ids: list[int]

    @classmethod
    def of(cls, s: CallbackSettings) -> SettingsOut:
        return cls(
            slot_minutes=s.slot_minutes,
            days_ahead=s.days_ahead,
            lead_minutes=s.lead_minutes,
            all_agents=s.all_agents,
            agent_ids=list(s.agent_ids),
        )


@router.get(
    "/conversations/{conversation_id}/callbacks/slots",
    summary="The callback slots the customer may book now",
)
async def get_slots(conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal) -> SlotsOut:
    """Slots inside the company's business hours on the next business days, each with room
    (callback-capable agents minus callbacks already booked); full slots are left out."""
    offer = await actions.offered_slots(svc.ctx, principal, ConversationId(conversation_id))
    return SlotsOut.of(offer)


@router.get(
    "/conversations/{conversation_id}/callbacks",
    summary="A conversation's callbacks",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_conversation_callbacks(
    conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal
) -> list[CallbackOut]:
    """Newest slot first; the customer sees their own without the company's internals."""
    views = await actions.conversation_callbacks(
        svc.ctx, principal, ConversationId(conversation_id)
    )
    return [CallbackOut.of(v) for v in views]


@router.post(
    "/conversations/{conversation_id}/callbacks",
    summary="Book a callback (customers)",
    status_code=status.HTTP_201_CREATED,
)
async def book_callback(
    conversation_id: ConvId, body: BookIn, svc: Svc, principal: CurrentPrincipal
) -> CallbackOut:
    """Grants the phone number to this company (consent ledger screen ``callback``); a full
    slot is refused with 409 ``callback_slot_full``, one not offered with 422
    ``callback_slot_invalid``, a second active callback with 409 ``callback_active``."""
    c = await actions.check_book(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        start=body.start,
        phone=body.phone,
        note=body.note,
    )
    return CallbackOut.of(await actions.callback(svc.ctx, principal, c.id))


@router.get(
    "/callbacks/{callback_id}",
    summary="One callback",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def get_callback(callback_id: CbId, svc: Svc, principal: CurrentPrincipal) -> CallbackOut:
    return CallbackOut.of(await actions.callback(svc.ctx, principal, CallbackId(callback_id)))


@router.post(
    "/callbacks/{callback_id}/reschedule",
    summary="Move a booked or missed callback to another slot",
    status_code=status.HTTP_201_CREATED,
)
async def reschedule_callback(
    callback_id: CbId, body: RescheduleIn, svc: Svc, principal: CurrentPrincipal
) -> CallbackOut:
    """The callback becomes ``rescheduled``; the new one (returned) is booked in its place."""
    c = await actions.check_reschedule(
        svc.ctx, principal, CallbackId(callback_id), start=body.start
    )
    return CallbackOut.of(await actions.callback(svc.ctx, principal, c.id))


@router.post("/callbacks/{callback_id}/cancel", summary="Cancel a booked callback")
async def cancel_callback(callback_id: CbId, svc: Svc, principal: CurrentPrincipal) -> CallbackOut:
    c = await actions.check_cancel(svc.ctx, principal, CallbackId(callback_id))
    return CallbackOut.of(await actions.callback(svc.ctx, principal, c.id))


@router.post(
    "/callbacks/{callback_id}/start",
    summary="Start the call (company members)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def start_callback(callback_id: CbId, svc: Svc, principal: CurrentPrincipal) -> CallbackOut:
    """The customer sees ``calling``."""
    c = await actions.check_start_call(svc.ctx, principal, CallbackId(callback_id))
    return CallbackOut.of(await actions.callback(svc.ctx, principal, c.id))


@router.post(
    "/callbacks/{callback_id}/outcome",
    summary="Log the call's outcome (company members)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def log_outcome(
    callback_id: CbId, body: OutcomeIn, svc: Svc, principal: CurrentPrincipal
) -> CallbackOut:
    """Reached → ``done``; not reached → ``missed``: escalated, and the customer is told and
    offered a new slot. The summary goes into a private note."""
    c = await actions.check_log_outcome(
        svc.ctx,
        principal,
        CallbackId(callback_id),
        reached=body.reached,
        duration_seconds=body.duration_seconds,
        summary=body.summary,
    )
    return CallbackOut.of(await actions.callback(svc.ctx, principal, c.id))


@router.get(
    "/companies/{slug}/callbacks",
    summary="A day's callbacks (company members)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_company_callbacks(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    day: Annotated[
        date | None, Query(description="YYYY-MM-DD in the company's time zone; default today")
    ] = None,
    owner: Annotated[
        Literal["me", "all"], Query(description="me: the calling agent's callbacks")
    ] = "all",
) -> CallbackList:
    company, local_day, views = await actions.company_callbacks(
        svc.ctx, principal, slug, day=day, mine=owner == "me"
    )
    return CallbackList(
        day=local_day, timezone=company.timezone, items=[CallbackOut.of(v) for v in views]
    )


@router.get("/companies/{slug}/callback-settings", summary="Callback settings (company members)")
async def get_callback_settings(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> SettingsOut:
    _, settings = await actions.callback_settings(svc.ctx, principal, slug)
    return SettingsOut.of(settings)


@router.put("/companies/{slug}/callback-settings", summary="Change callback settings (admins)")
async def put_callback_settings(
    slug: Slug, body: SettingsIn, svc: Svc, principal: CurrentPrincipal
) -> SettingsOut:
    settings = await actions.check_save_settings(
        svc.ctx,
        principal,
        slug,
        slot_minutes=body.slot_minutes,
        days_ahead=body.days_ahead,
        lead_minutes=body.lead_minutes,
        all_agents=body.all_agents,
        agent_ids=list(body.agent_ids),
    )
    return SettingsOut.of(settings)
