"""Companies, teams and team membership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from eyelevel.core.entities import (
    Agent,
    Company,
    Membership,
    Role,
    Team,
)
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    TeamId,
)
from eyelevel.storage import schema as t
from eyelevel.storage.rows import (
    Repo,
    agent_from,
    company_from,
)


class SqlCompanies(Repo):
    async def get(self, company_id: CompanyId) -> Company | None:
        r = await self._one(select(t.companies).where(t.companies.c.id == company_id))
        return company_from(r) if r else None

    async def get_by_slug(self, slug: str) -> Company | None:
        r = await self._one(select(t.companies).where(t.companies.c.slug == slug))
        return company_from(r) if r else None

    async def get_many(self, company_ids: Sequence[CompanyId]) -> list[Company]:
        if not company_ids:
            return []
        rows = await self._all(select(t.companies).where(t.companies.c.id.in_(company_ids)))
        return [company_from(r) for r in rows]

    async def search(self, query: str, limit: int) -> list[Company]:
        stmt = select(t.companies).order_by(t.companies.c.name, t.companies.c.id).limit(limit)
        if query:
            like = (
                "%"
                + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            stmt = stmt.where(
                or_(
                    func.lower(t.companies.c.name).like(like, escape="\\"),
                    t.companies.c.slug.like(like, escape="\\"),
                )
            )
        return [company_from(r) for r in await self._all(stmt)]

    async def create(
        self,
        *,
        slug: str,
        name: str,
        description: str,
        phone: str,
        timezone: str,
        business_hours: dict[str, list[list[str]]],
        reply_within_minutes: int | None,
        now: datetime,
    ) -> Company:
        cid = await self._insert_id(
            t.companies,
            {
                "slug": slug,
                "name": name,
                "description": description,
                "phone": phone,
                "timezone": timezone,
                "business_hours": business_hours,
                "reply_within_minutes": reply_within_minutes,
                "created_at": now,
            },
        )
        return Company(
            CompanyId(cid),
            slug,
            name,
            description,
            phone,
            timezone,
            business_hours,
            now,
            reply_within_minutes,
        )

    async def update_profile(self, company_id: CompanyId, values: dict[str, Any]) -> None:
        if values:
            await self._c.execute(
                update(t.companies).where(t.companies.c.id == company_id).values(**values)
            )

    async def create_team(self, company_id: CompanyId, name: str, now: datetime) -> Team:
        tid = await self._insert_id(
            t.teams, {"company_id": company_id, "name": name, "created_at": now}
        )
        return Team(TeamId(tid), company_id, name)

    async def get_team(self, company_id: CompanyId, team_id: TeamId) -> Team | None:
        r = await self._one(
            select(t.teams).where(t.teams.c.company_id == company_id, t.teams.c.id == team_id)
        )
        return Team(TeamId(r.id), company_id, r.name) if r else None

    async def get_team_by_name(self, company_id: CompanyId, name: str) -> Team | None:
        r = await self._one(
            select(t.teams).where(t.teams.c.company_id == company_id, t.teams.c.name == name)
        )
        return Team(TeamId(r.id), company_id, r.name) if r else None

    async def teams_of(self, company_id: CompanyId) -> list[Team]:
        rows = await self._all(
            select(t.teams).where(t.teams.c.company_id == company_id).order_by(t.teams.c.name)
        )
        return [Team(TeamId(r.id), company_id, r.name) for r in rows]

    async def add_team_member(
        self, company_id: CompanyId, team_id: TeamId, agent_id: AgentId
    ) -> None:
        exists = await self._one(
            select(t.team_members.c.agent_id).where(
                t.team_members.c.company_id == company_id,
                t.team_members.c.team_id == team_id,
                t.team_members.c.agent_id == agent_id,
            )
        )
        if exists is None:
            await self._c.execute(
                insert(t.team_members).values(
                    company_id=company_id, team_id=team_id, agent_id=agent_id
                )
            )

    async def team_members(self, company_id: CompanyId) -> dict[TeamId, list[AgentId]]:
        rows = await self._all(
            select(t.team_members).where(t.team_members.c.company_id == company_id)
        )
        out: dict[TeamId, list[AgentId]] = {}
        for r in rows:
            out.setdefault(TeamId(r.team_id), []).append(AgentId(r.agent_id))
        return out

    async def members(self, company_id: CompanyId) -> list[tuple[Agent, Membership]]:
        rows = await self._all(
            select(t.agents, t.memberships.c.role, t.memberships.c.active.label("m_active"))
            .join(t.memberships, t.memberships.c.agent_id == t.agents.c.id)
            .where(t.memberships.c.company_id == company_id)
            .order_by(t.agents.c.name)
        )
        return [
            (agent_from(r), Membership(company_id, AgentId(r.id), Role(r.role), r.m_active))
            for r in rows
        ]
