"""A company's profile, changed by its admins: what customers see on its card."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.accounts import check_name
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.actions.operator import check_business_hours, check_slug, check_timezone
from eyelevel.core.entities import Company, Role
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal

MAX_DESCRIPTION = 1000
MAX_PHONE = 40
MAX_HOLIDAYS = 100
MAX_HOLIDAY_NAME = 100
MAX_REPLY_WITHIN = 60 * 24 * 30  # 30 days, in minutes
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
NULLABLE = ("reply_within_minutes", "retention_days")
PROFILE_FIELDS = (
    "name",
    "slug",
    "description",
    "phone",
    "timezone",
    "business_hours",
    "holidays",
    "reply_within_minutes",
    "retention_days",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, detail, field=field)


def check_holidays(holidays: list[dict[str, str]]) -> list[dict[str, str]]:
    """``[{"date": "YYYY-MM-DD", "name": "…"}]``: real dates, each once, ascending."""
    if len(holidays) > MAX_HOLIDAYS:
        raise _invalid("holidays", f"at most {MAX_HOLIDAYS} holidays")
    out: dict[str, dict[str, str]] = {}
    for holiday in holidays:
        day, name = holiday.get("date", ""), " ".join(holiday.get("name", "").split())
        try:
            valid = bool(_DATE.fullmatch(day)) and date.fromisoformat(day).isoformat() == day
        except ValueError:
            valid = False
        if not valid:
            raise _invalid("holidays", "a holiday's date is YYYY-MM-DD")
        if not name or len(name) > MAX_HOLIDAY_NAME:
            raise _invalid("holidays", f"a holiday's name has 1 to {MAX_HOLIDAY_NAME} characters")
        if day in out:
            raise _invalid("holidays", "each date may be a holiday only once")
        out[day] = {"date": day, "name": name}
    return [out[day] for day in sorted(out)]


def check_profile(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate the given fields (any subset of :data:`PROFILE_FIELDS`); returns them cleaned."""
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if value is None and field not in NULLABLE:
            raise _invalid(field, f"{field} cannot be null")
        match field:
            case "name":
                clean[field] = check_name(value, "name")
            case "slug":
                clean[field] = check_slug(value)
            case "description":
                if len(value) > MAX_DESCRIPTION:
                    raise _invalid(field, f"description has at most {MAX_DESCRIPTION} characters")
                clean[field] = value.strip()
            case "phone":
                value = value.strip()
                if len(value) > MAX_PHONE:
                    raise _invalid(field, f"phone has at most {MAX_PHONE} characters")
                clean[field] = value
            case "timezone":
                clean[field] = check_timezone(value)
            case "business_hours":
                clean[field] = check_business_hours(value)
            case "holidays":
                clean[field] = check_holidays(value)
            case "reply_within_minutes":
                if value is not None and not 1 <= value <= MAX_REPLY_WITHIN:
                    raise _invalid(field, "the response-time promise must be 1 minute to 30 days")
                clean[field] = value
            case "retention_days":
                if value is not None and not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
                    raise _invalid(
                        field,
                        f"resolved conversations are kept {MIN_RETENTION_DAYS} to "
                        f"{MAX_RETENTION_DAYS} days, or null for ever",
                    )
                clean[field] = value
            case _:
                raise _invalid(field, "not a profile field")
    return clean


async def check_update_company(
    ctx: Context, principal: Principal, slug: str, changes: dict[str, Any]
) -> Company:
    """Change the given profile fields (admins). The audit entry names the fields that changed,
    never their values."""
    clean = check_profile(changes)

    async def txn(uow: UnitOfWork) -> Company:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        changed = {f: v for f, v in clean.items() if getattr(company, f) != v}
        if not changed:
            return company
        if "slug" in changed and await uow.companies.get_by_slug(changed["slug"]) is not None:
            raise DomainError(ErrorCode.SLUG_TAKEN, "this slug is taken", field="slug")
        await uow.companies.update_profile(company.id, changed)
        await audit_txn(
            uow,
            principal,
            company.id,
            "company.updated",
            target=f"company:{company.id}",
            data={"fields": sorted(changed)},
            now=ctx.clock.now(),
        )
        updated = await uow.companies.get(company.id)
        assert updated is not None
        return updated

    return await ctx.db.write("update_company", txn)
