"""Teams and their members, kept by a company's admins.

A team that still owns unresolved conversations cannot be deleted (``team_in_use``): every
open conversation must keep exactly one owner, so they are handed over first. Nor can one that
a routing rule or the default-team setting names. Resolved ones
let go of the team, each with a ``conversation.assigned`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.accounts import check_name
from eyelevel.core.actions.assignment import fill_teams_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Company, Role, Team
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import assigned
from eyelevel.core.ids import AgentId, TeamId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal

MAX_MEMBERS = 1000


@dataclass(frozen=True, slots=True)
class TeamWithMembers:
    team: Team
    agent_ids: list[AgentId]


def _taken() -> DomainError:
    return DomainError(
        ErrorCode.TEAM_TAKEN, "the company already has a team with this name", field="name"
    )


async def _access_team_txn(uow: UnitOfWork, company: Company, team_id: TeamId) -> Team:
    team = await uow.companies.get_team(company.id, team_id)
    if team is None:
        raise not_found("team")
    return team


async def check_create_team(
    ctx: Context, principal: Principal, slug: str, *, name: str
) -> TeamWithMembers:
    name = check_name(name, "name")

    async def txn(uow: UnitOfWork) -> TeamWithMembers:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        if await uow.teams.get_by_name(company.id, name) is not None:
            raise _taken()
        now = ctx.clock.now()
        team = await uow.companies.create_team(company.id, name, now)
        await audit_txn(
            uow,
            principal,
            company.id,
            "team.created",
            target=f"team:{team.id}",
            data={"name": name},
            now=now,
        )
        return TeamWithMembers(team, [])

    return await ctx.db.write("create_team", txn)


async def check_rename_team(
    ctx: Context, principal: Principal, slug: str, team_id: TeamId, *, name: str
) -> TeamWithMembers:
    name = check_name(name, "name")

    async def txn(uow: UnitOfWork) -> TeamWithMembers:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        team = await _access_team_txn(uow, company, team_id)
        members = await uow.teams.members_of(company.id, team.id)
        if name == team.name:
            return TeamWithMembers(team, members)
        other = await uow.teams.get_by_name(company.id, name)
        if other is not None and other.id != team.id:
            raise _taken()
        await uow.teams.rename(company.id, team.id, name)
        await audit_txn(
            uow,
            principal,
            company.id,
            "team.updated",
            target=f"team:{team.id}",
            data={"fields": ["name"], "name": name, "previous_name": team.name},
            now=ctx.clock.now(),
        )
        return TeamWithMembers(Team(team.id, company.id, name), members)

    return await ctx.db.write("rename_team", txn)


async def check_delete_team(ctx: Context, principal: Principal, slug: str, team_id: TeamId) -> None:
    async def txn(uow: UnitOfWork) -> None:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        team = await _access_team_txn(uow, company, team_id)
        if await uow.teams.count_unresolved(company.id, team.id):
            raise DomainError(
                ErrorCode.TEAM_IN_USE,
                "the team still owns conversations that are not resolved; hand them over first",
            )
        if await uow.routing.team_referenced(company.id, team.id):
            raise DomainError(
                ErrorCode.TEAM_IN_USE,
                "a routing rule or the default team setting names this team; change them first",
            )
        now = ctx.clock.now()
        released = await uow.teams.release_resolved(company.id, team.id, now)
        for conversation_id in released:
            previous = {"type": "team", "id": team.id}
            await uow.emit(assigned(company.id, conversation_id, None, previous), now)
        await uow.teams.delete(company.id, team.id)
        await audit_txn(
            uow,
            principal,
            company.id,
            "team.deleted",
            target=f"team:{team.id}",
            data={"name": team.name},
            now=now,
        )

    await ctx.db.write("delete_team", txn)


async def check_set_team_members(
    ctx: Context,
    principal: Principal,
    slug: str,
    team_id: TeamId,
    agent_ids: Sequence[int],
) -> TeamWithMembers:
    """Replace the team's members. Each must be an active member of the company, or nothing
    changes (``invalid_owner``, like assigning to an agent who is not one)."""
    wanted = sorted({AgentId(i) for i in agent_ids})
    if len(wanted) > MAX_MEMBERS:
        raise DomainError(
            ErrorCode.VALIDATION, f"a team has at most {MAX_MEMBERS} members", field="agent_ids"
        )

    async def txn(uow: UnitOfWork) -> TeamWithMembers:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        team = await _access_team_txn(uow, company, team_id)
        active = {
            agent.id
            for agent, membership in await uow.companies.members(company.id)
            if agent.active and membership.active
        }
        if set(wanted) - active:
            raise DomainError(
                ErrorCode.INVALID_OWNER, "no such agent in this company", field="agent_ids"
            )
        current = await uow.teams.members_of(company.id, team.id)
        if current == wanted:
            return TeamWithMembers(team, current)
        await uow.teams.set_members(company.id, team.id, wanted)
        await fill_teams_txn(uow, company.id, [team.id], now=ctx.clock.now())
        await audit_txn(
            uow,
            principal,
            company.id,
            "team.members_changed",
            target=f"team:{team.id}",
            data={
                "added": sorted(set(wanted) - set(current)),
                "removed": sorted(set(current) - set(wanted)),
            },
            now=ctx.clock.now(),
        )
        return TeamWithMembers(team, wanted)

    return await ctx.db.write("set_team_members", txn)
