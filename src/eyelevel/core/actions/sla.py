"""SLA clocks on conversations: started, paused, resumed, met and breached inside the
transaction that changes the conversation, and timed by durable jobs (docs/sla.md).

- A customer's message that starts a wait starts a *response* clock: ``first_response`` on the
  conversation's first message, ``next_response`` later. An answer (an agent's or an
  integration's message, not a note) meets it.
- A conversation that is not resolved has a ``resolution`` clock; resolving meets it (and
  cancels an unanswered response clock), reopening starts a new one.
- While the conversation is *pending* or *snoozed* every clock pauses; it resumes (the time
  left laid onto the calendar again) when the conversation is open again.
- The targets and the calendar are the owning team's (``team_sla_policies``); before a
  conversation belongs to a team with a policy, the company's promise
  (``reply_within_minutes``, for both response targets) and business hours apply. A move to
  another team keeps the time used and takes the new team's target.
- Each running clock has two jobs in the ``jobs`` table, at 80 % of its target and at its due
  time (:data:`SLA_TIMER`). A job whose clock has changed since is a no-op, so a restart or a
  re-timed clock never warns or breaches twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from eyelevel.core.entities import (
    ClockState,
    Company,
    Conversation,
    MessageKind,
    NewEvent,
    Role,
    SlaClock,
    Status,
)
from eyelevel.core.events import EventType, assigned, iso, owner_data
from eyelevel.core.ids import AgentId, TeamId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.rules import sla as rules
from eyelevel.core.rules.business_time import Calendar, counting_hours
from eyelevel.core.rules.roles import at_least
from eyelevel.core.rules.sla import RESPONSE_TARGETS, Target, Targets

SLA_TIMER = "sla_timer"  # job kind; payload {"conversation_id", "clock_id", "kind", "at"}
PAUSING = (Status.PENDING, Status.SNOOZED)
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Policy:
    """The calendar and targets that apply to a clock (``team_id`` None: the company's)."""

    team_id: TeamId | None
    calendar: Calendar
    targets: Targets
    reassign_on_breach: bool = False


def company_calendar(company: Company) -> Calendar:
    return Calendar.of(company.timezone, counting_hours(company.business_hours), company.holidays)


def company_policy(company: Company) -> Policy:
    """The company's promise: ``reply_within_minutes`` for every answer, in its hours."""
    minutes = company.reply_within_minutes
    return Policy(None, company_calendar(company), Targets(minutes, minutes, None))


async def policy_txn(uow: UnitOfWork, company: Company, team_id: TeamId | None) -> Policy:
    if team_id is not None:
        p = await uow.sla.policy(company.id, team_id)
        if p is not None:
            calendar = Calendar.of(
                company.timezone,
                counting_hours(company.business_hours)
                if p.business_hours is None
                else p.business_hours,
                company.holidays if p.holidays is None else p.holidays,
            )
            targets = Targets(
                p.first_response_minutes, p.next_response_minutes, p.resolution_minutes
            )
            return Policy(team_id, calendar, targets, p.reassign_on_breach)
    return company_policy(company)


class _Policies:
    """The policies of one transaction, each read once."""

    def __init__(self, uow: UnitOfWork, company: Company) -> None:
        self._uow, self._company = uow, company
        self._seen: dict[TeamId | None, Policy] = {}

    async def of(self, team_id: TeamId | None) -> Policy:
        if team_id not in self._seen:
            self._seen[team_id] = await policy_txn(self._uow, self._company, team_id)
        return self._seen[team_id]


def _state(clock: SlaClock) -> rules.Counting:
    return rules.Counting(clock.target_minutes * _MINUTE, clock.elapsed, clock.running_since)


def _with_state(clock: SlaClock, state: rules.Counting, cal: Calendar, now: datetime) -> SlaClock:
    """The clock with a new counting state, its due and warning times recomputed."""
    paused_at, paused = clock.paused_at, clock.paused
    if state.paused and clock.paused_at is None:
        paused_at = now
    elif not state.paused and clock.paused_at is not None:
        paused, paused_at = paused + (now - clock.paused_at), None
    return replace(
        clock,
        target_minutes=int(state.target / _MINUTE),
        state=ClockState.PAUSED if state.paused else ClockState.RUNNING,
        running_since=state.running_since,
        elapsed=state.elapsed,
        paused_at=paused_at,
        paused=paused,
        due_at=rules.due(cal, state),
        warn_at=rules.warn_at(cal, state),
    )


def _closed(clock: SlaClock, state: ClockState, cal: Calendar, now: datetime) -> SlaClock:
    """Met or cancelled at ``now``: the business time it used is kept for the reports."""
    used = rules.used(cal, _state(clock), now)
    paused = clock.paused + (now - clock.paused_at if clock.paused_at is not None else timedelta())
    return replace(
        clock,
        state=state,
        running_since=None,
        elapsed=used,
        paused_at=None,
        paused=paused,
        met_at=now if state == ClockState.MET else None,
        closed_at=now,
    )


def summary(clocks: list[SlaClock]) -> tuple[list[dict[str, Any]], datetime | None]:
    """The open clocks as the inbox and the customer see them (``conversations.sla``),
    soonest due first, and the earliest due time (``sla_due_at``)."""
    shown = sorted(
        (c for c in clocks if c.open),
        key=lambda c: (c.due_at is None, c.due_at or c.started_at, c.id),
    )
    items = [
        {
            "target": c.target,
            "minutes": c.target_minutes,
            "started_at": iso(c.started_at),
            "due_at": iso(c.due_at),
            "warn_at": iso(c.warn_at),
            "paused": c.state == ClockState.PAUSED,
            "warned": c.warned_at is not None,
            "breached_at": iso(c.breached_at),
        }
        for c in shown
    ]
    dues = [c.due_at for c in shown if c.due_at is not None]
    return items, min(dues) if dues else None


async def _schedule_txn(uow: UnitOfWork, before: SlaClock | None, clock: SlaClock) -> None:
    """The clock's warning and breach jobs, for the times that changed."""
    if clock.state != ClockState.RUNNING:
        return
    for kind, at, done in (
        ("warn", clock.warn_at, clock.warned_at),
        ("breach", clock.due_at, clock.breached_at),
    ):
        previous = None if before is None else (before.warn_at if kind == "warn" else before.due_at)
        if at is None or done is not None:
            continue
        if before is not None and before.state == ClockState.RUNNING and previous == at:
            continue
        await uow.jobs.enqueue(
            SLA_TIMER,
            {
                "conversation_id": clock.conversation_id,
                "clock_id": clock.id,
                "kind": kind,
                "at": iso(at),
            },
            at,
        )


async def _save_txn(uow: UnitOfWork, before: SlaClock | None, clock: SlaClock) -> SlaClock:
    if before is None:
        clock = await uow.sla.insert_clock(clock)
    elif clock != before:
        await uow.sla.update_clock(clock)
    await _schedule_txn(uow, before, clock)
    return clock


async def publish_summary_txn(
    uow: UnitOfWork, conversation: Conversation, clocks: list[SlaClock], now: datetime
) -> None:
    """Store the conversation's ``sla`` and ``sla_due_at``; tell the company and the customer
    (``conversation.sla_changed``) when what they see changed."""
    items, due = summary(clocks)
    if items == (conversation.sla or []) and due == conversation.sla_due_at:
        return
    await uow.sla.set_summary(conversation.id, items, due)
    await uow.emit(
        NewEvent(
            type=EventType.CONVERSATION_SLA_CHANGED,
            company_id=conversation.company_id,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            data={"conversation_id": conversation.id, "sla": items, "due_at": iso(due)},
        ),
        now,
    )


async def update_clocks_txn(
    uow: UnitOfWork,
    ctx: Context,
    conversation: Conversation,
    *,
    message: MessageKind | None = None,
    first_message: bool = False,
) -> None:
    """Bring a conversation's clocks in line with its state (``conversation`` as it is now in
    this transaction), after a change: a message of kind ``message``, a status or an owner."""
    company = await uow.companies.get(conversation.company_id)
    if company is None:
        return
    now = ctx.clock.now()
    policies = _Policies(uow, company)
    clocks = await uow.sla.clocks_of(company.id, conversation.id)
    open_clocks = [c for c in clocks if c.open]
    team = conversation.owner_team_id or next(
        (c.team_id for c in open_clocks if c.team_id is not None), None
    )
    policy = await policies.of(team)
    pause = conversation.status in PAUSING
    out: dict[int, SlaClock] = {c.id: c for c in clocks}
    for clock in open_clocks:
        cal = (await policies.of(clock.team_id)).calendar
        if conversation.status == Status.RESOLVED:
            end = ClockState.MET if clock.target == Target.RESOLUTION else ClockState.CANCELLED
            new = _closed(clock, end, cal, now)
        elif message in (MessageKind.AGENT, MessageKind.BOT) and clock.target in RESPONSE_TARGETS:
            new = _closed(clock, ClockState.MET, cal, now)
        else:
            state = _state(clock)
            if clock.team_id != policy.team_id and clock.breached_at is None:
                minutes = policy.targets.minutes(Target(clock.target))
                if minutes is None:
                    out[clock.id] = await _save_txn(
                        uow, clock, _closed(clock, ClockState.CANCELLED, cal, now)
                    )
                    continue
                state = rules.retarget(cal, state, minutes * _MINUTE, now)
                clock = replace(clock, team_id=policy.team_id)
                cal = policy.calendar
            state = rules.pause(cal, state, now) if pause else rules.resume(state, now)
            new = _with_state(clock, state, cal, now)
        out[clock.id] = await _save_txn(uow, out[clock.id], new)
    if conversation.status != Status.RESOLVED:
        current = [c for c in out.values() if c.open]
        wanted: list[Target] = []
        if message == MessageKind.CUSTOMER and not any(
            c.target in RESPONSE_TARGETS for c in current
        ):
            wanted.append(Target.FIRST_RESPONSE if first_message else Target.NEXT_RESPONSE)
        if not any(c.target == Target.RESOLUTION for c in current):
            wanted.append(Target.RESOLUTION)
        for target in wanted:
            minutes = policy.targets.minutes(target)
            if minutes is None:
                continue
            state = rules.start(minutes * _MINUTE, now)
            if pause:
                state = rules.pause(policy.calendar, state, now)
            blank = SlaClock(
                id=0,
                company_id=company.id,
                conversation_id=conversation.id,
                target=target.value,
                team_id=policy.team_id,
                target_minutes=minutes,
                state=ClockState.RUNNING,
                started_at=now,
                running_since=now,
                elapsed=timedelta(),
                paused_at=None,
                paused=timedelta(),
                due_at=None,
                warn_at=None,
            )
            new = await _save_txn(uow, None, _with_state(blank, state, policy.calendar, now))
            out[new.id] = new
    await publish_summary_txn(uow, conversation, list(out.values()), now)


def needs_update(conversation: Conversation, kind: MessageKind, reopens: bool) -> bool:
    """Whether a message to ``conversation`` (as it was before) can change the clocks (the
    hot path skips the rest): an answer while a response clock is open, or a customer's
    message that reopens the conversation or starts a wait."""
    open_targets = {c["target"] for c in conversation.sla or []}
    if kind in (MessageKind.AGENT, MessageKind.BOT):
        return bool(open_targets & {t.value for t in RESPONSE_TARGETS})
    if kind == MessageKind.CUSTOMER:
        return reopens or conversation.waiting_since is None
    return False


async def _leads_txn(uow: UnitOfWork, company: Company, team_id: TeamId | None) -> list[AgentId]:
    """Who hears of a breach: the team's leads and admins; the company's when it has none."""
    leads = [
        agent.id
        for agent, membership in await uow.companies.members(company.id)
        if agent.active and membership.active and at_least(membership.role, Role.LEAD)
    ]
    if team_id is not None:
        members = set(await uow.teams.members_of(company.id, team_id))
        in_team = [a for a in leads if a in members]
        if in_team:
            return sorted(in_team)
    return sorted(leads)


async def check_sla_timer(ctx: Context, clock_id: int, kind: str, at: datetime) -> bool:
    """The ``sla_timer`` job: warn at 80 % or record a breach, when the clock is still running
    towards that very time. Returns True when it did."""

    async def txn(uow: UnitOfWork) -> bool:
        found = await uow.sla.get_clock(clock_id)
        if found is None:
            return False
        conversation = await uow.conversations.get_for_update(found.conversation_id)
        clock = await uow.sla.get_clock(clock_id)  # again, under the conversation's lock
        company = await uow.companies.get(found.company_id)
        if conversation is None or clock is None or company is None:
            return False
        if clock.state != ClockState.RUNNING:
            return False
        now = ctx.clock.now()
        data = {
            "conversation_id": conversation.id,
            "target": clock.target,
            "due_at": iso(clock.due_at),
        }
        if kind == "warn":
            if clock.warned_at is not None or clock.warn_at != at or now < at:
                return False
            updated = replace(clock, warned_at=now)
            await uow.sla.update_clock(updated)
            await uow.emit(
                NewEvent(
                    type=EventType.CONVERSATION_SLA_WARNING,
                    company_id=company.id,
                    conversation_id=conversation.id,
                    customer_id=conversation.customer_id,
                    data=data,
                ),
                now,
            )
        else:
            if clock.breached_at is not None or clock.due_at != at or now < at:
                return False
            updated = replace(clock, breached_at=at, warned_at=clock.warned_at or at)
            await uow.sla.update_clock(updated)
            leads = await _leads_txn(uow, company, clock.team_id)
            policy = await policy_txn(uow, company, clock.team_id)
            reassign = (
                policy.reassign_on_breach
                and clock.team_id is not None
                and conversation.owner_agent_id is not None
            )
            await uow.emit(
                NewEvent(
                    type=EventType.CONVERSATION_SLA_BREACHED,
                    company_id=company.id,
                    conversation_id=conversation.id,
                    customer_id=None,
                    data={
                        **data,
                        "team_id": clock.team_id,
                        "leads": leads,
                        "reassigned": reassign,
                    },
                ),
                now,
            )
            if reassign:
                await uow.conversations.set_owner(conversation.id, None, clock.team_id, now)
                moved = await uow.conversations.get(conversation.id)
                assert moved is not None
                await uow.emit(
                    assigned(
                        company.id, conversation.id, owner_data(moved), owner_data(conversation)
                    ),
                    now,
                )
        clocks = await uow.sla.clocks_of(company.id, conversation.id)
        await publish_summary_txn(uow, conversation, clocks, now)
        return True

    return await ctx.db.write("sla_timer", txn)
