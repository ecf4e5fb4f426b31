"""Company administration: the profile and the teams (admins; every change is audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import ConfigDict, Field

from eyelevel.core.actions import profile, teams
from eyelevel.core.ids import TeamId
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, CompanyOut, In, TeamOut

router = APIRouter(prefix="/api/v1/companies", tags=["company administration"], responses=ERRORS)
TeamPath = Annotated[int, Path(ge=1, le=2**62, description="team id")]


class HolidayIn(In):
    date: str = Field(max_length=20, examples=["2026-12-24"], description="YYYY-MM-DD")
    name: str = Field(max_length=200, examples=["Heiligabend"])


class CompanyPatchIn(In):
    """Only the fields sent change; ``reply_within_minutes: null`` withdraws the promise,
    ``retention_days: null`` keeps resolved conversations for ever."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+49 30 123456", "retention_days": 365}]}
    )

    name: str | None = Field(default=None, max_length=200)
    slug: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=5000, description="≤ 1000 chars")
    phone: str | None = Field(default=None, max_length=200, description="≤ 40 characters")
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    business_hours: dict[str, list[list[str]]] | None = Field(
        default=None,
        max_length=7,
        examples=[{"mon": [["09:00", "12:30"], ["13:30", "17:00"]]}],
        description='weekday ("mon".."sun") → opening intervals, local time',
    )
    holidays: list[HolidayIn] | None = Field(
        default=None, max_length=1000, description="closed all day; ≤ 100, each date once"
    )
    reply_within_minutes: int | None = Field(
        default=None, ge=-(2**31), le=2**31, description="1..43200, or null for no promise"
    )
    retention_days: int | None = Field(
        default=None,
        ge=-(2**31),
        le=2**31,
        description="days a resolved conversation is kept (30..3650), then deleted by a daily "
        "job; null keeps them for ever",
    )


class TeamIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Versand"}]})

    name: str = Field(max_length=200)


class TeamMembersIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"agent_ids": [4, 9]}]})

    agent_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        max_length=teams.MAX_MEMBERS, description="the complete new set of members"
    )


def _team_out(t: teams.TeamWithMembers) -> TeamOut:
    return TeamOut(id=t.team.id, name=t.team.name, agent_ids=list(t.agent_ids))


@router.patch("/{slug}", summary="Change the company's profile (admins)")
async def update_company(
    slug: Slug, body: CompanyPatchIn, svc: Svc, principal: CurrentPrincipal
) -> CompanyOut:
    """A slug another company uses is refused with ``slug_taken``."""
    changes = body.model_dump(exclude_unset=True)
    company = await profile.check_update_company(svc.ctx, principal, slug, changes)
    return CompanyOut.of(company, svc.ctx.clock.now())


@router.post("/{slug}/teams", status_code=status.HTTP_201_CREATED, summary="Create a team (admins)")
async def create_team(slug: Slug, body: TeamIn, svc: Svc, principal: CurrentPrincipal) -> TeamOut:
    """A name the company already uses (ignoring case) is refused with ``team_taken``."""
    return _team_out(await teams.check_create_team(svc.ctx, principal, slug, name=body.name))


@router.patch("/{slug}/teams/{team_id}", summary="Rename a team (admins)")
async def rename_team(
    slug: Slug, team_id: TeamPath, body: TeamIn, svc: Svc, principal: CurrentPrincipal
) -> TeamOut:
    team = await teams.check_rename_team(svc.ctx, principal, slug, TeamId(team_id), name=body.name)
    return _team_out(team)


@router.delete(
    "/{slug}/teams/{team_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a team (admins)",
)
async def delete_team(slug: Slug, team_id: TeamPath, svc: Svc, principal: CurrentPrincipal) -> None:
    """Refused with ``team_in_use`` while the team owns conversations that are not resolved."""
    await teams.check_delete_team(svc.ctx, principal, slug, TeamId(team_id))


@router.put("/{slug}/teams/{team_id}/members", summary="Set a team's members (admins)")
async def set_members(
    slug: Slug, team_id: TeamPath, body: TeamMembersIn, svc: Svc, principal: CurrentPrincipal
) -> TeamOut:
    """Active members of the company only; anyone else is refused with ``invalid_owner``."""
    team = await teams.check_set_team_members(
        svc.ctx, principal, slug, TeamId(team_id), body.agent_ids
    )
    return _team_out(team)
