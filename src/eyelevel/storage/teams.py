"""Changing teams: names, members, and letting go of the conversations they owned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from eyelevel.core.entities import Status, Team
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, TeamId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


class SqlTeams(Repo):
    async def get_by_name(self, company_id: CompanyId, name: str) -> Team | None:
        c = t.teams.c
        r = await self._one(
            select(t.teams)
            .where(c.company_id == company_id, func.lower(c.name) == name.lower())
            .limit(1)
        )
        return Team(TeamId(r.id), company_id, r.name) if r else None

    async def rename(self, company_id: CompanyId, team_id: TeamId, name: str) -> None:
        c = t.teams.c
        await self._c.execute(
            update(t.teams).where(c.company_id == company_id, c.id == team_id).values(name=name)
        )

    async def members_of(self, company_id: CompanyId, team_id: TeamId) -> list[AgentId]:
        c = t.team_members.c
        rows = await self._all(
            select(c.agent_id)
            .where(c.company_id == company_id, c.team_id == team_id)
            .order_by(c.agent_id)
        )
        return [AgentId(r.agent_id) for r in rows]

    async def set_members(
        self, company_id: CompanyId, team_id: TeamId, agent_ids: Sequence[AgentId]
    ) -> None:
        """Remove those who left and add those who joined; who stays keeps their own
        capacity (``team_members.max_open``)."""
        c = t.team_members.c
        current = set(await self.members_of(company_id, team_id))
        wanted = set(agent_ids)
        gone = sorted(current - wanted)
        if gone:
            await self._c.execute(
                delete(t.team_members).where(
                    c.company_id == company_id, c.team_id == team_id, c.agent_id.in_(gone)
                )
            )
        added = sorted(wanted - current)
        if added:
            await self._c.execute(
                insert(t.team_members),
                [
                    {"company_id": company_id, "team_id": team_id, "agent_id": agent_id}
                    for agent_id in added
                ],
            )

    async def count_unresolved(self, company_id: CompanyId, team_id: TeamId) -> int:
        c = t.conversations.c
        n = (
            await self._c.execute(
                select(func.count()).where(
                    c.company_id == company_id,
                    c.owner_team_id == team_id,
                    c.status != Status.RESOLVED.value,
                )
            )
        ).scalar_one()
        return int(n)

    async def release_resolved(
        self, company_id: CompanyId, team_id: TeamId, now: datetime
    ) -> list[ConversationId]:
        c = t.conversations.c
        owned = (c.company_id == company_id, c.owner_team_id == team_id)
        rows = await self._all(
            select(c.id)
            .where(*owned, c.status == Status.RESOLVED.value, c.owner_agent_id.is_(None))
            .order_by(c.id)
        )
        await self._c.execute(
            update(t.conversations)
            .where(*owned, c.status == Status.RESOLVED.value)
            .values(owner_team_id=None, updated_at=now)
        )
        return [ConversationId(r.id) for r in rows]

    async def delete(self, company_id: CompanyId, team_id: TeamId) -> None:
        p = t.team_sla_policies.c
        await self._c.execute(
            delete(t.team_sla_policies).where(p.company_id == company_id, p.team_id == team_id)
        )
        await self._c.execute(
            delete(t.team_members).where(
                t.team_members.c.company_id == company_id, t.team_members.c.team_id == team_id
            )
        )
        await self._c.execute(
            delete(t.teams).where(t.teams.c.company_id == company_id, t.teams.c.id == team_id)
        )
