"""Callbacks (docs/callbacks.md): the offered slots, booking (which grants the phone through the
sharing rule), rescheduling and cancelling by the customer, the agent's call and its outcome,
and the two durable jobs — the owner's reminder and the check for a missed slot.

Every change emits ``callback.booked`` or ``callback.changed`` (customer and company) in its
transaction; the reminder and an escalation are company-internal events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eyelevel.core.actions.access import (
    access_company_txn,
    access_conversation_txn,
    require_role,
)
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.actions.messages import do_send_message_txn
from eyelevel.core.actions.sharing import (
    check_profile_values,
    do_set_sharing_txn,
    do_update_profile_txn,
)
from eyelevel.core.callbacks import (
    ACTIVE,
    MISSED_AFTER,
    REMIND_BEFORE,
    SCREEN,
    TEXT_VERSION,
    Callback,
    CallbackId,
    CallbackSettings,
    CallbackState,
    Slot,
    booked_event,
    calendar_for,
    candidate_slots,
    changed_event,
    escalated_event,
    may_become,
    pick_owner,
    reminder_event,
    with_capacity,
)
from eyelevel.core.entities import Company, Conversation, CustomerProfile, MessageKind, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import AgentId, ConversationId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal, Principal
from eyelevel.core.rules.sharing import SharedCustomer

REMIND = "callback.remind"  # job kinds; payload {"callback_id"}
CHECK_MISSED = "callback.check_missed"
MAX_NOTE = 1000
MAX_SUMMARY = 4000
MAX_DURATION = 24 * 3600
MAX_LIST = 200

# the thread's entries (one text for German and English readers: messages are stored text)
DONE_TEXT = "Rückruf erledigt – danke für das Gespräch.\nCallback done – thank you for the call."
MISSED_TEXT = {
    "not_reached": (
        "Wir haben Sie zum vereinbarten Rückruf angerufen, aber nicht erreicht. "
        "Bitte wählen Sie einen neuen Termin.\n"
        "We called you at the agreed time but could not reach you. Please choose a new time."
    ),
    "no_outcome": (
        "Wir haben den vereinbarten Rückruf leider nicht geschafft – das tut uns leid. "
        "Bitte wählen Sie einen neuen Termin.\n"
        "We did not manage to call you back as promised – we are sorry. "
        "Please choose a new time."
    ),
}


@dataclass(frozen=True, slots=True)
class SlotOffer:
    company: Company
    settings: CallbackSettings
    slots: list[Slot]


@dataclass(frozen=True, slots=True)
class CallbackView:
    """A callback with what the viewer may see beside it (company members only: the phone as
    the customer shares it, the owner's name, the customer and the conversation's subject)."""

    callback: Callback
    internal: bool
    customer: SharedCustomer | None = None
    owner_name: str | None = None
    subject: str | None = None


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, detail, field=field)


def _text(value: str, field: str, limit: int) -> str:
    value = "\n".join(" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n"))
    value = value.strip()
    if any(not ch.isprintable() and ch != "\n" for ch in value):
        raise _invalid(field, f"{field} contains control characters")
    if len(value) > limit:
        raise _invalid(field, f"{field} must have at most {limit} characters")
    return value


def _aware(start: datetime) -> datetime:
    if start.tzinfo is None:
        raise DomainError(ErrorCode.CALLBACK_SLOT_INVALID, "start needs a time zone", field="start")
    return start


async def _offer_txn(
    uow: UnitOfWork, company: Company, settings: CallbackSettings, now: datetime
) -> list[Slot]:
    slots = candidate_slots(
        calendar_for(company),
        now=now,
        slot_minutes=settings.slot_minutes,
        days_ahead=settings.days_ahead,
        lead_minutes=settings.lead_minutes,
    )
    if not slots:
        return []
    capable = await uow.callbacks.capable_agents(settings)
    booked = await uow.callbacks.booked_per_slot(company.id, slots[0].start, slots[-1].end)
    return with_capacity(slots, len(capable), booked)


async def offered_slots(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> SlotOffer:
    """The slots the conversation's customer may book now (for the customer and the company)."""

    async def read(uow: UnitOfWork) -> SlotOffer:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        company = await uow.companies.get(conversation.company_id)
        assert company is not None
        settings = await uow.callbacks.settings(company.id)
        return SlotOffer(
            company, settings, await _offer_txn(uow, company, settings, ctx.clock.now())
        )

    return await ctx.db.read(read)


async def _book_txn(
    uow: UnitOfWork,
    ctx: Context,
    conversation: Conversation,
    start: datetime,
    *,
    note: str,
    rescheduled_from: CallbackId | None = None,
) -> Callback:
    """Book the slot starting at ``start`` (one of the offered ones, with room) for the
    conversation; the owner is picked by :func:`pick_owner`. Queues the reminder and the
    missed-slot check in the same transaction."""
    now = ctx.clock.now()
    await uow.callbacks.lock_company(conversation.company_id)
    company = await uow.companies.get(conversation.company_id)
    assert company is not None
    settings = await uow.callbacks.settings(company.id)
    candidates = candidate_slots(
        calendar_for(company),
        now=now,
        slot_minutes=settings.slot_minutes,
        days_ahead=settings.days_ahead,
        lead_minutes=settings.lead_minutes,
    )
    slot = next((s for s in candidates if s.start == start), None)
    if slot is None:
        raise DomainError(
            ErrorCode.CALLBACK_SLOT_INVALID, "start is not one of the offered slots", field="start"
        )
    capable = await uow.callbacks.capable_agents(settings)
    booked = await uow.callbacks.booked_per_slot(company.id, slot.start, slot.end)
    busy = await uow.callbacks.busy_agents(company.id, slot.start)
    owner = pick_owner(
        capable,
        busy,
        await uow.callbacks.open_load(company.id, now),
        conversation.owner_agent_id,
    )
    if owner is None or len(capable) - booked.get(slot.start, 0) <= 0:
        raise DomainError(ErrorCode.CALLBACK_SLOT_FULL, "this slot is fully booked", field="start")
    callback = await uow.callbacks.create(
        {
            "company_id": company.id,
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "owner_agent_id": owner,
            "slot_start": slot.start,
            "slot_end": slot.end,
            "state": CallbackState.BOOKED.value,
            "note": note,
            "rescheduled_from": rescheduled_from,
            "created_at": now,
            "updated_at": now,
        }
    )
    await uow.jobs.enqueue(
        REMIND, {"callback_id": callback.id}, max(now, slot.start - REMIND_BEFORE)
    )
    await uow.jobs.enqueue(CHECK_MISSED, {"callback_id": callback.id}, slot.end + MISSED_AFTER)
    await uow.emit(booked_event(callback), now)
    return callback


async def check_book(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    start: datetime,
    phone: str | None,
    note: str,
) -> Callback:
    """The customer books a callback: confirms (or enters) their phone number, which is granted
    to this company through the sharing rule (consent ledger screen ``callback``), and picks an
    offered slot with room. One active callback per conversation: reschedule it instead."""
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only the customer books a callback")
    start = _aware(start)
    note = _text(note, "note", MAX_NOTE)
    new_phone = check_profile_values(None, None, phone, None)[2] if phone is not None else None

    async def txn(uow: UnitOfWork) -> Callback:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        if await uow.callbacks.active_of_conversation(conversation) is not None:
            raise DomainError(
                ErrorCode.CALLBACK_ACTIVE,
                "a callback is already booked in this conversation: reschedule it instead",
            )
        now = ctx.clock.now()
        profile = await uow.sharing.profile(principal.customer_id) or CustomerProfile(
            principal.customer_id
        )
        if new_phone is not None and new_phone != profile.phone:
            await do_update_profile_txn(uow, principal, replace(profile, phone=new_phone), now)
        elif profile.phone is None:
            raise DomainError(
                ErrorCode.PHONE_REQUIRED, "a callback needs your phone number", field="phone"
            )
        company = await uow.companies.get(conversation.company_id)
        assert company is not None
        await do_set_sharing_txn(
            uow,
            principal.customer_id,
            company,
            {"phone": True},
            screen=SCREEN,
            text_version=TEXT_VERSION,
            now=now,
        )
        return await _book_txn(uow, ctx, conversation, start, note=note)

    return await ctx.db.write("book_callback", txn)


async def _access_callback_txn(
    uow: UnitOfWork, principal: Principal, callback_id: CallbackId, *, for_update: bool = False
) -> tuple[Callback, Conversation]:
    """The callback, when the principal may see its conversation (else 404, like a missing one)."""
    found = await (
        uow.callbacks.get_for_update(callback_id) if for_update else uow.callbacks.get(callback_id)
    )
    if found is None:
        raise not_found("callback")
    try:
        conversation = await access_conversation_txn(
            uow, principal, found.conversation_id, for_update=for_update
        )
    except DomainError:
        raise not_found("callback") from None
    return found, conversation


def _require(callback: Callback, new: CallbackState) -> None:
    if not may_become(callback.state, new):
        raise DomainError(
            ErrorCode.CALLBACK_STATE,
            f"a {callback.state.value} callback cannot become {new.value}",
        )


def _staff(principal: Principal, conversation: Conversation) -> None:
    if isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only the company calls and logs callbacks")
    require_role(principal, conversation.company_id, Role.AGENT)


async def _set_state_txn(
    uow: UnitOfWork,
    callback: Callback,
    state: CallbackState,
    now: datetime,
    **values: Any,
) -> Callback:
    updated = await uow.callbacks.update(
        callback.id, {"state": state.value, "updated_at": now, **values}
    )
    await uow.emit(changed_event(updated, callback.state), now)
    return updated


async def check_reschedule(
    ctx: Context, principal: Principal, callback_id: CallbackId, *, start: datetime
) -> Callback:
    """Move a booked (or missed) callback to another offered slot: it becomes ``rescheduled``
    and a new booked callback replaces it (returned)."""
    start = _aware(start)

    async def txn(uow: UnitOfWork) -> Callback:
        old, conversation = await _access_callback_txn(uow, principal, callback_id, for_update=True)
        _require(old, CallbackState.RESCHEDULED)
        now = ctx.clock.now()
        # free the old slot first: the same owner may keep the callback at the new time
        await uow.callbacks.update(
            old.id, {"state": CallbackState.RESCHEDULED.value, "updated_at": now}
        )
        new = await _book_txn(uow, ctx, conversation, start, note=old.note, rescheduled_from=old.id)
        moved = await uow.callbacks.update(old.id, {"replaced_by": new.id})
        await uow.emit(changed_event(moved, old.state), now)
        return new

    return await ctx.db.write("reschedule_callback", txn)


async def check_cancel(ctx: Context, principal: Principal, callback_id: CallbackId) -> Callback:
    """The customer (or the company) cancels a booked callback."""

    async def txn(uow: UnitOfWork) -> Callback:
        callback, _ = await _access_callback_txn(uow, principal, callback_id, for_update=True)
        _require(callback, CallbackState.CANCELLED)
        return await _set_state_txn(uow, callback, CallbackState.CANCELLED, ctx.clock.now())

    return await ctx.db.write("cancel_callback", txn)


async def check_start_call(ctx: Context, principal: Principal, callback_id: CallbackId) -> Callback:
    """An agent starts the call: the customer sees ``calling``."""

    async def txn(uow: UnitOfWork) -> Callback:
        callback, conversation = await _access_callback_txn(
            uow, principal, callback_id, for_update=True
        )
        _staff(principal, conversation)
        _require(callback, CallbackState.CALLING)
        return await _set_state_txn(uow, callback, CallbackState.CALLING, ctx.clock.now())

    return await ctx.db.write("start_callback", txn)


async def _missed_txn(
    uow: UnitOfWork, ctx: Context, callback: Callback, conversation: Conversation, reason: str
) -> None:
    """Escalate (company-internal event for the leads) and tell the customer honestly, with
    the offer of a new slot (the card's button; the thread's message says so)."""
    now = ctx.clock.now()
    company = await uow.companies.get(conversation.company_id)
    assert company is not None
    await uow.emit(escalated_event(callback, reason), now)
    await do_send_message_txn(
        uow,
        ctx,
        conversation,
        kind=MessageKind.SYSTEM,
        body=MISSED_TEXT[reason],
        client_id=None,
        author_name=company.name,
        author_agent_id=None,
        author_customer_id=None,
    )


async def check_log_outcome(
    ctx: Context,
    principal: Principal,
    callback_id: CallbackId,
    *,
    reached: bool,
    duration_seconds: int | None,
    summary: str,
) -> Callback:
    """The agent logs the call: reached → ``done``, not reached → ``missed`` (escalated, the
    customer is told and offered a new slot). The summary stays in a private note; the
    customer gets a friendly entry without it."""
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_DURATION:
        raise _invalid("duration_seconds", "duration_seconds must be 0 to 86400")
    summary = _text(summary, "summary", MAX_SUMMARY)

    async def txn(uow: UnitOfWork) -> Callback:
        callback, conversation = await _access_callback_txn(
            uow, principal, callback_id, for_update=True
        )
        _staff(principal, conversation)
        state = CallbackState.DONE if reached else CallbackState.MISSED
        _require(callback, state)
        now = ctx.clock.now()
        updated = await _set_state_txn(
            uow,
            callback,
            state,
            now,
            outcome="reached" if reached else "not_reached",
            duration_seconds=duration_seconds,
            summary=summary or None,
        )
        minutes = f" · {round((duration_seconds or 0) / 60)} min" if duration_seconds else ""
        result = "erreicht / reached" if reached else "nicht erreicht / not reached"
        note = f"Rückruf / Callback: {result}{minutes}" + (f"\n{summary}" if summary else "")
        name = principal.first_name if isinstance(principal, AgentPrincipal) else "API"
        agent_id = principal.agent_id if isinstance(principal, AgentPrincipal) else None
        await do_send_message_txn(
            uow,
            ctx,
            conversation,
            kind=MessageKind.NOTE,
            body=note,
            client_id=None,
            author_name=name,
            author_agent_id=agent_id,
            author_customer_id=None,
        )
        fresh = await uow.conversations.get(conversation.id)
        assert fresh is not None
        if reached:
            company = await uow.companies.get(conversation.company_id)
            assert company is not None
            await do_send_message_txn(
                uow,
                ctx,
                fresh,
                kind=MessageKind.SYSTEM,
                body=DONE_TEXT,
                client_id=None,
                author_name=company.name,
                author_agent_id=None,
                author_customer_id=None,
            )
        else:
            await _missed_txn(uow, ctx, updated, fresh, "not_reached")
        return updated

    return await ctx.db.write("log_callback", txn)


async def check_remind(ctx: Context, callback_id: CallbackId) -> bool:
    """The ``callback.remind`` job: tell the owner's inbox, while the callback is booked."""

    async def txn(uow: UnitOfWork) -> bool:
        callback = await uow.callbacks.get(callback_id)
        if callback is None or callback.state != CallbackState.BOOKED:
            return False
        await uow.emit(reminder_event(callback), ctx.clock.now())
        return True

    return await ctx.db.write("remind_callback", txn)


async def check_missed(ctx: Context, callback_id: CallbackId) -> bool:
    """The ``callback.check_missed`` job: a callback still booked or calling after its slot
    (and a grace period) becomes ``missed``, is escalated, and the customer is told."""

    async def txn(uow: UnitOfWork) -> bool:
        callback = await uow.callbacks.get_for_update(callback_id)
        if callback is None or callback.state not in ACTIVE:
            return False
        conversation = await uow.conversations.get_for_update(callback.conversation_id)
        assert conversation is not None
        updated = await _set_state_txn(uow, callback, CallbackState.MISSED, ctx.clock.now())
        await _missed_txn(uow, ctx, updated, conversation, "no_outcome")
        return True

    return await ctx.db.write("missed_callback", txn)


async def _views_txn(
    uow: UnitOfWork, principal: Principal, callbacks: list[Callback], company_id: Any
) -> list[CallbackView]:
    if isinstance(principal, CustomerPrincipal):
        return [CallbackView(c, internal=False) for c in callbacks]
    customers = await uow.inbox.customers(sorted({c.customer_id for c in callbacks}))
    shared = await uow.sharing.shared_with(company_id, list(customers.values()))
    names = {a.id: a.name for a, _ in await uow.companies.members(company_id)}
    out = []
    for c in callbacks:
        conversation = await uow.conversations.get(c.conversation_id)
        out.append(
            CallbackView(
                c,
                internal=True,
                customer=shared.get(c.customer_id),
                owner_name=names.get(c.owner_agent_id),
                subject=conversation.subject if conversation else None,
            )
        )
    return out


async def callback(ctx: Context, principal: Principal, callback_id: CallbackId) -> CallbackView:
    async def read(uow: UnitOfWork) -> CallbackView:
        found, conversation = await _access_callback_txn(uow, principal, callback_id)
        return (await _views_txn(uow, principal, [found], conversation.company_id))[0]

    return await ctx.db.read(read)


async def conversation_callbacks(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> list[CallbackView]:
    """The conversation's callbacks, newest slot first."""

    async def read(uow: UnitOfWork) -> list[CallbackView]:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        found = await uow.callbacks.of_conversation(conversation)
        return await _views_txn(uow, principal, found, conversation.company_id)

    return await ctx.db.read(read)


async def company_callbacks(
    ctx: Context, principal: Principal, slug: str, *, day: date | None, mine: bool
) -> tuple[Company, date, list[CallbackView]]:
    """One local day's callbacks of the company (today by default), earliest first; ``mine``:
    those the calling agent owns."""
    if mine and not isinstance(principal, AgentPrincipal):
        raise _invalid("owner", "owner=me needs an agent")

    async def read(uow: UnitOfWork) -> tuple[Company, date, list[CallbackView]]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        tz = ZoneInfo(company.timezone)
        local_day = day or ctx.clock.now().astimezone(tz).date()
        since = datetime.combine(local_day, time(0), tz)
        until = datetime.combine(local_day + timedelta(days=1), time(0), tz)
        owner = principal.agent_id if isinstance(principal, AgentPrincipal) and mine else None
        found = await uow.callbacks.of_company(
            company.id, since=since, until=until, owner_agent_id=owner, states=None, limit=MAX_LIST
        )
        return company, local_day, await _views_txn(uow, principal, found, company.id)

    return await ctx.db.read(read)


async def callback_settings(
    ctx: Context, principal: Principal, slug: str
) -> tuple[Company, CallbackSettings]:
    async def read(uow: UnitOfWork) -> tuple[Company, CallbackSettings]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return company, await uow.callbacks.settings(company.id)

    return await ctx.db.read(read)


async def check_save_settings(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    slot_minutes: int,
    days_ahead: int,
    lead_minutes: int,
    all_agents: bool,
    agent_ids: list[int],
) -> CallbackSettings:
    """Admins set the slot length, how many business days ahead, the lead time, and who takes
    callbacks (every active member, or the listed agents)."""
    if not 10 <= slot_minutes <= 240:
        raise _invalid("slot_minutes", "slot_minutes must be 10 to 240")
    if not 1 <= days_ahead <= 30:
        raise _invalid("days_ahead", "days_ahead must be 1 to 30")
    if not 0 <= lead_minutes <= 7 * 24 * 60:
        raise _invalid("lead_minutes", "lead_minutes must be 0 to 10080")
    ids = tuple(AgentId(a) for a in sorted(set(agent_ids)))

    async def txn(uow: UnitOfWork) -> CallbackSettings:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        if ids and len(await uow.inbox.active_agents(company.id, ids)) != len(ids):
            raise DomainError(
                ErrorCode.INVALID_OWNER, "no such agent in this company", field="agent_ids"
            )
        settings = CallbackSettings(
            company.id, slot_minutes, days_ahead, lead_minutes, all_agents, ids
        )
        now = ctx.clock.now()
        await uow.callbacks.save_settings(settings, now)
        await audit_txn(
            uow,
            principal,
            company.id,
            "callbacks.settings_changed",
            data={
                "slot_minutes": slot_minutes,
                "days_ahead": days_ahead,
                "lead_minutes": lead_minutes,
                "all_agents": all_agents,
                "agent_ids": list(ids),
            },
            now=now,
        )
        return settings

    return await ctx.db.write("callback_settings", txn)
