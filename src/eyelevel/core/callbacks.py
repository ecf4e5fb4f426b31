"""Callbacks (Rückruf): records and pure rules — the calendar slots follow, the offered slots
and their capacity, the state machine, and the events' payloads (docs/callbacks.md).

A callback is a promise in a conversation: the company calls the customer in a slot the
customer chose. Its states::

    booked ──► calling ──► done
       │          │
       │          └──────► missed ──► rescheduled (a new callback replaces it)
       ├─────────────────► missed
       ├─────────────────► rescheduled
       └─────────────────► cancelled

Payloads never carry the phone number, the customer's note or the agent's summary: whoever may
see them reads the callback through the API (the phone through the sharing rule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NewType
from zoneinfo import ZoneInfo

from eyelevel.core.entities import Company, NewEvent
from eyelevel.core.events import EventType, iso
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, CustomerId
from eyelevel.core.rules.hours import WEEKDAYS, is_open

CallbackId = NewType("CallbackId", int)

REMIND_BEFORE = timedelta(minutes=10)  # the owner's reminder, before the slot starts
MISSED_AFTER = timedelta(minutes=15)  # after the slot's end without an outcome: missed
MAX_SCAN_DAYS = 60  # calendar days searched for ``days_ahead`` business days
SCREEN = "callback"  # the consent ledger's screen for the phone granted by a booking
TEXT_VERSION = "callback-1"


class CallbackState(StrEnum):
    BOOKED = "booked"
    CALLING = "calling"
    DONE = "done"
    MISSED = "missed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"


ACTIVE = frozenset({CallbackState.BOOKED, CallbackState.CALLING})  # hold a slot
TRANSITIONS: dict[CallbackState, frozenset[CallbackState]] = {
    CallbackState.BOOKED: frozenset(
        {
            CallbackState.CALLING,
            CallbackState.DONE,
            CallbackState.MISSED,
            CallbackState.RESCHEDULED,
            CallbackState.CANCELLED,
        }
    ),
    CallbackState.CALLING: frozenset({CallbackState.DONE, CallbackState.MISSED}),
    CallbackState.MISSED: frozenset({CallbackState.RESCHEDULED}),
    CallbackState.DONE: frozenset(),
    CallbackState.RESCHEDULED: frozenset(),
    CallbackState.CANCELLED: frozenset(),
}


def may_become(state: CallbackState, new: CallbackState) -> bool:
    return new in TRANSITIONS[state]


@dataclass(frozen=True, slots=True)
class Callback:
    id: CallbackId
    company_id: CompanyId
    conversation_id: ConversationId
    customer_id: CustomerId
    owner_agent_id: AgentId
    slot_start: datetime
    slot_end: datetime
    state: CallbackState
    note: str  # the customer's note ("" for none)
    outcome: str | None  # reached | not_reached, once logged
    duration_seconds: int | None
    summary: str | None  # the agent's internal summary: company members only
    rescheduled_from: CallbackId | None
    replaced_by: CallbackId | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """A company's callback offer; ``all_agents``: every active member takes callbacks, else
    only ``agent_ids``."""

    company_id: CompanyId
    slot_minutes: int = 30
    days_ahead: int = 5
    lead_minutes: int = 60  # the earliest slot starts this long from now
    all_agents: bool = True
    agent_ids: tuple[AgentId, ...] = ()


@dataclass(frozen=True, slots=True)
class Calendar:
    """Weekly opening intervals (local ``HH:MM``) and all-day closures, in one time zone."""

    timezone: str
    weekly: Mapping[str, list[list[str]]]
    holidays: Sequence[Mapping[str, str]] = field(default_factory=tuple)


def calendar_for(company: Company) -> Calendar:
    """The calendar callback slots follow: the company's business hours and holidays.

    The one place to switch to a team's calendar once teams have their own.
    """
    return Calendar(company.timezone, company.business_hours, company.holidays)


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    free: int = 0  # capable agents not yet booked in this slot


def _local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    if hhmm == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), tz)
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tz)


def candidate_slots(
    calendar: Calendar, *, now: datetime, slot_minutes: int, days_ahead: int, lead_minutes: int
) -> list[Slot]:
    """Slots of ``slot_minutes`` inside the opening intervals, aligned on each interval's start,
    on the next ``days_ahead`` days that have any (today counts), starting no earlier than
    ``lead_minutes`` from ``now``. A slot is offered only when the calendar is open at its start
    and its last minute (holidays close whole days). Starts and ends are in UTC."""
    tz = ZoneInfo(calendar.timezone)
    length = timedelta(minutes=slot_minutes)
    earliest = now + timedelta(minutes=lead_minutes)
    today = now.astimezone(tz).date()
    out: list[Slot] = []
    days = 0
    for offset in range(MAX_SCAN_DAYS):
        if days >= days_ahead:
            break
        day = today + timedelta(days=offset)
        found = False
        for begin, finish in calendar.weekly.get(WEEKDAYS[day.weekday()], []):
            start, stop = _local(day, begin, tz), _local(day, finish, tz)
            while start + length <= stop:
                end = start + length
                if is_open(
                    dict(calendar.weekly), calendar.timezone, start, calendar.holidays
                ) and is_open(
                    dict(calendar.weekly),
                    calendar.timezone,
                    end - timedelta(minutes=1),
                    calendar.holidays,
                ):
                    found = True
                    if start >= earliest:
                        out.append(Slot(start.astimezone(UTC), end.astimezone(UTC)))
                start = end
        if found:
            days += 1
    return sorted(out, key=lambda s: s.start)


def with_capacity(
    slots: Iterable[Slot], capable: int, booked: Mapping[datetime, int]
) -> list[Slot]:
    """Each slot's free capacity: capable agents minus callbacks holding it; full slots drop."""
    out = []
    for s in slots:
        free = capable - booked.get(s.start, 0)
        if free > 0:
            out.append(Slot(s.start, s.end, free))
    return out


def pick_owner(
    capable: Sequence[AgentId],
    busy: set[AgentId],
    load: Mapping[AgentId, int],
    preferred: AgentId | None,
) -> AgentId | None:
    """The conversation's owner when capable and free in the slot; else the free capable agent
    with the fewest open callbacks (lowest id on a tie); None when nobody is free."""
    free = [a for a in capable if a not in busy]
    if preferred is not None and preferred in free:
        return preferred
    if not free:
        return None
    return min(free, key=lambda a: (load.get(a, 0), a))


def callback_data(callback: Callback, previous: CallbackState | None = None) -> dict[str, Any]:
    """The real-time payload, the same for the customer and the company: no phone, note or
    summary, no owner (who works on it is company-internal)."""
    return {
        "id": callback.id,
        "conversation_id": callback.conversation_id,
        "company_id": callback.company_id,
        "state": callback.state.value,
        "previous": previous.value if previous else None,
        "slot_start": iso(callback.slot_start),
        "slot_end": iso(callback.slot_end),
        "outcome": callback.outcome,
        "duration_seconds": callback.duration_seconds,
        "rescheduled_from": callback.rescheduled_from,
        "replaced_by": callback.replaced_by,
    }


def booked_event(callback: Callback) -> NewEvent:
    return NewEvent(
        type=EventType.CALLBACK_BOOKED,
        company_id=callback.company_id,
        conversation_id=callback.conversation_id,
        customer_id=callback.customer_id,
        data=callback_data(callback),
    )


def changed_event(callback: Callback, previous: CallbackState) -> NewEvent:
    return NewEvent(
        type=EventType.CALLBACK_CHANGED,
        company_id=callback.company_id,
        conversation_id=callback.conversation_id,
        customer_id=callback.customer_id,
        data=callback_data(callback, previous),
    )


def reminder_event(callback: Callback) -> NewEvent:
    """For the owner's inbox: company-internal."""
    return NewEvent(
        type=EventType.CALLBACK_REMINDER,
        company_id=callback.company_id,
        conversation_id=callback.conversation_id,
        customer_id=None,
        data={
            "callback_id": callback.id,
            "conversation_id": callback.conversation_id,
            "owner_agent_id": callback.owner_agent_id,
            "slot_start": iso(callback.slot_start),
        },
    )


def escalated_event(callback: Callback, reason: str) -> NewEvent:
    """A missed callback, for the team leads (and the owner): company-internal."""
    return NewEvent(
        type=EventType.CALLBACK_ESCALATED,
        company_id=callback.company_id,
        conversation_id=callback.conversation_id,
        customer_id=None,
        data={
            "callback_id": callback.id,
            "conversation_id": callback.conversation_id,
            "owner_agent_id": callback.owner_agent_id,
            "slot_start": iso(callback.slot_start),
            "reason": reason,  # no_outcome | not_reached
        },
    )
