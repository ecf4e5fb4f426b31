"""The customer decides what each company sees: their profile, their grants per company, and
the consent ledger that records every grant and revocation (docs/privacy.md).

Only the customer changes any of it. A change takes effect in its own transaction and tells
the company (and the customer's other devices) with ``customer.shared_fields_changed``, which
names fields, never values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from eyelevel.core.actions.accounts import MAX_NAME
from eyelevel.core.entities import Company, ConsentEntry, CustomerProfile
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import shared_fields_changed
from eyelevel.core.ids import CompanyId, CustomerId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal
from eyelevel.core.rules.sharing import FIELDS, SharedCustomer, shared_view

MAX_ADDRESS = 500
MAX_NUMBER = 60
MAX_LEDGER = 500
_PHONE = re.compile(r"^\+?[0-9 ()/.\-]{5,40}$")
_SCREEN = re.compile(r"^[a-z_]{1,40}$")
_TEXT_VERSION = re.compile(r"^[A-Za-z0-9._\-]{1,40}$")


@dataclass(frozen=True, slots=True)
class PrivacyCard:
    """What one company sees of the customer right now, and since when."""

    company: Company
    view: SharedCustomer
    since: dict[str, datetime]  # field -> granted at
    profile: CustomerProfile
    email: str | None
    customer_number: str | None  # the customer's own entry, shared or not


def _customer(principal: Principal) -> CustomerPrincipal:
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only the customer decides what they share")
    return principal


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, detail, field=field)


def _text(value: str | None, field: str, limit: int, *, lines: bool = False) -> str | None:
    """Trimmed printable text (line breaks only where ``lines``); empty means not given."""
    if value is None:
        return None
    if lines:
        parts = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
        value = "\n".join(p for p in parts if p)
    else:
        value = " ".join(value.split())
    if any(not ch.isprintable() and ch != "\n" for ch in value):
        raise _invalid(field, f"{field} contains control characters")
    if len(value) > limit:
        raise _invalid(field, f"{field} must have at most {limit} characters")
    return value or None


def check_ledger_tags(screen: str, text_version: str) -> None:
    """Where the customer decided and the version of the wording shown (the ledger's tags)."""
    if not _SCREEN.fullmatch(screen):
        raise _invalid("screen", "screen must be a short name such as privacy_card")
    if not _TEXT_VERSION.fullmatch(text_version):
        raise _invalid("text_version", "text_version must be a short version tag")


def check_profile_values(
    first_name: str | None, last_name: str | None, phone: str | None, address: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    phone = _text(phone, "phone", 40)
    if phone is not None and (not _PHONE.fullmatch(phone) or sum(ch.isdigit() for ch in phone) < 5):
        raise _invalid("phone", "phone must be a phone number, e.g. +49 30 1234567")
    return (
        _text(first_name, "first_name", MAX_NAME),
        _text(last_name, "last_name", MAX_NAME),
        phone,
        _text(address, "address", MAX_ADDRESS, lines=True),
    )


async def _company_txn(uow: UnitOfWork, slug: str) -> Company:
    company = await uow.companies.get_by_slug(slug)
    if company is None:
        raise not_found("company")
    return company


async def _card_txn(uow: UnitOfWork, principal: CustomerPrincipal, company: Company) -> PrivacyCard:
    customer = await uow.accounts.get_customer(principal.customer_id)
    if customer is None:
        raise not_found("customer")
    profile = await uow.sharing.profile(customer.id) or CustomerProfile(customer.id)
    number = await uow.sharing.number(customer.id, company.id)
    since = await uow.sharing.grants(customer.id, company.id)
    view = shared_view(customer, profile, number, since)
    return PrivacyCard(company, view, since, profile, customer.email, number)


async def privacy_card(ctx: Context, principal: Principal, slug: str) -> PrivacyCard:
    """The customer's privacy card for one company."""
    customer = _customer(principal)

    async def read(uow: UnitOfWork) -> PrivacyCard:
        return await _card_txn(uow, customer, await _company_txn(uow, slug))

    return await ctx.db.read(read)


async def check_set_sharing(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    fields: Mapping[str, bool],
    screen: str,
    text_version: str,
    customer_number: str | None = None,
    set_number: bool = False,
) -> PrivacyCard:
    """Grant (True) or revoke (False) fields for one company; each real change is written to
    the consent ledger with the screen and the version of the wording the customer saw.
    ``set_number``: also store (or with None, remove) the customer's number at that company."""
    customer = _customer(principal)
    for field in fields:
        if field not in FIELDS:
            raise _invalid(field, f"{field} is not a field that can be shared")
    check_ledger_tags(screen, text_version)
    number = _text(customer_number, "customer_number", MAX_NUMBER) if set_number else None
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> PrivacyCard:
        company = await _company_txn(uow, slug)
        await do_set_sharing_txn(
            uow,
            customer.customer_id,
            company,
            fields,
            screen=screen,
            text_version=text_version,
            now=now,
            set_number=set_number,
            number=number,
        )
        return await _card_txn(uow, customer, company)

    return await ctx.db.write("set_sharing", txn)


async def do_set_sharing_txn(
    uow: UnitOfWork,
    cid: CustomerId,
    company: Company,
    fields: Mapping[str, bool],
    *,
    screen: str,
    text_version: str,
    now: datetime,
    set_number: bool = False,
    number: str | None = None,
) -> list[str]:
    """Apply already checked grants and revocations (each real change into the consent ledger
    with ``screen`` and ``text_version``) and tell the company; returns the changed fields.
    Also used by a callback's booking, which grants the phone with screen ``callback``."""
    before = await uow.sharing.grants(cid, company.id)
    changed: list[str] = []
    for field in FIELDS:
        if field not in fields or fields[field] == (field in before):
            continue
        if fields[field]:
            await uow.sharing.grant(cid, company.id, field, now)
        else:
            await uow.sharing.revoke(cid, company.id, field)
        action = "grant" if fields[field] else "revoke"
        await uow.sharing.append_consent(
            ConsentEntry(0, cid, company.id, action, field, screen, text_version, now)
        )
        changed.append(field)
    if set_number and number != await uow.sharing.number(cid, company.id):
        await uow.sharing.set_number(cid, company.id, number)
        if "customer_number" in before and "customer_number" not in changed:
            changed.append("customer_number")
    if changed:
        shared = await uow.sharing.grants(cid, company.id)
        ordered = [f for f in FIELDS if f in shared]
        await uow.emit(shared_fields_changed(company.id, cid, ordered, changed), now)
    return changed


@dataclass(frozen=True, slots=True)
class MyProfile:
    profile: CustomerProfile
    display_name: str
    email: str | None


async def _my_profile_txn(uow: UnitOfWork, principal: CustomerPrincipal) -> MyProfile:
    customer = await uow.accounts.get_customer(principal.customer_id)
    if customer is None:
        raise not_found("customer")
    profile = await uow.sharing.profile(customer.id) or CustomerProfile(customer.id)
    return MyProfile(profile, customer.display_name, customer.email)


async def my_profile(ctx: Context, principal: Principal) -> MyProfile:
    customer = _customer(principal)

    async def read(uow: UnitOfWork) -> MyProfile:
        return await _my_profile_txn(uow, customer)

    return await ctx.db.read(read)


async def check_update_profile(
    ctx: Context,
    principal: Principal,
    *,
    first_name: str | None,
    last_name: str | None,
    phone: str | None,
    address: str | None,
) -> MyProfile:
    """Replace the profile; every company that sees a changed field is told (names only)."""
    customer = _customer(principal)
    values = check_profile_values(first_name, last_name, phone, address)
    profile = CustomerProfile(customer.customer_id, *values)
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> MyProfile:
        return await do_update_profile_txn(uow, customer, profile, now)

    return await ctx.db.write("update_profile", txn)


async def do_update_profile_txn(
    uow: UnitOfWork, customer: CustomerPrincipal, profile: CustomerProfile, now: datetime
) -> MyProfile:
    """Save a checked profile; every company that sees a changed field is told (names only)."""
    cid = customer.customer_id
    before = await _my_profile_txn(uow, customer)
    changed = [
        f
        for f in ("first_name", "last_name", "phone", "address")
        if getattr(before.profile, f) != getattr(profile, f)
    ]
    if not changed:
        return before
    await uow.sharing.save_profile(profile, now)
    for company_id in await uow.sharing.companies_granted(cid, changed):
        shared = await uow.sharing.grants(cid, company_id)
        seen = [f for f in changed if f in shared]
        ordered = [f for f in FIELDS if f in shared]
        await uow.emit(shared_fields_changed(company_id, cid, ordered, seen), now)
    return MyProfile(profile, before.display_name, before.email)


async def consent_ledger(
    ctx: Context, principal: Principal
) -> tuple[list[ConsentEntry], dict[CompanyId, Company]]:
    """The customer's ledger, newest first, with the companies it names."""
    customer = _customer(principal)

    async def read(uow: UnitOfWork) -> tuple[list[ConsentEntry], dict[CompanyId, Company]]:
        entries = await uow.sharing.ledger(customer.customer_id, MAX_LEDGER)
        ids = sorted({e.company_id for e in entries})
        companies = {c.id: c for c in await uow.companies.get_many(ids)} if ids else {}
        return entries, companies

    return await ctx.db.read(read)
