"""Callbacks and the companies' callback settings (docs/callbacks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from eyelevel.core.callbacks import (
    ACTIVE,
    Callback,
    CallbackId,
    CallbackSettings,
    CallbackState,
)
from eyelevel.core.entities import Conversation
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, CustomerId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_c = t.callbacks.c
_ACTIVE = [s.value for s in ACTIVE]


def _callback_from(r: Any) -> Callback:
    return Callback(
        id=CallbackId(r.id),
        company_id=CompanyId(r.company_id),
        conversation_id=ConversationId(r.conversation_id),
        customer_id=CustomerId(r.customer_id),
        owner_agent_id=AgentId(r.owner_agent_id),
        slot_start=r.slot_start,
        slot_end=r.slot_end,
        state=CallbackState(r.state),
        note=r.note,
        outcome=r.outcome,
        duration_seconds=r.duration_seconds,
        summary=r.summary,
        rescheduled_from=CallbackId(r.rescheduled_from) if r.rescheduled_from else None,
        replaced_by=CallbackId(r.replaced_by) if r.replaced_by else None,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


class SqlCallbacks(Repo):
    async def settings(self, company_id: CompanyId) -> CallbackSettings:
        s = t.callback_settings.c
        r = await self._one(select(t.callback_settings).where(s.company_id == company_id))
        if r is None:
            return CallbackSettings(company_id)
        a = t.callback_agents.c
        agents = await self._all(
            select(a.agent_id).where(a.company_id == company_id).order_by(a.agent_id)
        )
        return CallbackSettings(
            company_id,
            r.slot_minutes,
            r.days_ahead,
            r.lead_minutes,
            r.all_agents,
            tuple(AgentId(x.agent_id) for x in agents),
        )

    async def save_settings(self, settings: CallbackSettings, now: datetime) -> None:
        s, a = t.callback_settings.c, t.callback_agents.c
        cid = settings.company_id
        values = {
            "slot_minutes": settings.slot_minutes,
            "days_ahead": settings.days_ahead,
            "lead_minutes": settings.lead_minutes,
            "all_agents": settings.all_agents,
            "updated_at": now,
        }
        done = await self._c.execute(
            update(t.callback_settings).where(s.company_id == cid).values(**values)
        )
        if not done.rowcount:
            await self._c.execute(insert(t.callback_settings).values(company_id=cid, **values))
        await self._c.execute(delete(t.callback_agents).where(a.company_id == cid))
        for agent_id in settings.agent_ids:
            await self._c.execute(
                insert(t.callback_agents).values(company_id=cid, agent_id=agent_id)
            )

    async def lock_company(self, company_id: CompanyId) -> None:
        if self._c.dialect.name == "postgresql":  # SQLite: writes are serialized anyway
            c = t.companies.c
            # NO KEY UPDATE: rows inserted meanwhile that refer to the company (KEY SHARE)
            # neither wait for it nor deadlock with it
            lock = select(c.id).where(c.id == company_id).with_for_update(key_share=True)
            await self._c.execute(lock)

    async def capable_agents(self, settings: CallbackSettings) -> list[AgentId]:
        m, g = t.memberships.c, t.agents.c
        q = (
            select(m.agent_id)
            .join(t.agents, g.id == m.agent_id)
            .where(m.company_id == settings.company_id, m.active.is_(True), g.active.is_(True))
        )
        if not settings.all_agents:
            q = q.where(m.agent_id.in_(list(settings.agent_ids)))
        rows = await self._all(q.order_by(m.agent_id))
        return [AgentId(r.agent_id) for r in rows]

    async def booked_per_slot(
        self, company_id: CompanyId, since: datetime, until: datetime
    ) -> dict[datetime, int]:
        rows = await self._all(
            select(_c.slot_start, func.count().label("n"))
            .where(
                _c.company_id == company_id,
                _c.slot_start >= since,
                _c.slot_start < until,
                _c.state.in_(_ACTIVE),
            )
            .group_by(_c.slot_start)
        )
        return {r.slot_start: int(r.n) for r in rows}

    async def busy_agents(self, company_id: CompanyId, slot_start: datetime) -> set[AgentId]:
        rows = await self._all(
            select(_c.owner_agent_id).where(
                _c.company_id == company_id,
                _c.slot_start == slot_start,
                _c.state.in_(_ACTIVE),
            )
        )
        return {AgentId(r.owner_agent_id) for r in rows}

    async def open_load(self, company_id: CompanyId, since: datetime) -> dict[AgentId, int]:
        rows = await self._all(
            select(_c.owner_agent_id, func.count().label("n"))
            .where(_c.company_id == company_id, _c.slot_end > since, _c.state.in_(_ACTIVE))
            .group_by(_c.owner_agent_id)
        )
        return {AgentId(r.owner_agent_id): int(r.n) for r in rows}

    async def create(self, values: dict[str, Any]) -> Callback:
        callback_id = await self._insert_id(t.callbacks, values)
        found = await self.get(CallbackId(callback_id))
        assert found is not None
        return found

    async def get(self, callback_id: CallbackId) -> Callback | None:
        r = await self._one(select(t.callbacks).where(_c.id == callback_id))
        return _callback_from(r) if r else None

    async def get_for_update(self, callback_id: CallbackId) -> Callback | None:
        q = select(t.callbacks).where(_c.id == callback_id)
        if self._c.dialect.name == "postgresql":
            q = q.with_for_update()
        r = await self._one(q)
        return _callback_from(r) if r else None

    async def update(self, callback_id: CallbackId, values: dict[str, Any]) -> Callback:
        await self._c.execute(update(t.callbacks).where(_c.id == callback_id).values(**values))
        found = await self.get(callback_id)
        assert found is not None
        return found

    async def of_conversation(self, conversation: Conversation) -> list[Callback]:
        rows = await self._all(
            select(t.callbacks)
            .where(
                _c.company_id == conversation.company_id,
                _c.conversation_id == conversation.id,
            )
            .order_by(_c.slot_start.desc(), _c.id.desc())
        )
        return [_callback_from(r) for r in rows]

    async def active_of_conversation(self, conversation: Conversation) -> Callback | None:
        r = await self._one(
            select(t.callbacks).where(
                _c.company_id == conversation.company_id,
                _c.conversation_id == conversation.id,
                _c.state.in_(_ACTIVE),
            )
        )
        return _callback_from(r) if r else None

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
        q = select(t.callbacks).where(
            _c.company_id == company_id, _c.slot_start >= since, _c.slot_start < until
        )
        if owner_agent_id is not None:
            q = q.where(_c.owner_agent_id == owner_agent_id)
        if states is not None:
            q = q.where(_c.state.in_([s.value for s in states]))
        rows = await self._all(q.order_by(_c.slot_start, _c.id).limit(limit))
        return [_callback_from(r) for r in rows]
