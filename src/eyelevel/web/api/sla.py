"""A team's business calendar and response-time targets (docs/sla.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from eyelevel.core.actions import calendars
from eyelevel.core.entities import Company, TeamSlaPolicy
from eyelevel.core.ids import TeamId
from eyelevel.web.api.companies import Slug
from eyelevel.web.api.company_admin import HolidayIn
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, HolidayOut, In, Out

router = APIRouter(prefix="/api/v1/companies", tags=["response-time promises"], responses=ERRORS)
TeamPath = Annotated[int, Path(ge=1, le=2**62, description="team id")]
Minutes = Annotated[int | None, Field(default=None, ge=-(2**31), le=2**31)]
HOURS_EXAMPLE = {d: [["08:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed")}


class TeamSlaIn(In):
    """The whole policy (PUT replaces it)."""

    business_hours: dict[str, list[list[str]]] | None = Field(
        default=None,
        max_length=7,
        examples=[HOURS_EXAMPLE],
        description='weekday ("mon".."sun") → opening intervals ["HH:MM", "HH:MM"] in the '
        "company's time zone; null: the company's business hours",
    )
    holidays: list[HolidayIn] | None = Field(
        default=None, max_length=1000, description="closed all day; null: the company's"
    )
    first_response_minutes: Minutes = Field(
        default=None, examples=[120], description="business minutes to the first answer"
    )
    next_response_minutes: Minutes = Field(
        default=None, examples=[240], description="business minutes to each later answer"
    )
    resolution_minutes: Minutes = Field(
        default=None, examples=[2400], description="business minutes to resolution"
    )
    reassign_on_breach: bool = Field(
        default=False,
        description="a breach hands a conversation an agent owns back to the team queue",
    )


class TeamSlaOut(Out):
    team_id: int
    timezone: str = Field(description="the company's: every calendar counts in it")
    business_hours: dict[str, list[list[str]]] | None = Field(
        description="the team's own hours; null: the company's"
    )
    holidays: list[HolidayOut] | None = Field(description="the team's own; null: the company's")
    effective_business_hours: dict[str, list[list[str]]] = Field(
        description="the hours that count (the team's or the company's)"
    )
    effective_holidays: list[HolidayOut]
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    reassign_on_breach: bool

    @classmethod
    def of(cls, company: Company, p: TeamSlaPolicy) -> TeamSlaOut:
        holidays = company.holidays if p.holidays is None else p.holidays
        return cls(
            team_id=p.team_id,
            timezone=company.timezone,
            business_hours=p.business_hours,
            holidays=None
            if p.holidays is None
            else [HolidayOut(date=h["date"], name=h["name"]) for h in p.holidays],
            effective_business_hours=(
                company.business_hours if p.business_hours is None else p.business_hours
            ),
            effective_holidays=[HolidayOut(date=h["date"], name=h["name"]) for h in holidays],
            first_response_minutes=p.first_response_minutes,
            next_response_minutes=p.next_response_minutes,
            resolution_minutes=p.resolution_minutes,
            reassign_on_breach=p.reassign_on_breach,
        )


@router.get("/{slug}/teams/{team_id}/sla", summary="A team's calendar and targets (members)")
async def get_team_sla(
    slug: Slug, team_id: TeamPath, svc: Svc, principal: CurrentPrincipal
) -> TeamSlaOut:
    """A team without a policy has the company's calendar and no targets of its own (the
    company's promise, ``reply_within_minutes``, applies to its conversations)."""
    company, policy = await calendars.get_team_sla(svc.ctx, principal, slug, TeamId(team_id))
    return TeamSlaOut.of(company, policy)


@router.put("/{slug}/teams/{team_id}/sla", summary="Set a team's calendar and targets (admins)")
async def set_team_sla(
    slug: Slug, team_id: TeamPath, body: TeamSlaIn, svc: Svc, principal: CurrentPrincipal
) -> TeamSlaOut:
    """Targets are 1..86400 business minutes or null; hours are ``["HH:MM", "HH:MM"]`` pairs,
    start before end, never across midnight. Applies to clocks started or re-timed afterwards
    (a new customer message, a pause, a move to the team)."""
    values = body.model_dump()
    company, policy = await calendars.check_set_team_sla(
        svc.ctx, principal, slug, TeamId(team_id), values
    )
    return TeamSlaOut.of(company, policy)
