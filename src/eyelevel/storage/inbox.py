"""The agent inbox's read side (sidebar counts, the customers of a page) and note mentions.

The counts read ``conversation_counts`` (a row per status and owner, kept by triggers; see
migration 0005): a handful of rows per company, however many conversations it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select

from eyelevel.core.entities import Customer, Message, Status
from eyelevel.core.ids import AgentId, CompanyId, CustomerId, MessageId, TeamId
from eyelevel.core.ports import InboxCounts
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo, customer_from


class SqlInbox(Repo):
    async def counts(
        self, company_id: CompanyId, *, status: Status, agent_id: AgentId | None
    ) -> InboxCounts:
        n = t.conversation_counts.c
        by_agent: dict[int, int] = {}
        by_team: dict[TeamId, int] = {}
        by_status = dict.fromkeys(Status, 0)
        for r in await self._all(
            select(n.status, n.owner_agent_id, n.owner_team_id, n.n).where(
                n.company_id == company_id, n.n != 0
            )
        ):
            by_status[Status(r.status)] += r.n
            if r.status == status.value:
                by_agent[r.owner_agent_id] = by_agent.get(r.owner_agent_id, 0) + r.n
                if r.owner_team_id:
                    team = TeamId(r.owner_team_id)
                    by_team[team] = by_team.get(team, 0) + r.n
        mentions = 0
        if agent_id is not None:
            c, cm = t.conversations.c, t.conversation_mentions.c
            row = await self._one(
                select(func.count())
                .select_from(
                    t.conversation_mentions.join(t.conversations, c.id == cm.conversation_id)
                )
                .where(
                    cm.company_id == company_id, cm.agent_id == agent_id, c.status == status.value
                )
            )
            mentions = int(row[0]) if row else 0
        return InboxCounts(
            mine=by_agent.get(agent_id, 0) if agent_id is not None else 0,
            unassigned=by_agent.get(0, 0),
            all=sum(by_agent.values()),
            mentions=mentions,
            teams=by_team,
            statuses=by_status,
        )

    async def customers(self, customer_ids: Sequence[CustomerId]) -> dict[CustomerId, Customer]:
        if not customer_ids:
            return {}
        rows = await self._all(
            select(t.customers).where(t.customers.c.id.in_(sorted(set(customer_ids))))
        )
        return {CustomerId(r.id): customer_from(r) for r in rows}

    async def active_agents(
        self, company_id: CompanyId, agent_ids: Sequence[AgentId]
    ) -> set[AgentId]:
        if not agent_ids:
            return set()
        ms, a = t.memberships.c, t.agents.c
        rows = await self._all(
            select(ms.agent_id)
            .join(t.agents, a.id == ms.agent_id)
            .where(
                ms.company_id == company_id,
                ms.agent_id.in_(sorted(set(agent_ids))),
                ms.active.is_(True),
                a.active.is_(True),
            )
        )
        return {AgentId(r.agent_id) for r in rows}

    async def add_mentions(
        self, message: Message, agent_ids: Sequence[AgentId], now: datetime
    ) -> None:
        if not agent_ids:
            return
        await self._c.execute(
            insert(t.mentions),
            [
                {
                    "company_id": message.company_id,
                    "message_id": message.id,
                    "agent_id": agent_id,
                    "conversation_id": message.conversation_id,
                    "created_at": now,
                }
                for agent_id in agent_ids
            ],
        )

    async def mentions_of(
        self, messages: Sequence[Message]
    ) -> dict[MessageId, tuple[AgentId, ...]]:
        if not messages:
            return {}
        m = t.mentions.c
        rows = await self._all(
            select(m.message_id, m.agent_id)
            .where(
                m.company_id.in_(sorted({msg.company_id for msg in messages})),
                m.message_id.in_([msg.id for msg in messages]),
            )
            .order_by(m.message_id, m.agent_id)
        )
        out: dict[MessageId, list[AgentId]] = {}
        for r in rows:
            out.setdefault(MessageId(r.message_id), []).append(AgentId(r.agent_id))
        return {k: tuple(v) for k, v in out.items()}
