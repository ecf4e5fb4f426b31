"""Actions the operator runs from the command line (no signed-in principal).

They create companies, teams and accounts directly; the demo seeding and the ``company create``
and ``agent invite`` commands use them. Each is idempotent where the CLI needs it to be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eyelevel.core import secrets
from eyelevel.core.actions.accounts import (
    check_email,
    check_name,
    check_password,
    invite_txn,
)
from eyelevel.core.actions.tokens import check_expiry, check_scopes, create_token_txn
from eyelevel.core.entities import ALL_SCOPES, Agent, Company, Customer, Role, Team
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.rules.hours import WEEKDAYS

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
_HHMM = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")  # "24:00" ends a day


def check_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise DomainError(
            ErrorCode.VALIDATION, "slug must be 1-50 of a-z, 0-9 and inner hyphens", field="slug"
        )
    return slug


def check_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(ErrorCode.VALIDATION, "unknown time zone", field="timezone") from None
    return tz


def check_business_hours(hours: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            raise DomainError(
                ErrorCode.VALIDATION, f"unknown weekday {day!r}", field="business_hours"
            )
        for span in spans:
            if len(span) != 2 or not all(_HHMM.fullmatch(t) for t in span) or span[0] >= span[1]:
                raise DomainError(
                    ErrorCode.VALIDATION,
                    'business hours are ["HH:MM", "HH:MM"] pairs, start before end',
                    field="business_hours",
                )
    return hours


async def ensure_company(
    ctx: Context,
    *,
    slug: str,
    name: str,
    description: str = "",
    phone: str = "",
    timezone: str = "Europe/Berlin",
    business_hours: dict[str, list[list[str]]] | None = None,
    reply_within_minutes: int | None = None,
) -> tuple[Company, bool]:
    """Create the company unless one with this slug exists; returns (company, created)."""
    check_slug(slug)
    name = check_name(name, "name")
    check_timezone(timezone)
    hours = check_business_hours(business_hours or {})
    if reply_within_minutes is not None and not 1 <= reply_within_minutes <= 60 * 24 * 30:
        raise DomainError(
            ErrorCode.VALIDATION,
            "the response-time promise must be 1 minute to 30 days",
            field="reply_within_minutes",
        )

    async def txn(uow: UnitOfWork) -> tuple[Company, bool]:
        existing = await uow.companies.get_by_slug(slug)
        if existing is not None:
            return existing, False
        company = await uow.companies.create(
            slug=slug,
            name=name,
            description=description,
            phone=phone,
            timezone=timezone,
            business_hours=hours,
            reply_within_minutes=reply_within_minutes,
            now=ctx.clock.now(),
        )
        return company, True

    return await ctx.db.write("ensure_company", txn)


async def ensure_team(ctx: Context, company: Company, name: str) -> Team:
    name = check_name(name, "name")

    async def txn(uow: UnitOfWork) -> Team:
        team = await uow.companies.get_team_by_name(company.id, name)
        return team or await uow.companies.create_team(company.id, name, ctx.clock.now())

    return await ctx.db.write("ensure_team", txn)


async def ensure_agent(
    ctx: Context,
    company: Company,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    teams: list[Team] = (),  # type: ignore[assignment]
) -> Agent:
    """An agent account with a membership (demo data and operator set-up)."""
    email = check_email(email)
    name = check_name(name, "name")
    check_password(password)
    password_hash = ctx.passwords.hash(password)

    async def txn(uow: UnitOfWork) -> Agent:
        now = ctx.clock.now()
        agent = await uow.accounts.get_agent_by_email(email)
        if agent is None:
            agent = await uow.accounts.create_agent(
                email=email, name=name, password_hash=password_hash, now=now
            )
        await uow.accounts.upsert_membership(company.id, agent.id, role, now)
        for team in teams:
            await uow.companies.add_team_member(company.id, team.id, agent.id)
        return agent

    return await ctx.db.write("ensure_agent", txn)


async def ensure_customer(
    ctx: Context, *, email: str, display_name: str, password: str
) -> Customer:
    """A verified customer account (demo data)."""
    email = check_email(email)
    display_name = check_name(display_name, "display_name")
    check_password(password)
    password_hash = ctx.passwords.hash(password)

    async def txn(uow: UnitOfWork) -> Customer:
        now = ctx.clock.now()
        customer = await uow.accounts.get_customer_by_email(email)
        if customer is None:
            customer = await uow.accounts.create_customer(
                email=email, display_name=display_name, password_hash=password_hash, now=now
            )
            await uow.accounts.set_customer_verified(customer.id, now)
        return customer

    return await ctx.db.write("ensure_customer", txn)


async def operator_invite(ctx: Context, *, company_slug: str, email: str, role: Role) -> str:
    """Invite an agent from the command line (e.g. a company's first admin); returns the token."""
    email = check_email(email)

    async def txn(uow: UnitOfWork) -> str:
        company = await _company_txn(uow, company_slug)
        return await invite_txn(uow, ctx, company, email=email, role=role, by=None)

    return await ctx.db.write("operator_invite", txn)


async def operator_create_token(
    ctx: Context,
    *,
    company_slug: str,
    name: str,
    scopes: Iterable[str] = ALL_SCOPES,
    expires_at: datetime | None = None,
) -> str:
    """A token for the company's integrations; returns the secret (shown once)."""
    name = check_name(name, "name")
    chosen = check_scopes(scopes)
    expires_at = check_expiry(ctx, expires_at)
    secret = secrets.new_token("elt")

    async def txn(uow: UnitOfWork) -> str:
        company = await _company_txn(uow, company_slug)
        await create_token_txn(
            uow,
            ctx,
            company,
            name=name,
            secret=secret,
            scopes=chosen,
            expires_at=expires_at,
            by=None,
        )
        return secret

    return await ctx.db.write("operator_create_token", txn)


async def _company_txn(uow: UnitOfWork, slug: str) -> Company:
    company = await uow.companies.get_by_slug(slug)
    if company is None:
        raise not_found("company")
    return company
