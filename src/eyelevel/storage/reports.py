"""The raw rows the company reports are computed from (docs/reports.md): conversations started
in a period with their first answer and last resolution, and the SLA clocks started in it.

Read-only; every statement is bounded by ``company_id`` and a ``created_at``/``started_at``
range, served by ``ix_conversations_company_created`` and ``ix_sla_clocks_company_started``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from eyelevel.core.entities import MessageKind, Status
from eyelevel.core.events import EventType
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, TeamId
from eyelevel.core.ports import ReportClock, ReportConversation, ReportRating
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_US = timedelta(microseconds=1)
_REPLIES = (MessageKind.AGENT.value, MessageKind.BOT.value)


class SqlReports(Repo):
    async def conversations_started(
        self, company_id: CompanyId, start: datetime, end: datetime
    ) -> list[ReportConversation]:
        c = t.conversations.c
        in_range = and_(c.company_id == company_id, c.created_at >= start, c.created_at < end)
        rows = await self._all(
            select(
                c.id,
                c.created_at,
                c.status,
                c.owner_team_id,
                c.owner_agent_id,
                c.topic_id,
                c.channel,
            )
            .where(in_range)
            .order_by(c.id)
        )
        m = t.messages.c
        firsts: dict[tuple[int, str], datetime] = {}
        for r in await self._all(
            select(m.conversation_id, m.kind, func.min(m.created_at).label("first_at"))
            .select_from(t.messages.join(t.conversations, c.id == m.conversation_id))
            .where(
                in_range,
                m.company_id == company_id,
                m.kind.in_((MessageKind.CUSTOMER.value, *_REPLIES)),
            )
            .group_by(m.conversation_id, m.kind)
        ):
            key = (int(r.conversation_id), "reply" if r.kind in _REPLIES else "customer")
            at: datetime = r.first_at
            if key not in firsts or at < firsts[key]:
                firsts[key] = at
        e = t.events.c
        resolved: dict[int, datetime] = {}
        for r in await self._all(
            select(e.conversation_id, e.created_at, e.payload)
            .select_from(t.events.join(t.conversations, c.id == e.conversation_id))
            .where(
                in_range,
                e.company_id == company_id,
                e.type == EventType.CONVERSATION_STATUS_CHANGED.value,
            )
        ):
            payload: Any = r.payload
            if isinstance(payload, dict) and payload.get("status") == Status.RESOLVED.value:
                cid = int(r.conversation_id)
                if cid not in resolved or r.created_at > resolved[cid]:
                    resolved[cid] = r.created_at
        return [
            ReportConversation(
                id=ConversationId(r.id),
                created_at=r.created_at,
                status=Status(r.status),
                team_id=TeamId(r.owner_team_id) if r.owner_team_id is not None else None,
                agent_id=AgentId(r.owner_agent_id) if r.owner_agent_id is not None else None,
                topic_id=int(r.topic_id) if r.topic_id is not None else None,
                channel=r.channel,
                first_customer_at=firsts.get((int(r.id), "customer")),
                first_reply_at=firsts.get((int(r.id), "reply")),
                resolved_at=resolved.get(int(r.id)) if r.status == Status.RESOLVED else None,
            )
            for r in rows
        ]

    async def clocks_started(
        self, company_id: CompanyId, start: datetime, end: datetime
    ) -> list[ReportClock]:
        k, c = t.sla_clocks.c, t.conversations.c
        rows = await self._all(
            select(
                k.id,
                k.conversation_id,
                k.target,
                k.team_id,
                k.state,
                k.started_at,
                k.due_at,
                k.met_at,
                k.breached_at,
                k.elapsed_us,
                c.owner_agent_id,
            )
            .select_from(t.sla_clocks.join(t.conversations, c.id == k.conversation_id))
            .where(k.company_id == company_id, k.started_at >= start, k.started_at < end)
            .order_by(k.id)
        )
        return [
            ReportClock(
                id=int(r.id),
                conversation_id=ConversationId(r.conversation_id),
                target=r.target,
                team_id=TeamId(r.team_id) if r.team_id is not None else None,
                agent_id=AgentId(r.owner_agent_id) if r.owner_agent_id is not None else None,
                state=r.state,
                started_at=r.started_at,
                due_at=r.due_at,
                met_at=r.met_at,
                breached_at=r.breached_at,
                elapsed=int(r.elapsed_us) * _US,
            )
            for r in rows
        ]

    async def ratings_given(
        self, company_id: CompanyId, start: datetime, end: datetime
    ) -> list[ReportRating]:
        r = t.conversation_ratings.c
        rows = await self._all(
            select(r.score, r.team_id, r.agent_id, r.updated_at)
            .where(r.company_id == company_id, r.updated_at >= start, r.updated_at < end)
            .order_by(r.updated_at, r.conversation_id)
        )
        return [
            ReportRating(
                score=int(x.score),
                team_id=TeamId(x.team_id) if x.team_id is not None else None,
                agent_id=AgentId(x.agent_id) if x.agent_id is not None else None,
                rated_at=x.updated_at,
            )
            for x in rows
        ]
