"""A team's business calendar and response-time targets, kept by the company's admins
(docs/sla.md). Changes apply to clocks started or re-timed afterwards."""

from __future__ import annotations

from typing import Any

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.actions.operator import check_business_hours
from eyelevel.core.actions.profile import check_holidays
from eyelevel.core.entities import Company, Role, TeamSlaPolicy
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import TeamId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal

MAX_TARGET_MINUTES = 60 * 24 * 60  # 60 days of business time
TARGET_FIELDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


def check_policy(values: dict[str, Any]) -> dict[str, Any]:
    """The whole policy: ``business_hours`` / ``holidays`` (null: the company's), the three
    targets (null: none) and ``reassign_on_breach``."""
    clean: dict[str, Any] = {"reassign_on_breach": bool(values.get("reassign_on_breach"))}
    hours = values.get("business_hours")
    if hours is not None:
        hours = check_business_hours(hours)
        if not any(hours.values()):
            raise DomainError(
                ErrorCode.VALIDATION,
                "a team's calendar needs at least one opening interval (or null: the company's)",
                field="business_hours",
            )
    clean["business_hours"] = hours
    holidays = values.get("holidays")
    clean["holidays"] = None if holidays is None else check_holidays(holidays)
    for field in TARGET_FIELDS:
        value = values.get(field)
        if value is not None and not 1 <= value <= MAX_TARGET_MINUTES:
            raise DomainError(
                ErrorCode.VALIDATION,
                f"a target is 1 to {MAX_TARGET_MINUTES} minutes of business time, or null",
                field=field,
            )
        clean[field] = value
    return clean


async def _team_txn(uow: UnitOfWork, company: Company, team_id: TeamId) -> None:
    if await uow.companies.get_team(company.id, team_id) is None:
        raise not_found("team")


async def get_team_sla(
    ctx: Context, principal: Principal, slug: str, team_id: TeamId
) -> tuple[Company, TeamSlaPolicy]:
    """The team's policy (members of the company); a team without one has the company's
    calendar and no targets of its own."""

    async def read(uow: UnitOfWork) -> tuple[Company, TeamSlaPolicy]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        await _team_txn(uow, company, team_id)
        found = await uow.sla.policy(company.id, team_id)
        return company, found or TeamSlaPolicy(company.id, team_id)

    return await ctx.db.read(read)


async def check_set_team_sla(
    ctx: Context, principal: Principal, slug: str, team_id: TeamId, values: dict[str, Any]
) -> tuple[Company, TeamSlaPolicy]:
    clean = check_policy(values)

    async def txn(uow: UnitOfWork) -> tuple[Company, TeamSlaPolicy]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        await _team_txn(uow, company, team_id)
        policy = TeamSlaPolicy(company.id, team_id, **clean)
        before = await uow.sla.policy(company.id, team_id) or TeamSlaPolicy(company.id, team_id)
        if before == policy:
            return company, policy
        now = ctx.clock.now()
        await uow.sla.save_policy(policy, now)
        changed = sorted(f for f in clean if getattr(before, f) != getattr(policy, f))
        await audit_txn(
            uow,
            principal,
            company.id,
            "team.sla_changed",
            target=f"team:{team_id}",
            data={"fields": changed},
            now=now,
        )
        return company, policy

    return await ctx.db.write("set_team_sla", txn)
