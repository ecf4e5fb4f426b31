"""An agent's presence (online, away, offline): set by the agent, shown to colleagues.

Stored on the account (the staff list shows it) and announced live as the ephemeral event
``agent.presence`` to each company the agent works for; it never reaches a customer. Coming
online lets auto-assignment give the agent conversations waiting in their teams' queues.
"""

from __future__ import annotations

from eyelevel.core.actions.assignment import agent_freed_txn
from eyelevel.core.actions.second_factor import agent_of
from eyelevel.core.entities import Event
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.events import EventType
from eyelevel.core.ids import EventPos
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal

PRESENCES = ("online", "away", "offline")


async def check_set_presence(ctx: Context, principal: Principal, presence: str) -> None:
    agent = agent_of(principal)
    if presence not in PRESENCES:
        raise DomainError(
            ErrorCode.VALIDATION, "presence is online, away or offline", field="presence"
        )
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> None:
        await uow.security.set_presence(agent.agent_id, presence, now)
        if presence == "online":
            # coming online: the queues of the agent's teams may have waited for them
            for company_id in sorted(agent.roles):
                await agent_freed_txn(uow, company_id, agent.agent_id, now=now)

    await ctx.db.write("set_presence", txn)
    for company_id in sorted(agent.roles):
        await ctx.bus.publish_ephemeral(
            Event(
                pos=EventPos(0),
                type=EventType.AGENT_PRESENCE,
                company_id=company_id,
                conversation_id=None,
                customer_id=None,  # staff only (see rules.audience.STAFF_ONLY)
                data={"agent_id": agent.agent_id, "presence": presence},
                created_at=now,
            )
        )
