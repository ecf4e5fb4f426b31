"""A company's inbound mail addresses (``support@…``), set by its admins (docs/email.md).

Each address belongs to one company at most (``mail_address_taken``). The operator may limit
them to domains (``EYELEVEL_MAIL_DOMAINS``); eyelevel's own sender address can never be one
(its mail would loop).
"""

from __future__ import annotations

from collections.abc import Sequence

from eyelevel.core.actions.access import access_company_txn, access_conversation_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import CompanyId, ConversationId
from eyelevel.core.ports import Context, EmailThread, UnitOfWork
from eyelevel.core.principals import Principal
from eyelevel.core.rules.mail import domain_allowed, normalise_address

MAX_ADDRESSES = 10
FIELD = "addresses"


def check_addresses(ctx: Context, addresses: Sequence[str]) -> list[str]:
    """The addresses normalised (lower case), each once, in the order given."""
    if len(addresses) > MAX_ADDRESSES:
        raise DomainError(ErrorCode.VALIDATION, f"at most {MAX_ADDRESSES} addresses", field=FIELD)
    clean: dict[str, None] = {}
    for raw in addresses:
        address = normalise_address(raw)
        if address is None:
            raise DomainError(ErrorCode.VALIDATION, "not a valid email address", field=FIELD)
        if not domain_allowed(address, ctx.mail.inbound_domains):
            raise DomainError(
                ErrorCode.VALIDATION,
                "this server accepts mail only for the domains "
                + ", ".join(ctx.mail.inbound_domains),
                field=FIELD,
            )
        if address in ctx.mail.own_addresses:
            raise DomainError(
                ErrorCode.VALIDATION, "this is the server's own sender address", field=FIELD
            )
        clean.setdefault(address, None)
    return list(clean)


async def check_get_addresses(ctx: Context, principal: Principal, slug: str) -> list[str]:
    """Every member sees where customers can write (agents tell customers)."""

    async def read(uow: UnitOfWork) -> list[str]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.mail.addresses_of(company.id)

    return await ctx.db.read(read)


async def check_set_addresses(
    ctx: Context, principal: Principal, slug: str, addresses: Sequence[str]
) -> list[str]:
    """Replace the company's inbound addresses (admins; audited). Replies in conversations
    that came in on a removed address come from, and route back to, the company's first
    address."""
    clean = check_addresses(ctx, addresses)

    async def txn(uow: UnitOfWork) -> list[str]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        return await _set_txn(uow, ctx, company.id, clean, principal)

    return await ctx.db.write("set_mail_addresses", txn)


async def _set_txn(
    uow: UnitOfWork,
    ctx: Context,
    company_id: CompanyId,
    clean: list[str],
    principal: Principal | None,
) -> list[str]:
    current = await uow.mail.addresses_of(company_id)
    if current == clean:
        return current
    for address in clean:
        owner = await uow.mail.address_owner(address)
        if owner is not None and owner != company_id:
            raise DomainError(
                ErrorCode.MAIL_ADDRESS_TAKEN,
                "another company receives mail at this address",
                field=FIELD,
            )
    now = ctx.clock.now()
    await uow.mail.set_addresses(company_id, clean, now)
    await audit_txn(
        uow,
        principal,
        company_id,
        "company.mail_addresses_changed",
        target=f"company:{company_id}",
        data={"addresses": clean},
        now=now,
    )
    return clean


async def operator_set_addresses(ctx: Context, slug: str, addresses: Sequence[str]) -> list[str]:
    """The operator's command line (``eyelevel company mail``): like an admin, audited as the
    operator."""
    clean = check_addresses(ctx, addresses)

    async def txn(uow: UnitOfWork) -> list[str]:
        company = await uow.companies.get_by_slug(slug)
        if company is None:
            raise not_found("company")
        return await _set_txn(uow, ctx, company.id, clean, None)

    return await ctx.db.write("set_mail_addresses", txn)


async def check_email_thread(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> EmailThread:
    """Where an email conversation's mail goes: the customer's address and the company's.

    The company sees the customer's address here although the customer may not share their
    email in their profile: mail only reaches them through it, so it belongs to this
    conversation's channel (docs/email.md, *Privacy*). Elsewhere the sharing rule applies.
    """

    async def read(uow: UnitOfWork) -> EmailThread:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        thread = await uow.mail.thread(conversation.company_id, conversation.id)
        if thread is None:
            raise not_found("email thread")
        return thread

    return await ctx.db.read(read)
