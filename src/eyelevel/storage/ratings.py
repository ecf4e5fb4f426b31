"""Customers' ratings of resolved conversations (CSAT)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row

from eyelevel.core.entities import Rating
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, CustomerId, TeamId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


def _rating(r: Row[Any]) -> Rating:
    return Rating(
        company_id=CompanyId(r.company_id),
        conversation_id=ConversationId(r.conversation_id),
        customer_id=CustomerId(r.customer_id),
        score=r.score,
        comment=r.comment,
        agent_id=None if r.agent_id is None else AgentId(r.agent_id),
        team_id=None if r.team_id is None else TeamId(r.team_id),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


class SqlRatings(Repo):
    async def get(self, company_id: CompanyId, conversation_id: ConversationId) -> Rating | None:
        c = t.conversation_ratings.c
        r = await self._one(
            select(t.conversation_ratings).where(
                c.company_id == company_id, c.conversation_id == conversation_id
            )
        )
        return _rating(r) if r else None

    async def save(self, rating: Rating, *, new: bool) -> None:
        values = {
            "customer_id": rating.customer_id,
            "score": rating.score,
            "comment": rating.comment,
            "agent_id": rating.agent_id,
            "team_id": rating.team_id,
            "updated_at": rating.updated_at,
        }
        if new:
            await self._c.execute(
                t.conversation_ratings.insert().values(
                    company_id=rating.company_id,
                    conversation_id=rating.conversation_id,
                    created_at=rating.created_at,
                    **values,
                )
            )
            return
        c = t.conversation_ratings.c
        await self._c.execute(
            update(t.conversation_ratings)
            .where(c.company_id == rating.company_id, c.conversation_id == rating.conversation_id)
            .values(**values)
        )
