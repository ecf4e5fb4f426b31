"""Canned responses: company-wide ones and agents' personal ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Row

from eyelevel.core.entities import CannedResponse
from eyelevel.core.ids import AgentId, CannedResponseId, CompanyId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


def _canned(r: Row[Any]) -> CannedResponse:
    return CannedResponse(
        CannedResponseId(r.id),
        CompanyId(r.company_id),
        None if r.agent_id is None else AgentId(r.agent_id),
        r.shortcut,
        r.body,
        r.created_at,
        r.updated_at,
    )


class SqlCanned(Repo):
    async def visible_to(
        self, company_id: CompanyId, agent_id: AgentId | None
    ) -> list[CannedResponse]:
        c = t.canned_responses.c
        mine = (
            c.agent_id.is_(None)
            if agent_id is None
            else or_(c.agent_id.is_(None), c.agent_id == agent_id)
        )
        rows = await self._all(
            select(t.canned_responses)
            .where(c.company_id == company_id, mine)
            .order_by(c.shortcut, c.id)
        )
        return [_canned(r) for r in rows]

    async def get(
        self, company_id: CompanyId, canned_id: CannedResponseId
    ) -> CannedResponse | None:
        c = t.canned_responses.c
        r = await self._one(
            select(t.canned_responses).where(c.company_id == company_id, c.id == canned_id)
        )
        return _canned(r) if r else None

    async def create(
        self,
        *,
        company_id: CompanyId,
        agent_id: AgentId | None,
        shortcut: str,
        body: str,
        now: datetime,
    ) -> CannedResponse:
        cid = await self._insert_id(
            t.canned_responses,
            {
                "company_id": company_id,
                "agent_id": agent_id,
                "shortcut": shortcut,
                "body": body,
                "created_at": now,
                "updated_at": now,
            },
        )
        return CannedResponse(CannedResponseId(cid), company_id, agent_id, shortcut, body, now, now)

    async def update(
        self,
        company_id: CompanyId,
        canned_id: CannedResponseId,
        *,
        shortcut: str,
        body: str,
        now: datetime,
    ) -> None:
        c = t.canned_responses.c
        await self._c.execute(
            update(t.canned_responses)
            .where(c.company_id == company_id, c.id == canned_id)
            .values(shortcut=shortcut, body=body, updated_at=now)
        )

    async def delete(self, company_id: CompanyId, canned_id: CannedResponseId) -> None:
        c = t.canned_responses.c
        await self._c.execute(
            delete(t.canned_responses).where(c.company_id == company_id, c.id == canned_id)
        )
